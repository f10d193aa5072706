"""The fast reconstruction baselines at their DEFAULT settings must be real baselines, not straw men.

Each test fits a default `esn`, `nvar` or `sindy` on a short trajectory of a native system and scores the evaluation
protocol's free run (`dsrkit.rollout.protocol_free_run`: from the first test point, 1.25 T steps, the first 0.25 T
dropped) by D_stsp against an independent test trajectory. The thresholds are multiples of the **floor**: the D_stsp
of a third, independent trajectory of the true system of the same length against the test series, i.e. what a
perfect model scores at this length (binned D_stsp with 30³ bins is far from 0 for 5000 points: about 1.8 on
Lorenz-63, 0.7 on Rössler). A free run that collapses onto a fixed point or a cycle scores 5–15 here and a diverged
one has no score, so "below 2–2.5 × floor" separates a working model from a broken one with a wide margin, while
leaving room for seed-to-seed spread (the largest value seen over seeds 0–2 is stated per test).

The full comparison with reservoirpy and pysindy on nine dysts flows is `benchmarks/baselines_vs_reference.py`
(results in `benchmarks/results/baselines_vs_reference.md`); these tests pin the failure modes it found: the ESN's
zero start state and increment read-out (diverged on noisy Rössler), the missing noise insertion (collapsed on
clean Rössler), the unguarded ridge on short noisy data (diverged on 1000 Lorenz-63 points, the suite's --fast
setting), NG-RC diverging where a larger ridge keeps it bounded, and SINDy's fixed derivative estimate.
"""

from __future__ import annotations

import numpy as np
import pytest

import dsrkit
from dsrkit import baselines
from dsrkit.metrics import state_space_divergence
from dsrkit.rollout import protocol_free_run


def _split(system: str, n_train: int, n_test: int, noise: float = 0.0, transient: int = 1000):
    s = dsrkit.systems.get(system)
    train = s.trajectory(n_train, seed=0, noise=noise, transient=transient)
    test = s.trajectory(n_test, seed=1, transient=transient)
    floor = float(state_space_divergence(test, s.trajectory(n_test, seed=2, transient=transient)))
    return s.dt, train, test, floor


def _score(model, test) -> float | None:
    """D_stsp of the protocol free run, None if it diverged (the status says so, and the run has NaN rows)."""
    gen = protocol_free_run(model, test)
    if model.status_ != "ok" or not np.all(np.isfinite(gen)):
        return None
    return float(state_space_divergence(test, gen))


@pytest.fixture(scope="module")
def lorenz():
    return _split("lorenz63", 10_000, 5_000)


def test_esn_defaults_reconstruct_lorenz63_from_a_single_point(lorenz):
    """Clean Lorenz-63, 10 000 training points: floor 1.82; the ESN scores 0.66–1.35 over seeds 0–2."""
    dt, train, test, floor = lorenz
    m = baselines.get("esn").fit(train, dt=dt)
    d = _score(m, test)
    assert d is not None and d < 2 * floor, (d, floor)


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_esn_defaults_do_not_diverge_or_collapse_on_rossler(noise):
    """Rössler, 10 000 training points, clean and with 5 % noise: floor 0.69. The former ESN (increment read-out,
    zero start state, no noise insertion) diverged on 5 of 6 such fits, and without noise insertion the clean fits
    collapsed onto a fixed point (13.5). Now no fit diverges and the median over seeds 0–2 stays below 2.5 × floor.

    A single seed is not a stable measurement here: the fit is a ridge solve, so the CPU's BLAS rounding moves it
    slightly, and that moves the free run's attractor. Seeds 0–7 scored 0.44–2.34 (clean) and 0.49–5.74 (noisy,
    two of eight seeds above 5) on an AMD EPYC, where seeds 0–2 had scored 0.56–1.46 on the machine
    this test was written on. The median of seeds 0–2 is 1.08 (clean) and 0.89 (noisy) on the AMD machine."""
    dt, train, test, floor = _split("rossler", 10_000, 5_000, noise=noise)
    scores = [_score(baselines.get("esn").fit(train, dt=dt, seed=seed), test) for seed in (0, 1, 2)]
    assert all(d is not None for d in scores), (noise, scores)
    assert np.median(scores) < 2.5 * floor, (noise, scores, floor)


