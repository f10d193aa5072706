"""`dsr analyze RUN` then `dsr report RUN`: the report recomputes the derived analysis without --force, and still
refuses to replace a report (or test metrics) that exists."""

from __future__ import annotations

import pytest

from dsrkit import Dataset, systems
from dsrkit.pipeline import analyze_run, report_run, train_run
from dsrkit.training import default_config


@pytest.fixture(scope="module")
def run_and_test(tmp_path_factory):
    d = tmp_path_factory.mktemp("after_analyze")
    s = systems.get("lorenz63")
    train = Dataset([s.trajectory(1500, seed=0)], s.dt)
    Dataset([s.trajectory(800, seed=1)], s.dt).save(d / "test.npz")
    config = default_config("lorenz63")
    config["model_args"].update(latent_dim=8, relu_units=2)
    config["train"].update(epochs=2, seq_len=30)
    train_run(train, config, d / "run", progress=False)
    return d


def test_report_after_analyze_needs_no_force_and_a_second_report_does(run_and_test):
    d = run_and_test
    analyze_run(d / "run", d / "test.npz")
    assert (d / "run" / "analysis.json").exists() and not (d / "run" / "report.html").exists()
    report = report_run(d / "run", d / "test.npz")
    assert report.exists()
    before = report.read_bytes()
    with pytest.raises(FileExistsError, match="report.html"):
        report_run(d / "run", d / "test.npz")
    assert report.read_bytes() == before
