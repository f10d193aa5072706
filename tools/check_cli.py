"""Check the grammar of the `dsr` command line: one idea, one option name, help that states unit and default.

    python tools/check_cli.py                  # checks dsrkit.cli:app; exit 1 and one line per problem
    python tools/check_cli.py pkg.mod:app      # another typer app (the tests feed it broken fakes)

Rules (docs/cli.md, "Grammar"):
1. Every command has a docstring; every option and argument has help text; the group has `--version`, and `-h`
   works as well as `--help` on the group and on every command.
2. One idea, one name: of each group in `SYNONYMS` at most one name appears anywhere in the command line (so
   `--steps` in one command and `--n-steps` in another is an error, as is `--seed` beside `--seeds`).
3. One name, one idea: an option name has the same kind (a flag or a value) and the same value type (integer,
   number, text, path) in every command that has it.
4. Defaults are stated: an option with a default shows it (typer's `[default: ...]`) unless its help states it in
   words ("default: ..."); an option whose default is None must say in its help what None means ("default: ...").
   On/off flags that are off by default need not.
5. Units are stated: the help of every numeric option names its unit (`UNIT_WORDS`: time units, seconds, time
   steps, epochs, a fraction, std, units, a count, ...).
6. One style for counts: a number of things is `--n-<things>` (`--n-steps`, `--n-train`, `--n-seeds`), never
   `--steps`, `--<things>-steps`, `--length`, `--num-<things>` or `--<things>-count` (`COUNT_STYLE`).
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
import types
import typing
from pathlib import Path

#: Groups of names for one idea; at most one name of a group may appear in the whole command line.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("--n-steps", "--steps", "--length", "--n-samples", "--samples", "--num-steps"),
    ("--n-train", "--train-steps", "--train-length", "--n-train-steps", "--train-points"),
    ("--n-test", "--test-steps", "--test-length", "--n-test-steps", "--test-points"),
    ("--out", "--output", "--run-dir", "--output-dir", "--out-dir", "--outdir", "--dest"),
    ("--seed", "--seeds", "--random-seed", "--rng-seed"),
    ("--n-seeds", "--num-seeds", "--members", "--population", "--n-members"),
    ("--epochs", "--n-epochs", "--num-epochs"),
    ("--max-epochs", "--epochs-max", "--max-epoch"),
    ("--latent-dim", "--latent", "--latent-size", "--latent-units"),
    ("--relu-units", "--relu", "--n-relu", "--relus"),
    ("--hidden-dim", "--hidden", "--hidden-units", "--hidden-size"),
    ("--n-bases", "--bases", "--num-bases"),
    ("--interval", "--tau", "--stf-interval", "--forcing-interval"),
    ("--alpha", "--gtf-alpha", "--forcing-strength"),
    ("--input-noise", "--train-noise", "--noise-input"),
    ("--noise", "--obs-noise", "--observation-noise", "--noise-level"),
    ("--dt", "--sampling-step", "--time-step", "--step", "--sample-step"),
    ("--force", "--overwrite", "--replace", "--clobber"),
    ("--data", "--test-data", "--test", "--input"),
    ("--time-col", "--time-column", "--time"),
    ("--columns", "--cols", "--variables", "--vars"),
    ("--series-col", "--series-column", "--trajectory-col", "--id-col"),
    ("--lr", "--learning-rate", "--lrs"),
    ("--seq-len", "--window", "--sequence-length", "--seq-length", "--window-length"),
    ("--format", "--fmt", "--output-format"),
    ("--test-fraction", "--test-frac", "--split", "--test-split"),
    ("--budget", "--time-budget", "--wall-time"),
    ("--time-limit", "--timeout", "--run-time-limit"),
    ("--workers", "--n-workers", "--jobs", "--processes"),
    ("--model", "--model-name", "--family"),
    ("--scheme", "--forcing", "--teacher-forcing"),
    ("--lyapunov-max", "--lambda-max", "--lmax"),
)

#: Words of which the help of a numeric option must contain one (its unit, or that it is a count or a seed).
UNIT_WORDS = ("time unit", "second", "time step", "steps", "point", "epoch", "fraction", "std", "units", "number of",
              "count", "seed", "dimensionless", "per time unit", "bases")

#: Option names in another style than `--n-<things>` for a count (rule 6).
COUNT_STYLE = re.compile(r"^--(?!n-)(steps|length|num-.+|.+-count|.+-steps|.+-length)$")

_DEFAULT_STATED = re.compile(r"\bdefault\b", re.IGNORECASE)


@dataclasses.dataclass
class Param:
    """One parameter of one command, as the checks and the reference (docs/cli.md) read it."""

    command: str
    kind: str  # "option" | "argument"
    names: tuple[str, ...]  # option names ("--n-steps", ...) or the argument's name
    secondary: tuple[str, ...]  # "--no-..." of an on/off pair
    value_type: str  # "flag", "int", "float", "str", "path"
    default: object
    required: bool
    multiple: bool
    nargs: int
    show_default: object
    help: str

    @property
    def name(self) -> str:
        return self.names[0] if self.names else ""


def _base_type(annotation) -> str:
    """'int' | 'float' | 'str' | 'path' | 'flag' of a typer parameter's annotation (Optional / list / tuple
    stripped)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if args else "str"
    if origin in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return _base_type(args[0]) if args else "str"
    if annotation is bool:
        return "flag"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if isinstance(annotation, type) and issubclass(annotation, Path):
        return "path"
    return "str"


