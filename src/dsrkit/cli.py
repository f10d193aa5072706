"""The `dsr` command: a thin layer over the library (every command calls one public function).

One grammar (docs/cli.md; `tools/check_cli.py` checks it): an option is named like the keyword of the library
function it feeds (`--n-steps` -> `System.trajectory(n_steps)`, `--latent-dim` -> `latent_dim`), one idea has one
name in every command, every option's help states its unit and its default, and the defaults are read from the
library (one value for the API and the command line). Results go to stdout, progress and errors to stderr.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from ._version import __version__
from .bench.suite import suite_names
from .export import FORMATS as EXPORT_FORMATS
from .pipeline import analyze_run, train_run
from .reconstruction import DEFAULT_BUDGET, DEMO_BUDGET, INTERPRETABLE_FACTOR
from .reconstruction import MODELS as RECONSTRUCT_MODELS
from .reconstruction import reconstruct as run_reconstruction
from .systems import System
from .training.config import TrainConfig, config_from_options
from .training.names import model_names, scheme_names


class _PlainErrors(TyperGroup):
    """The `dsr` group: a usage error (an unknown option, `--steps nan`) is one plain `error:` line, exit 2, like
    every other error, instead of a boxed panel."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except Exception as exc:
            if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):  # not a usage error
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":
                exc.show()
                sys.exit(0)
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            err_console.print(f"error: {exc.format_message()}{hint}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(2 if exc.exit_code in (None, 0, 1) else exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(help="dsrkit: dynamical systems reconstruction.", no_args_is_help=True, add_completion=False,
                  cls=_PlainErrors, context_settings={"help_option_names": ["-h", "--help"]})
console = Console()
err_console = Console(stderr=True)
#: What user input can raise; each ends in one `error:` line (exit 2). OSError covers missing, existing,
#: unreadable files and directories where files were expected.
_USER_ERRORS = (ValueError, TypeError, OSError, ImportError)


# ------------------------------------------------------------------------------------- defaults from the library


def _api_default(function, name: str):
    """The default of keyword `name` of a library function: the command line shows and uses the same value."""
    return inspect.signature(function).parameters[name].default


_TRAIN = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
_TRAJECTORY = {k: _api_default(System.trajectory, k) for k in ("transient", "noise", "seed")}
_OPTIONS = {k: _api_default(config_from_options, k)
            for k in ("model", "latent_dim", "relu_units", "hidden_dim", "n_bases", "scheme", "interval", "alpha")}
#: `dsr simulate --n-steps` (`System.trajectory` has no default length)
SIMULATE_STEPS = 10_000
#: output formats of `dsr evaluate` and `dsr export`
EVALUATE_FORMATS = ("table", "json")

# Help texts shared by every command that has the option: one idea, one name, one text.
_DT_HELP = "Sampling step in time units (default: the file's time column or stored dt)."
_TIME_COL_HELP = ("Column of time stamps: a name or a 0-based index, or `none` when there is none "
                  "(default: inferred from the header or from evenly spaced increasing values).")
_COLUMNS_HELP = "Comma-separated variables to use: names or 0-based indices (default: all columns)."
_SERIES_COL_HELP = "Column of trajectory ids: one trajectory per id (default: the file is one trajectory)."
_RUN_HELP = "Run directory written by `dsr train` or `dsr reconstruct`."


def _version(value: bool) -> None:
    if value:
        _say(f"dsrkit {__version__}")
        raise typer.Exit()


@app.callback()
def _setup(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                        help="Print the version of dsrkit and exit.")) -> None:
    """dsrkit: dynamical systems reconstruction."""


def main() -> None:
    """The `dsr` executable: switches JAX's persistent compilation cache on for this process (later commands reuse
    compiled programs, see `dsrkit.compile_cache`), then runs the command. Calling `app` in-process (tests,
    notebooks) leaves the process's JAX configuration alone."""
    from .compile_cache import enable_compilation_cache

    enable_compilation_cache()
    app()


