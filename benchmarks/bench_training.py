"""Training benchmarks: speed of a compiled teacher-forcing step, and reconstruction quality.

    python benchmarks/bench_training.py                      # speed (about 2 minutes)
    python benchmarks/bench_training.py --quality [--systems lorenz63 rossler lorenz96] [--seeds 5]
        [--epochs 300] [--configs alrnn shplrnn]             # quality (long; run it in the background)

Speed: AL-RNN M=20, P=2, T̃=200, batch 16, STF τ=16 (the published Lorenz-63 setting); a whole compiled epoch of
50 batches is timed and divided by 50; median over repeats. The same for an 8-member population trained in one
vmapped call and looped one member per call (`members_per_call`), for GTF/adaptive GTF, for the shPLRNN of
docs/design.md (M=3, L=50), and for plain autodiff through the scan instead of the hand-written BPTT (injected as
the trainer's `loss=`).

Quality: train on 100 000 points (dt as in the system, 5 % observation noise, standardised), judge on an
independent clean 100 000-point test trajectory by the docs/design.md protocol (roll out 1.25 T from the first test
point, drop the first 25 %, D_stsp with 30 bins (GMM variant for N > 10 as chosen by dsrkit.metrics) and D_H with
σ = 20); median over seeds. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import dsrkit
from dsrkit.models import ALRNN, ShallowPLRNN
from dsrkit.rollout import protocol_free_run, rollout_latent
from dsrkit.training import GTF, STF, AdaptiveGTF, ForcedMSE, reference_batch_loss, train
from dsrkit.training.epoch import EpochSpec, Members, window_table
from dsrkit.training.schemes import members as scheme_members


def _epoch_timer(models, scheme, X, *, seq_len=200, batch_size=16, bpe=50, repeats=15, reference=False,
                 per_call=None):
    """Median seconds per batch of one training epoch of all members together: the trainer's own population state
    and compiled epoch (`dsrkit.training.epoch.Members`), k members in chunks of `per_call` (default all: one
    vmapped call). reference=True injects plain autodiff through the scan as the loss (`loss=`). Runs with JAX's
    64-bit types on, as `train` does."""
    with jax.enable_x64(True):
        return _epoch_seconds(models, scheme, X, seq_len, batch_size, bpe, repeats, reference, per_call)


def _epoch_seconds(models, scheme, X, seq_len, batch_size, bpe, repeats, reference, per_call):
    k = len(models)
    flat, starts = window_table([X], seq_len)
    hyper = {"lr_start": np.full(k, 1e-3), "lr_end": np.full(k, 1e-3), "input_noise": np.zeros(k),
             "regularization": np.zeros(k)}
    pop = Members(models, scheme_members(scheme, k), hyper, np.arange(k), per_call or k,
                  loss=reference_batch_loss if reference else ForcedMSE(), spec=EpochSpec(seq_len, batch_size, bpe),
                  flat=jnp.asarray(flat, models[0].dtype), starts=jnp.asarray(starts))
    lr, keep = np.full(k, 1e-3), np.ones(k, bool)
    pop.run(lr)  # compile
    pop.accept(keep)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        pop.run(lr)  # returns after reading the losses back: the epoch has finished
        times.append(time.perf_counter() - t0)
        pop.accept(keep)
    return statistics.median(times) / bpe


def _bare_scan_ms(repeats: int) -> float:
    """Floor of the time loop: a bare lax.scan of 200 steps over a (16, 20) state (one matmul, one ReLU), one
    output per step, as in the forward pass; median ms per call. A training step runs 200 forward and 200
    backward iterations, so about twice this bounds it from below whatever the model code does."""
    W = jnp.asarray(np.random.default_rng(0).standard_normal((20, 20)) * 0.1, jnp.float32)
    z0, u = jnp.ones((16, 20), jnp.float32), jnp.zeros((200, 16, 20), jnp.float32)

    @jax.jit
    def f(z0, u):
        def step(z, u_k):
            zp = 0.9 * z + jnp.maximum(z, 0) @ W.T
            return zp + u_k, zp
        return jax.lax.scan(step, z0, u)[1]

    jax.block_until_ready(f(z0, u))
    times = []
    for _ in range(max(repeats, 10) * 20):
        t0 = time.perf_counter()
        jax.block_until_ready(f(z0, u))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def speed(repeats: int, ensembles=(8,)):
    X = dsrkit.systems.get("lorenz63").trajectory(20_000, seed=0, standardize=True)
    alrnn = lambda i: ALRNN(3, 20, 2, key=jax.random.key(i))  # noqa: E731
    rows = []

    def add(name, seconds, models=1, baseline=None):
        ms = seconds * 1e3
        rows.append((name, models, ms, ms / models, "" if baseline is None else f"{baseline / seconds:.2f}×"))
        print(f"  {name}: {ms:.3f} ms/step", file=sys.stderr, flush=True)

    base = _epoch_timer([alrnn(0)], STF(16), X, repeats=repeats)
    add("AL-RNN M=20 P=2, STF τ=16 (hand-written BPTT)", base)
    for k in ensembles:
        add(f"  same, {k}-seed ensemble (vmap)", _epoch_timer([alrnn(i) for i in range(k)], STF(16), X, repeats=repeats), k)
        add(f"  same, {k} seeds looped (members_per_call=1)",
            _epoch_timer([alrnn(i) for i in range(k)], STF(16), X, repeats=repeats, per_call=1), k)
    add("  same, plain autodiff through lax.scan", _epoch_timer([alrnn(0)], STF(16), X, repeats=max(3, repeats // 3),
                                                                reference=True), baseline=None)
    add("AL-RNN M=20 P=2, GTF α=0.1", _epoch_timer([alrnn(0)], GTF(0.1), X, repeats=repeats))
    add("AL-RNN M=20 P=2, adaptive GTF", _epoch_timer([alrnn(0)], AdaptiveGTF(), X, repeats=repeats))
    sh = lambda i: ShallowPLRNN(3, 3, 50, key=jax.random.key(i))  # noqa: E731
    add("shPLRNN M=3 L=50, STF τ=16", _epoch_timer([sh(0)], STF(16), X, repeats=repeats))
    add("  same, 8-seed ensemble (vmap)", _epoch_timer([sh(i) for i in range(8)], STF(16), X, repeats=repeats), 8)
    add("  same, 8 seeds looped (members_per_call=1)",
        _epoch_timer([sh(i) for i in range(8)], STF(16), X, repeats=repeats, per_call=1), 8)
    add("shPLRNN M=3 L=50, adaptive GTF", _epoch_timer([sh(0)], AdaptiveGTF(), X, repeats=repeats))

    print("\n| configuration (T̃=200, batch 16, float32) | models | ms per step (all models) | ms per step per model |")
    print("|---|---|---|---|")
    for name, n, ms, per, _ in rows:
        print(f"| {name} | {n} | {ms:.3f} | {per:.3f} |")
    k0, n_ens = ensembles[0], len(ensembles)
    print(f"\nBare 200-step lax.scan (the loop's floor, see _bare_scan_ms): {_bare_scan_ms(repeats):.3f} ms per call.")
    print(f"\nDevice: {jax.devices()[0].device_kind}. AL-RNN: hand-written BPTT vs autodiff: "
          f"{rows[1 + 2 * n_ens][2] / rows[0][2]:.1f}× faster; {k0}-seed ensemble costs {rows[1][2] / rows[0][2]:.2f}× one "
          f"model ({rows[0][2] * k0 / rows[1][2]:.2f}× throughput).")


# ---------------------------------------------------------------------------------------------- quality

CONFIGS = {
    # name: (model builder (obs_dim, key) -> model, scheme, train kwargs)
    "alrnn": (lambda n, k: ALRNN(n, 20, 2, key=k), lambda: STF(16),
              dict(seq_len=200, lr=(1e-3, 1e-5), input_noise=0.05)),
    "alrnn-gtf": (lambda n, k: ALRNN(n, 20, 2, key=k), lambda: AdaptiveGTF(),
                  dict(seq_len=200, lr=(1e-3, 1e-5), input_noise=0.05)),
    "shplrnn": (lambda n, k: ShallowPLRNN(n, n, 50, key=k), lambda: STF(16),
                dict(seq_len=200, lr=(1e-3, 1e-5), input_noise=0.05)),
    "shplrnn-gtf": (lambda n, k: ShallowPLRNN(n, n, 50, key=k), lambda: AdaptiveGTF(),
                    dict(seq_len=200, lr=(1e-3, 1e-5), input_noise=0.05)),
    "rossler-alrnn": (lambda n, k: ALRNN(n, 20, 1, key=k), lambda: STF(8),
                      dict(seq_len=300, lr=(5e-3, 1e-5), input_noise=0.05)),
    "l96-alrnn": (lambda n, k: ALRNN(n, 100, 50, key=k), lambda: STF(20),
                  dict(seq_len=50, lr=(1e-3, 1e-5), input_noise=0.05)),
}
SYSTEM_CONFIGS = {"lorenz63": ["alrnn", "shplrnn"], "rossler": ["rossler-alrnn"], "lorenz96": ["l96-alrnn"]}


def protocol_data(name: str, n: int = 100_000):
    """The quality protocol's data: a training trajectory (seed 0, 5 % observation noise) and an independent clean
    test trajectory (seed 1) of `n` points, both standardised with the training mean and std."""
    system = dsrkit.systems.get(name)
    train_x, test_x = system.trajectory(n, seed=0, noise=0.05), system.trajectory(n, seed=1)
    mean, std = train_x.mean(0), train_x.std(0)
    return (train_x - mean) / std, (test_x - mean) / std


def score(model, test_s: np.ndarray) -> dict:
    """The protocol's judgement of a model: free run from the first test point for 1.25 T, first 25 % dropped,
    D_stsp and D_H against the test series; subregions = distinct region codes along 20 000 latent steps (None for
    models without them). A non-finite free run gives d_stsp = d_h = None. Returns also `gen`, the compared run."""
    from dsrkit.metrics import power_spectrum_distance, state_space_divergence

    gen = protocol_free_run(model, test_s)
    if not np.all(np.isfinite(gen)):
        return {"d_stsp": None, "d_h": None, "regions": None, "gen": gen}
    regions = None
    if hasattr(model, "region_code"):
        z = rollout_latent(model, model.init_state(jnp.asarray(test_s[0])), 20_000)
        codes = np.asarray(jax.vmap(model.region_code)(z))
        regions = len({tuple(c) for c in codes.reshape(len(codes), -1).tolist()})
    return {"d_stsp": float(state_space_divergence(test_s, gen)), "d_h": float(power_spectrum_distance(test_s, gen)),
            "regions": regions, "gen": gen}


def quality(systems, configs, seeds, epochs, n_train, out_json, vmap=False):
    results = []
    for name in systems:
        system = dsrkit.systems.get(name)
        train_s, test_s = protocol_data(name, n_train)
        for cname in configs or SYSTEM_CONFIGS[name]:
            build, scheme, kw = CONFIGS[cname]
            t0 = time.perf_counter()
            # seed i: initialisation key i and data stream i, as one population; --vmap trains all members in one
            # vmapped call, else one member per call (faster on a 2-core CPU); the members are the same either way
            fit = train([build(system.dim, jax.random.key(i)) for i in range(seeds)], train_s, scheme=scheme(),
                        epochs=epochs, seed=list(range(seeds)), members_per_call=seeds if vmap else 1,
                        eval_every=max(1, epochs // 20), eval_steps=20_000, progress=False, **kw)
            models, statuses = [m.model for m in fit.members], fit.statuses.tolist()
            seconds = time.perf_counter() - t0
            per_seed = []
            for m, status in zip(models, statuses):
                sc = score(m, test_s)
                if status != "ok" or sc["d_stsp"] is None:
                    per_seed.append((np.nan, np.nan, np.nan))
                    continue
                per_seed.append((sc["d_stsp"], sc["d_h"], sc["regions"]))
            arr = np.array(per_seed, dtype=float)
            res = {"system": name, "config": cname, "seeds": seeds, "epochs": epochs,
                   "d_stsp_median": float(np.nanmedian(arr[:, 0])), "d_h_median": float(np.nanmedian(arr[:, 1])),
                   "regions_median": float(np.nanmedian(arr[:, 2])), "diverged": int(np.isnan(arr[:, 0]).sum()),
                   "per_seed": per_seed, "train_seconds": seconds}
            results.append(res)
            print(json.dumps(res), file=sys.stderr, flush=True)
            if out_json:
                with open(out_json, "w") as f:
                    json.dump(results, f, indent=1)
    print("\n| system | configuration | epochs | seeds | median D_stsp | median D_H | median regions visited | "
          "diverged | train time (s, all seeds) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['system']} | {r['config']} | {r['epochs']} | {r['seeds']} | {r['d_stsp_median']:.3f} | "
              f"{r['d_h_median']:.3f} | {r['regions_median']:.0f} | {r['diverged']} | {r['train_seconds']:.0f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--systems", nargs="+", default=["lorenz63"])
    ap.add_argument("--configs", nargs="+", default=None, choices=sorted(CONFIGS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--n-train", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--vmap", action="store_true", help="quality: train all seeds in one vmapped call")
    ap.add_argument("--ensembles", type=int, nargs="+", default=[8], help="speed: ensemble sizes to time")
    ap.add_argument("--json", default=None, help="write quality results to this JSON file as they come")
    args = ap.parse_args(argv)
    print(f"# dsrkit training benchmark — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPU cores, jax {jax.__version__}",
          file=sys.stderr)
    if args.quality:
        quality(args.systems, args.configs, args.seeds, args.epochs, args.n_train, args.json, args.vmap)
    else:
        speed(args.repeats, tuple(args.ensembles))


if __name__ == "__main__":
    main()
