"""How far free runs from other starting points stray, for models the main job chose: the numbers behind
`dsrkit.training.search.STRAY_FACTOR` and `STRAY_RUN_FACTOR`.

For each run folder that `reconstruct_devset.py` left (`--workdir`), on the flow's noisy training file (seed 0,
5 % noise, its last 16 000 points as the validation segment) and clean test file (seed 1), standardised with the
run's scaler:
- `long`: the validation D_stsp of the search's long free run from the first validation point; `lowest`: the
  lowest D_stsp of its T_v-long pieces (the basin check's reference); `pieces`: every piece's D_stsp ÷ `lowest`;
- `starts`: for each of the basin check's later starts, the D_stsp of its judged part (the last T_v steps of a
  run STRAY_RUN_FACTOR · T_v long) ÷ `lowest`; `late`: the same for the long run's own last piece;
- `stray`: the basin check's share as the search now computes it;
- `test`: the protocol's test D_stsp from the first test point (as `reconstruct_devset.py` judges).

    python benchmarks/stray_probe.py /tmp/devset_work_A /tmp/devset_work_B --out benchmarks/results/stray_probe.jsonl
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from pathlib import Path

import numpy as np

T_V = 16_000


def probe(run_dir: Path) -> dict:
    from dsrkit import runs, systems
    from dsrkit.evaluation import Protocol
    from dsrkit.metrics.geometry import state_space_divergence_result
    from dsrkit.rollout import generate, protocol_free_run
    S = importlib.import_module("dsrkit.training.search")  # the module: the package exports a function of that name

    flow = run_dir.name[: -len("_run")].replace("dysts_", "dysts:")
    run = runs.Run.open(run_dir)
    model, scaler = run.model, run.standardizer
    system = systems.get(flow)
    val = scaler.transform(system.trajectory(100_000, seed=0, noise=0.05))[-T_V:]
    test = scaler.transform(system.trajectory(100_000, seed=1))
    scores = S.validation_scores(model, val, horizon=S.validation_horizon(T_V), spectrum_length=S.SPECTRUM_LENGTH)
    horizon = S.validation_horizon(T_V)
    gen = np.asarray(generate(model, val[0], horizon), np.float64)[int(round(S.TRANSIENT_SHARE * horizon)):]
    pieces = [state_space_divergence_result(val, gen[i * T_V:(i + 1) * T_V], bins=30).value
              for i in range(len(gen) // T_V)]
    lowest = min(pieces)
    n = T_V // (S.BASIN_STARTS + 1)
    starts = []
    for k in range(1, S.BASIN_STARTS + 1):
        y = np.asarray(generate(model, val[k * n], S.STRAY_RUN_FACTOR * T_V), np.float64)[-T_V:]
        d = state_space_divergence_result(val, y, bins=30).value if np.all(np.isfinite(y)) else float("nan")
        starts.append(round(d / lowest, 2))
    late = state_space_divergence_result(val, gen[-T_V:], bins=30).value / lowest
    test_run = protocol_free_run(model, test, Protocol(), dtype=np.float64)
    return {"run": str(run_dir), "flow": flow, "long": round(scores["val_d_stsp"], 3), "lowest": round(lowest, 3),
            "pieces": [round(d / lowest, 2) for d in pieces], "starts": starts, "late": round(late, 2),
            "stray": scores["val_stray"], "score": scores["score"],
            "test": round(state_space_divergence_result(test, test_run, bins=30).value, 3),
            "date": time.strftime("%Y-%m-%d")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workdirs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, help="append one JSON line per run folder")
    args = ap.parse_args()
    for w in args.workdirs:
        for run_dir in sorted(w.glob("*_run")):
            if run_dir.name.startswith("recording_"):
                continue
            row = probe(run_dir)
            print(f"{row['flow']:22s} long {row['long']:6.2f}  pieces {row['pieces']}  starts {row['starts']}  late "
                  f"{row['late']:5.2f}  stray {row['stray']:.2f}  test {row['test']:.3f}", flush=True)
            if args.out:
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
