"""Comparing methods with a suite: write a suite file (tasks x methods x seeds), run it into a resumable results
store, print the leaderboard and write the HTML report; the same as `dsr bench SUITE.toml`,
`dsr bench results SUITE.toml` and `dsr bench report SUITE.toml`.

    python examples/tutorial_suite.py            # 2-3 minutes on 2 CPU cores: 2 tasks x 5 methods x 3 seeds
    python examples/tutorial_suite.py --tiny     # seconds: the suite's [fast] settings, what the test suite runs

The documentation page "Comparing methods with a suite" includes this file.
"""

# --8<-- [start:suite]
import sys
from pathlib import Path

from dsrkit import bench

SUITE = """
[suite]
name = "flows"
description = "Lorenz-63 and Rossler with 5 % observation noise: the fast baselines against two floors."

[defaults]
n_train = 20000               # training points per task
n_test = 10000                # an independent clean test trajectory
seeds = 3                     # seeds 0, 1, 2
metrics = ["state_space_divergence", "power_spectrum_distance"]

[fast]                        # --fast / fast=True: what CI runs
n_train = 2000
n_test = 1000
seeds = [0]

[[tasks]]
system = "lorenz63"
noise = 0.05                  # the task is named lorenz63-noise5

[[tasks]]
system = "rossler"
noise = 0.05

[[methods]]
name = "mean"                 # predicts the training mean: the worst a method should do

[[methods]]
name = "parroting"            # replays the training data: a floor, not a method to beat

[[methods]]
name = "esn"

[[methods]]
name = "nvar"

[[methods]]
name = "sindy"
"""
Path("flows.toml").write_text(SUITE)
# --8<-- [end:suite]

# --8<-- [start:run]
fast = "--tiny" in sys.argv
summary = bench.run_suite("flows.toml", fast=fast, executor="inline", progress=False)   # results/flows.sqlite
print(f"{summary.total} runs: {summary.ok} ok, {summary.diverged} diverged, {summary.failed} failed, "
      f"{summary.skipped} already in the store; {summary.wall_s:.0f} s")

table = bench.results("flows.toml", fast=fast)       # median [IQR] over seeds per task x method, mean ranks
print(table.to_markdown())
print(bench.report("flows.toml", "flows.html", fast=fast, overwrite=True))
# --8<-- [end:run]
