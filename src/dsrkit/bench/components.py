"""Where the benchmark finds systems, methods and metrics: three registries named by import path.

The runner never imports a concrete model. A task's system is `systems.get(name, **params)`, a method is
`methods.get(name, **params)` (a Reconstructor: `fit(dataset, seed=)`, `generate(x0, n_steps)`, `status_`,
`reason_`) and a metric is `metrics.get(name)` (a pure function `(true, generated, **options) -> float`).

By default these are `dsrkit.systems`, `dsrkit.baselines` and `dsrkit.metrics`. Any object with `get` (and
optionally `names`) can stand in, named as ``"module"`` or ``"module:attribute"``: the names travel to worker
processes and Ray workers as plain strings, so they must be importable there. This is the documented hook for
plugging in extra methods or systems (and for testing the runner on its own).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


def resolve(spec: str):
    """Import ``"module"`` or ``"module:attr.sub"`` and return the object."""
    if not isinstance(spec, str) or not spec:
        raise TypeError(f"registry spec must be a non-empty string 'module' or 'module:attribute', got {spec!r}")
    module, _, attr = spec.partition(":")
    obj = importlib.import_module(module)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Components:
    """Import paths of the system, method and metric registries a suite is run against."""

    systems: str = "dsrkit.systems"
    methods: str = "dsrkit.baselines"
    metrics: str = "dsrkit.metrics"

    def system(self, name: str, **params):
        return resolve(self.systems).get(name, **params)

    def method(self, name: str, **params):
        return resolve(self.methods).get(name, **params)

    def metric(self, name: str):
        return resolve(self.metrics).get(name)

    def _names(self, spec: str) -> list[str] | None:
        """The registry's names, or None where it cannot list them (then names are not checked at load time)."""
        try:
            reg = resolve(spec)
        except ImportError:
            return None
        names = getattr(reg, "names", None)
        if not callable(names):
            return None
        try:
            return list(names())
        except Exception:  # a registry that cannot list (e.g. a missing optional extra) is not checked
            return None

    def system_names(self) -> list[str] | None:
        """Native system names plus, where the registry has `catalogue_names()` and its optional extra is
        installed, the catalogue's names (e.g. "dysts:Lorenz")."""
        names = self._names(self.systems)
        if names is None:
            return None
        catalogue = getattr(resolve(self.systems), "catalogue_names", None)
        if callable(catalogue):
            try:
                names += [n for n in catalogue() if n not in names]
            except ImportError:
                pass
        return names

    def method_names(self) -> list[str] | None:
        return self._names(self.methods)

    def metric_names(self) -> list[str] | None:
        return self._names(self.metrics)


DEFAULT = Components()
