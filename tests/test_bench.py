"""Tests of dsrkit.bench: suite parsing and errors, run ids, the store's claim protocol, the runner (failures,
timeouts, crashes, SIGKILL and resume, concurrent runners, Ray vs local), the leaderboard and the HTML report.

The runner is tested on its own with the stand-in registries of test_bench_fakes (the `Components` hook), so these
tests do not depend on the real systems, baselines or metrics."""

from __future__ import annotations

import dataclasses
import json
import math
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dsrkit.bench import (Components, LocalExecutor, ResultsStore, execute_run, load_suite, parse_suite, report,
                          results, run_suite, summarize)
from dsrkit.bench.store import new_owner

sys.path.insert(0, str(Path(__file__).parent))
from test_bench_fakes import COMPONENTS, wait_for, write_suite  # noqa: E402

TESTS = Path(__file__).parent
REPO = TESTS.parent
SUITES = REPO / "src" / "dsrkit" / "suites"
EXTRA = """
[[methods]]
name = "failing"
[[methods]]
name = "diverging"
[[methods]]
name = "status_diverged"
"""


@pytest.fixture(scope="module")
def executor():
    """Two worker processes shared by the tests of this module (spawning one costs seconds of imports)."""
    ex = LocalExecutor(2)
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def ran(tmp_path_factory, executor):
    """The tiny suite with a failing, a diverging and a self-reported diverged method, run once."""
    d = tmp_path_factory.mktemp("ran")
    suite = load_suite(write_suite(d / "tiny.toml", EXTRA), components=COMPONENTS)
    summary = run_suite(suite, store=d / "tiny.sqlite", executor=executor, progress=False)
    return suite, d / "tiny.sqlite", summary


def _rows(path):
    with ResultsStore(path) as db:
        return {r["run_id"]: r for r in db.rows()}


# -- suites ----------------------------------------------------------------------------------------------------------

def test_suite_expands_tasks_grid_and_seeds_and_fast_overrides(tmp_path):
    """2 tasks x (2 grid points + 1) x 3 seeds; [fast] and a method's `fast` overrides replace lengths, seeds and a
    gridded parameter; names default to system + noise suffix."""
    text = write_suite(tmp_path / "s.toml", '[[methods]]\nname = "sleepy"\nparams = { sleep = 1.0 }\nfast = { sleep = 0.0 }\n'
                       '[fast]\nn_train = 100\nseeds = 1\n')
    s = load_suite(text, components=COMPONENTS)
    assert [t.name for t in s.tasks] == ["osc", "osc-noise5"]
    assert [m.label for m in s.methods] == ["linear(ridge=1e-06)", "linear(ridge=0.01)", "sleepy"]
    assert len(s.runs()) == 2 * 3 * 3 and len({r.run_id for r in s.runs()}) == 18
    f = load_suite(text, fast=True, components=COMPONENTS)
    assert all(t.n_train == 100 and t.seeds == (0,) and t.n_test == 200 for t in f.tasks)
    assert f.methods[2].params_for("osc") == {"sleep": 0.0} and s.methods[2].params_for("osc") == {"sleep": 1.0}
    assert len(f.runs()) == 2 * 3


def test_per_task_parameters_apply_to_matching_tasks_and_fast_overrides_win(tmp_path):
    p = write_suite(tmp_path / "p.toml", '[[methods]]\nname = "sleepy"\nparams = { sleep = 1.0, ridge = 1.0 }\n'
                    'per_task = { "*noise*" = { sleep = 2.0, ridge = 3.0 } }\nfast = { sleep = 0.0 }\n')
    got = {(r.task.name, r.method.label): r.config["method"]["params"] for r in load_suite(p, components=COMPONENTS).runs()}
    assert got[("osc", "sleepy")] == {"sleep": 1.0, "ridge": 1.0}
    assert got[("osc-noise5", "sleepy")] == {"sleep": 2.0, "ridge": 3.0}
    fast = {(r.task.name, r.method.label): r.config["method"]["params"] for r in load_suite(p, fast=True, components=COMPONENTS).runs()}
    assert fast[("osc-noise5", "sleepy")] == {"sleep": 0.0, "ridge": 3.0}
    with pytest.raises(ValueError, match=r"\[\[methods\]\] #2 key 'per_task': TypeError"):
        load_suite(write_suite(tmp_path / "q.toml", '[[methods]]\nname = "sleepy"\nper_task = { "*" = { slep = 1 } }\n'),
                   components=COMPONENTS)


