"""Results store: one SQLite file (WAL mode), one row per run, safe to share between concurrent runners.

Row life cycle and the concurrency argument:

- claim: a runner that wants to start a run does, in one ``BEGIN IMMEDIATE`` transaction (which takes SQLite's
  single write lock, so no two claims interleave), "read the row; if there is none, INSERT it with
  status='running', owner=<host/pid/token>, heartbeat=now; if it is 'running' but stale, take it over; otherwise
  give up". So at any moment at most one live runner owns a run, and the primary key makes a second row for the
  same run impossible.
- stale: the owner's heartbeat is older than `lease` seconds, or the owner is a process on this host that no
  longer exists (a runner killed with SIGKILL is detected at once, not after the lease).
- heartbeat: the owning runner refreshes `heartbeat` of its in-flight runs every lease/4 seconds.
- finish: the result is written with ``UPDATE ... WHERE run_id=? AND status='running'`` in its own transaction
  as soon as the run ends, so killing a runner at any moment loses only the runs in flight (their claim rows stay
  'running', are seen as stale, and are retaken). If a slow owner and a runner that took over both finish, the
  first write wins and the second is a no-op; results are deterministic in their configuration, so either is right.
- synchronous=FULL: a committed result survives a crash of the process and of the machine.
- tuning: a tuned run's record (chosen values, one row per trial) is written with its result, in the same UPDATE.
  A store written before that column existed gets it (empty) when opened.
- retry: a run recorded as "failed" (an exception, a timeout, a worker that died) is claimed again only when the
  runner asks for it (`retry_failed`), and only if it finished before `retry_before` (the retrying runner's start),
  so that two retrying runners do not both redo it. "ok" and "diverged" are results and are never retaken.

Finished statuses: "ok", "diverged", "failed" (reason "timeout" for runs over the time limit).

Opening a path refuses what is not a results store: a directory, a file that is not SQLite, and an SQLite file
of another program (it is left untouched); these are `StoreError`s (a ValueError) naming the path.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import time
import uuid
from pathlib import Path

import numpy as np

from .._files import atomic_path, write_bytes
from .._status import STATUSES

FINISHED = STATUSES  # ok, diverged, failed
RUNNING = "running"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    suite       TEXT,
    task        TEXT,
    method      TEXT,
    seed        INTEGER,
    config      TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    traceback   TEXT,
    metrics     TEXT,
    timings     TEXT,
    artifact    TEXT,
    owner       TEXT,
    heartbeat   REAL,
    runner      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 1,
    host        TEXT,
    version     TEXT,
    created_at  REAL NOT NULL,
    started_at  REAL,
    finished_at REAL,
    tuning      TEXT
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta VALUES ('schema', '1');
"""

COLUMNS = ("run_id", "suite", "task", "method", "seed", "config", "status", "reason", "traceback", "metrics",
           "timings", "artifact", "owner", "heartbeat", "runner", "attempts", "host", "version", "created_at", "started_at",
           "finished_at")
#: columns added after the first stores were written: added (empty) to an older store when it is opened
ADDED_COLUMNS = {"tuning": "TEXT"}  # a tuned run's record (`dsrkit.bench.tuning.TuningResult.record`), JSON


class StoreError(ValueError):
    """The path given as a results store is not one (a directory, not SQLite, another program's database)."""


