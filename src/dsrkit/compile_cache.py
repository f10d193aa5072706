"""JAX's persistent compilation cache for dsrkit's command-line jobs and benchmark workers.

Compiling the training epoch and the rollouts takes seconds per program; the results are stored on disk and
reused by later processes (a second `dsr reconstruct`, every benchmark worker after the first). Entries are
keyed by JAX on the program, the JAX/XLA versions and the compiler flags, so one directory is safely shared.

Location: `$DSRKIT_JAX_CACHE` if set (an empty value or "0" turns the cache off), else
`$XDG_CACHE_HOME/dsrkit/jax` (default `~/.cache/dsrkit/jax`).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path | None:
    """The directory in use, or None when turned off by DSRKIT_JAX_CACHE."""
    value = os.environ.get("DSRKIT_JAX_CACHE")
    if value is not None:
        return None if value.strip() in ("", "0") else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dsrkit" / "jax"


def enable_compilation_cache() -> Path | None:
    """Point JAX's persistent compilation cache at `cache_dir()` (every program, however quick to compile).

    Returns the directory, or None when the cache is off or the directory cannot be created (then JAX simply
    compiles as usual)."""
    path = cache_dir()
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
