"""D_stsp variants for high-dimensional systems ("marginal", "pca"): definitions, and that they rank models on
Lorenz-96 (N = 10), where the binned variant (what method="auto" picks at N <= 10) is flat.

The ranking check (benchmarks/l96_metric.py is its full-size version): against one true test trajectory,
  floor  — a second, independent true trajectory,
  good   — the true system at F = 7.5 instead of 8 (a slightly wrong model),
  bad    — the true system at F = 5,
  mean   — the constant mean predictor,
must come out floor < good < bad < mean, with the mean at least 5x the good model.
"""

from __future__ import annotations

import numpy as np
import pytest

import dsrkit as dsr
from dsrkit import metrics
from dsrkit.metrics.geometry import principal_axes

N_POINTS = 4000


@pytest.fixture(scope="module")
def lorenz96_rows():
    """Standardised (with the test data's statistics) Lorenz-96 N = 10 series: test, floor, good, bad, mean."""
    system = dsr.systems.get("lorenz96", n=10)
    test = system.trajectory(N_POINTS, seed=1, transient=1000)
    mu, sd = test.mean(axis=0), test.std(axis=0)
    z = lambda x: (x - mu) / sd  # noqa: E731
    rows = {
        "floor": z(system.trajectory(N_POINTS, seed=2, transient=1000)),
        "good": z(dsr.systems.get("lorenz96", n=10, F=7.5).trajectory(N_POINTS, seed=3, transient=1000)),
        "bad": z(dsr.systems.get("lorenz96", n=10, F=5.0).trajectory(N_POINTS, seed=3, transient=1000)),
        "mean": np.zeros((N_POINTS, 10)),
    }
    return z(test), rows


def scores(test, rows, **options):
    return {k: metrics.state_space_divergence(test, x, **options) for k, x in rows.items()}


def test_marginal_variant_ranks_lorenz96_models(lorenz96_rows):
    test, rows = lorenz96_rows
    v = scores(test, rows, method="marginal")
    assert v["floor"] < v["good"] < v["bad"] < v["mean"], v
    assert v["mean"] >= 5 * v["good"], v


def test_pca_variant_separates_bad_models_but_not_nearby_ones_at_this_length(lorenz96_rows):
    """900 two-dimensional bins for 4000 points: its floor (~0.44) hides the F = 7.5 model, which the marginal
    variant resolves; bad models and the mean predictor are still far apart."""
    test, rows = lorenz96_rows
    v = scores(test, rows, method="pca", components=2)
    assert max(v["floor"], v["good"]) < v["bad"] < v["mean"], v
    assert v["mean"] >= 5 * max(v["floor"], v["good"]), v


def test_binned_variant_is_flat_on_lorenz96(lorenz96_rows):
    """The reason for the variants: with 30**10 bins every point sits alone in its bin, and the constant mean
    predictor scores within 10 % of an independent true trajectory."""
    test, rows = lorenz96_rows
    v = scores(test, rows, method="binned")
    assert v["mean"] < 1.1 * v["floor"] + 1e-12, v
    assert metrics.state_space_divergence(test, rows["mean"]) == v["mean"]  # "auto" picks it at N = 10


def test_marginal_is_the_mean_of_one_dimensional_binned_divergences():
    rng = np.random.default_rng(0)
    true = rng.standard_normal((3000, 4)) * [1.0, 2.0, 0.5, 3.0]
    gen = rng.standard_normal((2000, 4)) * [1.2, 2.0, 0.4, 1.0] + [0.3, 0.0, 0.0, 1.0]
    per_dim = [metrics.state_space_divergence(true[:, d], gen[:, d], bins=20) for d in range(4)]
    res = metrics.state_space_divergence_result(true, gen, bins=20, method="marginal")
    assert res.method == "marginal"
    assert res.value == pytest.approx(np.mean(per_dim), rel=1e-12)
    inside = np.all((gen >= true.min(0) - 0.1 * true.std(0)) & (gen <= true.max(0) + 0.1 * true.std(0)), axis=1)
    assert res.in_range_fraction == pytest.approx(inside.mean())
    # one dimension: the binned variant itself
    assert metrics.state_space_divergence(true[:, :1], gen[:, :1], method="marginal") == \
        metrics.state_space_divergence(true[:, :1], gen[:, :1], method="binned")
    assert metrics.state_space_divergence(true, true, method="marginal") == 0.0


def test_pca_is_the_binned_divergence_of_the_leading_principal_projections():
    rng = np.random.default_rng(1)
    mix = rng.standard_normal((5, 5))
    true = (rng.standard_normal((4000, 5)) * [3.0, 2.0, 1.0, 0.5, 0.1]) @ mix + 7.0
    gen = (rng.standard_normal((3000, 5)) * [2.5, 2.0, 1.5, 0.5, 0.1]) @ mix + 7.2
    # reference projection by the eigenvectors of the covariance (not the SVD the metric uses)
    w, vecs = np.linalg.eigh(np.cov(true.T))
    axes = vecs[:, np.argsort(w)[::-1][:3]]
    mean = true.mean(axis=0)
    expected = metrics.state_space_divergence((true - mean) @ axes, (gen - mean) @ axes, method="binned")
    assert metrics.state_space_divergence(true, gen, method="pca", components=3) == pytest.approx(expected, rel=1e-9)
    m, ax = principal_axes(true, 3)
    assert np.allclose(np.abs(ax.T @ axes), np.eye(3), atol=1e-8)
    assert metrics.state_space_divergence(true, true, method="pca") == 0.0


def test_highdim_variants_rank_runs_outside_the_range_last():
    rng = np.random.default_rng(2)
    true = rng.standard_normal((2000, 6))
    fixed_point_inside = np.zeros((2000, 6))
    far_outside = np.full((2000, 6), 50.0)
    for options in ({"method": "marginal"}, {"method": "pca", "components": 2}):
        inside = metrics.state_space_divergence_result(true, fixed_point_inside, **options)
        outside = metrics.state_space_divergence_result(true, far_outside, **options)
        assert outside.value > inside.value, options
        assert outside.in_range_fraction == 0.0 and inside.in_range_fraction == 1.0


def test_highdim_variants_bad_input():
    x = np.random.default_rng(3).standard_normal((100, 3))
    with pytest.raises(ValueError, match="components must be at most"):
        metrics.state_space_divergence(x, x, method="pca", components=4)
    with pytest.raises(ValueError, match="components"):
        metrics.state_space_divergence(x, x, method="pca", components=0)
    with pytest.raises(ValueError, match="'marginal'"):
        metrics.state_space_divergence(x, x, method="marginals")
    bad = x.copy()
    bad[5, 1] = np.nan
    for method in ("marginal", "pca"):
        res = metrics.state_space_divergence_result(x, bad, method=method)
        assert res.diverged and np.isnan(res.value) and res.method == method
