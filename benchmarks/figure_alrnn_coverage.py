"""Figure: an AL-RNN (M=20, P=2) free run against the Lorenz-63 test trajectory, on the quality protocol of
bench_training.py (100 000 training points with 5 % noise, standardised; clean test trajectory, seed 1).

    python benchmarks/figure_alrnn_coverage.py [--seed 1] [--epochs 1000] [--out benchmarks/results/figures/alrnn_lorenz63_coverage.png]

About 2 minutes on one core. Prints the test D_stsp / D_H of the selected checkpoint.
"""

import argparse

import jax
from bench_training import protocol_data, score
from matplotlib.figure import Figure

from dsrkit.models import ALRNN
from dsrkit.training import STF, train


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--out", default="benchmarks/results/figures/alrnn_lorenz63_coverage.png")
    args = ap.parse_args()
    train_s, test_s = protocol_data("lorenz63")
    fit = train(ALRNN(3, 20, 2, key=jax.random.key(args.seed)), train_s, scheme=STF(16), epochs=args.epochs,
                seed=args.seed, eval_every=10, eval_steps=20_000, noise=0.05)
    sc = score(fit.model, test_s)
    gen, d_stsp, d_h = sc["gen"], sc["d_stsp"], sc["d_h"]
    print(f"selected epoch {fit.best_epoch}: test D_stsp {d_stsp:.3f}, D_H {d_h:.3f}")
    fig = Figure(figsize=(12, 3.8))
    axes = fig.subplots(1, 3)
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