def test_run_id_is_stable_ignores_cosmetics_and_tracks_settings(tmp_path):
    """Same file parsed twice: same ids; renaming a task keeps them; changing noise or a method parameter changes
    exactly the affected runs' ids."""
    base = load_suite(write_suite(tmp_path / "a.toml"), components=COMPONENTS)
    again = load_suite(write_suite(tmp_path / "b.toml"), components=COMPONENTS)
    assert [r.run_id for r in base.runs()] == [r.run_id for r in again.runs()]
    renamed = load_suite(write_suite(tmp_path / "c.toml", **{'system = "osc"\nnoise': 'name = "x"\nsystem = "osc"\nnoise'}),
                         components=COMPONENTS)
    assert {r.run_id for r in renamed.runs()} == {r.run_id for r in base.runs()}
    noisier = load_suite(write_suite(tmp_path / "d.toml", **{"noise = 0.05": "noise = 0.1"}), components=COMPONENTS)
    changed = {r.run_id for r in noisier.runs()} - {r.run_id for r in base.runs()}
    assert len(changed) == 6  # the noisy task's 2 grid points x 3 seeds
    assert all(len(r.run_id) == 64 for r in base.runs())


GOOD = """[suite]
name = "t"

[defaults]
metrics = ["mean_gap", "std_gap"]

[[tasks]]
system = "osc"
seeds = [0]

[[tasks]]
system = "osc"
noise = 0.1

[[methods]]
name = "linear"
"""


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("noise = 0.1", "noise = 'x'", "s.toml:13: [[tasks]] #2 key 'noise': expected a number >= 0, got 'x'"),
        ("noise = 0.1", "noise = -1", "s.toml:13: [[tasks]] #2 key 'noise': expected a number >= 0, got -1"),
        ("seeds = [0]", "seeds = [0, -2]", "s.toml:9: [[tasks]] #1 key 'seeds': expected a list of integers"),
        ("seeds = [0]", "sedes = [0]", "s.toml:9: [[tasks]] #1 key 'sedes': unknown key"),
        ("noise = 0.1", "n_train = 1.5", "s.toml:13: [[tasks]] #2 key 'n_train': expected an integer > 0, got 1.5"),
        ('name = "linear"', 'name = "lineer"', "s.toml:16: [[methods]] #1 key 'name': unknown method 'lineer'"),
        ('system = "osc"\nseeds', 'system = "lorenz"\nseeds', "s.toml:8: [[tasks]] #1 key 'system': unknown system 'lorenz'"),
        ('system = "osc"\nseeds', 'seeds', "s.toml:7: [[tasks]] #1: expected exactly one of 'system', 'systems'"),
        ('name = "linear"', 'name = "linear"\ngrid = { ridge = 3 }', "s.toml:17: [[methods]] #1 key 'grid': grid entry 'ridge'"),
        ('name = "linear"', 'params = {}', "s.toml:15: [[methods]] #1: missing required key 'name'"),
        ('name = "t"', 'name = "t"\ncolour = 1', "s.toml:3: [suite] key 'colour': unknown key"),
        ("seeds = [0]", "seeds = [0]\nmetrics = ['mse']", "s.toml:10: [[tasks]] #1 key 'metrics': unknown metric 'mse'"),
        ('name = "linear"', 'name = "linear"\nparams = { ridg = 1 }', "s.toml:17: [[methods]] #1 key 'params': TypeError"),
        ('system = "osc"\nseeds', 'system = "osc"\nparams = { omga = 2 }\nseeds', "s.toml:9: [[tasks]] #1 key 'params': TypeError"),
        ("noise = 0.1", "noise = 0.1\nprotocol = 'teacher'", "s.toml:14: [[tasks]] #2 key 'protocol': expected one of 'free_run'"),
    ],
)
def test_malformed_suite_errors_name_line_and_key(old, new, expected):
    """Each bad value gets a ValueError that starts with file:line and names the table entry and key."""
    assert old in GOOD
    parse_suite(GOOD, name="s.toml", components=COMPONENTS)  # the unmodified suite is valid
    with pytest.raises(ValueError) as e:
        parse_suite(GOOD.replace(old, new, 1), name="s.toml", components=COMPONENTS)
    assert str(e.value).startswith(expected), str(e.value)