def _fail(message: str) -> None:
    """One plain-text line on stderr (paths and names are never read as markup), exit status 2."""
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _say(message: str) -> None:
    """A plain-text line on stdout (no markup interpretation of paths or names)."""
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _print_table(title: str, rows: list[dict]) -> None:
    table = Table(title=Text(title))
    if not rows:
        _say(f"{title}: (empty)")
        return
    for col in rows[0]:
        table.add_column(Text(str(col)))
    for r in rows:
        table.add_row(*(Text(_fmt(v)) for v in r.values()))
    console.print(table)


def _short_source(text: str, width: int = 40) -> str:
    """'Author, A. (2003). Title...' -> 'Author, A. (2003)'; otherwise the first `width` characters."""
    match = re.match(r"^(.{1,60}?\(\d{4}\))", text)
    return match.group(1) if match else (text[:width] + ("…" if len(text) > width else ""))


def _reading(time_col: Optional[str], columns: Optional[str], series_col: Optional[str]) -> dict:
    """The `Dataset.load` keywords of --time-col / --columns / --series-col (`--time-col none`: no time column)."""
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    tcol = False if time_col is not None and time_col.lower() == "none" else time_col
    return {"time_col": tcol, "columns": cols, "series_col": series_col}


def _choice(option: str, value: str, choices) -> None:
    if value not in choices:
        _fail(f"{option} must be one of {', '.join(choices)}; got {value!r}")


@app.command()
def systems(catalogue: bool = typer.Option(False, "--catalogue",
                                           help="Add the flows of the dysts catalogue (optional extra; default: off).")):
    """List the ground-truth systems: name, dimension, kind, reference lambda_max and its source."""
    from . import systems as sysdb

    try:
        names = sysdb.names() + (sysdb.catalogue_names() if catalogue else [])
    except _USER_ERRORS as exc:
        _fail(str(exc))
    rows = []
    for name in names:
        s = sysdb.get(name)
        source = s.reference_sources.get("lyapunov_max", "")
        rows.append({"name": name, "dim": s.dim, "kind": s.kind, "dt": s.dt,
                     "reference λ_max": s.reference.get("lyapunov_max"), "source": _short_source(source)})
    _print_table("dsrkit systems", rows)


@app.command()
def simulate(
    system: str = typer.Argument(..., help="System name (see `dsr systems`)."),
    n_steps: int = typer.Option(SIMULATE_STEPS, "--n-steps", help="Samples to keep, in time steps of --dt."),
    dt: Optional[float] = typer.Option(None, help="Sampling step in time units (default: the system's, see "
                                                  "`dsr systems`)."),
    transient: int = typer.Option(_TRAJECTORY["transient"], help="Time steps integrated and dropped before the "
                                                                 "first sample."),
    noise: float = typer.Option(_TRAJECTORY["noise"], help="Observation noise: its std as a fraction of each "
                                                           "variable's std."),
    seed: int = typer.Option(_TRAJECTORY["seed"], help="Seed (an integer) of the initial-condition perturbation "
                                                       "and the noise."),
    out: Path = typer.Option(..., help="Output file (.npz, .npy, .csv, .csv.gz)."),
    plot: Optional[Path] = typer.Option(None, help="Also write a figure of the trajectory to this PNG file "
                                                   "(default: none)."),
    force: bool = typer.Option(False, "--force", help="Replace --out and --plot if they exist (default: refuse)."),
):
    """Simulate a ground-truth system and save the trajectory."""
    from . import systems as sysdb
    from ._files import check_writable, save_figure
    from .data import Dataset

    try:
        for path in (out, plot):
            if path is not None:
                check_writable(path, overwrite=force)
        if plot is not None and out.resolve() == plot.resolve():
            raise ValueError(f"--out and --plot name the same file {out}")
        s = sysdb.get(system)
        X = s.trajectory(n_steps, dt=dt, transient=transient, seed=seed, noise=noise, progress=True)
        ds = Dataset([X], dt=dt or s.dt, names=getattr(s, "variables", None))
        ds.save(out, overwrite=force)
        _say(f"wrote {out}: {X.shape[0]} steps x {X.shape[1]} variables, dt={ds.dt}")
        if plot is not None:
            from .report.figures import attractor

            fig = attractor(X, names=ds.names, title=f"{s.name}, {X.shape[0]} steps, dt={ds.dt}")
            save_figure(fig, plot, overwrite=force)
            _say(f"wrote {plot}")
    except _USER_ERRORS as exc:
        _fail(str(exc))


