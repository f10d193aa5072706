"""Ground-truth dynamical systems: JAX vector fields and maps with Jacobians, metadata as data, fast trajectories.

    names()                      -> sorted list of native system names
    get(name, **param_overrides) -> System (immutable); "dysts:<Name>" for the optional dysts catalogue
    catalogue_names()            -> ["dysts:Aizawa", ...] (needs ``pip install 'dsrkit[dysts]'``)
    s.trajectory(n_steps, dt=None, transient=1000, seed=0, noise=0.0, standardize=False, x0=None,
                 process_noise=0.0, progress=False) -> np.ndarray (n_steps, s.dim)
    s.trajectories(n_traj, n_steps, ...) -> np.ndarray (n_traj, n_steps, s.dim)
    s.rhs(x) (flows, PDE) / s.step(x) (maps) / s.jacobian(x) / s.flow_map(x, dt=None)   (JAX, (dim,) arrays)
    s.name, s.kind, s.dim, s.dt, s.params, s.x0, s.variables, s.reference, s.reference_sources, s.citation

Parameters, default initial conditions and sampling steps, reference invariants with their sources, and
citations live in ``metadata.json``.
"""

from __future__ import annotations

from ._base import System
from ._kinds import FlowSystem, MapSystem
from ._registry import metadata, native_names
from .kuramoto_sivashinsky import KuramotoSivashinskySystem
from .mackey_glass import MackeyGlassSystem

CATALOGUE_PREFIX = "dysts:"


def names() -> list[str]:
    """Sorted names of the native systems (those in metadata.json)."""
    return native_names()


def get(name: str, **param_overrides) -> System:
    """The system ``name`` with its default parameters, or with ``param_overrides`` replacing some of them.

    Native names are listed by ``names()``; ``"dysts:<Name>"`` (e.g. ``"dysts:Lorenz"``) takes a system from the
    dysts catalogue (optional extra). Raises ValueError for unknown names or parameters, listing the valid ones.
    """
    if not isinstance(name, str):
        raise TypeError(f"system name must be a str, got {type(name).__name__}")
    if name.startswith(CATALOGUE_PREFIX):
        from ._dysts import build_catalogue_system

        return build_catalogue_system(name[len(CATALOGUE_PREFIX):], **param_overrides)
    if name not in metadata():
        raise ValueError(f"unknown system {name!r}; valid names: {', '.join(names())} "
                         f"(or '{CATALOGUE_PREFIX}<Name>' from catalogue_names())")
    from ._registry import build

    return build(name, **param_overrides)


def catalogue_names() -> list[str]:
    """Sorted ``"dysts:<Name>"`` names of the dysts catalogue's continuous flows (requires the ``dysts`` extra)."""
    from ._dysts import catalogue_names as _names

    return _names()


__all__ = ["System", "FlowSystem", "MapSystem", "MackeyGlassSystem", "KuramotoSivashinskySystem", "names", "get",
           "catalogue_names", "metadata"]
