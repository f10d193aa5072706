"""Compiled integrators behind ``System.trajectory``: fixed-step Runge–Kutta flows, map iteration, chunked driving.

The flow integrator is a ``jax.lax.scan`` over output intervals; each interval of length ``dt`` is covered by
``substeps`` steps of Tsitouras' 5(4) Runge–Kutta pair (5th-order solution, Diffrax's ``Tsit5`` tableau;
Tsitouras 2011, Comput. Math. Appl. 62:770). The number of substeps is ``ceil(dt / max_step)`` with ``max_step``
chosen per system in ``metadata.json`` and checked against SciPy's DOP853 at rtol = atol = 1e-12 in the tests.
Lorenz-63 over 5 time units: max deviation 2e-9 from x0 = (1, 1, 1) and 1e-7 from a point on the attractor,
where DOP853 at rtol = atol = 1e-10 deviates by 8e-9 and 6e-7. Why not ``diffrax.diffeqsolve`` with an adaptive
controller: on CPU its per-step bookkeeping (error estimate, dense output, controller) makes it about 10x slower
than this fused fixed-step loop (benchmarks/results/systems.md). The adaptive Diffrax solve stays available as
``method="adaptive"`` (Dormand–Prince 8(7), PID controller, rtol = atol = 1e-11; compiled per series length).
Process noise uses the same Runge–Kutta step plus Brownian increments in the same chunked scan (a Diffrax
``VirtualBrownianTree`` solve of 300 Lorenz-63 samples took about a minute here, compile included).

Every compiled function is a module-level ``jax.jit`` whose right-hand side, substeps, chunk length and batching are
static arguments (JAX caches one compilation per combination and shape); parameters, step size and states are
traced arguments, so repeated calls with the same shapes never recompile. Callers run them inside
``dsrkit._precision.x64()`` (states and parameters are float64).
"""

from __future__ import annotations

import functools
import math

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

_TSIT5 = diffrax.Tsit5.tableau
_A = tuple(tuple(float(a) for a in row) for row in _TSIT5.a_lower)
_B = tuple(float(b) for b in _TSIT5.b_sol)

CHUNK = 8192  # samples per compiled scan call; a longer series is produced chunk by chunk


def rk_step(rhs, x, params, h):
    """One explicit Runge–Kutta step (Tsit5 tableau, 5th-order solution) of x' = rhs(x, params); x: (dim,)."""
    ks = [rhs(x, params)]
    for row in _A:
        inc = sum(a * k for a, k in zip(row, ks) if a != 0.0)
        ks.append(rhs(x + h * inc, params))
    return x + h * sum(b * k for b, k in zip(_B, ks) if b != 0.0)


def substeps_for(dt: float, max_step: float) -> int:
    """Number of equal Runge–Kutta steps per output interval so that each step is at most ``max_step``."""
    return max(1, math.ceil(dt / max_step - 1e-9))


@functools.partial(jax.jit, static_argnames=("rhs", "substeps", "length", "batched"))
def flow_chunk(params, x, dt, *, rhs, substeps: int, length: int, batched: bool):
    """``(x_end, xs)``: ``length`` samples spaced ``dt`` after x (x excluded), ``substeps`` Tsit5 steps each.

    x: (dim,) or, when ``batched``, (B, dim); xs: (length, dim) or (B, length, dim).
    """

    def run(x):
        h = dt / substeps

        def interval(y, _):
            y = jax.lax.fori_loop(0, substeps, lambda i, z: rk_step(rhs, z, params, h), y)
            return y, y

        return jax.lax.scan(interval, x, None, length=length)

    return jax.vmap(run)(x) if batched else run(x)


@functools.partial(jax.jit, static_argnames=("rhs", "substeps"))
def flow_map(params, x, dt, *, rhs, substeps: int):
    """x(dt): one sampling interval of the fixed-step integrator; traceable by ``jax.jvp``/``jax.jacfwd``/
    ``jax.vmap`` (its Jacobian is the tangent map of one sample)."""
    h = dt / substeps
    return jax.lax.fori_loop(0, substeps, lambda i, z: rk_step(rhs, z, params, h), x)


