"""Write docs/cli.md, the reference of the `dsr` command line, from the command line itself and the library.

    python tools/cli_reference.py            # rewrite docs/cli.md
    python tools/cli_reference.py --check    # exit 1 when docs/cli.md is not what the code says (tests run this)

The defaults table reads each default twice, from the command line and from the library function it feeds;
`default_rows()` returns both so that a test can hold them equal.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_cli import params  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


#: the library side of a row where the library has no default (the value is required there)
REQUIRED = "required"


def _sig(function, name: str):
    return inspect.signature(function).parameters[name].default


def default_rows() -> list[tuple[str, list[tuple[str, object]], list[tuple[str, object]]]]:
    """(setting, [(command-line option, its default)], [(library keyword, its default)]) for every setting the
    command line and the library share. The library side is `REQUIRED` where the library has no default."""
    from dsrkit.cli import app
    from dsrkit.pipeline import analyze_run, train_run
    from dsrkit.reconstruction import reconstruct
    from dsrkit.systems import System
    from dsrkit.training import TrainConfig, config_from_options, default_config

    cli = {(p.command, p.name): p.default for p in params(app)}
    generic = default_config(None)["train"]
    train_config = TrainConfig()

    def c(command, option):
        return (f"dsr {command} {option}", cli[(command, option)])

    rows = [
        ("epochs", [c("train", "--epochs")], [("TrainConfig.epochs (dsrkit.train)", train_config.epochs),
                                             ("config_from_options / default_config()", generic["epochs"])]),
        ("input noise (std, standardised units)", [c("train", "--input-noise")],
         [("TrainConfig.input_noise (dsrkit.train)", train_config.input_noise),
          ("config_from_options / default_config()", generic["input_noise"])]),
        ("window length T̃ (time steps)", [c("train", "--seq-len")],
         [("TrainConfig.seq_len", train_config.seq_len), ("default_config()", generic["seq_len"])]),
        ("learning rate (start, end)", [c("train", "--lr")],
         [("TrainConfig.lr", tuple(train_config.lr)), ("default_config()", tuple(generic["lr"]))]),
        ("training seed", [c("train", "--seed")], [("TrainConfig.seed", train_config.seed),
                                                   ("pipeline.train_run(seed)", _sig(train_run, "seed"))]),
        ("models trained at once", [c("train", "--n-seeds")], [("pipeline.train_run(seeds)", _sig(train_run, "seeds"))]),
    ]
    for key, option in (("model", "--model"), ("latent_dim", "--latent-dim"), ("relu_units", "--relu-units"),
                        ("hidden_dim", "--hidden-dim"), ("n_bases", "--n-bases"), ("scheme", "--scheme"),
                        ("interval", "--interval"), ("alpha", "--alpha")):
        rows.append((key, [c("train", option)], [(f"config_from_options({key})", _sig(config_from_options, key))]))
    for key, option in (("transient", "--transient"), ("noise", "--noise"), ("seed", "--seed")):
        rows.append((f"simulation {key}", [c("simulate", option)], [(f"System.trajectory({key})",
                                                                      _sig(System.trajectory, key))]))
    rows.append(("simulation length (time steps)", [c("simulate", "--n-steps")],
                 [("System.trajectory(n_steps)", REQUIRED)]))
    for key, option in (("model", "--model"), ("seed", "--seed"), ("noise", "--noise"),
                        ("test_fraction", "--test-fraction"), ("references", "--references"),
                        ("interpretable", "--interpretable"), ("budget", "--budget"), ("max_epochs", "--max-epochs"),
                        ("n_train", "--n-train"), ("n_test", "--n-test")):
        rows.append((f"main job {key}", [c("reconstruct", option)], [(f"reconstruct({key})", _sig(reconstruct, key))]))
    for key, option in (("max_period", "--max-period"), ("seed", "--seed")):
        rows.append((f"analysis {key}", [c("analyze", option)], [(f"pipeline.analyze_run({key})",
                                                                   _sig(analyze_run, key))]))
    return rows


def _value(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, (tuple, list)):
        return " ".join(_value(x) for x in v)
    return f"`{v}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


GRAMMAR = """\
## Grammar