def new_owner() -> str:
    """An owner id for one runner: host/pid/random token."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_is_dead(owner: str | None) -> bool:
    """True when `owner` names a process on this host that no longer runs (unknown hosts: False)."""
    if not owner:
        return True
    host, _, rest = owner.partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not _pid_alive(int(pid))


def _json(obj) -> str:
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(obj), sort_keys=True, allow_nan=False)


class ResultsStore:
    """SQLite results store at `path` (created with its folder if missing).

    lease: seconds after the last heartbeat at which a 'running' claim counts as abandoned (default 120).
    Artifacts (kept trajectories) go to `<path without suffix>.artifacts/<run_id>.npz`.
    """

    def __init__(self, path, *, lease: float = 120.0, clock=time.time):
        self.path = Path(path)
        if isinstance(lease, bool) or not isinstance(lease, (int, float)) or not (math.isfinite(lease) and lease > 0):
            raise ValueError(f"lease must be a positive finite number of seconds, got {lease!r}")
        self.lease = float(lease)
        self._clock = clock  # seconds since the epoch; replaceable in tests of the lease
        self._check_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.artifact_dir = self.path.with_suffix(".artifacts")
        try:
            self._db = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot open the results store ({e})") from None
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _check_path(self) -> None:
        p = self.path
        expected = "expected a results store file (SQLite, e.g. results/<suite>.sqlite) or a new file path"
        if p.is_dir():
            raise StoreError(f"{p}: is a directory; {expected}")
        if p.exists() and not p.is_file():
            raise StoreError(f"{p}: is not a regular file; {expected}")
        for parent in p.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise StoreError(f"{parent}: is not a directory, so the results store {p} cannot be created")
                break

    def _open(self) -> None:
        expected = "expected a results store written by `dsr bench` (SQLite) or a new file path"
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA busy_timeout = 60000")
            # read before changing anything: another program's database is refused and left as it was
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: not a results store ({e}); {expected}") from None
        if tables:
            # a store (possibly still being created by another runner: runs without meta) has only our tables
            cols = {r[1] for r in self._db.execute("PRAGMA table_info(runs)")} if "runs" in tables else set(COLUMNS)
            if not tables <= {"runs", "meta"} or not set(COLUMNS) <= cols:
                raise StoreError(f"{self.path}: an SQLite database of another program (tables: "
                                 f"{', '.join(sorted(tables))}), not a results store; it was left unchanged; {expected}")
        try:
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: could not switch SQLite to WAL mode (got {mode!r}); the results store "
                                 "needs a local file system")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nCOMMIT;")  # idempotent, one transaction
            with self._write() as db:  # an older store: add the later columns (checked under the write lock)
                have = {r[1] for r in db.execute("PRAGMA table_info(runs)")}
                for name, kind in ADDED_COLUMNS.items():
                    if name not in have:
                        db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise
            raise StoreError(f"{self.path}: cannot use the results store ({e})") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- transactions -------------------------------------------------------------------------------------------
    class _Tx:
        def __init__(self, db):
            self.db = db

        def __enter__(self):
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, exc_type, *_):
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")

    def _write(self):
        return self._Tx(self._db)

    def now(self) -> float:
        """The store's clock: seconds since the epoch (heartbeats, leases, finished_at)."""
        return float(self._clock())

    def _stale(self, row, now: float) -> bool:
        return row["heartbeat"] is None or row["heartbeat"] < now - self.lease or owner_is_dead(row["owner"])

    # -- claims -------------------------------------------------------------------------------------------------
    def claim(self, run_id: str, config: dict, owner: str, *, suite: str = "", task: str = "", method: str = "",
              seed: int | None = None, retry_failed: bool = False, retry_before: float | None = None) -> bool:
        """Atomically take run `run_id` for `owner`. True when this owner may now execute it.

        A row nobody holds is taken; a 'running' row is taken over only when stale; a 'failed' row only with
        `retry_failed`, and then only if it finished before `retry_before` (seconds since the epoch; None: any).
        'ok' and 'diverged' rows are never taken."""
        now = self.now()
        with self._write() as db:
            row = db.execute("SELECT status, owner, heartbeat, finished_at FROM runs WHERE run_id = ?",
                             (run_id,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO runs (run_id, suite, task, method, seed, config, status, owner, heartbeat, "
                    "created_at, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, suite, task, method, seed, _json(config), RUNNING, owner, now, now, now),
                )
                return True
            retry = retry_failed and row["status"] == "failed" and (
                retry_before is None or row["finished_at"] is None or row["finished_at"] < retry_before)
            takeover = (row["status"] == RUNNING and self._stale(row, now)) or retry
            if not takeover:
                return False
            db.execute(
                "UPDATE runs SET status = ?, owner = ?, heartbeat = ?, started_at = ?, attempts = attempts + 1, "
                "reason = NULL, traceback = NULL, metrics = NULL, finished_at = NULL WHERE run_id = ?",
                (RUNNING, owner, now, now, run_id),
            )
            return True

    def heartbeat(self, owner: str) -> None:
        """Refresh the heartbeat of every run `owner` has in flight."""
        with self._write() as db:
            db.execute("UPDATE runs SET heartbeat = ? WHERE owner = ? AND status = ?", (self.now(), owner, RUNNING))

    def release(self, owner: str) -> None:
        """Drop the unfinished claims of `owner` (orderly shutdown), so that others can take them at once."""
        with self._write() as db:
            db.execute("DELETE FROM runs WHERE owner = ? AND status = ?", (owner, RUNNING))

    def finish(self, run_id: str, result: dict, *, version: str, artifact: str | None = None,
               runner: str | None = None) -> bool:
        """Record a finished run in its own transaction (`runner`: owner id of who executed it; a tuned run's
        `result["tuning"]` goes to the `tuning` column). False when another runner recorded it first."""
        status = result["status"]
        if status not in FINISHED:
            raise ValueError(f"status must be one of {', '.join(FINISHED)}, got {status!r}")
        with self._write() as db:
            cur = db.execute(
                "UPDATE runs SET status = ?, reason = ?, traceback = ?, metrics = ?, timings = ?, artifact = ?, "
                "owner = NULL, heartbeat = NULL, runner = ?, host = ?, version = ?, finished_at = ?, tuning = ? "
                "WHERE run_id = ? AND status = ?",
                (status, result.get("reason"), result.get("traceback"), _json(result.get("metrics") or {}),
                 _json(result.get("timings") or {}), artifact, runner, socket.gethostname(), version, self.now(),
                 _json(result["tuning"]) if result.get("tuning") else None, run_id, RUNNING),
            )
            return cur.rowcount == 1

    def restore(self, run_id: str, result: dict, *, config: dict, suite: str = "", task: str = "", method: str = "",
                seed: int | None = None, version: str | None = None, finished_at: float | None = None) -> bool:
        """Insert a finished run read back from an export (``result``: "status", "reason", "metrics", "timings"),
        so that a store rebuilt from committed data skips the runs it holds. A row the store already has is left as
        it is (its own result wins) and False returned; True when the row was inserted."""
        status = result["status"]
        if status not in FINISHED:
            raise ValueError(f"status must be one of {', '.join(FINISHED)}, got {status!r}")
        now = self.now()
        with self._write() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO runs (run_id, suite, task, method, seed, config, status, reason, metrics, "
                "timings, version, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, suite, task, method, seed, _json(config), status, result.get("reason"),
                 _json(result.get("metrics") or {}), _json(result.get("timings") or {}), version, now,
                 now if finished_at is None else float(finished_at)),
            )
            return cur.rowcount == 1

    def save_artifact(self, run_id: str, arrays: dict[str, np.ndarray]) -> str:
        """Write arrays to `<artifact_dir>/<run_id>.npz` atomically (replacing the file of an earlier attempt of the
        same run); returns the path relative to the store folder."""
        final = self.artifact_dir / f"{run_id}.npz"
        with atomic_path(final, overwrite=True) as tmp:
            np.savez_compressed(tmp, **arrays)
        return str(final.relative_to(self.path.parent))

    def save_model(self, run_id: str, data: bytes) -> str:
        """Write a fitted method's file (bytes of its `save` output) as `<artifact_dir>/<run_id>.model.npz`
        (atomically, replacing the file of an earlier attempt of the same run)."""
        final = write_bytes(self.artifact_dir / f"{run_id}.model.npz", data, overwrite=True)
        return str(final.relative_to(self.path.parent))

    def model_path(self, row: dict) -> Path | None:
        """Path of a run's saved model (load it with dsrkit.baselines.load), or None."""
        path = self.artifact_dir / f"{row['run_id']}.model.npz"
        return path if path.is_file() else None

    def load_artifact(self, row: dict) -> dict[str, np.ndarray] | None:
        if not row.get("artifact"):
            return None
        path = self.path.parent / row["artifact"]
        if not path.is_file():
            return None
        with np.load(path) as f:
            return {k: f[k] for k in f.files}

    # -- reading ------------------------------------------------------------------------------------------------
    def states(self, run_ids) -> dict[str, dict]:
        """run_id -> {status, owner, heartbeat, stale} for the given ids that have a row."""
        ids = list(run_ids)
        out, now = {}, self.now()
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            q = f"SELECT run_id, status, owner, heartbeat FROM runs WHERE run_id IN ({','.join('?' * len(chunk))})"
            for r in self._db.execute(q, chunk):
                out[r["run_id"]] = {"status": r["status"], "owner": r["owner"], "heartbeat": r["heartbeat"],
                                    "stale": r["status"] == RUNNING and self._stale(r, now)}
        return out

    def rows(self, run_ids=None) -> list[dict]:
        """Rows as dicts with config/metrics/timings (and tuning: None for an untuned run) decoded from JSON; all
        rows, or those of `run_ids`."""
        if run_ids is None:
            cur = self._db.execute("SELECT * FROM runs ORDER BY created_at, run_id")
            raw = cur.fetchall()
        else:
            ids, raw = list(run_ids), []
            for k in range(0, len(ids), 500):
                chunk = ids[k : k + 500]
                raw += self._db.execute(f"SELECT * FROM runs WHERE run_id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        out = []
        for r in raw:
            d = dict(r)
            for key in ("config", "metrics", "timings"):
                d[key] = json.loads(d[key]) if d[key] else {}
            d["tuning"] = json.loads(d["tuning"]) if d.get("tuning") else None
            out.append(d)
        return out

    # -- cached values (the data floors of the leaderboard) -----------------------------------------------------------
    def cached(self, keys) -> dict[str, dict]:
        """key -> decoded JSON value for the given keys of the store's `meta` table that hold a value."""
        ids, out = [f"cache:{k}" for k in keys], {}
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            q = f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(chunk))})"
            for r in self._db.execute(q, chunk):
                out[r["key"][len("cache:"):]] = json.loads(r["value"])
        return out

    def cache(self, key: str, value: dict) -> None:
        """Store a JSON-able `value` under `key` in the `meta` table (one transaction; a value computed twice by
        two processes is the same deterministic value, so the last write changes nothing)."""
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (f"cache:{key}", _json(value)))

    def count(self) -> dict[str, int]:
        """Number of rows per status."""
        return {s: n for s, n in self._db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status")}
