"""Input checks shared by the metrics: shapes, dtypes and finiteness, with messages that say what is expected."""

from __future__ import annotations

import numpy as np

from .._checks import check_int


def as_series(x, name: str, *, allow_batch: bool = True, require_finite: bool = True) -> np.ndarray:
    """Return `x` as a float64 array of shape (B, T, N).

    Accepts (T,) (one scalar series), (T, N) (one series) or, with `allow_batch`, (B, T, N) (B series of equal
    length). With `require_finite`, NaN or inf raises a ValueError naming the first bad position.
    """
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array of shape (T, N), got {type(x).__name__}") from err
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or (a.ndim == 3 and not allow_batch and a.shape[0] != 1):
        expected = "(T,), (T, N) or (B, T, N)" if allow_batch else "(T,) or (T, N)"
        raise ValueError(f"{name} must have shape {expected}, got shape {np.shape(x)}")
    if a.shape[1] == 0 or a.shape[2] == 0:
        raise ValueError(f"{name} is empty (shape {np.shape(x)}); expected at least one time step and one dimension")
    if require_finite and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        where = tuple(int(i) for i in bad[1:]) if a.shape[0] == 1 else tuple(int(i) for i in bad)
        raise ValueError(f"{name} contains NaN or inf (first at index {where}); expected finite values")
    return a


def as_2d(x, name: str, *, require_finite: bool = True) -> np.ndarray:
    """Return `x` as a float64 (T, N) array ((T,) becomes (T, 1))."""
    return as_series(x, name, allow_batch=False, require_finite=require_finite)[0]


def check_same_dim(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of dimensions N (last axis), "
            f"got {a.shape[-1]} and {b.shape[-1]}"
        )


def positive_int(value, name: str) -> int:
    return check_int(name, value)


def positive_float(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a positive number, got {value!r}") from err
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v
