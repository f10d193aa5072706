"""Self-contained HTML report of a suite's results: leaderboard, per-task metric distributions, the attractors of
each method's best run (where trajectories were kept), and the list of failed and diverged runs.

The leaderboard shows the rows of `leaderboard.ResultsTable.display_rows` in their order (the markdown's): per
task the data floor first (marked as the reference a perfect model reaches, not ranked), then the data-replay rows
(parroting; marked, ranked among themselves) and the models (ranked among the models)."""

from __future__ import annotations

import datetime
import html
import json
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .._files import check_writable, write_text
from ..report.html import HtmlReport
from .components import Components
from .leaderboard import FLOOR, HIGHER_IS_BETTER, MODEL, REPLAY, ResultsTable, _suite_and_store, results

PROTOCOL = ("Protocol (free run): each method is fitted to a training trajectory of the system (seed 2s, with the "
            "task's observation noise), rolled out from the first point of an independent test trajectory (seed "
            "2s + 1) for T + warmup·T steps; the first warmup·T generated steps (warmup = 0.25 unless stated) are "
            "dropped and the remaining T steps are compared with the test trajectory of length T. Data are z-scored "
            "with the training mean and standard deviation. Lower is better for D_stsp and D_H.")
LEGEND = ("Each task lists three kinds of rows: first the data floor (the test trajectory against an independent "
          "trajectory of the true system), the score a perfect model reaches at this test length, shown as a "
          "reference and not ranked; then data replay (parroting, which copies stretches of the training data "
          "instead of modelling the dynamics), ranked among the data-replay rows only; then the models, ranked "
          "among the models (1 = best), so a data-replay row never changes a model's rank.")
#: How the leaderboard marks each kind of row: the text of its kind cell (the markdown's kind first) and its style.
_KIND_TEXT = {FLOOR: "floor: reference, what a perfect model scores", REPLAY: "data replay: ranked apart",
              MODEL: "model"}
_KIND_STYLE = {FLOOR: "background:#e6f2e6;font-style:italic", REPLAY: "background:#fbf3df", MODEL: ""}
_NOT_RANKED = "not ranked"


def _leaderboard_html(table: ResultsTable) -> str:
    """The leaderboard as an HTML table: `table.display_rows()` in their order, each row marked by its kind (a
    class and data-kind attribute, a background, the kind cell's text); the floor's rank cell says it is not
    ranked, a data-replay row's rank is its rank among the data-replay rows. Each task's first row has a thicker
    top border."""
    rows = table.display_rows()
    if not rows:
        return "<p>No runs.</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body, task = [], None
    for r in rows:
        kind = r.get("kind", MODEL)
        style = _KIND_STYLE.get(kind, "")
        if r["task"] != task:
            style = ";".join(x for x in (style, "border-top:2px solid #888") if x)
            task = r["task"]
        cells = []
        for c in columns:
            v = r[c]
            if c == "kind":
                v = _KIND_TEXT.get(kind, kind)
            elif c == "mean rank" and kind == FLOOR:
                v = _NOT_RANKED
            cells.append(f"<td>{html.escape(str(v))}</td>")
        cls = "kind-" + ("replay" if kind == REPLAY else kind)
        body.append(f'<tr class="{cls}" data-kind="{html.escape(kind)}" style="{style}">' + "".join(cells) + "</tr>")
    return f'<table class="leaderboard"><tr>{head}</tr>{"".join(body)}</table>'


def _distribution_figure(task, methods, runs_by_method, metrics):
    fig = Figure(figsize=(max(4.0, 1.0 + 0.9 * len(methods)) * len(metrics) ** 0.5 + 2, 3.4))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        data, labels = [], []
        for k, label in enumerate(methods):
            rows = runs_by_method.get(label, [])
            vals = [r["metrics"].get(m) for r in rows if r["status"] == "ok" and r["metrics"].get(m) is not None]
            n_div = sum(r["status"] == "diverged" for r in rows)
            data.append(vals)
            labels.append(label + (f"\n({n_div} div.)" if n_div else ""))
            if vals:
                jitter = np.linspace(-0.12, 0.12, len(vals)) if len(vals) > 1 else [0.0]
                ax.plot(np.full(len(vals), k + 1.0) + jitter, vals, "o", ms=3.5, color="tab:blue", alpha=0.7)
        ax.boxplot([d if d else [np.nan] for d in data], widths=0.5, showfliers=False)
        ax.set_xticks(range(1, len(labels) + 1), labels, rotation=30, ha="right", fontsize=8)
        finite = [v for d in data for v in d if v > 0]
        if finite and max(finite) / min(finite) > 100:
            ax.set_yscale("log")
        ax.set_title(m + (" (higher is better)" if m in HIGHER_IS_BETTER else ""), fontsize=9)
    fig.suptitle(task.name, fontsize=10)
    fig.tight_layout()
    return fig


