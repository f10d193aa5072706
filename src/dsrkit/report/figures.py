"""Figures of a reconstruction: attractors, time series, power spectra, learning curves.

Each function returns a `matplotlib.figure.Figure` built directly, outside pyplot: no backend is chosen, no global
figure list is touched, and `fig.savefig(...)` writes PNG/SVG/PDF without a display.
"""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.figure import Figure

TRUE_STYLE = dict(color="0.25", lw=0.4)
GEN_STYLE = dict(color="tab:red", lw=0.4)


def _names(n: int, names) -> list[str]:
    return list(names) if names is not None else [f"x{i}" for i in range(n)]


def attractor(X: np.ndarray, names=None, title: str = "", max_points: int = 50_000) -> Figure:
    """One trajectory (T, N): 3-D for N >= 3, a phase portrait for N = 2, a delay plot for N = 1."""
    X = X[:max_points]
    names = _names(X.shape[1], names)
    fig = Figure(figsize=(5.5, 4.8))
    if X.shape[1] >= 3:
        ax = fig.add_subplot(projection="3d")
        ax.plot(X[:, 0], X[:, 1], X[:, 2], **TRUE_STYLE)
        ax.set(xlabel=names[0], ylabel=names[1], zlabel=names[2])
    elif X.shape[1] == 2:
        ax = fig.add_subplot()
        ax.plot(X[:, 0], X[:, 1], **TRUE_STYLE)
        ax.set(xlabel=names[0], ylabel=names[1])
    else:
        ax = fig.add_subplot()
        ax.plot(X[:-1, 0], X[1:, 0], ".", ms=1, color="0.25")
        ax.set(xlabel=f"{names[0]}(t)", ylabel=f"{names[0]}(t+1)")
    ax.set_title(title)
    return fig


def attractors(true: np.ndarray, gen: np.ndarray, names=None, max_points: int = 20_000) -> Figure:
    """True vs generated attractor: side-by-side 3-D views of the first three variables on shared axis limits, or
    overlaid 2-D projections (fewer than three variables).

    true, gen: (T, N) arrays. Returns a Figure."""
    n = true.shape[1]
    names = _names(n, names)
    t, g = true[:max_points], gen[:max_points]
    if n >= 3:
        # shared limits (those of the true attractor, widened to hold the generated one): a small limit cycle must
        # look small beside the true attractor, not fill its own box
        both = np.concatenate([t[:, :3], g[:, :3][np.all(np.isfinite(g[:, :3]), axis=1)]])
        lo, hi = both.min(axis=0), both.max(axis=0)
        pad = 0.05 * np.where(hi > lo, hi - lo, 1.0)
        fig = Figure(figsize=(11, 4.6))
        for k, (X, title, style) in enumerate([(t, "true", TRUE_STYLE), (g, "generated", GEN_STYLE)]):
            ax = fig.add_subplot(1, 2, k + 1, projection="3d")
            ax.plot(X[:, 0], X[:, 1], X[:, 2], **style)
            ax.set(title=title, xlabel=names[0], ylabel=names[1], zlabel=names[2])
            ax.set(xlim=(lo[0] - pad[0], hi[0] + pad[0]), ylim=(lo[1] - pad[1], hi[1] + pad[1]),
                   zlim=(lo[2] - pad[2], hi[2] + pad[2]))
        return fig
    pairs = list(itertools.combinations(range(n), 2)) or [(0, 0)]
    fig = Figure(figsize=(4.5 * len(pairs), 4))
    axes = fig.subplots(1, len(pairs), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs):
        if i == j:
            ax.plot(t[:-1, 0], t[1:, 0], ".", ms=1, color="0.25", label="true")
            ax.plot(g[:-1, 0], g[1:, 0], ".", ms=1, color="tab:red", label="generated")
            ax.set(xlabel=f"{names[0]}(t)", ylabel=f"{names[0]}(t+1)")
        else:
            ax.plot(t[:, i], t[:, j], label="true", **TRUE_STYLE)
            ax.plot(g[:, i], g[:, j], label="generated", **GEN_STYLE)
            ax.set(xlabel=names[i], ylabel=names[j])
        ax.legend(loc="upper right", fontsize=8)
    return fig


