"""Run directories: what `dsr train` and `dsr reconstruct` write, and how it is read back.

A run directory holds
    .dsrkit-run     the marker: this folder is a dsrkit run (JSON: kind, format version)
    config.json     what was trained and how (model, scheme, training arguments, data source, standardiser), its
                    provenance (`provenance`: version, command, seeds, date, platform, the data's SHA-256) and,
                    for `dsr train`, every member of the population (`members_of`)
    model.eqx       the selected model (`dsrkit.save`; `dsrkit.load(run_dir)` reads it back)
    history.csv     one row per epoch: loss, alpha, and the evaluation metrics where computed
    metrics.json    test metrics with the evaluation protocol (written by evaluation)
    figures/*.png   figures; report.html and analysis.json where a report was made

Safety rules (nothing the user saved is lost):
- `new_run(out, force)` builds the run in a temporary sibling folder and moves it to `out` only when everything
  succeeded. An existing non-empty `out` is refused unless `force`, and even with `force` it is replaced only if it
  is a dsrkit run (it carries the marker, or is a run written before the marker existed: config.json and
  model.eqx and nothing but run files); the working directory and its parents are never replaced.
- `update_run(run_dir)` (used by `dsr report` / `dsr analyze`) works on a copy and swaps it in on success, so a
  failure leaves the run exactly as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import csv
import datetime
import hashlib
import io
import json
import math
import os
import platform
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np

from . import _files
from .data import Standardizer

MARKER = ".dsrkit-run"
CONFIG = "config.json"
MODEL = "model.eqx"
HISTORY = "history.csv"
POPULATION = "population.csv"
METRICS = "metrics.json"
ANALYSIS = "analysis.json"
REPORT = "report.html"
FIGURES = "figures"
#: Everything a run directory may hold; a folder with anything else is not replaced by --force.
RUN_ENTRIES = frozenset({MARKER, CONFIG, MODEL, HISTORY, POPULATION, METRICS, ANALYSIS, REPORT, FIGURES})


def is_run_dir(path) -> bool:
    """True if `path` is a folder dsrkit wrote: it carries the marker, or (runs written before the marker) holds
    config.json and model.eqx and nothing that is not a run file."""
    path = Path(path)
    if not path.is_dir() or path.is_symlink():
        return False
    if (path / MARKER).is_file():
        return True
    entries = {p.name for p in path.iterdir()}
    return {CONFIG, MODEL} <= entries and entries <= RUN_ENTRIES


def check_replaceable(out, force: bool = False) -> None:
    """Raise FileExistsError unless `out` may become a new run (absent, empty, or with `force` a dsrkit run)."""
    out = Path(out)
    if out.is_symlink():
        raise FileExistsError(f"{out}: is a symbolic link; choose another --out")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out}: exists and is not a directory; choose another --out")
    if not out.exists() or not any(out.iterdir()):
        return
    if not force:
        raise FileExistsError(f"{out}: run directory already exists and is not empty; choose another --out or pass "
                              "--force to replace it")
    cwd = Path.cwd().resolve()
    resolved = out.resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise FileExistsError(f"{out}: is the working directory or one of its parents; --force never replaces it")
    if not is_run_dir(out):
        raise FileExistsError(f"{out}: is not a dsrkit run directory (no {MARKER} marker); --force only replaces "
                              "run directories, so choose another --out")


def _sibling(path: Path, tag: str) -> Path:
    return path.parent / f".{path.name}.{tag}-{uuid.uuid4().hex[:8]}"


def _swap_in(tmp: Path, out: Path) -> None:
    """Move the finished folder `tmp` to `out`, replacing an existing `out` (already checked replaceable)."""
    if out.exists():
        old = _sibling(out, "old")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


@contextlib.contextmanager
def new_run(out, *, force: bool = False):
    """Context manager: yields an empty temporary run folder (with the marker and figures/) next to `out`; on
    success it becomes `out`. On an exception the temporary folder is removed and `out` is untouched.

    Raises FileExistsError (before anything is written) when `out` may not be replaced; see the module docstring.
    """
    out = Path(out)
    check_replaceable(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(out, "new")
    tmp.mkdir()
    try:
        (tmp / FIGURES).mkdir()
        write_json(tmp / MARKER, {"kind": "dsrkit-run", "format_version": 1})
        yield tmp
        check_replaceable(out, force)  # something may have appeared there meanwhile
        _swap_in(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def update_run(run_dir):
    """Context manager: yields a copy of the run `run_dir`; on success the copy replaces it, on an exception the
    copy is discarded and the run is left exactly as it was."""
    run_dir = Path(run_dir)
    if not is_run_dir(run_dir):
        raise ValueError(f"{run_dir}: not a dsrkit run directory (expected a folder written by `dsr train` or "
                         f"`dsr reconstruct`, with {CONFIG} and {MODEL})")
    tmp = _sibling(run_dir, "upd")
    shutil.copytree(run_dir, tmp, symlinks=True)
    try:
        (tmp / FIGURES).mkdir(exist_ok=True)
        yield tmp
        _swap_in(tmp, run_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


def write_json(path, obj, *, overwrite: bool = True) -> Path:
    """JSON with NaN/inf written as null and NumPy types converted; atomic. Files inside a run directory are the
    run's own, so they are replaced by default (`overwrite=False` refuses an existing file)."""
    return _files.write_text(path, json.dumps(_jsonable(obj), indent=2) + "\n", overwrite=overwrite)


