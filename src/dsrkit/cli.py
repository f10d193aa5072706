"""The `dsr` command: a thin layer over the library (every command calls one public function)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="dsrkit: dynamical systems reconstruction.", no_args_is_help=True, add_completion=False)
console = Console()


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code=2)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _print_table(title: str, rows: list[dict]) -> None:
    table = Table(title=title)
    if not rows:
        console.print(f"{title}: (empty)")
        return
    for col in rows[0]:
        table.add_column(str(col))
    for r in rows:
        table.add_row(*(_fmt(v) for v in r.values()))
    console.print(table)


@app.command()
def systems(catalogue: bool = typer.Option(False, "--catalogue", help="Add the dysts catalogue flows.")):
    """List the ground-truth systems: name, dimension, kind, reference lambda_max and its source."""
    from . import systems as sysdb

    try:
        rows = sysdb.table(catalogue=catalogue)
    except ImportError as exc:
        _fail(str(exc))
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
    force: bool = typer.Option(False, help="Replace OUT if it exists."),
):
    """Simulate a ground-truth system and save the trajectory."""
    from . import systems as sysdb
    from .data import Dataset

    try:
        s = sysdb.get(system)
        X = s.trajectory(steps, dt=dt, transient=transient, seed=seed, noise=noise, progress=True)
        ds = Dataset([X], dt=dt or s.dt, names=getattr(s, "variables", None))
        ds.save(out, overwrite=force)
    except (ValueError, TypeError, FileExistsError, ImportError) as exc:
        _fail(str(exc))
    console.print(f"wrote {out}: {X.shape[0]} steps x {X.shape[1]} variables, dt={ds.dt}")
    if plot is not None:
        from .report.figures import attractor

        fig = attractor(X, names=ds.names, title=f"{s.name}, {X.shape[0]} steps, dt={ds.dt}")
        fig.savefig(plot, dpi=110, bbox_inches="tight")
        console.print(f"wrote {plot}")


if __name__ == "__main__":  # pragma: no cover
    app()
