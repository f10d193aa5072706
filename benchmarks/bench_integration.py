"""Integration speed and accuracy of dsrkit.systems against SciPy's DOP853.

Times 100 000 samples of Lorenz-63 at dt = 0.01 (1000 time units) for 1 and for 64 initial conditions:
dsrkit's compiled fixed-step integrator (after compilation), dsrkit's adaptive Diffrax path, and SciPy
solve_ivp(method="DOP853", rtol=atol=1e-10) with a plain NumPy right-hand side. For 64 SciPy trajectories a few
are timed and the median is extrapolated linearly (SciPy has no batching; 64 calls cost 64 single calls).
Accuracy: maximum absolute deviation over the first 5 time units from DOP853 at rtol = atol = 1e-12.

Run:  python benchmarks/bench_integration.py [--repeats 5] [--scipy-runs 3]
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from scipy.integrate import solve_ivp

from dsrkit import systems

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0


def lorenz_numpy(t, x):
    return [SIGMA * (x[1] - x[0]), x[0] * (RHO - x[2]) - x[1], x[0] * x[1] - BETA * x[2]]


def scipy_run(x0, n, dt, tol):
    times = dt * np.arange(n)
    sol = solve_ivp(lorenz_numpy, (0.0, times[-1]), x0, method="DOP853", rtol=tol, atol=tol, t_eval=times)
    return sol.y.T


def median_time(fn, repeats):
    """Median wall time and median process CPU time (the latter is robust to other load on the machine)."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return (statistics.median(walls), statistics.median(cpus)), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-steps", type=int, default=100_000)
    parser.add_argument("--n-traj", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scipy-runs", type=int, default=3)
    parser.add_argument("--tol", type=float, default=1e-10)
    args = parser.parse_args()

    s = systems.get("lorenz63")
    dt, n = s.dt, args.n_steps
    starts = s.trajectory(args.n_traj, transient=1000, seed=0)  # points on the attractor
    x0 = starts[0]

    rows = []
    s.trajectory(n, transient=0, x0=x0)  # compile
    t_one, ours = median_time(lambda: s.trajectory(n, transient=0, x0=x0), args.repeats)
    s.trajectories(args.n_traj, n, transient=0, x0=starts)  # compile
    t_many, _ = median_time(lambda: s.trajectories(args.n_traj, n, transient=0, x0=starts),
                            max(1, args.repeats // 2))
    s.trajectory(n, transient=0, x0=x0, method="adaptive")  # compile
    t_adapt, adaptive = median_time(lambda: s.trajectory(n, transient=0, x0=x0, method="adaptive"), 1)

    t_scipy, theirs = median_time(lambda: scipy_run(x0, n, dt, args.tol), args.scipy_runs)
    t_scipy_many = (t_scipy[0] * args.n_traj, t_scipy[1] * args.n_traj)

    horizon = int(round(5.0 / dt)) + 1
    ref = scipy_run(x0, horizon, dt, 1e-12)
    dev_ours = np.abs(ours[:horizon] - ref).max()
    dev_adapt = np.abs(adaptive[:horizon] - ref).max()
    dev_scipy = np.abs(theirs[:horizon] - ref).max()

    rows.append(("dsrkit fixed-step (Tsit5, h = dt/4), 1 trajectory", t_one, t_scipy, dev_ours))
    rows.append((f"dsrkit fixed-step, {args.n_traj} trajectories (vmap)", t_many, t_scipy_many, dev_ours))
    rows.append(("dsrkit adaptive (Diffrax Dopri8, PID 1e-11), 1 trajectory", t_adapt, t_scipy, dev_adapt))
    rows.append((f"SciPy DOP853 rtol=atol={args.tol:g}, 1 trajectory (median of {args.scipy_runs})", t_scipy,
                 t_scipy, dev_scipy))
    rows.append((f"SciPy DOP853, {args.n_traj} trajectories (extrapolated: {args.n_traj} x single)", t_scipy_many,
                 t_scipy_many, dev_scipy))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Lorenz-63, {n} samples at dt = {dt} ({n * dt:g} time units); machine: {platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at the end; medians over {args.repeats} runs after "
          "compilation\n")
    print("| integrator | wall time [s] | CPU time [s] | speed-up vs SciPy (wall / CPU) | max abs deviation from "
          "DOP853 rtol 1e-12 (5 time units) |")
    print("|---|---|---|---|---|")
    for name, t, base, dev in rows:
        print(f"| {name} | {t[0]:.4f} | {t[1]:.4f} | {base[0] / t[0]:.1f}x / {base[1] / t[1]:.1f}x | {dev:.1e} |")

    print("\nOther native systems (100 000 samples unless noted, 1 trajectory, after compilation):\n")
    print("| system | samples | dt | wall time [s] | CPU time [s] |")
    print("|---|---|---|---|---|")
    for name, count in [("rossler", n), ("lorenz96", n), ("kuramoto_sivashinsky", 10_000), ("mackey_glass", 10_000),
                        ("henon", n)]:
        sys_ = systems.get(name)
        sys_.trajectory(count, transient=0)
        t, _ = median_time(lambda: sys_.trajectory(count, transient=0), 3)
        print(f"| {name} (dim {sys_.dim}) | {count} | {sys_.dt} | {t[0]:.3f} | {t[1]:.3f} |")


if __name__ == "__main__":
    main()
