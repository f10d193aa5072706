"""Fixed points and k-cycles of piecewise-linear RNNs: exhaustive search and SCYFI.

Within a region sequence (d_1, ..., d_k) the k-step map is affine, F_{d_k} o ... o F_{d_1}(z) = J_tot z + c_tot
with J_tot = J_k ... J_1, so a k-cycle through that sequence solves (I - J_tot) z_1 = c_tot; the candidate is
real iff each point z_i = F_{d_{i-1}}(z_{i-1}) lies in region d_i. Fixed points are the case k = 1.

- Exhaustive: solve the linear system for every region sequence at once (batched float64 solves) and keep the
  real solutions; used while the number of sequences (2^n_switch)^k is at most `exhaustive_limit`.
- SCYFI (Eisenmann, Monfared, Göring & Durstewitz 2023, "Bifurcations and loss jumps in RNN training",
  NeurIPS): start from a random region sequence, solve for the candidate, run the true map from it for k steps;
  if the visited regions equal the assumed ones the cycle is real (recorded, then restart from a fresh random
  sequence), otherwise iterate from the visited regions. Here many such chains run side by side (vectorised).

Every returned object is verified against the true one-step map and the region code, carries the eigenvalues
of its k-step Jacobian J_k ... J_1 and a stability type, and has minimal period exactly k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .pieces import PiecewiseAffine, as_piecewise_affine

__all__ = ["Cycle", "CycleList", "fixed_points", "cycles", "classify_eigenvalues"]


def _single_threaded_blas():
    """Context limiting BLAS/LAPACK to one thread (via threadpoolctl when installed).

    The searches solve many small systems in batches; a multi-threaded OpenBLAS spends far more time
    synchronising than computing on them and collapses on a loaded machine (measured here: a batch of 64
    100 x 100 solves took 0.5-6 s with the default threads, 0.03 s with one)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")

SCYFI_DEFAULTS = {"outer": 200, "inner": 20, "batch": 64, "max_restarts": 20000}
_STABILITY_ORDER = {"stable": 0, "saddle": 1, "non-hyperbolic": 2, "unstable": 3}


@dataclass(frozen=True, eq=False)
class Cycle:
    """A verified fixed point (period 1) or k-cycle of a piecewise-affine map.

    Attributes:
        points: (k, M) float64, z_1 ... z_k with z_{i+1} = F(z_i) and F(z_k) = z_1.
        codes: (k, n_switch) int8, the region code of each point.
        eigenvalues: (M,) complex, of the k-step Jacobian J_{d_k} ... J_{d_1}, sorted by decreasing modulus.
        period: k, the minimal period.
        stability: "stable" (all |lambda| < 1), "unstable" (all > 1), "saddle" (both), or "non-hyperbolic"
            (some |lambda| = 1 within 1e-9).
        complex: whether an eigenvalue has a non-zero imaginary part (focus rather than node).
        residual: max_i ||F(z_i) - z_{i+1}||_inf under the true model step.
    """

    points: np.ndarray
    codes: np.ndarray
    eigenvalues: np.ndarray
    period: int
    stability: str
    complex: bool
    residual: float

    @property
    def type(self) -> str:
        """Stability type in words, e.g. "stable focus", "saddle node", "unstable focus"."""
        return f"{self.stability} {'focus' if self.complex else 'node'}"

    @property
    def spectral_radius(self) -> float:
        return float(np.max(np.abs(self.eigenvalues))) if self.eigenvalues.size else 0.0

    @property
    def code_strings(self) -> list[str]:
        return ["".join(str(int(b)) for b in c) for c in self.codes]

    def __repr__(self) -> str:
        first = ", ".join(f"{v:.4g}" for v in self.points[0, :_SHOWN_COORDS])
        more = ", …" if self.points.shape[1] > _SHOWN_COORDS else ""
        return (f"Cycle(period={self.period}, {self.type}, spectral radius {self.spectral_radius:.4g}, "
                f"z[0] = [{first}{more}] (M = {self.points.shape[1]}), codes {self.code_strings})")

    def to_dict(self) -> dict:
        """JSON-ready dict (lists of floats, codes as '0101' strings, eigenvalues as real/imag lists)."""
        return {
            "period": int(self.period),
            "type": self.type,
            "stability": self.stability,
            "complex": bool(self.complex),
            "spectral_radius": self.spectral_radius,
            "points": self.points.tolist(),
            "codes": self.code_strings,
            "eigenvalues": {"real": self.eigenvalues.real.tolist(), "imag": self.eigenvalues.imag.tolist()},
            "residual": float(self.residual),
        }