def read_json(path) -> dict:
    """A JSON object (dict) from `path`; ValueError names the file when it is not valid JSON or not an object."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: missing; is {path.parent} a dsrkit run directory?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a JSON object ({{...}}), got a JSON {type(obj).__name__}")
    return obj


def write_history(path, history: list[dict]) -> Path:
    """One CSV row per history entry; columns are the union of the entries' keys. Atomic."""
    cols: list[str] = []
    for row in history:
        cols += [k for k in row if k not in cols]
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    for row in history:
        w.writerow({k: _jsonable(row.get(k)) for k in cols})
    return _files.write_text(path, buf.getvalue(), overwrite=True)


def read_history(path) -> dict[str, np.ndarray]:
    """history.csv as column name -> float array (empty cells are NaN)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = rows[0].keys() if rows else []
    out = {}
    for c in cols:
        try:
            out[c] = np.array([float(r[c]) if r[c] not in ("", "None") else np.nan for r in rows])
        except (TypeError, ValueError):
            continue
    return out


# ------------------------------------------------------------------------------------------------ provenance


def data_checksum(data) -> dict:
    """SHA-256 of what a run was trained on: {"sha256": hex, "of": what was hashed}.

    data: a file path (str or Path; its bytes are hashed, as `sha256sum FILE` does), a `Dataset` (its source file
    when `Dataset.load` recorded one that still exists, else its arrays), a (T, N) / (B, T, N) array or a list of
    (T_i, N) arrays. Arrays are hashed as C-ordered float64 bytes, each preceded by its shape, so the same numbers
    in the same shapes give the same checksum on any machine.
    """
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file():
            raise ValueError(f"{path}: not a file; expected the data file the run was trained on")
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return {"sha256": h.hexdigest(), "of": f"file {path.resolve()}"}
    if hasattr(data, "trajectories"):  # a Dataset
        src = (getattr(data, "provenance", None) or {}).get("path")
        if src and Path(src).is_file() and not {"split", "standardized"} & set(data.provenance):
            return data_checksum(src)
        arrays = list(data.trajectories)
    elif isinstance(data, (list, tuple)):
        arrays = list(data)
    else:
        arrays = [data]
    h = hashlib.sha256()
    for x in arrays:
        x = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
        h.update(repr(x.shape).encode())
        h.update(x.tobytes())
    shapes = ", ".join(str(np.shape(x)) for x in arrays)
    return {"sha256": h.hexdigest(), "of": f"float64 array(s) of shape {shapes}"}


def command_line(argv=None) -> str:
    """The command that made a run: `argv` joined, else `sys.argv` when this process is the `dsr` command
    (the console script or `python -m dsrkit`), else "python API"."""
    if argv is None:
        first = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
        is_cli = first in ("dsr", "dsr.exe") or (first == "__main__.py" and Path(sys.argv[0]).parent.name == "dsrkit")
        if not is_cli:
            return "python API"
        argv = ["dsr", *sys.argv[1:]]
    import shlex

    return " ".join(shlex.quote(str(a)) for a in argv)


def provenance(data=None, argv=None, *, seed: int | None = None, seeds: int | None = None) -> dict:
    """Where a run came from, for config.json["provenance"] and the report (JSON-ready).

    Keys: dsrkit_version, command (see `command_line`), seed and seeds (as given), date_utc (ISO 8601, seconds),
    python, platform, jax, numpy, and data_sha256 / data_checksum_of (see `data_checksum`; absent without data).
    """
    import jax

    from ._version import __version__

    out = {"dsrkit_version": __version__, "command": command_line(argv), "seed": seed, "seeds": seeds,
           "date_utc": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
           "python": platform.python_version(), "platform": platform.platform(), "jax": jax.__version__,
           "numpy": np.__version__}
    if data is not None:
        c = data_checksum(data)
        out["data_sha256"], out["data_checksum_of"] = c["sha256"], c["of"]
    return out


def members_of(fit, seed: int | None = None) -> list[dict]:
    """One row per member of a trained population (`dsrkit.training.TrainResult`): member, its data/noise seed
    (seed + member, see `dsrkit.training.loop.init_members`), status, selected epoch, the selection score of its
    checkpoint (`fit.selection`: lower is better) and whether it is the member saved, so that a report can show
    the spread over seeds, not only the best."""
    best = fit.best().member
    return [{"member": m.member, "seed": None if seed is None else seed + m.member, "status": str(m.status),
             "best_epoch": m.best_epoch, "score": m.score, "saved": m.member == best} for m in fit.members]


def standardizer_of(config: dict, source: str = CONFIG) -> Standardizer | None:
    """The run's standardiser, or None if it recorded none; ValueError naming `source` if it is corrupt."""
    s = config.get("standardizer")
    if not s:
        return None
    try:
        return Standardizer.from_dict(s)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: the recorded standardizer is corrupt ({exc}); expected "
                         "{'mean': [N numbers], 'std': [N positive numbers]}") from None


