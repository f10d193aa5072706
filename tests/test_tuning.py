"""Tests of dsrkit.bench.tuning and its use by the benchmark: the split never reaches test data, every method gets
the same number of trials with its defaults among them, the best trial is what gets refitted, failing and diverging
trials score inf, and tuned runs have their own ids and keep their trial table in the store.

The runner parts use the stand-in registries of test_bench_fakes plus `SPIES` below (a linear model that records
what it was fitted on and where its free runs started)."""

from __future__ import annotations

import math
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from dsrkit.bench import (Components, InlineExecutor, ResultsStore, build_data, execute_run, load_suite, parse_suite,
                          run_suite)
from dsrkit.bench.tuning import search_space, trial_points, tune
from dsrkit.training.search import validation_scores

sys.path.insert(0, str(Path(__file__).parent))
from test_bench_fakes import LinearAR, write_suite  # noqa: E402


class Spy(LinearAR):
    """LinearAR with a search space over its ridge and its mode ("diverge": inf from step 3, "fail": fit raises);
    every fit and free run is logged in `Spy.log` as ("fit", data) / ("generate", x0) with the instance's id."""

    _search_space = {"ridge": [1e-6, 1e-2, 1.0, 100.0], "mode": ["ok", "diverge", "fail"]}
    log: list = []

    def fit(self, dataset, seed=0):
        Spy.log.append((id(self), "fit", np.array(dataset.trajectories[0])))
        return super().fit(dataset, seed)

    def generate(self, x0, n_steps):
        Spy.log.append((id(self), "generate", np.array(x0)))
        return super().generate(x0, n_steps)


class _SpyRegistry:
    def names(self):
        return ["spy", "linear"]

    def get(self, name, **params):
        return Spy(**params) if name == "spy" else LinearAR(**params)


SPIES = _SpyRegistry()
COMPONENTS = Components(systems="test_bench_fakes:systems", methods="test_tuning:SPIES",
                        metrics="test_bench_fakes:metrics")


def _series(n=600, seed=0):
    """A noisy quasi-periodic 2-D series (T, 2)."""
    t = np.arange(n) * 0.1
    r = 1 + 0.3 * np.cos(3 * t)
    x = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    return x + 0.01 * np.random.default_rng(seed).standard_normal(x.shape)


# -- the trials ------------------------------------------------------------------------------------------------------

def _tunable():
    import dsrkit.baselines as b

    return [n for n in b.names() if search_space(n)]


def test_every_tunable_baseline_gets_the_same_trial_count_with_its_defaults_first():
    """Each search space lists the class's default first; with a budget of 8 every method gets 8 distinct trials,
    the first being its defaults; a budget above the grid gives the whole grid; the draw follows the seed."""
    from dsrkit.bench.tuning import _class, _defaults

    names = _tunable()
    assert {"esn", "nvar", "sindy", "edmd", "havok", "node", "lstm", "gru"} <= set(names)
    assert not search_space("mean") and not search_space("alrnn")
    for name in names:
        space, defaults = search_space(name), _defaults(_class(name))
        assert all(values[0] == defaults[k] for k, values in space.items()), name
        points, size = trial_points(space, defaults, 8, seed=0)
        assert size == math.prod(len(v) for v in space.values()) > 8
        assert len(points) == 8 and points[0] == {k: defaults[k] for k in space}, name
        assert len({tuple(sorted(p.items())) for p in points}) == 8, name
    space, defaults = search_space("havok"), _defaults(_class("havok"))
    assert len(trial_points(space, defaults, 100, seed=0)[0]) == trial_points(space, defaults, 100, seed=0)[1] == 18
    assert trial_points(space, defaults, 5, seed=0) == trial_points(space, defaults, 5, seed=0)
    assert trial_points(space, defaults, 5, seed=0) != trial_points(space, defaults, 5, seed=1)


def test_tune_fits_trials_on_the_head_scores_on_the_tail_and_refits_on_everything():
    """Every trial is fitted on the first 80 % and free-runs from the first held-out point (then, for the basin
    check, from later held-out points only); the refit sees the whole series; the table has one row per trial and
    the defaults are trial 0."""
    X = _series()
    Spy.log.clear()
    res = tune(Spy, X, 0.1, trials=5, seed=3)
    n_fit = len(X) - 120
    assert (res.n_fit, res.n_validation, len(res.table())) == (n_fit, 120, 5)
    assert res.table()[0]["default"] and res.table()[0]["params"] == {"ridge": 1e-6, "mode": "ok"}
    refit = id(res.estimator)
    fits = [(who, data) for who, what, data in Spy.log if what == "fit"]
    starts = [(who, x0) for who, what, x0 in Spy.log if what == "generate"]
    assert len(fits) == 6 and [who for who, _ in fits][-1] == refit
    assert all(np.array_equal(data, X[:n_fit]) for who, data in fits if who != refit)
    assert np.array_equal(fits[-1][1], X)
    first = {}
    for who, x0 in starts:
        first.setdefault(who, x0)
    assert first and all(np.array_equal(x0, X[n_fit]) for x0 in first.values())
    held_out = {tuple(x) for x in X[n_fit:]}
    assert all(tuple(x0) in held_out for _, x0 in starts)


