"""The leaderboard's references: the data floor per task and seed (the test trajectory against an independent true
trajectory, computed once and cached in the store) and parroting shown as data replay, ranked apart from the
models; and the core suite's protocol (test length, the Lorenz-96 D_stsp variant).

Uses the stand-in registries of test_bench_fakes (the `Components` hook), except where the real systems are named.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from dsrkit.bench import ResultsStore, load_suite, parse_suite, report, results, run_suite, summarize
from dsrkit.bench import leaderboard
from dsrkit.bench.execute import FLOOR_SEED_OFFSET, build_data, build_floor_data, execute_floor

sys.path.insert(0, str(Path(__file__).parent))
from test_bench_fakes import COMPONENTS, Oscillator, mean_gap, std_gap, write_suite  # noqa: E402

PARROT = '[[methods]]\nname = "parroting"\n'


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """The tiny suite (2 tasks x 2 linear models x 3 seeds) run once in-process."""
    d = tmp_path_factory.mktemp("floor")
    suite = load_suite(write_suite(d / "tiny.toml"), components=COMPONENTS)
    run_suite(suite, store=d / "tiny.sqlite", executor="local", workers=1, progress=False)
    return suite, d / "tiny.sqlite"


def _by_hand(omega: float, noise: float, seed: int) -> dict:
    """The floor of the tiny suite's task by hand: test (seed 2 s + 1) against an independent trajectory (seed
    FLOOR_SEED_OFFSET + s), both standardised with the training trajectory's (seed 2 s, noisy) statistics."""
    osc = Oscillator(omega)
    train = osc.trajectory(400, transient=10, seed=2 * seed, noise=noise)
    test = osc.trajectory(200, transient=10, seed=2 * seed + 1)
    other = osc.trajectory(200, transient=10, seed=FLOOR_SEED_OFFSET + seed)
    mu, sd = train.mean(axis=0), train.std(axis=0)
    t, f = (test - mu) / sd, (other - mu) / sd
    return {"mean_gap": mean_gap(t, f), "std_gap": std_gap(t, f)}


def test_floor_row_per_task_is_the_test_series_against_an_independent_true_trajectory(ran):
    suite, store = ran
    table = results(suite, store=store)
    assert len(table) == 2 * 2 and len(table.floor) == 2  # method rows; one floor row per task
    for task, omega, noise in (("osc", 1.0, 0.0), ("osc-noise5", 1.3, 0.05)):
        row = table.row(task, "data floor")
        assert row["kind"] == "floor" and row["n_ok"] == 3 and row["mean_rank"] is None
        by_hand = [_by_hand(omega, noise, s) for s in (0, 1, 2)]
        for m in ("mean_gap", "std_gap"):
            assert row[f"{m}_median"] == pytest.approx(float(np.median([b[m] for b in by_hand])), rel=1e-12)
            assert row[f"{m}_rank"] is None
    # the floor's test series is the one the methods were compared with
    spec = suite.runs()[0]
    config = leaderboard.floor_config(spec)
    test, floor, _ = build_floor_data(config, COMPONENTS)
    assert np.array_equal(test, build_data(spec.config, COMPONENTS)[1]) and not np.array_equal(test, floor)


def test_floor_is_cached_in_the_store_and_leaves_the_runs_untouched(ran, monkeypatch):
    suite, store = ran
    results(suite, store=store)  # computes what is missing
    with ResultsStore(store) as db:
        before = {r["run_id"]: (r["status"], r["metrics"]) for r in db.rows()}
    assert set(before) == {s.run_id for s in suite.runs()}  # no floor row among the runs

    calls = []
    monkeypatch.setattr(leaderboard, "execute_floor", lambda *a, **k: calls.append(a) or {"status": "failed"})
    again = results(suite, store=store)
    assert calls == []  # read from the cache
    assert again.row("osc", "data floor")["n_ok"] == 3
    with ResultsStore(store) as db:
        assert {r["run_id"]: (r["status"], r["metrics"]) for r in db.rows()} == before
    assert results(suite, store=store, floor=False).floor == []


def test_floor_only_for_seeds_with_finished_runs(tmp_path, monkeypatch):
    suite = load_suite(write_suite(tmp_path / "s.toml"), components=COMPONENTS).select(seeds=[0])
    full = load_suite(write_suite(tmp_path / "s.toml"), components=COMPONENTS)
    run_suite(suite, store=tmp_path / "s.sqlite", executor="local", workers=1, progress=False)
    computed = []
    real = leaderboard.execute_floor
    monkeypatch.setattr(leaderboard, "execute_floor", lambda c, comp: computed.append(c["seed"]) or real(c, comp))
    table = results(full, store=tmp_path / "s.sqlite")
    assert computed == [0, 0]  # one per task, seed 0 only
    row = table.row("osc", "data floor")
    assert (row["n_ok"], row["n_missing"]) == (1, 2)


