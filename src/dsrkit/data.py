"""Datasets: one or several measured trajectories sharing a sampling step.

A `Dataset` holds a list of float64 arrays, each (T_i, N), a scalar `dt` and N variable names. It loads and saves
`.npy`, `.npz`, `.csv` and `.csv.gz`, validates what it is given (shape, numeric, finite, matching N), standardises
with remembered mean/std, and splits by time.

`Dataset.load` reads data as users hold it: a time column (named like `t`, `time_s`, `time (ms)`, or any evenly
spaced increasing column) gives dt and is not a variable; `columns` keeps a subset of variables; `series_col` splits
one table into trajectories by an id column. What was read is recorded in `Dataset.provenance`, a JSON-serialisable
dict (see `Dataset.load`), and `Dataset.describe()` prints it.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import gzip
import io
import re
import warnings
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

_EXTENSIONS = (".npy", ".npz", ".csv", ".csv.gz")

STEP_RTOL = 1e-3
"""Time stamps are evenly spaced when every step lies within STEP_RTOL * |median step| of the median step; the same
relative tolerance decides whether a given dt agrees with a time column. 1e-3 admits timestamps printed with a few
significant digits fewer than float64 holds and rejects any real irregular sampling."""


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
    arr = _numeric_2d(X, source=source, index=index)
    if not np.all(np.isfinite(arr)):
        where = _describe(source) + (f"trajectory {index}: " if index is not None else "")
        raise ValueError(f"{where}{_first_nonfinite(arr)}; clean or interpolate the data first")
    return arr


def _numeric_2d(X, *, source: str | None = None, index: int | None = None) -> np.ndarray:
    """`as_trajectory` without the finiteness check: (T,) or (T, N) numeric -> (T, N) float64, non-empty."""
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
    return arr.astype(np.float64)


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
        provenance: what was read and how (set by `load`; JSON-serialisable); copied, default {}.

    Attributes:
        trajectories: list of (T_i, N) float64 arrays; dt: float; names: list of str; dim: N; provenance: dict.
    """

    def __init__(self, trajectories, dt: float = 1.0, names: Sequence[str] | None = None, *, source: str | None = None,
                 provenance: dict | None = None):
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
        self.provenance: dict = copy.deepcopy(provenance) if provenance else {}

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

    def constant_variables(self) -> list[str]:
        """Names of the variables with zero spread over all trajectories (they carry no dynamics)."""
        return [self.names[j] for j in _constant_indices(self.trajectories)]

    def clock_variables(self) -> list[str]:
        """Names of the variables that are strictly increasing and evenly spaced (`STEP_RTOL`) in every trajectory
        of at least 3 samples: time stamps, not state variables (the rule `load` infers a time column by)."""
        return [self.names[j] for j in _clock_indices(self.trajectories)]

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
        out = Dataset([standardizer.transform(x) for x in self.trajectories], self.dt, self.names,
                      provenance=self._derived(standardized=True))
        return out, standardizer

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
        notes = [{"part": part, "fraction": float(fraction)} for part in ("train", "test")]
        train_ds, test_ds = (Dataset(x, self.dt, self.names, provenance=self._derived(split=note))
                             for x, note in zip((train, test), notes))
        return train_ds, test_ds

    def _derived(self, **notes) -> dict:
        """A copy of the provenance with `notes` added (nothing is recorded for a dataset that has no provenance)."""
        return {**copy.deepcopy(self.provenance), **notes} if self.provenance else {}

    def describe(self) -> str:
        """A few human-readable lines: where the data came from, variables, trajectory lengths, dt, what was dropped."""
        p = self.provenance
        lines = [f"read from {p['path']} ({p.get('format', '?')})"] if p.get("path") else []
        lines.append(f"variables ({self.dim}): {', '.join(self.names)}")
        lines.append(_lengths_line(self.lengths, p.get("series_column"), p.get("series_ids")))
        lines.append(f"dt = {self.dt:g}" + _dt_origin(p))
        dropped = p.get("dropped")
        if dropped is not None:
            listed = ", ".join(f"{d['column']!r} ({d['reason']})" for d in dropped)
            lines.append(f"dropped: {listed or 'nothing'}")
        if p.get("constant_columns"):
            lines.append(f"constant (zero spread): {', '.join(map(repr, p['constant_columns']))}")
        notes = [n for n in ("standardized",) if p.get(n)] + ([f"{p['split']['part']} part of a split at "
                                                               f"{p['split']['fraction']:g}"] if p.get("split") else [])
        if notes:
            lines.append("then " + ", ".join(notes))
        return "\n".join(lines)

    # -- files ------------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path, dt: float | None = None, names: Sequence[str] | None = None, *, time_col=None,
             columns=None, series_col=None) -> "Dataset":
        """Read a dataset from `.npy`, `.npz`, `.csv` or `.csv.gz`, as the user holds it.

        Files:
        - `.npy`: one (T, C) or (B, T, C) array (or (T,) for a single column).
        - `.npz`: arrays named `traj_0, traj_1, ...` (as written by `save`), else every array in file order, each a
          trajectory; an optional scalar `dt` and string array `names` (one per column) are used when present. A 1-D
          array named like time (`t`, `time`, ...) or named by `time_col` holds time stamps, not a trajectory.
        - `.csv` / `.csv.gz`: one table, one column per variable, separated by commas (or semicolons, tabs,
          spaces); a first line that is not numeric is a header of names; lines `# dt = 0.01` before the data
          give dt; other `#` lines are comments. ISO date-times (2024-01-31T12:00:00.5) are read in a time column.

        Columns (C in the file; a name, or an index counting from 0 -- a string of digits is read as an index
        when no column has that name):
            time_col: the column (or `.npz` array) of time stamps. None infers it: a column whose header is a time
                name (t, time, time_s, t[s], time (ms), timestamp, seconds, ... any case) or, when the file stores
                no dt, one that is strictly increasing and evenly spaced in every trajectory (>= 3 rows). False:
                there is none. The time column is not a variable; dt is its mean step (rounded to 12 significant
                digits), and stamps must be evenly spaced (`STEP_RTOL`) per trajectory, else ValueError.
            series_col: a column of trajectory ids (numbers, or text in a CSV): one trajectory per id, in order
                of first appearance, rows in file order. Not a variable.
            columns: the variables to keep, in this order: names, or indices into the columns left after the time
                and series columns are removed.
            names: one name per variable kept (renames them), or, for a file without a header, one per file column.
        A column named '', index, Unnamed: 0, row or row_id that holds increasing whole numbers (a pandas index) is
        a row index: never the time column, and dropped unless `columns` names it.

        `dt` given here is used when there is no time column; with a time column it must agree with it (as must a
        dt stored in the file). Without any dt a ValueError says how to give one. Constant columns are kept and
        listed in the provenance.

        Sets `provenance` (JSON-serialisable): path, format, header, file_columns, variables, dropped
        ([{column, index, reason}] with reason "time column", "series id", "not selected" or "row index"),
        time_column ({name, index, inferred, how, stamps} or None), dt, dt_source ("time column", "file",
        "argument"), n_trajectories, lengths, series_column, series_ids, constant_columns.
        """
        return _load(cls, path, dt, names, time_col, columns, series_col)

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


