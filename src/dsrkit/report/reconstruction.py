"""The report of a reconstruction: `report.html` (self-contained) plus the figures as PNG in the run directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import runs
from ..data import Standardizer
from . import citations, figures, tables
from .html import HtmlReport, figure_png


def _save(fig, run: runs.Run, name: str, report: HtmlReport, caption: str) -> None:
    """The figure into the report and into figures/<name>.png, drawn once."""
    png = figure_png(fig)
    report.image(png, caption)
    run.save_png(png, name)


#: the report's sections: anchor -> heading (report.html#anchor; tests check that each is present)
SECTIONS = {"summary": "Summary", "provenance": "Provenance", "data": "Data", "metrics": "Metrics on the test series",
            "attractor": "Attractor", "training": "Training", "model": "Model: parameters and linear subregions",
            "interpretation": "Interpretation", "citations": "Methods and citations"}

_METRIC_LABELS = {"status": "status", "state_space_divergence": "D_stsp (state-space divergence)",
                  "power_spectrum_distance": "D_H (power-spectrum distance)",
                  "prediction_error": "PE(n) (n-step prediction error)",
                  "valid_prediction_time": "VPT (valid prediction time, Lyapunov times)",
                  "in_range_fraction": "fraction of the free run inside the data's range"}


def write_report(run: runs.Run, model, *, test_std, gen, short, analysis: dict, metrics: dict, protocol, fit,
                 source: dict, name: str, extra: dict | None = None) -> Path:
    """Draw and write the figures and report.html of a trained model from what it is given (nothing is computed
    here but the drawings and the eigenvalues of the visited subregions). Returns the report path.

    test_std: standardised test Dataset; gen: the protocol's free run compared with its first trajectory (T, N);
    short: the free run from the first test point shown against the series (up to 2000 steps); analysis: the
    `dsrkit.analysis.analyze` result; fit: the `MemberFit` of a trained run (None for the main job, whose
    training is the search in `extra`); extra: what the main job adds (`dsrkit.reconstruction`): verdict,
    references, floor, suggestion, population, frontier, chosen, split, notes. Figures are drawn in standardised
    units (the model's coordinates), the attractor also in raw units; every true-against-generated figure uses
    one set of axis limits for both, and the data's variable names on its axes. Sections: `SECTIONS`.
    """
    from . import interpretation

    test = test_std.trajectories[0]
    config = run.config
    cfg = config["config"]  # in the current vocabulary, also for a run written before it
    dt = test_std.dt
    names = figures._names(test.shape[1], config.get("names") or test_std.names)
    scaler = run.standardizer or Standardizer(np.zeros(test.shape[1]), np.ones(test.shape[1]))
    rep = HtmlReport(f"dsrkit reconstruction: {name}")

    rep.heading(SECTIONS["summary"], "summary")
    src = (f"system {source['system']} with parameters {source['params']}, dt = {source['dt']}, "
           f"{source['n_train']} training points with {source['observation_noise']:.0%} observation noise, "
           f"{source['n_test']} clean test points from an independent initial condition"
           if source.get("kind") == "system" else f"data file {source.get('path')}" if source.get("path")
           else f"{source.get('kind', 'data')} given in Python")
    rep.paragraph(f"Data: {src}; variables {', '.join(names)}.")
    if fit is not None:
        rep.paragraph(f"Model: {cfg['model']} {cfg['model_args']}, trained with {cfg['scheme']} "
                      f"{cfg['scheme_args']}, settings {cfg['train']}; status {fit.status}, selected epoch "
                      f"{fit.best_epoch} ({fit.selection or 'lowest D_stsp on the training data'}), "
                      f"{fit.seconds:.0f} s of training.")
    if extra:
        _main_job_summary(rep, cfg, extra)

    rep.heading(SECTIONS["provenance"], "provenance")
    rep.table(tables.provenance_rows(config.get("provenance")))

    rep.heading(SECTIONS["data"], "data")
    rep.paragraph("The model works in standardised units, x_std = (x − mean) / std, with the mean and std of the "
                  "training data below; the test series' range is in raw units.")
    rep.table(tables.data_rows(scaler.inverse(test), scaler, names))

    rep.heading(SECTIONS["metrics"], "metrics")
    rows = [{"metric": _METRIC_LABELS[k], "value": metrics.get(k)} for k in _METRIC_LABELS if k in metrics]
    rep.table(rows)
    if extra:
        _references_table(rep, metrics, extra)
    _lyapunov_table(rep, analysis, metrics, source, extra)
    rep.paragraph("Protocol: " + metrics["protocol"].get("description", "") + ". Test data: "
                  + metrics["protocol"].get("data", "") + ".", "note")

    rep.heading(SECTIONS["attractor"], "attractor")
    if np.isfinite(gen).all():
        _save(figures.attractors(test, gen, names, units="standardised"), run, "attractor", rep,
              "True (test) and generated attractors in standardised units, on shared axis limits.")
        _save(figures.attractors(scaler.inverse(test), scaler.inverse(gen), names, units="raw units"), run,
              "attractor_raw", rep, "The same attractors in the data's raw units (x = x_std · std + mean), on "
                                    "shared axis limits.")
        _save(figures.power_spectra(test, gen, dt, names, smoothing=protocol.smoothing), run, "power_spectra",
              rep, f"Smoothed power spectra (σ = {protocol.smoothing:g}), as compared by D_H.")
    else:
        rep.paragraph("The free run diverged: no attractor or spectrum to show.")
    _save(figures.time_series(test, short, dt, names, units="standardised"), run, "time_series", rep,
          f"Free run from the first test point against the test series (the first {len(short)} steps).")

    rep.heading(SECTIONS["training"], "training")
    if extra:
        _population(rep, run, extra)
    members = config.get("members") or []
    if len(members) > 1:
        rows, text = tables.member_rows(members)
        rep.paragraph(f"Seed spread: {text} Score: {config.get('selection') or 'the selection rule'} of each "
                      "member's selected checkpoint.")
        rep.table(rows)
    hist = run.history
    if hist:
        selected = fit.best_epoch if fit is not None else config.get("best_epoch")
        _save(figures.learning_curves(hist, selected_epoch=selected, show_alpha=cfg.get("scheme") == "adaptive_gtf"),
              run, "learning_curves", rep,
              "Loss, the training-data metrics used for checkpoint selection and (adaptive GTF only) the forcing "
              f"strength α; the dashed line marks the selected epoch ({selected}).")

    rep.heading(SECTIONS["model"], "model")
    _model_section(rep, model, analysis, names)

    rep.heading(SECTIONS["interpretation"], "interpretation")
    for fig_name, (fig, caption) in interpretation.report_figures(model, test, analysis, names=names).items():
        _save(fig, run, fig_name, rep, caption)
    rep.paragraph(interpretation.describe(analysis))
    for title, table in interpretation.report_tables(analysis).items():
        rep.paragraph(title)
        rep.table(table)

    rep.heading(SECTIONS["citations"], "citations")
    rep.paragraph("The methods this report used and the papers that define them:")
    rep.items([f"{label}: {text}" for label, text in
               citations.citations(citations.methods_used(cfg, metrics, analysis, extra))])
    return rep.write(run.path / runs.REPORT, overwrite=True)


def _model_section(rep: HtmlReport, model, analysis: dict, names: list[str]) -> None:
    """The model's summary, its parameters per latent unit and the eigenvalues of its visited subregions."""
    rep.preformatted(model.summary())
    if not hasattr(model, "region_affine"):
        return
    rep.subheading("Parameters", "parameters")
    rep.paragraph(f"Per latent unit (the first {min(tables.MAX_ROWS, model.latent_dim)} of {model.latent_dim}):")
    rep.table(tables.parameter_rows(model, names))
    gen = (analysis.get("symbolic") or {}).get("generated")
    if gen:
        rep.subheading("Linear subregions", "subregions")
        rep.paragraph("The most visited linear subregions of the generated attractor: within subregion d the model "
                      "is affine, z' = J(d) z + c(d); ρ is the spectral radius of J(d).")
        rep.table(tables.subregion_rows(model, gen["codes"], gen["frequencies"]))


def _lyapunov_table(rep: HtmlReport, analysis: dict, metrics: dict, source: dict, extra: dict | None) -> None:
    """λ_max of the model, each estimate labelled with how it was computed, beside the reference (the system's, or
    for the main job a reliable estimate from the training data); the spectrum and Kaplan–Yorke dimension."""
    ly = analysis.get("lyapunov") or {}
    ref = source.get("reference") or {}
    est = ((extra or {}).get("suggestion") or {}).get("estimates", {})
    if ref.get("lyapunov_max") is not None:
        lam_ref, against = ref["lyapunov_max"], "the system's reference value"
    elif est.get("lyapunov_max") is not None:
        lam_ref = est["lyapunov_max"]
        against = "estimate from the training data (Rosenstein; " + (
            "reliable" if est.get("lyapunov_reliable") else f"unreliable: {est.get('lyapunov_note', '')}") + ")"
    else:
        lam_ref, against = None, ""
    rows = tables.lyapunov_rows(analysis, metrics, lam_ref, against)
    spectrum = ly.get("spectrum_per_time") or ly.get("spectrum_per_step") or []
    if spectrum:
        rows.append({"λ_max": "Lyapunov spectrum (first 3, analysis run)", "model": [round(v, 4) for v in spectrum[:3]],
                     "reference": (ref.get("lyapunov_spectrum") or [None])[:3] if ref.get("lyapunov_spectrum")
                     else None})
    if ly.get("kaplan_yorke_dimension") is not None:
        rows.append({"λ_max": "Kaplan–Yorke dimension (analysis run)", "model": ly.get("kaplan_yorke_dimension"),
                     "reference": ref.get("kaplan_yorke_dimension")})
    if not rows:
        return
    rep.subheading("Lyapunov exponents", "lyapunov")
    rep.paragraph("Lyapunov exponents of the model. The two λ_max are both QR (Benettin) estimates from the first "
                  "test point; they differ only in run length and transient, so their difference shows the "
                  "estimate's sampling error" + (f"; reference: {against}." if against else "."))
    rep.table(rows)


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
    rep.subheading("References and the data floor", "references")
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
