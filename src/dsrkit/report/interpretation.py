"""Figures of the interpretation of a piecewise-linear model (matplotlib, Agg-safe; functions return Figures).

    plot_attractor_regions(Y, symbols)       attractor (3-D, or 2-D / 1-D delay projections) coloured by subregion
    plot_symbolic_graph(G)                   transition graph: node size = visit frequency, edge width = probability
    plot_fixed_points(Y, points)             fixed points and cycles on the attractor, marked by stability
    report_figures(model, X, analysis)       {name: (Figure, caption)} for the report, from `dsrkit.analysis.analyze`
    save_figures(model, X, analysis, dir)    the same written as PNG files; returns their paths
    describe(analysis) / report_tables(analysis)   a paragraph and tables summarising the analysis dict
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._files import save_figure
from .._precision import uses_x64

__all__ = ["plot_attractor_regions", "plot_symbolic_graph", "plot_fixed_points", "report_figures", "save_figures",
           "describe", "report_tables"]

_MARKERS = {"stable": ("o", "tab:blue"), "saddle": ("^", "tab:orange"), "unstable": ("X", "tab:red"),
            "non-hyperbolic": ("s", "tab:purple")}
_CYCLE_COLORS = ["tab:green", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]


def _coords(Y: np.ndarray, dims, names=None) -> tuple[np.ndarray, list[str]]:
    """Columns to draw: the requested dims, or the first 3; a 1-D series is shown against its delay y(t+1).
    Axis names: `names` (one per column of Y) or x0, x1, ... as in `dsrkit.report.figures`."""
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[0] < 2:
        raise ValueError(f"expected a (T, D) trajectory with T >= 2, got shape {Y.shape}")
    if dims is None:
        dims = list(range(min(3, Y.shape[1])))
    dims = list(dims)
    if any(not 0 <= d < Y.shape[1] for d in dims) or not 1 <= len(dims) <= 3:
        raise ValueError(f"dims must be 1 to 3 column indices below {Y.shape[1]}, got {dims}")
    label = list(names) if names is not None and len(names) >= Y.shape[1] else [f"x{i}" for i in range(Y.shape[1])]
    if len(dims) == 1:
        d = dims[0]
        return np.stack([Y[:-1, d], Y[1:, d]], axis=1), [f"{label[d]}(t)", f"{label[d]}(t+1)"]
    return Y[:, dims], [label[d] for d in dims]


def _axes(fig: Figure, n: int):
    return fig.add_subplot(111, projection="3d") if n == 3 else fig.add_subplot(111)


def _scatter(ax, P: np.ndarray, **kw):
    return ax.scatter(*[P[:, i] for i in range(P.shape[1])], **kw)


def plot_attractor_regions(Y: Any, symbols: Any, *, dims=None, max_colors: int = 10, codes: list[str] | None = None,
                           title: str = "Attractor by linear subregion", names=None) -> Figure:
    """Attractor coloured by linear subregion.

    Args:
        Y: (T, D) trajectory (observations or latent states).
        symbols: (T,) subregion labels (0 = most visited, as `dsrkit.analysis.subregions` gives them).
        dims: up to 3 columns of Y to draw (default the first 3; a single column is drawn against its delay).
        max_colors: the `max_colors` most visited subregions get their own colour, the rest are grey.
        codes: optional code strings per label for the legend.
        names: the variable names of Y's columns (axis labels; default x0, x1, ...).
    """
    s = np.asarray(symbols).ravel()
    P, labels = _coords(Y, dims, names)
    if s.size != np.asarray(Y).shape[0]:
        raise ValueError(f"symbols has {s.size} entries for a trajectory of {np.asarray(Y).shape[0]} states")
    s = s[: P.shape[0]]
    fig = Figure(figsize=(6.4, 5.2))
    ax = _axes(fig, P.shape[1])
    cmap = __import__("matplotlib").colormaps["tab10" if max_colors <= 10 else "tab20"]
    rest = s >= max_colors
    if rest.any():
        _scatter(ax, P[rest], s=2, color="0.75", label=f"other ({int(np.unique(s[rest]).size)} regions)")
    for lab in range(min(max_colors, int(s.max()) + 1)):
        sel = s == lab
        if sel.any():
            name = f"{lab}" + (f": {codes[lab]}" if codes is not None and len(codes[lab]) <= 12 else "")
            _scatter(ax, P[sel], s=3, color=cmap(lab % cmap.N), label=name)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if P.shape[1] == 3:
        ax.set_zlabel(labels[2])
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7, markerscale=3, title="subregion", title_fontsize=7)
    return fig


def plot_symbolic_graph(G, *, max_nodes: int = 30, seed: int = 0,
                        title: str = "Symbolic graph of the subregions") -> Figure:
    """Transition graph (from `dsrkit.analysis.symbolic_graph`): node area proportional to visit frequency,
    edge width proportional to transition probability; only the `max_nodes` most visited nodes are drawn.
    Layout: networkx spring layout seeded with `seed`."""
    import networkx as nx

    nodes = sorted(G.nodes, key=lambda n: -G.nodes[n].get("frequency", 0.0))[:max_nodes]
    H = G.subgraph(nodes)
    fig = Figure(figsize=(6.4, 5.2))
    ax = fig.add_subplot(111)
    ax.set_axis_off()
    ax.set_title(title + (f" ({len(nodes)} of {G.number_of_nodes()} most visited)" if len(nodes) < len(G) else ""))
    if not nodes:
        return fig
    pos = nx.spring_layout(H, seed=seed, weight="probability")
    freq = np.array([H.nodes[n].get("frequency", 0.0) for n in H.nodes])
    sizes = 100 + 2500 * freq / max(freq.max(), 1e-12)
    edges = list(H.edges(data="probability"))
    widths = [0.5 + 5.0 * (p or 0.0) for _, _, p in edges]
    nx.draw_networkx_nodes(H, pos, ax=ax, node_size=sizes, node_color=freq, cmap="viridis", alpha=0.9,
                           vmin=0.0, vmax=float(freq.max()) or 1.0)
    nx.draw_networkx_edges(H, pos, ax=ax, edgelist=[(u, v) for u, v, _ in edges], width=widths, node_size=sizes,
                           arrowsize=12, alpha=0.6, connectionstyle="arc3,rad=0.1")
    labels = {n: (f"{n}\n{H.nodes[n]['code']}" if len(H.nodes[n].get("code", "")) <= 8 else str(n)) for n in H.nodes}
    nx.draw_networkx_labels(H, pos, labels=labels, ax=ax, font_size=7)
    _graph_key(fig, ax, freq, edges)
    return fig


def _graph_key(fig: Figure, ax, freq: np.ndarray, edges) -> None:
    """The key of the symbolic graph: a colour bar of the visit frequency (node colour), and legend entries for
    node area (visit frequency), edge width (transition probability) and the node labels (label, code)."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    sm = ScalarMappable(norm=Normalize(vmin=0.0, vmax=float(freq.max()) or 1.0), cmap="viridis")
    fig.colorbar(sm, ax=ax, fraction=0.04, pad=0.02, label="visit frequency (node colour)")
    probs = [p or 0.0 for _, _, p in edges] or [0.0]
    sizes = ((5, float(freq.min())), (12, float(freq.max()))) if freq.max() > freq.min() else ((8, float(freq.max())),)
    handles = [Line2D([], [], ls="", marker="o", ms=s, color="0.5", label=f"node area ∝ frequency ({f:.2g})")
               for s, f in sizes]
    handles += [Line2D([], [], color="0.4", lw=0.5 + 5.0 * p, label=f"edge width ∝ P(next | current) = {p:.2g}")
                for p in sorted({min(probs), max(probs)})]
    handles.append(Line2D([], [], ls="", label="node label: rank by frequency (0 = most visited), subregion code"))
    ax.legend(handles=handles, loc="lower left", fontsize=6.5, framealpha=0.85, title="key", title_fontsize=7)


