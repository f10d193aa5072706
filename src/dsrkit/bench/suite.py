"""Benchmark suites as data: a TOML file of tasks (what to reconstruct) and methods (what reconstructs it).

Layout of a suite file (every key optional unless marked)::

    [suite]
    name = "core"                 # default: the file stem
    description = "..."

    [defaults]                    # task keys applied to every [[tasks]] entry that does not set them
    n_train = 10000
    seeds = [0, 1, 2, 3, 4]       # or a count: seeds = 5 means [0, 1, 2, 3, 4]
    tune = 8                      # tune every method that has a search space, 8 trials (default 0: no tuning)

    [[tasks]]
    system = "lorenz63"           # required: one of system, systems (a glob over system names) or data
    name = "lorenz63-noise5"      # default: system name, plus "-noise<percent>" when noise > 0
    params = { rho = 28.0 }       # system parameters
    noise = 0.05                  # observation noise on the training data (relative, as systems.trajectory)

    [[methods]]
    name = "alrnn"                # required: a name of dsrkit.baselines.names()
    params = { latent_dim = 20 }
    grid = { relu_units = [1, 2] }   # expanded to the product of all grid lists
    per_task = { "lorenz96*" = { latent_dim = 100 } }   # task-name glob -> parameters for matching tasks
    fast = { epochs = 20 }        # parameter overrides under --fast (applied last)
    tune = 8                      # trials of the tuning step (`dsrkit.bench.tuning`); 0: no tuning; default the
                                  # [defaults] value; a tuned method's label defaults to "<name>-tuned"

    [fast]                        # task-key overrides under --fast (for CI)
    n_train = 2000
    seeds = [0]
    tune = 2                      # under --fast, the trials of every tuned method (0: none is tuned)
    tasks = ["lorenz63"]          # optional: only these tasks (names) and methods (labels or names) under --fast
    methods = ["alrnn"]

Task keys: see `TASK_KEYS`. The run protocol ("free_run", the field's standard): the method is fitted to the
training trajectory and rolled out from the first test point by the evaluation protocol's free run
(`dsrkit.rollout.protocol_free_run`, rollout factor 1 + warmup, transient fraction warmup): round((1 + warmup) T)
steps, at least T + round(warmup T), of which the first round(warmup T) are dropped as transient (warmup = 0.25 by
default, i.e. 1.25 T in all); each metric compares the next T steps with the test trajectory of length T.

Tuning (`tune` > 0): the method's hyperparameters are chosen on the last 20 % of the training trajectory
(`dsrkit.bench.tuning.tune`: the same number of trials for every method, the defaults among them, the suite's
parameters held fixed, each trial's free run as long as the evaluation's) and the choice is refitted on the whole
training trajectory; the test trajectory is used only for the metrics. The trial count is part of the run's configuration (a tuned run never shares an id with an untuned
one) and the chosen values and the trial table are stored with the run. A `[defaults]` tune applies to the methods
that declare a search space and leaves the others (mean, parroting, the PLRNN family) untuned; a method's own
`tune` > 0 on a method without one is an error.

Errors name the file, the line (where it can be found) and the key:
``suite.toml:12: [[tasks]] #2 key 'noise': expected a number >= 0, got 'x'``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .components import DEFAULT, Components

PROTOCOLS = ("free_run",)
DEFAULT_METRICS = ("state_space_divergence", "power_spectrum_distance")

# key -> (checker name, default); checkers below.
TASK_KEYS: dict[str, tuple[str, object]] = {
    "name": ("str", None),
    "system": ("str", None),
    "systems": ("str", None),
    "exclude": ("str_list", ()),
    "data": ("str", None),
    "params": ("table", {}),
    "noise": ("nonneg", 0.0),
    "test_noise": ("nonneg", 0.0),
    "n_train": ("posint", 10_000),
    "n_test": ("posint", 10_000),
    "dt": ("pos", None),
    "transient": ("nonnegint", 1000),
    "standardize": ("bool", True),
    "seeds": ("seeds", (0, 1, 2, 3, 4)),
    "metrics": ("str_list", DEFAULT_METRICS),
    "metric_options": ("table", {}),
    "protocol": ("protocol", "free_run"),
    "warmup": ("fraction", 0.25),
    "time_limit": ("pos", None),
}
DEFAULTABLE = set(TASK_KEYS) - {"name", "system", "systems", "data", "exclude"}
FAST_SELECTORS = ("tasks", "methods")  # [fast] only: the task names and method names/labels run under --fast
METHOD_KEYS = {"name", "label", "params", "grid", "per_task", "fast", "tune"}
SUITE_WIDE = ("tune",)  # [defaults] / [fast] keys that are not task keys: the trials of the tuning step
TOP_KEYS = {"suite", "defaults", "tasks", "methods", "fast"}
SUITE_KEYS = {"name", "description"}

_EXPECT = {
    "str": "a string",
    "str_list": "a list of strings",
    "table": "a table",
    "nonneg": "a number >= 0",
    "pos": "a number > 0",
    "posint": "an integer > 0",
    "nonnegint": "an integer >= 0",
    "bool": "true or false",
    "seeds": "a list of integers >= 0 or a count > 0",
    "protocol": "one of " + ", ".join(repr(p) for p in PROTOCOLS),
    "fraction": "a number in [0, 1)",
}


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _convert(kind: str, v):
    """The checked and normalised value, or raise _Bad."""
    ok = {
        "str": lambda: isinstance(v, str) and v != "",
        "str_list": lambda: isinstance(v, list) and all(isinstance(s, str) and s for s in v),
        "table": lambda: isinstance(v, dict),
        "nonneg": lambda: _is_num(v) and math.isfinite(v) and v >= 0,
        "pos": lambda: _is_num(v) and math.isfinite(v) and v > 0,
        "posint": lambda: _is_int(v) and v > 0,
        "nonnegint": lambda: _is_int(v) and v >= 0,
        "bool": lambda: isinstance(v, bool),
        "seeds": lambda: (_is_int(v) and v > 0)
        or (isinstance(v, list) and v and all(_is_int(s) and s >= 0 for s in v) and len(set(v)) == len(v)),
        "protocol": lambda: v in PROTOCOLS,
        "fraction": lambda: _is_num(v) and 0 <= v < 1,
    }[kind]()
    if not ok:
        raise _Bad(_EXPECT[kind])
    if kind in ("nonneg", "pos", "fraction"):
        return float(v)
    if kind == "str_list":
        return tuple(v)
    if kind == "seeds":
        return tuple(range(v)) if _is_int(v) else tuple(v)
    return v


class _Bad(Exception):
    pass


@dataclass(frozen=True)
class Task:
    """One reconstruction problem: where the data come from, how much, and how runs are judged."""

    name: str
    system: str | None
    data: str | None
    params: dict
    noise: float
    test_noise: float
    n_train: int
    n_test: int
    dt: float | None
    transient: int
    standardize: bool
    seeds: tuple[int, ...]
    metrics: tuple[str, ...]
    metric_options: dict
    protocol: str
    warmup: float
    time_limit: float | None
    data_sha256: str | None = None

    def config(self) -> dict:
        """The settings that determine a run's result (cosmetic name, seeds list and time limit excluded)."""
        source = {"system": self.system, "params": self.params} if self.system else {"data_sha256": self.data_sha256}
        return {
            **source,
            "noise": self.noise,
            "test_noise": self.test_noise,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "dt": self.dt,
            "transient": self.transient,
            "standardize": self.standardize,
            "metrics": list(self.metrics),
            "metric_options": self.metric_options,
            "protocol": self.protocol,
            "warmup": self.warmup,
        }