def test_toml_syntax_error_carries_line():
    with pytest.raises(ValueError, match=r"s.toml: invalid TOML: .*line 13"):
        parse_suite(GOOD.replace("noise = 0.1", "noise = = 0.1"), name="s.toml", components=COMPONENTS)


def test_shipped_suites_parse():
    """src/dsrkit/suites/core.toml: 10 tasks (5 systems, clean and 5 % noise), fast settings shrink lengths and seeds;
    src/dsrkit/suites/catalogue.toml parses. Names are checked against the real registries where they can list them."""
    core = load_suite(SUITES / "core.toml", check_names=False)
    assert len(core.tasks) == 10 and sorted({t.noise for t in core.tasks}) == [0.0, 0.05]
    fast = load_suite(SUITES / "core.toml", fast=True, check_names=False)
    assert all(f.n_train < c.n_train and len(f.seeds) < len(c.seeds) for f, c in zip(fast.tasks, core.tasks))
    assert len(fast.runs()) <= 40 < len(core.runs())


def test_shipped_suites_are_found_by_name(tmp_path, monkeypatch):
    """`load_suite("core")` (and "core.toml") reads the suite installed with the package, from any working
    directory; a file of that name in the working directory comes first; an unknown name lists the shipped ones."""
    from dsrkit.bench import find_suite, suite_names

    monkeypatch.chdir(tmp_path)
    assert {"core", "catalogue"} <= set(suite_names())
    assert find_suite("core") == find_suite("core.toml") == SUITES.resolve() / "core.toml"
    assert load_suite("core", check_names=False).name == "core"
    own = write_suite(tmp_path / "core.toml", "")
    assert find_suite("core.toml") == Path("core.toml") and Path(own).exists()
    with pytest.raises(ValueError, match=r"nosuch: no such suite file.*core"):
        find_suite("nosuch")
    with pytest.raises(ValueError, match="no such suite file"):
        find_suite("elsewhere/core.toml")  # a path is never read as a name


def test_catalogue_suite_expands_every_catalogue_flow():
    """The 'dysts:*' glob gives one task per catalogue flow listed by dsrkit.systems.catalogue_names()."""
    pytest.importorskip("dysts")
    import dsrkit.systems

    cat = load_suite(SUITES / "catalogue.toml")
    assert [t.system for t in cat.tasks] == sorted(dsrkit.systems.catalogue_names()) and len(cat.tasks) > 100


def test_fast_selectors_pick_tasks_and_methods(tmp_path):
    """[fast] tasks / methods run only the named subset under --fast; unknown names are errors naming the key."""
    p = write_suite(tmp_path / "f.toml", '[fast]\ntasks = ["osc-noise5"]\nmethods = ["linear(ridge=0.01)"]\n')
    f = load_suite(p, fast=True, components=COMPONENTS)
    assert [(r.task.name, r.method.label) for r in f.runs()] == [("osc-noise5", "linear(ridge=0.01)")] * 3
    assert len(load_suite(p, components=COMPONENTS).runs()) == 12
    bad = write_suite(tmp_path / "g.toml", '[fast]\ntasks = ["lorenz"]\n')
    with pytest.raises(ValueError, match=r"g.toml:\d+: \[fast\] key 'tasks': unknown task 'lorenz'"):
        load_suite(bad, fast=True, components=COMPONENTS)


