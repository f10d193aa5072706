"""Hierarchical model, training and few-shot features (dsrkit.models.hierarchical, dsrkit.training.hierarchical)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsrkit.models import ALRNN, ShallowPLRNN
from dsrkit.models.hierarchical import HierarchicalModel
from dsrkit.training import STF
from dsrkit.training.epoch import make_optimizer
from dsrkit.training.hierarchical import (Spec, _epoch, _family_models, fit_features, series_windows,
                                          train_hierarchical)


def _randomised(model, seed=0):
    """The model with every projection and the features replaced by random numbers (so the map is not trivial)."""
    rng = np.random.default_rng(seed)
    proj = {n: jnp.asarray(rng.normal(size=p.shape), p.dtype) for n, p in model.projections.items()}
    feats = jnp.asarray(rng.normal(size=model.features.shape), model.dtype)
    return eqx.tree_at(lambda m: (m.projections, m.features), model, (proj, feats))


def test_features_map_to_parameters_and_step_as_documented_alrnn():
    h = _randomised(HierarchicalModel(ALRNN(2, 5, 2, key=jax.random.key(0)), 3, 2, key=jax.random.key(1)))
    P = {n: np.asarray(p, np.float64) for n, p in h.projections.items()}
    z = np.random.default_rng(1).normal(size=5)
    for s in range(3):
        l = np.asarray(h.features[s], np.float64)
        A = l[0] * P["A"][0] + l[1] * P["A"][1]          # θ_s = reshape(P_θ l_s), by hand
        W = l[0] * P["W"][0] + l[1] * P["W"][1]
        hb = l[0] * P["h"][0] + l[1] * P["h"][1]
        m = h.for_series(s)
        assert isinstance(m, ALRNN)
        np.testing.assert_allclose(np.asarray(m.A), A, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(m.W), W, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(m.h), hb, rtol=1e-5, atol=1e-6)
        phi = np.concatenate([z[:3], np.maximum(z[3:], 0)])  # relu on the last P = 2 units
        expected = A * z + W @ phi + hb
        np.testing.assert_allclose(np.asarray(m(jnp.asarray(z, jnp.float32))), expected, rtol=1e-4, atol=1e-5)
        stepped = h.step(jnp.asarray(z[None], jnp.float32), jnp.asarray([s]))[0]
        np.testing.assert_allclose(np.asarray(stepped), np.asarray(m(jnp.asarray(z, jnp.float32))), rtol=1e-6)
        np.testing.assert_array_equal(np.asarray(m.obs.L), np.asarray(h.group["obs.L"]))  # shared read-out


def test_features_map_to_parameters_and_step_as_documented_shplrnn():
    h = _randomised(HierarchicalModel(ShallowPLRNN(2, 4, 6, key=jax.random.key(0)), 2, 2, key=jax.random.key(1)))
    P = {n: np.asarray(p, np.float64) for n, p in h.projections.items()}
    z = np.random.default_rng(2).normal(size=4)
    l = np.asarray(h.features[1], np.float64)
    th = {n: np.tensordot(l, P[n], axes=1) for n in P}
    expected = th["A"] * z + th["W1"] @ np.maximum(th["W2"] @ z + th["h2"], 0) + th["h1"]
    m = h.for_series(1)
    assert isinstance(m, ShallowPLRNN)
    np.testing.assert_allclose(np.asarray(m(jnp.asarray(z, jnp.float32))), expected, rtol=1e-4, atol=1e-5)


def test_initialisation_starts_every_series_at_the_template():
    t = ALRNN(3, 8, 2, key=jax.random.key(0))
    h = HierarchicalModel(t, 4, 1, key=jax.random.key(1))  # K = 1: only the template column
    for s in range(4):
        np.testing.assert_allclose(np.asarray(h.for_series(s).W), np.asarray(t.W), rtol=1e-6)


def _geometric_family():
    """Series 0 is constant (A = 1), series 1 alternates (A = −1); the family's model of each is exact."""
    h = HierarchicalModel(ALRNN(1, 2, 1, key=jax.random.key(0)), 2, 2, key=jax.random.key(1))
    proj = {"A": jnp.asarray([[1.0, 1.0], [-1.0, -1.0]]), "W": jnp.zeros((2, 2, 2)), "h": jnp.zeros((2, 2))}
    h = eqx.tree_at(lambda m: (m.projections, m.features), h, (proj, jnp.eye(2)))
    t = np.arange(40)
    return h, [np.full((40, 1), 2.0), ((-1.0) ** t)[:, None]]


