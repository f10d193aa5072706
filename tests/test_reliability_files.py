"""Nothing the user saved is lost, a wrong result is never silently accepted, every error is one plain line.

Each test reproduces one numbered case of the reliability review (case N in the name) and checks the fix.
"""

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dsrkit.cli import app
from dsrkit.data import Dataset

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"traceback instead of an error line: {result.exception!r}\n{result.output}")
    return result.exit_code, result.output


def snapshot(root: Path) -> dict:
    """path -> bytes of every file under root (directories as None)."""
    out = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = None if p.is_dir() else p.read_bytes()
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    from dsrkit import systems

    s = systems.get("lorenz63")
    Dataset([s.trajectory(1200, seed=0)], dt=0.01).save(d / "train.npz")
    Dataset([s.trajectory(1200, seed=1)], dt=0.01).save(d / "test.npz")
    return d


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    """A trained run directory (1 epoch); tests copy it before changing it."""
    out = tmp_path_factory.mktemp("runs") / "run"
    code, text = invoke("train", data / "train.npz", "--latent-dim", 6, "--epochs", 1, "--seq-len", 20, "--out", out)
    assert code == 0, text
    return out


def copy_run(run, dest):
    import shutil

    shutil.copytree(run, dest)
    return dest


TRAIN_FAST = ("--latent-dim", 6, "--epochs", 1, "--seq-len", 20)


# ---------------------------------------------------------------------------------------------- case 1, 2, 12


def test_case01_force_never_deletes_a_folder_that_is_not_a_run(data, tmp_path):
    p = tmp_path / "p"
    (p / "src").mkdir(parents=True)
    (p / "notes.txt").write_text("x")
    (p / "data.npz").write_bytes((data / "train.npz").read_bytes())
    before = snapshot(p)
    code, out = invoke("train", p / "data.npz", *TRAIN_FAST, "--out", p, "--force")
    assert code == 2 and "not a dsrkit run directory" in out, out
    assert snapshot(p) == before


def test_case01_force_never_replaces_the_working_directory(data, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("mine")
    monkeypatch.chdir(work)
    code, out = invoke("train", data / "train.npz", *TRAIN_FAST, "--out", ".", "--force")
    assert code == 2 and "error:" in out
    assert (work / "keep.txt").read_text() == "mine"


def test_case01_force_replaces_a_run_and_leaves_no_temporary_folder(run, data, tmp_path):
    target = copy_run(run, tmp_path / "r")
    old_model = (target / "model.eqx").read_bytes()
    code, out = invoke("train", data / "train.npz", "--latent-dim", 7, "--epochs", 1, "--seq-len", 20, "--out", target,
                       "--force")
    assert code == 0, out
    assert (target / "model.eqx").read_bytes() != old_model
    assert json.loads((target / "config.json").read_text())["config"]["model_args"]["latent_dim"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_case02_failed_training_with_force_keeps_the_old_run(run, data, tmp_path):
    target = copy_run(run, tmp_path / "r")
    before = snapshot(target)
    code, out = invoke("train", data / "train.npz", "--relu-units", 0, *TRAIN_FAST, "--out", target, "--force")
    assert code == 2, out
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_case12_failed_training_leaves_nothing_so_the_same_out_can_be_reused(data, tmp_path):
    target = tmp_path / "new"
    code, out = invoke("train", data / "train.npz", "--lr", "inf", "1e-5", *TRAIN_FAST, "--out", target)
    assert code == 2, out
    assert not target.exists() and list(tmp_path.iterdir()) == []
    code, out = invoke("train", data / "train.npz", *TRAIN_FAST, "--out", target)
    assert code == 0, out


# ---------------------------------------------------------------------------------------------- case 3


def test_case03_failing_report_leaves_the_run_unchanged(run, tmp_path):
    target = copy_run(run, tmp_path / "r")
    np.save(tmp_path / "five_points.npy", np.ones((5, 3)))
    before = snapshot(target)
    code, out = invoke("report", target, "--data", tmp_path / "five_points.npy", "--dt", 0.01)
    assert code == 2, out
    assert snapshot(target) == before


def test_case03_failing_analyze_leaves_the_run_unchanged(run, tmp_path):
    target = copy_run(run, tmp_path / "r")
    np.save(tmp_path / "two_vars.npy", np.ones((50, 2)))
    before = snapshot(target)
    code, out = invoke("analyze", target, "--data", tmp_path / "two_vars.npy", "--dt", 0.01)
    assert code == 2 and "variable" in out, out
    assert snapshot(target) == before


# ---------------------------------------------------------------------------------------------- case 7


def _rewrite_header(path: Path, edit) -> None:
    from dsrkit.io import MAGIC

    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[len(MAGIC):len(MAGIC) + 8])[0]
    head = raw[len(MAGIC) + 8:len(MAGIC) + 8 + n].decode()
    new = edit(head).encode()
    path.write_bytes(MAGIC + struct.pack("<Q", len(new)) + new + raw[len(MAGIC) + 8 + n:])


def test_case07_checksum_covers_the_header(tmp_path):
    import jax

    import dsrkit

    model = dsrkit.models.ALRNN(obs_dim=3, latent_dim=8, relu_units=2, key=jax.random.key(0))
    path = dsrkit.save(model, tmp_path / "m.eqx")
    _rewrite_header(path, lambda h: h.replace('"relu_units": 2', '"relu_units": 3'))
    with pytest.raises(ValueError, match="checksum"):
        dsrkit.load(path)


def test_case07_config_json_is_checked_against_the_model(run, data, tmp_path):
    target = copy_run(run, tmp_path / "r")
    cfg = json.loads((target / "config.json").read_text())
    cfg["config"]["model_args"]["relu_units"] = 3
    (target / "config.json").write_text(json.dumps(cfg))
    code, out = invoke("evaluate", target, "--data", data / "test.npz")
    assert code == 2 and "does not match" in out and "relu_units" in out, out


def test_case07_version_1_files_still_load(tmp_path):
    """Models saved before the whole-file checksum (format 1) remain readable."""
    import hashlib

    import jax

    import dsrkit
    from dsrkit.io import MAGIC

    model = dsrkit.models.ALRNN(obs_dim=3, latent_dim=8, relu_units=2, key=jax.random.key(0))
    path = dsrkit.save(model, tmp_path / "m.eqx")
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[len(MAGIC):len(MAGIC) + 8])[0]
    header = json.loads(raw[len(MAGIC) + 8:len(MAGIC) + 8 + n])
    payload = raw[len(MAGIC) + 8 + n:]
    header.update(format_version=1, sha256=hashlib.sha256(payload).hexdigest())
    head = json.dumps(header).encode()
    path.write_bytes(MAGIC + struct.pack("<Q", len(head)) + head + payload)
    loaded = dsrkit.load(path)
    assert np.array_equal(np.asarray(loaded.W), np.asarray(model.W))


