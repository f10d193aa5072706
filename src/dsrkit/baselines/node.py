"""Neural ODE: an MLP vector field dx/dt = f_θ(x) integrated with Diffrax, trained by multiple shooting.

References: R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural ordinary differential equations",
NeurIPS 2018; P. Kidger, "On neural differential equations" (2022) for Diffrax/Equinox. Multiple shooting: every
training window of `window` steps is integrated from its own data start, so gradients never pass through long
(chaotic) integrations (cf. Turan & Jäschke, "Multiple shooting for training neural differential equations on time
series", IEEE Control Syst. Lett. 6, 1897 (2022)).

Works on internally z-scored data in float32 with a fixed-step Tsit5 solver at the data's dt. Free runs integrate
from the last context observation with the same fixed-step Tsit5 (Diffrax's solver step inside a `lax.scan`, which
compiles much faster than `diffeqsolve` under vmap and grad); a non-finite or escaping solution ends the run
(status "diverged", rows NaN).
"""

from __future__ import annotations

import equinox as eqx

from ._base import Reconstructor, Standardised
from ._params import Interval


class NeuralODE(Standardised, Reconstructor):
    """Neural ODE with an Equinox MLP vector field.

    Args:
        width: hidden width (default 64). depth: hidden layers (default 2).
        window: steps per shooting window (default 10). batch_size: windows per step (default 32).
        train_steps: Adam steps (default 2000). learning_rate: start rate, decays to 1/10 (default 3e-3).
    Learned: `vector_field_` (eqx.nn.MLP, float32), `mean_`, `scale_`, `final_loss_`.
    """

    name = "node"
    _bucket_steps = True
    _parameter_constraints = {
        **{k: [Interval(int, 1, None)] for k in ("width", "depth", "window", "batch_size", "train_steps")},
        "learning_rate": [Interval(float, 0, None, closed="neither")],
    }
    # Tuned (dsrkit.bench.tuning), the default first: width, learning rate and the shooting window (multiple
    # shooting: short windows are easier to fit, long ones see the long-term behaviour; Kidger 2021, "On neural
    # differential equations"). The number of steps is the method's budget and stays fixed.
    _search_space = {
        "width": [64, 32, 128],
        "learning_rate": [3e-3, 1e-3, 1e-2],
        "window": [10, 5, 20],
    }

    def __init__(self, width: int = 64, depth: int = 2, window: int = 10, batch_size: int = 32,
                 train_steps: int = 2000, learning_rate: float = 3e-3):
        self.width = width
        self.depth = depth
        self.window = window
        self.batch_size = batch_size
        self.train_steps = train_steps
        self.learning_rate = learning_rate

    def _min_length(self):
        return self.window + 1

    def _skeleton(self, attr, key=None):
        import equinox as eqx
        import jax
        import jax.numpy as jnp

        return eqx.nn.MLP(self.dim_, self.dim_, self.width, self.depth, activation=jax.nn.tanh, dtype=jnp.float32,
                          key=jax.random.key(0) if key is None else key)

    def _fit(self, trajectories, dt, seed):
        import jax

        from ._train import fit_windows

        z = self._set_scaler(trajectories)
        f0 = self._skeleton("vector_field_", key=jax.random.key(seed))
        f, self.final_loss_, reason = fit_windows(
            f0, _shooting_loss, (float(dt), self.window), z, length=self.window + 1, steps=self.train_steps,
            batch_size=self.batch_size, learning_rate=self.learning_rate, seed=seed + 1,
        )
        self.vector_field_ = f
        if reason.startswith("non-finite loss in the first"):
            self._fail(reason)
        elif reason:
            self.reason_ = reason

    def _predict(self, context, n_steps):
        import jax.numpy as jnp

        x0 = jnp.asarray(self._to_z(context[-1]), jnp.float32)
        return self._from_z(_integrate_jit(self.vector_field_, x0, float(self.dt_), n_steps))


def _integrate(f, x0, dt, n_steps):
    """Fixed-step Diffrax Tsit5 from x0 (N,): the states after 1..n_steps steps of size dt, (n_steps, N)."""
    import diffrax
    import jax
    import jax.numpy as jnp

    solver = diffrax.Tsit5()
    term = diffrax.ODETerm(lambda t, y, args: f(y))
    h = jnp.asarray(dt, x0.dtype)
    t0 = jnp.zeros((), x0.dtype)
    state0 = solver.init(term, t0, h, x0, None)

    def step(carry, _):
        t, y, state = carry
        y1, _, _, state, _ = solver.step(term, t, t + h, y, None, state, made_jump=False)
        return (t + h, y1, state), y1

    return jax.lax.scan(step, (t0, x0, state0), None, length=n_steps)[1]


def _shooting_loss(f, batch, cfg):
    """Multiple-shooting MSE: every window (W + 1, N) of the batch is integrated from its first row."""
    import jax
    import jax.numpy as jnp

    dt, W = cfg
    pred = jax.vmap(lambda x0: _integrate(f, x0, dt, W))(batch[:, 0])
    return jnp.mean((pred - batch[:, 1:]) ** 2)


_integrate_jit = eqx.filter_jit(_integrate)