# -- reading files -----------------------------------------------------------------------------------------------

_TIME_NAMES = (r"t|time|times|time_?stamps?|seconds?|secs?|elapsed(?:_?time)?|date_?time")
_TIME_UNITS = (r"s|secs?|seconds?|ms|msecs?|milliseconds?|us|µs|μs|microseconds?|ns|nanoseconds?|mins?|minutes?"
               r"|h|hrs?|hours?|d|days?")
_TIME_RE = re.compile(rf"(?:{_TIME_NAMES})(?:\s*[_\-.]?\s*[\[(]?\s*(?:{_TIME_UNITS})\s*[\])]?)?", re.IGNORECASE)
_INDEX_RE = re.compile(r"|index|unnamed:?\s*\d*|row|row_?id", re.IGNORECASE)


def _is_time_name(name: str | None) -> bool:
    """True for usual time-column names: t, time, time_s, t[s], time (ms), timestamp, seconds, ... (any case)."""
    return name is not None and _TIME_RE.fullmatch(name.strip().strip('"')) is not None


@dataclasses.dataclass
class _Raw:
    """A file's content before any column is interpreted.

    blocks: (T_i, C) float64 arrays, one per stored array (a CSV is one block; its text cells are NaN here);
    header: C column names from the file, or None; fmt: "csv", "csv.gz", "npy" or "npz"; file_dt: stored dt;
    text: CSV column index -> ((T,) str array, first row that is not a number); time_array: (.npz key, (T,) stamps);
    lines, start: the CSV text lines and the index of the first line after the header, for line numbers.
    """

    blocks: list
    header: list | None
    fmt: str
    file_dt: float | None = None
    text: dict = dataclasses.field(default_factory=dict)
    time_array: tuple | None = None
    lines: list | None = None
    start: int = 0

    @property
    def width(self) -> int:
        return self.blocks[0].shape[1]

    def where(self, row: int) -> str:
        """`line N` of a CSV data row (0-based over all data rows), `row N` elsewhere."""
        if self.lines is None:
            return f"row {row}"
        count = -1
        for k in range(self.start, len(self.lines)):
            cell = self.lines[k].strip()
            if cell and not cell.startswith("#"):
                count += 1
                if count == row:
                    return f"line {k + 1}"
        return f"row {row}"