@dataclass(frozen=True)
class Method:
    """A method at one point of its hyperparameter grid. `label` names it in tables.

    per_task: (task-name glob, parameters) pairs applied, in order, to the tasks they match (e.g. a larger latent
    dimension for a high-dimensional system); last: parameters applied after those (the --fast overrides);
    tune: trials of the tuning step (`dsrkit.bench.tuning`), 0 for none."""

    name: str
    label: str
    params: dict
    per_task: tuple = ()
    last: dict = field(default_factory=dict)
    tune: int = 0

    def params_for(self, task_name: str) -> dict:
        """The parameters this method runs with on task `task_name`."""
        out = dict(self.params)
        for pattern, p in self.per_task:
            if fnmatch.fnmatchcase(task_name, pattern):
                out.update(p)
        out.update(self.last)
        return out


@dataclass(frozen=True)
class RunSpec:
    """One run: (task, method, seed). `config` is its canonical JSON-able configuration, `run_id` its hash."""

    task: Task
    method: Method
    seed: int
    config: dict
    run_id: str


def canonical_json(obj) -> str:
    """Deterministic JSON: sorted keys, no spaces, NaN/inf rejected."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def run_config(task: Task, method: Method, seed: int, components: Components | None = None) -> dict:
    """Full configuration of one run. Data seeds: training trajectory 2*seed, test trajectory 2*seed + 1 (independent
    initial conditions and noise); the method is fitted with seed=seed.

    components: the registries the run is resolved against. Other than the default ones (dsrkit.systems, baselines,
    metrics), their import paths are part of the configuration under "components", so the same names in another
    registry are another run (another run id); with the default registries the configuration has no such key and
    the run ids are those of earlier dsrkit versions' stores. A tuned method (`Method.tune` > 0) adds
    config["method"]["tune"] = {"trials", "validation_fraction", "basin_check"}, so tuned and untuned runs have
    different ids (and tuned runs scored without the basin check, from stores of earlier versions, are other runs);
    untuned configurations are unchanged."""
    config = {
        "task": task.config(),
        "data_path": task.data,
        "method": {"name": method.name, "params": method.params_for(task.name)},
        "seed": seed,
        "data_seeds": {"train": 2 * seed, "test": 2 * seed + 1},
    }
    if method.tune:
        from .tuning import BASIN_CHECK, VALIDATION_FRACTION

        config["method"]["tune"] = {"trials": method.tune, "validation_fraction": VALIDATION_FRACTION,
                                    "basin_check": BASIN_CHECK}
    if components is not None and components != DEFAULT:
        config["components"] = {"systems": components.systems, "methods": components.methods,
                                "metrics": components.metrics}
    return config


def run_id(config: dict, version: str | None = None) -> str:
    """sha256 of the canonical JSON of the run configuration (without the local data path) and the dsrkit version.

    The configuration names non-default component registries (see `run_config`), so runs resolved against
    different registries never share an id (and never satisfy each other in a store)."""
    if version is None:
        from .._version import __version__ as version
    hashed = {k: v for k, v in config.items() if k != "data_path"}
    return hashlib.sha256(canonical_json({"config": hashed, "version": version}).encode()).hexdigest()


@dataclass
class Suite:
    """A parsed suite: tasks x methods x seeds. `fast` tells whether the [fast] overrides were applied."""

    name: str
    path: Path | None
    description: str
    tasks: list[Task]
    methods: list[Method]
    fast: bool = False
    components: Components = field(default=DEFAULT)

    @property
    def stem(self) -> str:
        return self.path.stem if self.path is not None else self.name

    def select(self, tasks=None, methods=None, seeds=None) -> "Suite":
        """A slice of this suite: only the named tasks, the methods with these labels or names
        (`matching_methods`), and these seeds (each task keeps those of its seeds that are listed). Runs keep their
        ids, so a slice fills the same store as the whole suite and a later full run skips what the slice
        finished.

        Raises ValueError naming what is unknown and what exists."""
        out = self
        if tasks:
            known = [t.name for t in self.tasks]
            unknown = [t for t in tasks if t not in known]
            if unknown:
                raise ValueError(f"unknown task(s) {unknown} in suite {self.name!r}; tasks: {', '.join(known)}")
            out = replace(out, tasks=[t for t in out.tasks if t.name in tasks])
        if methods:
            known = sorted({m.name for m in self.methods} | {m.label for m in self.methods})
            unknown = [m for m in methods if m not in known]
            if unknown:
                raise ValueError(f"unknown method(s) {unknown} in suite {self.name!r}; methods: {', '.join(known)}")
            out = replace(out, methods=matching_methods(out.methods, methods))
        if seeds is not None:
            wanted = {int(s) for s in seeds}
            out = replace(out, tasks=[replace(t, seeds=tuple(s for s in t.seeds if s in wanted)) for t in out.tasks])
            if not any(t.seeds for t in out.tasks):
                raise ValueError(f"no task of suite {self.name!r} has seed(s) {sorted(wanted)}")
        return out

    def runs(self) -> list[RunSpec]:
        """Every run of the suite, task-major, then method, then seed."""
        out = []
        for task in self.tasks:
            for method in self.methods:
                for seed in task.seeds:
                    cfg = run_config(task, method, seed, self.components)
                    out.append(RunSpec(task, method, seed, cfg, run_id(cfg)))
        return out


def matching_methods(methods: list[Method], wanted) -> list[Method]:
    """The methods that `wanted` (labels or names) selects, in suite order: an entry equal to a method's label
    selects the methods with that label; any other entry selects the methods of that name (all grid points, tuned
    and untuned). So "esn" picks the untuned ESN of a suite that also has "esn-tuned", and "linear" every grid point
    "linear(ridge=...)"."""
    keep = set()
    for w in wanted:
        by_label = {k for k, m in enumerate(methods) if m.label == w}
        keep |= by_label or {k for k, m in enumerate(methods) if m.name == w}
    return [m for k, m in enumerate(methods) if k in keep]


class _Checker:
    """Formats 'file:line: where key 'k': expected ..., got ...' errors, finding lines by scanning the text."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.lines = text.splitlines()

    def _header_line(self, table: str, index: int | None) -> int | None:
        pat = re.compile(r"^\s*\[\[\s*%s\s*\]\]" % re.escape(table) if index is not None else r"^\s*\[\s*%s\s*\]" % re.escape(table))
        count = 0
        for i, line in enumerate(self.lines):
            if pat.match(line):
                count += 1
                if index is None or count == index:
                    return i
        return None

    def line_of(self, table: str | None, index: int | None, key: str | None) -> int | None:
        start = 0 if table is None else self._header_line(table, index)
        if start is None:
            return None
        if key is None:
            return start + 1
        key_pat = re.compile(r"""^\s*["']?%s["']?\s*=""" % re.escape(key.split(".")[0]))
        first = start + 1 if table is not None else 0
        for i in range(first, len(self.lines)):
            if i > start and re.match(r"^\s*\[", self.lines[i]):
                break
            if key_pat.match(self.lines[i]):
                return i + 1
        return start + 1 if table is not None else None

    def error(self, table: str | None, index: int | None, key: str | None, message: str) -> ValueError:
        line = self.line_of(table, index, key)
        where = "" if table is None else (f"[[{table}]] #{index}" if index is not None else f"[{table}]")
        if key is not None:
            where = f"{where} key '{key}'".strip()
        loc = f"{self.path}:{line}" if line is not None else self.path
        return ValueError(f"{loc}: {where}: {message}" if where else f"{loc}: {message}")

    def value(self, table, index, key, kind, v):
        try:
            return _convert(kind, v)
        except _Bad as e:
            raise self.error(table, index, key, f"expected {e}, got {v!r}") from None

    def unknown(self, table, index, d: dict, allowed, what: str):
        for k in d:
            if k not in allowed:
                raise self.error(table, index, k, f"unknown key; {what} keys are: {', '.join(sorted(allowed))}")