def test_exports_put_each_tasks_floor_first(ran, tmp_path):
    suite, store = ran
    table = results(suite, store=store)
    with open(table.to_csv(tmp_path / "t.csv"), newline="") as f:
        lines = list(csv.DictReader(f))
    assert [r["method"] for r in lines][0] == "data floor" and len(lines) == 2 * 3
    assert [r["kind"] for r in lines if r["task"] == "osc"] == ["floor", "model", "model"]
    data = json.loads(table.to_json(tmp_path / "t.json").read_text())
    assert data["rows"][0]["kind"] == "floor" and "data floor" in table.to_markdown()
    assert "| task | method | kind |" in table.to_markdown()


def test_parroting_is_data_replay_ranked_apart_from_the_models(tmp_path):
    """Parroting scores best on both metrics here, yet the best model keeps rank 1 among the models."""
    suite = parse_suite(open(write_suite(tmp_path / "s.toml", PARROT)).read(), name="s.toml", components=COMPONENTS,
                        check_names=False)
    specs = [s for s in suite.runs() if s.task.name == "osc"]
    value = {"linear(ridge=1e-06)": 1.0, "linear(ridge=0.01)": 2.0, "parroting": 0.5}
    rows = {s.run_id: {"status": "ok", "metrics": {"mean_gap": value[s.method.label], "std_gap": value[s.method.label]}}
            for s in specs}
    table = summarize("s", specs, rows)
    parrot, best, other = (table.row("osc", m) for m in ("parroting", "linear(ridge=1e-06)", "linear(ridge=0.01)"))
    assert parrot["kind"] == "data replay" and best["kind"] == other["kind"] == "model"
    assert (best["mean_rank"], other["mean_rank"]) == (1.0, 2.0)
    assert parrot["mean_rank"] == 1.0  # ranked among the data-replay rows only
    assert [r["method"] for r in table.rows] == ["parroting", "linear(ridge=1e-06)", "linear(ridge=0.01)"]
    assert "data replay" in table.to_markdown()


def _leaderboard_rows(page: str) -> list[tuple[str, dict]]:
    """(the row's opening tag, {column: cell text}) of each row of the report's leaderboard table."""
    start = page.index("<table", page.index(">Leaderboard<"))
    table = page[start:page.index("</table>", start)]
    head, *rows = re.findall(r"(<tr[^>]*>)(.*?)</tr>", table)
    columns = re.findall(r"<th>(.*?)</th>", head[1])
    return [(tag, dict(zip(columns, re.findall(r"<td[^>]*>(.*?)</td>", cells)))) for tag, cells in rows]


def test_report_shows_the_floor_first_and_data_replay_ranked_apart(tmp_path):
    """The HTML leaderboard has the markdown's rows in its order: the task's data floor first, marked as the
    reference and not ranked; parroting marked as data replay; the models ranked among themselves, although
    parroting scores best."""
    path = write_suite(tmp_path / "s.toml", PARROT, **{"seeds = [0, 1, 2]": "seeds = [0]"})
    suite = load_suite(path, components=COMPONENTS, check_names=False)
    suite = dataclasses.replace(suite, tasks=suite.tasks[:1])
    value = {"linear(ridge=1e-06)": 1.0, "linear(ridge=0.01)": 2.0, "parroting": 0.5}
    db = ResultsStore(tmp_path / "s.sqlite")
    for spec in suite.runs():
        v = value[spec.method.label]
        db.claim(spec.run_id, spec.config, "me")
        db.finish(spec.run_id, {"status": "ok", "metrics": {"mean_gap": v, "std_gap": v}}, version="t")
    page = report(suite, tmp_path / "r.html", store=db).read_text()
    rows = _leaderboard_rows(page)
    table = results(suite, store=db)
    assert [(r["task"], r["method"]) for _, r in rows] == [(r["task"], r["method"]) for r in table.all_rows()]
    assert [r["method"] for _, r in rows] == ["data floor", "parroting", "linear(ridge=1e-06)", "linear(ridge=0.01)"]

    (floor_tag, floor), (replay_tag, replay) = rows[0], rows[1]
    assert 'data-kind="floor"' in floor_tag and floor["kind"].startswith("floor") and "perfect model" in floor["kind"]
    assert floor["mean rank"] == "not ranked" and floor["ok/div/fail"].startswith("1/0/0")
    assert 'data-kind="data replay"' in replay_tag and replay["kind"].startswith("data replay")
    assert replay["mean rank"] == "1.00"  # among the data-replay rows
    models = {r["method"]: (tag, r) for tag, r in rows[2:]}
    for label, rank in (("linear(ridge=1e-06)", "1.00"), ("linear(ridge=0.01)", "2.00")):
        tag, r = models[label]
        assert 'data-kind="model"' in tag and r["kind"] == "model" and r["mean rank"] == rank
    # the legend explains the three kinds; the page stays self-contained
    assert "the score a perfect model reaches" in page and "ranked among the data-replay rows only" in page
    assert "src=\"http" not in page and "<script" not in page
    db.close()


