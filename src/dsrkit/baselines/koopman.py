"""Koopman-operator baselines: EDMD with ResDMD residuals, measure-preserving EDMD, and Hankel DMD (HAVOK style).

Conventions (Williams et al. 2015): a dictionary Ψ maps a state h (the current observation, or a time-delay vector
[x_t, x_{t−s}, ...]) to a row of n features; with snapshot pairs (h_m, h_m⁺), m = 1..M, and quadrature weights 1/M,
G = Ψ_Xᵀ Ψ_X / M, A = Ψ_Xᵀ Ψ_Y / M, L = Ψ_Yᵀ Ψ_Y / M, and the EDMD matrix K = G⁺ A satisfies Ψ_Y ≈ Ψ_X K. An
eigenpair K g = λ g gives the approximate eigenfunction φ = Ψ g. Koopman modes Ξ (n_eig, N) expand the state,
x ≈ Re Σ_j φ_j(x) Ξ_j.

ResDMD (M. J. Colbrook, A. Townsend, "Rigorous data-driven computation of spectral properties of Koopman operators
for dynamical systems", Comm. Pure Appl. Math. 77, 221 (2024)): every eigenpair carries the residual
res(λ, g) = ‖Ψ_Y g − λ Ψ_X g‖ / ‖Ψ_X g‖ = sqrt(gᴴ(L − λAᴴ − λ̄A + |λ|²G)g / gᴴGg), computed here directly from the
snapshot matrices (no cancellation). Eigenpairs above `residual_threshold` are discarded (spurious eigenvalues).

mpEDMD (M. J. Colbrook, "The mpEDMD algorithm for data-driven computations of measure-preserving dynamical
systems", SIAM J. Numer. Anal. 61, 1585 (2023)): K_mp = G^{-1/2} U Vᵀ G^{1/2}, where U Σ Vᵀ is the SVD of
G^{-1/2} A G^{-1/2}; K_mp is an isometry in the G inner product (K_mpᵀ G K_mp = G), its eigenvalues lie on the unit
circle.

Free runs ("relift", default): x_{t+1} = Re Ψ(h_t) K_r B, where B reads the state from the dictionary (x ≈ Ψ B) and
K_r keeps the retained eigenpairs; the state is lifted again at every step. "linear" evolves the eigenfunctions
linearly, φ_t = φ_0 λ^t (the pure Koopman prediction; it decays or oscillates on chaotic data).
"""

from __future__ import annotations

import functools
import math

import jax
import numpy as np
import scipy.linalg
import scipy.spatial

from ._base import Reconstructor
from ._features import delay_vectors, monomial_indices, monomials
from ._params import Interval, Options

_POSITIVE_INT = [Interval(int, 1, None)]


def _residuals(PX_chunks, PY_chunks, V, lam) -> np.ndarray:
    """ResDMD residuals ‖Ψ_Y g − λ Ψ_X g‖ / ‖Ψ_X g‖ for the columns g of V, accumulated over row chunks."""
    num = np.zeros(V.shape[1])
    den = np.zeros(V.shape[1])
    for PX, PY in zip(PX_chunks, PY_chunks):
        for s in range(0, len(PX), 20000):
            gx = PX[s : s + 20000] @ V
            gy = PY[s : s + 20000] @ V
            num += np.sum(np.abs(gy - gx * lam) ** 2, axis=0)
            den += np.sum(np.abs(gx) ** 2, axis=0)
    return np.sqrt(num / np.maximum(den, np.finfo(float).tiny))


class _DelayedKoopman(Reconstructor):
    """Shared plumbing: the state h_t is the delay vector of `delays` observations `skip` steps apart."""

    def _span(self) -> int:
        return (self.delays - 1) * self.skip

    def _context_steps(self):
        return self._span() + 1

    def _pairs(self, trajectories):
        """Per trajectory: (H_X, H_Y) with rows h_t and h_{t+1}."""
        out = []
        for x in trajectories:
            H = delay_vectors(x, self.delays, self.skip)
            out.append((H[:-1], H[1:]))
        return out

    def _history(self, context):
        return context[-(self._span() + 1) :][::-1]  # row 0 is the most recent