@dataclasses.dataclass
class _Time:
    """The time stamps: a column `index` of the blocks, or an .npz array `key`; how: given, name or values."""

    label: str
    how: str
    index: int | None = None
    key: str | None = None
    stamps: str = "numbers"


def _load(cls, path, dt, names, time_col, columns, series_col):
    """`Dataset.load`: read the file, find the time and series columns, select variables, settle dt, record it."""
    path = Path(path)
    src = str(path)
    if dt is not None and not _positive(dt):
        raise ValueError(f"{src}: dt must be a positive finite number, got {dt!r}")
    if time_col is True:
        raise ValueError(f"{src}: time_col=True names no column; give a column name or index, None to infer or False")
    raw = _read(path, src, time_col)
    names = None if names is None else [str(n) for n in names]
    labels, named = _labels(raw, names, src)
    j_series = None if series_col is None else _file_column(series_col, labels, named, src, "series_col")
    time = _explicit_or_named_time(raw, time_col, labels, named, j_series, src)
    _check_text(raw, labels, j_series, time, src)
    trajs, rows, ids = _split_series(raw, j_series, labels, src)
    index_cols = _row_index_columns(raw, labels, named, j_series, time)
    if time is None and time_col is None and raw.file_dt is None:
        time = _time_by_values(trajs, labels, {j_series, *index_cols}, raw.text)
    col_dt = None if time is None else _time_step(raw, time, trajs, rows, ids, src)
    use_dt, dt_source = _settle_dt(dt, raw.file_dt, col_dt, time, src)
    dropped = [{"column": labels[j], "index": j, "reason": "series id"} for j in [j_series] if j is not None]
    if time is not None:
        dropped.append({"column": time.label, "index": time.index, "reason": "time column"})
    variables = [j for j in range(raw.width) if j not in {d["index"] for d in dropped}]
    kept = _select(columns, [j for j in variables if columns is not None or j not in index_cols], labels, named, src)
    dropped += [{"column": labels[j], "index": j, "reason": "row index" if j in index_cols else "not selected"}
                for j in variables if j not in kept]
    final = _final_names(names, labels, named, raw.header is None and names is not None and len(names) == raw.width,
                         kept, src)
    data = [b[:, kept] for b in trajs]
    prov = _provenance(src, raw, labels, named, final, dropped, time, use_dt, dt_source, data, j_series, ids, kept)
    return cls(data, use_dt, final, source=src, provenance=prov)


def _positive(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) and bool(np.isfinite(x)) \
        and x > 0


def _read(path: Path, src: str, time_col) -> _Raw:
    """Check the path and extension and read the file into a `_Raw`; every error names the file."""
    if not path.exists():
        raise FileNotFoundError(f"{src}: no such file")
    suffix = ".csv.gz" if path.name.endswith(".csv.gz") else path.suffix.lower()
    if suffix not in _EXTENSIONS:
        raise ValueError(f"{src}: unknown extension {suffix!r}; expected one of {', '.join(_EXTENSIONS)}")
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
            raw = _Raw(list(arr) if arr.ndim == 3 else [arr], None, "npy")
        elif suffix == ".npz":
            raw = _read_npz(path, src, time_col)
        else:
            raw = _read_csv(path, suffix, src)
    except Exception as exc:  # corrupt archives, pickled objects, decoding errors
        if str(exc).startswith(src):
            raise
        raise ValueError(f"{src}: could not read as {suffix} ({type(exc).__name__}: {exc})") from exc
    if not raw.blocks:
        raise ValueError(f"{src}: contains no arrays")
    raw.blocks = _blocks(raw.blocks, src)
    return raw


def _blocks(arrays: list, src: str) -> list:
    """Each array as a (T_i, C) float64 block (numeric, non-empty; finiteness is checked later), all with one C."""
    blocks = [_numeric_2d(a, source=src, index=i if len(arrays) > 1 else None) for i, a in enumerate(arrays)]
    if len({b.shape[1] for b in blocks}) != 1:
        shapes = ", ".join(str(b.shape) for b in blocks)
        raise ValueError(f"{src}: all trajectories must have the same number of variables N; got shapes {shapes}")
    return blocks