One idea has one name in every command, and the names are the keywords of the library functions the options feed
(`--n-steps` is `System.trajectory(n_steps)`, `--latent-dim` is `config_from_options(latent_dim)`,
`--max-epochs` is `reconstruct(max_epochs)`). `python tools/check_cli.py` checks the rules below, and
`tests/test_cli_grammar.py` runs it:

- a count of things is `--n-<things>` (`--n-steps`, `--n-train`, `--n-test`, `--n-seeds`, `--n-bases`);
- `--seed` is the seed (an integer); `--out` is what a command writes (a file, or a run directory);
  `--force` replaces it (never silently); `--data` is a data file read beside a run; `--dt` is the sampling step
  in time units; `--format` is the output format;
- data files are read by the same options everywhere (`--dt`, `--time-col`, `--columns`, `--series-col`:
  `dsrkit.Dataset.load`);
- every option's help states its unit and its default; `-h` and `--help` work everywhere; `dsr --version`;
- results go to stdout; progress bars, progress lines and `error:` lines go to stderr (exit status 2 on an error
  in the input).
"""


def render() -> str:
    """The text of docs/cli.md."""
    from dsrkit.cli import app

    from check_cli import _group

    group = _group(app)
    ps = params(app)
    out = ["# The `dsr` command line", "",
           "<!-- Generated by tools/cli_reference.py from dsrkit.cli; tests/test_cli_grammar.py checks that it is "
           "current. Do not edit by hand. -->", "",
           "`dsr COMMAND -h` prints the same help. Units and defaults are those of the Python API (the table below "
           "reads both).", "", GRAMMAR,
           "## Defaults: the command line and the Python API", "",
           "Each value is read from the command line and from the library function it feeds; they are one value "
           "(the test fails otherwise). \"—\" means: none (see the option's help), or required.", "",
           "| setting | command line | Python API | default |", "|---|---|---|---|"]
    for setting, cli_side, api_side in default_rows():
        value = cli_side[0][1]
        out.append(f"| {_cell(setting)} | {', '.join(f'`{o}`' for o, _ in cli_side)} | "
                   f"{', '.join(f'`{a}`' for a, _ in api_side)} | {_value(value)} |")
    from dsrkit.training import default_config

    epochs = {n: default_config(n)["train"]["epochs"] for n in ("lorenz63", "rossler", "lorenz96")}
    out += ["", "Settings of their own, stated where they are defined: the per-system configurations "
            "(`dsrkit.training.default_config(name)`: " + ", ".join(f"{n} {e} epochs" for n, e in epochs.items())
            + f"; `default_config(model=\"shplrnn\")` {default_config(model='shplrnn')['train']['epochs']} epochs) "
            "and the benchmark methods (`dsrkit.baselines`).", ""]
    for name, cmd in group.commands.items():
        out += [f"## `dsr {name}`", "", " ".join((cmd.help or "").split()), "",
                "| argument / option | value | default | meaning |", "|---|---|---|---|"]
        for p in (p for p in ps if p.command == name):
            if p.kind == "argument":
                label = f"`{p.name.upper()}`"
            else:
                label = " / ".join(f"`{n}`" for n in p.names + p.secondary)
            value = "" if p.value_type == "flag" else p.value_type + (" (repeatable)" if p.multiple else "") + (
                f" × {p.nargs}" if p.nargs > 1 else "")
            default = "required" if p.required else ("—" if p.default is None else _value(p.default))
            if p.kind == "argument" and not p.required:
                default = "optional"
            out.append(f"| {label} | {value} | {default} | {_cell(p.help)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is not current: run python tools/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
