"""Reconstruct your own recording: a CSV with a time column, read as a user holds it, through the main job.

    python examples/own_data.py            # about 10 minutes on 2 cores: 100 000 points, the default budget
    python examples/own_data.py --tiny     # under a minute: what the test suite runs

The CSV written here stands in for a measurement (a Rössler series with 5 % observation noise, header
`time_s,x,y,z`); with your own file, start at `dsr.reconstruct(...)`.
"""

import sys

import numpy as np

import dsrkit as dsr

tiny = "--tiny" in sys.argv
n, budget = (4_000, 30) if tiny else (100_000, None)

system = dsr.systems.get("rossler")
x = system.trajectory(n, noise=0.05, seed=0)
t = np.arange(n) * system.dt
np.savetxt("recording.csv", np.column_stack([t, x]), delimiter=",", header="time_s,x,y,z", comments="")

# the time column is recognised (dt from it); the last 20 % is the test part, 20 % of the rest selects models
rec = dsr.reconstruct("recording.csv", out="runs/recording", budget=budget, max_epochs=3 if tiny else None,
                      references=not tiny, progress=not tiny)
print(rec.verdict["text"])
print("settings derived from the data:", {k: v for k, v in rec.suggestion.to_dict().items()
                                         if k in ("seq_len", "stf_intervals", "latent_dim", "shplrnn_hidden")})
print("report:", rec.report)