@pytest.mark.parametrize("swap", [False, True])
def test_the_series_index_selects_the_features_of_each_window(swap):
    h, series = _geometric_family()
    if swap:  # pair every window with the other series' features: the loss must notice
        h = h.with_features(h.features[::-1])
    flat, starts, index = series_windows(series, 5)
    params, static = eqx.partition(h, eqx.is_inexact_array)
    scheme = STF(4)
    opt = make_optimizer(None).init(params)
    out = _epoch(params, opt, scheme.init(), jax.random.key(0), jnp.asarray(0.0), jnp.asarray(0.0),
                 jnp.asarray(flat, jnp.float32), jnp.asarray(starts), jnp.asarray(index), static=static,
                 scheme=scheme, spec=Spec(5, 8, 3, False), trainable=_family_models)
    loss = float(out[4])
    assert (loss > 1.0) if swap else (loss < 1e-10)


def _tiny_series(n_series=3, n=120, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 0.2
    return [np.stack([np.sin(w * t), np.cos(w * t)], 1) + 0.01 * rng.normal(size=(n, 2))
            for w in np.linspace(0.6, 1.2, n_series)]


def test_training_on_tiny_series_reduces_the_loss():
    fit = train_hierarchical(_tiny_series(), K=2, latent_dim=4, relu_units=1, seq_len=10, epochs=8, scheme=STF(5),
                             batches_per_epoch=10, lr=(3e-2, 3e-3), input_noise=0.0, eval_every=8, eval_steps=120)
    losses = [r["loss"] for r in fit.history]
    assert losses[-1] < 0.5 * losses[0]  # measured: 0.29 -> 0.05
    assert fit.model.n_series == 3 and fit.d_stsp.shape == (3,)


def test_fit_features_changes_only_the_new_features():
    series = _tiny_series()
    h = HierarchicalModel(ALRNN(2, 4, 1, key=jax.random.key(0)), 3, 2, key=jax.random.key(1))
    before = [np.asarray(x).copy() for x in jax.tree_util.tree_leaves(h)]
    new = fit_features(h, series[1], seq_len=10, epochs=3, batches_per_epoch=5, eval_every=1)
    for a, b in zip(before, jax.tree_util.tree_leaves(h)):  # the model passed in is untouched
        np.testing.assert_array_equal(a, np.asarray(b))
    fam = new.family
    for n in h.projections:
        np.testing.assert_array_equal(np.asarray(fam.projections[n]), np.asarray(h.projections[n]))
    for n in h.group:
        np.testing.assert_array_equal(np.asarray(fam.group[n]), np.asarray(h.group[n]))
    np.testing.assert_array_equal(np.asarray(fam.features[:3]), np.asarray(h.features))
    np.testing.assert_allclose(np.asarray(fam.features[3]), new.features, rtol=1e-6)
    assert isinstance(new.model, ALRNN) and new.features.shape == (2,)


def test_bad_input_is_named():
    h = HierarchicalModel(ALRNN(2, 4, 1, key=jax.random.key(0)), 3, 2, key=jax.random.key(1))
    with pytest.raises(ValueError, match="unknown series 5.*3 series"):
        h.for_series(5)
    with pytest.raises(ValueError, match=r"shape \(K,\) = \(2,\)"):
        h.at(np.zeros(3))
    series = _tiny_series()
    with pytest.raises(ValueError, match="same number of variables"):
        train_hierarchical([series[0], np.zeros((120, 3))], K=1, epochs=1)
    with pytest.raises(ValueError, match="K=4 is larger than the number of series S=3"):
        train_hierarchical(series, K=4, epochs=1)
    with pytest.raises(ValueError, match="must be a positive integer"):
        train_hierarchical(series, K=0, epochs=1)
    with pytest.raises(ValueError, match="at least 2 series"):
        train_hierarchical(series[:1], K=1, epochs=1)
    with pytest.raises(ValueError, match="shorter than one training window of seq_len \\+ 1 = 51"):
        fit_features(h, series[0][:30], seq_len=50)
    with pytest.raises(ValueError, match=r"expected \(T, 2\)"):
        fit_features(h, np.zeros((200, 3)), seq_len=50)

