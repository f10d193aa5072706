"""Declarative hyperparameter constraints of the baselines (the shape of scikit-learn's `_parameter_constraints`).

Every baseline lists, for each constructor argument, the constraints a valid value satisfies; a value is valid
when it satisfies at least one of them:

    _parameter_constraints = {
        "units": [Interval(int, 1, None)],                         # an int >= 1
        "leak": [Interval(float, 0, 1, closed="right")],           # a finite number in (0, 1]
        "rbf_width": [Interval(float, 0, None, closed="neither"), None],   # ... or None
        "rollout": [Options("relift", "linear")],
        "clipped": [Boolean()],
    }

`Reconstructor._validate_params()` checks them at the start of `fit` (the constructor and `set_params` store values
as given, as in scikit-learn) and raises `InvalidParameterError` (a ValueError and a TypeError) naming the class,
the parameter, the value and what is expected. Relations between parameters (LSTM's warmup < window) are checked
by the class's `_check_param_relations`.

Numbers: `Interval(int, ...)` accepts integers (Python or NumPy) but never bools; `Interval(float, ...)` accepts any
real number, again no bools, and only finite ones: NaN and ±inf are rejected wherever a number is expected.
Every constraint can also produce values that violate it (`invalid_values`), so tests exercise each constraint.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["Boolean", "Interval", "InvalidParameterError", "Options", "describe", "invalid_values", "satisfies"]

_CLOSED = ("both", "left", "right", "neither")


class InvalidParameterError(ValueError, TypeError):
    """A hyperparameter of a baseline has the wrong type or value (both a ValueError and a TypeError)."""


class Interval:
    """A number of a type in an interval. `type` is int (integers, not bools) or float (finite real numbers, ints
    included); `low`/`high` are the bounds (None: unbounded on that side); `closed` is "both" (default), "left",
    "right" or "neither" and says which bounds belong to the interval."""

    def __init__(self, type, low=None, high=None, *, closed: str = "both"):
        if type in (int, numbers.Integral):
            self.integer = True
        elif type in (float, numbers.Real):
            self.integer = False
        else:
            raise TypeError(f"Interval type must be int or float, got {type!r}")
        if closed not in _CLOSED:
            raise ValueError(f"closed must be one of {_CLOSED}, got {closed!r}")
        if low is not None and high is not None and low > high:
            raise ValueError(f"empty interval: low={low} > high={high}")
        self.low, self.high, self.closed = low, high, closed

    def _type_ok(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.integer:
            return isinstance(value, numbers.Integral)
        if isinstance(value, numbers.Integral):
            return True  # finite, even beyond the float range
        return isinstance(value, numbers.Real) and math.isfinite(float(value))

    def is_satisfied_by(self, value) -> bool:
        if not self._type_ok(value):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        kind = "an int" if self.integer else "a finite number"
        if self.low is None and self.high is None:
            return kind
        left = "-inf" if self.low is None else f"{self.low}"
        right = "inf" if self.high is None else f"{self.high}"
        lb = "[" if self.low is not None and self.closed in ("both", "left") else "("
        rb = "]" if self.high is not None and self.closed in ("both", "right") else ")"
        return f"{kind} in {lb}{left}, {right}{rb}"

    def invalid_values(self) -> list:
        """Values that violate this constraint: outside each bound, of the wrong type, non-finite."""
        out: list = ["1", True, None, [1]]
        if self.integer:
            out.append(1.5)
            out.append(float(self.low if self.low is not None else self.high or 0))  # right value, wrong type
        else:
            out += [float("nan"), float("inf"), float("-inf"), 1j]
        step = 1 if self.integer else 0.5
        if self.low is not None:
            out.append(self.low if self.closed in ("right", "neither") else self.low - step)
        if self.high is not None:
            out.append(self.high if self.closed in ("left", "neither") else self.high + step)
        return out


class Options:
    """One of the given values (compared by type and equality: 1 is not an option "1", True is not 1)."""

    def __init__(self, *options):
        if not options:
            raise ValueError("Options needs at least one option")
        self.options = tuple(options)

    def is_satisfied_by(self, value) -> bool:
        return any(type(value) is type(o) and value == o for o in self.options)

    def __str__(self) -> str:
        return f"one of {self.options}"

    def invalid_values(self) -> list:
        first = self.options[0]
        out: list = [None, 1.5, [first]]
        if isinstance(first, str):
            out += [first.upper() if first.upper() != first else first + "_", first + " ", ""]
        return out


class Boolean:
    """True or False (Python or NumPy bools; not 0/1, not strings)."""

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, (bool, np.bool_))

    def __str__(self) -> str:
        return "a bool"

    def invalid_values(self) -> list:
        return [0, 1, "True", "false", None, 1.0]


def satisfies(value, constraints) -> bool:
    """Whether `value` satisfies at least one constraint (None in the list admits None)."""
    for c in constraints:
        if c is None:
            if value is None:
                return True
        elif c.is_satisfied_by(value):
            return True
    return False


def describe(constraints) -> str:
    """What the constraints expect, in words: "an int in [1, inf) or None"."""
    parts = ["None" if c is None else str(c) for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def invalid_values(constraints) -> list:
    """Values that violate every constraint of the list (generated from each constraint, then filtered)."""
    out = []
    for c in constraints:
        if c is not None:
            out += [v for v in c.invalid_values() if not satisfies(v, constraints) and not _contains(out, v)]
    return out


def _contains(values: list, v) -> bool:
    return any(type(u) is type(v) and (u == v or (u != u and v != v)) for u in values)


def validate(owner: str, constraints: dict, params: dict) -> None:
    """Raise InvalidParameterError for the first parameter in `params` that satisfies none of its constraints.

    Parameters without an entry in `constraints` are not checked."""
    for name, value in params.items():
        if name in constraints and not satisfies(value, constraints[name]):
            raise InvalidParameterError(
                f"{owner}: {name} must be {describe(constraints[name])}; got {value!r} ({type(value).__name__})"
            )
