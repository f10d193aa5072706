"""Declarative hyperparameter checks of the baselines (`dsrkit.baselines._params`, `_parameter_constraints`).

Every constructor argument of every baseline has constraints; every value that violates them (generated from the
constraints, plus an explicit list per method that cannot be empty) is refused by `fit` before any work, with a
ValueError/TypeError naming the class, the parameter and the value. The explicit lists cover every check the
baselines made by hand before the constraints existed, non-finite numbers included.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dsrkit import baselines
from dsrkit.baselines._params import (Boolean, Interval, InvalidParameterError, Options, describe, invalid_values,
                                      satisfies, validate)

NAN, INF = float("nan"), float("inf")
_KOOPMAN = {"dictionary": ["fourier", "Polynomial"], "degree": [0, -1, 1.5, True], "n_centers": [0, 2.0],
            "rbf_width": [0, -1.0, NAN, INF, "median"], "delays": [0, True], "skip": [0, -2],
            "residual_threshold": [-0.1, NAN, INF], "rollout": ["spectral", None], "rcond": [-1e-3, 1, NAN, None],
            "max_features": [0, 1e4]}
_RECURRENT = {"hidden": [0, 6.0], "window": [0, -1], "warmup": [0, 50, 51, 2.5], "forcing_interval": [0, None],
              "batch_size": [0], "train_steps": [0, "10"], "learning_rate": [0, -1e-3, NAN, INF, None]}
_TRAIN = {"latent_dim": [0, 2.5], "interval": [0], "sequence_length": [0, None], "batch_size": [0],
          "batches_per_epoch": [0], "epochs": [0, True], "lr_start": [0, -1e-3, NAN, INF], "lr_end": [0, NAN],
          "input_noise": [-0.01, NAN, INF], "eval_every": [-1, 1.5, NAN], "grad_clip": [0, -1.0, NAN, INF],
          "scheme": ["gtf", "STF", None]}
# Bad values written by hand, one list per constructor argument (also the relations between arguments).
EXPLICIT = {
    "mean": {},
    "last_value": {},
    "parroting": {"match_length": [0, -1, 2.0, "4", True, None]},
    "sindy": {"degree": [0, 1.5], "threshold": [-0.1, NAN, INF], "alpha": [-1, NAN],
              "differentiation": ["spline", None], "substeps": [0, 1.0]},
    "esn": {"units": [0, 10.0, True], "spectral_radius": [0, -0.9, NAN, INF], "leak": [0, 1.5, NAN],
            "input_scaling": [0, -0.5, INF], "bias_scaling": [-0.5, NAN], "connectivity": [0, 1.01, NAN],
            "ridge": [0, -1e-6, NAN, INF], "warmup": [-1, 2.5, None]},
    "nvar": {"delays": [0, 2.0], "skip": [0], "degree": [0, True], "ridge": [0, -1e-6, NAN, INF, "1e-6"]},
    "edmd": _KOOPMAN,
    "mpedmd": _KOOPMAN,
    "havok": {"delays": [0, 5.0], "skip": [0], "rank": [0, None], "stabilize": ["scale", "Unit", None]},
    "node": {"width": [0, 8.0], "depth": [0], "window": [0, -3], "batch_size": [0], "train_steps": [0, None],
             "learning_rate": [0, -3e-3, NAN, INF]},
    "lstm": _RECURRENT,
    "gru": _RECURRENT,
    "alrnn": {**_TRAIN, "relu_units": [0, 2.0]},
    "plrnn": _TRAIN,
    "shplrnn": {**_TRAIN, "hidden_dim": [0, None], "clipped": [1, 0, "yes", None]},
    "auto": {"budget": [0, -5.0, NAN, INF, None], "interpretable": [1, "no", None], "validation_fraction": [0, 1.0, 1.5],
             "max_epochs": [0, 2.0]},
}
DATA = np.random.default_rng(0).normal(size=(40, 3))


def _cases(name):
    cls = baselines._registry_class(name)
    out = []
    for param in cls.param_names():
        generated = invalid_values(cls._parameter_constraints.get(param, []))
        out += [(param, v) for v in EXPLICIT[name][param] + generated]
    return out


def test_every_parameter_of_every_baseline_has_constraints_and_explicit_bad_values():
    for name in baselines.names():
        cls = baselines._registry_class(name)
        assert set(cls._parameter_constraints) == set(cls.param_names()), name
        assert set(EXPLICIT[name]) == set(cls.param_names()), name
        assert all(EXPLICIT[name][p] for p in cls.param_names()), name
        for param, constraints in cls._parameter_constraints.items():
            assert invalid_values(constraints), (name, param)  # the generated half is never empty either
            assert satisfies(getattr(cls(), param), constraints), (name, param)  # the defaults are valid
        cls()._validate_params()


@pytest.mark.parametrize("name", baselines.names())
def test_fit_refuses_each_invalid_value_of_each_parameter(name):
    cls = baselines._registry_class(name)
    cases = _cases(name)
    assert len(cases) >= 3 * len(cls.param_names())
    for param, value in cases:
        m = baselines.get(name, **{param: value})  # stored as given: the constructor does not validate
        with pytest.raises((ValueError, TypeError)) as err:
            m.fit(DATA)
        message = str(err.value)
        assert isinstance(err.value, InvalidParameterError), (param, value, message)
        assert message.startswith(f"{cls.__name__}: {param} must be "), (param, value, message)
        assert f"got {value!r}" in message, (param, value, message)
        assert not hasattr(m, "dim_"), (param, value)  # refused before any fitting


def test_set_params_stores_as_given_and_fit_validates():
    m = baselines.get("esn", units=12, warmup=5)
    m.set_params(leak=2.0)
    assert m.leak == 2.0
    with pytest.raises(ValueError, match=r"ESN: leak must be a finite number in \(0, 1\]; got 2.0"):
        m.fit(DATA)
    m.set_params(leak=0.5).fit(DATA)
    assert m.status_ in ("ok", "diverged")


def test_integers_and_reals_of_numpy_are_accepted_bools_are_not():
    m = baselines.get("esn", units=np.int64(12), warmup=np.int32(5), leak=np.float32(0.5), ridge=1)
    m._validate_params()
    for bad in (True, np.bool_(True)):
        with pytest.raises(InvalidParameterError, match="units must be an int"):
            baselines.get("esn", units=bad)._validate_params()


# ---- the vocabulary -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("constraint, inside, outside, text", [
    (Interval(int, 1, None), [1, 2, np.int64(10**9)], [0, -1, 1.0, True, "1", None], "an int in [1, inf)"),
    (Interval(int, 0, 5, closed="left"), [0, 4], [5, -1, 4.5], "an int in [0, 5)"),
    (Interval(float, 0, 1, closed="right"), [1, 0.5, np.float32(1e-8)], [0, 1.0 + 1e-12, NAN, -INF, False],
     "a finite number in (0, 1]"),
    (Interval(float, 0, 1, closed="neither"), [0.5], [0, 1], "a finite number in (0, 1)"),
    (Interval(float, None, 0), [-1e300, 0], [1e-300, -INF, NAN], "a finite number in (-inf, 0]"),
    (Interval(float), [0, -3.5, 10**400], [NAN, INF, 1j, "0"], "a finite number"),
    (Options("a", "b"), ["a", "b"], ["c", "A", None, ["a"]], "one of ('a', 'b')"),
    (Options(1, 2), [1, 2], [True, 1.0, "1"], "one of (1, 2)"),
    (Boolean(), [True, False, np.bool_(False)], [0, 1, "True", None], "a bool"),
])
def test_constraints(constraint, inside, outside, text):
    assert str(constraint) == text
    for v in inside:
        assert constraint.is_satisfied_by(v), v
    for v in outside:
        assert not constraint.is_satisfied_by(v), v
    for v in constraint.invalid_values():
        assert not constraint.is_satisfied_by(v), v


def test_a_list_of_constraints_is_satisfied_by_any_and_described_in_words():
    cs = [Interval(float, 0, None, closed="neither"), None]
    assert satisfies(None, cs) and satisfies(2.5, cs) and not satisfies(0, cs) and not satisfies(NAN, cs)
    assert describe(cs) == "a finite number in (0, inf) or None"
    assert describe([Options("x"), Boolean(), None]) == "one of ('x',), a bool or None"
    generated = invalid_values(cs)
    assert None not in generated and 0 in generated and any(isinstance(v, float) and math.isnan(v) for v in generated)
    assert all(not satisfies(v, cs) for v in generated)
    with pytest.raises(InvalidParameterError, match=r"^Thing: width must be a finite number in \(0, inf\) or None; "
                                                    r"got -1 \(int\)$"):
        validate("Thing", {"width": cs}, {"width": -1, "unconstrained": object()})


def test_bad_constraint_definitions_are_refused():
    with pytest.raises(TypeError):
        Interval(str, 0, 1)
    with pytest.raises(ValueError):
        Interval(int, 0, 1, closed="open")
    with pytest.raises(ValueError):
        Interval(int, 2, 1)
    with pytest.raises(ValueError):
        Options()
