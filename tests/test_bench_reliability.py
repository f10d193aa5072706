"""dsrkit.bench never loses a user's files and never calls a wrong result done: exports refuse to overwrite without
--force, runs of different component registries never share a run id, failed runs can be retried and time limits
are checked, and paths that are not what `dsr bench` expects end in one `error:` line (exit 2), not a traceback.

Each test is named after the case it guards (cases of the issue "Never lose a user's files, never call a wrong
result ok"). The runner runs inline (in this process) on the stand-in registries of test_bench_fakes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sqlite3
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsrkit import __version__
from dsrkit.bench import Components, ResultsStore, StoreError, load_suite, parse_suite, report, results, run_suite
from dsrkit.bench.executors import timeout_result
from dsrkit.bench.store import new_owner
from dsrkit.bench.suite import canonical_json
from dsrkit.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from test_bench_fakes import COMPONENTS, write_suite  # noqa: E402

ONE_SEED = {"seeds = [0, 1, 2]": "seeds = [0]"}

# a suite of the default registries that loads fast (names are checked against them when a suite is run)
REAL = """
[[tasks]]
system = "lorenz63"
n_train = 200
n_test = 100
transient = 10
seeds = [0]

[[methods]]
name = "mean"
"""


def invoke(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def _error_line(code, out, *needles):
    """Exit 2, an `error:` line naming each needle, no traceback."""
    assert code == 2, out
    assert "error:" in out and "Traceback" not in out, out
    for n in needles:
        assert str(n) in out, (n, out)


@pytest.fixture
def tiny(tmp_path):
    """The tiny suite and an (empty) results store for it."""
    suite = write_suite(tmp_path / "tiny.toml", **ONE_SEED)
    store = tmp_path / "tiny.sqlite"
    ResultsStore(store).close()
    return suite, store


# -- case 4: exports refuse to overwrite without --force ----------------------------------------------------------

def test_case04_results_csv_refuses_existing_file(tiny, tmp_path):
    suite, store = tiny
    csv = tmp_path / "board.csv"
    csv.write_text("keep me")
    code, out = invoke("bench", "results", suite, "--store", store, "--csv", csv)
    _error_line(code, out, csv, "already exists", "--force")
    assert csv.read_text() == "keep me"
    code, out = invoke("bench", "results", suite, "--store", store, "--csv", csv, "--force")
    assert code == 0, out
    assert csv.read_text().startswith("task,method,n_ok")


def test_case04_results_json_refuses_existing_file_before_writing_anything(tiny, tmp_path):
    """An existing --json file stops the command before the (new) --csv file is written."""
    suite, store = tiny
    js, csv = tmp_path / "board.json", tmp_path / "new.csv"
    js.write_text("keep me")
    code, out = invoke("bench", "results", suite, "--store", store, "--csv", csv, "--json", js)
    _error_line(code, out, js, "already exists", "--force")
    assert js.read_text() == "keep me" and not csv.exists()
    code, out = invoke("bench", "results", suite, "--store", store, "--json", js, "--force")
    assert code == 0, out
    assert json.loads(js.read_text())["suite"] == "tiny"


def test_case04_report_out_refuses_existing_file(tiny, tmp_path):
    suite, store = tiny
    html = tmp_path / "r.html"
    html.write_text("keep me")
    code, out = invoke("bench", "report", suite, "--store", store, "--out", html)
    _error_line(code, out, html, "already exists", "--force")
    assert html.read_text() == "keep me"
    code, out = invoke("bench", "report", suite, "--store", store, "--out", html, "--force")
    assert code == 0, out
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_case04_report_default_path_refuses_existing_file(tiny):
    """Without --out the report goes beside the store; an existing file there is kept too."""
    suite, store = tiny
    html = store.with_suffix(".html")
    html.write_text("keep me")
    with pytest.raises(FileExistsError, match="--force"):
        report(suite, store=store)
    assert html.read_text() == "keep me"
    assert report(suite, store=store, overwrite=True) == html and html.read_text().startswith("<!DOCTYPE html>")


def test_case04_library_exports_refuse_existing_files(tiny, tmp_path):
    suite, store = tiny
    table = results(suite, store=store)
    for name, write in (("t.csv", table.to_csv), ("t.json", table.to_json)):
        path = tmp_path / name
        path.write_text("keep me")
        with pytest.raises(FileExistsError, match="already exists"):
            write(path)
        assert path.read_text() == "keep me"
        write(path, overwrite=True)
        assert path.read_text() != "keep me"


def test_case04_force_is_not_accepted_where_it_replaces_nothing(tmp_path):
    """--force on a run would suggest it redoes runs; it does not, so it is an error naming what does."""
    code, out = invoke("bench", write_suite(tmp_path / "s.toml"), "--force")
    _error_line(code, out, "--force does not apply")


# -- case 10: the component registries are part of a run's identity -----------------------------------------------

def test_case10_custom_registry_results_do_not_satisfy_default_registry_runs(tmp_path):
    """Runs of the stand-in registries fill a store; the same suite on the default registries finds nothing done
    there (it runs, and its runs fail: 'osc' is no dsrkit system), and a third registry has its own ids too."""
    p = write_suite(tmp_path / "r.toml", **ONE_SEED)
    custom = load_suite(p, components=COMPONENTS)
    default = load_suite(p, check_names=False)
    other = dataclasses.replace(custom, components=dataclasses.replace(COMPONENTS, methods="my_lab.registry:methods"))
    ids = [{r.run_id for r in s.runs()} for s in (custom, default, other)]
    assert all(len(i) == 4 for i in ids)
    assert not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]
    store = tmp_path / "r.sqlite"
    first = run_suite(custom, store=store, executor="inline", progress=False)
    assert first.ok == 4
    second = run_suite(default, store=store, executor="inline", progress=False)
    assert second.skipped == 0 and second.failed == 4, second
    assert all(r["config"]["components"]["methods"] == "test_bench_fakes:methods"
               for r in ResultsStore(store).rows(ids[0]))


def test_case10_default_registry_run_ids_are_unchanged_so_existing_stores_stay_readable(tmp_path):
    """With the default registries (given or not) a run's id is the hash it had before registries entered the
    identity, so stores written by earlier versions are still found."""
    p = write_suite(tmp_path / "r.toml", **ONE_SEED)
    for suite in (load_suite(p, check_names=False), load_suite(p, components=Components(), check_names=False)):
        for spec in suite.runs():
            assert "components" not in spec.config
            legacy = {k: v for k, v in spec.config.items() if k != "data_path"}
            digest = hashlib.sha256(canonical_json({"config": legacy, "version": __version__}).encode()).hexdigest()
            assert spec.run_id == digest


# -- case 11: failed runs can be retried; time limits are checked -------------------------------------------------

def test_case11_retry_failed_reruns_runs_recorded_as_failed(tmp_path):
    """A transient failure stays recorded (a plain rerun skips it); retry_failed runs it again (attempt 2, now ok)
    and leaves the diverged run, a result of its configuration, alone."""
    flag = tmp_path / "failed-once"
    p = write_suite(tmp_path / "f.toml", '[[methods]]\nname = "diverging"\n',
                    **ONE_SEED, **{"grid = { ridge = [1e-6, 1e-2] }": f"params = {{ fail_once = {json.dumps(str(flag))} }}"})
    suite = load_suite(p, components=COMPONENTS)
    suite.tasks = suite.tasks[:1]
    store = tmp_path / "f.sqlite"
    first = run_suite(suite, store=store, executor="inline", progress=False)
    assert (first.failed, first.diverged) == (1, 1) and first.failures[0][3] == "RuntimeError: transient failure"
    plain = run_suite(suite, store=store, executor="inline", progress=False)
    assert plain.skipped == 2 and plain.executed == 0
    retry = run_suite(suite, store=store, executor="inline", progress=False, retry_failed=True)
    assert retry.skipped == 1 and (retry.ok, retry.executed) == (1, 1)
    rows = {r["method"]: r for r in ResultsStore(store).rows()}
    assert rows["linear"]["status"] == "ok" and rows["linear"]["attempts"] == 2
    assert rows["diverging"]["status"] == "diverged" and rows["diverging"]["attempts"] == 1
    again = run_suite(suite, store=store, executor="inline", progress=False, retry_failed=True)
    assert again.skipped == 2 and again.executed == 0


def test_case11_failed_run_is_retaken_only_when_asked_and_only_once(tmp_path):
    """In the store: a failed row is claimed again only with retry_failed, and only if it failed before the
    retrying runner started (so two retrying runners do not both redo it); ok and diverged rows never."""
    now = [100.0]
    db = ResultsStore(tmp_path / "s.sqlite", clock=lambda: now[0])
    a, b = new_owner(), new_owner()
    for rid, result in (("f", timeout_result(1.0, 1.0)), ("d", {"status": "diverged"}), ("o", {"status": "ok"})):
        assert db.claim(rid, {}, a) and db.finish(rid, result, version="t")
    now[0] = 200.0
    assert not db.claim("f", {}, b)
    assert not db.claim("f", {}, b, retry_failed=True, retry_before=50.0)  # failed after that runner started
    assert not db.claim("d", {}, b, retry_failed=True) and not db.claim("o", {}, b, retry_failed=True)
    assert db.claim("f", {}, b, retry_failed=True, retry_before=150.0)
    assert db.rows(["f"])[0]["attempts"] == 2


def test_case11_cli_retry_failed_reaches_the_runner(tmp_path, monkeypatch):
    import dsrkit.bench.commands as commands
    from dsrkit.bench.runner import RunSummary

    seen = {}

    def fake_run_suite(suite, **kwargs):
        seen.update(kwargs)
        return RunSummary(suite="s", store=tmp_path / "s.sqlite", total=0)

    monkeypatch.setattr(commands, "run_suite", fake_run_suite)
    code, out = invoke("bench", tmp_path / "s.toml", "--retry-failed", "--time-limit", "2.5")
    assert code == 0, out
    assert seen["retry_failed"] is True and seen["time_limit"] == 2.5
    code, out = invoke("bench", tmp_path / "s.toml")
    assert code == 0 and seen["retry_failed"] is False and seen["time_limit"] is None


@pytest.mark.parametrize("limit", [0, -5, 0.0, math.nan, math.inf, True, "10"])
def test_case11_time_limit_must_be_a_positive_finite_number(tmp_path, limit):
    """Nothing is run (and no store is created) under a time limit that would record every run as a timeout."""
    suite = load_suite(write_suite(tmp_path / "t.toml", **ONE_SEED), components=COMPONENTS)
    with pytest.raises(ValueError, match=r"time_limit must be a positive finite number of seconds"):
        run_suite(suite, store=tmp_path / "t.sqlite", executor="inline", time_limit=limit, progress=False)
    assert not (tmp_path / "t.sqlite").exists()


@pytest.mark.parametrize("value", ["0", "-5", "inf", "nan"])
def test_case11_cli_time_limit_zero_or_negative_is_an_error_line(tmp_path, value):
    code, out = invoke("bench", write_suite(tmp_path / "t.toml"), "--time-limit", value)
    _error_line(code, out, "--time-limit must be a positive finite number")


@pytest.mark.parametrize("value", ["0", "-5", "inf", "nan"])
def test_case11_suite_time_limit_must_be_a_positive_finite_number(value):
    text = write_suite.__globals__["SUITE"].replace("{extra_methods}", "").replace("seeds = [0, 1, 2]",
                                                                                 f"seeds = [0]\ntime_limit = {value}")
    with pytest.raises(ValueError, match=r"key 'time_limit': expected a number > 0"):
        parse_suite(text, name="s.toml", components=COMPONENTS)


# -- case 14: paths that are not what `dsr bench` expects are one error line --------------------------------------

def test_case14_store_that_is_not_sqlite_is_an_error_line_and_left_unchanged(tmp_path):
    suite = tmp_path / "real.toml"
    suite.write_text(REAL)
    store = tmp_path / "notes.txt"
    store.write_text("my notes, not a database\n" * 100)
    code, out = invoke("bench", suite, "--store", store, "--workers", 1)
    _error_line(code, out, store, "not a results store")
    assert store.read_text() == "my notes, not a database\n" * 100
    code, out = invoke("bench", "results", suite, "--store", store)
    _error_line(code, out, store, "not a results store")


def test_case14_store_that_is_a_directory_is_an_error_line(tmp_path):
    suite = tmp_path / "real.toml"
    suite.write_text(REAL)
    folder = tmp_path / "results"
    folder.mkdir()
    for args in ((suite,), ("results", suite), ("report", suite)):
        code, out = invoke("bench", *args, "--store", folder)
        _error_line(code, out, folder, "is a directory", "expected a results store file")
    assert list(folder.iterdir()) == []


def test_case14_store_of_another_program_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE users (name TEXT)")
        c.execute("INSERT INTO users VALUES ('ada')")
    c.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"app.sqlite: an SQLite database of another program \(tables: users\)"):
        ResultsStore(path)
    assert path.read_bytes() == before and not path.with_suffix(".sqlite-wal").exists()
    assert issubclass(StoreError, ValueError)


def test_case14_store_inside_a_file_is_an_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError, match=r"afile: is not a directory"):
        ResultsStore(tmp_path / "afile" / "s.sqlite")


def test_case14_results_csv_directory_is_an_error_line(tiny, tmp_path):
    suite, store = tiny
    folder = tmp_path / "exports"
    folder.mkdir()
    for flag in ("--csv", "--json"):
        code, out = invoke("bench", "results", suite, "--store", store, flag, folder)
        _error_line(code, out, folder, "is a directory")
    code, out = invoke("bench", "report", suite, "--store", store, "--out", folder)
    _error_line(code, out, folder, "is a directory")
    assert list(folder.iterdir()) == []


# -- what holds and must keep holding ------------------------------------------------------------------------------

def test_toml_suite_cannot_name_python_code():
    """Registries are chosen in Python only (the `Components` hook); a suite file naming an import path is an
    unknown key or an unknown name, never an import."""
    base = write_suite.__globals__["SUITE"].replace("{extra_methods}", "")
    with pytest.raises(ValueError, match=r"\[suite\] key 'components': unknown key"):
        parse_suite(base.replace('name = "tiny"', 'name = "tiny"\ncomponents = "os:system"'), components=COMPONENTS)
    with pytest.raises(ValueError, match=r"unknown method 'os:system'"):
        parse_suite(base.replace('name = "linear"', 'name = "os:system"'), components=COMPONENTS)


def test_report_escapes_names_and_reasons(tmp_path):
    """Method labels and failure reasons from the store appear escaped in the HTML report."""
    p = write_suite(tmp_path / "e.toml", '[[methods]]\nname = "failing"\nlabel = "<b>bad</b>"\n', **ONE_SEED)
    suite = load_suite(p, components=COMPONENTS)
    suite = dataclasses.replace(suite, tasks=suite.tasks[:1], methods=suite.methods[2:])
    db = ResultsStore(tmp_path / "e.sqlite")
    spec = suite.runs()[0]
    db.claim(spec.run_id, spec.config, "me")
    db.finish(spec.run_id, {"status": "failed", "reason": "<script>alert(1)</script>"}, version="t")
    html = report(suite, tmp_path / "e.html", store=db).read_text()
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bad</b>" not in html and "&lt;b&gt;bad&lt;/b&gt;" in html


def test_suite_cannot_name_an_invariant_as_a_metric(tmp_path):
    """A suite naming correlation_dimension (an invariant, not a (true, generated) metric) is refused when the
    suite is read, instead of failing every run."""
    from dsrkit.bench.suite import load_suite

    suite = tmp_path / "s.toml"
    suite.write_text('[suite]\nname = "s"\n[[tasks]]\nname = "a"\nsystem = "lorenz63"\n'
                     'metrics = ["state_space_divergence", "correlation_dimension"]\n[[methods]]\nname = "mean"\n')
    with pytest.raises(ValueError, match="unknown metric 'correlation_dimension'"):
        load_suite(suite)
