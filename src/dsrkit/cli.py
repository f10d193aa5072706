"""The `dsr` command: a thin layer over the library (every command calls one public function)."""

from __future__ import annotations

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
                  cls=_PlainErrors)
console = Console()
err_console = Console(stderr=True)
#: What user input can raise; each ends in one `error:` line (exit 2). OSError covers missing, existing,
#: unreadable files and directories where files were expected.
_USER_ERRORS = (ValueError, TypeError, OSError, ImportError)


@app.callback()
def _setup() -> None:
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


@app.command()
def systems(catalogue: bool = typer.Option(False, "--catalogue", help="Add the dysts catalogue flows.")):
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
    steps: int = typer.Option(10_000, help="Number of samples to keep."),
    dt: Optional[float] = typer.Option(None, help="Sampling step (default: the system's)."),
    transient: int = typer.Option(1000, help="Samples dropped before recording."),
    noise: float = typer.Option(0.0, help="Observation noise, a fraction of each variable's std."),
    seed: int = typer.Option(0, help="Seed of the initial-condition perturbation and the noise."),
    out: Path = typer.Option(..., help="Output file (.npz, .npy, .csv, .csv.gz)."),
    plot: Optional[Path] = typer.Option(None, help="Also write a figure of the trajectory (PNG)."),
    force: bool = typer.Option(False, help="Replace OUT (and PLOT) if they exist."),
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
        X = s.trajectory(steps, dt=dt, transient=transient, seed=seed, noise=noise, progress=True)
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
    data: Path = typer.Argument(..., help="Training data (.npz, .npy, .csv, .csv.gz)."),
    dt: Optional[float] = typer.Option(None, help="Sampling step, if the file does not store one."),
    model: str = typer.Option("alrnn", help=" | ".join(model_names()) + "."),
    latent: int = typer.Option(20, help="Latent dimension M."),
    relu: int = typer.Option(2, help="AL-RNN: number of ReLU units P."),
    hidden: int = typer.Option(50, help="shPLRNN: hidden units H."),
    bases: int = typer.Option(10, help="dendPLRNN: number of bases."),
    scheme: str = typer.Option("stf", help=" | ".join(scheme_names()) + " (the teacher-forcing scheme)."),
    tau: int = typer.Option(16, help="STF forcing interval."),
    alpha: float = typer.Option(0.1, help="GTF forcing strength."),
    epochs: int = typer.Option(200, help="Epochs (50 batches of 16 windows each)."),
    seq_len: int = typer.Option(200, help="Window length T~."),
    lr: tuple[float, float] = typer.Option((1e-3, 1e-5), help="Learning rate start and end."),
    input_noise: float = typer.Option(0.05, help="Gaussian input noise added during training (std, standardised "
                                                 "units)."),
    seeds: int = typer.Option(1, help="Independent models trained at once; the best is kept."),
    seed: int = typer.Option(0),
    out: Path = typer.Option(..., help="Run directory to create."),
    force: bool = typer.Option(False, help="Replace OUT if it exists."),
):
    """Train a piecewise-linear RNN on a data file and write a run directory."""
    from .data import Dataset
    from .pipeline import train_run
    from .training import config_from_options

    try:
        ds = Dataset.load(data, dt=dt)
        config = config_from_options(model, latent_dim=latent, relu_units=relu, hidden_dim=hidden, n_bases=bases,
                                     scheme=scheme, interval=tau, alpha=alpha, data=ds, epochs=epochs,
                                     seq_len=seq_len, lr=lr, input_noise=input_noise)
        fit, _, run_dir = train_run(ds, config, out, seed=seed, seeds=seeds, force=force,
                                    source={"kind": "file", "path": str(data.resolve())})
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _say(f"status {fit.status}, best epoch {fit.best_epoch}, {fit.seconds:.1f} s; wrote {run_dir}")


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="Run directory written by `dsr train` or `dsr reconstruct`."),
    data: Path = typer.Option(..., help="Test data file (raw units; the run's standardisation is applied)."),
    dt: Optional[float] = typer.Option(None, help="Sampling step, if the file does not store one."),
    lyapunov_max: Optional[float] = typer.Option(None, help="True lambda_max per time unit (enables VPT)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
):
    """Evaluate a trained model on test data by the published protocol."""
    from .data import Dataset
    from .evaluation import evaluate as evaluate_model
    from .runs import Run

    try:
        saved = Run.open(run)
        model, _ = saved.load()
        test = Dataset.load(data, dt=dt)
        scaler = saved.standardizer
        if scaler is not None:
            test, _ = test.standardize(scaler)
        result = evaluate_model(model, test, lyapunov_max=lyapunov_max)
    except _USER_ERRORS as exc:
        _fail(str(exc))
    if as_json:
        from .runs import _jsonable

        console.print_json(json.dumps(_jsonable(result)))
    else:
        _print_table(f"{run}: {result['status']}", [{"metric": k, "value": v} for k, v in result.items()
                                                     if isinstance(v, (int, float)) or v is None])
        _say(f"protocol: {result['protocol']['description']}")


