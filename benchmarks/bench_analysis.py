"""Speed of dsrkit.analysis: exhaustive fixed points, SCYFI cycles, and time against the latent size M.

    python benchmarks/bench_analysis.py            # full run (a few minutes on a 2-core machine)
    python benchmarks/bench_analysis.py --quick    # smaller sizes, fewer repeats

Prints markdown tables. Times are wall-clock medians over repeats of a warm call (the model's functions already
compiled); the first call, which includes JAX compilation, is listed separately. SCYFI runs at the library's
default loop limits (dsrkit.analysis.SCYFI_DEFAULTS: stop after 200 consecutive restarts without a new cycle,
20 iterations per restart, 64 chains side by side, at most 20000 restarts).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from dsrkit.analysis import SCYFI_DEFAULTS, cycles, fixed_points
from dsrkit.analysis.pieces import _MODEL_CACHE
from dsrkit.models import ALRNN, PLRNN


def random_alrnn(M: int, P: int, seed: int):
    """AL-RNN with A ~ U(0.3, 0.95), W ~ N(0, 1/M), h ~ N(0, 0.5^2) (float32, as trained models are)."""
    rng = np.random.default_rng(seed)
    m = ALRNN(3, M, P, key=jax.random.key(seed))
    return eqx.tree_at(lambda m: (m.A, m.W, m.h), m, (
        jnp.asarray(rng.uniform(0.3, 0.95, M), jnp.float32),
        jnp.asarray(rng.normal(0, 1.0 / np.sqrt(M), (M, M)), jnp.float32),
        jnp.asarray(rng.normal(0, 0.5, M), jnp.float32)))


def random_plrnn(M: int, seed: int):
    """PLRNN with A ~ U(-0.9, 0.9), off-diagonal W ~ N(0, 1/M), h ~ N(0, 1) (float32)."""
    rng = np.random.default_rng(seed)
    m = PLRNN(3, M, key=jax.random.key(seed))
    a = rng.uniform(-0.9, 0.9, M)
    W = rng.normal(0, 1.0 / np.sqrt(M), (M, M))
    np.fill_diagonal(W, 0.0)
    h = rng.normal(0, 1.0, M)
    return eqx.tree_at(lambda m: (m.A, m.W, m.h), m, tuple(jnp.asarray(x, jnp.float32) for x in (a, W, h)))


def timed(fn, repeats: int):
    """(first-call seconds, median warm seconds, result)."""
    _MODEL_CACHE.clear()
    t = time.perf_counter()
    res = fn()
    first = time.perf_counter() - t
    warm = []
    for _ in range(repeats):
        t = time.perf_counter()
        res = fn()
        warm.append(time.perf_counter() - t)
    return first, statistics.median(warm), res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args()
    reps = args.repeats or (1 if args.quick else 3)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, jax {jax.__version__}, "
          f"SCYFI limits {SCYFI_DEFAULTS}\n")

    print("### All fixed points of an AL-RNN, M = 20, P = 10 (exhaustive over 2^10 regions; target < 1 s)\n")
    print("| model | regions | fixed points | first call (s) | warm median (s) |")
    print("|---|---|---|---|---|")
    m = random_alrnn(20, 10, seed=0)
    first, warm, fps = timed(lambda: fixed_points(m), reps)
    print(f"| AL-RNN M=20 P=10 | 1024 | {len(fps)} ({', '.join(sorted({f.type for f in fps}))}) "
          f"| {first:.3f} | {warm:.3f} |")

    print("\n### SCYFI on a PLRNN, M = 50, periods 1..5 (target: all five under 30 s)\n")
    print("| k | cycles found | first call (s) | warm median (s) | found with outer = 2000 (10x) |")
    print("|---|---|---|---|---|")
    m = random_plrnn(50, seed=0)
    total = 0.0
    for k in range(1, 6):
        first, warm, found = timed(lambda: cycles(m, k, method="scyfi", seed=k), reps)
        total += warm
        types = ", ".join(f"{sum(c.type == t for c in found)} {t}" for t in sorted({c.type for c in found}))
        more = "" if args.quick else len(cycles(m, k, method="scyfi", seed=k, outer=2000))
        print(f"| {k} | {len(found)}{f' ({types})' if types else ''} | {first:.2f} | {warm:.2f} | {more} |")
    print(f"| 1..5 | | | **{total:.2f}** | |")

    print("\n### Time against M (warm medians, s)\n")
    print("| M | PLRNN fixed points | PLRNN 2-cycles (SCYFI) | AL-RNN P=10 fixed points (exhaustive) |")
    print("|---|---|---|---|")
    sizes = [10, 20, 50] if args.quick else [10, 20, 50, 100]
    for M in sizes:
        p = random_plrnn(M, seed=M)
        a = random_alrnn(M, 10, seed=M)
        _, t_fp, fp = timed(lambda: fixed_points(p, seed=0), reps)
        _, t_c2, c2 = timed(lambda: cycles(p, 2, method="scyfi", seed=0), reps)
        _, t_al, al = timed(lambda: fixed_points(a), reps)
        how = "exhaustive" if M <= 16 else "SCYFI"
        print(f"| {M} | {t_fp:.3f} ({how}, {len(fp)} found) | {t_c2:.3f} ({len(c2)} found) | "
              f"{t_al:.3f} ({len(al)} found) |")


if __name__ == "__main__":
    main()
