"""Tables of the report, as lists of row dicts (`HtmlReport.table` draws them): provenance, the data in raw units,
the spread over seeds, the parameters and linear subregions of a piecewise-linear model, and the λ_max
estimates with how each was computed. Nothing here trains or evaluates; the subregion table computes the
eigenvalues of each visited subregion's Jacobian J(d) from the model (float64).
"""

from __future__ import annotations

import numpy as np

from .._precision import x64

#: at most this many latent units / subregions are listed
MAX_ROWS = 30


def provenance_rows(prov: dict | None) -> list[dict]:
    """dsrkit version, command line, seeds, date, platform and data checksum of a run (config.json's
    "provenance", `dsrkit.runs.provenance`)."""
    if not prov:
        return [{"item": "provenance", "value": "not recorded (a run written before dsrkit recorded provenance)"}]
    items = [("dsrkit version", prov.get("dsrkit_version")), ("command", prov.get("command")),
             ("seed", prov.get("seed")), ("seeds", prov.get("seeds")), ("date (UTC)", prov.get("date_utc")),
             ("platform", prov.get("platform")),
             ("Python / JAX / NumPy", f"{prov.get('python')} / {prov.get('jax')} / {prov.get('numpy')}"),
             ("data SHA-256", prov.get("data_sha256")), ("checksum of", prov.get("data_checksum_of"))]
    return [{"item": k, "value": v} for k, v in items if v is not None]


def data_rows(raw_test: np.ndarray, scaler, names: list[str]) -> list[dict]:
    """Per variable: the mean and std used for standardisation (of the training data) and the test series'
    range in raw units. raw_test: (T, N) in raw units; scaler: a `dsrkit.data.Standardizer`."""
    lo, hi = np.nanmin(raw_test, axis=0), np.nanmax(raw_test, axis=0)
    return [{"variable": n, "mean (standardisation)": float(scaler.mean[i]), "std (standardisation)":
             float(scaler.std[i]), "test min (raw)": float(lo[i]), "test max (raw)": float(hi[i])}
            for i, n in enumerate(names)]


def member_rows(members: list[dict]) -> tuple[list[dict], str]:
    """Every member of a population trained with `--seeds k` (config.json "members", `dsrkit.runs.members_of`)
    and a sentence with the median and range of their selection scores."""
    scores = np.array([m["score"] if m.get("score") is not None else np.nan for m in members], dtype=float)
    ok = np.isfinite(scores)
    if ok.any():
        text = (f"{len(members)} members; selection score median {np.median(scores[ok]):.4g}, range "
                f"{scores[ok].min():.4g} – {scores[ok].max():.4g} ({int(ok.sum())} with a finite score); the saved "
                "model is the member with the lowest score.")
    else:
        text = f"{len(members)} members; none has a finite selection score."
    rows = [{"member": m["member"], "seed": m.get("seed"), "status": m.get("status"),
             "selected epoch": m.get("best_epoch"), "selection score": m.get("score"),
             "saved": "yes" if m.get("saved") else ""} for m in members]
    return rows, text


def _role(model, i: int) -> str:
    n, m = model.obs_dim, model.latent_dim
    kind = "read-out" if getattr(model, "observation", "identity") == "identity" and i < n else "latent"
    p = getattr(model, "relu_units", None)
    if p is not None:
        return kind + (", ReLU" if i >= m - p else ", linear")
    return kind