def _read_npz(path: Path, src: str, time_col) -> _Raw:
    """Trajectory arrays, stored dt and names, and a 1-D time array (named `time_col`, or like time when inferring)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k not in ("dt", "names")}
        file_dt = float(z["dt"]) if "dt" in z.files else None
        header = [str(s) for s in z["names"]] if "names" in z.files else None
    key = None
    if isinstance(time_col, str) and time_col in arrays:
        key = time_col
        if arrays[key].ndim != 1:
            raise ValueError(f"{src}: time_col={key!r} is an array of shape {arrays[key].shape}; expected a 1-D "
                             "array of time stamps (or the name of a column)")
    elif time_col is None:
        key = next((k for k, a in arrays.items() if a.ndim == 1 and _is_time_name(k) and len(arrays) > 1), None)
    time_array = None if key is None else (key, arrays.pop(key))
    traj_keys = sorted((k for k in arrays if re.fullmatch(r"traj_\d+", k)), key=lambda k: int(k[5:]))
    blocks = [arrays[k] for k in (traj_keys or arrays)]
    return _Raw(blocks, header, "npz", file_dt, time_array=time_array)


def _read_csv(path: Path, suffix: str, src: str) -> _Raw:
    """One table: leading `# dt = ...` comments, an optional header line, then rows of numbers (text allowed in
    columns that `_check_text` accepts: series ids, date-time stamps)."""
    opener = gzip.open if suffix == ".csv.gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        lines = f.read().splitlines()
    i, file_dt = 0, None
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
        file_dt = _comment_dt(lines[i], i + 1, src, file_dt)
        i += 1
    content = [k for k in range(i, min(len(lines), i + 64))
               if lines[k].strip() and not lines[k].lstrip().startswith("#")]
    if not content:
        raise ValueError(f"{src}: no data rows")
    delimiter = _sniff(lines[content[1] if len(content) > 1 else content[0]])
    first = _cells(lines[content[0]], delimiter)
    second = _cells(lines[content[1]], delimiter) if len(content) > 1 else None
    header = first if _is_header(first, second) else None
    start = content[0] + 1 if header is not None else content[0]
    if header is not None and len(content) < 2:
        raise ValueError(f"{src}: no data rows (only the header {lines[content[0]]!r})")
    block, text = _parse_rows(lines[start:], delimiter, src)
    if header is not None and len(header) != block.shape[1]:
        raise ValueError(f"{src}: the header has {len(header)} names ({', '.join(map(repr, header))}) but the data "
                         f"rows have {block.shape[1]} columns; give one name per column")
    fmt = suffix.lstrip(".")
    return _Raw([block], header, fmt, file_dt, text=text, lines=lines, start=start)


def _comment_dt(line: str, no: int, src: str, file_dt):
    """dt from a `# dt = 0.01` line, else `file_dt` unchanged."""
    comment = line.strip().lstrip("#").strip()
    if not comment.replace(" ", "").lower().startswith("dt="):
        return file_dt
    value = comment.split("=", 1)[1].strip()
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{src}: line {no}: cannot read dt from {line.strip()!r}; expected a line like "
                         "'# dt = 0.01'") from None


def _sniff(line: str) -> str | None:
    """The most frequent of , ; tab in `line`; None (any whitespace) for space-separated numbers; ',' otherwise."""
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    if counts[best]:
        return best
    return None if len(line.split()) > 1 else ","


def _cells(line: str, delimiter: str | None) -> list:
    """One line split into stripped cells (quotes removed)."""
    if delimiter is None:
        return [c.strip('"') for c in line.split()]
    return [c.strip() for c in next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))]


def _is_header(first: list, second: list | None) -> bool:
    """A first line is a header when it is all text, or has text where the next line has a number (so a text
    column of series ids does not make every line look like a header)."""
    numeric = [_is_float(c) for c in first]
    if all(numeric):
        return False
    if second is None or not any(numeric):
        return True
    return any(not n and (j >= len(second) or _is_float(second[j])) for j, n in enumerate(numeric))


def _parse_rows(lines: list, delimiter: str | None, src: str) -> tuple:
    """Rows of cells -> ((T, C) float64 block, {column: ((T,) str, first non-numeric row)}); text cells are NaN.

    Numbers go through numpy's C parser; only a file with text cells or ragged rows takes a slower path."""
    kw = dict(delimiter=delimiter, comments="#", quotechar='"', ndmin=2)
    try:
        return np.loadtxt(lines, dtype=np.float64, **kw), {}
    except ValueError:
        pass
    try:
        cells = np.char.strip(np.loadtxt(lines, dtype=str, **kw))
    except ValueError:
        raise _ragged(lines, delimiter, src) from None
    block, text = np.full(cells.shape, np.nan), {}
    for j in range(cells.shape[1]):
        try:
            block[:, j] = cells[:, j].astype(np.float64)
        except ValueError:
            bad = next(r for r, c in enumerate(cells[:, j]) if not _is_float(c))
            text[j] = (np.char.strip(cells[:, j], '"'), bad)
    return block, text


