"""Dynamical invariants: Lyapunov spectra (Benettin QR), Rosenstein λ_max, correlation and Kaplan–Yorke dimensions.

Reference values (float64): Lorenz-63 (0.906, 0, −14.57) with Σλ = −(σ + 1 + β) exactly; Hénon λ_max 0.419 with
λ1 + λ2 = ln b exactly; logistic r = 4: ln 2; a linear map: log|eigenvalues|; Lorenz-63 D₂ ≈ 2.05.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dsrkit
from dsrkit import metrics
from dsrkit.models._base import AbstractModel


class Linear(AbstractModel):
    """z' = A z with identity observation."""

    A: jax.Array
    obs_dim: int = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)

    def __init__(self, A):
        self.A = jnp.asarray(A)
        self.obs_dim = self.latent_dim = self.A.shape[0]

    def __call__(self, z):
        return self.A @ z

    def jacobian(self, z):
        return self.A

    def observe(self, z):
        return z

    def init_state(self, x):
        return x


@pytest.fixture(scope="module")
def lorenz_data():
    s = dsrkit.systems.get("lorenz63")
    return s.trajectory(30_000, seed=0), s


def test_lorenz63_spectrum():
    """Lorenz-63 spectrum within (0.906 ± 0.02, 0 ± 0.02, −14.57 ± 0.1); its sum equals the constant divergence
    −(σ + 1 + β) = −13.667 to 1e-3 (RK4 variational equations, 2000 time units after a 100-unit transient)."""
    s = dsrkit.systems.get("lorenz63")
    lam = metrics.lyapunov_spectrum(s, 200_000, qr_every=10)
    assert lam[0] == pytest.approx(0.906, abs=0.02)
    assert lam[1] == pytest.approx(0.0, abs=0.02)
    assert lam[2] == pytest.approx(-14.57, abs=0.1)
    assert lam.sum() == pytest.approx(-(10.0 + 1.0 + 8.0 / 3.0), abs=1e-3)


def test_henon_spectrum_and_qr_interval():
    """Hénon (1.4, 0.3): λ_max 0.419 ± 0.01, λ1 + λ2 = ln 0.3 (constant Jacobian determinant) to 1e-9; a QR every
    5 steps gives the same exponents as every step (to 1e-9)."""
    s = dsrkit.systems.get("henon")
    lam = metrics.lyapunov_spectrum(s, 100_000)
    assert lam[0] == pytest.approx(0.419, abs=0.01)
    assert lam.sum() == pytest.approx(np.log(0.3), abs=1e-9)
    short1 = metrics.lyapunov_spectrum(s, 2000, qr_every=1)
    short5 = metrics.lyapunov_spectrum(s, 2000, qr_every=5)
    np.testing.assert_allclose(short1, short5, atol=1e-9)


def test_logistic_map_ln2():
    """Logistic map r = 4: λ = ln 2 ± 0.005 per step."""
    lam = metrics.lyapunov_spectrum(dsrkit.systems.get("logistic"), 200_000)
    assert lam.shape == (1,) and lam[0] == pytest.approx(np.log(2.0), abs=0.005)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_linear_model_spectrum_is_log_abs_eigenvalues(dtype, request):
    """A linear model's spectrum equals log|eig(A)| (a complex pair gives a double exponent), to 1e-3."""
    if dtype == jnp.float64:
        request.getfixturevalue("x64")  # the test builds a float64 JAX array itself
    rng = np.random.default_rng(0)
    block = np.zeros((5, 5))
    block[:2, :2] = 0.9 * np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]])
    block[2:, 2:] = np.diag([0.97, -0.6, 0.3])
    V = rng.standard_normal((5, 5))
    A = V @ block @ np.linalg.inv(V)
    expected = np.sort(np.log(np.abs(np.linalg.eigvals(A))))[::-1]
    lam = metrics.lyapunov_spectrum(Linear(jnp.asarray(A, dtype=dtype)), 20_000, transient=500, z0=np.ones(5))
    np.testing.assert_allclose(lam, expected, atol=1e-3)
    lam2 = metrics.lyapunov_spectrum(Linear(A), 20_000, n_exponents=2, z0=np.ones(5), dt=0.1)
    np.testing.assert_allclose(lam2, expected[:2] / 0.1, atol=1e-2)


class TanhRNN(AbstractModel):
    """z' = tanh(W z + b), observation z[:2], z0 = [x; 0]: a nonlinear one-step model with an analytic Jacobian."""

    W: jax.Array
    b: jax.Array
    obs_dim: int = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)

    def __init__(self, W, b):
        self.W, self.b, self.obs_dim, self.latent_dim = W, b, 2, 6

    def __call__(self, z):
        return jnp.tanh(self.W @ z + self.b)

    def jacobian(self, z):
        return (1.0 - jnp.tanh(self.W @ z + self.b) ** 2)[:, None] * self.W

    def observe(self, z):
        return z[:2]

    def init_state(self, x):
        return jnp.concatenate([x, jnp.zeros(4, x.dtype)])