# ---------------------------------------------------------------------------------------------- case 9


def test_case09_latent_below_n_plus_p_is_an_error(data, tmp_path):
    for latent in (0, 4):  # N + P = 3 + 2
        code, out = invoke("train", data / "train.npz", "--latent-dim", latent, "--epochs", 1, "--seq-len", 20,
                           "--out", tmp_path / f"r{latent}")
        assert code == 2 and "at least 5" in out, out
        assert not (tmp_path / f"r{latent}").exists()


def test_case09_config_records_the_model_actually_built(tmp_path):
    """A configuration whose latent size the model raises records the built size."""
    from dsrkit import systems
    from dsrkit.pipeline import train_run
    from dsrkit.training import default_config

    ds = Dataset([systems.get("lorenz63").trajectory(400, seed=0)], dt=0.01)
    config = default_config(None)
    config["model_args"] = {"latent_dim": 2, "relu_units": 2}
    config["train"].update(epochs=1, seq_len=20, eval_steps=300)
    _, _, out = train_run(ds, config, tmp_path / "r", progress=False)
    cfg = json.loads((out / "config.json").read_text())
    import dsrkit

    assert cfg["config"]["model_args"]["latent_dim"] == dsrkit.load(out).latent_dim == 5


# ---------------------------------------------------------------------------------------------- case 13, 14


@pytest.mark.parametrize("name", ["a[/b]c", "x[red]y", "[[tasks]]"])
def test_case13_paths_with_brackets_are_printed_verbatim(tmp_path, name):
    missing = tmp_path / name / "data.npz"
    code, out = invoke("train", missing, "--out", tmp_path / "r")
    assert code == 2 and str(missing) in out, out
    assert out.count("\n") == 1 and out.startswith("error:")