def _ragged(lines: list, delimiter: str | None, src: str) -> ValueError:
    """The error for rows of different widths (found by a plain scan), naming the first line that differs."""
    widths = []
    for no, line in enumerate(lines, start=1):
        body = line.split("#", 1)[0].strip()
        if body:
            widths.append((len(_cells(body, delimiter)), no))
    first = next(((w, no) for w, no in widths if w != widths[0][0]), None)
    if first is None:
        sep = repr(delimiter) if delimiter else "whitespace"
        return ValueError(f"{src}: could not parse the rows as {sep}-separated numbers")
    return ValueError(f"{src}: rows have different numbers of columns: {sorted({w for w, _ in widths})} (the first "
                      f"data row has {widths[0][0]}, a row {first[1] - widths[0][1]} line(s) later has {first[0]})")


def _labels(raw: _Raw, names, src: str) -> tuple:
    """Column labels for messages and selection, and whether they are real names (a header, stored or given
    names) rather than `column j`."""
    if raw.header is not None:
        if len(raw.header) != raw.width:
            raise ValueError(f"{src}: {len(raw.header)} stored name(s) {raw.header} for {raw.width} column(s)")
        return [h.strip('"') or f"column {j}" for j, h in enumerate(raw.header)], True
    if names is not None and len(names) == raw.width:
        return list(names), True
    return [f"column {j}" for j in range(raw.width)], False


def _available(labels: list, indices, named: bool) -> str:
    """`0: 'x', 1: 'y'`, or `indices 0, 1 (the file has no header)`."""
    if named:
        return ", ".join(f"{k}: {labels[j]!r}" for k, j in enumerate(indices))
    return f"indices {', '.join(str(k) for k, _ in enumerate(indices))} (the file has no header)"


def _file_column(spec, labels: list, named: bool, src: str, what: str) -> int:
    """A file column given by name, or by index (int, or a string of digits that is not a name)."""
    j = _position(spec, labels if named else [], len(labels))
    if j is None:
        raise ValueError(f"{src}: {what}={spec!r} is not a column of the file; expected a name or index of one of "
                         f"its columns, {_available(labels, range(len(labels)), named)}")
    return j


def _position(spec, names: list, n: int) -> int | None:
    """Index of `spec` among n items: its position in `names`, or the integer it is (negative counts from the end)."""
    if isinstance(spec, str) and spec in names:
        return names.index(spec)
    if isinstance(spec, str) and re.fullmatch(r"-?\d+", spec.strip()):
        spec = int(spec)
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool) and -n <= spec < n:
        return int(spec) % n
    return None


def _explicit_or_named_time(raw: _Raw, time_col, labels, named, j_series, src) -> _Time | None:
    """The time column given by the user, or an .npz time array, or the first column with a time name."""
    if raw.time_array is not None:
        return _Time(raw.time_array[0], "given" if time_col is not None else "name", key=raw.time_array[0])
    if time_col is False:
        return None
    if time_col is not None:
        j = _file_column(time_col, labels, named, src, "time_col")
        if j == j_series:
            raise ValueError(f"{src}: column {labels[j]!r} cannot be both the time column and the series id column")
        return _Time(labels[j], "given", index=j)
    j = next((j for j in range(raw.width) if named and j != j_series and _is_time_name(labels[j])), None)
    return None if j is None or raw.width < 2 + (j_series is not None) else _Time(labels[j], "name", index=j)


def _check_text(raw: _Raw, labels, j_series, time: _Time | None, src: str) -> None:
    """Text is allowed in the series column and, as ISO date-times, in the time column; elsewhere it is a TypeError
    naming the first cell."""
    time_j = None if time is None else time.index
    if time_j in raw.text:
        _read_datetimes(raw, time, labels, src)
    bad = [(r, j) for j, (_, r) in raw.text.items() if j not in (j_series, time_j)]
    if bad:
        r, j = min(bad)
        value = raw.text[j][0][r]
        spec = labels[j] if raw.header is not None else j
        hint = (f" ({labels[j]} holds text: if it names trajectories, pass series_col={spec!r})"
                if r == 0 and j_series is None else "")
        raise TypeError(f"{src}: {raw.where(r)}: not numeric: {str(value)!r}{hint}")


