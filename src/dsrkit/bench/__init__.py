"""Benchmarks: suites as data, a resumable SQLite results store, local and Ray executors, leaderboard and report.

    suite = dsrkit.bench.load_suite("core", fast=True)   # a shipped suite by name, or a path
    summary = dsrkit.bench.run_suite(suite, workers=2)          # resumable; results/core.sqlite
    table = dsrkit.bench.results("core")            # median [IQR] per task x method, ranks
    result = dsrkit.bench.tune("esn", train, dt, trials=8)   # hyperparameters chosen on a validation split
    dsrkit.bench.report("core", "results/core.html")

Submodules are imported on first use, so that worker processes load only what a run needs.
"""

import importlib

_EXPORTS = {
    "bench_report": "commands", "bench_results": "commands", "bench_run": "commands",
    "Components": "components",
    "build_data": "execute", "execute_run": "execute",
    "InlineExecutor": "executors", "LocalExecutor": "executors", "RayExecutor": "executors", "make_executor": "executors",
    "ResultsTable": "leaderboard", "results": "leaderboard", "summarize": "leaderboard",
    "report": "html_report",
    "RunSummary": "runner", "check_time_limit": "runner", "default_store_path": "runner", "run_suite": "runner",
    "ResultsStore": "store", "StoreError": "store",
    "Method": "suite", "RunSpec": "suite", "Suite": "suite", "Task": "suite", "load_suite": "suite",
    "find_suite": "suite", "suite_names": "suite",
    "parse_suite": "suite", "run_config": "suite", "run_id": "suite", "matching_methods": "suite",
    "TuningResult": "tuning", "search_space": "tuning", "tune": "tuning",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'dsrkit.bench' has no attribute {name!r}")


def __dir__():
    return __all__
