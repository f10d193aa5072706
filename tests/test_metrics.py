"""Reconstruction metrics: D_stsp, D_H, PE, sMAPE/MASE/VPT, the registry and the evaluation protocol.

References are brute-force implementations (numpy.histogramdd, a direct DFT/convolution loop, explicit loops)
and exact values of constructed cases.
"""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dsrkit
from dsrkit import metrics
from dsrkit.evaluation import Protocol, evaluate
from dsrkit.metrics import geometry
from dsrkit.models._base import AbstractModel


@pytest.fixture(scope="module")
def lorenz():
    """Standardised Lorenz-63 series (10 000 × 3, dt 0.01) and its system."""
    s = dsrkit.systems.get("lorenz63")
    x = s.trajectory(10_000, seed=0)
    return (x - x.mean(0)) / x.std(0), s


class Linear(AbstractModel):
    """z' = A z, identity observation of the first N units, z0 = [x; 0]: a model with known dynamics."""

    A: jax.Array
    obs_dim: int = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)

    def __init__(self, A, obs_dim=None):
        self.A = jnp.asarray(A)
        self.latent_dim = self.A.shape[0]
        self.obs_dim = self.latent_dim if obs_dim is None else obs_dim

    @property
    def dtype(self):
        return self.A.dtype

    def __call__(self, z):
        return self.A @ z

    def jacobian(self, z):
        return self.A

    def observe(self, z):
        return z[: self.obs_dim]

    def init_state(self, x):
        return jnp.concatenate([x, jnp.zeros(self.latent_dim - self.obs_dim, x.dtype)])


def rotation(theta, r=1.0):
    return r * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


# ---------------------------------------------------------------- D_stsp


def histogramdd_dstsp(true, gen, bins=30, alpha=1e-5):
    """Brute force: numpy.histogramdd on [min − 0.1σ, max + 0.1σ] of true, Laplace smoothing, KL(p_true || p_gen);
    each histogram normalised by all points of its series (generated points out of range count as missing mass)."""
    sd = true.std(0)
    rng = list(zip(true.min(0) - 0.1 * sd, true.max(0) + 0.1 * sd))
    ht, _ = np.histogramdd(true, bins=bins, range=rng)
    hg, _ = np.histogramdd(gen, bins=bins, range=rng)
    k = bins ** true.shape[1]
    pt = (ht + alpha) / (ht.sum() + alpha * k)
    pg = (hg + alpha) / (len(gen) + alpha * k)
    return float(np.sum(pt * np.log(pt / pg)))


@pytest.mark.parametrize("n_dim,bins", [(1, 30), (2, 30), (3, 30), (3, 7)])
def test_dstsp_matches_histogramdd(n_dim, bins):
    """Binned D_stsp equals the numpy.histogramdd implementation (range, out-of-range mass, smoothing) to 1e-10."""
    rng = np.random.default_rng(n_dim)
    true = rng.standard_normal((5000, n_dim))
    gen = 1.3 * rng.standard_normal((4000, n_dim)) + 0.4  # a part falls outside the true range
    assert metrics.state_space_divergence(true, gen, bins=bins) == pytest.approx(
        histogramdd_dstsp(true, gen, bins), rel=1e-10
    )


def test_dstsp_sparse_path_matches_dense(monkeypatch):
    """The sparse histogram (used when bins**N is large) gives the dense result, and histogramdd's, for N = 5."""
    rng = np.random.default_rng(5)
    true, gen = rng.standard_normal((3000, 5)), 1.2 * rng.standard_normal((3000, 5))
    dense = metrics.state_space_divergence(true, gen, bins=6)
    monkeypatch.setattr(geometry, "_DENSE_LIMIT", 10)
    sparse = metrics.state_space_divergence(true, gen, bins=6)
    assert sparse == pytest.approx(dense, rel=1e-10)
    assert dense == pytest.approx(histogramdd_dstsp(true, gen, 6), rel=1e-10)


