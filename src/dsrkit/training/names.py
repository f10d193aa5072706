"""The names of the trainable models and the teacher-forcing schemes: one registry that the command line, the
pipeline, the training configuration and the PLRNN baselines read.

    model_names()                 -> ("alrnn", "plrnn", "shplrnn", "dendplrnn")
    scheme_names()                -> ("stf", "gtf", "adaptive_gtf")
    model_name("ShallowPLRNN")    -> "shplrnn"        (a short name or the class name; ValueError otherwise)
    model_class("alrnn")          -> dsrkit.models.ALRNN
    scheme_name("AdaptiveGTF")    -> "adaptive_gtf"
    scheme_class("stf")           -> dsrkit.training.STF

Configurations (`default_config`, `config_from_options`, config.json of a run) store the short names; the class
names are accepted everywhere a name is read, so configurations written with them still load.
"""

from __future__ import annotations

from ..models import ALRNN, PLRNN, DendPLRNN, ShallowPLRNN
from .schemes import GTF, STF, AdaptiveGTF

#: short name -> model class
MODELS = {"alrnn": ALRNN, "plrnn": PLRNN, "shplrnn": ShallowPLRNN, "dendplrnn": DendPLRNN}
#: short name -> teacher-forcing scheme class
SCHEMES = {"stf": STF, "gtf": GTF, "adaptive_gtf": AdaptiveGTF}


def _resolve(kind: str, registry: dict, name) -> str:
    if isinstance(name, str):
        if name in registry:
            return name
        for short, cls in registry.items():
            if name == cls.__name__:
                return short
    expected = ", ".join(registry) + " (or the class names " + ", ".join(c.__name__ for c in registry.values()) + ")"
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a name, one of {expected}; got {name!r} ({type(name).__name__})")
    raise ValueError(f"unknown {kind} {name!r}; expected one of {expected}")


def model_names() -> tuple[str, ...]:
    """The short model names, in the order the command line lists them."""
    return tuple(MODELS)


def scheme_names() -> tuple[str, ...]:
    """The short scheme names, in the order the command line lists them."""
    return tuple(SCHEMES)


def model_name(name: str) -> str:
    """The short name of a model given by its short name or its class name ("ALRNN" -> "alrnn")."""
    return _resolve("model", MODELS, name)


def scheme_name(name: str) -> str:
    """The short name of a scheme given by its short name or its class name ("AdaptiveGTF" -> "adaptive_gtf")."""
    return _resolve("scheme", SCHEMES, name)


def model_class(name: str) -> type:
    """The model class of a short name or class name."""
    return MODELS[model_name(name)]


def scheme_class(name: str) -> type:
    """The scheme class of a short name or class name."""
    return SCHEMES[scheme_name(name)]


__all__ = ["MODELS", "SCHEMES", "model_names", "scheme_names", "model_name", "scheme_name", "model_class",
           "scheme_class"]