def _pct(x: float) -> str:
    return f"{100 * x:g}".replace(".", "p")


def _method_label(name: str, grid_point: dict) -> str:
    if not grid_point:
        return name
    return name + "(" + ",".join(f"{k}={grid_point[k]}" for k in sorted(grid_point)) + ")"


#: The suites that ship with dsrkit (`dsr bench core`): src/dsrkit/suites/<name>.toml, installed as package data.
SUITES_DIR = Path(__file__).resolve().parents[1] / "suites"


def suite_names() -> list[str]:
    """Names of the suites shipped with dsrkit (`dsr bench NAME` runs one), sorted."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def find_suite(suite) -> Path:
    """The suite file that `suite` names: an existing path (a .toml file), else the name of a shipped suite
    ("core", or "core.toml"; see `suite_names`). ValueError naming both choices when it is neither."""
    path = Path(suite)
    if path.exists():
        return path
    name = path.name[:-len(".toml")] if path.name.endswith(".toml") else path.name
    if str(path) == path.name and name in suite_names():
        return SUITES_DIR / f"{name}.toml"
    raise ValueError(f"{suite}: no such suite file, and not the name of a suite shipped with dsrkit; give a .toml "
                     f"file or one of: {', '.join(suite_names())}")


def load_suite(path, *, fast: bool = False, components: Components | None = None, check_names: bool = True) -> Suite:
    """Parse and validate a suite file.

    path: a .toml file, or the name of a suite shipped with dsrkit ("core", "catalogue": `suite_names()`).
    fast: apply the [fast] block and the methods' `fast` parameter overrides.
    components: registries the names are checked against (default dsrkit.systems / baselines / metrics); where a
    registry cannot list its names, that kind of name is checked only when a run starts.
    Raises ValueError naming file, line and key for any invalid content (TOML syntax errors carry tomllib's
    line and column).
    """
    path = find_suite(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{path}: cannot read suite file ({e.strerror})") from None
    return parse_suite(text, name=str(path), path=path, fast=fast, components=components, check_names=check_names)


def parse_suite(text: str, *, name: str = "suite.toml", path: Path | None = None, fast: bool = False,
                components: Components | None = None, check_names: bool = True) -> Suite:
    """Like `load_suite` from TOML text; `name` is used in error messages, relative data paths resolve against
    `path`'s folder (or the working directory)."""
    components = components or DEFAULT
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{name}: invalid TOML: {e}") from None
    ck = _Checker(name, text)
    ck.unknown(None, None, doc, TOP_KEYS, "top-level")

    head = doc.get("suite", {})
    if not isinstance(head, dict):
        raise ck.error(None, None, "suite", f"expected a table, got {head!r}")
    ck.unknown("suite", None, head, SUITE_KEYS, "[suite]")
    suite_name = ck.value("suite", None, "name", "str", head["name"]) if "name" in head else (path.stem if path else "suite")
    description = ck.value("suite", None, "description", "str", head["description"]) if "description" in head else ""

    defaults = {}
    select = {}
    tune = {}  # "defaults" / "fast" -> trials
    for block in ("defaults", "fast"):
        tbl = doc.get(block, {})
        if not isinstance(tbl, dict):
            raise ck.error(None, None, block, f"expected a table, got {tbl!r}")
        tbl = dict(tbl)
        if "tune" in tbl:
            tune[block] = ck.value(block, None, "tune", "nonnegint", tbl.pop("tune"))
        if block == "fast":  # subsets run under --fast
            select = {k: ck.value(block, None, k, "str_list", tbl.pop(k)) for k in FAST_SELECTORS if k in tbl}
        allowed = DEFAULTABLE | set(SUITE_WIDE) | (set(FAST_SELECTORS) if block == "fast" else set())
        ck.unknown(block, None, tbl, allowed, f"[{block}]")
        defaults[block] = {k: ck.value(block, None, k, TASK_KEYS[k][0], v) for k, v in tbl.items()}

    raw_tasks = doc.get("tasks")
    if not isinstance(raw_tasks, list) or not raw_tasks or not all(isinstance(t, dict) for t in raw_tasks):
        raise ck.error(None, None, "tasks", "expected at least one [[tasks]] table")
    raw_methods = doc.get("methods")
    if not isinstance(raw_methods, list) or not raw_methods or not all(isinstance(m, dict) for m in raw_methods):
        raise ck.error(None, None, "methods", "expected at least one [[methods]] table")

    system_names = components.system_names() if check_names else None
    metric_names = components.metric_names() if check_names else None
    method_names = components.method_names() if check_names else None
    base = path.parent if path is not None else Path.cwd()

    tasks: list[Task] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_tasks, start=1):
        for t in _parse_task(ck, i, raw, defaults, fast, system_names, metric_names, base, components):
            if t.name in seen:
                raise ck.error("tasks", i, "name", f"duplicate task name {t.name!r} (also in [[tasks]] #{seen[t.name]})")
            seen[t.name] = i
            tasks.append(t)

    methods: list[Method] = []
    labels: dict[str, int] = {}
    for i, raw in enumerate(raw_methods, start=1):
        for m in _parse_method(ck, i, raw, fast, method_names, components, tune):
            if m.label in labels:
                raise ck.error("methods", i, "name", f"duplicate method label {m.label!r} (also in [[methods]] "
                               f"#{labels[m.label]}); give one a distinct 'label'")
            labels[m.label] = i
            methods.append(m)
    if fast and "tasks" in select:
        known = [t.name for t in tasks]
        for n in select["tasks"]:
            if n not in known:
                raise ck.error("fast", None, "tasks", f"unknown task {n!r}; tasks: {', '.join(known)}")
        tasks = [t for t in tasks if t.name in select["tasks"]]
    if fast and "methods" in select:
        known = {m.name for m in methods} | {m.label for m in methods}
        for n in select["methods"]:
            if n not in known:
                raise ck.error("fast", None, "methods", f"unknown method {n!r}; methods: {', '.join(sorted(known))}")
        methods = matching_methods(methods, select["methods"])
    return Suite(suite_name, path, description, tasks, methods, fast, components)


