"""The evaluation protocol: roll a model out from the first test point and compute all metrics in one call.

    result = evaluate(model, test, protocol=Protocol(), dt=None, lyapunov_max=None)   (also `dsrkit.evaluate`)

Protocol (Hess et al. 2023 ICML; Brenner et al. 2024 NeurIPS, AL-RNN): from the first point of a test series of
length T the model runs freely for 1.25 T steps; the first 0.25 T steps are dropped as transient and the
remaining T steps are compared with the test series (D_stsp, D_H). PE(n) uses the model's n-step predictions
from every test point; VPT compares the free run from its start with the test series.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._status import Status
from .metrics._checks import as_2d
from .metrics.geometry import state_space_divergence_result
from .metrics.lyapunov import lyapunov_spectrum
from .metrics.prediction import prediction_error, valid_prediction_time
from .metrics.spectrum import power_spectrum_distance_per_dim
from .rollout import is_latent_model, protocol_free_run, rollout_lengths

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .data import Dataset


@dataclass(frozen=True)
class Protocol:
    """Settings of `evaluate`; the defaults are the published protocol.

    rollout_factor: the free run has round(rollout_factor · T) steps (default 1.25).
    transient_fraction: the first round(transient_fraction · T) steps of the free run are dropped (default
        0.25, i.e. 25 % of T); the next T steps are compared with the test series. Needs
        rollout_factor − transient_fraction >= 1.
    bins: D_stsp bins per dimension (30; GMM variant for N > 10). smoothing: D_H Gaussian sigma (20).
    pe_steps: n of PE(n) (20; 0 skips PE). vpt_threshold: sMAPE threshold of the VPT (30).
    lyapunov_steps: steps of the model's λ_max estimate from its Jacobians (10 000; 0 skips it).
    max_forecast_starts: start points of PE for generators that only have `forecast` (200, evenly spaced).

    Minimum test length (`min_test_length`, 320 points with the defaults): `evaluate` refuses shorter test
    series, because their metrics would be meaningless rather than merely noisy. D_H smooths the power spectrum
    with a Gaussian of sigma `smoothing` frequency bins, which scipy's gaussian_filter1d truncates at radius
    r = int(4 · sigma + 0.5) (80 bins for sigma 20), so the kernel spans 2r + 1 bins. A series of T points has
    T // 2 + 1 rfft bins; when that is less than the kernel's span the smoothing flattens every spectrum into
    nearly the same shape and D_H reads ≈ 0 for any model (below 1e-5 for T <= 20: a 5-point test series rated
    any generator "perfect"). The spectrum must hold the whole kernel: T // 2 + 1 >= 2r + 1, i.e. T >= 4r
    (320 points for sigma 20; D_H of white noise against a standardised Lorenz-63 series is 0.00 at T = 20,
    0.27 at 100, 0.66 at 320 and 0.78 at 1000). PE(n) needs more than n points (n + 1 = 21), and
    nothing works on fewer than 2. The binned D_stsp has no sharp limit, but on a few hundred points its
    histogram is sparse and the value noisy (`dsr reconstruct` tests on 10^5 points by default).
    """

    rollout_factor: float = 1.25
    transient_fraction: float = 0.25
    bins: int = 30
    smoothing: float = 20.0
    pe_steps: int = 20
    vpt_threshold: float = 30.0
    lyapunov_steps: int = 10_000
    max_forecast_starts: int = 200

    def __post_init__(self):
        if not self.transient_fraction >= 0 or not self.rollout_factor - self.transient_fraction >= 1.0 - 1e-12:
            raise ValueError(
                "Protocol needs transient_fraction >= 0 and rollout_factor - transient_fraction >= 1 (the kept part "
                f"of the free run must cover the test series); got {self.rollout_factor}, {self.transient_fraction}"
            )
        if isinstance(self.smoothing, bool) or not isinstance(self.smoothing, numbers.Real) or not (
            np.isfinite(self.smoothing) and self.smoothing >= 0
        ):
            raise ValueError(f"Protocol.smoothing must be a finite number >= 0, got {self.smoothing!r}")
        for name in ("bins", "pe_steps", "lyapunov_steps", "max_forecast_starts"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if name in ("bins", "max_forecast_starts") else 0):
                raise ValueError(f"Protocol.{name} must be a non-negative integer (bins, max_forecast_starts >= 1), got {v!r}")

    @property
    def min_test_length(self) -> int:
        """Fewest points a test series needs under this protocol (see the class docstring):
        max(4 · r, pe_steps + 1, 2) with r = int(4 · smoothing + 0.5) the D_H kernel radius; 320 for the defaults."""
        return max(4 * self._kernel_radius(), self.pe_steps + 1, 2)

    def _kernel_radius(self) -> int:
        return int(4.0 * self.smoothing + 0.5) if self.smoothing > 0 else 0

    def check_test_length(self, t: int, what: str = "the test series") -> None:
        """Raise a ValueError if a test series of t points is shorter than `min_test_length`."""
        need = self.min_test_length
        if t >= need:
            return
        r = self._kernel_radius()
        why = []
        if r:
            why.append(f"D_H's smoothing sigma {self.smoothing:g} spans {2 * r + 1} frequency bins, which needs a "
                       f"spectrum of at least {4 * r} points")
        if self.pe_steps:
            why.append(f"PE({self.pe_steps}) needs more than {self.pe_steps}")
        reason = f" ({'; '.join(why)})" if why else ""
        raise ValueError(
            f"{what} has {t} points; the evaluation protocol needs at least {need}{reason}: "
            "metrics on a shorter series are meaningless; use a longer test series"
        )

    def rollout_lengths(self, t: int) -> tuple[int, int]:
        """(steps dropped as transient, total free-run steps) for a test series of length t."""
        return rollout_lengths(t, self.rollout_factor, self.transient_fraction)

    def describe(self) -> str:
        """One sentence stating the protocol, for reports."""
        return (
            f"free run from the first test point for {self.rollout_factor:g}·T steps, the first "
            f"{self.transient_fraction:g}·T dropped as transient, compared with the test series of length T; "
            f"D_stsp with {self.bins} bins per dimension (GMM for N > 10), D_H with Gaussian smoothing sigma "
            f"{self.smoothing:g}, PE({self.pe_steps}), VPT at sMAPE {self.vpt_threshold:g}"
        )


def _test_series(test, dt):
    """(list of (T_i, N) float64 arrays, dt or None) from a Dataset or an array (T, N) / (B, T, N)."""
    if hasattr(test, "trajectories") and hasattr(test, "dt"):
        return [as_2d(x, "test") for x in test.trajectories], float(test.dt if dt is None else dt)
    a = np.asarray(test, dtype=np.float64)
    series = [as_2d(x, "test") for x in a] if a.ndim == 3 else [as_2d(a, "test")]
    return series, (None if dt is None else float(dt))


def _finite_or_none(v) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None


def compare(true: np.ndarray, generated: np.ndarray, protocol: Protocol | None = None) -> dict:
    """The protocol's free-run comparison of a generated series with a true one, both (T, N) and finite:
    {"state_space_divergence", "power_spectrum_distance" (mean over dimensions), "in_range_fraction"}, with the
    protocol's bins and smoothing. Used by `evaluate`, the validation scores of the search and the verdict."""
    protocol = Protocol() if protocol is None else protocol
    res = state_space_divergence_result(true, generated, protocol.bins)
    return {"state_space_divergence": res.value,
            "power_spectrum_distance": float(power_spectrum_distance_per_dim(true, generated,
                                                                             protocol.smoothing).mean()),
            "in_range_fraction": _finite_or_none(res.in_range_fraction)}