def plot_fixed_points(Y: Any, objects: list[dict], *, dims=None,
                      title: str = "Fixed points and cycles on the attractor", names=None) -> Figure:
    """Attractor (grey) with fixed points and cycles overlaid, marked by stability.

    Args:
        Y: (T, D) trajectory, in the same coordinates as the points of `objects`.
        objects: dicts with "points" ((k, D) list), "stability" and "period" (e.g. `Cycle.to_dict()` with the
            points mapped to the coordinates of Y). Markers: stable o, saddle ^, unstable X, non-hyperbolic s;
            cycles are closed polygons, one colour per cycle. Stable objects are drawn filled, the others open,
            and the legend shows them so.
        names: the variable names of Y's columns (axis labels; default x0, x1, ...).
    """
    P, labels = _coords(Y, dims, names)
    dims_ = list(range(min(3, np.asarray(Y).shape[1]))) if dims is None else list(dims)
    fig = Figure(figsize=(6.4, 5.2))
    ax = _axes(fig, P.shape[1])
    _scatter(ax, P, s=1, color="0.65", alpha=0.6)
    n_cycle = 0
    for obj in objects:
        pts = np.asarray(obj["points"], dtype=np.float64)
        if pts.ndim != 2 or not np.all(np.isfinite(pts)):
            continue
        if len(dims_) == 1:
            q = np.stack([pts[:, dims_[0]], np.roll(pts[:, dims_[0]], -1)], axis=1)
        else:
            q = pts[:, dims_]
        marker, color = _MARKERS.get(obj.get("stability", ""), ("o", "k"))
        if int(obj.get("period", 1)) > 1:
            color = _CYCLE_COLORS[n_cycle % len(_CYCLE_COLORS)]
            n_cycle += 1
            closed = np.vstack([q, q[:1]])
            ax.plot(*[closed[:, i] for i in range(q.shape[1])], lw=1.0, ls="--", color=color)
        face = color if obj.get("stability") == "stable" else "none"
        _scatter(ax, q, s=60, marker=marker, edgecolors=color, facecolors=face, linewidths=1.5, zorder=5)
    handles = [Line2D([], [], ls="", marker=m, color=c, mec=c, mew=1.5, ms=8,
                      mfc=c if s == "stable" else "none", label=s + (" (filled)" if s == "stable" else " (open)"))
               for s, (m, c) in _MARKERS.items()]
    if n_cycle:
        handles.append(Line2D([], [], ls="--", color=_CYCLE_COLORS[0], label="cycle (one colour each)"))
    ax.legend(handles=handles, loc="upper right", fontsize=7)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if P.shape[1] == 3:
        ax.set_zlabel(labels[2])
    ax.set_title(title)
    return fig