def _read_datetimes(raw: _Raw, time: _Time, labels, src: str) -> None:
    """Replace a text time column by seconds since its first stamp (ISO 8601 date-times)."""
    cells, r = raw.text.pop(time.index)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stamps = np.array(cells, dtype="datetime64[ns]")
    except (ValueError, TypeError):
        raise ValueError(f"{src}: {raw.where(r)}: the time column {time.label!r} holds {str(cells[r])!r}, which is "
                         "neither a number nor an ISO 8601 date-time (2024-01-31T12:00:00.5); give the stamps in "
                         "seconds, or pass time_col=False and dt=...") from None
    raw.blocks[0][:, time.index] = (stamps - stamps[0]) / np.timedelta64(1, "s")
    time.stamps = "date-times (seconds)"


def _split_series(raw: _Raw, j_series, labels, src: str) -> tuple:
    """(trajectories, their row indices in the file, ids or None): one per block, or one per series id."""
    if j_series is None:
        return raw.blocks, [np.arange(b.shape[0]) for b in raw.blocks], None
    if len(raw.blocks) != 1:
        raise ValueError(f"{src}: series_col splits one table, but the file holds {len(raw.blocks)} arrays "
                         "(already one per trajectory); drop series_col")
    block = raw.blocks[0]
    ids = raw.text[j_series][0] if j_series in raw.text else block[:, j_series]
    missing = np.nonzero(np.char.str_len(ids) == 0 if ids.dtype.kind == "U" else ~np.isfinite(ids))[0]
    if missing.size:
        raise ValueError(f"{src}: {raw.where(int(missing[0]))}: the series column {labels[j_series]!r} has no id; "
                         "expected a trajectory id on every row")
    keys, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    groups = np.split(np.argsort(rank[inverse], kind="stable"), np.cumsum(np.bincount(rank[inverse]))[:-1])
    return [block[g] for g in groups], groups, [_json_id(keys[o]) for o in order]


def _json_id(value):
    """A series id as a JSON value: str, or int when the number is whole."""
    if isinstance(value, (str, np.str_)):
        return str(value)
    return int(value) if float(value).is_integer() else float(value)


def _row_index_columns(raw: _Raw, labels, named, j_series, time) -> list:
    """Indices of the columns that are a row index: named '' (as pandas writes), index, Unnamed: 0, row or row_id,
    holding strictly increasing whole numbers. They are never a time column, nor a variable unless selected."""
    out = []
    for j in range(raw.width):
        if not named or j in (j_series, None if time is None else time.index) or j in raw.text:
            continue
        if _INDEX_RE.fullmatch(raw.header[j].strip().strip('"') if raw.header else labels[j]) is None:
            continue
        if all(np.all(np.diff(b[:, j]) > 0) and np.all(b[:, j] == np.round(b[:, j])) for b in raw.blocks):
            out.append(j)
    return out


def _time_by_values(trajs, labels, excluded: set, text: dict) -> _Time | None:
    """The first column that is strictly increasing and evenly spaced in every trajectory (>= 3 rows each), with
    the same step in all; None unless another column would be left as a variable."""
    width = trajs[0].shape[1]
    if width - len(excluded - {None}) < 2:
        return None
    for j in range(width):
        if j in excluded or j in text:
            continue
        steps = [_even_step(b[:, j]) if b.shape[0] >= 3 else None for b in trajs]
        if all(h is not None for h in steps) and max(steps) - min(steps) <= STEP_RTOL * min(steps):
            return _Time(labels[j], "values", index=j)
    return None


def _constant_indices(trajs) -> list[int]:
    """Columns with zero spread over all the (T_i, N) arrays."""
    allx = np.concatenate(list(trajs), axis=0)
    return [int(j) for j in np.nonzero(np.ptp(allx, axis=0) == 0)[0]]


def _clock_indices(trajs) -> list[int]:
    """Columns that are strictly increasing and evenly spaced in every (T_i, N) array of at least 3 rows."""
    long = [b for b in trajs if b.shape[0] >= 3]
    if not long:
        return []
    return [j for j in range(long[0].shape[1]) if all(_even_step(b[:, j]) is not None for b in long)]


