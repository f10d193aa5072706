"""Seeds of one task fitted as one population (`run_suite(group_seeds=True)`, `execute_seed_group`): the runner
claims them together, one `fit_population` call serves them, each run is recorded as its own ungrouped run would
be, a failure of the common fit is every member's, and methods that cannot group run one by one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dsrkit.bench import ResultsStore, execute_run, load_suite, run_suite
from dsrkit.bench.execute import execute_seed_group, groupable

sys.path.insert(0, str(Path(__file__).parent))
from test_bench_fakes import COMPONENTS, GroupedAR, write_suite  # noqa: E402

GROUPED = '\n[[methods]]\nname = "grouped"\n[[methods]]\nname = "grouped_failing"\n'


@pytest.fixture()
def suite(tmp_path):
    return load_suite(write_suite(tmp_path / "t.toml", GROUPED), components=COMPONENTS)


def _rows(path):
    with ResultsStore(path) as db:
        return {r["run_id"]: r for r in db.rows()}


def test_grouped_seeds_are_one_population_fit_and_equal_their_own_runs(suite, tmp_path):
    """2 tasks x 3 seeds of "grouped": two fit_population calls of 3; every run's status and metrics equal
    execute_run of its configuration (fitted alone); "linear" (no fit_population) never groups; a failing
    population fit records each of its 3 runs as failed with the fit's reason; a second call re-runs nothing."""
    GroupedAR.calls.clear()
    store = tmp_path / "g.sqlite"
    summary = run_suite(suite, store=store, executor="inline", progress=False, group_seeds=True)
    assert summary.total == len(suite.runs()) == 2 * (2 + 2) * 3
    assert GroupedAR.calls == [3, 3, 3, 3]  # grouped and grouped_failing, each on two tasks
    rows = _rows(store)
    specs = {s.run_id: s for s in suite.runs()}
    for rid, row in rows.items():
        spec = specs[rid]
        if spec.method.name == "grouped":
            alone = execute_run(spec.config, COMPONENTS)
            assert row["status"] == alone["status"] == "ok" and row["metrics"] == alone["metrics"]
            assert row["timings"]["population"] == 3
        elif spec.method.name == "grouped_failing":
            assert row["status"] == "failed" and "population boom" in row["reason"]
        else:
            assert "population" not in row["timings"]
    GroupedAR.calls.clear()
    again = run_suite(suite, store=store, executor="inline", progress=False, group_seeds=True)
    assert again.skipped == summary.total and again.executed == 0 and GroupedAR.calls == []


def test_without_group_seeds_every_run_fits_alone(suite, tmp_path):
    GroupedAR.calls.clear()
    run_suite(suite.select(methods=["grouped"]), store=tmp_path / "a.sqlite", executor="inline", progress=False)
    assert GroupedAR.calls == []
    assert all(r["status"] == "ok" for r in _rows(tmp_path / "a.sqlite").values())


def test_a_group_takes_only_runs_that_differ_in_their_seed(suite):
    """execute_seed_group refuses runs of two tasks; a tuned method is not groupable."""
    runs = suite.select(methods=["grouped"]).runs()
    mixed = [r.config for r in runs if r.seed == 0]
    assert len(mixed) == 2 and mixed[0]["task"] != mixed[1]["task"]
    with pytest.raises(ValueError, match="differ only in their seed"):
        execute_seed_group(mixed, COMPONENTS)
    assert groupable(runs[0].config, COMPONENTS)
    tuned = dict(runs[0].config, method=dict(runs[0].config["method"], tune={"trials": 2}))
    assert not groupable(tuned, COMPONENTS) and not groupable(suite.select(methods=["linear"]).runs()[0].config,
                                                                COMPONENTS)
