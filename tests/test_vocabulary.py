"""One vocabulary: one `Status` for every result, one registry of model and scheme names read by the command line,
the pipeline, the configurations and the baselines, and `noise` (observation noise of data) apart from
`input_noise` (noise added to the inputs during training). Configurations written before still read."""

import json

import jax
import numpy as np
import pytest
from typer.testing import CliRunner

from dsrkit import baselines, runs, systems
from dsrkit._status import STATUSES, Status
from dsrkit.cli import app
from dsrkit.data import Dataset
from dsrkit.models import ALRNN, PLRNN, DendPLRNN, ShallowPLRNN
from dsrkit.training import (GTF, STF, AdaptiveGTF, build_model, build_scheme, config_from_options, default_config,
                             model_class, model_name, model_names, normalize_config, scheme_class, scheme_name,
                             scheme_names, train)

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def lorenz():
    return Dataset([systems.get("lorenz63").trajectory(600, seed=0)], dt=0.01)


# ---------------------------------------------------------------------------------------------- status


def test_status_is_one_str_enum_shared_by_every_layer():
    from dsrkit.baselines import _base
    from dsrkit.bench import execute, store

    assert [str(s) for s in STATUSES] == ["ok", "diverged", "failed"]
    assert Status.OK == "ok" and "diverged" == Status.DIVERGED and isinstance(Status.FAILED, str)
    assert json.dumps({"status": Status.DIVERGED}) == '{"status": "diverged"}' and f"{Status.OK}" == "ok"
    assert Status("failed") is Status.FAILED
    assert _base.STATUSES is STATUSES and store.FINISHED == STATUSES
    assert (execute.OK, execute.DIVERGED, execute.FAILED) == (Status.OK, Status.DIVERGED, Status.FAILED)


def test_baseline_status_is_a_status_also_after_loading(tmp_path):
    X = systems.get("lorenz63").trajectory(300, seed=0)
    m = baselines.get("mean").fit(X, dt=0.01)
    assert m.status_ is Status.OK
    m.save(tmp_path / "m.eqx")
    assert baselines.load(tmp_path / "m.eqx").status_ is Status.OK


# ---------------------------------------------------------------------------------------------- names


def test_registry_names_classes_and_class_names():
    assert model_names() == ("alrnn", "plrnn", "shplrnn", "dendplrnn")
    assert scheme_names() == ("stf", "gtf", "adaptive_gtf")
    assert [model_class(n) for n in model_names()] == [ALRNN, PLRNN, ShallowPLRNN, DendPLRNN]
    assert [scheme_class(n) for n in scheme_names()] == [STF, GTF, AdaptiveGTF]
    for cls in (ALRNN, PLRNN, ShallowPLRNN, DendPLRNN):  # class names (older configurations) resolve too
        assert model_class(cls.__name__) is cls and model_name(cls.__name__) in model_names()
    assert scheme_name("AdaptiveGTF") == "adaptive_gtf" and scheme_name("STF") == "stf"
    with pytest.raises(ValueError, match="unknown model 'lstm'; expected one of alrnn, plrnn, shplrnn, dendplrnn"):
        model_class("lstm")
    with pytest.raises(ValueError, match="unknown scheme 'agtf'; expected one of stf, gtf, adaptive_gtf"):
        scheme_class("agtf")
    with pytest.raises(TypeError, match="scheme must be a name"):
        scheme_name(None)


def test_every_reader_takes_its_names_from_the_registry():
    from dsrkit.baselines import plrnn

    for name in (None, "lorenz63", "rossler", "lorenz96"):
        cfg = default_config(name)
        assert (cfg["model"], cfg["scheme"]) == ("alrnn", "stf") and "input_noise" in cfg["train"]
    sh = default_config("lorenz63", model="shplrnn")
    assert (sh["model"], sh["scheme"]) == ("shplrnn", "adaptive_gtf")
    assert default_config(None, model="ShallowPLRNN") == sh and default_config(None, model="ALRNN") == default_config()
    with pytest.raises(ValueError, match="model must be one of"):
        default_config(None, model="plrnn")  # no default configuration for it
    assert set(plrnn.SCHEMES) <= set(scheme_names())
    import typer

    helps = {p.name: p.help for p in typer.main.get_command(app).commands["train"].params}
    assert helps["model"].startswith(" | ".join(model_names()))
    assert helps["scheme"].startswith(" | ".join(scheme_names()))
    assert "input_noise" in helps and "noise" not in helps
    code, out = invoke("train", "--help")
    assert code == 0 and all(n in out for n in model_names() + scheme_names()) and "--input-noise" in out, out


def test_build_model_and_scheme_from_short_and_class_names():
    key = jax.random.key(0)
    for cfg in ({"model": "alrnn", "model_args": {"latent_dim": 4, "relu_units": 1}, "scheme": "adaptive_gtf"},
                {"model": "ALRNN", "model_args": {"latent_dim": 4, "relu_units": 1}, "scheme": "AdaptiveGTF"}):
        assert type(build_model(cfg, 3, key=key)) is ALRNN and type(build_scheme(cfg)) is AdaptiveGTF


# ---------------------------------------------------------------------------------------------- configuration


