"""Test-session setup: compiled programs of spawned benchmark workers and CLI calls go to a per-session cache
directory, never to the user's ~/.cache."""

import os
import tempfile

os.environ.setdefault("DSRKIT_JAX_CACHE", tempfile.mkdtemp(prefix="dsrkit-jax-cache-"))