def test_select_slices_a_suite_keeping_run_ids(tmp_path):
    """Suite.select keeps exactly the named tasks, methods (by name or label) and seeds, with the run ids of the
    whole suite (so a slice fills the same store); unknown names and absent seeds are errors naming them."""
    p = write_suite(tmp_path / "s.toml", "")
    full = load_suite(p, components=COMPONENTS)
    part = full.select(tasks=["osc-noise5"], methods=["linear(ridge=0.01)"], seeds=[0, 2])
    got = [(r.task.name, r.method.label, r.seed) for r in part.runs()]
    assert got == [("osc-noise5", "linear(ridge=0.01)", 0), ("osc-noise5", "linear(ridge=0.01)", 2)]
    assert {r.run_id for r in part.runs()} <= {r.run_id for r in full.runs()}
    assert len(full.select(methods=["linear"]).runs()) == len([r for r in full.runs() if r.method.name == "linear"])
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['lorenz'\].*tasks: osc"):
        full.select(tasks=["lorenz"])
    with pytest.raises(ValueError, match=r"unknown method\(s\) \['lstm'\]"):
        full.select(methods=["lstm"])
    with pytest.raises(ValueError, match=r"no task .* has seed\(s\) \[7\]"):
        full.select(seeds=[7])


def test_data_file_task_splits_train_then_test_and_standardizes_with_train_statistics(tmp_path):
    """A data task takes the first n_train points for training and the next n_test for testing, z-scored with the
    training mean and standard deviation; the file's content hash (not its path) enters the run id."""
    from dsrkit.bench import build_data

    X = np.cumsum(np.random.default_rng(0).standard_normal((50, 2)), axis=0)
    np.save(tmp_path / "x.npy", X)
    text = GOOD.replace('system = "osc"\nseeds = [0]', 'data = "x.npy"\ndt = 0.5\nn_train = 30\nn_test = 20')
    (tmp_path / "d.toml").write_text(text)
    suite = load_suite(tmp_path / "d.toml", components=COMPONENTS)
    spec = suite.runs()[0]
    assert spec.task.name == "x"
    train, test, dt = build_data(spec.config, COMPONENTS)
    mu, sd = X[:30].mean(axis=0), X[:30].std(axis=0)
    assert dt == 0.5 and np.allclose(train, (X[:30] - mu) / sd) and np.allclose(test, (X[30:] - mu) / sd)
    (tmp_path / "sub").mkdir()
    np.save(tmp_path / "sub" / "x.npy", X)
    (tmp_path / "sub" / "d.toml").write_text(text)
    assert load_suite(tmp_path / "sub" / "d.toml", components=COMPONENTS).runs()[0].run_id == spec.run_id


# -- store -----------------------------------------------------------------------------------------------------------

def test_store_claims_are_exclusive_and_stale_claims_are_retaken(tmp_path):
    """A claimed run cannot be claimed again by a live owner; a claim of a dead process (same host) is retaken at
    once, one without heartbeat after the lease (a fake clock: no waiting, no race); a heartbeat renews the lease;
    a finished run is never claimed again; the second finish is a no-op. The primary key keeps one row per run."""
    now = [1000.0]
    db = ResultsStore(tmp_path / "s.sqlite", lease=10, clock=lambda: now[0])
    a, b = new_owner(), new_owner()
    assert db.claim("r1", {"x": 1}, a) and not db.claim("r1", {"x": 1}, b)
    now[0] += 8
    db.heartbeat(a)
    now[0] += 8  # 16 s after the claim, 8 s after the heartbeat: still a's
    assert not db.claim("r1", {"x": 1}, b) and not db.states(["r1"])["r1"]["stale"]
    now[0] += 2.5  # 10.5 s without a heartbeat
    assert db.states(["r1"])["r1"]["stale"]
    assert db.claim("r1", {"x": 1}, b)  # a's heartbeat expired
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = a.split("/")[0]
    db_long = ResultsStore(tmp_path / "s.sqlite", lease=3600)
    assert db_long.claim("r2", {}, f"{host}/{dead.stdout.strip()}/dead")
    assert db_long.claim("r2", {}, a)  # the owner process no longer exists
    assert db_long.finish("r2", {"status": "ok", "metrics": {"m": 1.0}}, version="t")
    assert not db_long.finish("r2", {"status": "ok", "metrics": {"m": 2.0}}, version="t")
    assert not db_long.claim("r2", {}, b)
    rows = {r["run_id"]: r for r in db_long.rows()}
    assert rows["r2"]["metrics"] == {"m": 1.0} and rows["r2"]["attempts"] == 2 and len(rows) == 2
    assert db_long.count() == {"running": 1, "ok": 1}
    with sqlite3.connect(tmp_path / "s.sqlite") as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- runner ----------------------------------------------------------------------------------------------------------

