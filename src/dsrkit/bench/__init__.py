"""Benchmarks: suites as data, a resumable SQLite results store, local and Ray executors, leaderboard and report.

    suite = dsrkit.bench.load_suite("suites/core.toml", fast=True)
    summary = dsrkit.bench.run_suite(suite, workers=2)          # resumable; results/core.sqlite
    table = dsrkit.bench.results("suites/core.toml")            # median [IQR] per task x method, ranks
    dsrkit.bench.report("suites/core.toml", "results/core.html")
"""

from .commands import bench_report, bench_results, bench_run
from .components import Components
from .execute import build_data, execute_run
from .executors import LocalExecutor, RayExecutor, make_executor
from .leaderboard import ResultsTable, results, summarize
from .report import report
from .runner import RunSummary, default_store_path, run_suite
from .store import ResultsStore
from .suite import Method, RunSpec, Suite, Task, load_suite, parse_suite, run_config, run_id

__all__ = [
    "Components", "LocalExecutor", "Method", "RayExecutor", "ResultsStore", "ResultsTable", "RunSpec", "RunSummary",
    "Suite", "Task", "bench_report", "bench_results", "bench_run", "build_data", "default_store_path", "execute_run",
    "load_suite", "make_executor", "parse_suite", "report", "results", "run_config", "run_id", "run_suite",
    "summarize",
]
