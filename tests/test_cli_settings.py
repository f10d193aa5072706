"""`dsr reconstruct` takes the model and training settings `dsr train` takes (each replaces the one derived from
the data, and is recorded as set by the user); `dsr reconstruct --hierarchical` and `dsr fit-features` run the
hierarchical job and its few-shot fit from the command line."""

from __future__ import annotations

import json

import numpy as np

import dsrkit
from dsrkit import systems
from dsrkit.hierarchical import load_family
from dsrkit.models.hierarchical import HierarchicalModel

from test_cli import invoke


def test_reconstruct_uses_the_settings_given_on_the_command_line(tmp_path):
    out_dir = tmp_path / "rec"
    code, out = invoke("reconstruct", "lorenz63", "--model", "alrnn", "--seq-len", 40, "--interval", 5,
                       "--latent-dim", 9, "--relu-units", 3, "--lr", 0.002, 0.0001, "--input-noise", 0.01,
                       "--max-epochs", 1, "--budget", 30, "--no-references", "--n-train", 3000, "--n-test", 2000,
                       "--out", out_dir)
    assert code == 0, out
    cfg = json.loads((out_dir / "config.json").read_text())
    sg = cfg["suggestion"]
    assert (sg["seq_len"], sg["stf_intervals"], sg["latent_dim"], sg["relu_units"], sg["input_noise"]) == \
        (40, [5], 9, [3], 0.01)
    assert all(sg["reasons"][k] == "set by the user" for k in ("seq_len", "stf_intervals", "latent_dim",
                                                               "relu_units", "input_noise"))
    cands = cfg["search"]["candidates"]
    assert cands and all(c["model_args"] == {"latent_dim": 9, "relu_units": 3} for c in cands)
    assert all(c["scheme_args"] == {"interval": 5} and list(c["lr"]) == [0.002, 0.0001] for c in cands)
    assert all(c["input_noise"] == 0.01 for c in cands)


def test_reconstruct_rejects_a_bad_setting_before_any_work(tmp_path):
    code, out = invoke("reconstruct", "lorenz63", "--lr", 0.0, 0.001, "--out", tmp_path / "x")
    assert code == 2 and "lr must be" in out and not (tmp_path / "x").exists()
    code, out = invoke("reconstruct", "lorenz63", "--n-features", 2, "--out", tmp_path / "x")
    assert code == 2 and "--hierarchical" in out


def test_hierarchical_job_and_few_shot_from_the_command_line(tmp_path):
    arrays = {}
    for rho in (26.0, 28.0, 32.0):
        arrays[f"rho{rho:g}"] = systems.get("lorenz63", rho=rho).trajectory(1700, seed=0, noise=0.05)
    np.savez(tmp_path / "family.npz", dt=systems.get("lorenz63").dt, **arrays)
    np.savez(tmp_path / "new.npz", dt=systems.get("lorenz63").dt,
             x=systems.get("lorenz63", rho=30.0).trajectory(1000, seed=2))
    run = tmp_path / "fam"
    code, out = invoke("reconstruct", str(tmp_path / "family.npz"), "--hierarchical", "--model", "alrnn",
                       "--n-features", 2, "--max-epochs", 2, "--seq-len", 30, "--out", run)
    assert code == 0, out
    rows = (run / "series.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3 and "l2" in rows[0]
    code, out = invoke("reconstruct", str(tmp_path / "family.npz"), "--hierarchical", "--out", run)
    assert code == 2 and "exists" in out  # refused at once, nothing replaced
    family = dsrkit.load(run)  # the run directory's family.eqx, as load_family reads it
    assert isinstance(family, HierarchicalModel) and family.features.shape == (3, 2)
    assert np.array_equal(np.asarray(load_family(run).features), np.asarray(family.features))
    code, out = invoke("fit-features", run, tmp_path / "new.npz", "--epochs", 2, "--out", tmp_path / "new.eqx")
    assert code == 0, out
    assert out.count(",") >= 1 and type(dsrkit.load(tmp_path / "new.eqx")).__name__ == "ALRNN"
    code, out = invoke("fit-features", run, tmp_path / "new.npz", "--epochs", 2, "--out", tmp_path / "new.eqx")
    assert code == 2 and "exists" in out