def test_suite_with_failing_and_diverging_methods_finishes(ran):
    """Every run is recorded once; a raising method is 'failed' with its reason and traceback, an inf rollout and a
    method that reports divergence are 'diverged'; the suite itself completes."""
    suite, path, summary = ran
    rows = _rows(path)
    specs = {s.run_id: s for s in suite.runs()}
    assert set(rows) == set(specs) and summary.executed == len(specs) == 30
    by = lambda label: [rows[i] for i, s in specs.items() if s.method.label == label]  # noqa: E731
    assert all(r["status"] == "failed" and r["reason"] == "RuntimeError: boom" and "boom" in r["traceback"]
               for r in by("failing"))
    assert all(r["status"] == "diverged" and "non-finite" in r["reason"] for r in by("diverging"))
    assert all(r["status"] == "diverged" and r["reason"] == "training loss became NaN" for r in by("status_diverged"))
    assert all(r["status"] == "ok" and set(r["metrics"]) == {"mean_gap", "std_gap"} for r in by("linear(ridge=0.01)"))
    assert (summary.ok, summary.diverged, summary.failed) == (12, 12, 6)


def test_worker_metrics_equal_in_process_execution(ran):
    """What a worker process stored equals execute_run in this process (same data seeds, same fit)."""
    suite, path, _ = ran
    rows = _rows(path)
    for spec in suite.runs()[:: 7]:
        direct = execute_run(spec.config, COMPONENTS)
        assert direct["status"] == rows[spec.run_id]["status"]
        for k, v in direct["metrics"].items():
            assert rows[spec.run_id]["metrics"][k] == pytest.approx(v, rel=1e-12)


def test_keep_models_writes_each_fitted_method_beside_the_store(tmp_path, executor):
    """keep_models: the bytes of the method's `save` file come back from the worker and land as
    <store>.artifacts/<run_id>.model.npz (only runs that got as far as generating)."""
    p = write_suite(tmp_path / "m.toml", EXTRA, **{"seeds = [0, 1, 2]": "seeds = [0]", "grid = { ridge = [1e-6, 1e-2] }": ""})
    suite = load_suite(p, components=COMPONENTS)
    suite = dataclasses.replace(suite, tasks=suite.tasks[:1])
    run_suite(suite, store=tmp_path / "m.sqlite", executor=executor, keep_models=True, progress=False)
    with ResultsStore(tmp_path / "m.sqlite") as db:
        saved = {r["method"]: db.model_path(r) for r in db.rows()}
    assert saved["failing"] is None and saved["status_diverged"] is None
    assert np.load(saved["linear"])["W"].shape == (3, 2)


def test_rerun_skips_finished_runs(ran, executor):
    suite, path, _ = ran
    before = _rows(path)
    summary = run_suite(suite, store=path, executor=executor, progress=False)
    assert summary.skipped == 30 and summary.executed == 0
    assert _rows(path) == before


