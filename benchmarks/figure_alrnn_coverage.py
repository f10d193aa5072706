"""Figure: an AL-RNN (M=20, P=2) free run against the Lorenz-63 test trajectory, on the quality protocol of
bench_training.py (100 000 training points with 5 % noise, standardised; clean test trajectory, seed 1).

    python benchmarks/figure_alrnn_coverage.py [--seed 1] [--epochs 1000] [--out benchmarks/results/figures/alrnn_lorenz63_coverage.png]

About 2 minutes on one core. Prints the test D_stsp / D_H of the selected checkpoint.
"""

import argparse

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import dsrkit  # noqa: E402
from dsrkit.metrics import power_spectrum_distance, state_space_divergence  # noqa: E402
from dsrkit.models import ALRNN  # noqa: E402
from dsrkit.training import STF, generate, train  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--out", default="benchmarks/results/figures/alrnn_lorenz63_coverage.png")
    args = ap.parse_args()
    system = dsrkit.systems.get("lorenz63")
    train_x, test_x = system.trajectory(100_000, seed=0, noise=0.05), system.trajectory(100_000, seed=1)
    mean, std = train_x.mean(0), train_x.std(0)
    train_s, test_s = (train_x - mean) / std, (test_x - mean) / std
    fit = train(ALRNN(3, 20, 2, key=jax.random.key(args.seed)), train_s, scheme=STF(16), epochs=args.epochs,
                seed=args.seed, eval_every=10, eval_steps=20_000, noise=0.05)
    n = len(test_s)
    gen = generate(fit.model, test_s[0], n + n // 4).astype(np.float64)[n // 4:]
    d_stsp, d_h = state_space_divergence(test_s, gen), power_spectrum_distance(test_s, gen)
    print(f"selected epoch {fit.best_epoch}: test D_stsp {d_stsp:.3f}, D_H {d_h:.3f}")
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, (a, b) in zip(axes, [(0, 1), (0, 2), (1, 2)]):
        ax.plot(test_s[:20_000, a], test_s[:20_000, b], lw=0.2, label="true (test)")
        ax.plot(gen[:20_000, a], gen[:20_000, b], lw=0.2, alpha=0.7, label="AL-RNN free run")
        ax.set_xlabel(f"{'xyz'[a]} (standardised)")
        ax.set_ylabel("xyz"[b])
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(f"Lorenz-63, AL-RNN M=20 P=2 (STF τ=16, {args.epochs} epochs, seed {args.seed}): "
                 f"test D_stsp {d_stsp:.2f}, D_H {d_h:.2f}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=60)


if __name__ == "__main__":
    main()