def _parse_task(ck, i, raw, defaults, fast, system_names, metric_names, base, components) -> list[Task]:
    ck.unknown("tasks", i, raw, TASK_KEYS, "[[tasks]]")
    vals = {k: ck.value("tasks", i, k, TASK_KEYS[k][0], v) for k, v in raw.items()}
    sources = [k for k in ("system", "systems", "data") if k in vals]
    if len(sources) != 1:
        raise ck.error("tasks", i, None, "expected exactly one of 'system', 'systems' (a glob) or 'data', "
                       f"got {sources or 'none'}")
    merged = {k: d for k, (_, d) in TASK_KEYS.items()}
    merged.update(defaults["defaults"])
    merged.update(vals)
    if fast:
        merged.update(defaults["fast"])
    if metric_names is not None:
        for m in merged["metrics"]:
            if m not in metric_names:
                raise ck.error("tasks", i, "metrics", f"unknown metric {m!r}; known: {', '.join(sorted(metric_names))}")
    if "data" in vals:
        if "dt" not in vals and "dt" not in defaults["defaults"]:
            raise ck.error("tasks", i, "dt", "a data task needs 'dt' (the sampling interval)")
        data = (base / vals["data"]).resolve()
        if not data.is_file():
            raise ck.error("tasks", i, "data", f"file not found: {data}")
        digest = hashlib.sha256(data.read_bytes()).hexdigest()
        name = vals.get("name", data.stem)
        return [_task(name, None, str(data), merged, digest)]
    if "system" in vals:
        systems = [vals["system"]]
        if system_names is not None and vals["system"] not in system_names:
            raise ck.error("tasks", i, "system", f"unknown system {vals['system']!r}; known: "
                           f"{', '.join(s for s in system_names if ':' not in s)}{_catalogue_hint(vals['system'])}")
    else:
        if system_names is None:
            raise ck.error("tasks", i, "systems", "cannot expand a glob: the system registry does not list its names")
        systems = [s for s in system_names if fnmatch.fnmatchcase(s, vals["systems"]) and s not in merged["exclude"]]
        if not systems:
            raise ck.error("tasks", i, "systems", f"pattern {vals['systems']!r} matches no system"
                           f"{_catalogue_hint(vals['systems'])}")
        if "name" in vals:
            raise ck.error("tasks", i, "name", "a 'systems' glob names its tasks after the systems; drop 'name'")
    if system_names is not None and "system" in vals:
        _try_build(ck, i, "params", lambda: components.system(vals["system"], **merged["params"]))
    out = []
    for s in systems:
        name = vals.get("name") or (s + (f"-noise{_pct(merged['noise'])}" if merged["noise"] > 0 else ""))
        out.append(_task(name, s, None, merged, None))
    return out


