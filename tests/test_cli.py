"""The `dsr` command end to end on tiny settings: each command runs, writes what it promises, refuses to overwrite,
and reports bad input as a one-line error (exit code 2) instead of a traceback."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dsrkit.cli import app
from dsrkit.data import Dataset

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_systems_table_lists_native_systems():
    code, out = invoke("systems")
    assert code == 0, out
    for name in ("lorenz63", "rossler", "henon", "logistic"):
        assert name in out


def test_simulate_writes_data_and_plot(tmp_path):
    code, out = invoke("simulate", "lorenz63", "--n-steps", 500, "--noise", 0.05, "--out", tmp_path / "l.npz",
                       "--plot", tmp_path / "l.png")
    assert code == 0, out
    ds = Dataset.load(tmp_path / "l.npz")
    assert ds.trajectories[0].shape == (500, 3) and ds.dt == 0.01
    assert (tmp_path / "l.png").stat().st_size > 1000
    code, out = invoke("simulate", "lorenz63", "--n-steps", 10, "--out", tmp_path / "l.npz")
    assert code == 2 and "already exists" in out


def test_unknown_system_is_a_clear_error(tmp_path):
    code, out = invoke("simulate", "lorenz64", "--out", tmp_path / "x.npz")
    assert code == 2 and "unknown system 'lorenz64'" in out and "lorenz63" in out


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    X = Dataset.load(_simulate(d / "train.npz", 3000, seed=0))
    assert X.dim == 3
    _simulate(d / "test.npz", 1500, seed=1)
    code, out = invoke("train", d / "train.npz", "--latent-dim", 8, "--relu-units", 2, "--epochs", 2, "--seq-len", 30,
                       "--out", d / "run")
    assert code == 0, out
    return d


def _simulate(path, steps, seed):
    code, out = invoke("simulate", "lorenz63", "--n-steps", steps, "--seed", seed, "--out", path)
    assert code == 0, out
    return path


def test_train_writes_a_loadable_run_directory(trained_run):
    import dsrkit

    run = trained_run / "run"
    for name in ("config.json", "model.eqx", "history.csv", "figures/learning_curves.png"):
        assert (run / name).exists(), name
    model = dsrkit.load(run)
    assert model.obs_dim == 3 and model.latent_dim == 8
    code, out = invoke("train", trained_run / "train.npz", "--epochs", 1, "--out", run)
    assert code == 2 and "already exists" in out


def test_evaluate_prints_json_with_protocol(trained_run):
    code, out = invoke("evaluate", trained_run / "run", "--data", trained_run / "test.npz", "--format", "json")
    assert code == 0, out
    result = json.loads(out)
    assert result["status"] in ("ok", "diverged")
    assert "1.25" in result["protocol"]["description"]


def test_export_writes_plain_arrays_and_refuses_to_overwrite(trained_run):
    """`dsr export RUN` writes RUN/model.npz (the parameters `dsrkit.export.read_export` reads back); --format json
    --out PATH writes JSON there; an existing file is refused without --force and replaced with it."""
    from dsrkit.export import read_export

    run = trained_run / "run"
    code, out = invoke("export", run)
    assert code == 0 and f"wrote {run / 'model.npz'}" in out, out
    params, meta = read_export(run / "model.npz")
    assert params and meta["dsrkit_version"]
    target = trained_run / "exported.json"
    code, out = invoke("export", run, "--format", "json", "--out", target)
    assert code == 0 and json.loads(target.read_text()), out
    before = target.read_bytes()
    code, out = invoke("export", run, "--format", "json", "--out", target)
    assert code == 2 and "already exists" in out and target.read_bytes() == before, out
    code, out = invoke("export", run, "--format", "json", "--out", target, "--force")
    assert code == 0, out
    code, out = invoke("export", run, "--format", "csv")
    assert code == 2 and "--format must be one of npz, json" in out
    code, out = invoke("export", trained_run / "no-such-run")
    assert code == 2 and "no-such-run" in out


def test_analyze_writes_analysis_json(trained_run):
    code, out = invoke("analyze", trained_run / "run")
    assert code == 0, out
    analysis = json.loads((trained_run / "run" / "analysis.json").read_text())
    assert analysis["n_subregions"] >= 1


def test_train_rejects_bad_data(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,nan\n")
    code, out = invoke("train", bad, "--dt", 0.1, "--out", tmp_path / "run")
    assert code == 2 and "non-finite" in out and not (tmp_path / "run").exists()


def test_reconstruct_end_to_end_tiny(tmp_path):
    """The main job end to end on a tiny budget: a self-contained report with the verdict, the references and the
    population; the verdict on stdout; a second run into the same folder is refused."""
    out_dir = tmp_path / "rec"
    code, out = invoke("reconstruct", "lorenz63", "--max-epochs", 2, "--budget", 30, "--n-train", 3000,
                       "--n-test", 2000, "--out", out_dir)
    assert code == 0, out
    assert "verdict:" in out
    html = (out_dir / "report.html").read_text()
    assert "data:image/png;base64," in html and "Interpretation" in html and "Protocol" in html
    assert "Verdict:" in html and "data floor" in html and "esn (reference)" in html
    assert "src=\"http" not in html  # self-contained
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["status"] in ("ok", "diverged")
    assert metrics["verdict"]["grade"] in ("failed", "poor", "comparable", "good", "unjudged")
    # header + the small population of a short search: 4 shPLRNNs
    assert (out_dir / "population.csv").read_text().count("\n") == 1 + 4
    code, out = invoke("reconstruct", "lorenz63", "--max-epochs", 1, "--out", out_dir)
    assert code == 2 and "already exists" in out


def test_reconstruct_with_the_shplrnn_and_an_unknown_model(tmp_path):
    """--model shplrnn searches shPLRNNs with adaptive GTF only; an unknown model name is a clear error."""
    out_dir = tmp_path / "sh"
    code, out = invoke("reconstruct", "lorenz63", "--model", "shplrnn", "--max-epochs", 2, "--budget", 30,
                       "--no-references", "--n-train", 3000, "--n-test", 2000, "--out", out_dir)
    assert code == 0, out
    cfg = json.loads((out_dir / "config.json").read_text())
    assert cfg["config"]["model"] == "shplrnn" and cfg["config"]["scheme"] == "adaptive_gtf"
    assert {c["model"] for c in cfg["search"]["candidates"]} == {"shplrnn"}
    assert (out_dir / "report.html").exists()
    code, out = invoke("reconstruct", "lorenz63", "--model", "lstm", "--out", tmp_path / "x")
    assert code == 2 and "model must be one of" in out and not (tmp_path / "x").exists()
    code, out = invoke("reconstruct", "lorenz63", "--model", "plrnn", "--out", tmp_path / "x")
    assert code == 2 and "dsr train DATA --model plrnn" in out and not (tmp_path / "x").exists()


def test_report_rewrites_from_a_data_file(trained_run):
    code, out = invoke("report", trained_run / "run", "--data", trained_run / "test.npz", "--force")
    assert code == 0, out
    before = (trained_run / "run" / "metrics.json").read_bytes()
    code, out = invoke("report", trained_run / "run", "--data", trained_run / "test.npz")
    assert code == 2 and "already has" in out and "--force" in out, out  # never replaced silently
    assert (trained_run / "run" / "metrics.json").read_bytes() == before
    assert "data:image/png;base64," in (trained_run / "run" / "report.html").read_text()


def test_bench_runs_a_slice_of_a_suite(tmp_path, monkeypatch):
    """--task / --method run only that slice (here one fast run of the `mean` baseline) into the given store; the
    shipped suite is found by its name from any folder, for running and for `results`."""
    monkeypatch.chdir(tmp_path)
    suite = "core"  # a suite shipped with the package, found by name
    store = tmp_path / "core.sqlite"
    code, out = invoke("bench", suite, "--fast", "--task", "lorenz63", "--method", "mean", "--workers", 1,
                       "--store", store)
    assert code == 0, out
    assert "core: 1 runs" in out and "1 ok" in out
    code, out = invoke("bench", "results", suite, "--fast", "--store", store)  # the suite by name here too
    assert code == 0 and "# core" in out and "mean" in out, out
    code, out = invoke("bench", suite, "--fast", "--task", "lorenz", "--store", store)
    assert code == 2 and "unknown task(s) ['lorenz']" in out


def test_bench_needs_a_suite_after_results():
    code, out = invoke("bench", "results")
    assert code == 2 and "needs the suite" in out and "core" in out


def test_bench_names_the_shipped_suites_for_an_unknown_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = invoke("bench", "results", "cor")
    assert code == 2 and "cor: no such suite file" in out and "catalogue, core" in out


def test_train_reads_a_csv_as_reconstruct_does(tmp_path):
    """--time-col / --columns / --series-col of `dsr train` are `Dataset.load`'s: a CSV with a time column, an
    id column and an unused variable trains on the chosen variables, one trajectory per id."""
    import dsrkit

    rows = ["time,id,x,y,junk"]
    for sid in (1, 2):
        for i in range(400):
            t = i * 0.05
            rows.append(f"{t:.2f},{sid},{np.sin(t + sid):.6f},{np.cos(1.3 * t):.6f},{7 * sid}")
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    code, out = invoke("train", tmp_path / "d.csv", "--time-col", "time", "--series-col", "id", "--columns", "x,y",
                       "--latent-dim", 4, "--epochs", 1, "--seq-len", 20, "--out", tmp_path / "run")
    assert code == 0, out
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["names"] == ["x", "y"] and cfg["dt"] == pytest.approx(0.05)
    assert dsrkit.load(tmp_path / "run").obs_dim == 2
    code, out = invoke("train", tmp_path / "d.csv", "--series-col", "id", "--columns", "x,nope", "--out",
                       tmp_path / "run2")
    assert code == 2 and "nope" in out and not (tmp_path / "run2").exists()


def test_evaluate_format_is_table_or_json(trained_run):
    code, out = invoke("evaluate", trained_run / "run", "--data", trained_run / "test.npz", "--format", "yaml")
    assert code == 2 and "--format must be one of table, json; got 'yaml'" in out
    code, out = invoke("evaluate", trained_run / "run", "--data", trained_run / "test.npz")
    assert code == 0 and "protocol:" in out, out


def test_train_with_two_seeds_keeps_the_better_member(trained_run):
    code, out = invoke("train", trained_run / "train.npz", "--latent-dim", 8, "--epochs", 2, "--seq-len", 30,
                       "--n-seeds", 2, "--out", trained_run / "run2")
    assert code == 0, out
    cfg = json.loads((trained_run / "run2" / "config.json").read_text())
    metrics = json.loads((trained_run / "run2" / "metrics.json").read_text())
    assert cfg["seeds"] == 2 and cfg["member"] in (0, 1)
    assert set(metrics["training_data"]) >= {"d_stsp", "d_h"}
    import dsrkit

    assert dsrkit.load(trained_run / "run2").latent_dim == 8


def test_default_run_directory_never_replaces_an_earlier_run(tmp_path):
    from dsrkit.pipeline import default_run_dir

    assert default_run_dir("lorenz63", tmp_path) == tmp_path / "lorenz63"
    (tmp_path / "lorenz63").mkdir()
    (tmp_path / "lorenz63" / "report.html").write_text("kept")
    assert default_run_dir("lorenz63", tmp_path) == tmp_path / "lorenz63-2"
