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
                 source: dict, name: str, extra: dict | None = None) -> Path:
    """Draw and write the figures and report.html of a trained model from what it is given (nothing is computed
    here but the drawings). Returns the report path.

    test_std: standardised test Dataset; gen: the protocol's free run compared with its first trajectory (T, N);
    short: the free run from the first test point shown against the series (up to 2000 steps); analysis: the
    `dsrkit.analysis.analyze` result; fit: the `MemberFit` of a trained run (None for the main job, whose
    training is the search in `extra`); extra: what the main job adds (`dsrkit.reconstruction`): verdict,
    references, floor, suggestion, population, frontier, chosen, split, notes. Figures are drawn in
    standardised units (the model's coordinates).
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
    if fit is not None:
        rep.paragraph(f"Model: {cfg['model']} {cfg['model_args']}, trained with {cfg['scheme']} "
                      f"{cfg['scheme_args']}, settings {cfg['train']}; status {fit.status}, selected epoch "
                      f"{fit.best_epoch} ({fit.selection or 'lowest D_stsp on the training data'}), "
                      f"{fit.seconds:.0f} s of training.")
    if extra:
        _main_job_summary(rep, cfg, extra)

    rep.heading("Metrics on the test series")
    rows = [{"metric": k, "value": metrics.get(k)} for k in
            ("status", "state_space_divergence", "power_spectrum_distance", "prediction_error",
             "valid_prediction_time", "lyapunov_max", "in_range_fraction") if k in metrics]
    ref = source.get("reference", {}).get("lyapunov_max")
    if ref is not None:
        rows.append({"metric": "reference λ_max of the true system", "value": ref})
    rep.table(rows)
    if extra:
        _references_table(rep, metrics, extra)
        _invariants_table(rep, analysis, metrics, source, extra)
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
    if extra:
        _population(rep, run, extra)
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


def _main_job_summary(rep: HtmlReport, cfg: dict, extra: dict) -> None:
    """Verdict, split, the settings derived from the data and the notes."""
    v = extra["verdict"]
    rep.paragraph(f"Verdict: {v['text']}.", "verdict")
    rep.paragraph(f"Split: {extra['split']}.")
    rep.paragraph(f"Selected model: {cfg['model']} {cfg['model_args']} with {cfg['scheme']} {cfg['scheme_args']}, "
                  f"input noise {cfg['train'].get('input_noise')}, learning rate {cfg['train'].get('lr')}, "
                  f"{cfg['train'].get('epochs')} epochs (candidate {extra['chosen']} of the search).")
    sg = extra["suggestion"]
    est = sg.get("estimates", {})
    rows = [{"quantity": k, "value": est[k]} for k in est if not isinstance(est[k], (dict, list))]
    rep.paragraph("Estimated from the training data (dsrkit.training.suggest):")
    rep.table(rows)
    rep.paragraph("Settings chosen from them: " + "; ".join(f"{k}: {r}" for k, r in sg.get("reasons", {}).items()))
    for note in extra.get("notes", []):
        rep.paragraph(f"Note: {note}", "note")


def _references_table(rep: HtmlReport, metrics: dict, extra: dict) -> None:
    """The model beside the data floor and the references, one row each, on the same test split."""
    rows = [{"": "the model", "D_stsp": metrics.get("state_space_divergence"),
             "D_H": metrics.get("power_spectrum_distance"), "status": metrics.get("status"), "seconds": None}]
    floor = extra.get("floor") or {}
    rows.append({"": "data floor (" + floor.get("note", "") + ")", "D_stsp": floor.get("state_space_divergence"),
                 "D_H": floor.get("power_spectrum_distance"), "status": "", "seconds": None})
    for name, r in extra.get("references", {}).items():
        label = f"{name} ({r.get('role')})"
        rows.append({"": label, "D_stsp": r.get("state_space_divergence"), "D_H": r.get("power_spectrum_distance"),
                     "status": r.get("error") or r.get("status"), "seconds": r.get("seconds")})
    rep.paragraph("The model, the data floor and the references (dsrkit's fast baselines at their defaults, fitted "
                  "on the same training data and evaluated by the same protocol; parroting replays the training "
                  "data and is a floor, not a method to beat):")
    rep.table(rows)


def _population(rep: HtmlReport, run: runs.Run, extra: dict) -> None:
    """The search's candidates and the frontier of subregions against validation D_stsp."""
    rep.paragraph("Population search (successive halving; scores on the validation segment, never the test split):")
    keep = ("candidate", "model", "scheme", "forcing", "lr", "seed", "epochs", "rung", "eliminated_after_rung",
            "status", "val_d_stsp", "val_d_h", "score")
    rep.table([{k: r.get(k) for k in keep} for r in extra["population"]])
    frontier = [r for r in extra.get("frontier", []) if r.get("subregions")]
    if frontier:
        _save(figures.frontier(frontier, extra["chosen"]), run, "frontier", rep,
              "Linear subregions visited by each candidate's free run against its validation D_stsp (lower left is "
              "better); the selected model is circled.")


def _invariants_table(rep: HtmlReport, analysis: dict, metrics: dict, source: dict, extra: dict) -> None:
    """The model's Lyapunov exponents and Kaplan–Yorke dimension beside the system's reference values, or beside
    the estimates from the training data when there is no reference."""
    ly = analysis.get("lyapunov") or {}
    ref = source.get("reference") or {}
    est = (extra.get("suggestion") or {}).get("estimates", {})
    spectrum = ly.get("spectrum_per_time") or ly.get("spectrum_per_step") or []
    if ref:
        against, lam_ref = "the system's reference values", ref.get("lyapunov_max")
    else:
        against = "estimates from the training data (Rosenstein; " + (
            "reliable" if est.get("lyapunov_reliable") else f"unreliable: {est.get('lyapunov_note', '')}") + ")"
        lam_ref = est.get("lyapunov_max")
    rows = [{"quantity": "λ_max per time unit, on the generated attractor (analysis: 1.25 T-step free run, "
                         "0.25 T dropped)", "model": ly.get("max_per_time"), "reference": lam_ref},
            {"quantity": "λ_max per time unit, from the first test point (evaluation: 10 000 steps after 1 000)",
             "model": metrics.get("lyapunov_max"), "reference": lam_ref},
            {"quantity": "Lyapunov spectrum (first 3)", "model": [round(v, 4) for v in spectrum[:3]],
             "reference": ref.get("lyapunov_spectrum", [None])[:3] if ref.get("lyapunov_spectrum") else None},
            {"quantity": "Kaplan–Yorke dimension", "model": ly.get("kaplan_yorke_dimension"),
             "reference": ref.get("kaplan_yorke_dimension")}]
    rep.paragraph(f"Invariants of the model against {against}. The two λ_max of the model differ in where and how "
                  "long they are computed; both should agree in sign with the reference.")
    rep.table(rows)