# ------------------------------------------------------------------------------------------------------------
# from an `analyze` result


@uses_x64
def _observe_points(model, pts: np.ndarray) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    from ..analysis.pieces import _model_to_float64

    return np.asarray(jax.vmap(_model_to_float64(model).observe)(jnp.asarray(pts, jnp.float64)))


def _generated(model, X: np.ndarray):
    """The generated attractor sample of `analyze` (the protocol's free run in float64), latent and observed."""
    from ..rollout import protocol_free_run

    Z = protocol_free_run(model, X, latent=True)
    return Z, _observe_points(model, Z)


def report_figures(model: Any, X: Any, analysis: dict, *, max_points: int = 20_000,
                   names=None) -> dict[str, tuple[Figure, str]]:
    """Interpretation figures for a report: {name: (Figure, caption)}.

    Recomputes the generated attractor sample of `analyze` (free run from X[0], first quarter dropped) and
    draws, in observation coordinates: "subregions" (attractor coloured by subregion), "symbolic_graph"
    (transition graph of the generated symbolic sequence) and "fixed_points" (fixed points and cycles of
    `analysis` overlaid, mapped by the model's observation). Empty for non-piecewise-linear or diverged models.
    names: the observed variables' names (axis labels; default x0, x1, ...).
    """
    from ..analysis import subregions, transition_graph

    X = np.asarray(X, dtype=np.float64)
    if not analysis.get("piecewise_linear") or analysis.get("status") != "ok":
        return {}
    Z, Y = _generated(model, X)
    if not np.all(np.isfinite(Y)):
        return {}
    seq = subregions(model, Z)
    step = max(1, Y.shape[0] // max_points)
    out: dict[str, tuple[Figure, str]] = {}
    out["subregions"] = (
        plot_attractor_regions(Y[::step], seq.symbols[::step], codes=seq.code_strings, names=names),
        f"Generated attractor coloured by linear subregion ({seq.n_regions} of the model's 2^{analysis['n_switch']} "
        f"subregions visited; labels by visit frequency, 0 = most visited).")
    out["symbolic_graph"] = (
        plot_symbolic_graph(transition_graph(seq)),
        "Symbolic graph of the generated trajectory (key in the figure): node area and colour ∝ visit frequency, "
        "edge width ∝ transition probability P(next subregion | current subregion); nodes are labelled by rank "
        "of visit frequency and subregion code.")
    objs = []
    for d in analysis.get("fixed_points", []) + [c for k in sorted(analysis.get("cycles", {}), key=int)
                                                  for c in analysis["cycles"][k]]:
        objs.append({**d, "points": _observe_points(model, np.asarray(d["points"]))})
    n_fp = len(analysis.get("fixed_points", []))
    out["fixed_points"] = (
        plot_fixed_points(Y[::step], objs, names=names),
        f"{n_fp} fixed point(s) and {len(objs) - n_fp} cycle(s) of period ≤ "
        f"{max([int(k) for k in analysis.get('cycles', {})] or [1])} on the generated attractor "
        "(filled: stable; open: saddle or unstable; dashed polygons: cycles).")
    return out


def save_figures(model: Any, X: Any, analysis: dict, directory: Any, dpi: int = 110, *,
                 names=None) -> list[Path]:
    """Write `report_figures` as PNG files <directory>/<name>.png (axis names: `names`, default x0, x1, ...);
    returns the written paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (fig, _caption) in report_figures(model, X, analysis, names=names).items():
        paths.append(save_figure(fig, directory / f"{name}.png", overwrite=True, dpi=dpi))
    return paths


def describe(analysis: dict) -> str:
    """One paragraph in words summarising an `analyze` result."""
    if not analysis.get("piecewise_linear"):
        text = f"{analysis.get('model', 'The model')} is not piecewise linear: no subregion analysis."
    elif analysis.get("status") != "ok":
        text = "The model's free run diverged, so no attractor was analysed."
    else:
        n = analysis.get("n_subregions")
        text = (f"The generated attractor visits {n} of the 2^{analysis['n_switch']} linear subregions "
                f"(the data-inferred states visit {analysis.get('n_subregions_data', 'n/a')}, "
                f"{analysis.get('shared_subregions', 'n/a')} shared); the entropy rate of its symbolic sequence is "
                f"{analysis.get('entropy_rate', float('nan')):.3f} nats per step.")
    ly = analysis.get("lyapunov")
    if ly:
        unit = "per time unit" if "max_per_time" in ly else "per step"
        lam = ly.get("max_per_time", ly.get("max_per_step"))
        text += (f" Largest Lyapunov exponent of the generated attractor {lam:.4g} {unit} (QR method along a "
                 f"{ly.get('n_steps')}-step free run from the first data point after {ly.get('transient')} "
                 "transient steps)")
        text += (f", Kaplan-Yorke dimension {ly['kaplan_yorke_dimension']:.3g}." if "kaplan_yorke_dimension" in ly
                 else ".")
    fps = analysis.get("fixed_points")
    if fps is not None:
        kinds: dict[str, int] = {}
        for f in fps:
            kinds[f["type"]] = kinds.get(f["type"], 0) + 1
        text += f" {len(fps)} fixed point(s)" + (f" ({', '.join(f'{v} {k}' for k, v in kinds.items())})" if kinds
                                                 else "") + "."
    cyc = analysis.get("cycles") or {}
    if cyc:
        text += " Cycles found: " + ", ".join(f"{len(v)} of period {k}" for k, v in cyc.items()) + "."
    return text


def report_tables(analysis: dict, max_rows: int = 20) -> dict[str, list[dict]]:
    """Tables of an `analyze` result: fixed points and cycles, and the most visited subregions."""
    tables: dict[str, list[dict]] = {}
    rows = []
    objs = list(analysis.get("fixed_points", [])) + [c for k in sorted(analysis.get("cycles", {}), key=int)
                                                     for c in analysis["cycles"][k]]
    for o in objs[:max_rows]:
        rows.append({"period": o["period"], "type": o["type"], "spectral radius": o["spectral_radius"],
                     "distance to attractor": o.get("distance_to_attractor", float("nan")),
                     "regions": " ".join(c if len(c) <= 12 else c[:12] + "…" for c in o["codes"])})
    if rows:
        tables[f"Fixed points and cycles ({len(objs)} in all, first {len(rows)} shown):"] = rows
    gen = (analysis.get("symbolic") or {}).get("generated")
    if gen:
        tables["Most visited subregions of the generated attractor:"] = [
            {"label": i, "code": c if len(c) <= 24 else c[:24] + "…", "frequency": f}
            for i, (c, f) in enumerate(zip(gen["codes"][:10], gen["frequencies"][:10]))]
    return tables