def test_data_task_floor_is_the_last_stretch_of_the_training_part(tmp_path):
    X = np.cumsum(np.random.default_rng(0).standard_normal((700, 2)), axis=0)
    np.save(tmp_path / "x.npy", X)
    text = ('[defaults]\nn_train = 500\nn_test = 150\nseeds = [0]\nmetrics = ["mean_gap"]\n'
            '[[tasks]]\ndata = "x.npy"\ndt = 0.1\nname = "file"\n[[methods]]\nname = "linear"\n')
    (tmp_path / "d.toml").write_text(text)
    suite = load_suite(tmp_path / "d.toml", components=COMPONENTS)
    test, floor, _ = build_floor_data(leaderboard.floor_config(suite.runs()[0]), COMPONENTS)
    mu, sd = X[:500].mean(axis=0), X[:500].std(axis=0)
    assert np.allclose(test, (X[500:650] - mu) / sd) and np.allclose(floor, (X[350:500] - mu) / sd)


def test_floor_of_lorenz63_falls_with_the_test_length():
    """Why the core suite tests on 100 000 points: the binned D_stsp between two independent true Lorenz-63
    trajectories is mostly sampling error at short lengths (here 2000 vs 20 000 points)."""
    text = ('[defaults]\nn_train = 2000\ntransient = 500\nseeds = [0]\n'
            '[[tasks]]\nsystem = "lorenz63"\nn_test = 2000\nname = "short"\n'
            '[[tasks]]\nsystem = "lorenz63"\nn_test = 20000\nname = "long"\n[[methods]]\nname = "mean"\n')
    suite = parse_suite(text, name="l.toml")
    short, long = (execute_floor(leaderboard.floor_config(s)) for s in suite.runs())
    assert short["status"] == long["status"] == "ok"
    d_short, d_long = (r["metrics"]["state_space_divergence"] for r in (short, long))
    assert d_long < 0.5 * d_short


def test_core_suite_protocol():
    """100 000 test points on every task of the full core suite; Lorenz-96 scored by the marginal D_stsp variant."""
    suite = load_suite("core", check_names=False)
    assert {t.n_test for t in suite.tasks} == {100_000}
    l96 = [t for t in suite.tasks if t.system == "lorenz96"]
    assert l96 and all(t.metric_options["state_space_divergence"]["method"] == "marginal" for t in l96)


def test_a_store_rebuilt_from_an_export_reruns_nothing_and_recomputes_no_floor(ran, tmp_path, monkeypatch):
    """A fresh clone has the committed export, not the store: `leaderboard.restore` reads it back so that resuming
    runs nothing already exported and the leaderboard is the same. Catches an export rewritten from an empty store
    (every exported run lost) and a resume that repeats the whole suite."""
    suite, store = ran
    original = results(suite, store=store)
    specs = {s.run_id: s for s in suite.runs()}
    with ResultsStore(store) as db:
        runs = [{"task": specs[r["run_id"]].task.name, "method": specs[r["run_id"]].method.label,
                 "seed": specs[r["run_id"]].seed, "status": r["status"], "reason": r["reason"],
                 "metrics": r["metrics"], "timings": r["timings"], "version": r["version"]} for r in db.rows()]
        found = leaderboard.floors(suite, db, compute=False)
    runs.append({"task": "no-such-task", "method": "x", "seed": 0, "status": "ok"})  # ignored, not an error
    fresh = tmp_path / "fresh.sqlite"
    with ResultsStore(fresh) as db:
        assert leaderboard.restore(suite, db, runs, found) == (len(specs), len(found))
        assert leaderboard.restore(suite, db, runs, found) == (0, 0)  # what the store has is kept
    monkeypatch.setattr(leaderboard, "execute_floor", lambda *a, **k: pytest.fail("a restored floor was recomputed"))
    done = run_suite(suite, store=fresh, executor="local", workers=1, progress=False)
    assert (done.skipped, done.ok + done.diverged + done.failed) == (len(specs), 0)
    with ResultsStore(fresh) as db:
        assert all(r["host"] is None for r in db.rows())  # none was executed here
    again = results(suite, store=fresh)
    assert again.to_markdown() == original.to_markdown()
    with ResultsStore(fresh) as db, pytest.raises(ValueError, match="status must be one of"):
        db.restore("r", {"status": "running"}, config={})