def _first_uneven(t: np.ndarray) -> int | None:
    """Index k of the first step t[k+1] - t[k] that is not positive or strays from the median step by more than
    STEP_RTOL * |median|; None when the (T,) stamps are strictly increasing and evenly spaced."""
    steps = np.diff(t)
    h = np.median(steps)
    bad = ~((steps > 0) & (np.abs(steps - h) <= STEP_RTOL * abs(h)))
    return int(np.argmax(bad)) if bad.any() else None


def _even_step(t: np.ndarray) -> float | None:
    """The mean step of (T,) evenly spaced increasing stamps (T >= 2), else None."""
    if t.size < 2 or not np.all(np.isfinite(t)) or _first_uneven(t) is not None:
        return None
    return float((t[-1] - t[0]) / (t.size - 1))


def _time_step(raw: _Raw, time: _Time, trajs, rows, ids, src: str) -> float:
    """dt from the time stamps, checked per trajectory: pooled mean step, rounded to 12 significant digits."""
    if time.key is not None:
        stamps = _numeric_2d(raw.time_array[1], source=src)[:, 0]
        parts = [(stamps, np.arange(stamps.size), "")]
    else:
        which = [f" (trajectory {k!r})" for k in ids] if ids else [f" (trajectory {i})" for i in range(len(trajs))]
        parts = [(b[:, time.index], r, which[i] if len(trajs) > 1 else "") for i, (b, r) in enumerate(zip(trajs, rows))]
    parts = [part for part in parts if part[0].size >= 2]
    if not parts:
        raise ValueError(f"{src}: the time column {time.label!r} needs at least 2 rows in a trajectory to give dt")
    for t, r, which in parts:
        _check_stamps(raw, time, t, r, which, src)
    steps = [(t[-1] - t[0]) / (t.size - 1) for t, _, _ in parts]
    span, count = sum(t[-1] - t[0] for t, _, _ in parts), sum(t.size - 1 for t, _, _ in parts)
    if max(steps) - min(steps) > STEP_RTOL * min(steps):
        listed = ", ".join(f"{which.strip(' ()') or 'all'}: {h:.6g}" for (_, _, which), h in zip(parts, steps))
        raise ValueError(f"{src}: the trajectories are sampled with different steps ({listed}); dsrkit needs one "
                         "sampling step for all: resample first")
    return float(f"{span / count:.12g}")


def _check_stamps(raw: _Raw, time: _Time, t: np.ndarray, rows, which: str, src: str) -> None:
    """ValueError unless the (T,) stamps of one trajectory (`which`, e.g. " (trajectory 'a')") are finite, strictly
    increasing and evenly spaced; it names the column, the step range and the first row where spacing breaks."""
    what = f"the time column {time.label!r}{which}"
    if not np.all(np.isfinite(t)):
        r = int(rows[np.argmin(np.isfinite(t))])
        raise ValueError(f"{src}: {raw.where(r)}: {what} has a missing or infinite stamp; expected a number on every "
                         "row")
    k = _first_uneven(t)
    if k is None:
        return
    steps = np.diff(t)
    at = f"{raw.where(int(rows[k + 1]))}, where t goes from {t[k]:.10g} to {t[k + 1]:.10g}"
    hint = f"; if {time.label!r} is not time, pass time_col=False" if time.how != "given" else ""
    if steps[k] <= 0:
        problem = f"is not strictly increasing: the first step that is not positive is at {at}"
        hint += ("; if the time restarts because the rows hold several trajectories, give their id column "
                 "(series_col=...)" if steps[k] < 0 and time.key is None else "")
    else:
        problem = f"is not evenly spaced: the first step off the median by more than {STEP_RTOL:g} of it is at {at}"
        small = np.abs(steps - np.median(steps)).max() <= 0.1 * abs(np.median(steps))
        hint += "; if the stamps are only coarsely rounded, pass time_col=False and dt=..." if small else ""
    raise ValueError(f"{src}: {what} {problem} (steps range from {steps.min():.6g} to {steps.max():.6g}, median "
                     f"{np.median(steps):.6g}). dsrkit needs evenly sampled data: resample to a fixed step first{hint}")


