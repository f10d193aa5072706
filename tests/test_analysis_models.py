"""dsrkit.analysis wired to the dsrkit models (region_code / region_affine / __call__), the summaries and the
interpretation figures. Tests that set float64 parameters by hand ask for the `x64` fixture."""

import itertools
import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from matplotlib.figure import Figure

from dsrkit.analysis import (
    analyze,
    attractor_summary,
    cycles,
    fixed_points,
    infer_latent,
    symbolic_graph,
)
from dsrkit.models import ALRNN, PLRNN, DendPLRNN, ShallowPLRNN


def _with(model, **params):
    names = list(params)
    return eqx.tree_at(lambda m: tuple(getattr(m, n) for n in names), model,
                       tuple(jnp.asarray(params[n], jnp.float64) for n in names))


def _shplrnn_brute_force(a, W1, W2, h1, h2):
    """Fixed points of z' = a z + W1 relu(W2 z + h2) + h1 by enumerating all 2^H hidden sign patterns."""
    H = h2.size
    found = []
    for d in itertools.product([0, 1], repeat=H):
        d = np.array(d, float)
        J = np.diag(a) + W1 @ np.diag(d) @ W2
        c = h1 + W1 @ (d * h2)
        try:
            z = np.linalg.solve(np.eye(a.size) - J, c)
        except np.linalg.LinAlgError:
            continue
        if np.array_equal((W2 @ z + h2 > 0).astype(float), d):
            found.append(z)
    return found


def test_fixed_points_of_model_classes_match_brute_force(x64):
    """PLRNN and shPLRNN models (float64 parameters set by hand): fixed points through the model contract equal
    an independent enumeration from the defining equations (1e-9), for 6 random models each."""
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        M = 4
        a, h = rng.uniform(-0.9, 0.9, M), rng.normal(0, 1, M)
        W = rng.normal(0, 1.2, (M, M)) / np.sqrt(M)
        np.fill_diagonal(W, 0.0)
        model = _with(PLRNN(2, M, key=jax.random.key(0), dtype=jnp.float64), A=a, W=W, h=h)
        got = fixed_points(model)
        ref = [z for d in itertools.product([0, 1], repeat=M)
               for z in [np.linalg.solve(np.eye(M) - np.diag(a) - W * np.array(d)[None], h)]
               if np.array_equal((z > 0).astype(int), np.array(d))]
        assert len(got) == len(ref)
        for z in ref:
            assert any(np.allclose(f.points[0], z, atol=1e-9) for f in got)

        H = 5
        W1, W2 = rng.normal(0, 1, (M, H)), rng.normal(0, 1, (H, M))
        h1, h2 = rng.normal(0, 1, M), rng.normal(0, 1, H)
        model = _with(ShallowPLRNN(2, M, H, key=jax.random.key(0), dtype=jnp.float64),
                      A=a, W1=W1, W2=W2, h1=h1, h2=h2)
        got = fixed_points(model)
        ref = _shplrnn_brute_force(a, W1, W2, h1, h2)
        assert len(got) == len(ref)
        for z in ref:
            assert any(np.allclose(f.points[0], z, atol=1e-9) for f in got)
        for f in got:  # verified under the model's own step
            np.testing.assert_allclose(np.asarray(model(jnp.asarray(f.points[0]))), f.points[0], atol=1e-9)


def test_dendplrnn_and_float32_models_give_true_fixed_points_and_cycles():
    """A clipped dendPLRNN (float32, as trained) and a float32 shPLRNN: every reported fixed point and 2-cycle
    maps onto itself under the model's own float32 step (tolerance 1e-4 relative)."""
    key = jax.random.key(3)
    dend = DendPLRNN(2, 3, 1, key=key)
    dend = eqx.tree_at(lambda m: m.W, dend, 2.0 * jax.random.normal(key, (3, 3), jnp.float32))
    sh = ShallowPLRNN(2, 3, 6, key=key)
    sh = eqx.tree_at(lambda m: m.W1, sh, 3.0 * sh.W1)
    for model in (dend, sh):
        objs = fixed_points(model) + cycles(model, 2, seed=0)
        for c in objs:
            pts = jnp.asarray(c.points, jnp.float32)
            nxt = np.asarray(jax.vmap(model)(pts))
            np.testing.assert_allclose(nxt, np.roll(c.points, -1, axis=0), atol=1e-4 * (1 + np.abs(c.points).max()))