def test_dstsp_zero_for_identical_and_order_invariant(lorenz):
    """D_stsp(x, x) = 0 exactly; permuting or reversing the generated samples changes nothing (a histogram)."""
    x, _ = lorenz
    assert metrics.state_space_divergence(x, x) == 0.0
    gen = 1.1 * x[::2] + 0.05
    ref = metrics.state_space_divergence(x, gen)
    perm = np.random.default_rng(0).permutation(gen.shape[0])
    assert metrics.state_space_divergence(x, gen[perm]) == pytest.approx(ref, rel=1e-12)
    assert metrics.state_space_divergence(x, gen[::-1]) == pytest.approx(ref, rel=1e-12)
    assert metrics.state_space_divergence(x[::-1], gen) == pytest.approx(ref, rel=1e-12)


def test_dstsp_grows_with_shift_and_scale(lorenz):
    """Shifting or scaling the generated attractor further away increases D_stsp strictly."""
    x, _ = lorenz
    gen = x[5000:]
    shifted = [metrics.state_space_divergence(x[:5000], gen + c) for c in (0.0, 0.1, 0.3, 0.6, 1.0, 1.5)]
    scaled = [metrics.state_space_divergence(x[:5000], gen * c) for c in (1.0, 1.1, 1.3, 1.6, 2.0, 3.0)]
    assert np.all(np.diff(shifted) > 0), shifted
    assert np.all(np.diff(scaled) > 0), scaled


def test_dstsp_all_out_of_range_is_finite_upper_value():
    """No generated point in range: p_gen is the smoothing floor alpha / (G + alpha·bins^N) in every bin,
    D_stsp = log((G + alpha·bins^N) / alpha) − H(p_true) (finite, and large)."""
    rng = np.random.default_rng(1)
    true = rng.standard_normal((2000, 2))
    res = metrics.state_space_divergence_result(true, true + 100.0)
    assert res.in_range_fraction == 0.0 and not res.diverged
    assert res.value == pytest.approx(histogramdd_dstsp(true, true + 100.0), rel=1e-10)
    sd = true.std(0)
    ht, _ = np.histogramdd(true, bins=30, range=list(zip(true.min(0) - 0.1 * sd, true.max(0) + 0.1 * sd)))
    pt = (ht + 1e-5) / (2000 + 1e-5 * 900)
    assert res.value == pytest.approx(np.log((2000 + 1e-5 * 900) / 1e-5) + np.sum(pt * np.log(pt)), rel=1e-10)


