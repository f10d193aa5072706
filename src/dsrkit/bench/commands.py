"""The three `dsr bench` commands as plain functions (the CLI only parses arguments and calls these).

    dsr bench SUITE.toml [--executor local|ray] [--workers N] [--address A] [--fast] [--store PATH] [--time-limit S]
        [--retry-failed] [--task NAME ...] [--method NAME ...] [--seed K ...]
        -> bench_run(suite, executor=, workers=, address=, fast=, store=, time_limit=, retry_failed=, tasks=,
                     methods=, seeds=)
    dsr bench results SUITE [--csv F] [--json F] [--force] [--store PATH] [--fast]
        -> bench_results(suite, csv=, json=, force=, ...)
    dsr bench report SUITE [--out F] [--force] [--store PATH] [--fast]  -> bench_report(suite, out=, force=, ...)

Each returns the process exit code (0 on success); invalid suites raise ValueError with file, line and key, an
invalid option a ValueError naming it, an existing export file FileExistsError (unless force), a directory where a
file is expected IsADirectoryError, a store path that is not a results store `StoreError` (a ValueError).
"""

from __future__ import annotations

import sys

from .._files import check_writable
from .html_report import report
from .leaderboard import results
from .runner import check_time_limit, run_suite
from .suite import load_suite


def bench_run(suite: str, *, executor: str = "local", workers: int | None = None, address: str | None = None,
              fast: bool = False, store: str | None = None, time_limit: float | None = None,
              retry_failed: bool = False, progress: bool = True, tasks=None, methods=None, seeds=None,
              group_seeds: bool = False) -> int:
    """Run (or resume) a suite, or the slice of it named by `tasks` / `methods` / `seeds` (see `Suite.select`),
    and print a summary. retry_failed: run again the runs recorded as failed (errors, timeouts, workers that
    died). group_seeds: see `run_suite`. Failed runs are results: the exit code is 0 unless the suite could not
    be run at all."""
    time_limit = check_time_limit(time_limit, "--time-limit")
    if tasks or methods or seeds is not None:
        suite = load_suite(suite, fast=fast).select(tasks=tasks, methods=methods, seeds=seeds)
    summary = run_suite(suite, executor=executor, workers=workers, address=address, fast=fast, store=store,
                        time_limit=time_limit, progress=progress, retry_failed=retry_failed, group_seeds=group_seeds)
    print(f"{summary.suite}: {summary.total} runs; {summary.skipped} already done, {summary.ok} ok, "
          f"{summary.diverged} diverged, {summary.failed} failed, {summary.by_others} by other runners; "
          f"{summary.wall_s:.1f} s; store {summary.store}")
    for task, method, seed, reason in summary.failures[:20]:
        print(f"  {task} / {method} / seed {seed}: {reason[:160]}")
    if len(summary.failures) > 20:
        print(f"  ... and {len(summary.failures) - 20} more (see `dsr bench report`)")
    if summary.failed and not retry_failed:
        print("  (failed runs are kept; `--retry-failed` runs them again, e.g. after a timeout or a killed worker)")
    return 0


def bench_results(suite: str, *, csv: str | None = None, json: str | None = None, store: str | None = None,
                  fast: bool | None = None, force: bool = False, file=None) -> int:
    """Print the leaderboard (markdown) and optionally export it as CSV and/or JSON. Both export paths are checked
    before anything is written: an existing file is replaced only with `force`."""
    exports = [p for p in (csv, json) if p]
    if len(exports) == 2 and check_writable(csv, overwrite=True).resolve() == check_writable(json, overwrite=True).resolve():
        raise ValueError(f"--csv and --json name the same file {csv}; give two different files")
    for path in exports:
        check_writable(path, overwrite=force)
    table = results(suite, store=store, fast=fast)
    out = file or sys.stdout
    print(f"# {table.suite}\n", file=out)
    print(table.to_markdown(), file=out)
    print(f"\n{table.notes}", file=out)
    if csv:
        print(f"wrote {table.to_csv(csv, overwrite=force)}", file=out)
    if json:
        print(f"wrote {table.to_json(json, overwrite=force)}", file=out)
    return 0


def bench_report(suite: str, *, out: str | None = None, store: str | None = None, fast: bool | None = None,
                 force: bool = False) -> int:
    """Write the HTML report (default results/<suite stem>.html; an existing file is replaced only with `force`)
    and print its path."""
    print(f"wrote {report(suite, out, store=store, fast=fast, overwrite=force)}")
    return 0
