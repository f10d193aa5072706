"""Reading a report: run the main job on Lorenz-63 (what `make demo` runs) and read the verdict, the data floor,
the references, the free-run flags and the settings from the run directory it wrote.

    python examples/tutorial_report.py            # about 5 minutes on 2 CPU cores: the demo's 240-second budget
    python examples/tutorial_report.py --tiny     # under a minute: what the test suite runs

The documentation page "Reading a report" includes this file.
"""

# --8<-- [start:run]
import json
import sys
from pathlib import Path

import dsrkit as dsr

tiny = "--tiny" in sys.argv   # CI: short series, a 30-second budget, at most 2 epochs per candidate
settings = dict(n_train=4_000, n_test=2_000, budget=30, max_epochs=2) if tiny else {}
rec = dsr.reconstruct("lorenz63", out="runs/tutorial-report", progress=not tiny, **settings)
run = Path(rec.run_dir)
print("wrote", sorted(p.name for p in run.iterdir()))
# --8<-- [end:run]

# --8<-- [start:verdict]
metrics = json.loads((run / "metrics.json").read_text())
v = metrics["verdict"]
print("grade:", v["grade"])
print("verdict:", v["text"])
print("flags:", v["flags"] or "none")
print(f"model / best reference ({v['best_reference']}): {v['ratio_to_best_reference']}")
print(f"model / data floor: {v['ratio_to_floor']}")
# --8<-- [end:verdict]

# --8<-- [start:table]
rows = [("the model", metrics), ("data floor", metrics["floor"]), *metrics["references"].items()]
print(f"{'':<12} {'D_stsp':>8} {'D_H':>7}  status")
for name, r in rows:
    d, h = r.get("state_space_divergence"), r.get("power_spectrum_distance")
    print(f"{name:<12} {d if d is None else round(d, 3)!s:>8} {h if h is None else round(h, 3)!s:>7}  "
          f"{r.get('status', '')} {r.get('role', '')}")
for key in ("prediction_error", "valid_prediction_time", "lyapunov_max", "in_range_fraction"):
    print(f"{key}: {metrics.get(key)}")
print("protocol:", metrics["protocol"]["description"])
# --8<-- [end:table]

# --8<-- [start:config]
config = json.loads((run / "config.json").read_text())
print("top-level entries of config.json:", sorted(config))
for setting, reason in rec.suggestion.reasons.items():            # the settings derived from the data, with why
    print(f"  {setting}: {reason}")
print((run / "population.csv").read_text().splitlines()[0])      # the header of the search's table
print("report:", rec.report)
# --8<-- [end:config]
