"""The three `dsr bench` commands as plain functions (the CLI only parses arguments and calls these).

    dsr bench SUITE.toml [--executor local|ray] [--workers N] [--address A] [--fast] [--store PATH] [--time-limit S]
        [--task NAME ...] [--method NAME ...] [--seed K ...]
        -> bench_run(suite, executor=, workers=, address=, fast=, store=, time_limit=, tasks=, methods=, seeds=)
    dsr bench results SUITE [--csv F] [--json F] [--store PATH] [--fast]   -> bench_results(suite, csv=, json=, ...)
    dsr bench report SUITE [--out F] [--store PATH] [--fast]               -> bench_report(suite, out=, ...)

Each returns the process exit code (0 on success); invalid suites raise ValueError with file, line and key.
"""

from __future__ import annotations

import sys

from .leaderboard import results
from .html_report import report
from .runner import run_suite
from .suite import load_suite


def bench_run(suite: str, *, executor: str = "local", workers: int | None = None, address: str | None = None,
              fast: bool = False, store: str | None = None, time_limit: float | None = None,
              progress: bool = True, tasks=None, methods=None, seeds=None) -> int:
    """Run (or resume) a suite, or the slice of it named by `tasks` / `methods` / `seeds` (see `Suite.select`),
    and print a summary. Failed runs are results: the exit code is 0 unless the suite could not be run at all."""
    if tasks or methods or seeds is not None:
        suite = load_suite(suite, fast=fast).select(tasks=tasks, methods=methods, seeds=seeds)
    summary = run_suite(suite, executor=executor, workers=workers, address=address, fast=fast, store=store,
                        time_limit=time_limit, progress=progress)
    print(f"{summary.suite}: {summary.total} runs; {summary.skipped} already done, {summary.ok} ok, "
          f"{summary.diverged} diverged, {summary.failed} failed, {summary.by_others} by other runners; "
          f"{summary.wall_s:.1f} s; store {summary.store}")
    for task, method, seed, reason in summary.failures[:20]:
        print(f"  {task} / {method} / seed {seed}: {reason[:160]}")
    if len(summary.failures) > 20:
        print(f"  ... and {len(summary.failures) - 20} more (see `dsr bench report`)")
    return 0


def bench_results(suite: str, *, csv: str | None = None, json: str | None = None, store: str | None = None,
                  fast: bool | None = None, file=None) -> int:
    """Print the leaderboard (markdown) and optionally export it as CSV and/or JSON."""
    table = results(suite, store=store, fast=fast)
    out = file or sys.stdout
    print(f"# {table.suite}\n", file=out)
    print(table.to_markdown(), file=out)
    print(f"\n{table.notes}", file=out)
    if csv:
        print(f"wrote {table.to_csv(csv)}", file=out)
    if json:
        print(f"wrote {table.to_json(json)}", file=out)
    return 0


def bench_report(suite: str, *, out: str | None = None, store: str | None = None, fast: bool | None = None) -> int:
    """Write the HTML report (default results/<suite stem>.html) and print its path."""
    print(f"wrote {report(suite, out, store=store, fast=fast)}")
    return 0
