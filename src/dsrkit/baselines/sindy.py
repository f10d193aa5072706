"""SINDy: sparse identification of nonlinear dynamics with a polynomial library (through pysindy >= 2.1).

Reference: S. L. Brunton, J. L. Proctor, J. N. Kutz, "Discovering governing equations from data by sparse
identification of nonlinear dynamical systems", PNAS 113, 3932 (2016); B. M. de Silva et al., "PySINDy", JOSS 5,
2104 (2020).

pysindy fits the coefficients; the free run does not use pysindy's `simulate` (SciPy, unguarded and slow on a blown-up
model) but a jit-compiled fixed-step RK4 of the learned polynomial vector field with the data's dt (`substeps` RK4
steps per sample). A model that leaves the training region is reported as diverged.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from ._base import Reconstructor, require
from ._params import Interval, Options


class SINDy(Reconstructor):
    """Polynomial SINDy with sequentially thresholded least squares (STLSQ).

    Args:
        degree: polynomial library degree (default 2).
        threshold: STLSQ sparsity threshold (default 0.1).
        alpha: STLSQ ridge parameter (default 0.05, pysindy's default).
        differentiation: "finite_difference" or "smoothed" (Savitzky–Golay smoothed finite differences, for noisy
            data; default "smoothed").
        substeps: RK4 steps per sampling interval in free runs (default 1).

    Learned: `coefficients_` (N, n_features), `powers_` (n_features, N) monomial exponents, `feature_names_`.
    `equations()` prints the model.
    """

    name = "sindy"
    _bucket_steps = True
    _parameter_constraints = {
        "degree": [Interval(int, 1, None)],
        "threshold": [Interval(float, 0, None)],
        "alpha": [Interval(float, 0, None)],
        "differentiation": [Options("finite_difference", "smoothed")],
        "substeps": [Interval(int, 1, None)],
    }

    def __init__(self, degree: int = 2, threshold: float = 0.1, alpha: float = 0.05,
                 differentiation: str = "smoothed", substeps: int = 1):
        self.degree = degree
        self.threshold = threshold
        self.alpha = alpha
        self.differentiation = differentiation
        self.substeps = substeps

    def _min_length(self):
        return 12 if self.differentiation == "smoothed" else 3

    def _fit(self, trajectories, dt, seed):
        ps = require("pysindy", "sindy")
        diff = ps.SmoothedFiniteDifference() if self.differentiation == "smoothed" else ps.FiniteDifference()
        model = ps.SINDy(
            optimizer=ps.STLSQ(threshold=self.threshold, alpha=self.alpha),
            feature_library=ps.PolynomialLibrary(degree=self.degree),
            differentiation_method=diff,
        )
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(list(trajectories), t=dt, feature_names=list(self.names_))
        self.coefficients_ = np.asarray(model.coefficients(), dtype=np.float64)
        self.powers_ = np.asarray(model.feature_library.powers_, dtype=np.int64)
        self.feature_names_ = list(model.get_feature_names())
        if not np.all(np.isfinite(self.coefficients_)):
            self._fail("STLSQ returned non-finite coefficients")
        elif not np.any(self.coefficients_):
            self.reason_ = f"all coefficients were thresholded to zero (threshold={self.threshold})"

    def equations(self, precision: int = 3) -> list[str]:
        """The learned equations, one string per variable, e.g. "x0' = -10.000 x0 + 10.000 x1"."""
        self._check_fitted()
        out = []
        for name, row in zip(self.names_, self.coefficients_):
            rhs = ""
            for c, f in zip(row, self.feature_names_):
                if c == 0:
                    continue
                term = f"{abs(c):.{precision}f}" + ("" if f == "1" else f" {f}")
                rhs += (" - " if c < 0 else " + ") + term if rhs else ("-" if c < 0 else "") + term
            out.append(f"{name}' = {rhs or '0'}")
        return out

    def rhs(self, x: np.ndarray) -> np.ndarray:
        """The learned vector field at x: (..., N) -> (..., N)."""
        x = np.asarray(x, dtype=np.float64)
        return np.prod(x[..., None, :] ** self.powers_, axis=-1) @ self.coefficients_.T

    def _predict(self, context, n_steps):
        import jax.numpy as jnp

        return np.asarray(_sindy_run(jnp.asarray(self.coefficients_), jnp.asarray(self.powers_),
                                     jnp.asarray(context[-1]), self.dt_ / self.substeps, substeps=self.substeps,
                                     n_steps=n_steps))


@functools.partial(jax.jit, static_argnames=("substeps", "n_steps"))
def _sindy_run(C, P, x0, h, substeps, n_steps):
    """RK4 of dx/dt = C Θ(x), Θ(x)_j = prod_i x_i^P_ji; `substeps` steps of size h per output row."""
    import jax.numpy as jnp

    def f(x):
        return jnp.prod(x[None, :] ** P, axis=1) @ C.T

    def rk4(x, _):
        k1 = f(x)
        k2 = f(x + 0.5 * h * k1)
        k3 = f(x + 0.5 * h * k2)
        k4 = f(x + h * k3)
        return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

    def step(x, _):
        x = jax.lax.scan(rk4, x, None, length=substeps)[0]
        return x, x

    return jax.lax.scan(step, x0, None, length=n_steps)[1]
