"""Run a suite: every (task, method, params, seed) once, resumable, shareable between runners.

The runner claims a run in the store only when an executor slot is free (so several runners on one store share
the work), submits it, writes each result in its own transaction as it arrives, refreshes its claims' heartbeat,
and, once nothing is left to claim, waits for runs that other live runners hold (taking over any whose owner died)
until every run of the suite is finished in the store.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from pathlib import Path

from .._status import Status
from .components import Components
from .execute import groupable
from .executors import make_executor
from .store import FINISHED, ResultsStore, new_owner
from .suite import RunSpec, Suite, load_suite


@dataclass
class RunSummary:
    """What one `run_suite` call did. `skipped`: finished before it started; `by_others`: finished meanwhile by
    other runners; `ok`/`diverged`/`failed`: executed here."""

    suite: str
    store: Path
    total: int
    skipped: int = 0
    ok: int = 0
    diverged: int = 0
    failed: int = 0
    by_others: int = 0
    wall_s: float = 0.0
    failures: list[tuple[str, str, int, str]] = field(default_factory=list)  # (task, method, seed, reason)

    @property
    def executed(self) -> int:
        return self.ok + self.diverged + self.failed


def check_time_limit(value, name: str = "time_limit") -> float | None:
    """`value` as float seconds, or None (no limit). Anything but a positive finite number is a ValueError naming
    `name` (0 or a negative limit would record every run as a timeout)."""
    if value is None:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok:
        raise ValueError(f"{name} must be a positive finite number of seconds (or omitted for no limit), got {value!r}")
    return float(value)


def default_store_path(suite: Suite) -> Path:
    """results/<suite file stem>.sqlite (relative to the working directory)."""
    return Path("results") / f"{suite.stem}.sqlite"


def _version() -> str:
    from .._version import __version__

    return __version__


class _Progress:
    """rich progress bar: runs done / failed / remaining and an ETA; silent when disabled."""

    def __init__(self, enabled: bool, total: int, done: int, label: str):
        self.bar = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[green]{task.fields[ok]} ok[/] [yellow]{task.fields[div]} diverged[/] "
                       "[red]{task.fields[failed]} failed[/] {task.fields[left]} left"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=False,
        )
        self.bar.start()
        self.task = self.bar.add_task(label, total=total, completed=done, ok=0, div=0, failed=0, left=total - done)
        self.total, self.done = total, done

    def update(self, summary: RunSummary, advance: int = 1):
        if self.bar is None:
            return
        self.done += advance
        self.bar.update(self.task, advance=advance, ok=summary.ok, div=summary.diverged, failed=summary.failed,
                        left=self.total - self.done)

    def close(self):
        if self.bar is not None:
            self.bar.stop()


def run_suite(suite, *, store=None, executor: str = "local", workers: int | None = None, address: str | None = None,
              fast: bool = False, time_limit: float | None = None, keep_trajectories: bool = True,
              keep_points: int = 5000, keep_models: bool = False, progress: bool = True, components: Components | None = None,
              lease: float = 120.0, retry_failed: bool = False, wait_for_others: bool = True,
              ray_runtime_env: dict | None = None, poll_interval: float = 0.5,
              group_seeds: bool = False) -> RunSummary:
    """Run every run of `suite` that the store does not hold finished yet.

    suite: a path to a suite TOML file or a `Suite` (then `fast` and `components` are taken from it).
    store: SQLite path (default results/<suite stem>.sqlite) or an open `ResultsStore`.
    executor: "local" (worker processes, `workers` default one per core) or "ray" (`address` of a cluster, or a
      local cluster with `workers` CPUs), or an executor object (`LocalExecutor`, `RayExecutor`) to share between
      calls; the caller closes it then. time_limit: seconds per run; overrides the tasks' `time_limit`; a run over
      it is recorded as failed with reason "timeout"; it must be a positive finite number (ValueError otherwise).
      keep_trajectories: save the first `keep_points` steps of the compared test and generated trajectories beside
      the store (for the report's attractor figures).
      keep_models: save each fitted method (its `save` file) as <store>.artifacts/<run_id>.model.npz.
    lease: seconds after which a claim without heartbeat is retaken. retry_failed: run again the runs recorded as
      failed (errors, timeouts, workers that died) before this call started; "ok" and "diverged" runs are results of
      their configuration and are kept.
    wait_for_others: once nothing is left to claim, wait for runs held by other live runners.
    group_seeds: the pending seeds of one task and one untuned PLRNN-family method (`execute.groupable`) are
      claimed together and fitted as one population in one executor slot (`execute.execute_seed_group`: one
      compiled program for all seeds, the way to use a GPU); their time limit is the run's limit times their
      number, and a failure of the common fit is recorded for each of them.
    Returns a RunSummary. Failures and divergences are results; the suite always runs to the end.
    """
    time_limit = check_time_limit(time_limit)
    if not isinstance(suite, Suite):
        suite = load_suite(suite, fast=fast, components=components)
    components = suite.components
    owns_store = not isinstance(store, ResultsStore)
    db = ResultsStore(store if store is not None else default_store_path(suite), lease=lease) if owns_store else store
    version = _version()
    owner = new_owner()
    specs = {s.run_id: s for s in suite.runs()}
    summary = RunSummary(suite=suite.name, store=db.path, total=len(specs))
    t_start = time.monotonic()
    retry_before = db.now()  # failed rows recorded from now on (by this or another runner) are not retried again

    states = db.states(specs)
    finished = {rid for rid, st in states.items() if st["status"] in FINISHED}
    if retry_failed:
        finished = {rid for rid in finished if states[rid]["status"] != Status.FAILED}
    summary.skipped = len(finished)
    # method-major order, and the local executor steers each method to the worker that ran it before: a worker
    # that runs the same method on same-shaped data again reuses its JIT compilations
    order = {m.label: k for k, m in enumerate(suite.methods)}
    pending = sorted((rid for rid in specs if rid not in finished), key=lambda rid: order[specs[rid].method.label])
    deferred: list[str] = []
    inflight: dict = {}  # run id, or a tuple of run ids fitted together -> their RunSpecs
    can_group: dict[str, bool] = {}  # method label -> execute.groupable
    bar = _Progress(progress, summary.total, summary.skipped, f"{suite.name}{' (fast)' if suite.fast else ''}")
    ex = None
    last_beat = time.monotonic()
    shared_ex = not isinstance(executor, str)

    def start_executor():
        if shared_ex:
            return executor
        return make_executor(executor, workers=workers, address=address, runtime_env=ray_runtime_env)

    try:
        ex = start_executor() if pending else None
        while pending or inflight or (deferred and wait_for_others):
            while ex is not None and pending and len(inflight) < ex.capacity:
                pick = ex.preferred([specs[r].method.label for r in pending]) if hasattr(ex, "preferred") else 0
                rid = pending.pop(pick)
                spec = specs[rid]
                group = [rid]
                if group_seeds:
                    if spec.method.label not in can_group:
                        can_group[spec.method.label] = groupable(spec.config, components)
                    if can_group[spec.method.label]:
                        group += [r for r in pending if (specs[r].task.name, specs[r].method.label)
                                  == (spec.task.name, spec.method.label)]
                        pending[:] = [r for r in pending if r not in group]
                claimed = []
                for r in group:
                    s = specs[r]
                    if db.claim(r, s.config, owner, suite=suite.name, task=s.task.name, method=s.method.label,
                                seed=s.seed, retry_failed=retry_failed, retry_before=retry_before):
                        claimed.append(r)
                    else:
                        deferred.append(r)
                if not claimed:
                    continue
                limit = time_limit if time_limit is not None else spec.task.time_limit
                if len(claimed) == 1:
                    key, config = claimed[0], specs[claimed[0]].config
                else:
                    key, config = tuple(claimed), [specs[r].config for r in claimed]
                    limit = None if limit is None else limit * len(claimed)
                ex.submit(key, (config, components, keep_trajectories, keep_models), limit, affinity=spec.method.label)
                inflight[key] = [specs[r] for r in claimed]
            if ex is not None and inflight:
                for key, result in ex.poll(poll_interval):
                    group = inflight.pop(key)
                    results = result if isinstance(result, list) else [result] * len(group)  # a timeout: all
                    for spec, res in zip(group, results, strict=True):
                        _record(db, spec, res, version, keep_points, summary, owner)
                    bar.update(summary)
            if deferred and not pending:
                if not inflight:
                    time.sleep(poll_interval)
                deferred = _check_deferred(db, deferred, pending, summary, bar)
                if pending and ex is None:
                    ex = start_executor()
                if not wait_for_others and not pending:
                    deferred = []
            if inflight and time.monotonic() - last_beat > db.lease / 4:
                db.heartbeat(owner)
                last_beat = time.monotonic()
    except BaseException:
        if ex is not None and not shared_ex:
            ex.close()
            ex = None
        db.release(owner)
        raise
    finally:
        if ex is not None and not shared_ex:
            ex.close()
        bar.close()
        summary.wall_s = time.monotonic() - t_start
        if owns_store:
            db.close()
    return summary


def _check_deferred(db, deferred, pending, summary, bar):
    """Runs held by others: count the finished ones, move the abandoned ones back to `pending`."""
    states = db.states(deferred)
    still = []
    for rid in deferred:
        st = states.get(rid)
        if st is None or st["stale"]:
            pending.append(rid)
        elif st["status"] in FINISHED:
            summary.by_others += 1
            bar.update(summary)
        else:
            still.append(rid)
    return still


def _record(db: ResultsStore, spec: RunSpec, result: dict, version: str, keep_points: int, summary: RunSummary,
            owner: str):
    artifact = None
    traj = result.get("trajectories")
    if traj:
        artifact = db.save_artifact(spec.run_id, {k: v[:keep_points] for k, v in traj.items()})
    if result.get("model"):
        db.save_model(spec.run_id, result["model"])
    written = db.finish(spec.run_id, result, version=version, artifact=artifact, runner=owner)
    if not written:
        summary.by_others += 1
        return
    status = result["status"]
    if status == Status.OK:
        summary.ok += 1
    elif status == Status.DIVERGED:
        summary.diverged += 1
    else:
        summary.failed += 1
    if status != Status.OK:
        summary.failures.append((spec.task.name, spec.method.label, spec.seed, result.get("reason") or ""))
