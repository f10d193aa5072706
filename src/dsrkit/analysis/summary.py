"""One-call summaries of a trained model: `attractor_summary` and `analyze` (what `dsr analyze` writes).

Both return JSON-ready dicts (lists, floats, strings). Everything runs in float64 (inside
`dsrkit._precision.x64()`, whatever JAX's global setting).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._precision import uses_x64
from ..rollout import free_run_latent, protocol_free_run, rollout_lengths
from .scyfi import SCYFI_DEFAULTS, Cycle, cycles, fixed_points
from .pieces import _model_to_float64, as_piecewise_affine
from .symbolic import check_observations, infer_latent, subregions, transition_graph

__all__ = ["free_run_latent", "attractor_summary", "analyze"]

_DIVERGED_ABS = 1e8  # a state larger than this (or non-finite) counts as diverged
_MAX_LISTED_REGIONS = 100


def _is_piecewise_linear(model: Any) -> bool:
    return all(hasattr(model, n) for n in ("n_switch", "region_code", "region_affine"))


def _diverged(Z: np.ndarray) -> bool:
    return not np.all(np.isfinite(Z)) or bool(np.abs(Z).max() > _DIVERGED_ABS)


def _distance_to(points: np.ndarray, Z: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Euclidean distance of each point (P, M) to the nearest state of Z (T, M)."""
    best = np.full(points.shape[0], np.inf)
    for s in range(0, Z.shape[0], chunk):
        d = np.linalg.norm(Z[s : s + chunk, None, :] - points[None, :, :], axis=2)
        best = np.minimum(best, d.min(axis=0))
    return best


def _cycle_dicts(objs: list[Cycle], Z: np.ndarray | None) -> list[dict]:
    out = []
    for c in objs:
        d = c.to_dict()
        if Z is not None and Z.size:
            d["distance_to_attractor"] = float(_distance_to(c.points, Z).min())
        out.append(d)
    return out


def _symbolic_dict(seq, top_words: int = 10) -> dict:
    d = seq.to_dict(word_length=3, top=top_words)
    if seq.n_regions > _MAX_LISTED_REGIONS:
        for key in ("codes", "counts", "frequencies"):
            d[key] = d[key][:_MAX_LISTED_REGIONS]
        d["listed"] = f"the {_MAX_LISTED_REGIONS} most visited of {seq.n_regions} subregions"
    return d


def _graph_edges(G, limit: int = 200) -> list[dict]:
    edges = sorted(G.edges(data=True), key=lambda e: -e[2]["count"])[:limit]
    return [{"from": int(i), "to": int(j), "probability": d["probability"], "count": d["count"]} for i, j, d in edges]


def _lyapunov(model: Any, z0: np.ndarray, n_steps: int, transient: int, dt: float | None) -> dict:
    from ..metrics import kaplan_yorke_dimension, lyapunov_spectrum

    spec = lyapunov_spectrum(model, n_steps, transient=transient, z0=np.asarray(z0))
    out: dict[str, Any] = {"n_steps": int(n_steps), "transient": int(transient),
                           "spectrum_per_step": spec.tolist(), "max_per_step": float(spec[0])}
    if np.all(np.isfinite(spec)):
        out["kaplan_yorke_dimension"] = kaplan_yorke_dimension(spec)
    if dt is not None:
        out["dt"] = float(dt)
        out["spectrum_per_time"] = (spec / dt).tolist()
        out["max_per_time"] = float(spec[0] / dt)
    return out


def _check_dt(dt: Any) -> float | None:
    if dt is None:
        return None
    dt = float(dt)
    if not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive number or None, got {dt!r}")
    return dt


@uses_x64
def attractor_summary(model: Any, n_steps: int, x0: Any, dt: float | None = None, *, transient: int = 1000,
                      fixed_point_search: bool = True, seed: int = 0) -> dict:
    """Summary of the attractor a model settles on from observation x0.

    The model runs freely (float64) from z0 = model.init_state(x0) for `transient` + `n_steps` steps; the last
    `n_steps` states are the attractor sample.

    Returns a JSON-ready dict:
        status: "ok" or "diverged" (non-finite or |z| > 1e8); on "diverged" only the fields known so far.
        lyapunov: spectrum by `dsrkit.metrics.lyapunov_spectrum` (Benettin QR along the same run, same
            transient), per step and, when `dt` is given, per time unit; its Kaplan-Yorke dimension.
        n_subregions: number of linear subregions visited by the attractor sample (piecewise-linear models),
            with `symbolic` (codes, frequencies, entropy rate, frequent words of length 3).
        fixed_points: all fixed points (see `fixed_points`) with stability and distance to the attractor sample,
            and `fixed_point_types` counting them by type.
    """
    dt = _check_dt(dt)
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}")
    transient = int(transient)
    if transient < 0:
        raise ValueError(f"transient must be >= 0, got {transient}")
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.shape != (model.obs_dim,):
        raise ValueError(f"x0 must have shape ({model.obs_dim},), got {x0.shape}")
    z0 = np.asarray(_model_to_float64(model).init_state(x0), dtype=np.float64)
    Z = free_run_latent(model, z0, transient + int(n_steps))[transient:]
    out: dict[str, Any] = {"n_steps": int(n_steps), "transient": transient, "status": "ok"}
    pl = _is_piecewise_linear(model)
    out["piecewise_linear"] = pl
    if pl and fixed_point_search:
        fps = fixed_points(model, seed=seed)
        out["fixed_points"] = _cycle_dicts(fps, None if _diverged(Z) else Z)
        out["fixed_point_types"] = {t: sum(f.type == t for f in fps) for t in sorted({f.type for f in fps})}
    if _diverged(Z):
        out["status"] = "diverged"
        return out
    out["lyapunov"] = _lyapunov(model, z0, int(n_steps), transient, dt)
    if pl:
        seq = subregions(model, Z)
        out["n_subregions"] = seq.n_regions
        out["symbolic"] = _symbolic_dict(seq)
    return out