def skew_tent_alrnn(dtype=jnp.float64):
    """AL-RNN (N = 1, M = 2, P = 1): z2' = 1 + 1.8 z2 - 3.6 relu(z2) (skew tent, |slope| 1.8), z1' = 0.3 z1 +
    relu(z2). Its Jacobians are upper triangular with diagonal (0.3, +-1.8), so the Lyapunov spectrum is exactly
    (ln 1.8, ln 0.3) per step."""
    m = ALRNN(1, 2, 1, key=jax.random.key(0), dtype=dtype)
    return eqx.tree_at(lambda m: (m.A, m.W, m.h), m, (jnp.array([0.3, 1.8], dtype),
                                                      jnp.array([[0.0, 1.0], [0.0, -3.6]], dtype),
                                                      jnp.array([0.0, 1.0], dtype)))


def test_attractor_summary_of_skew_tent(x64):
    """Lyapunov spectrum (ln 1.8, ln 0.3) to 1e-9 per step and /dt per time unit; both subregions visited;
    its two fixed points are saddles."""
    m = skew_tent_alrnn()
    s = attractor_summary(m, 3000, np.array([0.2]), dt=0.5, transient=100)
    assert s["status"] == "ok"
    np.testing.assert_allclose(s["lyapunov"]["spectrum_per_step"], [np.log(1.8), np.log(0.3)], atol=1e-9)
    np.testing.assert_allclose(s["lyapunov"]["spectrum_per_time"], np.array([np.log(1.8), np.log(0.3)]) / 0.5,
                               atol=1e-8)
    assert s["n_subregions"] == 2
    assert s["fixed_point_types"] == {"saddle node": 2}
    json.dumps(s)


def test_analyze_and_figures_on_skew_tent():
    """`analyze` returns a JSON-serialisable dict with the documented keys; on this model both sequences use
    both subregions; the figures are matplotlib Figures and describe() mentions the counts."""
    from dsrkit.report import interpretation
    from dsrkit.training import generate

    m = skew_tent_alrnn(jnp.float32)
    X = generate(m, np.array([0.2]), 1200, dtype=np.float64)[200:]
    r = analyze(m, X, dt=0.01, max_cycle_period=3, seed=0, n_lyapunov=2000)
    json.dumps(r)
    for key in ("n_subregions", "n_subregions_data", "fixed_points", "cycles", "lyapunov", "entropy_rate"):
        assert key in r
    assert r["status"] == "ok" and r["n_subregions"] == 2 and r["n_subregions_data"] == 2
    assert len(r["fixed_points"]) == 2 and set(r["cycles"]) == {"2", "3"}
    assert 0.0 < r["entropy_rate"] <= np.log(2) + 1e-12
    figs = interpretation.report_figures(m, X, r)
    assert set(figs) == {"subregions", "symbolic_graph", "fixed_points"}
    assert all(isinstance(f, Figure) and isinstance(cap, str) for f, cap in figs.values())
    assert "2 fixed point(s)" in interpretation.describe(r)
    assert interpretation.report_tables(r)


def test_symbolic_graph_from_observations_forces_read_out_units(x64):
    """With the identity observation, forced inference puts the data into the first N latent units exactly,
    and the graph built from observations equals the one built from those latent states."""
    m = ALRNN(2, 5, 3, key=jax.random.key(1), dtype=jnp.float64)
    m = eqx.tree_at(lambda m: m.W, m, 0.5 * jax.random.normal(jax.random.key(2), (5, 5), jnp.float64))
    X = np.random.default_rng(0).normal(size=(300, 2))
    Z = infer_latent(m, X)
    np.testing.assert_array_equal(Z[:, :2], X)
    G1, G2 = symbolic_graph(m, X), symbolic_graph(m, Z)
    assert sorted(G1.edges(data="probability")) == sorted(G2.edges(data="probability"))
    for node in G1.nodes:
        J, c = m.region_affine(jnp.asarray([int(b) for b in G1.nodes[node]["code"]]))
        np.testing.assert_allclose(G1.nodes[node]["J"], np.asarray(J), atol=0)
    probs = {}
    for i, j, p in G1.edges(data="probability"):
        probs[i] = probs.get(i, 0.0) + p
    assert all(abs(v - 1.0) < 1e-12 for v in probs.values())  # rows of P sum to 1


def test_bad_inputs_raise(x64):
    m = skew_tent_alrnn()
    with pytest.raises(ValueError, match="shape"):
        analyze(m, np.zeros((50, 3)))
    with pytest.raises(ValueError, match="NaN"):
        analyze(m, np.full((50, 1), np.nan))
    with pytest.raises(ValueError, match="latent states"):
        symbolic_graph(m, np.zeros((10, 4)), latent=True)
    with pytest.raises(ValueError, match="dt"):
        attractor_summary(m, 100, np.zeros(1), dt=-1.0)