class EDMD(_DelayedKoopman):
    """Extended dynamic mode decomposition with ResDMD residuals on every eigenpair.

    Args:
        dictionary: "polynomial" (all monomials up to `degree`), "rbf" ([1, h, Gaussians around `n_centers` training
            states]) or "delay" (affine functions [1, h] of a time-delay vector: Hankel DMD). Default "polynomial".
        degree: polynomial degree (default 3).
        n_centers: number of RBF centres, drawn from the training states with the fit seed (default 100).
        rbf_width: Gaussian width; None = median distance between centres (default None).
        delays, skip: the state is h_t = [x_t, x_{t−skip}, ..., x_{t−(delays−1)skip}] (defaults 1, 1).
        residual_threshold: discard eigenpairs whose ResDMD residual exceeds this (default None: keep all).
        rollout: "relift" or "linear" (see the module docstring; default "relift").
        rcond: relative cut-off of the least-squares solve for K (default 1e-10).
        max_features: largest dictionary accepted (default 5000). A larger one (e.g. degree 3 on 64 variables: 47 905
            monomials) is refused with a ValueError before any snapshot matrix is allocated, instead of exhausting
            memory.

    Learned: `koopman_matrix_` (n, n), `eigenvalues_` (n,) complex sorted by decreasing modulus, `eigenvectors_`
    (n, n) (columns g, normalised to ‖Ψ_X g‖ = √M), `modes_` (n, N), `residuals_` (n,), `kept_` (n,) bool,
    `readout_` B (n, N), `feature_names_`.
    """

    name = "edmd"
    _bucket_steps = True
    _measure_preserving = False
    _parameter_constraints = {
        "dictionary": [Options("polynomial", "rbf", "delay")],
        "degree": _POSITIVE_INT,
        "n_centers": _POSITIVE_INT,
        "rbf_width": [Interval(float, 0, None, closed="neither"), None],
        "delays": _POSITIVE_INT,
        "skip": _POSITIVE_INT,
        "residual_threshold": [Interval(float, 0, None), None],
        "rollout": [Options("relift", "linear")],
        "rcond": [Interval(float, 0, 1, closed="left")],
        "max_features": _POSITIVE_INT,
    }
    # Tuned (dsrkit.bench.tuning), the default first: the dictionary's size (polynomial degree, Williams et al.
    # 2015, "A data-driven approximation of the Koopman operator", use degrees up to 4-5 on low-dimensional
    # systems; time delays as in Hankel DMD, Arbabi & Mezić 2017) and the least-squares cut-off. A dictionary over
    # `max_features` is refused quickly and scores inf.
    _search_space = {
        "degree": [3, 2, 4],
        "delays": [1, 2, 3],
        "rcond": [1e-10, 1e-6],
    }

    def __init__(self, dictionary: str = "polynomial", degree: int = 3, n_centers: int = 100,
                 rbf_width: float | None = None, delays: int = 1, skip: int = 1,
                 residual_threshold: float | None = None, rollout: str = "relift", rcond: float = 1e-10,
                 max_features: int = 5000):
        self.dictionary = dictionary
        self.degree = degree
        self.n_centers = n_centers
        self.rbf_width = rbf_width
        self.delays = delays
        self.skip = skip
        self.residual_threshold = residual_threshold
        self.rollout = rollout
        self.rcond = rcond
        self.max_features = max_features

    def _min_length(self):
        return self._span() + 3

    # ---- dictionary ---------------------------------------------------------------------------------------------

    def _groups(self):
        d = self.delays * self.dim_
        return monomial_indices(d, self.degree if self.dictionary == "polynomial" else 1)

    def _lift(self, H, xp=np):
        """Ψ(H): (..., delays N) -> (..., n_features)."""
        P = monomials(H, self._groups(), xp)
        if self.dictionary != "rbf":
            return P
        C = xp.asarray(self.centers_)
        d2 = xp.sum((H[..., None, :] - C) ** 2, axis=-1)
        return xp.concatenate([P, xp.exp(-d2 / (2.0 * self.width_**2))], axis=-1)

    def _setup_dictionary(self, HX_all, seed):
        names = [f"{n}(t-{j * self.skip})" if j else n for j in range(self.delays) for n in self.names_]
        from ._features import monomial_names

        self.feature_names_ = monomial_names(self._groups(), names)
        if self.dictionary == "rbf":
            rng = np.random.default_rng(seed)
            k = min(self.n_centers, len(HX_all))
            self.centers_ = HX_all[rng.choice(len(HX_all), size=k, replace=False)]
            if self.rbf_width is None:
                dist = scipy.spatial.distance.pdist(self.centers_)
                self.width_ = float(np.median(dist)) if len(dist) and np.median(dist) > 0 else 1.0
            else:
                self.width_ = float(self.rbf_width)
            self.feature_names_ += [f"rbf{j}" for j in range(k)]

    # ---- fitting ------------------------------------------------------------------------------------------------

    def _operator(self, PX, PY, G, A):
        """The finite-section matrix K (n, n) from the stacked snapshots."""
        K = np.linalg.lstsq(PX, PY, rcond=self.rcond)[0]
        return K

    def _eig(self, K, G):
        lam, V = np.linalg.eig(K)
        return lam, V

    def _check_dictionary_size(self, n_samples: int) -> None:
        d = self.delays * self.dim_
        degree = self.degree if self.dictionary == "polynomial" else 1
        n = math.comb(d + degree, degree) + (min(self.n_centers, n_samples) if self.dictionary == "rbf" else 0)
        if n > self.max_features:
            gb = 8 * n * n_samples / 1e9
            raise ValueError(f"EDMD: the {self.dictionary} dictionary of degree {degree} on {d} variables has {n} "
                             f"functions, more than max_features={self.max_features}; each {n_samples} x {n} "
                             f"snapshot matrix would need {gb:.1f} GB. Lower `degree`, use dictionary='rbf', or raise "
                             f"max_features")

    def _fit(self, trajectories, dt, seed):
        pairs = self._pairs(trajectories)
        HX_all = np.concatenate([p[0] for p in pairs])
        self._check_dictionary_size(len(HX_all))
        self._setup_dictionary(HX_all, seed)
        PXc = [self._lift(hx) for hx, _ in pairs]
        PYc = [self._lift(hy) for _, hy in pairs]
        PX, PY = np.concatenate(PXc), np.concatenate(PYc)
        M = len(PX)
        G, A = PX.T @ PX / M, PX.T @ PY / M
        K = self._operator(PX, PY, G, A)
        if not np.all(np.isfinite(K)):
            return self._fail("the Koopman matrix is not finite")
        lam, V = self._eig(K, G)
        order = np.argsort(-np.abs(lam), kind="stable")
        lam, V = lam[order], V[:, order]
        norms = np.sqrt(np.maximum(np.real(np.einsum("ij,ik,kj->j", V.conj(), G, V)), 0.0))
        V = V / np.where(norms > 0, norms, 1.0)
        B = np.linalg.lstsq(PX, HX_all[:, : self.dim_], rcond=self.rcond)[0]
        self.koopman_matrix_ = K
        self.readout_ = B
        self.eigenvalues_ = lam
        self.eigenvectors_ = V
        self.modes_ = np.linalg.lstsq(V, B.astype(complex), rcond=None)[0]
        self.residuals_ = _residuals(PXc, PYc, V, lam)
        thr = self.residual_threshold
        self.kept_ = np.ones(len(lam), bool) if thr is None else self.residuals_ <= thr
        if not self.kept_.any():
            return self._fail(f"no eigenpair has a residual <= {thr} (smallest {self.residuals_.min():.3g})")

    def _step_matrix(self) -> np.ndarray:
        """C (n, N) with x_{t+1} = Ψ(h_t) C for the relift free run."""
        if self.kept_.all():
            return self.koopman_matrix_ @ self.readout_
        k = self.kept_
        return np.real(self.eigenvectors_[:, k] @ (self.eigenvalues_[k, None] * self.modes_[k]))

    def _predict(self, context, n_steps):
        import jax.numpy as jnp

        hist = self._history(context)
        if self.rollout == "linear":
            k = self.kept_
            phi0 = self._lift(hist[:: self.skip][: self.delays].reshape(-1)) @ self.eigenvectors_[:, k]
            powers = self.eigenvalues_[k][None, :] ** np.arange(1, n_steps + 1)[:, None]
            return np.real((phi0[None, :] * powers) @ self.modes_[k])
        groups = tuple(tuple(map(tuple, g.tolist())) if g.shape[1] else ((),) for g in self._groups())
        rbf = self.dictionary == "rbf"
        centers = jnp.asarray(self.centers_ if rbf else np.zeros((1, 1)))
        width = float(self.width_) if rbf else 1.0
        return np.asarray(_edmd_run(jnp.asarray(self._step_matrix()), jnp.asarray(hist), centers, width,
                                    groups=groups, rbf=rbf, skip=self.skip, delays=self.delays, n_steps=n_steps))