def _catalogue_hint(name: str) -> str:
    if ":" in name:
        return (" (catalogue names are '<catalogue>:<Name>', e.g. 'dysts:Lorenz'; the dysts catalogue needs "
                "pip install 'dsrkit[dysts]')")
    return ""


def _try_build(ck, i, key, build, table="tasks"):
    """Construct the system / method once so that bad parameters are reported at load time with the line."""
    try:
        build()
    except ImportError:  # a missing optional extra: the runs fail with the install hint as their reason
        pass
    except (ValueError, TypeError, KeyError) as e:
        raise ck.error(table, i, key, f"{type(e).__name__}: {e}") from None


def _task(name, system, data, m, digest) -> Task:
    return Task(name=name, system=system, data=data, params=dict(m["params"]), noise=m["noise"],
                test_noise=m["test_noise"], n_train=m["n_train"], n_test=m["n_test"], dt=m["dt"],
                transient=m["transient"], standardize=m["standardize"], seeds=tuple(m["seeds"]),
                metrics=tuple(m["metrics"]), metric_options=dict(m["metric_options"]), protocol=m["protocol"],
                warmup=m["warmup"], time_limit=m["time_limit"], data_sha256=digest)


def _search_space(components, name) -> dict | None:
    """The search space of registry method `name` ({} when it has none; None when it cannot be constructed here)."""
    try:
        return dict(getattr(type(components.method(name)), "_search_space", None) or {})
    except Exception:  # a missing optional extra or a registry that needs parameters: decided when the run starts
        return None