def test_the_best_trial_is_refitted_as_brute_force_over_the_grid_finds():
    """A 4-point grid (NG-RC's ridge, delays and skip fixed): tune's choice is the argmin of the validation score
    computed by hand for every grid point, and its estimator equals a fresh fit of that point on the whole
    series."""
    import dsrkit.baselines as b

    X = _series(800)
    fixed = {"delays": 2, "skip": 1}
    res = tune("nvar", X, 0.1, trials=8, seed=0, fixed_params=fixed)
    n_fit = res.n_fit
    brute = {}
    for ridge in search_space("nvar")["ridge"]:
        m = b.get("nvar", ridge=ridge, **fixed).fit(X[:n_fit], dt=0.1, seed=0)
        brute[ridge] = validation_scores(m, X[n_fit:], horizon=res.horizon)["score"]
    assert all(math.isfinite(r["val_stray"]) for r in res.table())  # scored with the check from later starts
    assert len(res.table()) == 4 and {r["params"]["ridge"]: r["score"] for r in res.table()} == pytest.approx(brute)
    best = min(brute, key=brute.get)
    assert res.params == {"ridge": best}
    again = b.get("nvar", ridge=best, **fixed).fit(X, dt=0.1, seed=0)
    np.testing.assert_array_equal(res.estimator.W_out_, again.W_out_)


class OneBasin(LinearAR):
    """LinearAR whose "stray" setting is the same model from the first start it is run from and diverges from any
    other start: a model with one good basin, as one free run sees it."""

    _search_space = {"mode": ["ok", "stray"]}

    def generate(self, x0, n_steps):
        first = self.__dict__.setdefault("first_start", np.array(x0))
        out = LinearAR(ridge=self.ridge).fit(self.data_, 0).generate(x0, n_steps)
        return out if self.mode == "ok" or np.array_equal(x0, first) else np.full_like(out, np.inf)

    def fit(self, dataset, seed=0):
        self.data_ = dataset
        return self


def test_tuning_scores_free_runs_from_later_validation_starts():
    """A setting that is good from the first validation point and diverges from every later one scores the
    basin-check penalty (val_stray: every later start of BASIN_STARTS fails; the long run's own end, the
    check's last start, does not) above the same model without the flaw; without the check (stray=False) the two
    would tie and the flawed one could be chosen."""
    from dsrkit.training.search import BASIN_STARTS

    res = tune(OneBasin, _series(), 0.1, trials=2, seed=0)
    rows = {r["params"]["mode"]: r for r in res.table()}
    assert rows["ok"]["val_stray"] == 0.0
    assert rows["stray"]["val_stray"] == pytest.approx(BASIN_STARTS / (BASIN_STARTS + 1))
    assert rows["stray"]["val_d_stsp"] == pytest.approx(rows["ok"]["val_d_stsp"])
    assert rows["stray"]["score"] > rows["ok"]["score"] and res.params == {"mode": "ok"}


def test_validation_scores_horizon_scores_a_longer_run_and_stray_adds_the_basin_check():
    """At the default horizon (1.25 T_v) the scores are the protocol's comparison (`evaluation.compare`) of the
    free run with the validation series; a longer horizon compares a longer run (another D_stsp); too short a
    horizon is an error naming the minimum; `stray=False` leaves out the basin check and its penalty."""
    import dsrkit.baselines as b
    from dsrkit.evaluation import compare
    from dsrkit.rollout import protocol_free_run
    from dsrkit.training.search import selection_score

    X = _series(800)
    m = b.get("nvar").fit(X[:600], dt=0.1)
    val = X[600:]
    ours = validation_scores(m, val)
    ref = compare(val, protocol_free_run(m, val))
    assert (ours["val_d_stsp"], ours["val_d_h"], ours["val_in_range"]) == pytest.approx(
        (ref["state_space_divergence"], ref["power_spectrum_distance"], ref["in_range_fraction"]))
    keys = ("val_d_stsp", "val_d_h", "val_in_range", "val_cycle", "val_stray")
    assert ours["score"] == pytest.approx(selection_score(*(ours[k] for k in keys)))
    plain = validation_scores(m, val, stray=False)
    assert math.isnan(plain["val_stray"])
    assert plain["score"] == pytest.approx(selection_score(*(ours[k] for k in keys[:4])))
    longer = validation_scores(m, val, horizon=2000)["val_d_stsp"]
    assert longer != pytest.approx(ours["val_d_stsp"])
    with pytest.raises(ValueError, match="horizon must leave at least the validation length 200"):
        validation_scores(m, val, horizon=240)