def read_config(path) -> dict:
    """config.json of a run (a file, or the run directory), its training configuration ("config") in the current
    vocabulary (`dsrkit.training.normalize_config`: short model and scheme names, "input_noise"), so that runs
    written before read like new ones."""
    from .training.config import normalize_config

    path = Path(path)
    config = read_json(path / CONFIG if path.is_dir() else path)
    if isinstance(config, dict) and "config" in config:
        config["config"] = normalize_config(config["config"])
    return config


def check_config_matches(model, config: dict, source: str = CONFIG) -> None:
    """Raise ValueError if config.json describes another model than model.eqx holds (class or constructor
    arguments it records)."""
    from .training.names import model_class

    recorded = config.get("config", {})
    if not isinstance(recorded, dict):
        raise ValueError(f"{source}: 'config' must be an object, got {type(recorded).__name__}")
    name = recorded.get("model")
    try:
        recorded_class = None if name is None else model_class(name).__name__
    except (ValueError, TypeError):
        recorded_class = repr(name)
    if name is not None and recorded_class != type(model).__name__:
        raise ValueError(f"{source} records a {name} but {MODEL} holds a {type(model).__name__}; the run is "
                         "inconsistent")
    built = getattr(model, "config", {})
    args = recorded.get("model_args", {}) or {}
    if not isinstance(args, dict):
        raise ValueError(f"{source}: 'model_args' must be an object, got {type(args).__name__}")
    differ = {k: (v, built[k]) for k, v in args.items() if k in built and v != built[k]}
    if differ:
        listed = ", ".join(f"{k}: {a!r} recorded, {b!r} in the model" for k, (a, b) in differ.items())
        raise ValueError(f"{source} does not match {MODEL} ({listed}); the run is inconsistent")