_SHOWN_COORDS = 3


class CycleList(list):
    """The list of `Cycle`s that `fixed_points` and `cycles` return: an ordinary list whose `str`/`repr` is a
    table (one row per object: period, stability type, spectral radius of the k-step Jacobian, residual, the
    first coordinates of its first point and its subregion code) instead of raw M-dimensional vectors."""

    def table(self, max_rows: int = 20, coords: int = _SHOWN_COORDS) -> str:
        """The table as text: at most `max_rows` rows and `coords` coordinates of each first point."""
        if not self:
            return "no fixed points or cycles found"
        m = self[0].points.shape[1]
        k = min(coords, m)
        head = ["#", "period", "type", "ρ (spectral radius)", "residual",
                *(f"z{i}" for i in range(k)), "code"]
        rows = []
        for i, c in enumerate(self[:max_rows]):
            code = c.code_strings[0] if c.period == 1 else " → ".join(c.code_strings)
            rows.append([str(i), str(c.period), c.type, f"{c.spectral_radius:.4g}", f"{c.residual:.1e}",
                         *(f"{v:.4g}" for v in c.points[0, :k]), code if len(code) <= 40 else code[:39] + "…"])
        widths = [max(len(r[j]) for r in [head, *rows]) for j in range(len(head))]
        lines = ["  ".join(x.rjust(w) if j not in (2, len(head) - 1) else x.ljust(w)
                           for j, (x, w) in enumerate(zip(r, widths))).rstrip() for r in [head, *rows]]
        note = [f"({len(self)} in all, first {max_rows} shown)"] if len(self) > max_rows else []
        coords_note = [f"(first {k} of M = {m} latent coordinates of the first point shown)"] if k < m else []
        return "\n".join([*lines, *note, *coords_note])

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"CycleList of {len(self)}:\n{self.table()}" if self else "CycleList([])"


def classify_eigenvalues(eigenvalues: np.ndarray, tol: float = 1e-9) -> tuple[str, bool]:
    """Stability of a fixed point of a map from the eigenvalues of its Jacobian: (stability, complex).

    stability: "stable" if all |lambda| < 1 - tol, "unstable" if all > 1 + tol, "non-hyperbolic" if any
    | |lambda| - 1 | <= tol, else "saddle". complex: any |Im lambda| > tol * max(1, |lambda|).
    """
    ev = np.asarray(eigenvalues, dtype=np.complex128)
    if ev.size == 0:
        return "stable", False
    mod = np.abs(ev)
    is_complex = bool(np.any(np.abs(ev.imag) > tol * np.maximum(1.0, mod)))
    if np.any(np.abs(mod - 1.0) <= tol):
        return "non-hyperbolic", is_complex
    if np.all(mod < 1.0):
        return "stable", is_complex
    if np.all(mod > 1.0):
        return "unstable", is_complex
    return "saddle", is_complex


# ----------------------------------------------------------------------------------------------------------
# batched linear algebra


def _batched_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve A[i] x[i] = b[i] for a batch; rows with (numerically) singular A get NaN."""
    K, M = b.shape
    if K == 0:
        return np.empty((0, M))
    try:
        x = np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        x = np.full((K, M), np.nan)
        for i in range(K):
            try:
                x[i] = np.linalg.solve(A[i], b[i])
            except np.linalg.LinAlgError:
                pass
    # near-singular systems give huge, meaningless solutions; drop those whose residual is not small
    res = np.abs(np.einsum("kij,kj->ki", A, x) - b).max(axis=1)
    scale = np.abs(A).sum(axis=2).max(axis=1) * np.abs(x).max(axis=1) + np.abs(b).max(axis=1) + 1.0
    bad = ~np.isfinite(res) | (res > 1e-8 * scale)
    x[bad] = np.nan
    return x


def _compose(J: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compose affine maps along axis 1: J (B, k, M, M), c (B, k, M) -> k-step map (J_k...J_1, c_tot)."""
    Jt, ct = J[:, 0], c[:, 0]
    for i in range(1, J.shape[1]):
        Jt = J[:, i] @ Jt
        ct = np.einsum("bij,bj->bi", J[:, i], ct) + c[:, i]
    return Jt, ct


