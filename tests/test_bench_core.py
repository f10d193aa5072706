"""The shipped core suite runs end to end on its fast settings through the real systems, methods and metrics
(`dsr bench core --fast`): every run lands in the store exactly once with a status, and the
leaderboard covers every task x method pair."""

from pathlib import Path

from dsrkit import bench

CORE = Path(__file__).parents[1] / "src" / "dsrkit" / "suites" / "core.toml"


def test_core_suite_fast_runs_and_ranks(tmp_path):
    store = tmp_path / "core.sqlite"
    suite = bench.load_suite(CORE, fast=True)
    summary = bench.run_suite(suite, store=store, executor="local", workers=1, progress=False)
    assert summary.total == len(suite.runs()) == 35
    assert summary.ok + summary.diverged + summary.failed == summary.total
    assert summary.ok >= summary.total // 2, summary.failures  # the cheap methods must simply work
    table = bench.results(CORE, store=store, fast=True)
    md = table.to_markdown()
    for task in ("lorenz63", "rossler", "hindmarsh_rose"):
        assert task in md
    for method in ("mean", "parroting", "esn", "alrnn"):
        assert method in md
    again = bench.run_suite(suite, store=store, executor="local", workers=1, progress=False)
    assert again.skipped == summary.total  # resumable: nothing is run twice