def test_dstsp_nonfinite_generated_is_nan_and_flagged():
    """NaN/inf in the generated data: nan with a RuntimeWarning, and diverged=True from the result function."""
    true = np.random.default_rng(0).standard_normal((500, 3))
    gen = true.copy()
    gen[10, 1] = np.inf
    with pytest.warns(RuntimeWarning, match="diverged"):
        assert np.isnan(metrics.state_space_divergence(true, gen))
    res = metrics.state_space_divergence_result(true, gen)
    assert res.diverged and np.isnan(res.value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # huge but finite values: dropped as out of range, no overflow warnings
        huge = metrics.state_space_divergence_result(true, true * 1e200)
    assert huge.in_range_fraction == 0.0 and np.isfinite(huge.value)
    with pytest.warns(RuntimeWarning, match="diverged"):  # their variance overflows: D_H treats them as diverged
        assert np.isnan(metrics.power_spectrum_distance(true, true * 1e200))


def test_dstsp_bad_input_errors():
    """Non-finite true data, mismatched dimensions and unknown method raise ValueErrors that say what is wrong."""
    x = np.zeros((100, 3))
    x[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"true contains NaN.*\(3, 2\)"):
        metrics.state_space_divergence(x, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="same number of dimensions"):
        metrics.state_space_divergence(np.ones((10, 3)), np.ones((10, 2)))
    with pytest.raises(ValueError, match="method"):
        metrics.state_space_divergence(np.ones((10, 3)), np.ones((10, 3)), method="kde")
    with pytest.raises(ValueError, match="bins"):
        metrics.state_space_divergence(np.ones((10, 3)), np.ones((10, 3)), bins=0)


def brute_gmm_dstsp(true, gen, sigma2=1.0, n_samples=50, seed=0):
    """Brute force of the GMM variant with the same draws: mixture densities summed component by component."""
    rng = np.random.default_rng(seed)
    comp = rng.choice(true.shape[0], size=n_samples, replace=False)
    z = true[comp] + np.sqrt(sigma2) * rng.standard_normal((n_samples, true.shape[1]))
    norm = (2 * np.pi * sigma2) ** (-true.shape[1] / 2)

    def density(centres):
        return sum(norm * np.exp(-np.sum((z - c) ** 2, axis=1) / (2 * sigma2)) for c in centres) / len(centres)

    return float(np.mean(np.log(density(true)) - np.log(density(gen))))


def test_dstsp_gmm_matches_brute_force_and_gaussian_kl():
    """GMM variant: chosen automatically for N = 12 > 10; equals a brute-force mixture-density computation with
    the same Monte-Carlo draws; 0 for identical data; in 2-D close to the KL of the smoothed Gaussians
    N(0, 2I) vs N(μ, 2I), |μ|²/4 = 0.25 (20 %: Monte-Carlo and kernel-estimate error)."""
    rng = np.random.default_rng(0)
    true, gen = rng.standard_normal((120, 12)), rng.standard_normal((80, 12)) + 0.3
    res = metrics.state_space_divergence_result(true, gen, n_samples=50, seed=4, sigma2=2.0)
    assert res.method == "gmm"
    assert res.value == pytest.approx(brute_gmm_dstsp(true, gen, 2.0, 50, 4), rel=1e-9)
    assert metrics.state_space_divergence(true, true) == pytest.approx(0.0, abs=1e-12)
    true2, gen2 = rng.standard_normal((4000, 2)), rng.standard_normal((4000, 2)) + [1.0, 0.0]
    v = metrics.state_space_divergence(true2, gen2, method="gmm", seed=3)
    assert v == metrics.state_space_divergence(true2, gen2, method="gmm", seed=3)
    assert v == pytest.approx(0.25, rel=0.2)


# ---------------------------------------------------------------- D_H


def loop_dh(true, gen, sigma=20.0):
    """Direct implementation: explicit DFT sums, explicit reflect-mode Gaussian convolution, Hellinger by loop."""

    def spectrum(x):
        x = (x - x.mean()) / x.std()
        t = np.arange(x.size)
        p = np.array([abs(np.sum(x * np.exp(-2j * np.pi * k * t / x.size))) ** 2 for k in range(x.size // 2 + 1)])
        r = int(4.0 * sigma + 0.5)
        w = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
        w /= w.sum()

        def at(i):  # scipy "reflect": d c b a | a b c d | d c b a
            n = p.size
            while i < 0 or i >= n:
                i = -i - 1 if i < 0 else 2 * n - i - 1
            return p[i]

        s = np.array([sum(w[j + r] * at(i + j) for j in range(-r, r + 1)) for i in range(p.size)])
        s = np.clip(s, 0, None)
        return s / s.sum()

    hs = []
    for d in range(true.shape[1]):
        p, q = spectrum(true[:, d]), spectrum(gen[:, d])
        hs.append(np.sqrt(sum((np.sqrt(a) - np.sqrt(b)) ** 2 for a, b in zip(p, q))) / np.sqrt(2))
    return float(np.mean(hs))


@pytest.mark.parametrize("sigma", [20.0, 3.0])
def test_dh_matches_direct_loop(lorenz, sigma):
    """D_H equals a loop implementation (DFT sums, reflect-mode convolution, Hellinger) to 1e-9."""
    x, _ = lorenz
    true, gen = x[:300:2], x[5000:5300:2] * 1.5 + 0.2
    assert metrics.power_spectrum_distance(true, gen, smoothing=sigma) == pytest.approx(
        loop_dh(true, gen, sigma), abs=1e-9
    )


def test_dh_identity_symmetry_bound(lorenz):
    """D_H(x, x) = 0; D_H is symmetric; it stays in [0, 1] even for maximally different spectra."""
    x, _ = lorenz
    assert metrics.power_spectrum_distance(x, x) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    t = np.arange(4096)
    pairs = [
        (x[:4000], x[4000:8000] + rng.normal(0, 0.3, (4000, 3))),
        (np.sin(0.01 * t)[:, None], np.sin(3.0 * t)[:, None]),
        (np.sin(0.01 * t)[:, None], rng.standard_normal((4096, 1))),
    ]
    for a, b in pairs:
        ab, ba = metrics.power_spectrum_distance(a, b), metrics.power_spectrum_distance(b, a)
        assert ab == pytest.approx(ba, abs=1e-14)
        assert 0.0 < ab <= 1.0
    far = metrics.power_spectrum_distance(pairs[1][0], pairs[1][1], smoothing=1.0)
    assert far > 0.99


def test_dh_invariant_to_time_reversal(lorenz):
    """Reversing a real series conjugates its Fourier transform up to a phase: |rfft|^2, hence D_H, is unchanged.
    (Shuffling the samples, by contrast, destroys the time structure and must be detected.)"""
    x, _ = lorenz
    assert metrics.power_spectrum_distance(x, x[::-1]) == pytest.approx(0.0, abs=1e-10)
    shuffled = x[np.random.default_rng(0).permutation(len(x))]
    assert metrics.power_spectrum_distance(x, shuffled) > 0.3


def test_dh_grows_with_time_scale_and_ignores_affine_maps(lorenz):
    """D_H grows as the generated series is played faster (spectrum moves); it is blind to shifts/scales (z-score)."""
    _, s = lorenz
    x = s.trajectory(8192, seed=1)
    sped = [metrics.power_spectrum_distance(x[:2048], x[:: k][:2048]) for k in (1, 2, 3, 4)]
    assert sped[0] == pytest.approx(0.0, abs=1e-12) and np.all(np.diff(sped) > 0), sped
    assert metrics.power_spectrum_distance(x, 3.0 * x + 7.0) == pytest.approx(0.0, abs=1e-12)


def test_dh_unequal_lengths_constant_and_nonfinite(lorenz):
    """Unequal lengths use the common prefix; a constant generated dimension scores 1; NaN gives nan + warning."""
    x, _ = lorenz
    a, b = x[:3000], x[5000:9000]
    assert metrics.power_spectrum_distance(a, b) == metrics.power_spectrum_distance(a, b[:3000])
    const = b[:3000].copy()
    const[:, 1] = 2.0
    per = metrics.power_spectrum_distance_per_dim(a, const)
    assert per[1] == 1.0 and per[0] < 1.0
    bad = b.copy()
    bad[-1, 0] = np.nan
    with pytest.warns(RuntimeWarning, match="diverged"):
        assert np.isnan(metrics.power_spectrum_distance(a, bad))


# ---------------------------------------------------------------- prediction metrics


def test_prediction_error_against_numpy_loop(x64):
    """PE(n) of a linear model equals the explicit loop mean_t ‖A^n x_t − X[t+n]‖² / N; 0 for the exact model
    (the test's model holds float64 JAX arrays: `x64` fixture)."""
    rng = np.random.default_rng(0)
    A_true = np.array([[0.9, 0.2, 0.0], [-0.2, 0.9, 0.0], [0.0, 0.0, 0.5]])
    x = np.zeros((300, 3))
    x[0] = rng.standard_normal(3)
    for t in range(299):
        x[t + 1] = A_true @ x[t] + 0.1 * rng.standard_normal(3)
    assert metrics.prediction_error(Linear(A_true), x, steps=5) == pytest.approx(
        np.mean([(np.linalg.matrix_power(A_true, 5) @ x[t] - x[t + 5]) ** 2 for t in range(295)]), rel=1e-12
    )
    noiseless = np.array([np.linalg.matrix_power(A_true, t) @ x[0] for t in range(100)])
    assert metrics.prediction_error(Linear(A_true), noiseless, steps=20) == pytest.approx(0.0, abs=1e-25)
    A_wrong = 0.95 * A_true
    ref = np.mean([(np.linalg.matrix_power(A_wrong, 3) @ x[t] - x[t + 3]) ** 2 for t in range(0, 297, 4)])
    assert metrics.prediction_error(Linear(A_wrong), x, steps=3, stride=4) == pytest.approx(ref, rel=1e-12)


def test_prediction_error_latent_model_and_forecast_object_agree(x64):
    """A model with hidden units (M=4, N=2) and an object with forecast(context, n) give the same PE."""
    A = np.zeros((4, 4))
    A[:2, :2] = rotation(0.3, 0.97)
    A[2:, 2:] = 0.5 * np.eye(2)
    A[0, 2] = 0.1
    model = Linear(A, obs_dim=2)

    class Forecaster:
        def forecast(self, context, n_steps):
            z = np.concatenate([context[-1], np.zeros(2)])
            out = []
            for _ in range(n_steps):
                z = A @ z
                out.append(z[:2])
            return np.array(out)

    x = np.random.default_rng(1).standard_normal((120, 2))
    assert metrics.prediction_error(Forecaster(), x, steps=7) == pytest.approx(
        metrics.prediction_error(model, x, steps=7), rel=1e-12
    )
    with pytest.raises(TypeError, match="forecast"):
        metrics.prediction_error(object(), x)
    with pytest.raises(ValueError, match="more than steps"):
        metrics.prediction_error(model, x[:5], steps=20)


def test_smape_and_mase_exact_values():
    """sMAPE on the 0–200 scale (1 vs 3 -> 100, 0 vs 0 -> 0, sign flip -> 200); MASE of the naive forecast is 1."""
    assert metrics.smape([1.0, 0.0, 2.0], [3.0, 0.0, -2.0]) == pytest.approx((100.0 + 0.0 + 200.0) / 3)
    assert metrics.smape([1.0], [np.nan]) == 200.0
    x = np.random.default_rng(0).standard_normal((500, 2)).cumsum(0)
    assert metrics.mase(x[1:], x[:-1], train=x) == pytest.approx(1.0, rel=1e-12)
    assert metrics.mase(x, x) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        metrics.smape(np.ones((3, 2)), np.ones((4, 2)))


def test_valid_prediction_time_running_mean_rule():
    """VPT counts the leading rows whose running-mean sMAPE stays <= 30: exact index for a constructed forecast."""
    true = np.full((200, 2), 2.0)
    pred = true.copy()
    pred[50:] = -2.0  # per-step sMAPE 0 for t < 50, 200 after
    e = np.r_[np.zeros(50), np.full(150, 200.0)]
    running = np.cumsum(e) / np.arange(1, 201)
    first = int(np.argmax(running > 30.0))
    assert first == 58
    assert metrics.valid_prediction_time(true, pred, dt=0.01, lyapunov_max=0.9) == pytest.approx(58 * 0.01 * 0.9)
    assert metrics.valid_prediction_time(true, true, dt=0.01, lyapunov_max=0.9) == pytest.approx(200 * 0.009)
    with pytest.raises(ValueError, match="lyapunov_max"):
        metrics.valid_prediction_time(true, pred, dt=0.01, lyapunov_max=0.0)


# ---------------------------------------------------------------- registry


def test_registry_names_get_and_errors():
    """names() lists the pair metrics a suite may name, get() returns them (and the aliases); invariants are a
    separate list; unknown names list the valid ones."""
    assert set(metrics.names()) == {"state_space_divergence", "power_spectrum_distance", "smape", "mase",
                                    "valid_prediction_time"}
    assert set(metrics.invariant_names()) == {"prediction_error", "lyapunov_spectrum", "max_lyapunov_from_data",
                                              "correlation_dimension", "kaplan_yorke_dimension"}
    assert metrics.get("state_space_divergence") is metrics.state_space_divergence
    assert metrics.get("d_h") is metrics.power_spectrum_distance
    assert metrics.get("VPT") is metrics.valid_prediction_time
    assert metrics.get_invariant("correlation_dimension") is metrics.correlation_dimension
    assert metrics.get_invariant("pe") is metrics.prediction_error
    with pytest.raises(ValueError, match="unknown metric 'dstp'.*state_space_divergence"):
        metrics.get("dstp")
    with pytest.raises(ValueError, match="not a \\(true, generated\\) metric"):
        metrics.get("correlation_dimension")
    with pytest.raises(TypeError):
        metrics.get(3)


# ---------------------------------------------------------------- evaluate


def test_evaluate_follows_protocol(lorenz):
    """evaluate: free run of 1.25 T from test[0], first 0.25 T dropped, metrics equal to direct calls."""
    x, s = lorenz
    test = x[:2000]
    model = Linear(np.diag([0.99, 0.98, 0.97]))
    out = evaluate(model, test, dt=0.01, lyapunov_max=0.906)
    gen = dsrkit.training.generate(model, test[0], 2500)[500:]
    assert out["status"] == "ok"
    assert out["protocol"]["rollout_factor"] == 1.25 and out["protocol"]["transient_fraction"] == 0.25
    assert "1.25·T" in out["protocol"]["description"]
    assert out["state_space_divergence"] == pytest.approx(metrics.state_space_divergence(test, gen), rel=1e-12)
    assert out["power_spectrum_distance"] == pytest.approx(metrics.power_spectrum_distance(test, gen), rel=1e-12)
    assert out["prediction_error"] == pytest.approx(metrics.prediction_error(model, test), rel=1e-12)
    assert out["lyapunov_max"] == pytest.approx(np.log(0.99) / 0.01, rel=1e-6)
    assert out["valid_prediction_time"] >= 0.0 and out["test_length"] == [2000]


def test_evaluate_diverged_model_and_generator_objects(lorenz):
    """A diverging model is a result (status "diverged", D_stsp None), not an error; generate() objects work."""
    x, _ = lorenz
    out = evaluate(Linear(2.0 * np.eye(3)), x[:1000])
    assert out["status"] == "diverged" and out["state_space_divergence"] is None
    assert out["power_spectrum_distance"] is None

    class Replay:  # plays the true series back from a later point: a perfect generator of the attractor
        def generate(self, x0, n_steps):
            return x[2000 : 2000 + n_steps]

    ds = dsrkit.Dataset(np.stack([x[:1000], x[1000:2000]]), dt=0.01)
    out = evaluate(Replay(), ds, lyapunov_max=0.906)
    assert out["status"] == "ok" and out["n_trajectories"] == 2 and out["dt"] == 0.01
    gen = x[2250:3250]  # Replay ignores x0; 250 transient steps dropped
    expected = np.mean([metrics.state_space_divergence(x[:1000], gen), metrics.state_space_divergence(x[1000:2000], gen)])
    assert out["state_space_divergence"] == pytest.approx(expected, rel=1e-12) and "prediction_error" not in out
    assert out["valid_prediction_time"] >= 0.0
    with pytest.raises(ValueError, match="rollout_factor"):
        Protocol(rollout_factor=1.1)
    with pytest.raises(TypeError, match="generate"):
        evaluate(object(), x[:1000])