@functools.partial(jax.jit, static_argnames=("groups", "rbf", "skip", "delays", "n_steps"))
def _edmd_run(C, buf, centers, width, groups, rbf, skip, delays, n_steps):
    """The relift free run x_{t+1} = Ψ(h_t) C of `n_steps` rows from the delay buffer `buf` (most recent first)."""
    import jax.numpy as jnp

    idx = [np.array(g, dtype=np.int64).reshape(len(g), len(g[0])) for g in groups]

    def lift(h):
        P = monomials(h, idx, jnp)
        if not rbf:
            return P
        d2 = jnp.sum((h[None, :] - centers) ** 2, axis=-1)
        return jnp.concatenate([P, jnp.exp(-d2 / (2.0 * width**2))])

    def step(buf, _):
        h = buf[::skip][:delays].reshape(-1)
        x = lift(h) @ C
        return jnp.concatenate([x[None], buf[:-1]]), x

    return jax.lax.scan(step, buf, None, length=n_steps)[1]


class MPEDMD(EDMD):
    """Measure-preserving EDMD (Colbrook 2023): the EDMD Galerkin matrix projected onto the G-isometries.

    Same parameters and learned attributes as `EDMD`; `eigenvalues_` lie on the unit circle. Suited to data on an
    attractor (an invariant measure), where the Koopman operator is an isometry of L²(μ).
    """

    name = "mpedmd"

    def _operator(self, PX, PY, G, A):
        s, Q = np.linalg.eigh((G + G.T) / 2)
        keep = s > self.rcond * s.max()
        Q, s = Q[:, keep], s[keep]
        G_half = (Q * np.sqrt(s)) @ Q.T
        G_mhalf = (Q / np.sqrt(s)) @ Q.T
        U, _, Vt = np.linalg.svd(G_mhalf @ A @ G_mhalf)
        # restrict the polar factor to range(G) so that K_mp is an isometry there
        P = Q.T
        Bu = P @ (U @ Vt) @ P.T
        Uu, _, Vtu = np.linalg.svd(Bu)
        Bu = Uu @ Vtu
        self._unitary = (Q, Bu, s)
        return G_mhalf @ (Q @ Bu @ Q.T) @ G_half

    def _eig(self, K, G):
        Q, Bu, s = self._unitary
        del self._unitary
        T, Z = scipy.linalg.schur(Bu.astype(complex), output="complex")
        lam = np.diag(T)
        V = (Q / np.sqrt(s)) @ Z  # G^{-1/2} Q Z
        return lam, V


