"""Plain-array export of a trained model: every parameter as a NumPy array (.npz) or nested lists (.json), with
what is needed to run it without dsrkit (`dsr export RUN --format npz|json`).

    export_model(run_or_model, path, *, format="npz", force=False) -> Path

The file holds the parameters under the names of the step equation (A, W, h, ...; the observation's L, or B and
b) and a metadata record: model class, dimensions, the step equation and observation as strings, the
standardisation (mean, std) of the run, dt, the variable names and the dsrkit version. In the .npz the metadata
is the JSON string in the array "metadata" (`json.loads(str(f["metadata"]))`); the .json file is
{"metadata": {...}, "parameters": {name: nested lists}}. The arrays are those the step uses: the zero diagonal of
the PLRNN's and dendPLRNN's W is applied before export.

The model works in standardised units: x_std = (x − mean) / std, and x = x_std · std + mean (mean and std are
None for a bare model, which then works in the units it was trained in). One step in plain NumPy, with
`relu = lambda v: np.maximum(v, 0.0)` and p the parameters (float64 recommended):

    PLRNN      z = p["A"] * z + p["W"] @ relu(z) + p["h"]
    ALRNN      P = metadata["config"]["relu_units"]; phi = z.copy(); phi[-P:] = relu(z[-P:])
               z = p["A"] * z + p["W"] @ phi + p["h"]
    ShallowPLRNN  u = p["W2"] @ z
               hidden = relu(u + p["h2"]) - (relu(u) if metadata["config"]["clipped"] else 0.0)
               z = p["A"] * z + p["W1"] @ hidden + p["h1"]
    DendPLRNN  basis = relu(z[:, None] - p["H"]) - (relu(z)[:, None] if metadata["config"]["clipped"] else 0.0)
               z = p["A"] * z + p["W"] @ (basis @ p["alpha"]) + p["h"]

Observation (metadata["observation"]): identity: x = z[:N], initial state z0 = concatenate([x0, L @ x0]);
affine: x = B @ z + b, z0 = pinv(B) @ (x0 − b). A free run from x0 (standardised) is z0, F(z0), F(F(z0)), ...
read out at every step, the first row being x0's read-out, as `dsrkit.generate` returns it.

References of the models: Durstewitz (2017), Koppe et al. (2019) PLRNN; Brenner et al. (2022) dendPLRNN; Hess
et al. (2023) shPLRNN; Brenner et al. (2024) AL-RNN (see `dsrkit.report.citations`).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from . import _files
from ._version import __version__

FORMATS = ("npz", "json")
FORMAT_VERSION = 1

_OBSERVATIONS = {
    "identity": {"read_out": "x = z[:N]", "initial_state": "z0 = concatenate([x0, L @ x0])"},
    "affine": {"read_out": "x = B @ z + b", "initial_state": "z0 = pinv(B) @ (x0 - b)"},
}


def _resolve(run_or_model) -> tuple[object, dict]:
    """(model, run config or {}) from a model, a `dsrkit.runs.Run`, a run directory or a model file."""
    from . import runs
    from .io import load
    from .models import AbstractModel

    if isinstance(run_or_model, AbstractModel):
        return run_or_model, {}
    if isinstance(run_or_model, runs.Run):
        return run_or_model.load()
    if isinstance(run_or_model, (str, Path)):
        path = Path(run_or_model)
        if path.is_dir():
            return runs.Run.open(path).load()
        if path.is_file():
            return load(path), {}
        raise FileNotFoundError(f"{path}: no such run directory or model file")
    raise TypeError(f"expected a dsrkit model, a Run, or the path of a run directory or model file, got "
                    f"{type(run_or_model).__name__}")


def plain_parameters(model) -> dict[str, np.ndarray]:
    """The parameters as the step equation uses them, by their names in it: A, W, h (PLRNN, AL-RNN, dendPLRNN:
    + alpha, H), A, W1, W2, h1, h2 (shPLRNN), and L (identity observation) or B, b (affine)."""
    from .models import AbstractModel
    from .models._base import parameter_arrays

    if not isinstance(model, AbstractModel):
        raise TypeError(f"only dsrkit's models (PLRNN, ALRNN, ShallowPLRNN, DendPLRNN) can be exported, got "
                        f"{type(model).__name__}")
    params = {name.split(".")[-1]: value for name, value in parameter_arrays(model).items()}
    if type(model).__name__ in ("PLRNN", "DendPLRNN"):
        params["W"] = params["W"] * (1 - np.eye(params["W"].shape[0], dtype=params["W"].dtype))
    return params


def _metadata(model, config: dict, params: dict[str, np.ndarray]) -> dict:
    from .training.names import model_name

    scaler = config.get("standardizer") or None
    observation = getattr(model, "observation", "identity")
    return {
        "format": "dsrkit-plain-export", "format_version": FORMAT_VERSION, "dsrkit_version": __version__,
        "model_class": type(model).__name__, "model": model_name(type(model).__name__),
        "config": dict(model.config), "obs_dim": int(model.obs_dim), "latent_dim": int(model.latent_dim),
        "equation": model.step_equation(), "observation": {"kind": observation, **_OBSERVATIONS[observation]},
        "parameters": {k: list(v.shape) for k, v in params.items()}, "dtype": str(next(iter(params.values())).dtype),
        "standardizer": ({"mean": list(map(float, scaler["mean"])), "std": list(map(float, scaler["std"]))}
                         if scaler else None),
        "units": ("standardised: x_std = (x - mean) / std, x = x_std * std + mean" if scaler
                  else "the units the model was trained in (no standardisation recorded)"),
        "dt": config.get("dt"), "names": config.get("names"),
        "provenance": config.get("provenance"),
    }


def export_model(run_or_model, path, *, format: str = "npz", force: bool = False) -> Path:
    """Write a model's parameters as plain arrays with the metadata to run it (see the module docstring).

    Args:
        run_or_model: a dsrkit model, a `dsrkit.runs.Run`, or the path of a run directory (its standardisation,
            dt and variable names are included) or of a model file (.eqx).
        path: the file to write (.npz or .json as `format` says; the name is used as given).
        format: "npz" (arrays, metadata as a JSON string in "metadata") or "json" (nested lists).
        force: replace an existing file; without it an existing `path` is a FileExistsError naming it.

    Returns the written path. The write is atomic (a reader never sees half a file).
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {list(FORMATS)}, got {format!r}")
    path = _files.check_writable(path, overwrite=force, flag="--force (force=True)")
    model, config = _resolve(run_or_model)
    params = plain_parameters(model)
    meta = _metadata(model, config, params)
    if format == "json":
        text = json.dumps({"metadata": meta, "parameters": {k: v.tolist() for k, v in params.items()}}, indent=1)
        return _files.write_text(path, text + "\n", overwrite=force, flag="--force (force=True)")
    buf = io.BytesIO()
    np.savez(buf, metadata=np.array(json.dumps(meta)), **params)
    return _files.write_bytes(path, buf.getvalue(), overwrite=force, flag="--force (force=True)")


def read_export(path) -> tuple[dict[str, np.ndarray], dict]:
    """(parameters, metadata) of a file `export_model` wrote, .npz or .json, in plain NumPy."""
    path = Path(path)
    if path.suffix == ".json":
        obj = json.loads(path.read_text())
        shapes = obj["metadata"]["parameters"]
        return ({k: np.asarray(v, dtype=np.float64).reshape(shapes[k]) for k, v in obj["parameters"].items()},
                obj["metadata"])
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["metadata"]))
        return {k: f[k] for k in f.files if k != "metadata"}, meta
