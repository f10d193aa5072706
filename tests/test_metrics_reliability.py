"""Metrics must not call a wrong result good: free runs that leave the data's range rank last in D_stsp (case 6),
and evaluation refuses test series too short for its metrics to mean anything (case 8)."""

import numpy as np
import pytest

import dsrkit
from dsrkit import metrics
from dsrkit.evaluation import Protocol, evaluate
from dsrkit.metrics import geometry

ALPHA = 1e-5


@pytest.fixture(scope="module")
def lorenz():
    """Standardised Lorenz-63 series, 10 000 × 3 (dt 0.01)."""
    x = dsrkit.systems.get("lorenz63").trajectory(10_000, seed=0)
    return (x - x.mean(0)) / x.std(0)


class Replay:
    """A generator that ignores x0 and plays back a fixed series; records how often it was asked."""

    def __init__(self, series):
        self.series, self.calls = series, 0

    def generate(self, x0, n_steps):
        self.calls += 1
        return self.series[:n_steps]


def published_dstsp(true, gen, bins=30, alpha=ALPHA):
    """The published binned D_stsp (histograms normalised by the points in range), via numpy.histogramdd."""
    sd = true.std(0)
    rng = list(zip(true.min(0) - 0.1 * sd, true.max(0) + 0.1 * sd))
    ht, _ = np.histogramdd(true, bins=bins, range=rng)
    hg, _ = np.histogramdd(gen, bins=bins, range=rng)
    k = bins ** true.shape[1]
    pt, pg = (ht + alpha) / (ht.sum() + alpha * k), (hg + alpha) / (hg.sum() + alpha * k)
    return float(np.sum(pt * np.log(pt / pg)))


def all_points_dstsp(true, gen, bins=30, alpha=ALPHA):
    """The binned D_stsp with out-of-range generated points counted as missing mass, via numpy.histogramdd."""
    sd = true.std(0)
    rng = list(zip(true.min(0) - 0.1 * sd, true.max(0) + 0.1 * sd))
    ht, _ = np.histogramdd(true, bins=bins, range=rng)
    hg, _ = np.histogramdd(gen, bins=bins, range=rng)
    k = bins ** true.shape[1]
    pt, pg = (ht + alpha) / (len(true) + alpha * k), (hg + alpha) / (len(gen) + alpha * k)
    return float(np.sum(pt * np.log(pt / pg)))


def true_entropy(true, bins=30, alpha=ALPHA):
    sd = true.std(0)
    ht, _ = np.histogramdd(true, bins=bins, range=list(zip(true.min(0) - 0.1 * sd, true.max(0) + 0.1 * sd)))
    pt = (ht + alpha) / (len(true) + alpha * bins ** true.shape[1])
    return float(-np.sum(pt * np.log(pt)))


# ---------------------------------------------------------------- case 6: out-of-range free runs rank last


def test_case06_dstsp_ranks_free_run_entirely_out_of_range_last(lorenz):
    """X + 100 (no point in range) scores worse than a fixed point inside the range (it scored 3.56 against
    14.06 when out-of-range points were dropped) and than every in-range run; its value is the smoothing floor's:
    log((G + alpha·bins^N) / alpha) − H(p_true)."""
    x = lorenz
    far = metrics.state_space_divergence_result(x, x + 100.0)
    assert far.in_range_fraction == 0.0 and not far.diverged
    k = 30.0**3
    assert far.value == pytest.approx(np.log((len(x) + ALPHA * k) / ALPHA) - true_entropy(x), rel=1e-10)
    fixed_point = np.tile(x[0], (len(x), 1))  # a constant on the attractor
    centre = np.tile(x.mean(0), (len(x), 1))  # a constant in the hole between the wings
    for gen in (fixed_point, centre, 1.5 * x, -x, x[::-1] * 0.5 + 0.3):
        res = metrics.state_space_divergence_result(x, gen)
        assert res.in_range_fraction > 0.0
        assert res.value < far.value, (res.value, far.value)
    assert metrics.state_space_divergence(x, fixed_point) < far.value - 0.01
    assert metrics.state_space_divergence(x, x * 1e12) > metrics.state_space_divergence(x, fixed_point)


def test_dstsp_keeps_published_value_for_in_range_runs(lorenz):
    """Every generated point in range: the value is exactly the published one (normalised by the points in range)."""
    x = lorenz
    for gen in (0.9 * x[5000:], x[:3000] + 0.05, np.tile(x[0], (500, 1))):
        res = metrics.state_space_divergence_result(x[:5000], gen)
        assert res.in_range_fraction == 1.0
        assert res.value == pytest.approx(published_dstsp(x[:5000], gen), rel=1e-10)


def test_case06_dstsp_counts_mass_that_leaves_the_range(lorenz):
    """Moving generated points out of range raises D_stsp strictly (when dropped, half a run far away scored as
    well as the half that stayed, better than a 10 % rescaled full run); in_range_fraction reports the share."""
    x, gen = lorenz[:5000], lorenz[5000:].copy()
    values, fractions = [], []
    for n_out in (0, 1, 100, 2500, 4999):
        g = gen.copy()
        g[:n_out] += 100.0
        res = metrics.state_space_divergence_result(x, g)
        values.append(res.value)
        fractions.append(res.in_range_fraction)
    assert np.all(np.diff(values) > 0), values
    assert fractions[0] > 0.99 and np.all(np.diff(fractions) < 0) and fractions[-1] <= 1 / len(gen), fractions
    half_out = values[3]
    assert half_out > metrics.state_space_divergence(x, 1.1 * gen)
    assert half_out > metrics.state_space_divergence(x, gen[2500:]) + 0.5