@functools.partial(jax.jit, static_argnames=("step", "length", "batched"))
def map_chunk(params, x, *, step, length: int, batched: bool):
    """``(x_end, xs)`` iterating x_{k+1} = step(x_k, params) ``length`` times."""

    def run(x):
        def body(y, _):
            y = step(y, params)
            return y, y

        return jax.lax.scan(body, x, None, length=length)

    return jax.vmap(run)(x) if batched else run(x)


@functools.partial(jax.jit, static_argnames=("rhs", "n_out", "batched"))
def adaptive_flow(params, x0, dt, *, rhs, n_out: int, batched: bool):
    """xs (n_out, dim): Diffrax Dopri8 with a PID controller, rtol = atol = 1e-11."""

    def run(x0):
        ts = dt * jnp.arange(1, n_out + 1, dtype=jnp.float64)
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, y, p: rhs(y, p)),
            diffrax.Dopri8(),
            t0=0.0,
            t1=ts[-1],
            dt0=dt / 4,
            y0=x0,
            args=params,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=1e-11, atol=1e-11),
            max_steps=None,
        )
        return sol.ys

    return jax.vmap(run)(x0) if batched else run(x0)


@functools.partial(jax.jit, static_argnames=("rhs", "substeps", "length", "batched"))
def sde_chunk(params, state, dt, sigma, key, *, rhs, substeps: int, length: int, batched: bool):
    """``((x, k), xs)`` for dX = rhs(X) dt + sigma dW from ``state = (x, k)``.

    Additive isotropic noise (Itô and Stratonovich coincide). Each substep applies the deterministic Tsit5 step
    and adds sigma * dW: for additive noise this has strong order 1 like Euler–Maruyama (Kloeden & Platen 1992,
    sec. 10.2), while the drift keeps the 5th-order accuracy of the ODE integrator (paths converge to the ODE
    solution as sigma -> 0). The Brownian increments of output interval k are drawn from ``fold_in(key, k)``,
    so a path does not depend on how the series is chunked. ``batched``: state and key carry a leading axis B.
    """

    def run(state, key):
        h = dt / substeps

        def substep(y, dw):
            return rk_step(rhs, y, params, h) + sigma * dw, None

        def interval(carry, _):
            y, k = carry
            dws = jnp.sqrt(h) * jax.random.normal(jax.random.fold_in(key, k), (substeps,) + y.shape, y.dtype)
            y, _ = jax.lax.scan(substep, y, dws)
            return (y, k + 1), y

        return jax.lax.scan(interval, state, None, length=length)

    return jax.vmap(run)(state, key) if batched else run(state, key)


def chunk_length(n: int) -> int:
    """Length of the next compiled chunk when n samples remain: the smallest power of two >= n, at most CHUNK.

    Powers of two bound the number of compilations per system (at most 14); at most the last chunk is padded.
    """
    return min(CHUNK, 1 << max(0, (n - 1).bit_length()))


def run_chunked(advance, state, n: int, *, batched: bool = False, progress: bool = False,
                description: str = "integrating"):
    """Drive ``advance(state, length) -> (state, ys)`` until n samples exist along the time axis.

    ``ys`` is (length, ...), or (B, length, ...) when ``batched``. Returns the first n samples as a NumPy array
    (n, ...) or (B, n, ...). With ``progress`` a rich progress bar counts the samples.
    """
    pieces = []
    bar = None
    if progress:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        # progress goes to stderr: stdout is for results (`dsr simulate ... > file` stays clean)
        bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                       TimeRemainingColumn(), console=Console(stderr=True))
        bar.start()
        task = bar.add_task(description, total=n)
    try:
        done = 0
        while done < n:
            length = chunk_length(n - done)
            state, ys = advance(state, length)
            pieces.append(np.asarray(ys))
            done += length
            if bar is not None:
                bar.update(task, completed=min(done, n))
    finally:
        if bar is not None:
            bar.stop()
    axis = 1 if batched else 0
    out = np.concatenate(pieces, axis=axis)
    index = [slice(None)] * out.ndim
    index[axis] = slice(0, n)
    return out[tuple(index)]
