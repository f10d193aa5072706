"""Test-session setup: compiled programs of spawned benchmark workers and CLI calls go to a per-session cache
directory (removed at exit), never to the user's ~/.cache."""

import atexit
import os
import shutil
import tempfile

if "DSRKIT_JAX_CACHE" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="dsrkit-jax-cache-")
    os.environ["DSRKIT_JAX_CACHE"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
