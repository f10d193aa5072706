"""The `Reconstructor` protocol: every baseline is fitted, free-run and saved the same way.

Scikit-learn conventions: hyperparameters are keyword arguments of `__init__`, stored as given (no logic there);
everything learned by `fit` ends in an underscore. Shapes are time first: a trajectory is (T, N).

- `fit(dataset, seed=0, dt=None)` -> self. `dataset` is a `dsrkit.Dataset`, one (T, N) array, a (B, T, N) array or
  a list of (T_i, N) arrays (`dt` then gives the sampling step, default 1.0).
- `generate(x0_or_context, n_steps)` -> (n_steps, N) free run. Row 0 is the given initial observation (the last row
  of a context), rows 1.. are the model's continuation; this matches `dsrkit.generate`. A model that needs more
  past rows than given (delays, a warm-up) takes them from the training data before the nearest training state.
- `forecast(context, n_steps)` -> (n_steps, N): the n_steps that follow a (T_ctx, N) context.
- `status_` is "ok", "diverged" (the last free run left the finite region around the training data: non-finite or
  farther than `divergence_factor` half-ranges from the centre of the training data in some variable; the rows
  from that point on are NaN) or "failed" (fitting did not produce a usable model; generation then returns NaN).
  `reason_` says why (with status "ok" it may carry a note from fitting, e.g. an early stop). The status describes
  the last `fit`/`generate`/`forecast` call. Divergence is a result, never an exception. The statuses are the
  members of `dsrkit._status.Status` (a `str` enum).
- `get_params()` / `set_params(**params)`. Hyperparameters are checked against the class's declarative
  `_parameter_constraints` (see `dsrkit.baselines._params`) at the start of `fit`; an invalid one raises
  `InvalidParameterError` (a ValueError and a TypeError) naming the class, the parameter, the value and what is
  expected.
- `save(path)` / `Reconstructor.load(path)`: dsrkit's model file format (`dsrkit.io`: magic line, JSON header with
  the hyperparameters, sha256 over header and payload, atomic write; no pickle), so `dsrkit.save` / `dsrkit.load`
  handle baselines too. Baseline `.npz` files of the older format are still read.
- `fit`, `generate`, `forecast` and `load` run inside `dsrkit._precision.x64()`: JAX parts that work on float64
  arrays (EDMD, NVAR and SINDy free runs) compute in float64 whatever JAX's global setting, and the float32
  networks stay float32.
"""

from __future__ import annotations

import abc
import inspect
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .._checks import check_int
from .._files import is_container, read_container, write_container
from .._precision import uses_x64
from .._status import STATUSES, Status
from ..data import Dataset
from ._params import validate

#: training rows a delay or warm-up model keeps (`analogues_`, the last rows of its longest trajectory) to complete
#: a short context from the nearest training state (`Reconstructor._history_before`)
ANALOGUE_ROWS = 20_000
#: Version of the older `.npz` baseline format (read, no longer written).
FORMAT_VERSION = 1
INSTALL_HINT = "pip install 'dsrkit[baselines]'"