def _param_type(p) -> str:
    descriptor = getattr(p, "type_descriptor", None)
    if descriptor is not None:
        return "flag" if getattr(p, "is_flag", False) else _base_type(descriptor.annotation)
    if getattr(p, "is_flag", False):  # plain click
        return "flag"
    name = getattr(getattr(p, "type", None), "name", "text").lower()
    return {"integer": "int", "float": "float", "path": "path", "boolean": "flag"}.get(name, "str")


def _group(app):
    import typer.main

    return typer.main.get_command(app)


def params(app) -> list[Param]:
    """Every parameter of every command of a typer app, in the order the commands and their help list them."""
    out = []
    for cname, cmd in _group(app).commands.items():
        for p in cmd.params:
            if getattr(p, "param_type_name", "") == "option" and set(p.opts) & {"-h", "--help"}:
                continue
            kind = "argument" if getattr(p, "param_type_name", "") == "argument" else "option"
            names = tuple(p.opts) if kind == "option" else (p.name,)
            out.append(Param(cname, kind, names, tuple(getattr(p, "secondary_opts", ()) or ()), _param_type(p),
                             p.default, bool(p.required), bool(getattr(p, "multiple", False)), int(p.nargs or 1),
                             getattr(p, "show_default", None), (getattr(p, "help", None) or "").strip()))
    return out


def _check_help_options(app, group) -> list[str]:
    from typer.testing import CliRunner

    problems = []
    runner = CliRunner()
    for path in [[]] + [[name] for name in group.commands]:
        result = runner.invoke(app, [*path, "-h"])
        where = " ".join(["dsr", *path])
        if result.exit_code != 0 or "Usage" not in result.output:
            problems.append(f"{where}: -h does not show the help (exit {result.exit_code})")
    return problems


def check(app, *, run_help: bool = True) -> list[str]:
    """The grammar problems of a typer app, one line each (empty: the grammar holds)."""
    group = _group(app)
    problems = []
    if not any("--version" in getattr(p, "opts", ()) for p in group.params):
        problems.append("dsr: no --version option on the group")
    for cname, cmd in group.commands.items():
        if not (cmd.help or "").strip():
            problems.append(f"dsr {cname}: the command has no help text (docstring)")
    ps = params(app)
    for p in ps:
        where = f"dsr {p.command} {p.name}"
        if not p.help:
            problems.append(f"{where}: no help text")
            continue
        if p.kind != "option":
            continue
        stated = bool(_DEFAULT_STATED.search(p.help))
        off_flag = p.value_type == "flag" and p.default is False and not p.secondary
        if p.required or off_flag:
            pass
        elif p.default is None and not stated:
            problems.append(f"{where}: its default is None; the help must say what that means ('default: ...')")
        elif p.default is not None and p.show_default is False and not stated:
            problems.append(f"{where}: the default {p.default!r} is neither shown nor stated in the help")
        if p.value_type in ("int", "float") and not any(w in p.help.lower() for w in UNIT_WORDS):
            problems.append(f"{where}: the help of a numeric option must name its unit (one of: "
                            f"{', '.join(UNIT_WORDS)})")
    # 2. synonyms: at most one name per group across the whole command line
    used: dict[str, set[str]] = {}
    for p in ps:
        if p.kind == "option":
            for n in p.names + p.secondary:
                used.setdefault(n, set()).add(p.command)
    for group_names in SYNONYMS:
        present = [n for n in group_names if n in used]
        if len(present) > 1:
            spots = "; ".join(f"{n} in {', '.join(sorted(used[n]))}" for n in present)
            problems.append(f"synonyms for one idea: {spots}: use {present[0]} everywhere")
    # 6. one style for counts
    for n in sorted(used):
        if COUNT_STYLE.match(n):
            problems.append(f"{n} in {', '.join(sorted(used[n]))}: a count is written --n-<things> (e.g. --n-steps)")
    # 3. one name, one kind and one value type
    seen: dict[str, Param] = {}
    for p in ps:
        if p.kind != "option":
            continue
        for n in p.names:
            first = seen.setdefault(n, p)
            if first is p:
                continue
            if (first.value_type == "flag") != (p.value_type == "flag"):
                problems.append(f"{n}: a flag in dsr {(first if first.value_type == 'flag' else p).command}, a value "
                                f"in dsr {(p if first.value_type == 'flag' else first).command}: one name, one idea")
            elif {first.value_type, p.value_type} not in ({"str", "path"},) and first.value_type != p.value_type:
                problems.append(f"{n}: {first.value_type} in dsr {first.command}, {p.value_type} in dsr {p.command}")
    if run_help:
        problems += _check_help_options(app, group)
    return problems


def load_app(spec: str = "dsrkit.cli:app"):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr or "app")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = argv[0] if argv else "dsrkit.cli:app"
    problems = check(load_app(spec))
    for line in problems:
        print(line)
    n = len({(p.command, p.name) for p in params(load_app(spec))})
    print(f"{spec}: {len(problems)} problem(s) in {n} parameters" if problems else f"{spec}: the grammar holds "
          f"({n} parameters)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
