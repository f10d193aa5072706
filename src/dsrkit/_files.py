"""Every file dsrkit writes goes through here: atomic writes that never replace a file unless asked.

`write_bytes` / `write_text` write into a temporary sibling (same directory, so the final `os.replace` is an
atomic rename on the same file system) and move it into place; a reader never sees a half-written file and a
crash leaves the old file intact. Without `overwrite=True` an existing destination is an error naming the file
and the flag that replaces it. `atomic_path` gives the same guarantee to writers that need a path
(matplotlib's `savefig`, `csv`, `sqlite3` exports).
"""

from __future__ import annotations

import contextlib
import os
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


def save_figure(fig, path, *, overwrite: bool = False, dpi: int = 110) -> Path:
    """`fig.savefig(path)` atomically, PNG unless the suffix says otherwise; closes the figure."""
    import matplotlib.pyplot as plt

    fmt = Path(path).suffix.lstrip(".") or "png"
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return Path(path)