class HAVOK(Reconstructor):
    """Hankel DMD in HAVOK coordinates: a linear model of the leading time-delay (SVD) coordinates.

    References: S. L. Brunton, B. W. Brunton, J. L. Proctor, E. Kaiser, J. N. Kutz, "Chaos as an intermittently forced
    linear system", Nat. Commun. 8, 19 (2017); H. Arbabi, I. Mezić, "Ergodic theory, dynamic mode decomposition, and
    computation of spectral properties of the Koopman operator", SIAM J. Appl. Dyn. Syst. 16, 2096 (2017).

    Delay vectors h_t = [x_t, x_{t−s}, ..., x_{t−(q−1)s}] (q = `delays`, s = `skip`) are projected on their first
    r = `rank` right singular vectors, v_t = h_t V_r (not centred: centring would turn a linear delay map into an
    affine one; a non-zero mean becomes a direction with eigenvalue 1); a discrete-time linear map v_{t+1} = v_t A is
    fitted by least squares and x_t is read from the first block of v_t V_rᵀ. Deviation from HAVOK: HAVOK
    treats the last coordinate v_r as an external forcing, which a free-running generator does not have; here all r
    coordinates evolve under A, and a linear model either decays to the mean or oscillates. `stabilize` chooses what
    happens to A's eigenvalues: "none" keeps them, "clip" scales those outside the unit circle onto it, "unit" puts
    all of them on the unit circle (the measure-preserving choice, as in mpEDMD: on attractor data the Koopman
    operator is an isometry, so the free run keeps oscillating instead of decaying to the mean).

    Args: delays (default 50), skip (default 1), rank (default 10), stabilize (default "unit").
    Learned: `transition_` A (r, r), `eigenvalues_`, `eigenvectors_`, `residuals_` (ResDMD residuals of A's
    eigenpairs in the delay coordinates), `basis_` V_r (qN, r), `singular_values_`.
    """

    name = "havok"
    _parameter_constraints = {
        "delays": _POSITIVE_INT,
        "skip": _POSITIVE_INT,
        "rank": _POSITIVE_INT,
        "stabilize": [Options("none", "clip", "unit")],
    }
    # Tuned (dsrkit.bench.tuning), the default first: Brunton et al. (2017) use q = 100 delays and rank r = 15 for
    # Lorenz-63 and choose both per system; "clip" keeps decaying modes where "unit" keeps every mode oscillating.
    _search_space = {
        "delays": [50, 20, 100],
        "rank": [10, 5, 20],
        "stabilize": ["unit", "clip"],
    }

    def __init__(self, delays: int = 50, skip: int = 1, rank: int = 10, stabilize: str = "unit"):
        self.delays = delays
        self.skip = skip
        self.rank = rank
        self.stabilize = stabilize

    _span = _DelayedKoopman._span
    _context_steps = _DelayedKoopman._context_steps

    def _min_length(self):
        return self._span() + 3

    def _fit(self, trajectories, dt, seed):
        Hs = [delay_vectors(x, self.delays, self.skip) for x in trajectories]
        H = np.concatenate(Hs)
        _, s, Vt = np.linalg.svd(H, full_matrices=False)
        r = min(self.rank, len(s))
        self.basis_ = np.ascontiguousarray(Vt[:r].T)
        self.singular_values_ = s
        VX = [h[:-1] @ self.basis_ for h in Hs]
        VY = [h[1:] @ self.basis_ for h in Hs]
        A = np.linalg.lstsq(np.concatenate(VX), np.concatenate(VY), rcond=None)[0]
        lam, W = np.linalg.eig(A)
        self.residuals_ = _residuals(VX, VY, W, lam)
        move = np.abs(lam) > 1 if self.stabilize == "clip" else np.abs(lam) > 0 if self.stabilize == "unit" else None
        if move is not None and move.any():
            lam = np.where(move, lam / np.where(move, np.abs(lam), 1.0), lam)
            A = np.real(W @ np.diag(lam) @ np.linalg.inv(W))
        order = np.argsort(-np.abs(lam), kind="stable")
        self.eigenvalues_, self.eigenvectors_ = lam[order], W[:, order]
        self.residuals_ = self.residuals_[order]
        self.transition_ = A
        if not np.all(np.isfinite(A)):
            self._fail("the delay-coordinate transition matrix is not finite")

    def _predict(self, context, n_steps):
        hist = context[-(self._span() + 1) :][::-1]
        h = hist[:: self.skip][: self.delays].reshape(-1)
        v = h @ self.basis_
        out = np.empty((n_steps, self.dim_))
        Vr = self.basis_[: self.dim_].T  # (r, N): first block of the basis
        for t in range(n_steps):
            v = v @ self.transition_
            out[t] = v @ Vr
            if not np.all(np.isfinite(v)) or np.abs(v).max() > 1e150:
                out[t:] = np.nan
                break
        return out
