"""Speed of the reconstruction metrics, beside plain NumPy/SciPy reference implementations in the same run.

    .venv/bin/python benchmarks/bench_metrics.py [--repeats 15] [--n 100000]

Data: two Lorenz-63 trajectories (dsrkit.systems, dt 0.01, seeds 0 and 1), n × 3 samples each.
Prints a markdown table: median wall and CPU (process) time over the repeats, dsrkit and reference called
alternately, and the ratio reference / dsrkit. The Lorenz-63 Lyapunov spectrum is timed on its first call in
this process (compilation included) and on a second call (compiled loop re-used).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

import dsrkit
from dsrkit import metrics

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_metrics import histogramdd_dstsp as reference_dstsp  # noqa: E402  the tests' brute-force D_stsp


def reference_dh(true, gen, sigma=20.0):
    """Straightforward NumPy/SciPy version: per dimension z-score, |rfft|², gaussian_filter1d, clip, Hellinger."""

    def spec(x):
        p = np.abs(np.fft.rfft((x - x.mean()) / x.std())) ** 2
        p = np.clip(gaussian_filter1d(p, sigma), 0, None)
        return p / p.sum()

    hs = [
        np.sqrt(np.sum((np.sqrt(spec(true[:, d])) - np.sqrt(spec(gen[:, d]))) ** 2)) / np.sqrt(2)
        for d in range(true.shape[1])
    ]
    return float(np.mean(hs))


def timed_pair(ours, ref, repeats):
    """Values and timings of two functions, called alternately so that both see the same machine load.

    Returns (value_ours, value_ref, times_ours, times_ref), times as {"wall": [...], "cpu": [...]} in seconds
    (cpu = process time, which does not count time spent waiting for a core on a busy machine).
    """
    vals = ours(), ref()
    times = ({"wall": [], "cpu": []}, {"wall": [], "cpu": []})
    for _ in range(repeats):
        for fn, t in zip((ours, ref), times):
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            t["wall"].append(time.perf_counter() - w0)
            t["cpu"].append(time.process_time() - c0)
    return vals[0], vals[1], times[0], times[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()

    s = dsrkit.systems.get("lorenz63")
    true, gen = s.trajectory(args.n, seed=0), s.trajectory(args.n, seed=1)
    rows = []
    for name, ours, ref in [
        ("D_stsp (30 bins/dim)", lambda: metrics.state_space_divergence(true, gen), lambda: reference_dstsp(true, gen)),
        ("D_H (sigma 20)", lambda: metrics.power_spectrum_distance(true, gen), lambda: reference_dh(true, gen)),
    ]:
        v, rv, t, rt = timed_pair(ours, ref, args.repeats)
        rows.append((f"{name}, {args.n:,} × 3", v, rv, t, rt))

    t0 = time.perf_counter()
    lam = metrics.lyapunov_spectrum(s, 200_000, qr_every=10)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    metrics.lyapunov_spectrum(s, 200_000, qr_every=10)
    t_second = time.perf_counter() - t0

    med = lambda xs: float(np.median(xs)) * 1e3  # noqa: E731
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}; repeats {args.repeats}; "
          f"load average at the end {load:.1f}")
    print()
    print("| metric | dsrkit value | reference value | dsrkit wall / cpu median ms | reference wall / cpu median ms "
          "| ratio ref/dsrkit (cpu) |")
    print("|---|---|---|---|---|---|")
    for label, v, rv, t, rt in rows:
        print(f"| {label} | {v:.6f} | {rv:.6f} | {med(t['wall']):.1f} / {med(t['cpu']):.1f} | "
              f"{med(rt['wall']):.1f} / {med(rt['cpu']):.1f} | {med(rt['cpu']) / med(t['cpu']):.1f}× |")
    print()
    print("| Lyapunov spectrum | value | wall time |")
    print("|---|---|---|")
    print(f"| Lorenz-63, RK4 dt 0.01, 2000 time units (200 000 steps, QR every 10), float64, 1st call incl. "
          f"compilation | ({lam[0]:.4f}, {lam[1]:.4f}, {lam[2]:.3f}) | {t_first:.2f} s |")
    print(f"| same, 2nd call (compiled loop re-used) | | {t_second:.2f} s |")


if __name__ == "__main__":
    main()
