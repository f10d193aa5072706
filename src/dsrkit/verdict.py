"""References and a verdict for a reconstruction: is the model any good, judged against what else could be done
with the same data?

    refs = fit_references(train, test, protocol)            # fast baselines fitted on the same split
    floor = data_floor(train, test, protocol)               # two disjoint stretches of the user's own data
    flags = free_run_flags(gen, test, metrics, lyapunov_reference=...)
    v = verdict(metrics, refs, floor, flags)                 # {"grade", "text", "flags", ...}

Scale: D_stsp and D_H have no absolute meaning (1.9 is excellent for a short noisy series and poor for a long
clean one), so a model is judged against (1) the **data floor**: the same metrics between the test series and a
stretch of the training data of the same length: what a perfect model could reach given the data's length and
noise; (2) the **references**: dsrkit's fast baselines (ESN, NG-RC, SINDy) fitted on the same training data and
evaluated by the same protocol; parroting (it replays the training data: Zhang & Gilpin 2025, "Context is key")
is shown as a second floor, not as a method to beat.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ._status import Status
from .evaluation import compare
from .training.search import spurious_cycle

#: the fast references fitted by default (`dsrkit.baselines` names) and the data-replay floor
REFERENCES = ("esn", "nvar", "sindy")
REPLAY = "parroting"
#: a model within this factor of the best reference's D_stsp counts as comparable
COMPARABLE = 1.5
#: a model more than this factor above the data floor's D_stsp is at best "poor", whatever the references do
FAR_FROM_FLOOR = 3.0
#: free-run flags: a standardised std below FIXED_POINT_STD; a spurious cycle (`training.search.spurious_cycle`,
#: the rule the selection penalises); an in-range fraction below MIN_IN_RANGE
FIXED_POINT_STD = 0.01
MIN_IN_RANGE = 0.95
#: how the flag of a model that lands elsewhere from other starts begins (it makes a grade "poor", not "failed":
#: the free run judged may be fine)
STRAY_FLAG = "lands elsewhere from other starts"


def _first(ds) -> np.ndarray:
    return ds.trajectories[0] if hasattr(ds, "trajectories") else np.asarray(ds, dtype=np.float64)


def data_floor(train, test, protocol) -> dict:
    """D_stsp and D_H between the test series and the last stretch of the training data of the same length (or the
    longest training trajectory whole, when it is shorter; `length` says which). Both in the units the model sees
    (standardised). Returns {"state_space_divergence", "power_spectrum_distance", "length", "note"}."""
    x = _first(test)
    trajs = train.trajectories if hasattr(train, "trajectories") else [np.asarray(train, np.float64)]
    longest = max(trajs, key=len)
    n = min(len(x), len(longest))
    out = compare(x[:n], longest[-n:], protocol)
    out.pop("in_range_fraction")
    note = ("the test series against the last stretch of the training data of the same length"
            if n == len(x) else f"the first {n} test points against the whole longest training trajectory "
                                f"(shorter than the test series)")
    return {**out, "length": int(n), "note": note}


#: the references (not parroting, which replays everything) are fitted on the last this many points of each
#: training trajectory: the fitting cost stays bounded whatever the length of the series, and the
#: reservoir and regression methods are fitted on the lengths they are usually fitted on (e.g. 20 000 points)
REFERENCE_POINTS = 20_000


def fit_references(train, test, protocol, *, methods=REFERENCES + (REPLAY,), seed: int = 0, max_sindy_dim: int = 10,
                   max_points: int = REFERENCE_POINTS, log=None) -> dict:
    """Fit each baseline of `methods` at its defaults on `train` (the references on the last `max_points` of each
    trajectory, parroting on all of it) and evaluate it on `test` by `protocol` without PE(n) (free-run metrics
    only).

    SINDy is skipped above `max_sindy_dim` variables (its polynomial library grows as N³). A method that raises
    is recorded as failed with its error, never hidden. Returns {name: evaluate's dict + "seconds" (fit and
    evaluation) + "role" ("reference" or "replay floor") + "points" (training points used)}.
    """
    from . import baselines
    from .data import Dataset
    from .evaluation import evaluate

    say = log or (lambda line: None)
    recent = Dataset([x[-max_points:] for x in train.trajectories], train.dt, train.names)
    # the verdict compares free runs (D_stsp, D_H); PE(n) of a baseline runs one forecast per start point, each
    # compiled for its context length (about 100 s for an ESN on 2 cores), so it is left out here
    protocol = dataclasses.replace(protocol, pe_steps=0)
    out = {}
    for name in methods:
        role = "replay floor" if name == REPLAY else "reference"
        if name == "sindy" and train.dim > max_sindy_dim:
            out[name] = {"status": Status.FAILED, "role": role, "seconds": 0.0,
                         "error": f"skipped: {train.dim} variables (SINDy's library is fitted up to {max_sindy_dim})"}
            continue
        data = train if name == REPLAY else recent
        t0 = time.perf_counter()
        try:
            method = baselines.get(name)
            method.fit(data, seed=seed)
            metrics = evaluate(method, test, protocol)
            if getattr(method, "status_", Status.OK) != Status.OK:
                metrics["status"] = method.status_
        except Exception as exc:  # a reference that fails is a recorded result, not a crash of the main job
            metrics = {"status": Status.FAILED, "error": f"{type(exc).__name__}: {exc}"}
        metrics.update(role=role, seconds=round(time.perf_counter() - t0, 2),
                       points=int(sum(data.lengths)))
        out[name] = metrics
        d = metrics.get("state_space_divergence")
        say(f"reference {name}: " + (f"D_stsp {d:.3f}" if d is not None else str(metrics["status"]))
            + f" ({metrics['seconds']:.0f} s)")
    return out


def free_run_flags(gen: np.ndarray, test: np.ndarray, metrics: dict, *, lyapunov_reference: float | None = None,
                   reference_source: str = "", stray_share: float | None = None) -> list[str]:
    """What is wrong with a free run that the metrics alone may hide (each flag one sentence):

    - collapsed to a fixed point: the second half of the kept free run moves less than FIXED_POINT_STD (standard
      deviations of the data) in every variable;
    - collapsed to a cycle: `training.search.spurious_cycle` (the free run's autocorrelation peak above 0.95
      and more than 0.04 above the data's): periodic where the data are not;
    - left the data's range: less than MIN_IN_RANGE of the free run lies within the data's range (the binned
      D_stsp drops such points, so it cannot show this);
    - not chaotic while the data are: the model's λ_max is below 0.1 × a positive `lyapunov_reference` (the
      system's reference value, or a reliable estimate from the data);
    - chaotic while the system is not: the model's λ_max is positive (above 0.01 per time unit) where the
      reference is ≤ 0;
    - lands elsewhere from other starts: `stray_share`, the selected checkpoint's share of failed starts in the
      search's basin check (`training.search.stray_starts`), is above 0: the model has another attractor (or a
      fixed point, a cycle, a way out) that the free run judged here may not have met.

    gen, test: (T, N) standardised, the protocol's kept free run and the test series.
    """
    flags = []
    gen = np.asarray(gen, np.float64)
    if not np.all(np.isfinite(gen)):
        return ["the free run diverged (non-finite values)"]
    half = gen[len(gen) // 2:]
    spread = float(half.std(axis=0).max())
    if spread < FIXED_POINT_STD:
        flags.append(f"collapsed to a fixed point: the free run's spread is {spread:.2g} data standard deviations")
    else:
        cycle, peak_gen, peak_data = spurious_cycle(gen, test)
        if cycle:
            flags.append(f"collapsed to a cycle: the free run repeats itself (autocorrelation peak {peak_gen:.3f}) "
                         f"where the data do not (peak {peak_data:.3f})")
    in_range = metrics.get("in_range_fraction")
    if in_range is not None and in_range < MIN_IN_RANGE:
        flags.append(f"left the data's range: {1 - in_range:.0%} of the free run lies outside it")
    lam, ref = metrics.get("lyapunov_max"), lyapunov_reference
    if lam is not None and ref is not None:
        where = f" ({reference_source})" if reference_source else ""
        if ref > 0 and lam < 0.1 * ref:
            flags.append(f"not chaotic while the data are: the model's λ_max is {lam:.3g}, the reference "
                         f"{ref:.3g}{where}")
        elif ref <= 0 and lam > 0.01:
            flags.append(f"chaotic while the system is not: the model's λ_max is {lam:.3g}, the reference "
                         f"{ref:.3g}{where}")
    if stray_share is not None and stray_share > 0:  # NaN: the check did not run
        flags.append(f"{STRAY_FLAG}: {stray_share:.0%} of the validation check's free runs from other points "
                     "collapsed, cycled, left or settled on another attractor")
    return flags


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def verdict(metrics: dict, references: dict, floor: dict | None, flags: list[str]) -> dict:
    """The plain-language judgement of a reconstruction.

    grade: "failed" (diverged free run, or a collapse / range flag), "poor" (D_stsp above COMPARABLE × the best
    reference's, above FAR_FROM_FLOOR × the data floor's, a Lyapunov flag or the lands-elsewhere flag),
    "comparable" (within COMPARABLE × the best reference), "good" (at or below every reference), "unjudged" (no
    finite reference). Beating references that all failed is not good: the floor bounds the grade. Returns {"grade", "text", "flags", "best_reference",
    "ratio_to_best_reference", "ratio_to_floor"}.
    """
    d, dh = metrics.get("state_space_divergence"), metrics.get("power_spectrum_distance")
    scored = {n: r for n, r in references.items() if r.get("role") == "reference"
              and r.get("status") == Status.OK and r.get("state_space_divergence") is not None}
    best = min(scored, key=lambda n: scored[n]["state_space_divergence"]) if scored else None
    ref_d = scored[best]["state_space_divergence"] if best else None
    ratio = d / ref_d if d is not None and ref_d else None
    floor_d = floor.get("state_space_divergence") if floor else None
    to_floor = d / floor_d if d is not None and floor_d else None
    severe = [f for f in flags if not f.startswith(("not chaotic", "chaotic while", STRAY_FLAG))]
    if metrics.get("status") != Status.OK or d is None or severe:
        grade = "failed"
    elif to_floor is not None and to_floor > FAR_FROM_FLOOR:
        grade = "poor"
    elif ratio is None:
        grade = "unjudged"
    elif ratio > COMPARABLE or flags:
        grade = "poor"
    elif ratio > 1.0:
        grade = "comparable"
    else:
        grade = "good"
    parts = [f"D_stsp {_fmt(d)}, D_H {_fmt(dh)}"]
    if floor:
        parts.append(f"data floor {_fmt(floor_d)} / {_fmt(floor.get('power_spectrum_distance'))}"
                     + (f" ({to_floor:.1f}× the floor)" if to_floor else ""))
    if best:
        parts.append(f"best reference {best} {_fmt(ref_d)} / {_fmt(scored[best].get('power_spectrum_distance'))}"
                     + (f" (model {ratio:.2f}× of it)" if ratio else ""))
    far = to_floor is not None and to_floor > FAR_FROM_FLOOR
    headline = {"failed": "the reconstruction failed",
                "poor": (f"far from the data floor (more than {FAR_FROM_FLOOR:g}×)" if far else
                         "worse than the references"),
                "comparable": f"comparable to the best reference (within {COMPARABLE:g}×)",
                "good": "at least as good as every reference", "unjudged": "no reference to judge by"}[grade]
    text = f"{grade}: {headline}; " + "; ".join(parts) + ("; " + "; ".join(flags) if flags else "")
    return {"grade": grade, "text": text, "flags": list(flags), "best_reference": best,
            "ratio_to_best_reference": ratio, "ratio_to_floor": to_floor}