def test_config_from_options_picks_the_arguments_of_the_model_and_scheme(lorenz):
    cfg = config_from_options("shplrnn", latent_dim=3, hidden_dim=8, relu_units=9, scheme="gtf", alpha=0.3,
                              interval=4, epochs=2, lr=(1e-3, 1e-4), input_noise=0.0)
    assert cfg["model"] == "shplrnn" and cfg["model_args"] == {"latent_dim": 3, "hidden_dim": 8}
    assert cfg["scheme"] == "gtf" and cfg["scheme_args"] == {"alpha": 0.3}
    assert cfg["train"]["epochs"] == 2 and cfg["train"]["lr"] == [1e-3, 1e-4] and cfg["train"]["input_noise"] == 0.0
    json.dumps(cfg)
    assert config_from_options("DendPLRNN", scheme="AdaptiveGTF")["model_args"] == {"latent_dim": 20, "n_bases": 10}
    fitted = config_from_options("alrnn", latent_dim=5, relu_units=2, seq_len=20, data=lorenz)
    assert fitted["train"]["eval_steps"] == 600  # capped by the data
    with pytest.raises(ValueError, match=r"needs at least 5 latent units \(N \+ P = 3 \+ 2\)"):
        config_from_options("alrnn", latent_dim=4, relu_units=2, seq_len=20, data=lorenz)
    with pytest.raises(ValueError, match="needs at least 3 latent units"):
        config_from_options("plrnn", latent_dim=2, seq_len=20, data=lorenz)
    with pytest.raises(ValueError, match="601"):
        config_from_options(seq_len=600, data=lorenz)
    with pytest.raises(ValueError, match="input_noise"):
        config_from_options(input_noise=-0.1)
    with pytest.raises(ValueError, match="unknown model"):
        config_from_options("lstm")


def test_noise_of_training_is_input_noise(lorenz):
    with pytest.raises(TypeError, match="noise.*input_noise"):
        config_from_options(noise=0.05)
    with pytest.raises(TypeError, match="noise.*input_noise"):
        train(ALRNN(3, 5, 2, key=jax.random.key(0)), lorenz, noise=0.05, progress=False)


def test_normalize_config_reads_configurations_written_before():
    old = {"model": "ShallowPLRNN", "model_args": {"hidden_dim": 5}, "scheme": "AdaptiveGTF", "scheme_args": {},
           "train": {"epochs": 3, "noise": 0.05, "lr": [1e-3, 1e-5]}}
    new = normalize_config(old)
    assert (new["model"], new["scheme"]) == ("shplrnn", "adaptive_gtf")
    assert list(new["train"]) == ["epochs", "input_noise", "lr"] and new["train"]["input_noise"] == 0.05
    assert old["train"]["noise"] == 0.05 and old["model"] == "ShallowPLRNN"  # a copy
    assert normalize_config(new) == new
    assert normalize_config({"model": "lstm"}) == {"model": "lstm"}  # unknown names are left to the builders


def test_a_run_written_in_the_old_vocabulary_loads_trains_and_evaluates(lorenz, tmp_path):
    from dsrkit.evaluation import evaluate
    from dsrkit.pipeline import train_run

    old = {"model": "ALRNN", "model_args": {"latent_dim": 5, "relu_units": 2}, "scheme": "STF",
           "scheme_args": {"interval": 4}, "train": {"epochs": 1, "seq_len": 20, "eval_steps": 300, "noise": 0.05}}
    fit, _, out = train_run(lorenz, old, tmp_path / "r", progress=False)
    assert isinstance(fit.status, Status) and fit.statuses.tolist() == [str(fit.status)]
    written = json.loads((out / "config.json").read_text())
    assert written["config"]["model"] == "alrnn" and written["config"]["scheme"] == "stf"
    assert written["config"]["train"]["input_noise"] == 0.05 and "noise" not in written["config"]["train"]
    # rewrite it as a run of the earlier vocabulary: it still loads, in the current vocabulary
    written["config"].update(model="ALRNN", scheme="STF")
    trained = written["config"]["train"]
    written["config"]["train"] = {("noise" if k == "input_noise" else k): v for k, v in trained.items()}
    (out / "config.json").write_text(json.dumps(written))
    model, cfg = runs.load_run(out)
    assert cfg["config"]["model"] == "alrnn" and cfg["config"]["train"]["input_noise"] == 0.05
    assert runs.Run.open(out).config["config"]["scheme"] == "stf"
    test = Dataset([systems.get("lorenz63").trajectory(400, seed=1)], dt=0.01)
    result = evaluate(model, test.standardize(runs.standardizer_of(cfg))[0])
    assert isinstance(result["status"], Status) and result["status"] in ("ok", "diverged")
    # a recorded model that is not the one in model.eqx is still refused
    written["config"]["model"] = "PLRNN"
    (out / "config.json").write_text(json.dumps(written))
    with pytest.raises(ValueError, match="records a plrnn but model.eqx holds a ALRNN"):
        runs.load_run(out)
    written["config"]["model"] = "lstm"
    (out / "config.json").write_text(json.dumps(written))
    with pytest.raises(ValueError, match="records a lstm"):
        runs.load_run(out)
    assert np.isfinite(np.asarray(model.W)).all()