def test_esn_ridge_is_raised_only_when_the_training_free_run_leaves_the_data():
    """1000 noisy Lorenz-63 points (suite "core", --fast): with ridge 1e-6 the read-out's free run leaves the data
    (the former ESN diverged within 2 steps on seeds 0–2); the guard raises the ridge to 1e-4 and the free run stays
    bounded. On 3000 clean points the guard leaves the ridge alone."""
    dt, train, test, _ = _split("lorenz63", 1000, 1000, noise=0.05, transient=200)
    m = baselines.get("esn").fit(train, dt=dt)
    assert m.ridge_ > m.ridge
    assert _score(m, test) is not None
    dt, train, _, _ = _split("lorenz63", 3000, 320)
    assert baselines.get("esn").fit(train, dt=dt).ridge_ == 1e-6


def test_nvar_defaults_reconstruct_lorenz63(lorenz):
    """Clean Lorenz-63 (dt 0.01), Gauthier et al.'s setting: floor 1.82, NVAR 2.16 (deterministic)."""
    dt, train, test, floor = lorenz
    m = baselines.get("nvar").fit(train, dt=dt)
    d = _score(m, test)
    assert d is not None and d < 2 * floor, (d, floor)


def test_nvar_ridge_guard_keeps_a_diverging_fit_bounded():
    """1000 clean Rössler points (suite "core", --fast): NG-RC with ridge 1e-6 diverges within 10 steps (as
    reservoirpy's NVAR does); the guard raises the ridge to 1e-4 and the free run stays bounded."""
    dt, train, test, _ = _split("rossler", 1000, 1000, transient=200)
    m = baselines.get("nvar").fit(train, dt=dt)
    assert m.ridge_ > m.ridge
    assert _score(m, test) is not None


def test_sindy_defaults_select_the_derivative_estimate_and_reconstruct_lorenz63(lorenz):
    """Clean Lorenz-63: floor 1.82, SINDy 0.61. "auto" keeps the candidate with the lower training free-run D_stsp;
    an explicit estimate is used as given, without selection."""
    pytest.importorskip("pysindy")
    dt, train, test, floor = lorenz
    m = baselines.get("sindy").fit(train, dt=dt)
    assert m.selection_scores_.shape == (2,)
    assert m.differentiation_ == ("finite_difference", "smoothed")[int(np.argmin(m.selection_scores_))]
    d = _score(m, test)
    assert d is not None and d < 2 * floor, (d, floor)
    fixed = baselines.get("sindy", differentiation="smoothed").fit(train[:2000], dt=dt)
    assert fixed.differentiation_ == "smoothed" and not hasattr(fixed, "selection_scores_")


def test_esn_read_out_in_blocks_equals_one_solve(monkeypatch):
    """The normal equations accumulated block by block (any block size) give the read-out and anchors of one
    block: the memory-saving fit is the same fit."""
    from dsrkit.baselines import reservoir

    rng = np.random.default_rng(0)
    data = [np.cumsum(rng.normal(size=(230, 2)), axis=0), np.cumsum(rng.normal(size=(170, 2)), axis=0)]
    one = baselines.get("esn", units=30, warmup=10).fit(data)
    monkeypatch.setattr(reservoir, "_BLOCK", 7)
    blocks = baselines.get("esn", units=30, warmup=10).fit(data)
    np.testing.assert_allclose(blocks.W_out_, one.W_out_, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(blocks.anchor_inputs_, one.anchor_inputs_)
    np.testing.assert_allclose(blocks.anchor_states_, one.anchor_states_, atol=1e-6)


def test_esn_starts_from_the_nearest_anchor_and_reads_the_former_layout(lorenz):
    """A run starts from the state stored with the nearest anchor; a model in the layout saved before the direct
    read-out (W_out with 1 + N + M rows, no anchors) runs the increment loop from r = 0."""
    dt, train, _, _ = lorenz
    m = baselines.get("esn", units=40, warmup=10).fit(train[:2000], dt=dt)
    k = len(m.anchor_inputs_) // 2
    np.testing.assert_array_equal(m._start_state(m.anchor_inputs_[k]), m.anchor_states_[k])
    del m.anchor_inputs_, m.anchor_states_
    m.W_out_ = np.zeros((1 + m.dim_ + m.units, m.dim_), np.float32)  # increment 0: the last observation repeats
    np.testing.assert_allclose(m.forecast(train[:50], 10), np.repeat(train[49:50], 10, axis=0), rtol=1e-5)