@app.command()
def train(
    data: Path = typer.Argument(..., help="Training data (.npz, .npy, .csv, .csv.gz), in raw units (standardised "
                                          "for training; the statistics are stored in the run)."),
    dt: Optional[float] = typer.Option(None, help=_DT_HELP),
    time_col: Optional[str] = typer.Option(None, "--time-col", help=_TIME_COL_HELP),
    columns: Optional[str] = typer.Option(None, help=_COLUMNS_HELP),
    series_col: Optional[str] = typer.Option(None, "--series-col", help=_SERIES_COL_HELP),
    model: str = typer.Option(_OPTIONS["model"], help=" | ".join(model_names()) + ": the model family."),
    latent_dim: int = typer.Option(_OPTIONS["latent_dim"], "--latent-dim",
                                   help="Latent units M (at least N + P for the AL-RNN, N for the others)."),
    relu_units: int = typer.Option(_OPTIONS["relu_units"], "--relu-units",
                                   help="AL-RNN: rectified units P (a count; 2^P linear subregions)."),
    hidden_dim: int = typer.Option(_OPTIONS["hidden_dim"], "--hidden-dim", help="shPLRNN: hidden units L."),
    n_bases: int = typer.Option(_OPTIONS["n_bases"], "--n-bases", help="dendPLRNN: number of dendritic bases B."),
    scheme: str = typer.Option(_OPTIONS["scheme"], help=" | ".join(scheme_names()) + ": the teacher-forcing scheme."),
    interval: int = typer.Option(_OPTIONS["interval"], help="STF: forcing interval τ, in time steps."),
    alpha: float = typer.Option(_OPTIONS["alpha"], help="GTF: forcing strength α, a fraction in [0, 1]."),
    epochs: int = typer.Option(_TRAIN["epochs"], help="Epochs (an epoch is 50 batches of 16 windows)."),
    seq_len: int = typer.Option(_TRAIN["seq_len"], "--seq-len", help="Window length T̃, in time steps."),
    lr: tuple[float, float] = typer.Option(_TRAIN["lr"], help="Learning rate (dimensionless) at the first and "
                                                              "the last epoch; exponential decay between."),
    input_noise: float = typer.Option(_TRAIN["input_noise"], "--input-noise",
                                      help="Gaussian noise added to the inputs during training: std in "
                                           "standardised units."),
    n_seeds: int = typer.Option(_api_default(train_run, "seeds"), "--n-seeds",
                                help="Number of models trained at once (seeds --seed, --seed + 1, ...); the best "
                                     "on the training data is kept."),
    seed: int = typer.Option(_TRAIN["seed"], help="Seed (an integer) of the initialisation, the window sampling "
                                                  "and the input noise."),
    out: Path = typer.Option(..., help="Run directory to create."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it is a dsrkit run (default: refuse)."),
):
    """Train a piecewise-linear RNN on a data file and write a run directory."""
    from .data import Dataset

    try:
        ds = Dataset.load(data, dt=dt, **_reading(time_col, columns, series_col))
        config = config_from_options(model, latent_dim=latent_dim, relu_units=relu_units, hidden_dim=hidden_dim,
                                     n_bases=n_bases, scheme=scheme, interval=interval, alpha=alpha, data=ds,
                                     epochs=epochs, seq_len=seq_len, lr=lr, input_noise=input_noise)
        fit, _, run_dir = train_run(ds, config, out, seed=seed, seeds=n_seeds, force=force,
                                    source={"kind": "file", "path": str(data.resolve())})
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _say(f"status {fit.status}, best epoch {fit.best_epoch}, {fit.seconds:.1f} s; wrote {run_dir}")


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help=_RUN_HELP),
    data: Path = typer.Option(..., help="Test data file in raw units (the run's standardisation is "
                                        "applied)."),
    dt: Optional[float] = typer.Option(None, help=_DT_HELP),
    time_col: Optional[str] = typer.Option(None, "--time-col", help=_TIME_COL_HELP),
    columns: Optional[str] = typer.Option(None, help=_COLUMNS_HELP),
    series_col: Optional[str] = typer.Option(None, "--series-col", help=_SERIES_COL_HELP),
    lyapunov_max: Optional[float] = typer.Option(None, "--lyapunov-max",
                                                 help="True λ_max of the system, per time unit: enables the valid "
                                                      "prediction time (default: none, VPT not computed)."),
    output_format: str = typer.Option(EVALUATE_FORMATS[0], "--format",
                                      help="Output on stdout: " + " | ".join(EVALUATE_FORMATS) + "."),
):
    """Evaluate a trained model on test data by the published protocol."""
    from .data import Dataset
    from .evaluation import evaluate as evaluate_model
    from .runs import Run

    _choice("--format", output_format, EVALUATE_FORMATS)
    try:
        saved = Run.open(run)
        model, _ = saved.load()
        test = Dataset.load(data, dt=dt, **_reading(time_col, columns, series_col))
        scaler = saved.standardizer
        if scaler is not None:
            test, _ = test.standardize(scaler)
        result = evaluate_model(model, test, lyapunov_max=lyapunov_max)
    except _USER_ERRORS as exc:
        _fail(str(exc))
    if output_format == "json":
        from .runs import _jsonable

        console.print_json(json.dumps(_jsonable(result)))
    else:
        _print_table(f"{run}: {result['status']}", [{"metric": k, "value": v} for k, v in result.items()
                                                     if isinstance(v, (int, float)) or v is None])
        _say(f"protocol: {result['protocol']['description']}")