def parameter_rows(model, names: list[str] | None = None) -> list[dict]:
    """One row per latent unit (at most MAX_ROWS): its role, the diagonal A_ii, the bias, and the norms of its
    row and column of the coupling matrix (the inputs it gets and the outputs it sends). PLRNN, AL-RNN,
    dendPLRNN: W and h; shPLRNN: W1 (row) and W2 (column), h1."""
    from ..models._base import parameter_arrays

    p = parameter_arrays(model)
    A = p["A"].astype(np.float64)
    if "W1" in p:
        row, col, bias = np.linalg.norm(p["W1"], axis=1), np.linalg.norm(p["W2"], axis=0), p["h1"]
        rn, cn, bn = "‖W1[i, :]‖", "‖W2[:, i]‖", "h1_i"
    else:
        W = p["W"] * (1 - np.eye(len(A))) if type(model).__name__ in ("PLRNN", "DendPLRNN") else p["W"]
        row, col, bias = np.linalg.norm(W, axis=1), np.linalg.norm(W, axis=0), p["h"]
        rn, cn, bn = "‖W[i, :]‖ (inputs)", "‖W[:, i]‖ (outputs)", "h_i"
    rows = []
    for i in range(min(len(A), MAX_ROWS)):
        label = f"z{i}" + (f" = {names[i]}" if names and i < model.obs_dim and i < len(names)
                           and getattr(model, "observation", "identity") == "identity" else "")
        rows.append({"unit": label, "role": _role(model, i), "A_ii": float(A[i]), bn: float(bias[i]),
                     rn: float(row[i]), cn: float(col[i])})
    return rows


def subregion_rows(model, codes: list[str], frequencies: list[float], top: int = 10) -> list[dict]:
    """The `top` most visited linear subregions (codes as '0101' strings, with their visit frequencies): the
    spectral radius ρ of the Jacobian J(d) there, the leading eigenvalues, and whether the affine map is
    contracting there (ρ < 1). Eigenvalues of J(d) = `model.region_affine(d)[0]` in float64."""
    import jax.numpy as jnp

    from ..models import astype

    rows = []
    with x64():
        m64 = astype(model, jnp.float64)
        for code, freq in list(zip(codes, frequencies))[:top]:
            d = jnp.asarray([int(c) for c in code], dtype=jnp.int8)
            J = np.asarray(m64.region_affine(d)[0], dtype=np.float64)
            ev = np.linalg.eigvals(J)
            ev = ev[np.argsort(-np.abs(ev), kind="stable")]
            rho = float(np.abs(ev[0])) if ev.size else 0.0
            lead = ", ".join(f"{v.real:.3g}{v.imag:+.3g}i" if abs(v.imag) > 1e-12 else f"{v.real:.3g}" for v in ev[:3])
            rows.append({"code": code if len(code) <= 24 else code[:24] + "…", "visit frequency": float(freq),
                         "spectral radius ρ": rho, "leading eigenvalues of J(d)": lead,
                         "map there": "contracting" if rho < 1 else "expanding in ≥ 1 direction"})
    return rows


def lyapunov_rows(analysis: dict, metrics: dict, reference=None, reference_label: str = "") -> list[dict]:
    """Both λ_max estimates of the model, each labelled with how it was computed (QR method along a free run):
    the analysis's (from the first test point, after the protocol's transient, as long as the test series or
    10 000 steps) and the evaluation's (from the first test point, `lyapunov_steps` steps after 1 000)."""
    ly = analysis.get("lyapunov") or {}
    rows = []
    if ly:
        unit = "per time unit" if "max_per_time" in ly else "per step"
        rows.append({"λ_max": f"analysis: QR along a {ly.get('n_steps')}-step free run from the first test point "
                              f"after {ly.get('transient')} transient steps, {unit}",
                     "model": ly.get("max_per_time", ly.get("max_per_step")), "reference": reference})
    if metrics.get("lyapunov_max") is not None:
        steps = (metrics.get("protocol") or {}).get("lyapunov_steps", 10_000)
        unit = "per time unit" if metrics.get("dt") else "per step"
        rows.append({"λ_max": f"evaluation: QR along a {steps}-step free run from the first test point after 1000 "
                              f"transient steps, {unit}", "model": metrics.get("lyapunov_max"),
                     "reference": reference})
    if reference is not None and reference_label:
        for r in rows:
            r["reference from"] = reference_label
    return rows