def test_timeout_and_worker_crash_are_failures_not_stalls(tmp_path, executor):
    """A run that would sleep 60 s under a 0.5 s limit is 'failed' with reason 'timeout' (it is alone under the
    limit, so no other run can be caught by it however loaded the machine is); a run whose process exits is
    'failed' naming the exit code; the executor, with its stopped and dead workers replaced, completes the other
    runs. Had the limit not been enforced, the sleeping run would end 'ok', not 'timeout'."""
    one = {"seeds = [0, 1, 2]": "seeds = [0]", "grid = { ridge = [1e-6, 1e-2] }": ""}
    p = write_suite(tmp_path / "t.toml", '[[methods]]\nname = "sleepy"\nparams = { sleep = 60.0 }\n'
                    '[[methods]]\nname = "crashing"\n', **one)
    suite = load_suite(p, components=COMPONENTS)
    suite.tasks = suite.tasks[:1]
    by_label = {m.label: m for m in suite.methods}
    store = tmp_path / "t.sqlite"
    run_suite(dataclasses.replace(suite, methods=[by_label["sleepy"]]), store=store, executor=executor,
              time_limit=0.5, progress=False)
    run_suite(dataclasses.replace(suite, methods=[by_label["crashing"], by_label["linear"]]), store=store,
              executor=executor, progress=False)
    rows = {r["method"]: r for r in _rows(store).values()}
    assert rows["sleepy"]["status"] == "failed" and rows["sleepy"]["reason"] == "timeout"
    assert rows["crashing"]["status"] == "failed" and rows["crashing"]["reason"] == "worker died: exit code 3"
    assert rows["linear"]["status"] == "ok"


def test_local_executor_steers_methods_to_workers_that_ran_them():
    """A fresh worker takes a method no worker has started on; a free worker takes a method it ran before."""
    class W:
        def __init__(self, seen):
            self.history = set(seen)

    ex = LocalExecutor(2)
    ex._busy = [W({"alrnn"})]
    assert ex.preferred(["alrnn", "alrnn", "esn"]) == 2  # room for a fresh worker: not alrnn again
    ex._idle, ex._busy = [W({"esn"})], [W({"alrnn"})]
    assert ex.preferred(["alrnn", "nvar", "esn"]) == 2  # the idle worker has esn compiled
    ex._idle = [W({"sindy"})]
    assert ex.preferred(["alrnn", "nvar"]) == 1 and ex.preferred(["alrnn"]) == 0
    ex._idle, ex._busy = [], []


RUNNER = """
import sys
sys.path.insert(0, {tests!r})
from test_bench_fakes import COMPONENTS
from dsrkit.bench import load_suite, run_suite
if __name__ == "__main__":
    run_suite(load_suite(sys.argv[1], components=COMPONENTS), store=sys.argv[2], executor=sys.argv[3], workers=1,
              progress=False, lease=3600)
"""


