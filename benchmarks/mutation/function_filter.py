"""Cosmic Ray filter: keep only chosen operators' mutations inside the functions named in the configuration.

    python function_filter.py SESSION.sqlite CONFIG.toml [--every K]

CONFIG.toml names the modules (`module-path`, one path or a list) and, under
`[cosmic-ray.filters.function-filter]`:

- `functions`: qualified names ("train"; "compiled_epoch.wrapped" for a function defined inside another;
  "TrainResult.best" for a method): a list when there is one module, else a table module path -> list. A
  mutation is kept when its first line lies in the body of one of them (from the first statement after the
  docstring to the last line, nested functions included; the signature's default values and the decorators are
  outside). Names are resolved in the modules' source when filtering, so the scope follows the functions when
  lines move; a name that is not found is an error, so a renamed function cannot silently drop out of scope.
- `optional-functions`: more names (same form), skipped without error where a module lacks them (the same
  configuration then also runs against older revisions, e.g. a function that was split out later).
- `operators`: regular expressions; an operator is kept when one matches its whole name (without "core/").
- `number-offsets`: "first" keeps only the first of NumberReplacer's two mutations of each literal (n + 1),
  "all" keeps both (n + 1, n − 1).

`--every K` keeps a systematic sample: every K-th of the selected mutants in source order (module, line, column,
operator, occurrence), starting with the first; for a quicker, approximate score.

Every other pending mutation is marked skipped, with the reason in its output.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

from cosmic_ray.config import load_config
from cosmic_ray.work_db import use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult


def function_ranges(source: str, names: list[str], optional=()) -> dict[str, tuple[int, int]]:
    """qualified name -> (first body line after the docstring, last line) for `names` and those of `optional` that
    exist; KeyError naming the missing `names`."""
    found: dict[str, tuple[int, int]] = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qual = f"{prefix}{child.name}"
                body = child.body
                if (len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                        and isinstance(body[0].value.value, str)):
                    body = body[1:]
                found[qual] = (body[0].lineno, child.end_lineno)
                visit(child, qual + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    missing = [n for n in names if n not in found]
    if missing:
        raise KeyError(f"functions not found in the module: {missing}")
    return {n: found[n] for n in [*names, *optional] if n in found}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session")
    parser.add_argument("config")
    parser.add_argument("--every", type=int, default=1, help="keep every K-th selected mutant (default 1: all)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    paths = config["module-path"]
    modules = [Path(p) for p in ([paths] if isinstance(paths, str) else paths)]
    sub = config.sub("filters", "function-filter")

    def per_module(value) -> dict[Path, list[str]]:
        if not value:
            return {}
        if isinstance(value, dict):
            return {Path(k): list(v) for k, v in value.items()}
        if len(modules) != 1:
            raise ValueError("with several modules, functions must be a table: module path -> names")
        return {modules[0]: list(value)}

    names, optional = per_module(sub["functions"]), per_module(sub.get("optional-functions", []))
    unknown = sorted(str(m) for m in set(names) | set(optional) if m not in modules)
    if unknown or set(modules) - set(names) - set(optional):
        raise ValueError(f"the function table must name exactly the modules of module-path {paths}")
    ranges = {}
    for m in modules:
        try:
            ranges[m] = function_ranges(m.read_text(), names.get(m, []), optional.get(m, []))
        except KeyError as exc:
            raise SystemExit(f"function-filter: {m}: {exc.args[0]}") from None
    keep_ops = [re.compile(p) for p in sub.get("operators", [".*"])]
    offsets = sub.get("number-offsets", "all")
    if offsets not in ("first", "all"):
        raise ValueError(f"number-offsets must be 'first' or 'all', got {offsets!r}")

    skipped: dict[str, list[str]] = {"outside the target functions": [], "operator not selected": [],
                                     "second NumberReplacer offset": [], f"not in the 1-in-{args.every} sample": []}
    selected, numbers_seen = [], set()
    with use_db(args.session) as db:
        items = sorted(db.pending_work_items, key=lambda it: (str(it.mutations[0].module_path),
                                                               it.mutations[0].operator_name,
                                                               it.mutations[0].occurrence))
        for item in items:
            (mutation,) = item.mutations
            line = mutation.start_pos[0]
            name = mutation.operator_name.split("/", 1)[-1]
            spans = ranges.get(Path(mutation.module_path), {}).values()
            position = (str(mutation.module_path), mutation.start_pos)
            if not any(a <= line <= b for a, b in spans):
                skipped["outside the target functions"].append(item.job_id)
            elif not any(p.fullmatch(name) for p in keep_ops):
                skipped["operator not selected"].append(item.job_id)
            elif name == "NumberReplacer" and offsets == "first" and position in numbers_seen:
                skipped["second NumberReplacer offset"].append(item.job_id)
            else:
                numbers_seen.add(position) if name == "NumberReplacer" else None
                selected.append(item)
        selected.sort(key=lambda it: (str(it.mutations[0].module_path), it.mutations[0].start_pos,
                                      it.mutations[0].operator_name, it.mutations[0].occurrence))
        kept = len(selected[::args.every])
        skipped[f"not in the 1-in-{args.every} sample"] = [it.job_id for i, it in enumerate(selected)
                                                          if i % args.every]
        for why, ids in skipped.items():
            if ids:
                db.set_multiple_results(ids, WorkResult(output=f"function-filter: {why}",
                                                        worker_outcome=WorkerOutcome.SKIPPED))
    detail = ", ".join(f"{len(ids)} {why}" for why, ids in skipped.items())
    scope = "; ".join(f"{m}: {', '.join(sorted(r))}" for m, r in ranges.items())
    print(f"function-filter ({scope}): {kept} mutants to run; skipped: {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