def time_series(true: np.ndarray, gen: np.ndarray, dt: float, names=None, n_steps: int = 2000, max_dims: int = 6):
    """The first `n_steps` of true and generated series, one panel per variable (at most `max_dims`)."""
    n = min(true.shape[1], max_dims)
    names = _names(true.shape[1], names)
    k = min(n_steps, len(true), len(gen))
    time = np.arange(k) * dt
    fig = Figure(figsize=(11, 1.6 * n + 0.6))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)
    for i, ax in enumerate(axes[:, 0]):
        ax.plot(time, true[:k, i], label="true", **{**TRUE_STYLE, "lw": 0.9})
        ax.plot(time, gen[:k, i], label="generated", **{**GEN_STYLE, "lw": 0.9})
        ax.set_ylabel(names[i])
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("time")
    return fig


def power_spectra(true: np.ndarray, gen: np.ndarray, dt: float, names=None, smoothing: float = 20.0, max_dims: int = 6):
    """Smoothed, normalised power spectra of true and generated series (those D_H compares), log scale."""
    from ..metrics.spectrum import normalized_spectra

    n = min(true.shape[1], max_dims)
    names = _names(true.shape[1], names)
    fig = Figure(figsize=(3.6 * n, 3.2))
    axes = fig.subplots(1, n, squeeze=False)
    spectra = [(normalized_spectra(X[None, :, :n], smoothing), np.fft.rfftfreq(len(X), d=dt), label, color)
               for X, label, color in [(true, "true", "0.25"), (gen, "generated", "tab:red")]]
    for i, ax in enumerate(axes[0]):
        for p, f, label, color in spectra:
            ax.semilogy(f, np.maximum(p[:, i], 1e-16), color=color, lw=0.9, label=label)
        ax.set(title=names[i], xlabel="frequency (1/time)", xlim=(0, f[-1] / 4))
    axes[0, 0].set_ylabel("normalised power")
    axes[0, 0].legend(fontsize=8)
    return fig


def learning_curves(history: dict):
    """Loss, forcing strength and evaluation metrics per epoch. history: column name -> sequence."""
    keys = [k for k in ("loss", "alpha", "d_stsp", "d_h") if k in history and len(history[k])]
    fig = Figure(figsize=(3.6 * len(keys), 3.0))
    axes = fig.subplots(1, len(keys), squeeze=False)
    epochs = np.asarray(history.get("epoch", np.arange(len(history[keys[0]]))))
    for ax, k in zip(axes[0], keys):
        y = np.asarray(history[k], dtype=float)
        ok = np.isfinite(y)
        ax.plot(epochs[ok], y[ok], ".-" if k.startswith("d_") else "-", ms=3, lw=0.9)
        if k == "loss" or k.startswith("d_"):
            ax.set_yscale("log")
        ax.set(title=k, xlabel="epoch")
    return fig


def frontier(rows: list[dict], chosen: int | None = None) -> Figure:
    """Validation D_stsp against the number of linear subregions visited, one marker per candidate, by model
    family; rows: dicts with "candidate", "model", "subregions", "val_d_stsp"."""
    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    for family, marker in (("alrnn", "o"), ("shplrnn", "s")):
        pts = [r for r in rows if r["model"] == family]
        if pts:
            ax.plot([r["subregions"] for r in pts], [r["val_d_stsp"] for r in pts], marker, ls="none", label=family)
    for r in rows:
        if r["candidate"] == chosen:
            ax.plot(r["subregions"], r["val_d_stsp"], "o", ms=14, mfc="none", mec="k", label="selected")
    ax.set(xscale="log", yscale="log", xlabel="linear subregions visited", ylabel="validation D_stsp")
    ax.legend(fontsize=8)
    return fig