def _settle_dt(dt, file_dt, col_dt, time: _Time | None, src: str) -> tuple:
    """(dt, where it came from): the time column (which a given or stored dt must match), the argument, the file."""
    if col_dt is not None:
        how = {"given": "", "name": ", recognised by its name", "values": ", inferred from its evenly spaced values"}
        for value, origin in ((dt, "dt given"), (file_dt, "dt stored in the file")):
            if value is not None and abs(value - col_dt) > STEP_RTOL * col_dt:
                raise ValueError(f"{src}: the {origin} ({value!r}) disagrees with the step of the time column "
                                 f"{time.label!r}{how[time.how]} ({col_dt!r}); drop one of them, or pass "
                                 "time_col=False if that column is not time")
        return col_dt, "time column"
    if dt is not None:
        return float(dt), "argument"
    if file_dt is not None:
        return file_dt, "file"
    raise ValueError(f"{src}: no sampling step known (the file stores no dt and no time column was found); pass "
                     "dt=... (command line: --dt DT) or give a time column (--time-col NAME)")


def _select(columns, variables: list, labels, named: bool, src: str) -> list:
    """File indices of the variables kept: all, or `columns` (names or indices into `variables`) in that order."""
    if columns is None:
        if not variables:
            raise ValueError(f"{src}: no variables left after removing the time and series columns")
        return variables
    columns = [columns] if isinstance(columns, (str, int, np.integer)) else list(columns)
    kept = []
    for spec in columns:
        k = _position(spec, [labels[j] for j in variables] if named else [], len(variables))
        if k is None:
            others = [labels[j] for j in range(len(labels)) if j not in variables]
            note = f" ({', '.join(map(repr, others))} not being variables)" if others and named else ""
            raise ValueError(f"{src}: columns: {spec!r} is not a variable of the file; expected names or indices of "
                             f"{_available(labels, variables, named)}{note}")
        if variables[k] in kept:
            raise ValueError(f"{src}: columns: {labels[variables[k]]!r} is listed twice")
        kept.append(variables[k])
    if not kept:
        raise ValueError(f"{src}: columns=[] keeps no variable; expected at least one")
    return kept


def _final_names(names, labels, named, names_columns: bool, kept: list, src: str) -> list | None:
    """The variable names: `names` (one per variable kept, or naming every column of a file without a header:
    `names_columns`), else the file's names of the kept columns, else None (x0, x1, ...)."""
    if names_columns or names is None:
        return [labels[j] for j in kept] if named else None
    if len(names) != len(kept):
        raise ValueError(f"{src}: {len(names)} name(s) {names} for {len(kept)} variable(s) kept "
                         f"({', '.join(labels[j] for j in kept)}); give one name per variable")
    return names


def _provenance(src, raw: _Raw, labels, named, final, dropped, time, dt, dt_source, data, j_series, ids, kept) -> dict:
    """The JSON-serialisable record of what was read (see `Dataset.load`)."""
    final = final or [f"x{i}" for i in range(len(kept))]
    constant = [final[i] for i in _constant_indices(data)]
    return {
        "path": src,
        "format": raw.fmt,
        "header": named,
        "file_columns": list(labels),
        "variables": list(final),
        "dropped": [{**d, "index": None if d["index"] is None else int(d["index"])} for d in dropped],
        "time_column": None if time is None else {"name": time.label, "index": time.index,
                                                  "inferred": time.how != "given", "how": time.how,
                                                  "stamps": time.stamps},
        "dt": float(dt),
        "dt_source": dt_source,
        "n_trajectories": len(data),
        "lengths": [int(x.shape[0]) for x in data],
        "series_column": None if j_series is None else labels[j_series],
        "series_ids": ids,
        "constant_columns": constant,
    }


def _lengths_line(lengths: list, series_column, ids) -> str:
    """`1 trajectory of 500 samples` / `3 trajectories (series 'id': a, b, c) of 100, 120, 90 samples`."""
    n = len(lengths)
    shown = ", ".join(map(str, lengths)) if n <= 8 else f"{min(lengths)} to {max(lengths)} (total {sum(lengths)})"
    by = ""
    if series_column is not None and ids:
        listed = ", ".join(map(str, ids[:8])) + (", ..." if len(ids) > 8 else "")
        by = f" (by {series_column!r}: {listed})"
    return f"{n} trajector{'y' if n == 1 else 'ies'}{by} of {shown} samples"


def _dt_origin(p: dict) -> str:
    """` (from the time column 't', recognised by its name)` and the like; '' without a record."""
    source = p.get("dt_source")
    if source == "time column" and p.get("time_column"):
        tc = p["time_column"]
        how = {"name": ", recognised by its name", "values": ", inferred from its evenly spaced values"}
        return f" (from the time column {tc['name']!r}{how.get(tc['how'], '')})"
    return {"file": " (stored in the file)", "argument": " (given)"}.get(source, "")


def _is_float(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False
