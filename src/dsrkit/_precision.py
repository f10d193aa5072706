"""Float64 where dsrkit computes in float64, without touching JAX's process-wide configuration.

JAX creates 64-bit arrays only while its `jax_enable_x64` option is on; outside it, `jnp.asarray(x, jnp.float64)`
silently gives float32. Importing dsrkit leaves that option alone. Instead, every public function that computes
in float64 runs inside `x64()`, JAX's own context manager (`jax.enable_x64(True)`), which switches 64-bit types on
for the calling thread only and restores the caller's setting on return:

- ground truth: `System.trajectory`/`trajectories`, `rhs`, `step`, `jacobian`, `flow_map`, `rhs_delay`;
- models: construction (`dtype=float64` models, and the float64 draw of the published AL-RNN initialisation),
  `astype`, `dsrkit.load`;
- free runs: `generate`, `protocol_free_run`, `free_run_latent`, `n_step_predictions`;
- training: `train` (float64 models train in float64; the window sampling draws the same 64-bit integers
  whatever the caller's setting);
- metrics: `lyapunov_spectrum` (the others are NumPy);
- analysis: `as_piecewise_affine` and the functions it returns, `infer_latent`, `attractor_summary`, `analyze`;
- baselines: `fit`, `generate`, `forecast`, `load`.

Results are NumPy arrays, or JAX arrays of the documented dtype. A float64 model (or any float64 JAX array)
used directly outside these functions needs the caller's own `with jax.enable_x64(True):`; dsrkit's functions
need nothing. Functions compiled under x64 are compiled again, not reused, when called without it (JAX keys its
compilation cache on the setting), so every entry point above enters `x64()` itself instead of relying on the
caller.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import jax

F = TypeVar("F", bound=Callable[..., Any])

_enable_x64 = getattr(jax, "enable_x64", None)
if _enable_x64 is None:  # JAX < 0.8
    from jax.experimental import enable_x64 as _enable_x64


def x64():
    """Context manager: JAX's 64-bit types on in this thread; the previous setting is restored on exit (nests)."""
    return _enable_x64(True)


def uses_x64(fn: F) -> F:
    """Decorator: run `fn` inside `x64()`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
