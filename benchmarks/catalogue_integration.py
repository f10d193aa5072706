"""Time to integrate a training and a test trajectory of every dysts catalogue flow, SciPy vs compiled.

For each flow of `dsrkit.systems.catalogue_names()`: the adapter's SciPy path (DOP853 on dysts' NumPy right-hand
side, rtol = atol = 1e-10) and its compiled path (dysts' right-hand side re-bound to jax.numpy, Diffrax Dopri8
with a PID controller at the same tolerances; `dsrkit.systems._dysts`), each producing a training trajectory
(seed 0) and a test trajectory (seed 1) of n samples after `transient` dropped samples, at the catalogue dt
(period / 100). The compiled path is timed twice: the first call includes compiling (once per system and
process; later processes load it from JAX's persistent cache when enabled), the second is warm. Agreement: the
largest |difference| between the two paths over the first 100 samples from the catalogue initial condition,
divided by the catalogue std (chaos separates the two solutions later). A flow whose SciPy solve takes longer
than --scipy-limit seconds is recorded as "timeout" for SciPy.

Run:  python benchmarks/catalogue_integration.py [--n 20000] [--transient 500] [--out FILE.csv]
Writes one CSV row per flow and prints a summary (markdown).
"""

from __future__ import annotations

import argparse
import csv
import platform
import signal
import statistics
import time
from pathlib import Path

import numpy as np

from dsrkit import systems
from dsrkit.systems import _dysts
from dsrkit.systems._dysts import CatalogueSystem, jax_rhs

OUT = Path(__file__).parent / "results" / "catalogue" / "integration.csv"


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def pair(s, n, transient, compiled, limit=None):
    """(seconds, train, test) for the training (seed 0) and test (seed 1) trajectories, or raises."""
    CatalogueSystem.use_compiled = compiled
    if limit:
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(int(limit))
    try:
        t0 = time.perf_counter()
        train = s.trajectory(n, transient=transient, seed=0)
        test = s.trajectory(n, transient=transient, seed=1)
        return time.perf_counter() - t0, train, test
    finally:
        if limit:
            signal.alarm(0)
        CatalogueSystem.use_compiled = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="samples per trajectory (after the transient)")
    parser.add_argument("--transient", type=int, default=500)
    parser.add_argument("--scipy-limit", type=float, default=120.0, help="seconds per flow for the SciPy pair")
    parser.add_argument("--systems", nargs="*", help="catalogue names (default: all)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    _dysts.SCIPY_MEMO_BYTES = 0  # time every SciPy solve, never a remembered one
    names = args.systems or systems.catalogue_names()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fields = ["system", "dim", "dt", "compiled_rhs", "scipy_s", "compiled_first_s", "compiled_warm_s",
              "speedup_warm", "max_dev_100_over_std", "scipy_status", "compiled_status"]
    rows = []
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, n = {args.n} (+ {args.transient}) "
          f"x 2 trajectories per flow, {len(names)} flows, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
          flush=True)
    for name in names:
        s = systems.get(name)
        row = {"system": name, "dim": s.dim, "dt": f"{s.dt:.6g}", "compiled_rhs": jax_rhs(s) is not None}
        try:
            sec, train, test = pair(s, args.n, args.transient, compiled=False, limit=args.scipy_limit)
            ok = np.all(np.isfinite(train)) and np.all(np.isfinite(test))
            row.update(scipy_s=round(sec, 3), scipy_status="ok" if ok else "nonfinite")
        except _Timeout:
            row.update(scipy_s="", scipy_status="timeout")
        except Exception as e:  # noqa: BLE001 - a flow that fails to integrate is a result
            row.update(scipy_s="", scipy_status=f"{type(e).__name__}: {e}"[:120])
        if row["compiled_rhs"]:
            try:
                first, *_ = pair(s, args.n, args.transient, compiled=True)
                warm, train, test = pair(s, args.n, args.transient, compiled=True)
                ok = np.all(np.isfinite(train)) and np.all(np.isfinite(test))
                row.update(compiled_first_s=round(first, 3), compiled_warm_s=round(warm, 3),
                           compiled_status="ok" if ok else "nonfinite")
                if row.get("scipy_s"):
                    row["speedup_warm"] = round(row["scipy_s"] / warm, 2)
                a = s.trajectory(100, transient=0, x0=s.x0)
                CatalogueSystem.use_compiled = False
                b = s.trajectory(100, transient=0, x0=s.x0)
                CatalogueSystem.use_compiled = True
                std = np.maximum(np.std(train, axis=0), 1e-12)
                row["max_dev_100_over_std"] = f"{np.max(np.abs(a - b) / std):.2e}"
            except Exception as e:  # noqa: BLE001
                row.update(compiled_status=f"{type(e).__name__}: {e}"[:120])
        rows.append(row)
        print(", ".join(f"{k}={row.get(k, '')}" for k in fields), flush=True)
        with args.out.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)

    compiled = [r for r in rows if r.get("compiled_status") == "ok"]
    scipy_ok = [r for r in rows if r.get("scipy_status") == "ok"]

    def total(rs, key):
        return sum(float(r[key]) for r in rs if r.get(key) not in (None, ""))

    print(f"\n| | flows | total (s) | median per flow (s) |\n|---|---|---|---|")
    print(f"| SciPy DOP853, every flow | {len(scipy_ok)} ok of {len(rows)} | {total(rows, 'scipy_s'):.1f} | "
          f"{statistics.median(float(r['scipy_s']) for r in scipy_ok):.2f} |")
    if compiled:
        both = [r for r in compiled if r.get("scipy_s") not in (None, "")]
        print(f"| compiled Dopri8, first call (compile included) | {len(compiled)} | "
              f"{total(compiled, 'compiled_first_s'):.1f} | "
              f"{statistics.median(float(r['compiled_first_s']) for r in compiled):.2f} |")
        print(f"| compiled Dopri8, warm | {len(compiled)} | {total(compiled, 'compiled_warm_s'):.1f} | "
              f"{statistics.median(float(r['compiled_warm_s']) for r in compiled):.2f} |")
        print(f"| SciPy on the same {len(both)} flows | {len(both)} | {total(both, 'scipy_s'):.1f} | "
              f"{statistics.median(float(r['scipy_s']) for r in both):.2f} |")
        fallback = [r for r in rows if r.get("compiled_status") != "ok"]
        mixed = total(compiled, "compiled_warm_s") + total(fallback, "scipy_s")
        print(f"\nEvery flow, adapter as shipped (compiled where possible, warm; SciPy otherwise): {mixed:.1f} s; "
              f"SciPy only: {total(rows, 'scipy_s'):.1f} s. Fall back to SciPy: "
              f"{', '.join(r['system'] for r in fallback) or 'none'}")


if __name__ == "__main__":
    main()
