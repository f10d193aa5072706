"""Run directories: what `dsr train` and `dsr reconstruct` write, and how it is read back.

A run directory holds
    config.json     what was trained and how (model, scheme, training arguments, data source, standardiser)
    model.eqx       the selected model (`dsrkit.save`; `dsrkit.load(run_dir)` reads it back)
    history.csv     one row per epoch: loss, alpha, and the evaluation metrics where computed
    metrics.json    test metrics with the evaluation protocol (written by evaluation)
    figures/*.png   figures; report.html where a report was made
An existing run directory is never written into unless `force=True`.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import numpy as np

from .data import Standardizer

CONFIG = "config.json"
MODEL = "model.eqx"
HISTORY = "history.csv"
METRICS = "metrics.json"


def prepare_run_dir(path, force: bool = False) -> Path:
    """Create an empty run directory; refuse an existing non-empty one unless `force` (then it is emptied)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path}: exists and is not a directory")
    if path.exists() and any(path.iterdir()):
        if not force:
            raise FileExistsError(f"{path}: run directory already exists and is not empty; choose another --out or pass --force")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "figures").mkdir(exist_ok=True)
    return path


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


def write_json(path, obj) -> Path:
    """JSON with NaN/inf written as null and NumPy types converted."""
    path = Path(path)
    path.write_text(json.dumps(_jsonable(obj), indent=2) + "\n")
    return path


def read_json(path) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: missing; is {path.parent} a dsrkit run directory?") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc


def write_history(path, history: list[dict]) -> Path:
    """One CSV row per history entry; columns are the union of the entries' keys."""
    cols: list[str] = []
    for row in history:
        cols += [k for k in row if k not in cols]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for row in history:
            w.writerow({k: _jsonable(row.get(k)) for k in cols})
    return Path(path)


def read_history(path) -> dict[str, np.ndarray]:
    """history.csv as column name -> float array (empty cells are NaN)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = rows[0].keys() if rows else []
    out = {}
    for c in cols:
        try:
            out[c] = np.array([float(r[c]) if r[c] not in ("", "None") else np.nan for r in rows])
        except ValueError:
            continue
    return out


def standardizer_of(config: dict) -> Standardizer | None:
    s = config.get("standardizer")
    return Standardizer.from_dict(s) if s else None


def load_run(path):
    """(model, config) of a run directory."""
    from .io import load

    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path}: not a run directory (expected a folder with {CONFIG} and {MODEL})")
    return load(path), read_json(path / CONFIG)