@app.command()
def analyze(
    run: Path = typer.Argument(..., help=_RUN_HELP),
    data: Optional[Path] = typer.Option(None, help="Data file in raw units to analyse along (default: a free run "
                                                   "of the model)."),
    dt: Optional[float] = typer.Option(None, help=_DT_HELP),
    max_period: int = typer.Option(_api_default(analyze_run, "max_period"), "--max-period",
                                   help="Longest cycle period searched, in time steps."),
    seed: int = typer.Option(_api_default(analyze_run, "seed"), help="Seed (an integer) of the search for fixed "
                                                                     "points and cycles."),
):
    """Subregions, symbolic graph, fixed points and cycles of a trained model: analysis.json and figures."""
    try:
        written = analyze_run(run, data, dt=dt, max_period=max_period, seed=seed)
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _say(f"wrote {run / 'analysis.json'} and {len(written)} figures in {run / 'figures'}")


_RECONSTRUCT = {k: _api_default(run_reconstruction, k)
                for k in ("model", "seed", "noise", "test_fraction", "references", "interpretable", "starts")}


@app.command()
def reconstruct(
    source: str = typer.Argument(..., help="Data file (.csv, .csv.gz, .npz, .npy) or system name (see `dsr systems`)."),
    dt: Optional[float] = typer.Option(None, help=_DT_HELP),
    time_col: Optional[str] = typer.Option(None, "--time-col", help=_TIME_COL_HELP),
    columns: Optional[str] = typer.Option(None, help=_COLUMNS_HELP),
    series_col: Optional[str] = typer.Option(None, "--series-col", help=_SERIES_COL_HELP),
    out: Optional[Path] = typer.Option(None, help="Run directory (default: runs/<name>, or runs/<name>-2, ... if "
                                                  "taken)."),
    budget: Optional[float] = typer.Option(None, help=f"Wall-clock seconds for the whole job (default: "
                                                      f"{DEFAULT_BUDGET:g} for data, {DEMO_BUDGET:g} for a system "
                                                      "name)."),
    model: str = typer.Option(_RECONSTRUCT["model"], help=" | ".join(RECONSTRUCT_MODELS) + ": the model family (auto: "
                                                          "shPLRNNs and AL-RNNs compete; plrnn and dendplrnn: "
                                                          "`dsr train`)."),
    interpretable: bool = typer.Option(_RECONSTRUCT["interpretable"], "--interpretable",
                                       help="Select the AL-RNN with the fewest linear subregions within "
                                            f"{INTERPRETABLE_FACTOR:g}x the best validation D_stsp (default: off, "
                                            "the best candidate)."),
    test_fraction: float = typer.Option(_RECONSTRUCT["test_fraction"], "--test-fraction",
                                        help="Fraction of each trajectory of a data file kept at its end for the "
                                             "test."),
    max_epochs: Optional[int] = typer.Option(None, "--max-epochs", help="At most this many epochs per candidate "
                                                                        "(default: as many as the budget allows)."),
    seq_len: Optional[int] = typer.Option(None, "--seq-len", help="Window length T̃, in time steps (default: "
                                                                  "derived from the data's dominant period)."),
    interval: Optional[int] = typer.Option(None, help="STF: the AL-RNNs' forcing interval τ, in time steps "
                                                      "(default: three derived from the data's time scales)."),
    latent_dim: Optional[int] = typer.Option(None, "--latent-dim", help="AL-RNN: latent units M (default: "
                                                                        "derived from N)."),
    relu_units: Optional[int] = typer.Option(None, "--relu-units", help="AL-RNN: rectified units P (a count; "
                                                                        "default: two derived from M and N)."),
    hidden_dim: Optional[int] = typer.Option(None, "--hidden-dim", help="shPLRNN: hidden units L (default: "
                                                                        "derived from N)."),
    lr: Optional[tuple[float, float]] = typer.Option(None, help="Learning rate (dimensionless) at the start and the "
                                                                "end of every candidate's training (default: each "
                                                                "candidate's own, see the population table)."),
    input_noise: Optional[float] = typer.Option(None, "--input-noise",
                                                help="Gaussian noise added to the inputs during training: std in "
                                                     "standardised units (default: 0.05 less the data's noise)."),
    starts: str = typer.Option(_RECONSTRUCT["starts"], help="random | mixed: how the candidates start (mixed: every "
                                                            "other shPLRNN from a ridge-regression fit to the "
                                                            "data)."),
    hierarchical: bool = typer.Option(False, "--hierarchical",
                                      help="One hierarchical model over the file's series (an .npz with several "
                                           "arrays, or --series-col) instead of the search (default: off)."),
    n_features: Optional[int] = typer.Option(None, "--n-features", help="With --hierarchical: the feature "
                                                                        "dimension K (a count; default: min(3, S))."),
    references: bool = typer.Option(_RECONSTRUCT["references"], help="Fit the fast baselines (ESN, NG-RC, SINDy, "
                                                                     "parroting) beside the model."),
    seed: int = typer.Option(_RECONSTRUCT["seed"], help="Seed (an integer) of simulated data, initialisations and "
                                                        "training."),
    noise: float = typer.Option(_RECONSTRUCT["noise"], help="Observation noise of simulated training data: its std "
                                                            "as a fraction of each variable's std."),
    n_train: Optional[int] = typer.Option(None, "--n-train", help="Simulated training points, in time steps "
                                                                  "(default: 100000)."),
    n_test: Optional[int] = typer.Option(None, "--n-test", help="Simulated test points, in time steps "
                                                                "(default: 100000)."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it is a dsrkit run (default: refuse)."),
):
    """The main job: read or simulate data, derive settings, search a population of models, judge the selected
    one against references and the data floor on a held-out test split, analyse, report."""
    if model in model_names() and model not in RECONSTRUCT_MODELS:
        _fail(f"--model {model}: the main job searches {', '.join(RECONSTRUCT_MODELS)}; train a {model} with "
              f"`dsr train DATA --model {model}`")
    if hierarchical and starts != "random":
        _fail("--starts applies to the search's candidates, not to --hierarchical")
    if hierarchical:
        _reconstruct_family(source, dt=dt, out=out, force=force, model=model, n_features=n_features,
                            test_fraction=test_fraction, max_epochs=max_epochs, seed=seed, seq_len=seq_len,
                            latent_dim=latent_dim, relu_units=relu_units, hidden_dim=hidden_dim, lr=lr,
                            input_noise=input_noise, **_reading(time_col, columns, series_col))
        return
    if n_features is not None:
        _fail("--n-features is the feature dimension of a hierarchical model: add --hierarchical")
    try:
        result = run_reconstruction(source, dt=dt, out=out, force=force, budget=budget, model=model,
                                    interpretable=interpretable, seed=seed, noise=noise, n_train=n_train,
                                    n_test=n_test, test_fraction=test_fraction, max_epochs=max_epochs,
                                    seq_len=seq_len, interval=interval, latent_dim=latent_dim,
                                    relu_units=relu_units, hidden_dim=hidden_dim, lr=lr, input_noise=input_noise,
                                    starts=starts, references=references, **_reading(time_col, columns, series_col))
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _print_table(f"dsr reconstruct {source}", result.summary_rows())
    _say(f"verdict: {result.verdict['text']}")
    _say(f"protocol: {result.metrics['protocol']['description']}")
    _say(f"report: {result.report}")


@app.command()
def bench(
    target: str = typer.Argument(..., help="The suite to run (a .toml file, or the name of a suite shipped with "
                                           "dsrkit: " + ", ".join(suite_names()) + "), or `results` / `report` "
                                           "followed by the suite."),
    suite: Optional[str] = typer.Argument(None, help="The suite, after `results` or `report` (a file or a name)."),
    executor: str = typer.Option("local", help="Where runs execute: local (processes) | ray."),
    workers: Optional[int] = typer.Option(None, help="Number of local worker processes (default: one per core)."),
    address: Optional[str] = typer.Option(None, help="Ray cluster address (default: start a local one)."),
    fast: bool = typer.Option(False, "--fast", help="The suite's fast settings: short series, few epochs and "
                                                    "seeds (default: off)."),
    store: Optional[str] = typer.Option(None, help="Results store, an SQLite file (default: "
                                                   "results/<suite>.sqlite)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Seconds per run before it is recorded "
                                                                          "as failed (default: no limit)."),
    csv: Optional[str] = typer.Option(None, help="`results`: also write the leaderboard to this CSV file "
                                                 "(default: none)."),
    json_out: Optional[str] = typer.Option(None, "--json", help="`results`: also write the leaderboard to this "
                                                                "JSON file (default: none)."),
    out: Optional[str] = typer.Option(None, help="`report`: the HTML file (default: results/<suite>.html)."),
    force: bool = typer.Option(False, "--force", help="`results` / `report`: replace existing files (default: "
                                                      "refuse)."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run again the runs recorded as failed "
                                                                    "(errors, timeouts, killed workers; default: "
                                                                    "keep them)."),
    task: Optional[list[str]] = typer.Option(None, help="Run only this task (repeatable; default: all tasks)."),
    method: Optional[list[str]] = typer.Option(None, help="Run only this method name or label (repeatable; "
                                                          "default: all methods)."),
    seed: Optional[list[int]] = typer.Option(None, help="Run only this seed, an integer (repeatable; default: "
                                                        "the suite's seeds)."),
    group_seeds: bool = typer.Option(False, "--group-seeds", help="Fit the seeds of one task and one PLRNN-family "
                                                                  "method as one population in one worker (one "
                                                                  "compiled program; default: one run per worker)."),
):
    """Benchmark suites: `dsr bench SUITE` runs one (resumable), `dsr bench results SUITE` prints the leaderboard,
    `dsr bench report SUITE` writes the HTML report. SUITE is a .toml file or a shipped suite's name (`core`)."""
    import sqlite3

    from .bench import bench_report, bench_results, bench_run

    given = {"--csv": csv, "--json": json_out, "--out": out, "--force": force, "--retry-failed": retry_failed,
             "--time-limit": time_limit is not None, "--group-seeds": group_seeds}
    allowed = {"results": ("--csv", "--json", "--force"), "report": ("--out", "--force")}.get(
        target, ("--time-limit", "--retry-failed", "--group-seeds"))
    for flag, value in given.items():
        if value and flag not in allowed:
            where = f"`dsr bench {target}`" if target in ("results", "report") else "running a suite"
            _fail(f"{flag} does not apply to {where}; it takes {', '.join(allowed)}")
    try:
        if target in ("results", "report"):
            if suite is None:
                _fail(f"`dsr bench {target}` needs the suite: dsr bench {target} SUITE (a .toml file or one of "
                      f"{', '.join(suite_names())})")
            if target == "results":
                code = bench_results(suite, csv=csv, json=json_out, store=store, fast=fast or None, force=force)
            else:
                code = bench_report(suite, out=out, store=store, fast=fast or None, force=force)
        else:
            if suite is not None:
                _fail(f"unexpected argument {suite!r}; run a suite with `dsr bench SUITE`")
            code = bench_run(target, executor=executor, workers=workers, address=address, fast=fast, store=store,
                             time_limit=time_limit, retry_failed=retry_failed, tasks=task, methods=method,
                             seeds=seed or None, group_seeds=group_seeds)
    except (ValueError, TypeError, OSError, ImportError, sqlite3.Error) as exc:
        _fail(str(exc))
    raise typer.Exit(code=code)


@app.command()
def export(
    run: Path = typer.Argument(..., help="Run directory written by `dsr train` or `dsr reconstruct`, or a model "
                                         "file (.eqx)."),
    output_format: str = typer.Option(EXPORT_FORMATS[0], "--format",
                                      help="File format: npz (NumPy arrays) | json (nested lists)."),
    out: Optional[Path] = typer.Option(None, help="File to write (default: model.<format> in the run directory, "
                                                  "or beside the model file)."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it exists (default: refuse)."),
):
    """Export a trained model's parameters and the metadata to run it with plain NumPy (no dsrkit needed)."""
    from .export import export_model

    _choice("--format", output_format, EXPORT_FORMATS)
    if out is None:
        out = run / f"model.{output_format}" if run.is_dir() else run.with_suffix(f".{output_format}")
    try:
        path = export_model(run, out, format=output_format, force=force)
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _say(f"wrote {path}")


def _reconstruct_family(source: str, *, dt, out, force, model, n_features, test_fraction, max_epochs, seed,
                        seq_len, latent_dim, relu_units, hidden_dim, lr, input_noise, time_col, columns,
                        series_col) -> None:
    """`dsr reconstruct --hierarchical`: `dsrkit.hierarchical.reconstruct_family` on the file's series."""
    from .hierarchical import reconstruct_family

    model = "alrnn" if model == "auto" else model  # the hierarchical job trains one family, the AL-RNN by default
    if model not in ("alrnn", "shplrnn"):
        _fail(f"--hierarchical needs --model alrnn or shplrnn, got {model!r}")
    settings = {k: v for k, v in dict(epochs=max_epochs, latent_dim=latent_dim, relu_units=relu_units,
                                      hidden_dim=hidden_dim, lr=lr, input_noise=input_noise).items()
                if v is not None}
    try:
        run = reconstruct_family(source, dt=dt, time_col=time_col, columns=columns, series_col=series_col, out=out,
                                 force=force, K=n_features, kind=model, test_fraction=test_fraction,
                                 seq_len=seq_len, seed=seed, label_name=series_col, **settings)
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _print_table(f"dsr reconstruct {source} --hierarchical", run.rows)
    _say(f"wrote {run.run_dir}")


@app.command("fit-features")
def fit_features(
    run: Path = typer.Argument(..., help="Run directory written by `dsr reconstruct --hierarchical`."),
    data: Path = typer.Argument(..., help="One new series (.npz, .npy, .csv, .csv.gz) in raw units."),
    dt: Optional[float] = typer.Option(None, help=_DT_HELP),
    epochs: int = typer.Option(100, help="Epochs of the feature fit (default: 100)."),
    out: Optional[Path] = typer.Option(None, help="Model file (.eqx) to write for the new series (default: none)."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it exists (default: refuse)."),
):
    """Few-shot: fit only the feature vector of a new series, the family's parameters frozen; the result is an
    ordinary model (`dsr evaluate`, `dsr analyze` work on the file written with --out)."""
    from .hierarchical import fit_run_features

    try:
        fit = fit_run_features(run, str(data), dt=dt, out=out, force=force, epochs=epochs)
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _say("features " + ", ".join(f"{v:.4g}" for v in fit.features) + f"; D_stsp of its free run against the "
         f"series {fit.d_stsp:.4g}")
    if out is not None:
        _say(f"wrote {out}")


@app.command()
def report(
    run: Path = typer.Argument(..., help=_RUN_HELP),
    data: Optional[Path] = typer.Option(None, help="Test data file in raw units (default: the run's own "
                                                   "independent test series)."),
    dt: Optional[float] = typer.Option(None, help=_DT_HELP),
    force: bool = typer.Option(False, "--force", help="Replace an existing report.html and test metrics (default: "
                                                      "refuse; an analysis.json alone is recomputed)."),
):
    """(Re)write the self-contained report.html of a run directory (with its test metrics and analysis)."""
    from .pipeline import report_run

    try:
        path = report_run(run, data, dt=dt, force=force)
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _say(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    main()
