"""The persistent compilation cache: location rules, and that a second process loads what the first compiled."""

import os
import subprocess
import sys

from dsrkit.compile_cache import cache_dir

CHILD = """
import jax, jax.numpy as jnp
from dsrkit.compile_cache import enable_compilation_cache
print(enable_compilation_cache())
print(float(jax.jit(lambda x: jnp.sin(x) * 2.0 + 1.0)(jnp.arange(3.0)).sum()))
"""


def test_cache_dir_rules(monkeypatch, tmp_path):
    monkeypatch.setenv("DSRKIT_JAX_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.setenv("DSRKIT_JAX_CACHE", "0")
    assert cache_dir() is None
    monkeypatch.delenv("DSRKIT_JAX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "dsrkit" / "jax"


def test_second_process_reuses_compiled_program(tmp_path):
    env = {**os.environ, "DSRKIT_JAX_CACHE": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    entries = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert entries, "the first process wrote no cache entry"
    second = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    assert first.stdout == second.stdout  # same directory announced, same result
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == entries  # loaded, not compiled anew


def test_cache_off_writes_nothing(tmp_path):
    env = {**os.environ, "DSRKIT_JAX_CACHE": "0", "XDG_CACHE_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[0] == "None"
    assert not any(tmp_path.iterdir())
