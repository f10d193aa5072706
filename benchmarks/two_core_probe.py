"""How much of a second CPU core can one population search use? Seconds per training epoch of the main job's
shPLRNN population (8 members, M = 3, L = 50, adaptive GTF, T̃ = 200, batch 16, 50 batches; Lorenz-63), four ways:

  one      one process trains all 8 members in one compiled program (as `training.search` does today)
  split    two spawned processes train 4 members each at the same time (the work of one `one` epoch)
  single   one process trains 4 members (half the work), for the cost of a half population alone

Run it on a machine with nothing else running, once pinned to one core and once to two:

    taskset -c 0 python benchmarks/two_core_probe.py
    taskset -c 0,1 python benchmarks/two_core_probe.py

Prints one JSON line per way: median seconds per epoch over --epochs epochs after one that compiles (`split`: the
wall time of both processes' epochs over their number), and for `one` and `single` the process CPU time over wall
time, compilation included (about 1 when a single core does the work). If `split` on two cores takes about
half of `one`, the search can fill the second core by training its populations in two processes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import time


def _epochs(k: int, offset: int, epochs: int, ready=None, go=None) -> list[float]:
    import jax
    import jax.numpy as jnp
    import numpy as np

    import dsrkit
    from dsrkit.models import ShallowPLRNN
    from dsrkit.training import AdaptiveGTF, ForcedMSE
    from dsrkit.training.epoch import EpochSpec, Members, window_table
    from dsrkit.training.schemes import members as scheme_members

    jax.config.update("jax_enable_x64", True)  # as `train` runs
    x = dsrkit.systems.get("lorenz63").trajectory(20_000, seed=0, standardize=True)
    flat, starts = window_table([x], 200)
    models = [ShallowPLRNN(3, 3, 50, key=jax.random.key(offset + i)) for i in range(k)]
    hyper = {"lr_start": np.full(k, 1e-3), "lr_end": np.full(k, 1e-3), "input_noise": np.zeros(k),
             "regularization": np.zeros(k)}
    pop = Members(models, scheme_members(AdaptiveGTF(), k), hyper, np.arange(k), k, loss=ForcedMSE(),
                  spec=EpochSpec(200, 16, 50), flat=jnp.asarray(flat, models[0].dtype), starts=jnp.asarray(starts))
    lr, keep = np.full(k, 1e-3), np.ones(k, bool)
    pop.run(lr)  # compiles
    pop.accept(keep)
    if ready is not None:  # both processes start timing together
        ready.put("compiled")
        go.get()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        pop.run(lr)
        pop.accept(keep)
        times.append(time.perf_counter() - t0)
    return times


def _worker(offset, epochs, ready, go, out):
    out.put(_epochs(4, offset, epochs, ready, go))


def split(epochs: int) -> float:
    """Seconds per epoch of 8 members trained as two 4-member processes at once (compilation not timed)."""
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Queue(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(10 * (i + 1), epochs, ready, go, out)) for i in range(2)]
    for p in procs:
        p.start()
    for _ in procs:  # each has compiled
        ready.get()
    t0 = time.perf_counter()
    for _ in procs:
        go.put("go")
    for _ in procs:
        out.get()
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    return wall / epochs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    args = ap.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    for way, k in (("one", 8), ("single", 4)):
        c0 = time.process_time()
        t0 = time.perf_counter()
        times = _epochs(k, 0, args.epochs)
        print(json.dumps({"way": way, "cores": cores, "members": k, "s_per_epoch": statistics.median(times),
                          "cpu_over_wall_incl_compile": (time.process_time() - c0) / (time.perf_counter() - t0)}),
              flush=True)
    print(json.dumps({"way": "split", "cores": cores, "members": 8, "s_per_epoch": split(args.epochs)}), flush=True)


if __name__ == "__main__":
    main()