@app.command()
def analyze(
    run: Path = typer.Argument(..., help="Run directory."),
    data: Optional[Path] = typer.Option(None, help="Data to analyse along (default: a free run of the model)."),
    dt: Optional[float] = typer.Option(None),
    max_period: int = typer.Option(4, help="Longest cycle period searched."),
    seed: int = typer.Option(0),
):
    """Subregions, symbolic graph, fixed points and cycles of a trained model: analysis.json and figures."""
    from .pipeline import analyze_run

    try:
        written = analyze_run(run, data, dt=dt, max_period=max_period, seed=seed)
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _say(f"wrote {run / 'analysis.json'} and {len(written)} figures in {run / 'figures'}")


@app.command()
def reconstruct(
    source: str = typer.Argument(..., help="Data file (.csv, .csv.gz, .npz, .npy) or system name (see `dsr systems`)."),
    dt: Optional[float] = typer.Option(None, help="Sampling step in time units (files without a time column or "
                                                  "stored dt need it)."),
    out: Optional[Path] = typer.Option(None, help="Run directory (default runs/<name>, or runs/<name>-2, ... if taken)."),
    budget: Optional[float] = typer.Option(None, help="Wall-clock seconds for the whole job (default 600 for data, "
                                                      "240 for a system name)."),
    model: str = typer.Option("auto", help="auto (shPLRNNs and AL-RNNs compete) | alrnn | shplrnn."),
    interpretable: bool = typer.Option(False, help="Select the AL-RNN with the fewest linear subregions within 2x "
                                                   "the best validation D_stsp."),
    time_col: Optional[str] = typer.Option(None, "--time-col", help="Column of time stamps (default: inferred)."),
    columns: Optional[str] = typer.Option(None, help="Comma-separated variables to use (default: all)."),
    series_col: Optional[str] = typer.Option(None, "--series-col", help="Column of trajectory ids (several series)."),
    test_fraction: float = typer.Option(0.2, help="Last part of each trajectory of a file kept for the test."),
    epochs: Optional[int] = typer.Option(None, help="At most this many epochs per candidate (default: the budget)."),
    references: bool = typer.Option(True, help="Fit the fast baselines (ESN, NG-RC, SINDy, parroting) beside it."),
    seed: int = typer.Option(0, help="Seed of simulated data, initialisations and training."),
    noise: float = typer.Option(0.05, help="Observation noise of simulated training data (fraction of std)."),
    n_train: Optional[int] = typer.Option(None, help="Simulated training points (default 100 000)."),
    n_test: Optional[int] = typer.Option(None, help="Simulated test points (default 100 000)."),
    force: bool = typer.Option(False, help="Replace the run directory if it exists."),
):
    """The main job: read or simulate data, derive settings, search a population of models, judge the selected
    one against references and the data floor on a held-out test split, analyse, report."""
    from .reconstruction import reconstruct as run_reconstruction

    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    tcol = False if time_col is not None and time_col.lower() == "none" else time_col
    try:
        result = run_reconstruction(source, dt=dt, out=out, force=force, budget=budget, model=model,
                                    interpretable=interpretable, seed=seed, noise=noise, n_train=n_train,
                                    n_test=n_test, time_col=tcol, columns=cols, series_col=series_col,
                                    test_fraction=test_fraction, max_epochs=epochs, references=references)
    except _USER_ERRORS as exc:
        _fail(str(exc))
    _print_table(f"dsr reconstruct {source}", result.summary_rows())
    _say(f"verdict: {result.verdict['text']}")
    _say(f"protocol: {result.metrics['protocol']['description']}")
    _say(f"report: {result.report}")


