"""The dysts adapter's compiled path (dysts' right-hand side re-bound to jax.numpy, Diffrax Dopri8) agrees with
its SciPy DOP853 path, and falls back to SciPy where the right-hand side does not translate."""

import numpy as np
import pytest

from dsrkit import systems

pytest.importorskip("dysts")

from dsrkit.systems._dysts import CatalogueSystem, jax_rhs  # noqa: E402


def _both(s, n):
    X = s.trajectory(n, transient=0, x0=s.x0)
    CatalogueSystem.use_compiled = False
    try:
        Y = s.trajectory(n, transient=0, x0=s.x0)
    finally:
        CatalogueSystem.use_compiled = True
    return X, Y


@pytest.mark.parametrize("name", ["dysts:Lorenz", "dysts:Coullet", "dysts:AnishchenkoAstakhov"])
def test_compiled_path_matches_scipy(name):
    s = systems.get(name)
    assert jax_rhs(s) is not None  # a plain _rhs, an inherited _rhs, and a class that overrides rhs
    X, Y = _both(s, 100)
    assert X.shape == Y.shape == (100, s.dim)
    np.testing.assert_array_equal(X[0], s.x0)
    scale = np.std(Y, axis=0) + 1e-12
    assert np.max(np.abs(X - Y) / scale) < 1e-5


def test_untranslatable_rhs_falls_back_to_scipy():
    s = systems.get("dysts:BeerRNN")  # its rhs converts the state to a NumPy array: no JAX trace
    assert jax_rhs(s) is None
    X, Y = _both(s, 50)
    np.testing.assert_array_equal(X, Y)


def test_compiled_path_keeps_global_rng_and_batches():
    state = np.random.get_state()
    s = systems.get("dysts:Lorenz")
    A = s.trajectories(2, 30, transient=5, seed=3)
    assert np.array_equal(A[1], s.trajectory(30, transient=5, seed=4))
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1])


def test_scipy_solutions_are_remembered_per_process(monkeypatch):
    from dsrkit.systems import _dysts

    monkeypatch.setattr(_dysts, "_SCIPY_MEMO", __import__("collections").OrderedDict())
    s = systems.get("dysts:BeerRNN")
    A = s.trajectory(40, transient=3, seed=1)
    assert len(_dysts._SCIPY_MEMO) == 1
    A[:] = 0.0  # the caller's copy, not the remembered one
    B = systems.get("dysts:BeerRNN").trajectory(40, transient=3, seed=1)
    assert len(_dysts._SCIPY_MEMO) == 1 and np.all(B != 0.0)
    monkeypatch.setattr(_dysts, "SCIPY_MEMO_BYTES", 0)
    systems.get("dysts:BeerRNN").trajectory(40, transient=3, seed=2)
    assert len(_dysts._SCIPY_MEMO) == 1


def test_a_failed_compiled_solve_is_not_retried(monkeypatch):
    from dsrkit.systems import _dysts

    monkeypatch.setattr(_dysts, "_COMPILED_FAILED", set())
    calls = []

    def failing(self, field, start, n_samples, dt):
        calls.append(1)
        return None

    monkeypatch.setattr(CatalogueSystem, "_simulate_compiled", failing)
    s = systems.get("dysts:Lorenz")
    X = s.trajectory(30, transient=0, seed=5)
    Y = s.trajectory(30, transient=0, seed=6)
    assert len(calls) == 1 and X.shape == Y.shape == (30, 3)  # SciPy answered both
