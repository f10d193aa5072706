"""Datasets: one or several measured trajectories sharing a sampling step.

A `Dataset` holds a list of float64 arrays, each (T_i, N), a scalar `dt` and N variable names. It loads and saves
`.npy`, `.npz`, `.csv` and `.csv.gz`, validates what it is given (shape, numeric, finite, matching N), standardises
with remembered mean/std, and splits by time.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

_EXTENSIONS = (".npy", ".npz", ".csv", ".csv.gz")


def _describe(source: str | None) -> str:
    return f"{source}: " if source else ""


def _first_nonfinite(X: np.ndarray, limit: int = 5) -> str:
    rows, cols = np.nonzero(~np.isfinite(X))
    shown = ", ".join(f"(t={r}, dim={c})" for r, c in zip(rows[:limit], cols[:limit]))
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{len(rows)} non-finite value(s) (NaN/inf) at {shown}{more}"


def as_trajectory(X, *, source: str | None = None, index: int | None = None) -> np.ndarray:
    """Validate one trajectory and return it as a (T, N) float64 array.

    A 1-D array is read as one variable, (T,) -> (T, 1). Raises `TypeError` for non-numeric data and `ValueError`
    for other dimensionalities, empty arrays or non-finite values (naming the first positions).
    """
    where = _describe(source) + (f"trajectory {index}: " if index is not None else "")
    arr = np.asarray(X)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{where}expected numeric data, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{where}expected real numbers, got complex dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{where}expected a (T, N) array (time first), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{where}expected a non-empty (T, N) array, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}{_first_nonfinite(arr)}; clean or interpolate the data first")
    return arr


@dataclasses.dataclass(frozen=True)
class Standardizer:
    """Per-dimension z-scoring x -> (x - mean) / std, remembered so that it can be inverted.

    Shapes: mean and std are (N,). Dimensions with zero spread keep std = 1.
    """

    mean: np.ndarray
    std: np.ndarray

    def _check(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 0 or X.shape[-1] != self.mean.size:
            raise ValueError(f"data has {X.shape[-1] if X.ndim else 0} variable(s) (shape {X.shape}); the "
                             f"standardizer (the run's training data) has {self.mean.size}")
        return X

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (self._check(X) - self.mean) / self.std

    def inverse(self, X: np.ndarray) -> np.ndarray:
        return self._check(X) * self.std + self.mean

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Standardizer":
        """Inverse of `to_dict`; ValueError unless mean and std are equal-length lists of finite numbers, std > 0."""
        if not isinstance(d, dict) or not {"mean", "std"} <= set(d):
            raise ValueError(f"expected an object with 'mean' and 'std', got {d!r:.80}")
        try:
            mean, std = (np.asarray(d[k], dtype=np.float64) for k in ("mean", "std"))
        except (TypeError, ValueError):
            raise ValueError("'mean' and 'std' must be lists of numbers") from None
        if mean.ndim != 1 or std.shape != mean.shape or mean.size == 0:
            raise ValueError(f"'mean' and 'std' must be non-empty lists of equal length, got shapes {mean.shape}, "
                             f"{std.shape}")
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            raise ValueError("'mean' must be finite and 'std' finite and positive")
        return cls(mean, std)


class Dataset:
    """One or several trajectories of the same N variables sampled every `dt`.

    Args:
        trajectories: one (T, N) array, a (B, T, N) array, or a sequence of (T_i, N) arrays.
        dt: the sampling step (> 0).
        names: N variable names (default x0, x1, ...).

    Attributes:
        trajectories: list of (T_i, N) float64 arrays; dt: float; names: list of str; dim: N.
    """

    def __init__(self, trajectories, dt: float = 1.0, names: Sequence[str] | None = None, *, source: str | None = None):
        if isinstance(trajectories, np.ndarray) and trajectories.ndim == 3:
            items = list(trajectories)
        elif isinstance(trajectories, (list, tuple)):
            items = list(trajectories)
        else:
            items = [trajectories]
        if not items:
            raise ValueError(f"{_describe(source)}expected at least one trajectory, got none")
        trajs = [as_trajectory(x, source=source, index=i if len(items) > 1 else None) for i, x in enumerate(items)]
        dims = {x.shape[1] for x in trajs}
        if len(dims) != 1:
            shapes = ", ".join(str(x.shape) for x in trajs)
            raise ValueError(f"{_describe(source)}all trajectories must have the same number of variables N; got shapes {shapes}")
        if not (isinstance(dt, (int, float, np.floating, np.integer)) and np.isfinite(dt) and dt > 0):
            raise ValueError(f"{_describe(source)}dt must be a positive finite number, got {dt!r}")
        n = trajs[0].shape[1]
        names = [f"x{i}" for i in range(n)] if names is None else [str(s) for s in names]
        if len(names) != n:
            raise ValueError(f"{_describe(source)}{len(names)} variable name(s) {names} for data with {n} "
                             f"column(s); give one name per column")
        self.trajectories: list[np.ndarray] = trajs
        self.dt = float(dt)
        self.names = names

    @property
    def dim(self) -> int:
        return self.trajectories[0].shape[1]

    @property
    def lengths(self) -> list[int]:
        return [x.shape[0] for x in self.trajectories]

    def __len__(self) -> int:
        return len(self.trajectories)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.trajectories)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.trajectories[i]

    def __repr__(self) -> str:
        return f"Dataset({len(self)} trajectories, lengths={self.lengths}, N={self.dim}, dt={self.dt}, names={self.names})"

    def concatenated(self) -> np.ndarray:
        """All samples stacked: (sum T_i, N)."""
        return np.concatenate(self.trajectories, axis=0)

    def require_length(self, min_length: int, purpose: str = "this operation") -> None:
        """Raise a ValueError if any trajectory is shorter than `min_length` samples."""
        short = [(i, t) for i, t in enumerate(self.lengths) if t < min_length]
        if short:
            listed = ", ".join(f"trajectory {i} has {t}" for i, t in short)
            raise ValueError(f"{purpose} needs at least {min_length} time steps per trajectory; {listed}")

    # -- transforms -------------------------------------------------------------------------------------------

    def standardize(self, standardizer: Standardizer | None = None) -> tuple["Dataset", Standardizer]:
        """Z-score every variable (statistics over all trajectories unless a fitted `standardizer` is given)."""
        if standardizer is None:
            allx = self.concatenated()
            std = allx.std(axis=0)
            standardizer = Standardizer(allx.mean(axis=0), np.where(std > 0, std, 1.0))
        return Dataset([standardizer.transform(x) for x in self.trajectories], self.dt, self.names), standardizer

    def split(self, fraction: float = 0.8) -> tuple["Dataset", "Dataset"]:
        """Split every trajectory by time: the first `fraction` of each is train, the rest test."""
        if not 0 < fraction < 1:
            raise ValueError(f"split fraction must lie strictly between 0 and 1, got {fraction}")
        train, test = [], []
        for i, x in enumerate(self.trajectories):
            k = int(round(fraction * x.shape[0]))
            if k < 2 or x.shape[0] - k < 2:
                raise ValueError(
                    f"trajectory {i} has {x.shape[0]} time steps: too short to split at {fraction} "
                    "(each part needs at least 2)"
                )
            train.append(x[:k])
            test.append(x[k:])
        return Dataset(train, self.dt, self.names), Dataset(test, self.dt, self.names)

    # -- files ------------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path, dt: float | None = None, names: Sequence[str] | None = None) -> "Dataset":
        """Read a dataset from `.npy`, `.npz`, `.csv` or `.csv.gz`.

        - `.npy`: one (T, N) or (B, T, N) array (or (T,) for a single variable).
        - `.npz`: arrays named `traj_0, traj_1, ...` (as written by `save`), else every array in file order; an
          optional scalar `dt` and string array `names` are used when present.
        - `.csv` / `.csv.gz`: one trajectory, one column per variable; a first line that is not numeric is a
          header of names. A line `# dt = 0.01` at the top is read as dt.
        `dt` given here overrides any dt stored in the file; if neither is present a ValueError asks for it.
        """
        path = Path(path)
        src = str(path)
        if not path.exists():
            raise FileNotFoundError(f"{src}: no such file")
        suffix = ".csv.gz" if path.name.endswith(".csv.gz") else path.suffix.lower()
        if suffix not in _EXTENSIONS:
            raise ValueError(f"{src}: unknown extension {suffix!r}; expected one of {', '.join(_EXTENSIONS)}")
        file_dt, file_names = None, None
        try:
            magic = _magic(path)
            if suffix == ".npy" and not magic.startswith(b"\x93NUMPY"):
                raise ValueError(f"{src}: not a NumPy .npy file (it lacks the .npy header); text data belongs in a "
                                 ".csv file")
            if suffix == ".npz" and not magic.startswith(b"PK"):
                raise ValueError(f"{src}: not a NumPy .npz archive (it is not a zip file); write it with "
                                 "numpy.savez or Dataset.save")
            if suffix == ".npy":
                arr = np.load(path, allow_pickle=False)
                trajs = list(arr) if arr.ndim == 3 else [arr]
            elif suffix == ".npz":
                with np.load(path, allow_pickle=False) as z:
                    keys = [k for k in z.files if k not in ("dt", "names")]
                    traj_keys = sorted((k for k in keys if k.startswith("traj_")), key=lambda k: int(k[5:]))
                    trajs = [z[k] for k in (traj_keys or keys)]
                    if "dt" in z.files:
                        file_dt = float(z["dt"])
                    if "names" in z.files:
                        file_names = [str(s) for s in z["names"]]
            else:
                trajs, file_dt, file_names = _read_csv(path, suffix)
        except Exception as exc:  # corrupt archives, pickled objects, decoding errors
            if str(exc).startswith(src):
                raise
            raise ValueError(f"{src}: could not read as {suffix} ({type(exc).__name__}: {exc})") from exc
        if not trajs:
            raise ValueError(f"{src}: contains no arrays")
        use_dt = dt if dt is not None else file_dt
        if use_dt is None:
            raise ValueError(f"{src}: no sampling step stored in the file; pass dt=... (e.g. Dataset.load(path, dt=0.01))")
        return cls(trajs, use_dt, names if names is not None else file_names, source=src)

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write to `.npz` (all trajectories, dt, names), `.npy` (equal lengths only) or `.csv`/`.csv.gz` (one
        trajectory). Refuses to replace an existing file unless `overwrite=True`."""
        from ._files import check_writable, write_bytes

        path = check_writable(path, overwrite=overwrite, flag="overwrite=True (--force)")
        suffix = ".csv.gz" if path.name.endswith(".csv.gz") else path.suffix.lower()
        if suffix not in _EXTENSIONS:
            raise ValueError(f"{path}: unknown extension {suffix!r}; expected one of {', '.join(_EXTENSIONS)}")
        buf = io.BytesIO()
        if suffix == ".npz":
            arrays = {f"traj_{i}": x for i, x in enumerate(self.trajectories)}
            np.savez(buf, dt=np.float64(self.dt), names=np.array(self.names), **arrays)
        elif suffix == ".npy":
            if len(set(self.lengths)) != 1:
                raise ValueError(f"{path}: .npy holds equal-length trajectories only (lengths {self.lengths}); use .npz")
            np.save(buf, np.stack(self.trajectories) if len(self) > 1 else self.trajectories[0])
        else:
            if len(self) != 1:
                raise ValueError(f"{path}: CSV holds one trajectory, this dataset has {len(self)}; use .npz")
            text = io.StringIO()
            text.write(f"# dt = {self.dt!r}\n")
            np.savetxt(text, self.trajectories[0], delimiter=",", header=",".join(self.names), comments="")
            data = text.getvalue().encode()
            buf.write(gzip.compress(data, mtime=0) if suffix == ".csv.gz" else data)
        return write_bytes(path, buf.getvalue(), overwrite=overwrite, flag="overwrite=True (--force)")


def _magic(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(8)


def _read_csv(path: Path, suffix: str):
    opener = gzip.open if suffix == ".csv.gz" else open
    with opener(path, "rt") as f:
        lines = [(no, ln.strip()) for no, ln in enumerate(f, start=1) if ln.strip()]
    file_dt = None
    while lines and lines[0][1].startswith("#"):
        comment = lines.pop(0)[1].lstrip("#").strip()
        if comment.replace(" ", "").startswith("dt="):
            file_dt = float(comment.split("=", 1)[1])
    names = None
    if lines and not all(_is_float(v) for v in lines[0][1].split(",")):
        names = [s.strip() for s in lines.pop(0)[1].split(",")]
    if not lines:
        raise ValueError(f"{path}: no data rows")
    rows = []
    for no, line in lines:
        cells = line.split(",")
        bad = [v for v in cells if not _is_float(v)]
        if bad:
            raise TypeError(f"{path}: line {no}: not numeric: {bad[0]!r}")
        rows.append([float(v) for v in cells])
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"{path}: rows have different numbers of columns: {sorted(widths)}")
    return [np.array(rows)], file_dt, names


def _is_float(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False
