"""The report of a reconstruction: `report.html` (self-contained) plus the figures as PNG in the run directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import runs
from . import figures
from .html import HtmlReport


def _save(fig, run: runs.Run, name: str, report: HtmlReport, caption: str) -> None:
    report.figure(fig, caption)
    run.save_figure(fig, name)


def write_report(run: runs.Run, model, *, test_std, gen, short, analysis: dict, metrics: dict, protocol, fit,
                 source: dict, name: str) -> Path:
    """Draw and write the figures and report.html of a trained model from what it is given (nothing is computed
    here but the drawings). Returns the report path.

    test_std: standardised test Dataset; gen: the protocol's free run compared with its first trajectory (T, N);
    short: the free run from the first test point shown against the series (up to 2000 steps); analysis: the
    `dsrkit.analysis.analyze` result. Figures are drawn in standardised units (the model's coordinates).
    """
    from . import interpretation

    run_dir = run.path
    test = test_std.trajectories[0]
    dt, names = test_std.dt, test_std.names
    rep = HtmlReport(f"dsrkit reconstruction: {name}")

    rep.heading("Summary")
    src = (f"system {source['system']} with parameters {source['params']}, dt = {source['dt']}, "
           f"{source['n_train']} training points with {source['observation_noise']:.0%} observation noise, "
           f"{source['n_test']} clean test points from an independent initial condition"
           if source.get("kind") == "system" else f"data file {source.get('path')}")
    rep.paragraph(f"Data: {src}.")
    cfg = run.config["config"]  # in the current vocabulary, also for a run written before it
    rep.paragraph(f"Model: {cfg['model']} {cfg['model_args']}, trained with {cfg['scheme']} {cfg['scheme_args']}, "
                  f"settings {cfg['train']}; status {fit.status}, selected epoch {fit.best_epoch} "
                  f"(lowest D_stsp on the training data), {fit.seconds:.0f} s of training.")

    rep.heading("Metrics on the test series")
    rows = [{"metric": k, "value": metrics.get(k)} for k in
            ("status", "state_space_divergence", "power_spectrum_distance", "prediction_error",
             "valid_prediction_time", "lyapunov_max", "in_range_fraction") if k in metrics]
    ref = source.get("reference", {}).get("lyapunov_max")
    if ref is not None:
        rows.append({"metric": "reference λ_max of the true system", "value": ref})
    rep.table(rows)
    rep.paragraph("Protocol: " + metrics["protocol"].get("description", "") + ". Test data: "
                  + metrics["protocol"].get("data", "") + ".", "note")

    rep.heading("Attractor")
    if np.isfinite(gen).all():
        _save(figures.attractors(test, gen, names), run, "attractor", rep,
              "True (test) and generated attractors, standardised units.")
        _save(figures.power_spectra(test, gen, dt, names, smoothing=protocol.smoothing), run, "power_spectra",
              rep, f"Smoothed power spectra (σ = {protocol.smoothing:g}), as compared by D_H.")
    else:
        rep.paragraph("The free run diverged: no attractor or spectrum to show.")
    _save(figures.time_series(test, short, dt, names), run, "time_series", rep,
          f"Free run from the first test point against the test series (the first {len(short)} steps).")

    rep.heading("Training")
    hist = run.history
    if hist:
        _save(figures.learning_curves(hist), run, "learning_curves", rep,
              "Loss, forcing strength and the training-data metrics used for checkpoint selection.")

    rep.heading("Interpretation")
    for fig_name, (fig, caption) in interpretation.report_figures(model, test, analysis).items():
        _save(fig, run, fig_name, rep, caption)
    rep.paragraph(interpretation.describe(analysis))
    for title, table in interpretation.report_tables(analysis).items():
        rep.paragraph(title)
        rep.table(table)
    return rep.write(run_dir / runs.REPORT, overwrite=True)