@app.command(context_settings={"help_option_names": ["-h", "--help"]})
def bench(
    target: str = typer.Argument(..., help="SUITE.toml to run, or `results` / `report` followed by the suite."),
    suite: Optional[str] = typer.Argument(None, help="The suite, after `results` or `report`."),
    executor: str = typer.Option("local", help="local (processes) or ray."),
    workers: Optional[int] = typer.Option(None, help="Local worker processes (default: one per core)."),
    address: Optional[str] = typer.Option(None, help="Ray cluster address (default: start a local one)."),
    fast: bool = typer.Option(False, help="The suite's fast settings (short series, few epochs and seeds)."),
    store: Optional[str] = typer.Option(None, help="Results store (default results/<suite>.sqlite)."),
    time_limit: Optional[float] = typer.Option(None, help="Seconds per run before it is recorded as failed."),
    csv: Optional[str] = typer.Option(None, help="`results`: also export CSV here."),
    json_out: Optional[str] = typer.Option(None, "--json", help="`results`: also export JSON here."),
    out: Optional[str] = typer.Option(None, help="`report`: HTML file (default results/<suite>.html)."),
    force: bool = typer.Option(False, "--force", help="`results` / `report`: replace existing export files."),
    retry_failed: bool = typer.Option(False, "--retry-failed",
                                      help="Run again the runs recorded as failed (errors, timeouts, killed workers)."),
    task: Optional[list[str]] = typer.Option(None, help="Run only this task (repeatable): a slice of the suite."),
    method: Optional[list[str]] = typer.Option(None, help="Run only this method name or label (repeatable)."),
    seed: Optional[list[int]] = typer.Option(None, help="Run only this seed (repeatable)."),
):
    """Benchmark suites: `dsr bench SUITE.toml` runs (resumable), `dsr bench results SUITE` prints the
    leaderboard, `dsr bench report SUITE` writes the HTML report."""
    import sqlite3

    from .bench import bench_report, bench_results, bench_run

    given = {"--csv": csv, "--json": json_out, "--out": out, "--force": force, "--retry-failed": retry_failed,
             "--time-limit": time_limit is not None}
    allowed = {"results": ("--csv", "--json", "--force"), "report": ("--out", "--force")}.get(
        target, ("--time-limit", "--retry-failed"))
    for flag, value in given.items():
        if value and flag not in allowed:
            where = f"`dsr bench {target}`" if target in ("results", "report") else "running a suite"
            _fail(f"{flag} does not apply to {where}; it takes {', '.join(allowed)}")
    try:
        if target in ("results", "report"):
            if suite is None:
                _fail(f"`dsr bench {target}` needs the suite: dsr bench {target} SUITE.toml")
            if target == "results":
                code = bench_results(suite, csv=csv, json=json_out, store=store, fast=fast or None, force=force)
            else:
                code = bench_report(suite, out=out, store=store, fast=fast or None, force=force)
        else:
            if suite is not None:
                _fail(f"unexpected argument {suite!r}; run a suite with `dsr bench SUITE.toml`")
            code = bench_run(target, executor=executor, workers=workers, address=address, fast=fast, store=store,
                             time_limit=time_limit, retry_failed=retry_failed, tasks=task, methods=method,
                             seeds=seed or None)
    except (ValueError, TypeError, OSError, ImportError, sqlite3.Error) as exc:
        _fail(str(exc))
    raise typer.Exit(code=code)


@app.command()
def report(
    run: Path = typer.Argument(..., help="Run directory."),
    data: Optional[Path] = typer.Option(None, help="Test data (default: the run's own independent test series)."),
    dt: Optional[float] = typer.Option(None, help="Sampling step, if the data file does not store one."),
    force: bool = typer.Option(False, help="Replace an existing report.html, analysis.json and test metrics."),
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