@uses_x64
def analyze(model: Any, X: Any, dt: float | None = None, max_cycle_period: int = 4, seed: int = 0, *,
            n_lyapunov: int | None = None) -> dict:
    """Take a trained model apart on data X: the dict `dsr analyze RUN` writes as analysis.json.

    Protocol: the model runs freely from the first data point for 1.25 T steps and the first 0.25 T are dropped
    (the evaluation protocol, `dsrkit.rollout.protocol_free_run`, in float64), giving the generated attractor
    sample of T states.

    Args:
        model: a dsrkit model; piecewise-linear ones (PLRNN, AL-RNN, shPLRNN, dendPLRNN) get the full analysis,
            others the Lyapunov spectrum only.
        X: (T, N) observations (T >= 10), e.g. the standardised test series.
        dt: sampling step of X; Lyapunov exponents are also given per time unit when set.
        max_cycle_period: cycles of period 2 .. max_cycle_period are searched (`cycles`, method "auto":
            exhaustive while (2^n_switch)^k <= 2^14, SCYFI otherwise, with the default loop limits).
        seed: seed of the SCYFI searches.
        n_lyapunov: steps for the Lyapunov spectrum (default max(T, 10 000), after a transient of 0.25 T).

    Returns: JSON-ready dict with keys
        model, latent_dim, obs_dim, piecewise_linear, n_switch, status ("ok" | "diverged"), protocol,
        lyapunov (see `attractor_summary`), n_subregions (regions visited by the generated attractor),
        n_subregions_data (by the data-inferred states, `infer_latent(model, X, "forced")`),
        shared_subregions (visited by both), entropy_rate (nats per step, generated sequence),
        symbolic {generated, data} (codes, frequencies, frequent words), graph_edges (of the generated
        sequence: from, to, probability, count), fixed_points (list of `Cycle.to_dict()` + distance_to_attractor),
        cycles {"2": [...], ...}, cycle_search (method and limits per period), seconds.
    """
    t0 = time.perf_counter()
    dt = _check_dt(dt)
    if isinstance(max_cycle_period, bool) or not isinstance(max_cycle_period, (int, np.integer)) \
            or max_cycle_period < 1:
        raise ValueError(f"max_cycle_period must be a positive integer, got {max_cycle_period!r}")
    X = check_observations(model, X, min_length=10, caller="analyze")
    T = X.shape[0]
    n_drop, n_total = rollout_lengths(T)
    pl = _is_piecewise_linear(model)
    out: dict[str, Any] = {
        "model": type(model).__name__,
        "latent_dim": int(model.latent_dim),
        "obs_dim": int(model.obs_dim),
        "piecewise_linear": pl,
        "n_switch": int(model.n_switch) if pl else None,
        "status": "ok",
        "protocol": (f"free run from the first data point for {n_total} steps, first {n_drop} dropped "
                     f"(T = {T} generated states); data-inferred states by forcing the observed units each step"),
    }
    z0 = np.asarray(_model_to_float64(model).init_state(X[0]), dtype=np.float64)
    Z = protocol_free_run(model, X, latent=True)
    diverged = _diverged(Z)
    if diverged:
        out["status"] = "diverged"
    else:
        n_ly = max(T, 10_000) if n_lyapunov is None else int(n_lyapunov)
        out["lyapunov"] = _lyapunov(model, z0, n_ly, n_drop, dt)
    if not pl:
        out["seconds"] = time.perf_counter() - t0
        return out

    Zd = infer_latent(model, X, mode="forced")
    seq_d = subregions(model, Zd) if np.all(np.isfinite(Zd)) else None
    out["symbolic"] = {}
    if seq_d is not None:
        out["n_subregions_data"] = seq_d.n_regions
        out["symbolic"]["data"] = _symbolic_dict(seq_d)
    if not diverged:
        seq = subregions(model, Z)
        G = transition_graph(seq)
        out["n_subregions"] = seq.n_regions
        out["entropy_rate"] = G.graph["entropy_rate"]
        out["symbolic"]["generated"] = _symbolic_dict(seq)
        out["graph_edges"] = _graph_edges(G)
        if seq_d is not None:
            out["shared_subregions"] = len(set(seq.code_strings) & set(seq_d.code_strings))
    Zref = None if diverged else Z
    fps = fixed_points(model, seed=seed)
    out["fixed_points"] = _cycle_dicts(fps, Zref)
    pieces = as_piecewise_affine(model)
    out["cycles"], out["cycle_search"] = {}, {}
    for k in range(2, int(max_cycle_period) + 1):
        tk = time.perf_counter()
        method = "exhaustive" if 2.0 ** (pieces.n_switch * k) <= (1 << 14) else "scyfi"
        found = cycles(model, k, method=method, seed=seed + k)
        out["cycles"][str(k)] = _cycle_dicts(found, Zref)
        out["cycle_search"][str(k)] = {"method": method, "seconds": time.perf_counter() - tk,
                                       **(SCYFI_DEFAULTS if method == "scyfi" else {})}
    out["fixed_point_search"] = "exhaustive" if pieces.n_switch <= 16 else "scyfi"
    out["seconds"] = time.perf_counter() - t0
    return out
