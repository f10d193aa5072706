"""How many candidates of the main job's populations never left a fixed point: per commit, the AL-RNN and
shPLRNN candidates whose best checkpoint still scored validation D_H = 1 (no power at the data's frequencies),
read from the rows of `reconstruct_devset.py` that keep their population.

    python benchmarks/devset_population.py --commits 2a5daad,f41ba65
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

ROWS = Path(__file__).parent / "results" / "reconstruct_devset.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", required=True, help="comma-separated commits")
    commits = ap.parse_args().commits.split(",")
    rows = [json.loads(line) for line in ROWS.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["commit"] in commits and r.get("population")]
    total, stuck = collections.Counter(), collections.Counter()
    for r in rows:
        for p in r["population"]:
            total[p["model"]] += 1
            stuck[p["model"]] += (p.get("val_d_h") if p.get("val_d_h") is not None else 1.0) >= 0.999
        picked = r["model"].split("(")[0]
        print(f"{r['flow']:22s} {r['commit']}  pick {picked:8s} AL-RNNs at D_H = 1: "
              f"{sum(p['model'] == 'alrnn' and (p.get('val_d_h') or 1.0) >= 0.999 for p in r['population'])}"
              f" of {sum(p['model'] == 'alrnn' for p in r['population'])}")
    print(f"{len(rows)} rows; " + "; ".join(f"{m}: {stuck[m]} of {total[m]} at validation D_H = 1"
                                          for m in sorted(total)))


if __name__ == "__main__":
    main()
