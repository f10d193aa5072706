"""`dsr reconstruct` takes the model and training settings `dsr train` takes (each replaces the one derived from
the data, and is recorded as set by the user); `dsr reconstruct --hierarchical` and `dsr fit-features` run the
hierarchical job and its few-shot fit from the command line."""

from __future__ import annotations


import numpy as np
import pytest

import dsrkit
from dsrkit import Dataset, systems
from dsrkit.reconstruction import apply_settings, candidates_for
from dsrkit.training import suggest
from dsrkit.hierarchical import load_family
from dsrkit.models.hierarchical import HierarchicalModel

from test_cli import invoke


def test_reconstruct_passes_the_settings_given_on_the_command_line(tmp_path, monkeypatch):
    """Each setting reaches `reconstruct` under the library's keyword (the job itself is replaced here)."""
    import dsrkit.cli

    seen = {}

    def fake(source, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(dsrkit.cli, "run_reconstruction", fake)
    code, out = invoke("reconstruct", "lorenz63", "--model", "alrnn", "--seq-len", 40, "--interval", 5,
                       "--latent-dim", 9, "--relu-units", 3, "--hidden-dim", 30, "--lr", 0.002, 0.0001,
                       "--input-noise", 0.01, "--out", tmp_path / "rec")
    assert code == 2 and "stop here" in out
    assert {k: seen[k] for k in ("seq_len", "interval", "latent_dim", "relu_units", "hidden_dim", "lr",
                                 "input_noise", "model")} == \
        {"seq_len": 40, "interval": 5, "latent_dim": 9, "relu_units": 3, "hidden_dim": 30, "lr": (0.002, 0.0001),
         "input_noise": 0.01, "model": "alrnn"}


def test_settings_replace_the_derived_ones_and_are_recorded_as_the_users():
    s = systems.get("lorenz63")
    sg = suggest(Dataset([s.trajectory(3000, seed=0)], s.dt).standardize()[0])
    fixed = apply_settings(sg, seq_len=40, interval=5, latent_dim=9, relu_units=3, hidden_dim=30, input_noise=0.01)
    assert (fixed.seq_len, fixed.stf_intervals, fixed.latent_dim, fixed.relu_units, fixed.shplrnn_hidden,
            fixed.input_noise) == (40, (5,), 9, (3,), 30, 0.01)
    assert all(fixed.reasons[k] == "set by the user" for k in ("seq_len", "stf_intervals", "latent_dim",
                                                                "relu_units", "shplrnn_hidden", "input_noise"))
    assert fixed.reasons["stf_interval"] == "set by the user" and sg.reasons["seq_len"] != "set by the user"
    cands = candidates_for(fixed, "auto", lr=(0.002, 0.0001))
    al = [c for c in cands if c.model == "alrnn"]
    sh = [c for c in cands if c.model == "shplrnn"]
    assert al and all(c.model_args == {"latent_dim": 9, "relu_units": 3} and c.scheme_args == {"interval": 5}
                      for c in al)
    assert sh and all(c.model_args == {"hidden_dim": 30} for c in sh)
    assert all(c.lr == (0.002, 0.0001) and c.input_noise == 0.01 for c in cands)
    assert apply_settings(sg) is sg
    with pytest.raises(ValueError, match="input_noise"):
        apply_settings(sg, input_noise=-1.0)


def test_reconstruct_rejects_a_bad_setting_before_any_work(tmp_path):
    code, out = invoke("reconstruct", "lorenz63", "--lr", 0.0, 0.001, "--out", tmp_path / "x")
    assert code == 2 and "lr must be" in out and not (tmp_path / "x").exists()
    code, out = invoke("reconstruct", "lorenz63", "--n-features", 2, "--out", tmp_path / "x")
    assert code == 2 and "--hierarchical" in out


def test_hierarchical_job_and_few_shot_from_the_command_line(tmp_path):
    """The family as a long-format CSV (time, series id, x, y, z and an extra column), read as the main job reads
    a file: dt from the time column, one series per id, only the chosen columns as variables."""
    blocks = []
    for rho in (26.0, 28.0, 32.0):
        x = systems.get("lorenz63", rho=rho).trajectory(1700, seed=0, noise=0.05)
        t = 0.01 * np.arange(len(x))[:, None]
        blocks.append(np.hstack([t, np.full_like(t, rho), x, np.full_like(t, 3.7)]))
    np.savetxt(tmp_path / "family.csv", np.vstack(blocks), delimiter=",", header="time_s,rho,x,y,z,battery",
               comments="")
    reading = ("--time-col", "time_s", "--series-col", "rho", "--columns", "x,y,z")
    np.savez(tmp_path / "new.npz", dt=systems.get("lorenz63").dt,
             x=systems.get("lorenz63", rho=30.0).trajectory(1000, seed=2))
    run = tmp_path / "fam"
    code, out = invoke("reconstruct", str(tmp_path / "family.csv"), *reading, "--hierarchical", "--model", "alrnn",
                       "--n-features", 2, "--max-epochs", 2, "--seq-len", 30, "--out", run)
    assert code == 0, out
    rows = (run / "series.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3 and "l2" in rows[0]
    code, out = invoke("reconstruct", str(tmp_path / "family.csv"), *reading, "--hierarchical", "--out", run)
    assert code == 2 and "exists" in out  # refused at once, nothing replaced
    family = dsrkit.load(run)  # the run directory's family.eqx, as load_family reads it
    assert isinstance(family, HierarchicalModel) and family.features.shape == (3, 2) and family.obs_dim == 3
    assert np.array_equal(np.asarray(load_family(run).features), np.asarray(family.features))
    code, out = invoke("fit-features", run, tmp_path / "new.npz", "--epochs", 2, "--out", tmp_path / "new.eqx")
    assert code == 0, out
    assert out.count(",") >= 1 and type(dsrkit.load(tmp_path / "new.eqx")).__name__ == "ALRNN"
    code, out = invoke("fit-features", run, tmp_path / "new.npz", "--epochs", 2, "--out", tmp_path / "new.eqx")
    assert code == 2 and "exists" in out
