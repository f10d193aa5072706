"""Saving and loading dsrkit models and fitted baselines: one file format for both.

File format (one file, conventionally `model.eqx`; written and verified by `dsrkit._files`):

    b"DSRKIT-MODEL\\n"                  magic line
    8 bytes, little-endian uint64       length H of the JSON header
    H bytes of UTF-8 JSON               {"format_version": 2, "kind": "model", "class": "ALRNN",
                                         "config": {...constructor args...}, "payload_bytes": P,
                                         "metadata": {...}, "sha256": "..."}
    P bytes                             the payload

`kind` says what the payload is:

- "model" (a file without "kind" is one too): a dsrkit model; "class" is its class name, "config" its constructor
  arguments, the payload its parameters (`equinox.tree_serialise_leaves`).
- "baseline": a fitted `dsrkit.baselines.Reconstructor`; "class" is the method's registered name ("esn"),
  "config" its hyperparameters (`get_params()`), "learned" the learned scalars and lists ({"attrs": ...}) and the
  number of arrays of each learned Equinox module ({"modules": ...}); the payload is an uncompressed `.npz` (no
  pickle) of the learned arrays (`array:<name>`) and module leaves (`module:<name>:<i>`).

The checksum covers the whole file: sha256 of the header without its "sha256" entry (as canonical JSON: sorted
keys, no spaces) followed by the payload. Changing one bit of the header (a constructor argument, say) or of the
payload is detected. Files of format version 1 (checksum over the parameters only) are still read, and so are
baseline files written before baselines used this format (a `.npz` with a `__meta__` JSON entry).

Loading rebuilds a model of the recorded class from its constructor arguments and reads the parameters into it
(`equinox.tree_deserialise_leaves`), so the result reproduces the saved model bit for bit; a baseline is rebuilt
from its hyperparameters and learned attributes (`Reconstructor.load`).

A run directory (as written by `dsr train` / `dsr reconstruct`) holds `model.eqx` (this format) and `config.json`
(the training configuration); `load(run_dir)` reads `run_dir/model.eqx`.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import equinox as eqx

from ._files import FORMAT_VERSION, MAGIC, READABLE_VERSIONS, is_container, read_container, write_container
from ._precision import uses_x64

if TYPE_CHECKING:
    from .baselines._base import Reconstructor

__all__ = ["CONFIG_FILE", "FORMAT_VERSION", "MAGIC", "MODEL_FILE", "READABLE_VERSIONS", "load", "load_metadata",
           "save"]

MODEL_FILE = "model.eqx"
#: the model file of a hierarchical run (`dsrkit.hierarchical.reconstruct_family`)
FAMILY_FILE = "family.eqx"
CONFIG_FILE = "config.json"


def save(model: eqx.Module | Reconstructor, path: str | os.PathLike[str], *, overwrite: bool = False,
         metadata: dict | None = None) -> Path:
    """Write `model` to `path` (a file; `.eqx` suggested). Returns the path written.

    Args:
        model: a dsrkit model (ALRNN, PLRNN, ShallowPLRNN, DendPLRNN) or a fitted baseline
            (`dsrkit.baselines.Reconstructor`; the same file as its `save`).
        path: destination file; if it is an existing directory, `path/model.eqx` is written.
        overwrite: replace an existing file (default False: raise FileExistsError).
        metadata: optional JSON-serialisable dict stored in the header (e.g. a standardizer); see `load_metadata`.
    """
    from .baselines import Reconstructor
    from .models import MODELS

    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    if isinstance(model, Reconstructor):
        return model.save(path, overwrite=overwrite, metadata=metadata)
    name = type(model).__name__
    if name not in MODELS or not hasattr(model, "config"):
        raise TypeError(f"save() expects a dsrkit model ({', '.join(sorted(MODELS))}) or a fitted baseline, "
                        f"got {type(model).__name__}")
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, model)
    header = {"kind": "model", "class": name, "config": model.config, "metadata": metadata or {}}
    return write_container(path, header, buf.getvalue(), overwrite=overwrite, flag="overwrite=True")


def _resolve(path) -> Path:
    path = Path(path)
    if path.is_dir():
        for candidate in (path / MODEL_FILE, path / FAMILY_FILE):
            if candidate.exists():
                return candidate
        raise ValueError(f"{path} is a directory without {MODEL_FILE}; expected a run directory or a model file")
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    return path


def _read(path: Path) -> tuple[dict, bytes]:
    return read_container(path)


@uses_x64
def load(path: str | os.PathLike[str]) -> Any:
    """Load a model or a baseline written by `save` (or `Reconstructor.save`), from a file or a run directory
    containing `model.eqx`. Baseline files of the older `.npz` format are read as well. A float64 model is read
    as float64 whatever JAX's global setting (inside `dsrkit._precision.x64()`).

    Raises ValueError naming the file and the problem for a corrupt, truncated, foreign or mismatched file,
    FileNotFoundError when it does not exist.
    """
    import jax

    from .models import MODELS
    from .models.hierarchical import from_config

    path = _resolve(path)
    if not is_container(path) and zipfile.is_zipfile(path):
        from .baselines import Reconstructor

        return Reconstructor.load(path)
    header, payload = _read(path)
    if header.get("kind", "model") == "baseline":
        from .baselines import Reconstructor

        return Reconstructor._from_container(header, payload, path)
    kind = header.get("kind", "model")
    if kind not in ("model", "hierarchical"):
        raise ValueError(f"{path} holds a {header['kind']!r}; this dsrkit reads models, hierarchical models and "
                         "baselines")
    name = header["class"]
    if kind == "model" and name not in MODELS:
        raise ValueError(f"{path} holds an unknown model class {name!r}; expected one of {sorted(MODELS)}")
    try:
        template = (from_config(header["config"]) if kind == "hierarchical"
                    else MODELS[name](**header["config"], key=jax.random.key(0)))
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"{path} has a configuration that does not build a {name}: {e}") from None
    try:
        model = eqx.tree_deserialise_leaves(io.BytesIO(payload), template)
    except Exception as e:  # equinox/numpy raise various errors on shape or dtype mismatch
        raise ValueError(f"{path}: parameters do not match a {name} with {header['config']}: {e}") from None
    return model


def load_metadata(path) -> dict:
    """The `metadata` dict stored by `save` (empty if none)."""
    header, _ = _read(_resolve(path))
    return header.get("metadata", {})
