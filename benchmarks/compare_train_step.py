"""Side-by-side training speed of two dsrkit source trees (e.g. two commits), measured alternately in one run.

    git worktree add /tmp/old REV_OLD && git worktree add /tmp/new REV_NEW
    python benchmarks/compare_train_step.py /tmp/old/src /tmp/new/src --rounds 12 --calls 5

Each tree runs in its own worker process (PYTHONPATH=TREE): the AL-RNN of the published Lorenz-63 settings
(M = 20, P = 2, T̃ = 200, batch 16, STF τ = 16) trained by the public `train` for 5 epochs of 50 batches
without evaluation, so loop overhead is included. The workers compile and warm up first, then take turns
(old, new; new, old; ...) so that machine load hits both alike. Printed: the median time per batch of each,
the ratio new/old, and the median of the per-round ratios (old and new ran back to back).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def worker() -> None:
    import jax

    import dsrkit
    from dsrkit.models import ALRNN
    from dsrkit.training import STF, train

    X = dsrkit.systems.get("lorenz63").trajectory(20_000, seed=0, standardize=True)
    model = ALRNN(3, 20, 2, key=jax.random.key(0))

    def call():
        train(model, X, scheme=STF(16), epochs=5, seq_len=200, eval_every=0, progress=False, lr=(1e-3, 1e-5))

    call()
    call()  # compiled and warm
    print("ready", flush=True)
    for line in sys.stdin:
        times = []
        for _ in range(int(line)):
            t0 = time.perf_counter()
            call()
            times.append((time.perf_counter() - t0) / 250 * 1e3)  # ms per batch (5 epochs x 50 batches)
        print(" ".join(f"{t:.5f}" for t in times), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old_src")
    ap.add_argument("new_src")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--calls", type=int, default=5, help="train() calls per worker and round")
    args = ap.parse_args()
    procs = {name: subprocess.Popen([sys.executable, __file__, "--worker"], env=dict(os.environ, PYTHONPATH=src),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for name, src in (("old", args.old_src), ("new", args.new_src))}
    for p in procs.values():
        assert p.stdout.readline().strip() == "ready"
    times: dict[str, list[float]] = {"old": [], "new": []}
    for i in range(args.rounds):
        for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
            procs[name].stdin.write(f"{args.calls}\n")
            procs[name].stdin.flush()
            times[name] += [float(x) for x in procs[name].stdout.readline().split()]
    for p in procs.values():
        p.stdin.close()
        p.wait()
    mo, mn = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"{len(times['old'])} train() calls each; median ms per batch: old {mo:.4f}, new {mn:.4f}, "
          f"new/old {mn / mo:.3f}")
    rounds = [(statistics.median(times["old"][k:k + args.calls]), statistics.median(times["new"][k:k + args.calls]))
              for k in range(0, len(times["old"]), args.calls)]
    ratios = [n / o for o, n in rounds]
    print(f"per-round ratio new/old: median {statistics.median(ratios):.3f}, "
          f"quartiles {[round(x, 3) for x in statistics.quantiles(ratios, n=4)]}")


if __name__ == "__main__":
    worker() if sys.argv[1:] == ["--worker"] else main()
