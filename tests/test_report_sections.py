"""The report a scientist reads: for the demo (a system name), a data file and a `dsr train` run, report.html has
every section (summary, provenance, data in raw units, metrics with both λ_max labelled, attractor on shared
axes in standardised and raw units, training, parameters and subregions, interpretation, citations), and for the
main job the verdict and the references. Tiny budgets (max_epochs=2) keep each job under a minute."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest

import dsrkit
from dsrkit import Dataset, systems
from dsrkit._version import __version__
from dsrkit.report.reconstruction import SECTIONS

LORENZ = systems.get("lorenz63")


def _sections_present(html: str) -> None:
    for anchor, heading in SECTIONS.items():
        assert f'id="{anchor}"' in html and heading in html, anchor
    for anchor in ("parameters", "subregions", "lyapunov"):
        assert f'id="{anchor}"' in html, anchor


def _common_checks(html: str, config: dict) -> None:
    _sections_present(html)
    # provenance: version, command, seed, date, checksum
    prov = config["provenance"]
    assert prov["dsrkit_version"] == __version__ and prov["command"] == "python API"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", prov["date_utc"])
    assert len(prov["data_sha256"]) == 64 and prov["data_sha256"] in html and __version__ in html
    # the data's statistics in raw units, and a raw-unit attractor on shared limits
    assert "mean (standardisation)" in html and "raw units" in html and "shared axis limits" in html
    # both λ_max, each labelled with how it was computed
    assert "analysis: QR along" in html and "evaluation: QR along" in html
    # parameters per unit and eigenvalues per visited subregion
    assert "A_ii" in html and "spectral radius ρ" in html and "leading eigenvalues of J(d)" in html
    # the model's summary and the citations of what was used
    assert "latent M =" in html and "parameters:" in html
    assert "Mikhaeil" in html or "Hess" in html  # the training scheme's paper (STF or GTF)
    assert "Koppe" in html  # D_stsp


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    rec = dsrkit.reconstruct("lorenz63", out=out, budget=30, max_epochs=2, n_train=3000, n_test=2000,
                             model="alrnn", progress=False)
    return rec


def test_demo_report_has_every_section_the_verdict_and_the_references(demo):
    html = demo.report.read_text()
    config = json.loads((demo.run_dir / "config.json").read_text())
    _common_checks(html, config)
    assert "Verdict:" in html and 'id="references"' in html and "data floor" in html and "esn (reference)" in html
    assert "Brenner, M., Hemmer" in html  # the AL-RNN's paper
    assert "Jaeger" in html and "Gauthier" in html  # the references' papers
    assert "the system&#x27;s reference value" in html or "the system's reference value" in html
    assert (demo.run_dir / "figures" / "attractor_raw.png").exists()


@pytest.fixture(scope="module")
def data_file_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("file")
    x = LORENZ.trajectory(5000, seed=3, noise=0.05) * np.array([1.0, 2.0, 0.5]) + np.array([0.0, 5.0, 100.0])
    t = np.arange(len(x)) * 0.01
    path = d / "lorenz.csv"
    np.savetxt(path, np.column_stack([t, x]), delimiter=",", header="time,u,v,w", comments="")
    rec = dsrkit.reconstruct(str(path), out=d / "run", budget=30, max_epochs=2, model="alrnn", references=False,
                             progress=False)
    return rec, path


def test_data_file_report_names_the_variables_and_checksums_the_file(data_file_run):
    rec, path = data_file_run
    html = rec.report.read_text()
    config = json.loads((rec.run_dir / "config.json").read_text())
    _common_checks(html, config)
    assert config["provenance"]["data_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "Verdict:" in html and 'id="references"' in html
    # the file's names on the axes and in the tables, never x0/x1/x2
    assert "<td>u</td>" in html and "<td>w</td>" in html
    assert "z0 = u" in html
    # raw units: the mean used for standardisation is the file's (w around 100)
    means = config["standardizer"]["mean"]
    assert means[2] > 50 and f"{means[2]:.4g}" in html


@pytest.fixture(scope="module")
def train_run_dir(tmp_path_factory):
    from dsrkit.pipeline import report_run, train_run
    from dsrkit.training import config_from_options

    d = tmp_path_factory.mktemp("train")
    Dataset([LORENZ.trajectory(3000, seed=0)], 0.01, ["x", "y", "z"]).save(d / "train.npz")
    Dataset([LORENZ.trajectory(1500, seed=1)], 0.01, ["x", "y", "z"]).save(d / "test.npz")
    ds = Dataset.load(d / "train.npz")
    cfg = config_from_options("alrnn", latent_dim=8, relu_units=2, scheme="stf", interval=8, data=ds, epochs=2,
                              seq_len=30)
    train_run(ds, cfg, d / "run", seeds=3, progress=False, source={"kind": "file", "path": str(d / "train.npz")})
    report_run(d / "run", d / "test.npz")
    return d


def test_train_run_report_shows_the_seed_spread_and_the_selected_epoch(train_run_dir):
    run = train_run_dir / "run"
    html = (run / "report.html").read_text()
    config = json.loads((run / "config.json").read_text())
    _common_checks(html, config)
    assert config["provenance"]["data_sha256"] == hashlib.sha256((train_run_dir / "train.npz").read_bytes()).hexdigest()
    assert config["provenance"]["seeds"] == 3 and len(config["members"]) == 3
    assert "Seed spread: 3 members" in html and "median" in html and "range" in html
    assert f"selected epoch ({config['best_epoch']})" in html
    assert "Brenner, M., Hemmer" in html and "Mikhaeil, J." in html  # AL-RNN and STF
    assert "Verdict:" not in html  # a train run has no verdict


def test_old_run_without_provenance_still_reports(train_run_dir, tmp_path):
    """A run written before provenance was recorded: the report says so instead of failing."""
    import shutil

    from dsrkit.pipeline import report_run

    run = tmp_path / "old"
    shutil.copytree(train_run_dir / "run", run)
    cfg = json.loads((run / "config.json").read_text())
    del cfg["provenance"], cfg["members"]
    (run / "config.json").write_text(json.dumps(cfg))
    report_run(run, train_run_dir / "test.npz", force=True)
    assert "not recorded" in (run / "report.html").read_text()
