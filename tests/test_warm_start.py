"""A shPLRNN's start fitted by ridge regression (dsrkit.training.warm_start) and its use in the search."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import dsrkit
from dsrkit import systems
from dsrkit.models import ALRNN, ShallowPLRNN
from dsrkit.reconstruction import candidates_for
from dsrkit.training.search import SPECTRUM_LENGTH, Candidate, search, validation_horizon, validation_scores
from dsrkit.training.suggest import suggest
from dsrkit.training.warm_start import check_regression_start, choose_fit, regression_start, ridge_readouts


def _pairs(step, n_pairs: int, dim: int, seed: int = 0) -> list[np.ndarray]:
    """n_pairs series of two points (x, step(x)) with x ~ N(0, I): every consecutive pair is one sample."""
    x = np.random.default_rng(seed).normal(size=(n_pairs, dim))
    return [np.stack([a, step(a)]) for a in x]


def test_ridge_readouts_recover_a_shplrnn_with_the_same_hidden_units():
    """Targets made by z' = A ⊙ z + W1 relu(W2 z + h2) + h1 with the (W2, h2) given to the fit: without ridge
    weight the fit returns A, W1 and h1 to 1e-8 (the regression is exact there)."""
    rng = np.random.default_rng(1)
    dim, hidden = 3, 12
    a, w1, h1 = rng.uniform(0.5, 0.9, dim), rng.normal(size=(dim, hidden)) * 0.3, rng.normal(size=dim) * 0.1
    w2, h2 = rng.normal(size=(hidden, dim)), rng.normal(size=hidden) * 0.5
    step = lambda z: a * z + w1 @ np.maximum(w2 @ z + h2, 0) + h1  # noqa: E731
    coef = ridge_readouts(_pairs(step, 3000, dim), w2, h2, lam=0.0)
    np.testing.assert_allclose(coef[:, 0], a, atol=1e-8)
    np.testing.assert_allclose(coef[:, 1:hidden + 1], w1, atol=1e-8)
    np.testing.assert_allclose(coef[:, -1], h1, atol=1e-8)


def test_ridge_readouts_equal_least_squares_on_the_augmented_system():
    """With weight λ the solution is the least-squares solution of [D; sqrt(λ n) I] c = [y; 0] (numpy lstsq)."""
    rng = np.random.default_rng(2)
    series = [rng.normal(size=(400, 2)), rng.normal(size=(300, 2))]
    w2, h2 = rng.normal(size=(5, 2)), rng.normal(size=5)
    lam = 1e-3
    coef = ridge_readouts(series, w2, h2, lam)
    inputs = np.concatenate([s[:-1] for s in series])
    targets = np.concatenate([s[1:] for s in series])
    feats = np.maximum(inputs @ w2.T + h2, 0)
    for i in range(2):
        design = np.column_stack([inputs[:, i], feats, np.ones(len(inputs))])
        aug = np.vstack([design, np.sqrt(lam * len(inputs)) * np.eye(design.shape[1])])
        rhs = np.concatenate([targets[:, i], np.zeros(design.shape[1])])
        np.testing.assert_allclose(coef[i], np.linalg.lstsq(aug, rhs, rcond=None)[0], rtol=1e-7, atol=1e-10)


def test_regression_start_places_every_hyperplane_on_a_training_point_and_fits_the_readouts():
    """Each hidden unit's hyperplane W2 z + h2 = 0 passes through a training point (unit normals); the read-outs
    are the ridge solution for those units; the same key gives the same model."""
    x = systems.get("lorenz63").trajectory(3000, seed=0)
    x = (x - x.mean(0)) / x.std(0)
    model = ShallowPLRNN(3, 3, 20, key=jax.random.key(0))
    start = regression_start(model, x, lam=1e-6, window=0, key=jax.random.key(5))
    w2, h2 = np.asarray(start.W2, np.float64), np.asarray(start.h2, np.float64)
    np.testing.assert_allclose(np.linalg.norm(w2, axis=1), 1.0, rtol=1e-6)
    through = np.abs(x @ w2.T + h2).min(axis=0)  # distance of the nearest training point to each hyperplane
    assert through.max() < 1e-5
    coef = ridge_readouts([x], w2, h2, 1e-6)
    np.testing.assert_allclose(np.asarray(start.A), coef[:, 0], rtol=1e-4, atol=1e-6)
    again = regression_start(model, x, lam=1e-6, window=0, key=jax.random.key(5))
    np.testing.assert_array_equal(np.asarray(again.W1), np.asarray(start.W1))


def test_regression_start_refuses_models_it_cannot_fit():
    with pytest.raises(ValueError, match="plain ShallowPLRNN"):
        check_regression_start(ALRNN(3, 8, 2, key=jax.random.key(0)))
    with pytest.raises(ValueError, match="plain ShallowPLRNN"):
        check_regression_start(ShallowPLRNN(3, 3, 10, clipped=True, key=jax.random.key(0)))
    with pytest.raises(ValueError, match="latent_dim == obs_dim"):
        check_regression_start(ShallowPLRNN(3, 5, 10, key=jax.random.key(0)))
    with pytest.raises(ValueError, match="init must be"):
        Candidate("shplrnn", {}, "adaptive_gtf", init="ridge")


def test_a_regression_start_is_the_candidates_first_checkpoint():
    """A candidate with init='regression' enters the search with its fitted start scored as a checkpoint at epoch
    0. Trained at a learning rate of 1, which wrecks it, the candidate keeps that start: best epoch 0 and the
    start's own validation score, recomputed here from `choose_fit` and `regression_start` with the same key. The
    table and the label name the start."""
    x = systems.get("lorenz63").trajectory(6000, seed=0, noise=0.05)
    x = (x - x.mean(0)) / x.std(0)
    train, val = dsrkit.Dataset([x[:4500]], 0.01), x[4500:]
    cands = [Candidate("shplrnn", {"hidden_dim": 30}, "adaptive_gtf", lr=(1.0, 1.0), seed=0, init="regression"),
             Candidate("shplrnn", {"hidden_dim": 30}, "adaptive_gtf", seed=1)]
    result = search(train, val, cands, budget=600, seq_len=50, batches_per_epoch=5, max_epochs=4)
    fitted, plain = result.candidates
    horizon = validation_horizon(len(val))
    fit = choose_fit(train, val, 30, key=jax.random.key(0), horizon=horizon)
    start = regression_start(ShallowPLRNN(3, 3, 30, key=jax.random.key(0)), train, lam=fit["lam"],
                             window=fit["window"], key=jax.random.key(0))
    assert fitted.best_epoch == 0
    assert fitted.score == pytest.approx(
        validation_scores(start, val, horizon=horizon, spectrum_length=SPECTRUM_LENGTH)["score"], rel=1e-6)
    table = {r["candidate"]: r for r in result.table()}
    assert table[0]["init"] == "regression" and table[1]["init"] == "random"
    assert "init=regression" in fitted.candidate.label() and "init" not in plain.candidate.label()


def test_mixed_starts_alternate_among_the_shplrnns_only():
    x = systems.get("lorenz63").trajectory(5000, seed=0)
    sg = suggest((x - x.mean(0)) / x.std(0), dt=0.01)
    cands = candidates_for(sg, starts="mixed")
    sh = [c for c in cands if c.model == "shplrnn"]
    assert [c.init for c in sh] == ["regression", "random"] * (len(sh) // 2)
    assert all(c.init == "random" for c in cands if c.model != "shplrnn")
    assert all(c.init == "random" for c in candidates_for(sg))
    with pytest.raises(ValueError, match="starts must be"):
        candidates_for(sg, starts="ridge")


def test_reconstruct_refuses_an_unknown_start_before_reading_the_data(tmp_path):
    """The check comes first: the file does not exist, and the error names `starts`, not the file."""
    with pytest.raises(ValueError, match="starts must be one of"):
        dsrkit.reconstruct(str(tmp_path / "missing.csv"), starts="ridge", out=tmp_path / "run", progress=False)
