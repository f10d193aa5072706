"""Argument checks shared by every module: one wording for every integer argument.

    check_int("epochs", epochs)            # -> int; TypeError if not an integer (bools too), ValueError if < 1
"""

from __future__ import annotations

import numbers


def check_int(name: str, value, minimum: int = 1) -> int:
    """`value` as int when it is an integer (not a bool) >= minimum.

    Raises TypeError for a non-integer and ValueError for one below `minimum`; both messages name the argument
    and say what is expected ("a positive integer" when minimum is 1)."""
    expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be {expected}, got {value}")
    return int(value)