def _candidates(pieces: PiecewiseAffine, D: np.ndarray):
    """Cycle candidates for region sequences D (B, k, n): points (B, k, M) by the assumed affine maps.

    Returns (points, J (B, k, M, M), c (B, k, M)); points are NaN where I - J_tot is singular.
    """
    B, k, n = D.shape
    M = pieces.latent_dim
    J, c = pieces.affine(D.reshape(B * k, n))
    J = np.asarray(J, dtype=np.float64).reshape(B, k, M, M)
    c = np.asarray(c, dtype=np.float64).reshape(B, k, M)
    Jt, ct = _compose(J, c)
    z = _batched_solve(np.eye(M)[None] - Jt, ct)
    pts = np.empty((B, k, M))
    pts[:, 0] = z
    for i in range(1, k):
        pts[:, i] = np.einsum("bij,bj->bi", J[:, i - 1], pts[:, i - 1]) + c[:, i - 1]
    return pts, J, c


def _minimal_period(D: np.ndarray) -> np.ndarray:
    """Minimal period of each cyclic code sequence D (B, k, n) -> (B,) ints."""
    B, k, _ = D.shape
    per = np.full(B, k)
    for p in range(k - 1, 0, -1):
        if k % p == 0:
            same = np.all(D == np.roll(D, -p, axis=1), axis=(1, 2))
            per[same] = p
    return per


def _canonical_key(codes: np.ndarray) -> tuple:
    """Key of a cyclic code sequence invariant under cyclic shift (lexicographically least rotation)."""
    rows = [tuple(int(b) for b in r) for r in codes]
    k = len(rows)
    return min(tuple(rows[(s + i) % k] for i in range(k)) for s in range(k))


def _rotate_canonical(points: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = [tuple(int(b) for b in r) for r in codes]
    k = len(rows)
    s = min(range(k), key=lambda s: tuple(rows[(s + i) % k] for i in range(k)))
    return np.roll(points, -s, axis=0), np.roll(codes, -s, axis=0)


def _verify_and_build(pieces: PiecewiseAffine, points: np.ndarray, codes: np.ndarray, J: np.ndarray,
                      tol: float, found: dict[tuple, Cycle]) -> None:
    """Verify candidates (B, k, M) with claimed codes (B, k, n) and build `Cycle`s for those that pass.

    A candidate passes when every point's region code (by the model's own code function) equals the claimed
    code and ||step(z_i) - z_{i+1}||_inf <= tol_eff * (1 + ||z||_inf) with tol_eff = max(tol, 1e3 * eps of the
    step's arithmetic), indices cyclic. Passing cycles not yet in `found` (keyed by `_canonical_key`) are added.
    """
    B, k, M = points.shape
    if B == 0:
        return
    flat = points.reshape(B * k, M)
    real_codes = np.asarray(pieces.code(flat)).reshape(codes.shape)
    nxt = np.asarray(pieces.step(flat), dtype=np.float64).reshape(B, k, M)
    target = np.roll(points, -1, axis=1)
    err = np.abs(nxt - target).max(axis=(1, 2))
    scale = 1.0 + np.abs(points).max(axis=(1, 2))
    tol_eff = max(tol, 1e3 * pieces.step_eps)
    ok = np.all(real_codes == codes, axis=(1, 2)) & (err <= tol_eff * scale) & np.all(np.isfinite(points), axis=(1, 2))
    for b in np.flatnonzero(ok):
        key = _canonical_key(codes[b])
        if key in found:
            continue
        Jt = J[b, 0]
        for i in range(1, k):
            Jt = J[b, i] @ Jt
        ev = np.linalg.eigvals(Jt)
        ev = ev[np.argsort(-np.abs(ev), kind="stable")]
        stab, cplx = classify_eigenvalues(ev)
        pts, cds = _rotate_canonical(points[b], codes[b].astype(np.int8))
        found[key] = Cycle(points=pts, codes=cds, eigenvalues=ev, period=k, stability=stab, complex=cplx,
                           residual=float(err[b]))


def _sorted_unique(found: dict[tuple, Cycle]) -> CycleList:
    return CycleList(found[key] for key in sorted(found, key=lambda key: (_STABILITY_ORDER[found[key].stability], key)))


def _all_codes(n: int, start: int, stop: int) -> np.ndarray:
    idx = np.arange(start, stop, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n, dtype=np.int64)[None, :]) & 1).astype(np.int8)