def test_case13_suite_errors_keep_their_brackets(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('[suite]\nname = "s"\n[[tasks]]\nname = "a"\nsystem = "lorenz63"\nnoise = "x"\n'
                     '[[methods]]\nname = "mean"\n')
    code, out = invoke("bench", suite, "--store", tmp_path / "s.sqlite")
    assert code == 2 and "[[tasks]] #1" in out, out


def test_case14_reconstruct_out_is_an_existing_file(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("mine")
    code, out = invoke("reconstruct", "lorenz63", "--max-epochs", 1, "--n-train", 2000, "--n-test", 500, "--out", f)
    assert code == 2 and "not a directory" in out, out
    assert f.read_text() == "mine"


@pytest.mark.parametrize("content", ["[1, 2, 3]", '"text"', "{not json"])
def test_case14_config_json_that_is_not_an_object(run, data, tmp_path, content):
    target = copy_run(run, tmp_path / "r")
    (target / "config.json").write_text(content)
    code, out = invoke("evaluate", target, "--data", data / "test.npz")
    assert code == 2 and "config.json" in out, out


# ---------------------------------------------------------------------------------------------- case 15, 16


def test_case15_system_name_wins_over_a_folder_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lorenz63").mkdir()
    (tmp_path / "lorenz63" / "keep.txt").write_text("x")
    from dsrkit.reconstruction import prepare_data

    splits = prepare_data("lorenz63", n_train=3000, n_test=3000)
    assert splits.source["kind"] == "system" and splits.train.dim == 3
    with pytest.raises(ValueError, match="is a directory"):
        prepare_data("./lorenz63")


def test_case16_text_saved_as_npy_is_named_as_such(tmp_path):
    p = tmp_path / "x.npy"
    p.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="not a NumPy .npy file") as err:
        Dataset.load(p, dt=0.1)
    assert "pickle" not in str(err.value)


def test_case16_corrupt_standardizer_is_named(run, data, tmp_path):
    target = copy_run(run, tmp_path / "r")
    cfg = json.loads((target / "config.json").read_text())
    cfg["standardizer"]["std"] = [1.0, 0.0, None]
    (target / "config.json").write_text(json.dumps(cfg))
    code, out = invoke("evaluate", target, "--data", data / "test.npz")
    assert code == 2 and "standardizer is corrupt" in out and "clean or interpolate" not in out, out


def test_case16_variable_count_mismatch_is_explained(run, tmp_path):
    Dataset([np.random.default_rng(0).standard_normal((1200, 2))], dt=0.01).save(tmp_path / "two.npz")
    code, out = invoke("evaluate", run, "--data", tmp_path / "two.npz")
    assert code == 2 and "2 variable(s)" in out and "has 3" in out, out
    csv = tmp_path / "h.csv"
    csv.write_text("a\n1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match=r"header has 1 names.*3 columns"):
        Dataset.load(csv, dt=0.1)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    from dsrkit import _files

    p = tmp_path / "a.txt"
    p.write_text("old")
    with pytest.raises(RuntimeError):
        with _files.atomic_path(p, overwrite=True) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert p.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]
    with pytest.raises(FileExistsError, match="--force"):
        _files.write_text(p, "new")


def test_cli_in_process_leaves_jax_configuration_unchanged(data, tmp_path):
    """Only the `dsr` executable (`dsrkit.cli.main`) switches the compilation cache on; commands invoked in-process
    (tests, notebooks) leave JAX's global configuration as they found it."""
    import jax

    import conftest

    before = {k: getattr(jax.config, k) for k in conftest._JAX_FLAGS}
    for args in (("systems",), ("train", data / "train.npz", *TRAIN_FAST, "--out", tmp_path / "r")):
        code, out = invoke(*args)
        assert code == 0, out
        assert {k: getattr(jax.config, k) for k in conftest._JAX_FLAGS} == before


def test_reconstruct_scores_the_independent_test_series_not_the_training_series(tmp_path):
    """The main job's test metrics are those of the clean trajectory of seed + 1, standardised with the statistics
    of the noisy training trajectory (training and validation parts; recomputed here independently), and differ
    from the same metrics on the training series."""
    import dsrkit
    from dsrkit import systems
    from dsrkit.evaluation import Protocol, evaluate
    from dsrkit.reconstruction import reconstruct

    rec = reconstruct("lorenz63", out=tmp_path / "r", max_epochs=1, budget=30, n_train=2000, n_test=400, noise=0.3,
                      seed=3, references=False, progress=False)
    s = systems.get("lorenz63")
    train = Dataset([s.trajectory(2000, seed=3, noise=0.3)], dt=s.dt)
    test = Dataset([s.trajectory(400, seed=4)], dt=s.dt)
    _, scaler = train.standardize()
    model = dsrkit.load(rec.run_dir)
    lam = s.reference["lyapunov_max"]
    expected = evaluate(model, test.standardize(scaler)[0], Protocol(), lyapunov_max=lam)
    on_train = evaluate(model, Dataset([train.standardize(scaler)[0][0][:400]], dt=s.dt), Protocol(),
                        lyapunov_max=lam)
    for key in ("state_space_divergence", "power_spectrum_distance", "prediction_error"):
        assert rec.metrics[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-12), key
    assert rec.metrics["prediction_error"] != pytest.approx(on_train["prediction_error"], rel=1e-3)
    saved = json.loads((rec.run_dir / "metrics.json").read_text())
    assert saved["state_space_divergence"] == pytest.approx(expected["state_space_divergence"], rel=1e-9)