def _runner(tmp_path, suite_path, store, executor="local"):
    """A runner in its own process. Its lease is an hour: a live runner's claim is never taken over in these
    tests (however slowly the other process starts); a killed one's is, at once (same host, dead pid)."""
    script = tmp_path / "runner.py"
    script.write_text(RUNNER.format(tests=str(TESTS)))
    return subprocess.Popen([sys.executable, str(script), str(suite_path), str(store), executor],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _sync_params(**folders) -> str:
    """`params = { hold = "<folder>", ... }` for the fake method (see LinearAR), the folders created."""
    for f in folders.values():
        Path(f).mkdir(exist_ok=True)
    return "params = { " + ", ".join(f"{k} = {json.dumps(str(v))}" for k, v in folders.items()) + " }"


def test_sigkill_mid_suite_then_restart_completes_each_run_once(tmp_path, executor):
    """SIGKILL the runner while it executes its third run (it signals, by a file, that it is in that run's fit, and
    waits there); a restart finishes the suite, keeps the two runs finished before the kill untouched (skipped,
    not redone), retakes the killed run at once, and the store holds every run exactly once."""
    hold = tmp_path / "hold"
    suite_path = write_suite(tmp_path / "k.toml", **{"grid = { ridge = [1e-6, 1e-2] }": _sync_params(hold=hold)})
    store = tmp_path / "k.sqlite"
    proc = _runner(tmp_path, suite_path, store, executor="inline")  # runs one at a time, in the runner process
    try:
        wait_for(lambda: (hold / "held").exists(), "the runner to reach its third run", proc=proc)
    finally:
        proc.send_signal(signal.SIGKILL)  # a no-op if it already exited
        proc.communicate()
    assert int((hold / "held").read_text()) == proc.pid  # the run was held in the runner we killed
    rows = _rows(store)
    before = {k: r for k, r in rows.items() if r["status"] != "running"}
    assert len(before) == 2 and sum(r["status"] == "running" for r in rows.values()) == 1
    (hold / "release").write_text("")
    suite = load_suite(suite_path, components=COMPONENTS)
    summary = run_suite(suite, store=store, executor=executor, progress=False)
    rows = _rows(store)
    assert set(rows) == {s.run_id for s in suite.runs()} and len(rows) == 6
    assert all(r["status"] == "ok" for r in rows.values())
    assert summary.skipped == 2 and summary.executed == 4 and summary.by_others == 0
    assert all(rows[k]["finished_at"] == r["finished_at"] for k, r in before.items())
    with sqlite3.connect(store) as c:  # the primary key is the only guard needed against duplicates
        assert c.execute("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM runs").fetchone() == (6, 6)


def test_two_concurrent_runners_give_the_same_rows_as_one(tmp_path):
    """Two runner processes on one store (each executing in its own process, so the store is the only thing they
    share): every run once, claimed once (attempts == 1, no duplicated work), with the same statuses and metrics as
    the runs executed here one by one. Each runner's first fit waits (by files) until the other runner is in a fit
    too, so both take part however their start-up times differ."""
    meet = tmp_path / "meet"
    suite_path = write_suite(tmp_path / "c.toml", **{"grid = { ridge = [1e-6, 1e-2] }": _sync_params(meet=meet)})
    shared = tmp_path / "shared.sqlite"
    procs = [_runner(tmp_path, suite_path, shared, executor="inline") for _ in range(2)]
    try:
        for p in procs:
            out, err = p.communicate(timeout=600)  # a hang guard only
            assert p.returncode == 0, err
    finally:
        for p in procs:
            p.kill()  # a no-op for a process that finished
            p.communicate()
    assert len(list(meet.glob("pid-*"))) == 2
    a = _rows(shared)
    specs = {s.run_id: s for s in load_suite(suite_path, components=COMPONENTS).runs()}
    assert set(a) == set(specs) and len(a) == 6
    for k, spec in specs.items():
        direct = execute_run(spec.config, COMPONENTS)  # meets at once: two processes have been here
        assert a[k]["status"] == direct["status"] == "ok" and a[k]["attempts"] == 1
        assert a[k]["metrics"] == pytest.approx(direct["metrics"], rel=1e-12)
    assert len({r["runner"] for r in a.values()}) == 2


@pytest.mark.slow  # starting a local Ray cluster takes about 30 s on a 2-core machine
def test_ray_executor_matches_local(ran, tmp_path):
    """The same runs on a local Ray cluster (2 CPUs) give the same metrics as the local executor."""
    pytest.importorskip("ray")
    suite, path, _ = ran
    suite = dataclasses.replace(suite, methods=[m for m in suite.methods if m.label == "linear(ridge=0.01)"])
    run_suite(suite, store=tmp_path / "ray.sqlite", executor="ray", workers=2, progress=False,
              ray_runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}})
    local, ray_rows = _rows(path), _rows(tmp_path / "ray.sqlite")
    assert len(ray_rows) == 6
    for k, r in ray_rows.items():
        assert r["status"] == "ok" and r["metrics"] == pytest.approx(local[k]["metrics"], rel=1e-12)


# -- leaderboard and report ------------------------------------------------------------------------------------------