def _evaluate_one(model, x: np.ndarray, protocol: Protocol, dt, lyapunov_max) -> dict:
    t = x.shape[0]
    n_drop, _ = protocol.rollout_lengths(t)
    y = protocol_free_run(model, x, protocol, with_transient=True)
    out: dict = {"test_length": t}
    kept = y[n_drop : n_drop + t]
    out["diverged"] = not bool(np.isfinite(kept).all())
    if out["diverged"]:
        out["state_space_divergence"] = out["power_spectrum_distance"] = None
    else:
        out.update(compare(x, kept, protocol))
    if dt is not None and lyapunov_max is not None:
        out["valid_prediction_time"] = valid_prediction_time(x, y[:t], dt, lyapunov_max, protocol.vpt_threshold)
    if protocol.pe_steps and t > protocol.pe_steps:
        if is_latent_model(model):
            out["prediction_error"] = _finite_or_none(prediction_error(model, x, protocol.pe_steps))
        elif hasattr(model, "forecast"):
            stride = max(1, -(-(t - protocol.pe_steps) // protocol.max_forecast_starts))
            out["prediction_error"] = _finite_or_none(prediction_error(model, x, protocol.pe_steps, stride=stride))
    if protocol.lyapunov_steps and callable(model) and hasattr(model, "jacobian"):
        lam = lyapunov_spectrum(
            model, protocol.lyapunov_steps, transient=1000, x0=x[0], dt=dt, n_exponents=1
        )[0]
        out["lyapunov_max"] = _finite_or_none(lam)
    return out


def evaluate(model: object, test: Dataset | ArrayLike, protocol: Protocol | None = None, *, dt: float | None = None,
             lyapunov_max: float | None = None) -> dict:
    """Evaluate a model (or baseline) on test data by the published protocol (see `Protocol`).

    Args:
        model: a dsrkit model (rolled out with `dsrkit.generate`) or any object with
            `generate(x0, n_steps)` (the baselines' protocol; `forecast(context, n_steps)` enables PE).
        test: a `dsrkit.Dataset` (every trajectory is evaluated; dt from the dataset), a (T, N) array or a
            (B, T, N) array of test series, finite, each at least `protocol.min_test_length` points long
            (320 with the defaults; shorter ones raise a ValueError naming both lengths, before the model runs).
        protocol: `Protocol()` (the default) or custom settings.
        dt: time step (overrides the dataset's); needed for VPT and for λ_max per unit time.
        lyapunov_max: the true system's λ_max per unit time (e.g. `system.reference["lyapunov_max"]`); VPT is
            computed only when both dt and lyapunov_max are known.

    Returns:
        dict with "status" (`Status.OK` "ok", or `Status.DIVERGED` "diverged" when the kept part of any free run
        is not finite), "protocol" (the settings as a dict plus "description"), "dt", "n_trajectories",
        "test_length" (list), and the metrics, each the mean over trajectories (None where not computable, never
        NaN): "state_space_divergence", "power_spectrum_distance", "prediction_error" (if the model can predict),
        "valid_prediction_time" (in Lyapunov times, if dt and lyapunov_max), "lyapunov_max" (of the model from
        its Jacobians, per unit time if dt else per step; models with `jacobian` only), "in_range_fraction".
        A diverged free run gives None for D_stsp and D_H.
    """
    protocol = Protocol() if protocol is None else protocol
    if not isinstance(protocol, Protocol):
        raise TypeError(f"protocol must be a dsrkit.evaluation.Protocol, got {type(protocol).__name__}")
    series, dt = _test_series(test, dt)
    for i, x in enumerate(series):
        protocol.check_test_length(x.shape[0], "the test series" if len(series) == 1 else f"test series {i}")
    per = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for x in series:
            per.append(_evaluate_one(model, x, protocol, dt, lyapunov_max))
    keys = [
        "state_space_divergence",
        "power_spectrum_distance",
        "prediction_error",
        "valid_prediction_time",
        "lyapunov_max",
        "in_range_fraction",
    ]
    result: dict = {
        "status": Status.DIVERGED if any(p["diverged"] for p in per) else Status.OK,
        "protocol": {
            **dataclasses.asdict(protocol),
            "min_test_length": protocol.min_test_length,
            "description": protocol.describe(),
        },
        "dt": dt,
        "n_trajectories": len(series),
        "test_length": [p["test_length"] for p in per],
    }
    for k in keys:
        if not any(k in p for p in per):
            continue
        vals = [p.get(k) for p in per]
        result[k] = None if any(v is None for v in vals) else float(np.mean(vals))
    return result
