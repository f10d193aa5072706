"""Does training on a subsampled file help a slow-fast flow? The devset's training file of FLOW (100 000 points,
5 % noise) taken every K-th point (dt K times larger) goes to `dsrkit.reconstruct` at its defaults; the selected
model's free run (at K dt, from the first point of the clean 100 000-point test trajectory) is interpolated back
to dt with a cubic spline and judged like the devset (1.25 T steps, 0.25 T dropped, D_stsp and D_H against the
test). One JSON line per run is appended to benchmarks/results/subsample_probe/rows.jsonl.

    python benchmarks/subsample_probe.py hindmarsh_rose 4      # about 10 minutes on one core
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

OUT = Path(__file__).parent / "results" / "subsample_probe" / "rows.jsonl"


def main(name: str, k: int) -> None:
    import dsrkit
    from dsrkit import Dataset, runs, systems
    from dsrkit.evaluation import compare
    from dsrkit.rollout import generate

    s = systems.get(name)
    train_raw, test_raw = s.trajectory(100_000, seed=0, noise=0.05), s.trajectory(100_000, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"train_k{k}.npz"
        Dataset([train_raw[::k]], s.dt * k).save(path)
        t0 = time.perf_counter()
        rec = dsrkit.reconstruct(str(path), out=Path(tmp) / "run", progress=True)
        seconds = time.perf_counter() - t0
        run = runs.Run.open(rec.run_dir)
        model, scaler = run.model, run.standardizer
    test = scaler.transform(test_raw)
    total = int(1.25 * len(test))
    coarse = np.asarray(generate(model, test[0], total // k + 2), np.float64)
    fine = CubicSpline(np.arange(len(coarse)) * k, coarse, axis=0)(np.arange(total))[total - len(test):]
    judged = compare(test, fine)
    floor = compare(test, scaler.transform(train_raw)[-len(test):])
    row = {"flow": name, "k": k, "d_stsp": judged["state_space_divergence"], "d_h": judged["power_spectrum_distance"],
           "floor": [floor["state_space_divergence"], floor["power_spectrum_distance"]],
           "model": rec.search.best.candidate.label(), "secs": seconds,
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True).stdout.strip()}
    print(json.dumps(row))
    with OUT.open("a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
