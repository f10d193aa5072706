"""Per-system default training configurations (published AL-RNN settings, trimmed to run on a laptop CPU).

    cfg = default_config("lorenz63")                      # plain JSON-serialisable dict
    model = build_model(cfg, obs_dim=ds.dim, key=jax.random.key(0))
    fit = train(model, ds_standardised, scheme=build_scheme(cfg), seed=0, **cfg["train"])

Published settings (Brenner et al. 2024, NeurIPS; DurstewitzLab/ALRNN-DSR settings/*.json): Lorenz-63 AL-RNN
M=20, P=2, T̃=200, τ=16, lr 1e-3→1e-5, 2000 epochs × 50 batches of 16, noise 0.05; Rössler M=20, P=1, T̃=300,
τ=8, lr 5e-3→1e-5; Lorenz-96 M=100, P=50, T̃=50, τ=20. The defaults below keep model, window and forcing
settings but train fewer epochs (see "published_epochs") so that a full Lorenz-63 reconstruction finishes in a few
minutes on 2 CPU cores; data is expected standardised (zero mean, unit variance per dimension).
"""

from __future__ import annotations

import copy

import jax

from ..models import MODELS
from .schemes import GTF, STF, AdaptiveGTF

_DEFAULTS = {
    "lorenz63": {
        "model": "ALRNN", "model_args": {"latent_dim": 20, "relu_units": 2},
        "scheme": "STF", "scheme_args": {"interval": 16},
        "train": {"epochs": 600, "seq_len": 200, "batch_size": 16, "batches_per_epoch": 50, "lr": [1e-3, 1e-5],
                  "noise": 0.05, "eval_every": 25, "eval_steps": 10_000, "regularization": 0.0},
        "n_train": 100_000, "published_epochs": 2000,
    },
    "rossler": {
        "model": "ALRNN", "model_args": {"latent_dim": 20, "relu_units": 1},
        "scheme": "STF", "scheme_args": {"interval": 8},
        "train": {"epochs": 600, "seq_len": 300, "batch_size": 16, "batches_per_epoch": 50, "lr": [5e-3, 1e-5],
                  "noise": 0.05, "eval_every": 25, "eval_steps": 10_000, "regularization": 0.0},
        "n_train": 100_000, "published_epochs": 2000,
    },
    "lorenz96": {
        "model": "ALRNN", "model_args": {"latent_dim": 100, "relu_units": 50},
        "scheme": "STF", "scheme_args": {"interval": 20},
        "train": {"epochs": 400, "seq_len": 50, "batch_size": 16, "batches_per_epoch": 50, "lr": [1e-3, 1e-5],
                  "noise": 0.05, "eval_every": 25, "eval_steps": 10_000, "regularization": 0.0},
        "n_train": 100_000, "published_epochs": 2000,
    },
}

_GENERIC = {
    "model": "ALRNN", "model_args": {"latent_dim": 20, "relu_units": 4},
    "scheme": "STF", "scheme_args": {"interval": 16},
    "train": {"epochs": 500, "seq_len": 200, "batch_size": 16, "batches_per_epoch": 50, "lr": [1e-3, 1e-5],
              "noise": 0.05, "eval_every": 25, "eval_steps": 10_000, "regularization": 0.0},
    "n_train": 100_000, "published_epochs": None,
}

# The most accurate configuration measured on Lorenz-63 (benchmarks/results/training.md): shPLRNN M=N, L=50 with
# adaptive GTF (Hess et al. 2023), 1500 epochs: median test D_stsp 0.093, D_H 0.073 over 5 seeds (about 7 minutes
# per seed on one CPU core).
_SHPLRNN = {
    "model": "ShallowPLRNN", "model_args": {"hidden_dim": 50},
    "scheme": "AdaptiveGTF", "scheme_args": {},
    "train": {"epochs": 1500, "seq_len": 200, "batch_size": 16, "batches_per_epoch": 50, "lr": [1e-3, 1e-5],
              "noise": 0.05, "eval_every": 20, "eval_steps": 20_000, "regularization": 0.0},
    "n_train": 100_000, "published_epochs": None,
}

SCHEMES = {"STF": STF, "GTF": GTF, "AdaptiveGTF": AdaptiveGTF}


def default_config(system_name: str | None = None, model: str | None = None) -> dict:
    """Default configuration for a system name ("lorenz63", "rossler", "lorenz96"); any other name (or a file)
    gets a generic AL-RNN configuration whose latent size is adapted to the data in `build_model`.

    `model="ShallowPLRNN"` instead returns the shPLRNN (L = 50, M = N) with adaptive GTF, the most accurate
    configuration measured on Lorenz-63 (less interpretable: hundreds of subregions instead of 4).

    Returns a fresh JSON-serialisable dict: model, model_args, scheme, scheme_args, train (keyword arguments of
    `train`), n_train (suggested number of training points), published_epochs.
    """
    if model is not None:
        if model != "ShallowPLRNN" and model != "ALRNN":
            raise ValueError(f"model must be None, 'ALRNN' or 'ShallowPLRNN', got {model!r}")
        if model == "ShallowPLRNN":
            return copy.deepcopy(_SHPLRNN)
    key = (system_name or "").lower().replace("-", "").replace("_", "")
    return copy.deepcopy(_DEFAULTS.get(key, _GENERIC))


def build_model(config: dict, obs_dim: int, *, key: jax.Array):
    """Instantiate config["model"] with config["model_args"] for data of dimension obs_dim.

    For the AL-RNN the latent size is raised to at least obs_dim + relu_units, so the read-outs stay linear.
    """
    name = config["model"]
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    args = dict(config.get("model_args", {}))
    if name == "ALRNN":
        args["latent_dim"] = max(args.get("latent_dim", 20), obs_dim + args.get("relu_units", 2))
    else:
        args["latent_dim"] = max(args.get("latent_dim", obs_dim), obs_dim)  # shPLRNN default: M = N
    return MODELS[name](obs_dim, key=key, **args)


def build_scheme(config: dict):
    """Instantiate config["scheme"] ("STF", "GTF", "AdaptiveGTF") with config["scheme_args"]."""
    name = config.get("scheme", "STF")
    if name not in SCHEMES:
        raise ValueError(f"unknown scheme {name!r}; expected one of {sorted(SCHEMES)}")
    return SCHEMES[name](**config.get("scheme_args", {}))