def _attractor_figure(task, best: list[tuple[str, dict, dict]], key_metric: str | None):
    n = len(best)
    cols = min(n, 4)
    nrows = math.ceil(n / cols)
    dim = best[0][2]["test"].shape[1]
    three_d = dim >= 3
    fig = Figure(figsize=(3.4 * cols, 3.2 * nrows))
    for k, (label, row, arr) in enumerate(best):
        true, gen = arr["test"], arr["generated"]
        if three_d:
            ax = fig.add_subplot(nrows, cols, k + 1, projection="3d")
            ax.plot(true[:, 0], true[:, 1], true[:, 2], color="0.6", lw=0.3)
            ax.plot(gen[:, 0], gen[:, 1], gen[:, 2], color="tab:red", lw=0.3)
        else:
            ax = fig.add_subplot(nrows, cols, k + 1)
            j = 1 if dim > 1 else 0
            x_t, y_t = (true[:, 0], true[:, j]) if dim > 1 else (true[:-1, 0], true[1:, 0])
            x_g, y_g = (gen[:, 0], gen[:, j]) if dim > 1 else (gen[:-1, 0], gen[1:, 0])
            ax.plot(x_t, y_t, color="0.6", lw=0.3)
            ax.plot(x_g, y_g, color="tab:red", lw=0.3)
        value = row["metrics"].get(key_metric) if key_metric else None
        ax.set_title(f"{label} (seed {row['seed']})" + (f"\n{key_metric} = {value:.3g}" if value is not None else ""),
                     fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{task.name}: test trajectory (grey) and the best run's free run (red), first 3 variables",
                 fontsize=9)
    fig.tight_layout()
    return fig


def report(suite, out_html=None, *, store=None, fast: bool | None = None,
           components: Components | None = None, overwrite: bool = False) -> Path:
    """Write a self-contained HTML report (figures inline as base64 PNG) of a suite's stored results.

    The leaderboard is `leaderboard.results` of the store, with each task's data floor (computed and cached in
    the store where missing, as `dsr bench results` does).

    out_html: default <store path>.html (results/<suite stem>.html); an existing file is an error (checked before
    any work) unless `overwrite`, and the file is written atomically. Returns the path written.
    """
    if out_html is not None:
        check_writable(out_html, overwrite=overwrite)
    s, db, close = _suite_and_store(suite, store, fast, components)
    try:
        out = Path(out_html) if out_html is not None else db.path.with_suffix(".html")
        check_writable(out, overwrite=overwrite)
        specs = s.runs()
        rows = {r["run_id"]: r for r in db.rows([x.run_id for x in specs])}
        table = results(s, store=db)
        from .._version import __version__

        rep = HtmlReport(f"Benchmark: {s.name}" + (" (fast settings)" if s.fast else ""))
        if s.description:
            rep.paragraph(s.description)
        counts = {st: sum(1 for x in specs if rows.get(x.run_id, {}).get("status") == st)
                  for st in ("ok", "diverged", "failed")}
        missing = len(specs) - sum(counts.values())
        rep.paragraph(f"{len(specs)} runs: {counts['ok']} ok, {counts['diverged']} diverged, {counts['failed']} failed, "
                      f"{missing} not finished. Store: {db.path}. dsrkit {__version__}; written "
                      f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}.", "note")
        rep.paragraph(PROTOCOL, "note")
        rep.heading("Leaderboard")
        rep.paragraph(LEGEND, "note")
        rep.parts.append(_leaderboard_html(table))
        rep.paragraph(table.notes.capitalize() + ".", "note")

        for task in s.tasks:
            task_specs = [x for x in specs if x.task.name == task.name]
            methods = list(dict.fromkeys(x.method.label for x in task_specs))
            by_method: dict[str, list[dict]] = {}
            for x in task_specs:
                if x.run_id in rows:
                    by_method.setdefault(x.method.label, []).append({**rows[x.run_id], "seed": x.seed})
            rep.heading(f"Task {task.name}")
            src = f"system {task.system} {json.dumps(task.params)}" if task.system else f"data {task.data}"
            rep.paragraph(f"{src}; noise {task.noise:g}; n_train {task.n_train}, n_test {task.n_test}, dt "
                          f"{task.dt if task.dt is not None else 'system default'}, transient {task.transient}, "
                          f"seeds {list(task.seeds)}, warmup {task.warmup:g}.", "note")
            if not by_method:
                rep.paragraph("No finished runs yet.")
                continue
            rep.figure(_distribution_figure(task, methods, by_method, list(task.metrics)),
                       "Metric per seed (dots) and its distribution over seeds (boxes), finished runs only.")
            best = []
            key_metric = task.metrics[0] if task.metrics else None
            for label in methods:
                ok = [r for r in by_method.get(label, []) if r["status"] == "ok" and r.get("artifact")]
                if key_metric:
                    ok = [r for r in ok if r["metrics"].get(key_metric) is not None]
                    sign = -1 if key_metric in HIGHER_IS_BETTER else 1
                    ok.sort(key=lambda r: sign * r["metrics"][key_metric])
                for r in ok:
                    arr = db.load_artifact(r)
                    if arr is not None:
                        best.append((label, r, arr))
                        break
            if best:
                rep.figure(_attractor_figure(task, best, key_metric),
                           f"Best run of each method by {key_metric}; kept trajectories only.")

        bad = [
            {"task": x.task.name, "method": x.method.label, "seed": x.seed, "status": rows[x.run_id]["status"],
             "reason": (rows[x.run_id].get("reason") or "")[:200]}
            for x in specs if x.run_id in rows and rows[x.run_id]["status"] in ("failed", "diverged")
        ]
        rep.heading("Failed and diverged runs")
        if bad:
            rep.table(bad)
        else:
            rep.paragraph("None.")
        return write_text(out, rep.render(), overwrite=overwrite)
    finally:
        if close:
            db.close()
