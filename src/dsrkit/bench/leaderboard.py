"""Leaderboard: per task x method, the median and interquartile range of each metric over seeds, and ranks.

Every task also gets two references beside its methods (Gilpin 2021 NeurIPS and the DSR papers compare models
with both):
- the data floor (kind "floor", `ResultsTable.floor`): the task's metrics between its test trajectory and an
  independent trajectory of the same true system (`execute.execute_floor`), per seed, summarised like a method.
  It is what a perfect model scores at this test length: a model at the floor cannot be told from the system.
  `results` computes the floors it does not find in the store and caches them there (the store's `meta` table).
- data replay (kind "data replay"): parroting, which copies stretches of the training data. It is not a model of
  the dynamics, so it is ranked apart from the models (among the data-replay rows only).

Conventions (stated in every table's `notes`):
- A diverged run counts as the worst possible value (+inf for lower-is-better metrics), so a method that diverges
  in more than half of its seeds has median inf ("diverged"), and divergence widens the IQR; failed runs (errors,
  timeouts) and runs not yet done are left out of the statistics and counted separately.
- Quartiles: numpy's linear interpolation (q25, q75); iqr = q75 - q25.
- Ranks: per task and metric, the models ordered by median (best = 1), ties share the average rank; methods with
  no finished run are not ranked; data-replay rows are ranked among themselves, the floor is not ranked.
  `mean_rank` is the mean of a method's ranks over the task's metrics.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path


from .._files import atomic_path, write_text
from .._status import Status
from .components import DEFAULT, Components
from .execute import FLOOR_SEED_OFFSET, execute_floor
from .store import ResultsStore
from .suite import Method, RunSpec, Suite, load_suite, run_config, run_id

HIGHER_IS_BETTER = {"valid_prediction_time", "vpt", "prediction_horizon"}
NOTES = ("median and interquartile range over seeds; diverged runs count as the worst value (inf), failed runs "
         "and missing runs are excluded; ranks per task and metric by median (1 = best, ties averaged) among the "
         "models; data replay (parroting copies the training data) is ranked apart; the data floor (the test "
         "trajectory against an independent true trajectory) is the best score possible at this test length")

#: Methods that replay the training data instead of modelling the dynamics: shown as references, ranked apart.
DATA_REPLAY = {"parroting"}
MODEL, REPLAY, FLOOR = "model", "data replay", "floor"
#: The name of the floor rows (method column) and of the pseudo-method in a floor's configuration.
FLOOR_LABEL = "data floor"
_FLOOR_METHOD = Method(name="__data_floor__", label=FLOOR_LABEL, params={})


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


@dataclass
class ResultsTable:
    """Leaderboard rows, one per (task, method), with columns `columns`."""

    suite: str
    metrics: list[str]
    rows: list[dict]
    notes: str = NOTES
    columns: list[str] = field(default_factory=list)
    floor: list[dict] = field(default_factory=list)

    """`rows`: one per (task, method) of the suite (kind "model" or "data replay"); `floor`: one reference row per
    task (kind "floor", method "data floor"), filled by `results`. `len()` counts `rows`; the exports and the
    markdown put each task's floor row first."""

    def __post_init__(self):
        if not self.columns:
            self.columns = ["task", "method", "n_ok", "n_diverged", "n_failed", "n_missing"]
            for m in self.metrics:
                self.columns += [f"{m}_median", f"{m}_q25", f"{m}_q75", f"{m}_iqr", f"{m}_rank"]
            self.columns += ["mean_rank", "kind"]

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, task: str, method: str) -> dict:
        """The row of `method` (a label, or "data floor" for the floor row) on `task`."""
        for r in self.rows + self.floor:
            if r["task"] == task and r["method"] == method:
                return r
        raise KeyError(f"no row for task {task!r} and method {method!r}")

    def all_rows(self) -> list[dict]:
        """The floor rows and the method rows, task by task (in the order of `rows`), each task's floor first."""
        floors = {r["task"]: r for r in self.floor}
        out, seen = [], set()
        for r in self.rows:
            if r["task"] not in seen:
                seen.add(r["task"])
                if r["task"] in floors:
                    out.append(floors[r["task"]])
            out.append(r)
        return out + [r for t, r in floors.items() if t not in seen]

    def to_csv(self, path, *, overwrite: bool = False) -> Path:
        """Write the rows as CSV (atomically); an existing file is an error unless `overwrite`."""
        with atomic_path(path, overwrite=overwrite) as tmp:
            with tmp.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=self.columns, extrasaction="ignore")
                w.writeheader()
                for r in self.all_rows():
                    w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in self.columns})
        return Path(path)

    def to_dict(self) -> dict:
        return {"suite": self.suite, "metrics": self.metrics, "notes": self.notes,
                "rows": [{k: _jsonable(r.get(k)) for k in self.columns} for r in self.all_rows()]}

    def to_json(self, path, *, overwrite: bool = False) -> Path:
        """Write `to_dict()` as JSON (atomically); an existing file is an error unless `overwrite`."""
        return write_text(path, json.dumps(self.to_dict(), indent=1, allow_nan=False), overwrite=overwrite)

    def display_rows(self) -> list[dict]:
        """Compact rows for humans: 'median [q25, q75]' per metric, rank, counts."""
        out = []
        for r in self.all_rows():
            d = {"task": r["task"], "method": r["method"], "kind": r.get("kind", MODEL),
                 "ok/div/fail": f"{r['n_ok']}/{r['n_diverged']}/{r['n_failed']}" + (f" ({r['n_missing']} missing)" if r["n_missing"] else "")}
            for m in self.metrics:
                d[m] = _fmt_stat(r[f"{m}_median"], r[f"{m}_q25"], r[f"{m}_q75"])
            d["mean rank"] = "" if r["mean_rank"] is None else f"{r['mean_rank']:.2f}"
            out.append(d)
        return out

    def to_markdown(self) -> str:
        rows = self.display_rows()
        if not rows:
            return "(no runs)"
        cols = list(rows[0])
        lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()