def _tune_trials(ck, i, raw, name, fast, tune, method_names, components) -> int:
    """Trials of the tuning step of [[methods]] #i: its own `tune`, else [defaults] tune; under --fast, [fast] tune
    replaces a non-zero count. 0 for a method without a search space unless it asked itself (then an error)."""
    own = ck.value("methods", i, "tune", "nonnegint", raw["tune"]) if "tune" in raw else None
    n = own if own is not None else tune.get("defaults", 0)
    if fast and n and "fast" in tune:
        n = tune["fast"]
    if not n or _search_space(components, name) != {}:
        return n
    if own is None:
        return 0
    tunable = [m for m in (method_names or []) if _search_space(components, m)]
    raise ck.error("methods", i, "tune", f"method {name!r} has no search space and cannot be tuned; methods with one: "
                   f"{', '.join(tunable) or 'none in this registry'}")


def _parse_method(ck, i, raw, fast, method_names, components, tune=None) -> list[Method]:
    ck.unknown("methods", i, raw, METHOD_KEYS, "[[methods]]")
    if "name" not in raw:
        raise ck.error("methods", i, None, "missing required key 'name'")
    name = ck.value("methods", i, "name", "str", raw["name"])
    if method_names is not None and name not in method_names:
        raise ck.error("methods", i, "name", f"unknown method {name!r}; known: {', '.join(sorted(method_names))}")
    params = dict(ck.value("methods", i, "params", "table", raw.get("params", {})))
    grid = dict(ck.value("methods", i, "grid", "table", raw.get("grid", {})))
    overrides = dict(ck.value("methods", i, "fast", "table", raw.get("fast", {})))
    for k, v in grid.items():
        if not isinstance(v, list) or not v:
            raise ck.error("methods", i, "grid", f"grid entry {k!r}: expected a non-empty list of values, got {v!r}")
        if k in params:
            raise ck.error("methods", i, "grid", f"{k!r} is set in both 'params' and 'grid'")
    per_task = []
    for pattern, p in ck.value("methods", i, "per_task", "table", raw.get("per_task", {})).items():
        if not isinstance(p, dict):
            raise ck.error("methods", i, "per_task", f"entry {pattern!r}: expected a table of parameters, got {p!r}")
        per_task.append((pattern, dict(p)))
    last = {}
    if fast:
        last = {k: v for k, v in overrides.items() if k not in grid}
        grid.update({k: [v] for k, v in overrides.items() if k in grid})
    label = ck.value("methods", i, "label", "str", raw["label"]) if "label" in raw else None
    trials = _tune_trials(ck, i, raw, name, fast, tune or {}, method_names, components)
    keys = sorted(grid)
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        point = dict(zip(keys, values))
        lab = (label + _method_label("", point) if label else _method_label(name + ("-tuned" if trials else ""), point))
        m = Method(name=name, label=lab, params={**params, **point}, per_task=tuple(per_task), last=last, tune=trials)
        if method_names is not None:
            _try_build(ck, i, "grid" if point else "params", lambda: components.method(name, **{**m.params, **m.last}),
                       table="methods")
            for pattern, _ in per_task:
                _try_build(ck, i, "per_task", lambda: components.method(name, **m.params_for(pattern)),
                           table="methods")
        out.append(m)
    return out
