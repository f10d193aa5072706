"""Time `dsrkit.analysis.analyze` on a large shPLRNN: the model the main job selected on Dadras in a probe with
`--set hidden_dim=150` (benchmarks/results/analysis_large_model/dadras_shplrnn_L150.eqx; its free run visits
about 4 800 subregions). Data as the job's test part: the devset's training file (100 000 points, 5 % noise),
standardised with its first 80 %, the last 20 000 points. Inside the job, before the transition graph built its
node codes once, this analysis took 510 s (before.json, from the run's analysis.json).

    python benchmarks/analysis_large_model.py      # prints the seconds of one analyze call
"""

from __future__ import annotations

import json
import time
from pathlib import Path

HERE = Path(__file__).parent / "results" / "analysis_large_model"


def main() -> None:
    from dsrkit import io, systems
    from dsrkit.analysis import analyze

    s = systems.get("dysts:Dadras")
    x = s.trajectory(100_000, seed=0, noise=0.05)
    x = (x - x[:80_000].mean(0)) / x[:80_000].std(0)
    model = io.load(HERE / "dadras_shplrnn_L150.eqx")
    t0 = time.perf_counter()
    result = analyze(model, x[80_000:], dt=s.dt)
    seconds = time.perf_counter() - t0
    before = json.loads((HERE / "before.json").read_text())
    print(f"analyze: {seconds:.1f} s ({result['n_subregions']} subregions visited); inside the job before the "
          f"fix: {before['analysis_seconds']:.0f} s")


if __name__ == "__main__":
    main()
