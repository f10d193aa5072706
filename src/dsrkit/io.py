"""Saving and loading dsrkit models.

File format (one file, conventionally `model.eqx`):

    b"DSRKIT-MODEL\\n"                  magic line
    8 bytes, little-endian uint64       length H of the JSON header
    H bytes of UTF-8 JSON               {"format_version": 2, "class": "ALRNN", "config": {...constructor args...},
                                         "payload_bytes": P, "metadata": {...}, "sha256": "..."}
    P bytes                             parameters, `equinox.tree_serialise_leaves`

The checksum covers the whole file: sha256 of the header without its "sha256" entry (as canonical JSON: sorted
keys, no spaces) followed by the payload. Changing one bit of the header (a constructor argument, say) or of the
parameters is detected. Files of format version 1 (checksum over the parameters only) are still read.

Loading rebuilds a model of the recorded class from its constructor arguments and reads the parameters into it
(`equinox.tree_deserialise_leaves`), so the result reproduces the saved model bit for bit.

A run directory (as written by `dsr train` / `dsr reconstruct`) holds `model.eqx` (this format) and `config.json`
(the training configuration); `load(run_dir)` reads `run_dir/model.eqx`.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from pathlib import Path

import equinox as eqx

from ._files import check_writable, write_bytes

MAGIC = b"DSRKIT-MODEL\n"
FORMAT_VERSION = 2
#: Format versions `load` reads (1: checksum over the parameters only).
READABLE_VERSIONS = (1, 2)
MODEL_FILE = "model.eqx"
CONFIG_FILE = "config.json"


def save(model, path, *, overwrite: bool = False, metadata: dict | None = None) -> Path:
    """Write `model` to `path` (a file; `.eqx` suggested). Returns the path written.

    Args:
        model: a dsrkit model (ALRNN, PLRNN, ShallowPLRNN, DendPLRNN).
        path: destination file; if it is an existing directory, `path/model.eqx` is written.
        overwrite: replace an existing file (default False: raise FileExistsError).
        metadata: optional JSON-serialisable dict stored in the header (e.g. a standardizer); see `load_metadata`.
    """
    from .models import MODELS

    name = type(model).__name__
    if name not in MODELS or not hasattr(model, "config"):
        raise TypeError(f"save() expects a dsrkit model ({', '.join(sorted(MODELS))}), got {type(model).__name__}")
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    check_writable(path, overwrite=overwrite, flag="overwrite=True")
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, model)
    payload = buf.getvalue()
    header = {"format_version": FORMAT_VERSION, "class": name, "config": model.config,
              "payload_bytes": len(payload), "metadata": metadata or {}}
    try:
        header["sha256"] = _checksum(header, payload)
        head = json.dumps(header).encode()
    except TypeError as e:
        raise TypeError(f"metadata must be JSON-serialisable: {e}") from None
    return write_bytes(path, MAGIC + struct.pack("<Q", len(head)) + head + payload, overwrite=overwrite,
                       flag="overwrite=True")


def _checksum(header: dict, payload: bytes) -> str:
    """sha256 over the canonical JSON of the header (without "sha256") and the payload."""
    body = {k: v for k, v in header.items() if k != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical + payload).hexdigest()


def _resolve(path) -> Path:
    path = Path(path)
    if path.is_dir():
        candidate = path / MODEL_FILE
        if not candidate.exists():
            raise ValueError(f"{path} is a directory without {MODEL_FILE}; expected a run directory or a model file")
        return candidate
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    return path


def _read(path: Path) -> tuple[dict, bytes]:
    raw = path.read_bytes()
    if not raw.startswith(MAGIC):
        raise ValueError(f"{path} is not a dsrkit model file (missing the {MAGIC!r} header)")
    pos = len(MAGIC)
    if len(raw) < pos + 8:
        raise ValueError(f"{path} is truncated: the header length is missing")
    (n_head,) = struct.unpack("<Q", raw[pos:pos + 8])
    pos += 8
    if len(raw) < pos + n_head:
        raise ValueError(f"{path} is truncated: header of {n_head} bytes announced, {len(raw) - pos} present")
    try:
        header = json.loads(raw[pos:pos + n_head].decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} has a corrupt header: {e}") from None
    if not isinstance(header, dict) or not {"format_version", "class", "config", "payload_bytes", "sha256"} <= set(header):
        raise ValueError(f"{path} has an incomplete header: {header!r:.200}")
    if header["format_version"] not in READABLE_VERSIONS:
        raise ValueError(f"{path} has format version {header['format_version']}; this dsrkit reads versions "
                         f"{', '.join(map(str, READABLE_VERSIONS))}")
    payload = raw[pos + n_head:]
    if len(payload) != header["payload_bytes"]:
        raise ValueError(f"{path} is truncated or padded: {len(payload)} parameter bytes, "
                         f"{header['payload_bytes']} expected")
    if header["format_version"] == 1:
        if hashlib.sha256(payload).hexdigest() != header["sha256"]:
            raise ValueError(f"{path} is corrupt: the parameter checksum does not match")
    elif _checksum(header, payload) != header["sha256"]:
        raise ValueError(f"{path} is corrupt: the checksum over header and parameters does not match")
    return header, payload


def load(path):
    """Load a model written by `save`, from a model file or a run directory containing `model.eqx`.

    Raises ValueError naming the file and the problem for a corrupt, truncated, foreign or mismatched file,
    FileNotFoundError when it does not exist.
    """
    import jax

    from .models import MODELS

    path = _resolve(path)
    header, payload = _read(path)
    name = header["class"]
    if name not in MODELS:
        raise ValueError(f"{path} holds an unknown model class {name!r}; expected one of {sorted(MODELS)}")
    try:
        template = MODELS[name](**header["config"], key=jax.random.key(0))
    except (TypeError, ValueError) as e:
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