def load_run(path):
    """(model, config) of a run directory; the config is checked against the model and its standardiser."""
    from .io import load

    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path}: not a run directory (expected a folder with {CONFIG} and {MODEL})")
    model = load(path)
    config = read_config(path / CONFIG)
    check_config_matches(model, config, str(path / CONFIG))
    scaler = standardizer_of(config, str(path / CONFIG))
    if scaler is not None and scaler.mean.shape != (model.obs_dim,):
        raise ValueError(f"{path / CONFIG}: the standardizer has {scaler.mean.size} variables, the model "
                         f"{model.obs_dim}; the run is inconsistent")
    return model, config


@dataclasses.dataclass(frozen=True)
class Run:
    """A run directory: what `dsr train` / `dsr reconstruct` write, read and written through one object that
    carries the file-safety rules of this module (marker, atomic writes, replace only after success).

        with Run.create(out, force=False) as run:   # a temporary folder that becomes `out` on success
            run.save_model(model); run.write(CONFIG, {...})
        run = Run.open(path)                         # an existing run
        run.model, run.config, run.standardizer, run.history, run.metrics
        with run.update() as new:                    # a copy that replaces the run on success
            new.write(METRICS, metrics)
    """

    path: Path

    @classmethod
    def open(cls, path) -> "Run":
        """An existing run; ValueError naming the folder when it is not one."""
        path = Path(path)
        if not path.is_dir():
            raise ValueError(f"{path}: not a run directory (expected a folder with {CONFIG} and {MODEL})")
        return cls(path)

    @classmethod
    @contextlib.contextmanager
    def create(cls, out, *, force: bool = False):
        """Context manager yielding a new Run in a temporary folder that becomes `out` on success (`new_run`)."""
        with new_run(out, force=force) as tmp:
            yield cls(tmp)

    @contextlib.contextmanager
    def update(self):
        """Context manager yielding a copy of this run that replaces it on success (`update_run`)."""
        with update_run(self.path) as tmp:
            yield Run(tmp)

    @property
    def config(self) -> dict:
        """config.json, its training configuration in the current vocabulary (see `read_config`)."""
        return read_config(self.path / CONFIG)

    @property
    def model(self):
        """The model, checked against config.json and its standardiser."""
        return self.load()[0]

    @property
    def standardizer(self) -> Standardizer | None:
        return standardizer_of(self.config, str(self.path / CONFIG))

    @property
    def history(self) -> dict[str, np.ndarray]:
        return read_history(self.path / HISTORY) if (self.path / HISTORY).exists() else {}

    @property
    def metrics(self) -> dict:
        return read_json(self.path / METRICS) if (self.path / METRICS).exists() else {}

    def load(self):
        """(model, config), checked against each other (see `load_run`)."""
        return load_run(self.path)

    def write(self, name: str, obj) -> Path:
        """A JSON file of the run (config.json, metrics.json, analysis.json), atomically."""
        return write_json(self.path / name, obj)

    def write_history(self, history: list[dict], name: str = HISTORY) -> Path:
        """A CSV table of the run: the training history (history.csv) or the search's population (population.csv)."""
        return write_history(self.path / name, history)

    def save_model(self, model, metadata: dict | None = None) -> Path:
        from .io import save

        return save(model, self.path / MODEL, overwrite=True, metadata=metadata)

    def save_figure(self, fig, name: str) -> Path:
        """figures/<name>.png, atomically."""
        return _files.save_figure(fig, self.path / FIGURES / f"{name}.png", overwrite=True)

    def save_png(self, png: bytes, name: str) -> Path:
        """figures/<name>.png from PNG bytes already drawn (`report.html.figure_png`), atomically."""
        return _files.write_bytes(self.path / FIGURES / f"{name}.png", png, overwrite=True)