def require(module: str, method: str):
    """Import an optional dependency or raise an ImportError with the install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(f"the {method!r} baseline needs the optional package {module!r}: {INSTALL_HINT}") from err


def _is_json_scalar(v) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An uncompressed `.npz` (readable by `np.load`, no pickle) with fixed timestamps: the same arrays always give
    the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in arrays.items():
            with zf.open(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)), "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


class Reconstructor(abc.ABC):
    """Abstract base of all baselines (see the module docstring for the protocol).

    Subclasses implement `_fit(trajectories, dt, seed)` (a list of float64 (T_i, N) arrays, all finite and long
    enough) and `_predict(context, n_steps)` -> (n_steps, N), the continuation of a (T_ctx, N) context completed at
    the front to `_context_steps()` rows (`_history_before`). Learned JAX/Equinox modules are saved leaf by leaf;
    a subclass that stores one rebuilds its skeleton in `_skeleton(attr)`.
    """

    name: ClassVar[str] = ""
    #: parameter name -> list of constraints (`dsrkit.baselines._params`); a value must satisfy one of them
    _parameter_constraints: ClassVar[dict[str, list]] = {}
    #: the hyperparameter values `dsrkit.bench.tuning.tune` tries: parameter name -> list of values, the default
    #: first; empty: the method is not tuned (no hyperparameters, or tuned otherwise, as the PLRNN family)
    _search_space: ClassVar[dict[str, list]] = {}
    divergence_factor: ClassVar[float] = 10.0
    # jit-compiled free runs: ask `_predict` for a power-of-two number of steps so compiled code is reused
    _bucket_steps: ClassVar[bool] = False

    # ---- parameters ---------------------------------------------------------------------------------------------

    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters as a JSON-serialisable dict (tuples become lists)."""
        return {k: json.loads(json.dumps(getattr(self, k))) for k in self.param_names()}

    def set_params(self, **params) -> "Reconstructor":
        valid = self.param_names()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no parameter(s) {unknown}; valid parameters: {valid}")
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _validate_params(self) -> None:
        """Check every hyperparameter against `_parameter_constraints`, then `_check_param_relations()`."""
        validate(type(self).__name__, self._parameter_constraints,
                 {k: getattr(self, k) for k in self.param_names()})
        self._check_param_relations()

    def _check_param_relations(self) -> None:
        """Hook: relations between hyperparameters (each one already satisfies its own constraints)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.param_names())
        return f"{type(self).__name__}({args})"

    # ---- fitting ------------------------------------------------------------------------------------------------

    def _min_length(self) -> int:
        """Minimum number of time steps per training trajectory (the hyperparameters are valid when called)."""
        return 2

    def _context_steps(self) -> int:
        """How many trailing context rows `_predict` uses (shorter contexts are padded at the front)."""
        return 1

    @abc.abstractmethod
    def _fit(self, trajectories: list[np.ndarray], dt: float, seed: int) -> None: ...

    @abc.abstractmethod
    def _predict(self, context: np.ndarray, n_steps: int) -> np.ndarray: ...

    @uses_x64
    def fit(self, dataset, seed: int = 0, *, dt: float | None = None) -> "Reconstructor":
        """Fit to one or several trajectories; returns self. See the module docstring for accepted inputs."""
        ds = self._prepare(dataset, seed, dt)
        start = time.perf_counter()
        with np.errstate(all="ignore"):
            self._fit(ds.trajectories, ds.dt, int(seed))
        self._fitted(ds.trajectories, time.perf_counter() - start)
        return self

    def _prepare(self, dataset, seed, dt) -> Dataset:
        """Check the hyperparameters, the seed and the data; record what `fit` learns from the data alone
        (`dim_`, `dt_`, `names_`, `data_min_`, `data_max_`; status "ok"). Returns the Dataset."""
        self._validate_params()
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int, got {seed!r}")
        if isinstance(dataset, Dataset):
            if dt is not None and float(dt) != dataset.dt:
                raise ValueError(f"dt={dt} given together with a Dataset whose dt is {dataset.dt}; pass only one")
            ds = dataset
        else:
            ds = Dataset(dataset, dt=1.0 if dt is None else dt)
        ds.require_length(self._min_length(), purpose=f"baseline {self.name!r} with {self.get_params()}")
        trajs = ds.trajectories
        allx = np.concatenate(trajs, axis=0)
        self.dim_ = int(ds.dim)
        self.dt_ = float(ds.dt)
        self.names_ = list(ds.names)
        self.data_min_ = allx.min(axis=0)
        self.data_max_ = allx.max(axis=0)
        self.status_, self.reason_ = Status.OK, ""
        return ds

    def _fitted(self, trajs: list[np.ndarray], seconds: float) -> None:
        """After `_fit`: keep the training rows for short contexts, make the learned arrays contiguous, record the
        fit time."""
        if self._context_steps() > 1:
            self.analogues_ = np.array(max(trajs, key=len)[-ANALOGUE_ROWS:], dtype=np.float64)
        elif hasattr(self, "analogues_"):  # a refit with settings that need no past
            del self.analogues_
        for k, v in list(vars(self).items()):  # loaded arrays are contiguous; make fitted ones so too (same BLAS paths)
            if k.endswith("_") and isinstance(v, np.ndarray):
                setattr(self, k, np.ascontiguousarray(v))
        self.fit_time_ = seconds

    def _fail(self, reason: str) -> None:
        """Mark the fit as failed (for use inside `_fit`)."""
        self.status_, self.reason_ = Status.FAILED, reason

    # ---- generation ---------------------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "dim_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call fit(data) first")

    def _validate_context(self, x, what: str) -> np.ndarray:
        arr = np.asarray(x)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise TypeError(f"{what} must be a real numeric array, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.dim_ or arr.shape[0] == 0:
            raise ValueError(
                f"{what} must be one observation ({self.dim_},) or a context (T_ctx, {self.dim_}); got shape {np.shape(x)}"
            )
        if not np.all(np.isfinite(arr)):
            rows = np.unique(np.nonzero(~np.isfinite(arr))[0])[:5].tolist()
            raise ValueError(f"{what} contains NaN/inf (rows {rows}); give finite observations")
        need = self._context_steps()
        if arr.shape[0] < need:
            arr = np.concatenate([self._history_before(arr[0], need - arr.shape[0]), arr], axis=0)
        return arr

    def _history_before(self, first: np.ndarray, k: int) -> np.ndarray:
        """(k, N) rows to put before the observation `first` when a context is shorter than `_context_steps()`:
        the k training rows before `first`'s nearest neighbour in `analogues_` (distance scaled by the training
        range), shifted by the same offset so that they join `first`: the method of analogues (Lorenz 1969,
        J. Atmos. Sci. 26, 636). Why: a delay model started from one observation repeated k times sees a history
        of zero velocity that no training state had; the NG-RC setting tuned on the core suite's Rössler seed 2 left
        the data 28 steps after the test's first point that way, and reaches D_stsp 0.028 from the analogue's past
        (floor 0.026; `benchmarks/short_context_probe.py`). A model fitted before `analogues_` existed repeats
        `first`."""
        h = getattr(self, "analogues_", None)
        if h is None or len(h) <= k:
            return np.repeat(first[None], k, axis=0)
        scale = np.maximum(self.data_max_ - self.data_min_, 1e-12)
        i = k + int(np.argmin((((h[k:] - first) / scale) ** 2).sum(axis=1)))
        return h[i - k:i] + (first - h[i])

    @staticmethod
    def _validate_steps(n_steps, minimum: int) -> int:
        return check_int("n_steps", n_steps, minimum)

    def _guard(self, Y: np.ndarray, first: int = 0) -> np.ndarray:
        """NaN out everything from the first non-finite or far-out row (at or after `first`) on; set the status."""
        Y = np.array(Y, dtype=np.float64)
        centre = 0.5 * (self.data_max_ + self.data_min_)
        half = np.maximum(0.5 * (self.data_max_ - self.data_min_), 1e-12)
        with np.errstate(all="ignore"):
            bad = ~np.all(np.isfinite(Y), axis=1) | np.any(np.abs(Y - centre) > self.divergence_factor * half, axis=1)
        bad[:first] = False
        if bad.any():
            k = int(np.argmax(bad))
            Y[k:] = np.nan
            self.status_ = Status.DIVERGED
            self.reason_ = (
                f"free run left the region of {self.divergence_factor:g} half-ranges around the training data "
                f"(or became non-finite) at step {k}"
            )
        else:
            self.status_, self.reason_ = Status.OK, ""
        return Y

    def _run(self, context: np.ndarray, n_steps: int) -> np.ndarray:
        if self.status_ == Status.FAILED:
            return np.full((n_steps, self.dim_), np.nan)
        if n_steps == 0:
            return np.zeros((0, self.dim_))
        with np.errstate(all="ignore"):
            try:
                m = max(32, 1 << (n_steps - 1).bit_length()) if self._bucket_steps else n_steps
                Y = np.asarray(self._predict(context, m), dtype=np.float64)[:n_steps]
            except (FloatingPointError, OverflowError, np.linalg.LinAlgError) as err:
                self.status_, self.reason_ = Status.DIVERGED, f"numerical failure during the free run: {err}"
                return np.full((n_steps, self.dim_), np.nan)
        if Y.shape != (n_steps, self.dim_):
            raise AssertionError(f"{type(self).__name__}._predict returned shape {Y.shape}, expected {(n_steps, self.dim_)}")
        return Y

    @uses_x64
    def generate(self, x0_or_context, n_steps: int) -> np.ndarray:
        """Free run: (N,) observation or (T_ctx, N) context -> (n_steps, N); row 0 is the (last) given observation."""
        self._check_fitted()
        n = self._validate_steps(n_steps, 1)
        ctx = self._validate_context(x0_or_context, "x0_or_context")
        Y = np.concatenate([ctx[-1:], self._run(ctx, n - 1)], axis=0)
        return Y if self.status_ == Status.FAILED else self._guard(Y, first=1)

    @uses_x64
    def forecast(self, context, n_steps: int) -> np.ndarray:
        """The n_steps observations following a (T_ctx, N) context (or one (N,) observation): (n_steps, N)."""
        self._check_fitted()
        n = self._validate_steps(n_steps, 1)
        ctx = self._validate_context(context, "context")
        Y = self._run(ctx, n)
        return Y if self.status_ == Status.FAILED else self._guard(Y)

    # ---- persistence --------------------------------------------------------------------------------------------

    def _skeleton(self, attr: str):
        """A module with the right structure for learned attribute `attr` (values are overwritten on load)."""
        raise NotImplementedError(f"{type(self).__name__} cannot rebuild learned attribute {attr!r}")

    def _after_load(self) -> None:
        """Hook: recompute caches after the learned attributes have been restored."""

    def save(self, path, *, overwrite: bool = False, metadata: dict | None = None) -> Path:
        """Write the fitted baseline to `path` in dsrkit's model file format (see `dsrkit.io`; no pickle).

        The header records "kind": "baseline", "class": the method name, "config": `get_params()`, the learned
        scalars and the optional JSON-serialisable `metadata`; the payload is an `.npz` of the learned arrays. The
        file is written atomically; an existing file is refused unless `overwrite`. Returns the path."""
        import equinox as eqx
        import jax

        self._check_fitted()
        arrays: dict[str, np.ndarray] = {}
        attrs: dict[str, Any] = {}
        modules: dict[str, int] = {}
        for k, v in vars(self).items():
            if not k.endswith("_") or k.startswith("_"):
                continue
            if isinstance(v, eqx.Module):
                leaves = jax.tree_util.tree_leaves(eqx.filter(v, eqx.is_array))
                modules[k] = len(leaves)
                for i, leaf in enumerate(leaves):
                    arrays[f"module:{k}:{i}"] = np.asarray(leaf)
            elif isinstance(v, (np.ndarray, jax.Array)):
                arrays[f"array:{k}"] = np.asarray(v)
            elif isinstance(v, (np.floating, np.integer, np.bool_)):
                attrs[k] = v.item()
            elif _is_json_scalar(v):
                attrs[k] = v
            else:
                raise TypeError(f"cannot save learned attribute {k!r} of type {type(v).__name__}")
        header = {"kind": "baseline", "class": self.name, "config": self.get_params(),
                  "learned": {"attrs": attrs, "modules": modules}, "metadata": metadata or {}}
        return write_container(path, header, _npz_bytes(arrays), overwrite=overwrite, flag="overwrite=True")

    @classmethod
    @uses_x64
    def load(cls, path) -> "Reconstructor":
        """Read a file written by `save` (or an older-format baseline `.npz`). On the base class, the stored method
        decides the class; on a subclass, a file holding another method is an error."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no such baseline file: {path}")
        if not is_container(path) and zipfile.is_zipfile(path):
            return cls._load_npz(path)
        header, payload = read_container(path)  # ValueError naming the file and the problem
        if header.get("kind", "model") != "baseline":
            raise ValueError(f"{path} holds a dsrkit model ({header['class']}), not a baseline; read it with "
                             f"dsrkit.load")
        return cls._from_container(header, payload, path)

    @classmethod
    def _from_container(cls, header: dict, payload: bytes, path: Path) -> "Reconstructor":
        """The baseline stored in a verified container (`header`, `payload`) read from `path`."""
        try:
            learned = header["learned"]
            meta = {"method": header["class"], "params": header["config"], "attrs": learned["attrs"],
                    "modules": learned["modules"]}
            with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
                data = {k: npz[k] for k in npz.files}
        except Exception as err:
            raise ValueError(f"{path} is not a readable dsrkit baseline file ({type(err).__name__}: {err})") from err
        return cls._restore(meta, data, path)

    @classmethod
    def _load_npz(cls, path: Path) -> "Reconstructor":
        """A baseline from the older `.npz` format (arrays plus a `__meta__` JSON entry)."""
        try:
            with np.load(path, allow_pickle=False) as npz:
                data = {k: npz[k] for k in npz.files}
            meta = json.loads(str(data.pop("__meta__")))
            if meta.get("format") != "dsrkit.baselines":
                raise ValueError("missing dsrkit.baselines header")
        except Exception as err:
            raise ValueError(f"{path} is not a readable dsrkit baseline file ({type(err).__name__}: {err})") from err
        if meta["version"] > FORMAT_VERSION:
            raise ValueError(f"{path} was written by a newer format version {meta['version']} (> {FORMAT_VERSION})")
        return cls._restore(meta, data, path)

    @classmethod
    def _restore(cls, meta: dict, data: dict, path: Path) -> "Reconstructor":
        """Rebuild a baseline from `meta` ({"method", "params", "attrs", "modules"}) and its stored arrays."""
        import equinox as eqx
        import jax
        import jax.numpy as jnp

        from . import _registry_class

        try:
            target = _registry_class(meta["method"])
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        if not issubclass(target, cls):
            raise ValueError(f"{path} holds a {meta['method']!r} baseline, not a {cls.__name__}")
        try:
            obj = target(**meta["params"])
            obj._validate_params()
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path} has hyperparameters that do not build a {target.__name__}: {err}") from None
        for k, v in meta["attrs"].items():
            setattr(obj, k, Status(v) if k == "status_" and v in STATUSES else v)
        for key, arr in data.items():
            if key.startswith("array:"):
                setattr(obj, key[len("array:"):], arr)
        for k, n in meta["modules"].items():
            skel = obj._skeleton(k)
            params, static = eqx.partition(skel, eqx.is_array)
            leaves, treedef = jax.tree_util.tree_flatten(params)
            if len(leaves) != n:
                raise ValueError(f"{path}: module {k!r} has {n} stored arrays, the model structure needs {len(leaves)}")
            try:
                stored = [jnp.asarray(data[f"module:{k}:{i}"], dtype=leaf.dtype) for i, leaf in enumerate(leaves)]
            except KeyError as err:
                raise ValueError(f"{path}: module {k!r} misses its array {err}") from None
            for i, (a, b) in enumerate(zip(stored, leaves)):
                if a.shape != b.shape:
                    raise ValueError(f"{path}: module {k!r} array {i} has shape {a.shape}, expected {b.shape}")
            setattr(obj, k, eqx.combine(jax.tree_util.tree_unflatten(treedef, stored), static))
        obj._after_load()
        return obj


class Standardised:
    """Mixin: fit on z-scored data, answer in data units. Learned: `mean_`, `scale_` (N,)."""

    def _set_scaler(self, trajectories: list[np.ndarray]) -> list[np.ndarray]:
        allx = np.concatenate(trajectories, axis=0)
        self.mean_ = allx.mean(axis=0)
        std = allx.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return [self._to_z(x) for x in trajectories]

    def _to_z(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean_) / self.scale_

    def _from_z(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=np.float64) * self.scale_ + self.mean_