def test_model_spectrum_matches_numpy_benettin(x64):
    """For a chaotic tanh RNN (λ_max ≈ 0.14) the compiled loop equals a plain NumPy Benettin loop (same start from
    init_state(x0), same steps, QR every step) to 1e-8; the run is short so rounding differences stay small. The
    test's own model holds float64 JAX arrays (`x64` fixture)."""
    rng = np.random.default_rng(1)
    W, b = 5.0 * rng.standard_normal((6, 6)) / np.sqrt(6), 0.1 * rng.standard_normal(6)
    model = TanhRNN(jnp.asarray(W), jnp.asarray(b))
    x0 = np.array([0.3, -0.2])
    lam = metrics.lyapunov_spectrum(model, 80, transient=20, x0=x0)
    z, Q, acc = np.r_[x0, np.zeros(4)], np.eye(6), np.zeros(6)
    for t in range(100):
        Q = (1.0 - np.tanh(W @ z + b) ** 2)[:, None] * W @ Q
        z = np.tanh(W @ z + b)
        Q, R = np.linalg.qr(Q)
        if t >= 20:
            acc += np.log(np.abs(np.diag(R)))
    np.testing.assert_allclose(lam, np.sort(acc / 80)[::-1], atol=1e-8)


def test_lyapunov_spectrum_bad_inputs():
    """Delay systems, objects without Jacobians and too many exponents raise errors that say what to do."""
    with pytest.raises(ValueError, match="max_lyapunov_from_data"):
        metrics.lyapunov_spectrum(dsrkit.systems.get("mackey_glass"))
    with pytest.raises(TypeError, match="jacobian"):
        metrics.lyapunov_spectrum(object())
    with pytest.raises(ValueError, match="n_exponents"):
        metrics.lyapunov_spectrum(Linear(np.eye(2)), 10, z0=np.ones(2), n_exponents=3)


def test_rosenstein_lorenz(lorenz_data):
    """Rosenstein λ_max from 20 000 Lorenz-63 samples (dt 0.01) within 15 % of 0.906; fit range and Theiler
    window are reported; a scalar observable with a delay embedding also lands within 25 %."""
    x, s = lorenz_data
    res = metrics.max_lyapunov_from_data(x[:20_000], s.dt)
    assert float(res) == pytest.approx(0.906, rel=0.15)
    start, stop = res.fit_range
    assert 0 <= start < stop <= res.times.size and res.theiler > 0 and res.n_pairs > 1000
    emb = metrics.max_lyapunov_from_data(x[:20_000, 0], s.dt, embedding_dim=3, lag=10)
    assert float(emb) == pytest.approx(0.906, rel=0.25)


def test_correlation_dimension_lorenz(lorenz_data):
    """Grassberger–Procaccia D₂ of Lorenz-63 (30 000 samples, 2500 points used) is 2.05 ± 0.1; the automatic
    scaling range is reported and lies inside the data's distance range."""
    x, _ = lorenz_data
    res = metrics.correlation_dimension(x, max_points=2500)
    assert float(res) == pytest.approx(2.05, abs=0.1)
    lo, hi = res.scaling_range
    assert res.radii[0] <= lo < hi <= res.radii[-1] and hi / lo >= 9.9


def test_correlation_dimension_of_known_sets():
    """D₂ of uniform points on a line segment is 1 and of a filled square is 2 (to 0.1; edges bias it low)."""
    rng = np.random.default_rng(0)
    t = rng.uniform(size=2500)
    line = np.c_[t, 2 * t, -t]
    square = rng.uniform(size=(2500, 2))
    assert float(metrics.correlation_dimension(line, theiler=0)) == pytest.approx(1.0, abs=0.1)
    assert float(metrics.correlation_dimension(square, theiler=0)) == pytest.approx(2.0, abs=0.1)


def test_kaplan_yorke():
    """D_KY: Lorenz reference spectrum -> 2.062; (1, −2) -> 1.5; all negative -> 0; all non-negative -> n."""
    assert metrics.kaplan_yorke_dimension([0.906, 0.0, -14.57]) == pytest.approx(2.0 + 0.906 / 14.57)
    assert metrics.kaplan_yorke_dimension([-2.0, 1.0]) == pytest.approx(1.5)
    assert metrics.kaplan_yorke_dimension([-0.1, -1.0]) == 0.0
    assert metrics.kaplan_yorke_dimension([0.2, 0.0]) == 2.0
    with pytest.raises(ValueError, match="finite"):
        metrics.kaplan_yorke_dimension([np.nan, 1.0])
