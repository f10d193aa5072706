"""Every file dsrkit writes goes through here: atomic writes that never replace a file unless asked.

`write_bytes` / `write_text` write into a temporary sibling (same directory, so the final `os.replace` is an
atomic rename on the same file system) and move it into place; a reader never sees a half-written file and a
crash leaves the old file intact. Without `overwrite=True` an existing destination is an error naming the file
and the flag that replaces it. `atomic_path` gives the same guarantee to writers that need a path
(matplotlib's `savefig`, `csv`, `sqlite3` exports).

`write_container` / `read_container` are the checksummed file format of every saved model, dsrkit's own models and
the baselines alike (`dsrkit.io` describes the layout and dispatches on the header's "kind").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import sys
import tempfile
from pathlib import Path


def check_writable(path, *, overwrite: bool = False, flag: str = "--force") -> Path:
    """`path` as a Path if it may be written: refuses an existing directory always, an existing file unless
    `overwrite` (the message names `flag`, the option that allows it), and a parent that is not a directory."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory; expected a file path")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists; pass {flag} to replace it")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(f"{parent}: is not a directory, so {path.name} cannot be written in it")
    return path


@contextlib.contextmanager
def atomic_path(path, *, overwrite: bool = False, flag: str = "--force"):
    """Context manager yielding a temporary path next to `path`; on success it is renamed onto `path`.

    On an exception the temporary file is removed and `path` is left as it was.
    """
    path = check_writable(path, overwrite=overwrite, flag=flag)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + "".join(path.suffixes[-1:]),
                               dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if not overwrite and path.exists():  # appeared while we were writing
            raise FileExistsError(f"{path}: already exists; pass {flag} to replace it")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path, data: bytes, *, overwrite: bool = False, flag: str = "--force") -> Path:
    """Write `data` to `path` atomically; refuses an existing file unless `overwrite`."""
    with atomic_path(path, overwrite=overwrite, flag=flag) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path, text: str, *, overwrite: bool = False, flag: str = "--force") -> Path:
    """Write `text` (UTF-8) to `path` atomically; refuses an existing file unless `overwrite`."""
    return write_bytes(path, text.encode("utf-8"), overwrite=overwrite, flag=flag)


def close_figure(fig) -> None:
    """Release a figure after it was written. dsrkit's figures are plain `matplotlib.figure.Figure` objects that
    pyplot does not track (garbage collection frees them): nothing to do. A figure the caller made with pyplot is
    closed there, so pyplot's figure list does not grow; pyplot is never imported for this."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None and getattr(getattr(fig, "canvas", None), "manager", None) is not None:
        plt.close(fig)


def save_figure(fig, path, *, overwrite: bool = False, dpi: int = 110) -> Path:
    """`fig.savefig(path)` atomically, PNG unless the suffix says otherwise; then `close_figure(fig)`.

    A plain `matplotlib.figure.Figure` saves without pyplot and without a backend switch (matplotlib picks the
    file format's canvas for `savefig`)."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    finally:
        close_figure(fig)
    return Path(path)


# ---- the model container: magic line, JSON header, payload; sha256 over header and payload -------------------------

MAGIC = b"DSRKIT-MODEL\n"
FORMAT_VERSION = 2
#: Format versions `read_container` reads (1: checksum over the payload only).
READABLE_VERSIONS = (1, 2)
_REQUIRED = ("format_version", "class", "config", "payload_bytes", "sha256")


def checksum(header: dict, payload: bytes) -> str:
    """sha256 over the canonical JSON of the header (without "sha256": sorted keys, no spaces) and the payload."""
    body = {k: v for k, v in header.items() if k != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical + payload).hexdigest()


def write_container(path, header: dict, payload: bytes, *, overwrite: bool = False,
                    flag: str = "overwrite=True") -> Path:
    """Write MAGIC, the header length, the JSON header and the payload to `path` atomically.

    `header` needs "class" and "config"; "format_version", "payload_bytes" and "sha256" are filled in here.
    Raises TypeError when the header is not JSON-serialisable, FileExistsError for an existing file unless
    `overwrite`."""
    header = {"format_version": FORMAT_VERSION, **header, "payload_bytes": len(payload)}
    try:
        header["sha256"] = checksum(header, payload)
        head = json.dumps(header).encode()
    except (TypeError, ValueError) as e:
        raise TypeError(f"the file header must be JSON-serialisable: {e}") from None
    return write_bytes(path, MAGIC + struct.pack("<Q", len(head)) + head + payload, overwrite=overwrite, flag=flag)


def is_container(path) -> bool:
    """Whether the file at `path` starts with the container's magic line."""
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def read_container(path) -> tuple[dict, bytes]:
    """(header, payload) of a container file, verified: magic, lengths, format version and checksum.

    Raises ValueError naming the file and the problem (foreign, truncated, corrupt, newer version)."""
    path = Path(path)
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
    if not isinstance(header, dict) or not set(_REQUIRED) <= set(header):
        raise ValueError(f"{path} has an incomplete header: {header!r:.200}")
    if header["format_version"] not in READABLE_VERSIONS:
        raise ValueError(f"{path} has format version {header['format_version']}; this dsrkit reads versions "
                         f"{', '.join(map(str, READABLE_VERSIONS))}")
    payload = raw[pos + n_head:]
    if len(payload) != header["payload_bytes"]:
        raise ValueError(f"{path} is truncated or padded: {len(payload)} payload bytes, "
                         f"{header['payload_bytes']} expected")
    if header["format_version"] == 1:
        if hashlib.sha256(payload).hexdigest() != header["sha256"]:
            raise ValueError(f"{path} is corrupt: the parameter checksum does not match")
    elif checksum(header, payload) != header["sha256"]:
        raise ValueError(f"{path} is corrupt: the checksum over header and parameters does not match")
    return header, payload