def _exhaustive(pieces: PiecewiseAffine, k: int, tol: float) -> CycleList:
    n, M = pieces.n_switch, pieces.latent_dim
    n_regions = 1 << n
    total = n_regions**k
    chunk = max(1, min(8192, (1 << 22) // max(k * M * M, 1)))
    all_codes = _all_codes(n, 0, n_regions)
    found: dict[tuple, Cycle] = {}
    for s in range(0, total, chunk):
        seq = np.arange(s, min(total, s + chunk), dtype=np.int64)
        D = all_codes[np.stack([(seq // n_regions**i) % n_regions for i in range(k)], axis=1)]
        if k > 1:
            D = D[_minimal_period(D) == k]
        if D.shape[0] == 0:
            continue
        pts, J, _ = _candidates(pieces, D)
        finite = np.all(np.isfinite(pts), axis=(1, 2))
        _verify_and_build(pieces, pts[finite], D[finite], J[finite], tol, found)
    return _sorted_unique(found)


def _scyfi(pieces: PiecewiseAffine, k: int, *, outer: int, inner: int, batch: int, max_restarts: int,
           tol: float, seed: int) -> CycleList:
    n, M = pieces.n_switch, pieces.latent_dim
    rng = np.random.default_rng(seed)
    found: dict[tuple, Cycle] = {}
    fruitless = 0
    restarts = 0
    while fruitless < outer and restarts < max_restarts:
        D = rng.integers(0, 2, size=(batch, k, n), dtype=np.int8)
        n_before = len(found)
        for _ in range(inner):
            pts, J, _ = _candidates(pieces, D)
            finite = np.all(np.isfinite(pts), axis=(1, 2))
            # regions the candidate really visits when the true map is run from its first point
            traj = np.empty_like(pts)
            traj[:, 0] = np.where(finite[:, None], pts[:, 0], 0.0)
            for i in range(1, k):
                traj[:, i] = pieces.step(traj[:, i - 1])
            visited = np.asarray(pieces.code(traj.reshape(-1, M))).reshape(batch, k, n)
            real = finite & np.all(visited == D, axis=(1, 2))
            if np.any(real):
                idx = np.flatnonzero(real)
                idx = idx[_minimal_period(D[idx]) == k]
                _, first = np.unique(D[idx].reshape(idx.size, k * n), axis=0, return_index=True)
                idx = idx[first]
                idx = idx[[_canonical_key(D[b]) not in found for b in idx]]
                _verify_and_build(pieces, pts[idx], D[idx], J[idx], tol, found)
            fresh = rng.integers(0, 2, size=(batch, k, n), dtype=np.int8)
            restart = real | ~finite | ~np.all(np.isfinite(traj), axis=(1, 2))
            D = np.where(restart[:, None, None], fresh, visited).astype(np.int8)
        restarts += batch
        fruitless = 0 if len(found) > n_before else fruitless + batch
    return _sorted_unique(found)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"cycle period k must be a positive integer, got {k!r}")
    return int(k)


def cycles(model: Any, k: int, *, method: str = "auto", outer: int = SCYFI_DEFAULTS["outer"],
           inner: int = SCYFI_DEFAULTS["inner"], batch: int = SCYFI_DEFAULTS["batch"],
           max_restarts: int = SCYFI_DEFAULTS["max_restarts"], exhaustive_limit: int = 1 << 14, tol: float = 1e-7,
           seed: int = 0) -> CycleList:
    """All k-cycles (minimal period exactly k) of a piecewise-linear model that the search finds.

    Args:
        model: a piecewise-linear model (PLRNN, AL-RNN, shPLRNN, dendPLRNN ...) or a `PiecewiseAffine`.
        k: the period, >= 1 (k = 1 gives fixed points).
        method: "exhaustive" (every region sequence; complete), "scyfi" (Eisenmann et al. 2023) or "auto"
            (exhaustive while (2^n_switch)^k <= `exhaustive_limit`, else SCYFI).
        outer: SCYFI stops after this many consecutive restarts (random initial region sequences) without a
            new cycle (as the published algorithm resets its outer counter when it finds one).
        inner: SCYFI iterations per restart (candidate -> visited regions -> new candidate ...).
        batch: SCYFI chains run side by side (vectorised); restarts are counted in units of `batch`.
        max_restarts: hard cap on SCYFI restarts.
        exhaustive_limit: largest number of region sequences searched exhaustively by "auto".
        tol: relative tolerance of the verification ||F(z_i) - z_{i+1}|| <= tol (1 + ||z||).
        seed: seed of the random initial region sequences (SCYFI only).

    Returns:
        a `CycleList` (a list; `print` shows a table) of verified `Cycle`s, distinct up to cyclic shift, each rotated so that its code sequence is the
        lexicographically least rotation; ordered stable, saddle, non-hyperbolic, unstable, then by codes.
        Cycles whose minimal period is a proper divisor of k are excluded (a fixed point is not a 2-cycle).
        Sequences with singular I - J_tot (a continuum of cycles or none) yield nothing.

    SCYFI is a heuristic: it finds the cycles reachable by its iteration within the loop limits and may miss
    others; the exhaustive search is complete up to degenerate (singular) sequences.
    """
    pieces = as_piecewise_affine(model)
    k = _check_k(k)
    if method not in ("auto", "exhaustive", "scyfi"):
        raise ValueError(f"method must be 'auto', 'exhaustive' or 'scyfi', got {method!r}")
    n_seq = float(2.0 ** (pieces.n_switch * k))
    if method == "auto":
        method = "exhaustive" if n_seq <= exhaustive_limit else "scyfi"
    if method == "exhaustive":
        if pieces.n_switch > 16 or n_seq > 2.0**24:
            raise ValueError(
                f"exhaustive search over (2^{pieces.n_switch})^{k} region sequences is too large; use method='scyfi'"
            )
        with _single_threaded_blas():
            return _exhaustive(pieces, k, tol)
    for name, v in (("outer", outer), ("inner", inner), ("batch", batch), ("max_restarts", max_restarts)):
        if int(v) < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    # candidates of diverging sequences overflow harmlessly and are restarted
    with np.errstate(over="ignore", invalid="ignore"), _single_threaded_blas():
        return _scyfi(pieces, k, outer=int(outer), inner=int(inner), batch=int(batch),
                      max_restarts=int(max_restarts), tol=tol, seed=seed)


def fixed_points(model: Any, *, max_exhaustive_switch: int = 16, tol: float = 1e-7, seed: int = 0,
                 **scyfi_options: Any) -> CycleList:
    """All fixed points of a piecewise-linear model.

    Exhaustive over all 2^n_switch regions while n_switch <= `max_exhaustive_switch` (default 16): the systems
    (I - J_d) z = c_d are solved in float64 batches and a solution is kept when its own region code is d.
    Beyond that, SCYFI with k = 1 (`cycles(model, 1, method="scyfi", seed=seed, **scyfi_options)`).

    Returns a `CycleList` (a list whose `print` is a table) of verified `Cycle`s of period 1 (see `cycles` for
    ordering and verification).
    Reference: Durstewitz (2017), PLoS Comput Biol; Eisenmann et al. (2023), NeurIPS.
    """
    pieces = as_piecewise_affine(model)
    if pieces.n_switch <= min(int(max_exhaustive_switch), 16):
        with _single_threaded_blas():
            return _exhaustive(pieces, 1, tol)
    return cycles(pieces, 1, method="scyfi", tol=tol, seed=seed, **scyfi_options)