def test_case06_dstsp_sparse_histogram_counts_out_of_range_mass(monkeypatch, lorenz):
    """The sparse histogram path (large bins^N) and the dense one both normalise by all generated points: equal to
    numpy.histogramdd with p_gen = (h_gen + alpha) / (G_all + alpha·bins^N)."""
    x = lorenz[:3000]
    g = lorenz[3000:6000].copy()
    g[:1000] += 50.0
    gens = (g, x + 100.0)
    expected = [all_points_dstsp(x, gen, bins=12) for gen in gens]
    dense = [metrics.state_space_divergence(x, gen, bins=12) for gen in gens]
    monkeypatch.setattr(geometry, "_DENSE_LIMIT", 10)
    sparse = [metrics.state_space_divergence(x, gen, bins=12) for gen in gens]
    assert dense == pytest.approx(expected, rel=1e-10)
    assert sparse == pytest.approx(expected, rel=1e-10)


def test_case06_gmm_ranks_far_out_of_range_run_last():
    """GMM variant (N = 12): a run 100 units away ranks below a constant and an independent sample, also when the
    data lie around 1e12 (the squared distances used to cancel there and the far run scored ≈ 0)."""
    rng = np.random.default_rng(0)
    true, other = rng.standard_normal((2000, 12)), rng.standard_normal((2000, 12))
    for offset in (0.0, 1e6, 1e12):
        t = true + offset
        res = metrics.state_space_divergence_result(t, t + 100.0)
        assert res.method == "gmm"
        near = metrics.state_space_divergence(t, other + offset)
        const = metrics.state_space_divergence(t, np.full((500, 12), offset))
        # same as without the offset, up to the data's own rounding at 1e12 (1e-4 absolute)
        assert near == pytest.approx(metrics.state_space_divergence(true, other), rel=1e-4)
        assert res.value > 1000.0 * max(near, const), (offset, res.value, near, const)
    assert metrics.state_space_divergence(true, true * 1e12 + 1e12) > 1e20


def test_case06_evaluate_on_test_data_far_from_the_model_is_no_better_than_matching(lorenz):
    """Test data around 1e12 and a generator that stays on the standardised attractor: `evaluate` reports
    in_range_fraction 0 and a D_stsp worse than the same generator on matching test data (it was better)."""
    x = lorenz
    gen = Replay(x[2000:])
    matching = evaluate(gen, x[:1000])
    far = evaluate(gen, x[:1000] + 1e12)
    assert matching["in_range_fraction"] > 0.9 and far["in_range_fraction"] == 0.0
    assert far["state_space_divergence"] > matching["state_space_divergence"] + 5.0
    inside = evaluate(Replay(np.tile(x[0], (2000, 1))), x[:1000])  # a fixed point on the attractor
    assert far["state_space_divergence"] > inside["state_space_divergence"]


# ---------------------------------------------------------------- case 8: too-short test series are refused


def test_case08_evaluate_refuses_test_series_shorter_than_protocol_minimum(lorenz):
    """2-, 5- and 319-point test series (D_H ≈ 0, "perfect", on them) raise a ValueError naming the minimum (320)
    and the length given, before the model runs; 320 points are evaluated."""
    x = lorenz
    for t in (2, 5, 100, 319):
        gen = Replay(x[2000:])
        with pytest.raises(ValueError, match=rf"has {t} points.*at least 320"):
            evaluate(gen, x[:t])
        assert gen.calls == 0
    assert Protocol().min_test_length == 320
    out = evaluate(Replay(x[2000:]), x[:320])
    assert out["status"] == "ok" and out["test_length"] == [320]
    assert out["protocol"]["min_test_length"] == 320
    with pytest.raises(ValueError, match=r"test series 1 has 5 points.*at least 320"):
        evaluate(Replay(x[2000:]), dsrkit.Dataset([x[:1000], x[1000:1005]], dt=0.01))
    with pytest.raises(ValueError, match=r"has 50 points.*at least 320"):
        evaluate(Replay(x[2000:]), np.stack([x[:50], x[50:100]]))


def test_case08_minimum_follows_the_protocol_settings(lorenz):
    """min_test_length = max(4 · int(4 sigma + 0.5), pe_steps + 1, 2): the D_H kernel must fit in the spectrum."""
    with pytest.raises(ValueError, match=r"has 79 points.*at least 80"):
        evaluate(Replay(lorenz[2000:]), lorenz[:79], Protocol(smoothing=5.0))
    with pytest.raises(ValueError, match=r"has 50 points.*at least 51.*PE\(50\)"):
        evaluate(Replay(lorenz[2000:]), lorenz[:50], Protocol(smoothing=2.0, pe_steps=50))
    out = evaluate(Replay(lorenz[2000:]), lorenz[:80], Protocol(smoothing=5.0))
    assert out["status"] == "ok"
    assert Protocol(smoothing=5.0).min_test_length == 80
    assert Protocol(smoothing=0.0).min_test_length == 21
    assert Protocol(smoothing=0.0, pe_steps=0).min_test_length == 2
    assert Protocol(smoothing=2.0, pe_steps=50).min_test_length == 51
    with pytest.raises(ValueError, match="smoothing"):
        Protocol(smoothing=-1.0)


def test_d_h_cannot_tell_models_apart_below_the_minimum(lorenz):
    """Why 320: below the kernel's span D_H of white noise against Lorenz-63 is ≈ 0; at the minimum it is not."""
    x = lorenz
    noise = np.random.default_rng(0).standard_normal((1000, 3))
    assert metrics.power_spectrum_distance(x[:20], noise[:20]) < 1e-3
    assert metrics.power_spectrum_distance(x[:320], noise[:320]) > 0.5