def test_results_table_on_a_hand_made_store(tmp_path):
    """Medians, quartiles, counts and ranks computed by hand: A = (1, 2, 3, 4) -> median 2.5, q25 1.75, q75 3.25;
    B = (0.5, inf (diverged), 1.0, failed) -> median 1.0 over (0.5, 1.0, inf), q25 0.75, q75 inf; C has no
    finished run. Ranks on m: B 1, A 2; on n: A 1, B 2 (B has n = 10 once)."""
    text = GOOD.replace("seeds = [0]", "seeds = 4").replace("noise = 0.1", "noise = 0.1\nseeds = 4") + \
        '[[methods]]\nname = "failing"\nlabel = "B"\n[[methods]]\nname = "sleepy"\nlabel = "C"\n'
    text = text.replace('name = "linear"', 'name = "linear"\nlabel = "A"')
    suite = parse_suite(text, name="s.toml", components=Components(metrics="test_bench_fakes:metrics",
                        systems="test_bench_fakes:systems", methods="test_bench_fakes:methods"), check_names=False)
    suite.tasks = suite.tasks[:1]
    specs = suite.runs()
    vals = {"A": [(1, 5), (2, 5), (3, 5), (4, 5)], "B": [(0.5, 10), None, (1.0, 1), "failed"], "C": [None] * 4}
    db = ResultsStore(tmp_path / "h.sqlite")
    for s in specs:
        v = vals[s.method.label][s.seed]
        if v is None and s.method.label == "C":
            continue
        db.claim(s.run_id, s.config, "me")
        if v is None:
            db.finish(s.run_id, {"status": "diverged", "reason": "inf"}, version="t")
        elif v == "failed":
            db.finish(s.run_id, {"status": "failed", "reason": "x"}, version="t")
        else:
            db.finish(s.run_id, {"status": "ok", "metrics": {"mean_gap": v[0], "std_gap": v[1]}}, version="t")
    rows = {r["run_id"]: r for r in db.rows()}
    table = summarize("t", specs, rows)
    a, b, c = table.row("osc", "A"), table.row("osc", "B"), table.row("osc", "C")
    assert (a["mean_gap_median"], a["mean_gap_q25"], a["mean_gap_q75"], a["mean_gap_iqr"]) == (2.5, 1.75, 3.25, 1.5)
    assert (b["mean_gap_median"], b["mean_gap_q25"]) == (1.0, 0.75) and math.isinf(b["mean_gap_q75"])
    assert (b["n_ok"], b["n_diverged"], b["n_failed"], c["n_missing"]) == (2, 1, 1, 4)
    assert (b["mean_gap_rank"], a["mean_gap_rank"]) == (1.0, 2.0)
    assert (a["std_gap_rank"], b["std_gap_rank"]) == (1.0, 2.0) and a["mean_rank"] == b["mean_rank"] == 1.5
    assert c["mean_gap_median"] is None and c["mean_rank"] is None
    csv_text = table.to_csv(tmp_path / "t.csv").read_text().splitlines()
    assert csv_text[0].startswith("task,method,n_ok") and len(csv_text) == 4
    data = json.loads(table.to_json(tmp_path / "t.json").read_text())
    assert data["rows"][1]["mean_gap_q75"] == "inf" and len(data["rows"]) == 3


def test_cli_functions_print_export_and_report(ran, tmp_path, capsys):
    """bench_results prints the markdown leaderboard and writes CSV/JSON; bench_report writes the HTML file."""
    from dsrkit.bench import bench_report, bench_results

    suite, path, _ = ran
    assert bench_results(str(suite.path), store=str(path), csv=str(tmp_path / "t.csv"), json=str(tmp_path / "t.json")) == 0
    out = capsys.readouterr().out
    assert "| task | method |" in out and "linear(ridge=0.01)" in out
    assert (tmp_path / "t.csv").is_file() and json.loads((tmp_path / "t.json").read_text())["suite"] == "tiny"
    assert bench_report(str(suite.path), out=str(tmp_path / "r.html"), store=str(path)) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


def test_results_and_report_from_a_run(ran, tmp_path):
    """results() on the real run tabulates every task x method; report() writes one self-contained page with
    inline PNG figures (distributions and attractors), the leaderboard and the failures."""
    suite, path, _ = ran
    table = results(suite, store=path)
    assert len(table) == 2 * 5
    assert table.row("osc", "failing")["n_failed"] == 3 and table.row("osc", "diverging")["n_diverged"] == 3
    html = report(suite, tmp_path / "r.html", store=path).read_text()
    assert html.count("data:image/png;base64,") == 4  # per task: distributions and attractors
    assert "RuntimeError: boom" in html and "linear(ridge=0.01)" in html
    assert "src=\"http" not in html and "<script" not in html