def _fmt(v) -> str:
    if v is None:
        return "–"
    if math.isinf(v):
        return "diverged" if v > 0 else "-inf"
    return f"{v:.3g}"


def _fmt_stat(med, q25, q75) -> str:
    if med is None:
        return "–"
    if math.isinf(med):
        return "diverged"
    return f"{_fmt(med)} [{_fmt(q25)}, {_fmt(q75)}]"


def summarize(suite_name: str, specs: list[RunSpec], rows_by_id: dict[str, dict]) -> ResultsTable:
    """Build the leaderboard of `specs` (the suite's runs) from store rows keyed by run id (without floor rows:
    `results` adds them)."""
    metrics = _metrics_of(specs)
    groups: dict[tuple[str, str], list[tuple[RunSpec, dict | None]]] = {}
    kinds: dict[tuple[str, str], str] = {}
    for s in specs:
        groups.setdefault((s.task.name, s.method.label), []).append((s, rows_by_id.get(s.run_id)))
        kinds[(s.task.name, s.method.label)] = REPLAY if s.method.name in DATA_REPLAY else MODEL
    rows = [_stats_row(task, method, kinds[(task, method)], [(spec.task.metrics, r) for spec, r in runs], metrics)
            for (task, method), runs in groups.items()]
    _rank(rows, metrics)
    order = {t: i for i, t in enumerate(dict.fromkeys(s.task.name for s in specs))}
    kind_order = {REPLAY: 0, MODEL: 1}
    rows.sort(key=lambda r: (order[r["task"]], kind_order[r["kind"]],
                             math.inf if r["mean_rank"] is None else r["mean_rank"], r["method"]))
    return ResultsTable(suite_name, metrics, rows)


def _metrics_of(specs: list[RunSpec]) -> list[str]:
    metrics: list[str] = []
    for s in specs:
        for m in s.task.metrics:
            if m not in metrics:
                metrics.append(m)
    return metrics


def _stats_row(task: str, method: str, kind: str, runs: list[tuple[tuple[str, ...], dict | None]],
               metrics: list[str]) -> dict:
    """One leaderboard row from (the task's metric names, store row or None) per seed."""
    row = {"task": task, "method": method, "kind": kind, "n_ok": 0, "n_diverged": 0, "n_failed": 0, "n_missing": 0}
    values = {m: [] for m in metrics}
    for task_metrics, r in runs:
        status = r["status"] if r else None
        if status == Status.OK:
            row["n_ok"] += 1
            for m in task_metrics:
                v = r["metrics"].get(m)
                values[m].append(float(v) if v is not None else math.inf)
        elif status == Status.DIVERGED:
            row["n_diverged"] += 1
            for m in task_metrics:
                values[m].append(-math.inf if m in HIGHER_IS_BETTER else math.inf)
        elif status == Status.FAILED:
            row["n_failed"] += 1
        else:
            row["n_missing"] += 1
    for m in metrics:
        v = values[m]
        if not v:
            q25 = med = q75 = iqr = None
        else:
            q25, med, q75 = (quantile(v, q) for q in (0.25, 0.5, 0.75))
            iqr = q75 - q25 if math.isfinite(q75) and math.isfinite(q25) else math.inf
        row.update({f"{m}_median": med, f"{m}_q25": q25, f"{m}_q75": q75, f"{m}_iqr": iqr, f"{m}_rank": None})
    row["mean_rank"] = None
    return row