def test_failing_and_diverging_trials_score_inf_and_are_recorded():
    """Trials whose fit raises or whose free run diverges get score inf, their status and reason; the search goes
    on and picks a finite one. If no trial is finite the defaults are refitted and a note says so."""
    X = _series()
    res = tune(Spy, X, 0.1, trials=12, seed=0, fixed_params={"ridge": 1e-2})
    rows = {r["params"]["mode"]: r for r in res.table()}
    assert rows["diverge"]["score"] == math.inf and rows["diverge"]["status"] == "diverged"
    assert rows["fail"]["score"] == math.inf and rows["fail"]["status"] == "failed" and "boom" in rows["fail"]["reason"]
    assert math.isfinite(rows["ok"]["score"]) and res.params == {"mode": "ok"} and not res.notes
    worst = tune(Spy, X, 0.1, trials=3, fixed_params={"mode": "diverge"})
    assert worst.best == 0 and worst.table()[0]["score"] == math.inf and "no trial" in worst.notes[0]


def test_tune_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="Mean has no search space"):
        tune("mean", _series(), 0.1)
    with pytest.raises(ValueError, match="trials must be an integer >= 1"):
        tune(Spy, _series(), 0.1, trials=0)
    with pytest.raises(ValueError, match="too few"):
        tune(Spy, _series(100), 0.1)


# -- the benchmark ---------------------------------------------------------------------------------------------------

TUNED = """
[[methods]]
name = "spy"
tune = 3
"""


def test_a_tuned_run_tunes_on_training_data_only(tmp_path):
    """Through execute_run: every trial fit and free run uses the run's training data (never a test point; free runs
    start from its held-out tail), the
    refit uses all of it, each trial's free run is as long as the evaluation's, and the result carries the trial
    table."""
    suite = load_suite(write_suite(tmp_path / "t.toml", TUNED), components=COMPONENTS).select(methods=["spy-tuned"])
    spec = suite.runs()[0]
    train, test, _ = build_data(spec.config, COMPONENTS)
    Spy.log.clear()
    out = execute_run(spec.config, COMPONENTS)
    assert out["status"] == "ok" and len(out["tuning"]["table"]) == 3 and "tune_s" in out["timings"]
    assert out["tuning"]["horizon"] == 250  # each trial runs as long as the evaluation: 1.25 x 200 test points
    n_fit = out["tuning"]["n_fit"]
    logged = Spy.log[:-1]  # the last entry is the evaluation's free run from the first test point
    assert Spy.log[-1][1] == "generate" and np.array_equal(Spy.log[-1][2], test[0])
    test_rows, held_out = {tuple(row) for row in test}, {tuple(row) for row in train[n_fit:]}
    for _, what, data in logged:
        assert not ({tuple(row) for row in np.atleast_2d(data)} & test_rows)
        if what == "generate":  # the first validation point, or a later one for the basin check
            assert tuple(data) in held_out
    fits = [data for _, what, data in logged if what == "fit"]
    assert all(np.array_equal(d, train[:n_fit]) for d in fits[:-1]) and np.array_equal(fits[-1], train)


def test_tuning_is_part_of_a_runs_identity():
    """A tuned method is its own label and run ids; the untuned runs keep the ids they had without any tuning key;
    [defaults] tune tunes only methods with a search space; [fast] tune replaces the count; asking to tune a method
    without a search space is an error naming the key."""
    base = """[suite]
name = "t"
[defaults]
n_train = 1000
seeds = [0]
{defaults}
[fast]
{fast}
[[tasks]]
system = "lorenz63"
[[methods]]
name = "nvar"
[[methods]]
name = "mean"
{extra}
"""

    def runs(defaults="", fast="", extra="", is_fast=False):
        text = base.format(defaults=defaults, fast=fast, extra=extra)
        return {r.method.label: r for r in parse_suite(text, fast=is_fast).runs()}

    plain = runs()
    both = runs(extra='[[methods]]\nname = "nvar"\ntune = 8')
    assert set(both) == {"nvar", "mean", "nvar-tuned"}
    assert both["nvar"].run_id == plain["nvar"].run_id and both["nvar-tuned"].run_id != plain["nvar"].run_id
    assert both["nvar-tuned"].config["method"]["tune"] == {"trials": 8, "validation_fraction": 0.2,
                                                                "basin_check": True}
    assert runs(extra='[[methods]]\nname = "nvar"\nlabel = "x"\ntune = 4')["x"].run_id != both["nvar-tuned"].run_id
    suite_wide = runs(defaults="tune = 4")
    assert set(suite_wide) == {"nvar-tuned", "mean"} and suite_wide["mean"].run_id == plain["mean"].run_id
    fast = runs(defaults="tune = 4", fast="tune = 2", is_fast=True)
    assert fast["nvar-tuned"].config["method"]["tune"]["trials"] == 2
    assert set(runs(defaults="tune = 4", fast="tune = 0", is_fast=True)) == {"nvar", "mean"}
    with pytest.raises(ValueError, match=r"\[\[methods\]\] #3 key 'tune': method 'mean' has no search space.*nvar"):
        runs(extra='[[methods]]\nname = "mean"\nlabel = "m2"\ntune = 2')
    with pytest.raises(ValueError, match=r"\[defaults\] key 'tune': expected an integer >= 0"):
        runs(defaults="tune = -1")


