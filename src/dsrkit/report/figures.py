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
    """The axis names of every figure: the data's variable names when known, else those `dsrkit.Dataset` gives
    unnamed variables (x0, x1, ...), so that figures and tables name a variable the same way."""
    return list(names)[:n] if names is not None and len(names) >= n else [f"x{i}" for i in range(n)]


def axis_label(name: str, units: str | None = None) -> str:
    """`name`, with the units in brackets when given ("x [standardised]", "x [raw units]")."""
    return f"{name} [{units}]" if units else name


def shared_limits(*arrays: np.ndarray, pad: float = 0.05) -> list[tuple[float, float]]:
    """Per column, one (low, high) that holds the finite values of every array (T_i, D), padded by `pad` of the
    range: panels drawn side by side on these limits compare sizes honestly."""
    finite = [a[np.all(np.isfinite(a), axis=1)] for a in arrays]
    both = np.concatenate([a for a in finite if len(a)] or [np.zeros((1, arrays[0].shape[1]))])
    lo, hi = both.min(axis=0), both.max(axis=0)
    margin = pad * np.where(hi > lo, hi - lo, 1.0)
    return [(float(a - m), float(b + m)) for a, b, m in zip(lo, hi, margin)]


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


def attractors(true: np.ndarray, gen: np.ndarray, names=None, max_points: int = 20_000,
               units: str | None = None) -> Figure:
    """True vs generated attractor on shared axis limits: side-by-side 3-D views of the first three variables, or
    overlaid 2-D projections (fewer than three variables; a 1-D series against its delay).

    true, gen: (T, N) arrays in the same units; names: the N variable names (default x0, x1, ...); units: shown
    in the axis labels (e.g. "standardised", "raw units"). Returns a Figure."""
    n = true.shape[1]
    names = [axis_label(v, units) for v in _names(n, names)]
    t, g = true[:max_points], gen[:max_points]
    if n >= 3:
        # shared limits (those of the true attractor, widened to hold the generated one): a small limit cycle must
        # look small beside the true attractor, not fill its own box
        lim = shared_limits(t[:, :3], g[:, :3])
        fig = Figure(figsize=(11, 4.6))
        for k, (X, title, style) in enumerate([(t, "true", TRUE_STYLE), (g, "generated", GEN_STYLE)]):
            ax = fig.add_subplot(1, 2, k + 1, projection="3d")
            ax.plot(X[:, 0], X[:, 1], X[:, 2], **style)
            if k == 1 and np.all(np.isfinite(X[-1, :3])):  # a free run that settled on a point stays visible
                ax.plot(*X[-1:, :3].T, "o", ms=4, color=style["color"], label="end of the free run")
                ax.legend(loc="upper right", fontsize=7)
            ax.set(title=title, xlabel=names[0], ylabel=names[1], zlabel=names[2])
            ax.set(xlim=lim[0], ylim=lim[1], zlim=lim[2])
        return fig
    pairs = list(itertools.combinations(range(n), 2)) or [(0, 0)]
    fig = Figure(figsize=(4.5 * len(pairs), 4))
    axes = fig.subplots(1, len(pairs), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs):  # overlaid on one axes: the limits are shared by construction
        if i == j:
            ax.plot(t[:-1, 0], t[1:, 0], ".", ms=1, color="0.25", label="true")
            ax.plot(g[:-1, 0], g[1:, 0], ".", ms=1, color="tab:red", label="generated")
            ax.set(xlabel=f"{names[0]}(t)", ylabel=f"{names[0]}(t+1)")
        else:
            ax.plot(t[:, i], t[:, j], label="true", **TRUE_STYLE)
            ax.plot(g[:, i], g[:, j], label="generated", **GEN_STYLE)
            ax.plot(g[-1:, i], g[-1:, j], "o", ms=4, color=GEN_STYLE["color"], label="end of the free run")
            ax.set(xlabel=names[i], ylabel=names[j])
        ax.legend(loc="upper right", fontsize=8)
    return fig


def time_series(true: np.ndarray, gen: np.ndarray, dt: float, names=None, n_steps: int = 2000, max_dims: int = 6,
                units: str | None = None):
    """The first `n_steps` of true and generated series, one panel per variable (at most `max_dims`), both series
    of a variable on one axes (shared limits)."""
    n = min(true.shape[1], max_dims)
    names = _names(true.shape[1], names)
    k = min(n_steps, len(true), len(gen))
    time = np.arange(k) * dt
    fig = Figure(figsize=(11, 1.6 * n + 0.6))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)
    for i, ax in enumerate(axes[:, 0]):
        ax.plot(time, true[:k, i], label="true", **{**TRUE_STYLE, "lw": 0.9})
        ax.plot(time, gen[:k, i], label="generated", **{**GEN_STYLE, "lw": 0.9})
        ax.set_ylabel(axis_label(names[i], units))
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


def learning_curves(history: dict, *, selected_epoch: int | None = None, show_alpha: bool | None = None):
    """Loss, forcing strength and evaluation metrics per epoch. history: column name -> sequence.

    selected_epoch: the epoch of the checkpoint kept (a dashed vertical line on every panel). show_alpha: draw
    the forcing strength α (default: only when it changes during training, as adaptive GTF's does; STF and a
    fixed GTF α would be a flat line)."""
    alpha = np.asarray(history.get("alpha", []), dtype=float)
    finite_alpha = alpha[np.isfinite(alpha)]
    if show_alpha is None:
        show_alpha = finite_alpha.size > 1 and float(np.ptp(finite_alpha)) > 0
    keys = [k for k in ("loss", "alpha", "d_stsp", "d_h") if k in history and len(history[k])
            and (k != "alpha" or show_alpha)]
    fig = Figure(figsize=(3.6 * len(keys), 3.0))
    axes = fig.subplots(1, len(keys), squeeze=False)
    epochs = np.asarray(history.get("epoch", np.arange(len(history[keys[0]]))))
    for ax, k in zip(axes[0], keys):
        y = np.asarray(history[k], dtype=float)
        ok = np.isfinite(y)
        ax.plot(epochs[ok], y[ok], ".-" if k.startswith("d_") else "-", ms=3, lw=0.9)
        if (k == "loss" or k.startswith("d_")) and np.any(y[ok] > 0):
            ax.set_yscale("log")
        if selected_epoch is not None and selected_epoch >= 0:
            ax.axvline(selected_epoch, color="tab:green", ls="--", lw=1.0, label=f"selected epoch {selected_epoch}")
        ax.set(title="α (forcing strength)" if k == "alpha" else k, xlabel="epoch")
    if selected_epoch is not None and selected_epoch >= 0:
        axes[0, 0].legend(fontsize=8)
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