def floor_config(spec: RunSpec, components: Components | None = None) -> dict:
    """The configuration of the data floor of `spec`'s task and seed: the run's task, data seeds (so its test
    trajectory is the runs' one) and components, the pseudo-method "__data_floor__", and the independent
    trajectory's seed data_seeds["floor"] = FLOOR_SEED_OFFSET + seed. `run_id` of it is the floor's cache key."""
    config = run_config(spec.task, _FLOOR_METHOD, spec.seed, components)
    config["data_seeds"]["floor"] = FLOOR_SEED_OFFSET + spec.seed
    return config


def _floor_keys(suite: Suite) -> dict[tuple[str, int], tuple[str, dict]]:
    """(task name, seed) -> (the floor's cache key, its configuration) for every task and seed of `suite`."""
    components = suite.components if suite.components != DEFAULT else None
    wanted = {}
    for task in suite.tasks:
        for seed in task.seeds:
            config = floor_config(RunSpec(task, _FLOOR_METHOD, seed, {}, ""), components)
            wanted[(task.name, seed)] = (run_id(config), config)
    return wanted


def restore(suite: Suite, db: ResultsStore, runs=(), found=None) -> tuple[int, int]:
    """Read an exported leaderboard back into a store, so that a store rebuilt from committed data (a fresh clone:
    the store itself is not committed) skips the runs the export holds and does not recompute its floors, and an
    export written from it loses nothing.

    runs: dicts with "task", "method" (label), "seed", "status" and optionally "reason", "metrics", "timings",
    "version", "finished_at"; rows naming no run of `suite` are ignored. found: (task name, seed) -> a floor result
    ({"status", "metrics"}), as `floors` returns or an export holds. What the store already has is kept.
    Returns (runs inserted, floors cached)."""
    specs = {(s.task.name, s.method.label, int(s.seed)): s for s in suite.runs()}
    added = 0
    for r in runs:
        spec = specs.get((r["task"], r["method"], int(r["seed"])))
        if spec is not None:
            added += db.restore(spec.run_id, r, config=spec.config, suite=suite.name, task=spec.task.name,
                                method=spec.method.label, seed=spec.seed, version=r.get("version"),
                                finished_at=r.get("finished_at"))
    keys = _floor_keys(suite)
    known = db.cached(key for key, _ in keys.values())
    cached = 0
    for (name, seed), res in (found or {}).items():
        key = keys.get((name, int(seed)), (None,))[0]
        if key is not None and key not in known:
            db.cache(key, {"status": res.get("status"), "metrics": res.get("metrics") or {}})
            cached += 1
    return added, cached


def floors(suite: Suite, db: ResultsStore, *, compute: bool = True, progress=None) -> dict[tuple[str, int], dict]:
    """(task name, seed) -> the data floor's result ({"status", "reason", "metrics", "timings"}) for every task
    and seed of `suite`: read from the store's cache, the missing ones computed (`execute_floor`) and cached
    when `compute` (else left out). progress: optional callable(task name, seed) called before each computation.

    A floor costs one training, one test and one floor trajectory and the task's metrics (seconds to tens of
    seconds at 100 000 test points); computed once per store, task and seed, then read."""
    wanted = _floor_keys(suite)
    cached = db.cached(key for key, _ in wanted.values())
    out = {}
    for (name, seed), (key, config) in wanted.items():
        if key in cached:
            out[(name, seed)] = cached[key]
        elif compute:
            if progress is not None:
                progress(name, seed)
            result = execute_floor(config, suite.components)
            db.cache(key, result)
            out[(name, seed)] = result
    return out