def test_the_store_keeps_the_trial_table_and_resumes(tmp_path):
    """A suite with a tuned and an untuned method: the tuned rows hold the chosen values and one row per trial, the
    untuned ones none; running again executes nothing."""
    path = write_suite(tmp_path / "t.toml", TUNED + '[[methods]]\nname = "spy"\n')
    suite = load_suite(path, components=COMPONENTS).select(methods=["spy", "spy-tuned"], seeds=[0])
    store = tmp_path / "t.sqlite"
    summary = run_suite(suite, store=store, executor=InlineExecutor(), progress=False)
    assert summary.ok == summary.total == 4
    with ResultsStore(store) as db:
        rows = db.rows()
    tuned = [r for r in rows if r["method"] == "spy-tuned"]
    assert len(tuned) == 2 and all(r["tuning"]["trials"] == 3 and len(r["tuning"]["table"]) == 3 for r in tuned)
    assert all(r["tuning"]["table"][0]["default"] and "mode" in r["tuning"]["params"] for r in tuned)
    assert all(r["tuning"] is None for r in rows if r["method"] == "spy")
    again = run_suite(suite, store=store, executor=InlineExecutor(), progress=False)
    assert again.skipped == again.total == 4 and again.executed == 0


def test_a_store_written_before_the_tuning_column_gets_it(tmp_path):
    """An older store (no `tuning` column) opens, gains the column, and records a tuned run."""
    from dsrkit.bench.store import _SCHEMA

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA.replace(",\n    tuning      TEXT", ""))
        assert "tuning" not in {r[1] for r in db.execute("PRAGMA table_info(runs)")}
    with ResultsStore(path) as store:
        assert store.claim("r1", {"a": 1}, "me")
        store.finish("r1", {"status": "ok", "tuning": {"best": 0, "table": [{"score": math.inf}]}}, version="x")
        (row,) = store.rows()
    assert row["tuning"] == {"best": 0, "table": [{"score": None}]}


class _Sine:
    """A 'model' whose free run is a 2-D sine of `cycles` periods per 2000 steps (phase from its step count)."""

    def __init__(self, cycles: float):
        self.cycles = cycles

    def generate(self, x0, n_steps):
        w = 2 * np.pi * self.cycles / 2000 * np.arange(n_steps)
        return np.stack([np.sin(w + 0.3), np.cos(w + 0.3)], axis=1)


def test_validation_dh_at_a_finer_resolution_sees_a_shifted_peak_the_protocols_smoothing_hides():
    """With `spectrum_length` T_s, validation D_H is the protocol's D_H at σ · T_v / T_s bins between the validation
    series and the free run's kept part cut into T_v-long pieces (spectra averaged), checked against that formula.
    A free run whose peak sits 3 bins (of 1/T_v) off is nearly perfect at σ = 20 bins and nearly maximal at the
    resolution of 100 000 points (σ = 0.4 bins); the exact frequency stays near 0 at both."""
    from dsrkit.metrics import power_spectrum_distance

    val = _Sine(50).generate(None, 2000)
    shifted, exact = _Sine(53), _Sine(50)
    coarse = validation_scores(shifted, val, horizon=10_000, stray=False)["val_d_h"]
    fine = validation_scores(shifted, val, horizon=10_000, stray=False, spectrum_length=100_000)["val_d_h"]
    assert coarse < 0.15 and fine > 0.8
    assert validation_scores(exact, val, horizon=10_000, stray=False, spectrum_length=100_000)["val_d_h"] < 0.05
    kept = shifted.generate(None, 10_000)[2000:]
    assert fine == pytest.approx(power_spectrum_distance(val[None], kept.reshape(4, 2000, 2), 20 * 2000 / 100_000),
                                 rel=1e-12)
    # a validation series longer than T_s keeps the protocol's σ (never wider than the protocol's smoothing)
    assert validation_scores(shifted, val, horizon=10_000, stray=False, spectrum_length=1000)["val_d_h"] == \
        pytest.approx(power_spectrum_distance(val[None], kept.reshape(4, 2000, 2), 20.0), rel=1e-12)
