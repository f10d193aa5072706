"""Training settings: `TrainConfig` (the settings of `train`, a frozen dataclass), per-system default
configurations (published AL-RNN settings, trimmed to run on a laptop CPU) and configurations picked by name.

    cfg = default_config("lorenz63")                      # plain JSON-serialisable dict
    cfg = config_from_options("shplrnn", latent_dim=3, scheme="adaptive_gtf", epochs=100, data=ds)
    model = build_model(cfg, obs_dim=ds.dim, key=jax.random.key(0))
    fit = train(model, ds_standardised, scheme=build_scheme(cfg), seed=0, **cfg["train"])
    fit = train(model, ds, scheme=STF(16), config=TrainConfig(epochs=100, lr=(1e-3, 1e-5)))

Published settings (Brenner et al. 2024, NeurIPS; DurstewitzLab/ALRNN-DSR settings/*.json): Lorenz-63 AL-RNN
M=20, P=2, T̃=200, τ=16, lr 1e-3→1e-5, 2000 epochs × 50 batches of 16, input noise 0.05; Rössler M=20, P=1,
T̃=300, τ=8, lr 5e-3→1e-5; Lorenz-96 M=100, P=50, T̃=50, τ=20. The defaults below keep model, window and forcing
settings but train fewer epochs (see "published_epochs") so that a full Lorenz-63 reconstruction finishes in a few
minutes on 2 CPU cores; data is expected standardised (zero mean, unit variance per dimension).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
from typing import Any

import jax
import numpy as np

from .._checks import check_int
from .names import model_class, model_name, scheme_class, scheme_name

# ----------------------------------------------------------------------------------------------- TrainConfig

_LR_EXPECTED = ("a positive finite learning rate or a (start, end) pair of positive finite learning rates "
                "(per member: one (start, end) pair each)")


def _real(name: str, value, *, positive: bool = False, expected: str | None = None) -> float:
    """`value` as float when it is a finite real number >= 0 (> 0 with `positive`); TypeError for a non-number,
    ValueError (naming the argument and what is expected) otherwise."""
    expected = expected or f"a finite number {'> 0' if positive else '>= 0'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return v


def _seed(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    return int(value)


def _per_member(name: str, value, check):
    """One value (checked) or a tuple of per-member values (each checked)."""
    if isinstance(value, (str, bytes)) or np.ndim(value) > 1:
        raise ValueError(f"{name} must be one value or a 1-D sequence of per-member values, got {value!r}")
    if np.ndim(value) == 0:
        return check(name, value.item() if isinstance(value, np.ndarray) else value)
    values = np.asarray(value, dtype=object).tolist()
    if not values:
        raise ValueError(f"{name}: the per-member sequence is empty")
    return tuple(check(name, v) for v in values)


def _lr_pair(lr) -> tuple[float, float]:
    pair = (lr, lr) if np.ndim(lr) == 0 else tuple(np.asarray(lr, dtype=object).tolist())
    if len(pair) != 2:
        raise ValueError(f"lr must be {_LR_EXPECTED}, got {lr!r}")
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"lr must be {_LR_EXPECTED}, got {lr!r}")
        if not (math.isfinite(float(v)) and float(v) > 0):
            raise ValueError(f"lr must be {_LR_EXPECTED}, got {lr!r}")
    return float(pair[0]), float(pair[1])


def learning_rates(lr):
    """`lr` normalised: one rate r -> (r, r); a pair -> (start, end); a (k, 2) sequence -> k pairs.
    ValueError/TypeError naming lr otherwise (NaN, inf, <= 0, a 1-D sequence that is not a pair)."""
    if isinstance(lr, (str, bytes)) or np.ndim(lr) > 2:
        raise ValueError(f"lr must be {_LR_EXPECTED}, got {lr!r}")
    if np.ndim(lr) == 2:
        pairs = tuple(_lr_pair(p) for p in np.asarray(lr, dtype=object).tolist())
        if not pairs:
            raise ValueError("lr: the per-member sequence is empty")
        return pairs
    return _lr_pair(lr)


def lr_at(epoch: int, epochs: int, lr: tuple[float, float]) -> float:
    """The exponential decay of every training run: lr_e = lr0 · (lr1/lr0)^(e/(epochs−1)) for lr = (lr0, lr1)."""
    start, end = float(lr[0]), float(lr[1])
    return start * (end / start) ** (epoch / max(epochs - 1, 1))


#: Defaults shared by `train` (`TrainConfig`), `config_from_options` and `dsr train`: one value each, so the API
#: and the command line agree. 500 epochs of 50 batches: the published runs train 2000, the per-system defaults
#: below 400-600; fewer left Lorenz-63 AL-RNNs as failed reconstructions (BENCHMARKS.md). Input noise 0.05 (std,
#: standardised units): the published setting of every AL-RNN and shPLRNN configuration.
DEFAULT_EPOCHS = 500
DEFAULT_INPUT_NOISE = 0.05

# Fields that may hold one value per member, and how many members each one names.
PER_MEMBER = ("lr", "input_noise", "regularization", "seed")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The settings of `train` (validated on construction; `dataclasses.replace` makes variants).

    Shared by all members (they fix the compiled program or the loop):
        epochs: number of epochs (default `DEFAULT_EPOCHS`, 500); seq_len: T̃ (windows have T̃ + 1 points); batch_size: S;
        batches_per_epoch: batches per epoch (one compiled call per epoch);
        eval_every: score checkpoints every this many epochs and after the last (default max(1, epochs // 10));
            0 disables evaluation (then the last epoch's parameters are returned);
        eval_steps: length of the evaluation comparison (capped by the first trajectory's length);
        grad_clip: global-norm clipping threshold > 0, or None;
        unroll: `lax.scan` unroll factor of the default loss's time loop (speed only);
        seeds: number of members k (default: what the per-member values or the list of models say, else 1);
        members_per_call: members trained by one compiled call (vmap over them); more members are looped over in
            chunks of this size. Default: all members in one call (see `loop.default_members_per_call` for the
            measurements). The members equal single runs to float rounding either way; with 1 each member runs
            the single run's own program (bit for bit the same when the population does not mix members with
            and without input noise or regularisation).

    One value, or one per member (a sequence of length k):
        lr: (start, end) learning rates of the per-epoch exponential decay, or one rate (constant); per member
            a (k, 2) sequence of pairs. Each positive and finite.
        input_noise: std of the Gaussian noise added to the inputs (z_0 and forcing signals), data units (the
            data are usually standardised), finite, >= 0; default `DEFAULT_INPUT_NOISE` (0.05, published). (Observation noise of simulated data is the `noise` of `System.trajectory` and `reconstruct`.)
        regularization: weight λ >= 0 of `model.penalty()`.
        seed: seed of the window sampling and input noise; one value s gives member i the stream of s + i.

    The forcing strength (STF τ, GTF α) is given per member through the scheme (`STF(interval=[8, 16])`).
    """

    epochs: int = DEFAULT_EPOCHS
    seq_len: int = 200
    batch_size: int = 16
    batches_per_epoch: int = 50
    lr: Any = (1e-3, 1e-5)
    input_noise: Any = DEFAULT_INPUT_NOISE
    regularization: Any = 0.0
    seed: Any = 0
    seeds: int | None = None
    eval_every: int | None = None
    eval_steps: int = 10_000
    grad_clip: float | None = None
    unroll: int = 1
    members_per_call: int | None = None

    def __post_init__(self):
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        for name in ("epochs", "seq_len", "batch_size", "batches_per_epoch", "eval_steps", "unroll"):
            put(name, check_int(name, getattr(self, name)))
        put("lr", learning_rates(self.lr))
        put("input_noise", _per_member("input_noise", self.input_noise, lambda n, v: _real(
            n, v, expected="a finite number >= 0 (input-noise std in data units)")))
        put("regularization", _per_member("regularization", self.regularization, _real))
        put("seed", _per_member("seed", self.seed, _seed))
        if self.seeds is not None:
            put("seeds", check_int("seeds", self.seeds))
        if self.eval_every is not None:
            put("eval_every", check_int("eval_every", self.eval_every, minimum=0))
        if self.grad_clip is not None:
            put("grad_clip", _real("grad_clip", self.grad_clip, positive=True,
                                   expected="None (no clipping) or a finite global-norm threshold > 0"))
        if self.members_per_call is not None:
            put("members_per_call", check_int("members_per_call", self.members_per_call))
        self.population_size()

    def per_member_sizes(self) -> dict[str, int]:
        """{field: k} for every field given per member (and `seeds` when set)."""
        sizes = {}
        if isinstance(self.lr[0], tuple):
            sizes["lr"] = len(self.lr)
        for name in ("input_noise", "regularization", "seed"):
            if isinstance(getattr(self, name), tuple):
                sizes[name] = len(getattr(self, name))
        if self.seeds is not None:
            sizes["seeds"] = self.seeds
        return sizes

    def population_size(self) -> int | None:
        """k as the per-member fields and `seeds` fix it (None when they do not); ValueError if they disagree."""
        sizes = self.per_member_sizes()
        if len(set(sizes.values())) > 1:
            raise ValueError("per-member settings disagree on the number of members: "
                             + ", ".join(f"{k} has {v}" if k != "seeds" else f"seeds={v}" for k, v in sizes.items()))
        return next(iter(sizes.values()), None)

    def member_values(self, k: int) -> dict[str, np.ndarray]:
        """The per-member hyperparameters of a population of k: lr_start, lr_end, input_noise, regularization (float64)
        and seed (int64), each (k,)."""
        lr = self.lr if isinstance(self.lr[0], tuple) else (self.lr,) * k
        full = lambda v: v if isinstance(v, tuple) else (v,) * k  # noqa: E731
        seed = self.seed if isinstance(self.seed, tuple) else tuple(self.seed + i for i in range(k))
        out = {"lr_start": np.array([p[0] for p in lr], np.float64), "lr_end": np.array([p[1] for p in lr], np.float64),
               "input_noise": np.array(full(self.input_noise), np.float64),
               "regularization": np.array(full(self.regularization), np.float64),
               "seed": np.array(seed, np.int64)}
        for name, v in out.items():
            if len(v) != k:
                raise ValueError(f"{name} has {len(v)} per-member values for a population of {k}")
        return out

    def to_dict(self) -> dict:
        """JSON-serialisable settings (per-member values as lists)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = [list(p) if isinstance(p, tuple) else p for p in v] if isinstance(v, tuple) else v
        return out


_DEFAULTS = {
    "lorenz63": {
        "model": "alrnn", "model_args": {"latent_dim": 20, "relu_units": 2},
        "scheme": "stf", "scheme_args": {"interval": 16},
        "train": {"epochs": 600, "seq_len": 200, "batch_size": 16, "batches_per_epoch": 50, "lr": [1e-3, 1e-5],
                  "input_noise": 0.05, "eval_every": 25, "eval_steps": 10_000, "regularization": 0.0},
        "n_train": 100_000, "published_epochs": 2000,
    },
    "rossler": {
        "model": "alrnn", "model_args": {"latent_dim": 20, "relu_units": 1},
        "scheme": "stf", "scheme_args": {"interval": 8},
        "train": {"epochs": 600, "seq_len": 300, "batch_size": 16, "batches_per_epoch": 50, "lr": [5e-3, 1e-5],
                  "input_noise": 0.05, "eval_every": 25, "eval_steps": 10_000, "regularization": 0.0},
        "n_train": 100_000, "published_epochs": 2000,
    },
    "lorenz96": {
        "model": "alrnn", "model_args": {"latent_dim": 100, "relu_units": 50},
        "scheme": "stf", "scheme_args": {"interval": 20},
        "train": {"epochs": 400, "seq_len": 50, "batch_size": 16, "batches_per_epoch": 50, "lr": [1e-3, 1e-5],
                  "input_noise": 0.05, "eval_every": 25, "eval_steps": 10_000, "regularization": 0.0},
        "n_train": 100_000, "published_epochs": 2000,
    },
}

_GENERIC = {
    "model": "alrnn", "model_args": {"latent_dim": 20, "relu_units": 4},
    "scheme": "stf", "scheme_args": {"interval": 16},
    "train": {"epochs": DEFAULT_EPOCHS, "seq_len": 200, "batch_size": 16, "batches_per_epoch": 50,
              "lr": [1e-3, 1e-5], "input_noise": DEFAULT_INPUT_NOISE, "eval_every": 25, "eval_steps": 10_000,
              "regularization": 0.0},
    "n_train": 100_000, "published_epochs": None,
}

# The most accurate configuration measured on Lorenz-63 (benchmarks/results/training.md): shPLRNN M=N, L=50 with
# adaptive GTF (Hess et al. 2023), 1500 epochs: median test D_stsp 0.093, D_H 0.073 over 5 seeds (about 7 minutes
# per seed on one CPU core).
_SHPLRNN = {
    "model": "shplrnn", "model_args": {"hidden_dim": 50},
    "scheme": "adaptive_gtf", "scheme_args": {},
    "train": {"epochs": 1500, "seq_len": 200, "batch_size": 16, "batches_per_epoch": 50, "lr": [1e-3, 1e-5],
              "input_noise": 0.05, "eval_every": 20, "eval_steps": 20_000, "regularization": 0.0},
    "n_train": 100_000, "published_epochs": None,
}

#: The models that have default configurations (`default_config(model=...)`, `dsr reconstruct --model`).
DEFAULT_MODELS = ("alrnn", "shplrnn")


def default_model(model) -> str:
    """The short name of a model that has default configurations (see `DEFAULT_MODELS`; class names accepted).
    ValueError naming the choices otherwise."""
    try:
        name = model_name(model)
    except (ValueError, TypeError):
        name = None
    if name not in DEFAULT_MODELS:
        raise ValueError(f"model must be one of {list(DEFAULT_MODELS)}, got {model!r}")
    return name


def default_config(system_name: str | None = None, model: str | None = None) -> dict:
    """Default configuration for a system name ("lorenz63", "rossler", "lorenz96"); any other name (or a file)
    gets a generic AL-RNN configuration whose latent size is adapted to the data in `build_model`.

    `model="shplrnn"` instead returns the shPLRNN (L = 50, M = N) with adaptive GTF, the most accurate
    configuration measured on Lorenz-63 (less interpretable: hundreds of subregions instead of 4); None or
    "alrnn" the AL-RNN configuration (see `DEFAULT_MODELS`; class names are accepted too).

    Returns a fresh JSON-serialisable dict: model, model_args, scheme, scheme_args (model and scheme by their
    short names, `dsrkit.training.names`), train (keyword arguments of `train`), n_train (suggested number of
    training points), published_epochs.
    """
    if model is not None and default_model(model) == "shplrnn":
        return copy.deepcopy(_SHPLRNN)
    key = (system_name or "").lower().replace("-", "").replace("_", "")
    return copy.deepcopy(_DEFAULTS.get(key, _GENERIC))


def normalize_config(config: dict) -> dict:
    """A copy of a training configuration in the current vocabulary, for configurations written before it (a run's
    config.json, a sweep grid): a model or scheme given by its class name ("ALRNN", "AdaptiveGTF") gets its short
    name, and "noise" in "train" (the input noise, since renamed) becomes "input_noise". Everything else, unknown
    names included, is kept as it is (`build_model`, `build_scheme` and `train` say what is wrong with it)."""
    if not isinstance(config, dict):
        return config
    out = copy.deepcopy(config)
    for key, resolve in (("model", model_name), ("scheme", scheme_name)):
        if key in out:
            try:
                out[key] = resolve(out[key])
            except (ValueError, TypeError):
                pass
    train = out.get("train")
    if isinstance(train, dict) and "noise" in train and "input_noise" not in train:
        out["train"] = {("input_noise" if k == "noise" else k): v for k, v in train.items()}
    return out


def build_model(config: dict, obs_dim: int, *, key: jax.Array):
    """Instantiate config["model"] (a name of `dsrkit.training.names`) with config["model_args"] for data of
    dimension obs_dim.

    For the AL-RNN the latent size is raised to at least obs_dim + relu_units, so the read-outs stay linear.
    """
    name = model_name(config["model"])
    args = dict(config.get("model_args", {}))
    if name == "alrnn":
        args["latent_dim"] = max(args.get("latent_dim", 20), obs_dim + args.get("relu_units", 2))
    else:
        args["latent_dim"] = max(args.get("latent_dim", obs_dim), obs_dim)  # shPLRNN default: M = N
    return model_class(name)(obs_dim, key=key, **args)


def build_scheme(config: dict):
    """Instantiate config["scheme"] ("stf", "gtf", "adaptive_gtf", or the class name) with config["scheme_args"]."""
    return scheme_class(config.get("scheme", "stf"))(**config.get("scheme_args", {}))


def check_train_settings(settings: dict, where: str = "train()") -> None:
    """TypeError for a key that is not a `TrainConfig` field (naming `input_noise` for the former `noise`)."""
    fields = [f.name for f in dataclasses.fields(TrainConfig)]
    unknown = sorted(set(settings) - set(fields))
    if unknown:
        hint = ("; the std of the Gaussian input noise is input_noise (observation noise of simulated data is "
                "`noise` of System.trajectory and reconstruct)" if "noise" in unknown else "")
        raise TypeError(f"{where} got unexpected keyword argument(s) {', '.join(unknown)}; settings are the fields "
                        f"of TrainConfig: {', '.join(sorted(fields))}{hint}")


# the constructor arguments `config_from_options` gives each model and scheme
_MODEL_OPTIONS = {"alrnn": ("latent_dim", "relu_units"), "plrnn": ("latent_dim",),
                  "shplrnn": ("latent_dim", "hidden_dim"), "dendplrnn": ("latent_dim", "n_bases")}
_SCHEME_OPTIONS = {"stf": ("interval",), "gtf": ("alpha",), "adaptive_gtf": ()}


def config_from_options(model: str = "alrnn", *, latent_dim: int = 20, relu_units: int = 2, hidden_dim: int = 50,
                        n_bases: int = 10, scheme: str = "stf", interval: int = 16, alpha: float = 0.1,
                        data=None, **train) -> dict:
    """The training configuration of a model and scheme picked by name, in the form `default_config` returns it
    (what `dsr train` trains; `dsrkit.pipeline.train_run` takes it).

    Args:
        model: alrnn | plrnn | shplrnn | dendplrnn (`dsrkit.training.names`; class names accepted). It takes the
            arguments it has of latent_dim (M), relu_units (P, AL-RNN), hidden_dim (H, shPLRNN) and n_bases
            (dendPLRNN); the others are ignored.
        scheme: stf | gtf | adaptive_gtf, with interval (STF τ) or alpha (GTF α).
        data: the training `Dataset`, when known: the configuration is then checked against it (windows of
            seq_len + 1 points must fit into a trajectory; the latent size must be at least N + P for the AL-RNN,
            N otherwise, so that the read-outs stay linear: a size too small is refused here, not raised) and
            eval_steps is capped by the shortest trajectory.
        **train: settings of `train` (fields of `TrainConfig`: epochs, seq_len, lr, input_noise, ...) over the
            generic defaults of `default_config`; checked here.

    Returns a fresh JSON-serialisable dict: model, model_args, scheme, scheme_args, train, n_train,
    published_epochs. Raises ValueError / TypeError naming what is wrong.
    """
    name, scheme = model_name(model), scheme_name(scheme)
    given = {"latent_dim": latent_dim, "relu_units": relu_units, "hidden_dim": hidden_dim, "n_bases": n_bases,
             "interval": interval, "alpha": alpha}
    check_train_settings(train, "config_from_options()")
    config = default_config(None)
    config.update(model=name, model_args={k: given[k] for k in _MODEL_OPTIONS[name]}, scheme=scheme,
                  scheme_args={k: given[k] for k in _SCHEME_OPTIONS[scheme]})
    config["train"].update({k: list(v) if isinstance(v, tuple) else v for k, v in train.items()})
    TrainConfig(**config["train"])  # every setting in range, or an error naming it
    if data is not None:
        seq_len = config["train"]["seq_len"]
        data.require_length(seq_len + 1, f"training with windows of {seq_len} + 1 steps")
        smallest = data.dim + relu_units if name == "alrnn" else data.dim
        if latent_dim < smallest:
            raise ValueError(f"latent_dim {latent_dim} is too small for {data.dim} variable(s): the {name} needs at "
                             f"least {smallest} latent units"
                             + (f" (N + P = {data.dim} + {relu_units})" if name == "alrnn" else ""))
        config["train"]["eval_steps"] = min(config["train"]["eval_steps"], min(data.lengths))
    return config