def floor_rows(suite: Suite, found: dict[tuple[str, int], dict], metrics: list[str]) -> list[dict]:
    """One data-floor row per task of `suite` from `found` ((task name, seed) -> a result with "status" and
    "metrics", as `floors` returns or an export holds), in the leaderboard's row format."""
    rows = []
    for task in suite.tasks:
        runs = [(task.metrics, found.get((task.name, seed))) for seed in task.seeds]
        rows.append(_stats_row(task.name, FLOOR_LABEL, FLOOR, runs, metrics))
    return rows


def quantile(values, q: float) -> float:
    """Quantile with linear interpolation between order statistics (numpy's default), exact when one of them is
    infinite: the quantile is the order statistic itself where the weight of the other is 0, else the infinity."""
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    frac = pos - lo
    if frac == 0:
        return float(v[lo])
    a, b = v[lo], v[lo + 1]
    if math.isinf(a) or math.isinf(b):
        return float(a if math.isinf(a) else b)
    return float(a + (b - a) * frac)


def average_ranks(x: list[float]) -> list[float]:
    """Ranks 1..n of x (ascending), ties sharing their average rank (scipy.stats.rankdata 'average')."""
    order = sorted(range(len(x)), key=lambda i: x[i])
    ranks = [0.0] * len(x)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _rank(rows: list[dict], metrics: list[str]) -> None:
    """Ranks within each (task, kind): the models among the models, data replay among data replay."""
    by_task: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        by_task.setdefault((r["task"], r.get("kind", MODEL)), []).append(r)
    for task_rows in by_task.values():
        for m in metrics:
            ranked = [r for r in task_rows if r[f"{m}_median"] is not None]
            if not ranked:
                continue
            sign = -1.0 if m in HIGHER_IS_BETTER else 1.0
            ranks = average_ranks([sign * r[f"{m}_median"] for r in ranked])
            for r, k in zip(ranked, ranks):
                r[f"{m}_rank"] = float(k)
        for r in task_rows:
            ks = [r[f"{m}_rank"] for m in metrics if r[f"{m}_rank"] is not None]
            r["mean_rank"] = sum(ks) / len(ks) if ks else None


def _one(suite: Suite, task: str, seed: int) -> Suite:
    """`suite` reduced to one task and one seed."""
    from dataclasses import replace

    return replace(suite, tasks=[replace(t, seeds=(seed,)) for t in suite.tasks if t.name == task])


def _suite_and_store(suite, store, fast, components):
    from .runner import default_store_path

    if isinstance(suite, Suite):
        s_fast = s_full = suite
        fast = suite.fast
    else:
        s_full = load_suite(suite, fast=False, components=components, check_names=False)
        s_fast = load_suite(suite, fast=True, components=components, check_names=False)
    path = store if store is not None else default_store_path(s_full)
    if not isinstance(path, ResultsStore) and not Path(path).exists():
        raise ValueError(f"no results store at {path}: run the suite first (or pass store=)")
    db = path if isinstance(path, ResultsStore) else ResultsStore(path)
    if fast is None:
        # the mode with more finished rows in this store
        n_full = sum(1 for st in db.states([s.run_id for s in s_full.runs()]).values() if st["status"] != "running")
        n_fast = sum(1 for st in db.states([s.run_id for s in s_fast.runs()]).values() if st["status"] != "running")
        fast = n_fast > n_full
    return (s_fast if fast else s_full), db, not isinstance(path, ResultsStore)


def results(suite, *, store=None, fast: bool | None = None, components: Components | None = None,
            floor: bool = True, progress=None) -> ResultsTable:
    """The leaderboard of a suite from its store.

    suite: suite file path or `Suite`. store: path or ResultsStore (default results/<suite stem>.sqlite).
    fast: which settings' runs to tabulate; None picks the one with more finished runs in the store.
    floor: add each task's data-floor row (`floors`: computed where the store has no cached value yet, for the
    seeds that have at least one finished run, so a partial store costs only its own floors). progress: passed
    to `floors`.
    """
    s, db, close = _suite_and_store(suite, store, fast, components)
    try:
        specs = s.runs()
        rows = {r["run_id"]: r for r in db.rows([x.run_id for x in specs])}
        table = summarize(s.name + (" (fast)" if s.fast else ""), specs, rows)
        if floor:
            done = {(x.task.name, x.seed) for x in specs if x.run_id in rows and rows[x.run_id]["status"] != "running"}
            found = floors(s, db, compute=False)
            for (task, seed) in sorted(done - set(found)):
                found.update(floors(_one(s, task, seed), db, progress=progress))
            table.floor = floor_rows(s, found, table.metrics)
        return table
    finally:
        if close:
            db.close()
