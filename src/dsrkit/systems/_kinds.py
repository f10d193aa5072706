"""Concrete system kinds backed by JAX functions: ``FlowSystem`` (ODE x' = f(x)) and ``MapSystem`` (x' = F(x))."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._precision import uses_x64
from . import _integrate
from ._base import System, check_real, traced_params


@functools.partial(jax.jit, static_argnames="fn")
def apply(fn, x, params):
    """``fn(x, params)`` compiled: ``s.rhs``/``s.step``/``s.jacobian`` compile once per function and shape, and
    parameters are traced arguments."""
    return fn(x, params)


@functools.partial(jax.jit, static_argnames="fn")
def forward_jacobian(fn, x, params):
    """``jax.jacfwd(fn)(x, params)`` compiled, for systems without an analytic Jacobian."""
    return jax.jacfwd(fn)(x, params)


class FlowSystem(System):
    """An autonomous ODE x' = f(x); ``rhs_fn(x, params)`` and optional analytic ``jac_fn(x, params)`` are JAX
    functions of a (dim,) state and a dict of float64 parameters. Integrated by ``_integrate.flow_chunk`` with
    internal steps of at most ``max_step`` (from metadata.json)."""

    kind = "flow"

    def __init__(self, *, rhs_fn, jac_fn=None, max_step, **metadata):
        super().__init__(**metadata)
        object.__setattr__(self, "_rhs_fn", rhs_fn)
        object.__setattr__(self, "_jac_fn", jac_fn)
        object.__setattr__(self, "max_step", float(max_step))
        object.__setattr__(self, "_jparams", traced_params(self._params))

    @uses_x64
    def rhs(self, x):
        return apply(self._rhs_fn, jnp.asarray(x, dtype=jnp.float64), self._jparams)

    @uses_x64
    def flow_map(self, x, dt=None):
        dt = self._check_dt(dt)
        x, dt_j = jnp.asarray(x, dtype=jnp.float64), jnp.asarray(dt, dtype=jnp.float64)
        return _integrate.flow_map(self._jparams, x, dt_j, rhs=self._rhs_fn,
                                   substeps=_integrate.substeps_for(dt, self.max_step))

    @uses_x64
    def jacobian(self, x):
        x = jnp.asarray(x, dtype=jnp.float64)
        if self._jac_fn is None:
            return forward_jacobian(self._rhs_fn, x, self._jparams)
        return apply(self._jac_fn, x, self._jparams)

    def _simulate(self, x0, n_samples, dt, *, batched, progress, process_noise, seeds, method):
        start = jnp.asarray(x0, dtype=jnp.float64)
        n_out = n_samples - 1
        if n_out == 0:
            return np.asarray(x0)[..., None, :]
        dt_j = jnp.asarray(dt, dtype=jnp.float64)
        substeps = _integrate.substeps_for(dt, self.max_step)
        if process_noise > 0:
            sigma = jnp.asarray(process_noise, dtype=jnp.float64)
            keys = jnp.stack([jax.random.key(s) for s in seeds]) if batched else jax.random.key(seeds[0])
            steps = jnp.zeros(start.shape[:-1], dtype=jnp.int64)

            def advance(state, length):
                return _integrate.sde_chunk(self._jparams, state, dt_j, sigma, keys, rhs=self._rhs_fn,
                                            substeps=substeps, length=length, batched=batched)

            ys = _integrate.run_chunked(advance, (start, steps), n_out, batched=batched, progress=progress,
                                        description=f"{self.name} (SDE)")
        elif method == "adaptive":
            ys = np.asarray(_integrate.adaptive_flow(self._jparams, start, dt_j, rhs=self._rhs_fn, n_out=n_out,
                                                     batched=batched))
        else:
            def advance(state, length):
                return _integrate.flow_chunk(self._jparams, state, dt_j, rhs=self._rhs_fn, substeps=substeps,
                                             length=length, batched=batched)

            ys = _integrate.run_chunked(advance, start, n_out, batched=batched, progress=progress,
                                        description=f"{self.name}")
        return np.concatenate([np.asarray(x0)[..., None, :], ys], axis=-2)


class MapSystem(System):
    """A map x_{k+1} = F(x_k); ``step_fn(x, params)`` and optional analytic ``jac_fn(x, params)`` are JAX
    functions. One sample per iteration: ``dt`` is 1."""

    kind = "map"

    def __init__(self, *, step_fn, jac_fn=None, **metadata):
        super().__init__(**metadata)
        object.__setattr__(self, "_step_fn", step_fn)
        object.__setattr__(self, "_jac_fn", jac_fn)
        object.__setattr__(self, "_jparams", traced_params(self._params))

    @uses_x64
    def step(self, x):
        return apply(self._step_fn, jnp.asarray(x, dtype=jnp.float64), self._jparams)

    def flow_map(self, x, dt=None):
        self._check_dt(dt)
        return self.step(x)

    @uses_x64
    def jacobian(self, x):
        x = jnp.asarray(x, dtype=jnp.float64)
        if self._jac_fn is None:
            return forward_jacobian(self._step_fn, x, self._jparams)
        return apply(self._jac_fn, x, self._jparams)

    def _check_dt(self, dt) -> float:
        if dt is not None and check_real("dt", dt, positive=True) != 1.0:
            raise ValueError(f"{self.name} is a map (one sample per iteration); dt must be None or 1, got {dt}")
        return 1.0

    def _simulate(self, x0, n_samples, dt, *, batched, progress, process_noise, seeds, method):
        start = jnp.asarray(x0, dtype=jnp.float64)
        if n_samples == 1:
            return np.asarray(x0)[..., None, :]

        def advance(state, length):
            return _integrate.map_chunk(self._jparams, state, step=self._step_fn, length=length, batched=batched)

        ys = _integrate.run_chunked(advance, start, n_samples - 1, batched=batched, progress=progress,
                                    description=f"{self.name}")
        return np.concatenate([np.asarray(x0)[..., None, :], ys], axis=-2)
