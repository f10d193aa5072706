"""The parts of the report one by one: shared axis limits and variable names on every true-against-generated
figure, the selected epoch and the α panel of the learning curves, the fixed-point legend drawn as plotted, the
symbolic graph's key, the tables (parameters, subregions, λ_max labels, seed spread), the citation table, the
model summaries, the printed fixed points, and the provenance record."""

from __future__ import annotations

import hashlib
import sys

import jax
import numpy as np
import pytest

from dsrkit.models import ALRNN, PLRNN, DendPLRNN, ShallowPLRNN
from dsrkit.report import citations, figures, interpretation, tables


def _3d_limits(ax):
    return ax.get_xlim(), ax.get_ylim(), ax.get_zlim()


def test_true_and_generated_panels_share_axis_limits_that_hold_both():
    """A small limit cycle beside a large attractor must look small: both 3-D panels have the same limits, and
    those hold both trajectories (the bug: each panel had its own limits)."""
    t = np.linspace(0, 60, 3000)
    true = np.stack([10 * np.sin(t), 20 * np.cos(t), 30 + 8 * np.sin(0.3 * t)], axis=1)
    gen = 0.05 * true + np.array([0.0, 0.0, 5.0])
    fig = figures.attractors(true, gen, ["u", "v", "w"], units="raw units")
    a, b = fig.axes[:2]
    assert _3d_limits(a) == _3d_limits(b)
    for (lo, hi), col in zip(_3d_limits(a), range(3)):
        assert lo <= min(true[:, col].min(), gen[:, col].min()) and hi >= max(true[:, col].max(), gen[:, col].max())
    assert [a.get_xlabel(), a.get_ylabel(), a.get_zlabel()] == ["u [raw units]", "v [raw units]", "w [raw units]"]


def test_two_variable_figures_overlay_on_one_axes_with_the_data_names():
    t = np.linspace(0, 20, 500)
    true, gen = np.stack([np.sin(t), np.cos(t)], 1), 0.1 * np.stack([np.sin(t), np.cos(t)], 1)
    fig = figures.attractors(true, gen, ["volt", "gate"])
    (ax,) = fig.axes
    assert ax.get_xlabel() == "volt" and ax.get_ylabel() == "gate"
    assert {line.get_label() for line in ax.lines} >= {"true", "generated"}
    ts = figures.time_series(true, gen, 0.1, ["volt", "gate"], units="standardised")
    assert [a.get_ylabel() for a in ts.axes] == ["volt [standardised]", "gate [standardised]"]


def test_interpretation_figures_use_the_same_names_as_the_other_figures():
    """The bug: x0/x1/x2 in the interpretation figures against the data's x/y/z elsewhere."""
    Y = np.random.default_rng(0).standard_normal((200, 3))
    fig = interpretation.plot_attractor_regions(Y, np.zeros(200, int), names=["x", "y", "z"])
    ax = fig.axes[0]
    assert [ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()] == ["x", "y", "z"]
    fig = interpretation.plot_fixed_points(Y, [], names=["x", "y", "z"])
    assert fig.axes[0].get_xlabel() == "x"
    default = interpretation.plot_fixed_points(Y, [])
    assert default.axes[0].get_xlabel() == figures._names(3, None)[0] == "x0"


def test_learning_curves_mark_the_selected_epoch_and_draw_alpha_only_when_it_moves():
    hist = {"epoch": np.arange(10), "loss": np.linspace(1, 0.1, 10), "alpha": np.full(10, np.nan),
            "d_stsp": np.r_[np.nan, 3.0, np.nan, 2.0, np.nan, 1.0, np.nan, 1.5, np.nan, 1.2]}
    fig = figures.learning_curves(hist, selected_epoch=5)
    assert [a.get_title() for a in fig.axes] == ["loss", "d_stsp"]  # STF: no flat α panel
    for ax in fig.axes:
        assert any(list(line.get_xdata()) == [5, 5] for line in ax.lines), ax.get_title()
    flat = {**hist, "alpha": np.full(10, 0.3)}  # a fixed GTF α
    assert len(figures.learning_curves(flat).axes) == 2
    adaptive = {**hist, "alpha": np.linspace(1, 0.2, 10)}
    assert "α (forcing strength)" in [a.get_title() for a in figures.learning_curves(adaptive).axes]
    assert "α (forcing strength)" in [a.get_title() for a in figures.learning_curves(flat, show_alpha=True).axes]


def test_fixed_point_legend_draws_the_markers_as_plotted():
    """Stable objects are plotted filled and the others open; the legend must show them the same way."""
    Y = np.random.default_rng(0).standard_normal((100, 2))
    objs = [{"points": [[0.0, 0.0]], "stability": "stable", "period": 1},
            {"points": [[1.0, 1.0]], "stability": "saddle", "period": 1}]
    fig = interpretation.plot_fixed_points(Y, objs)
    ax = fig.axes[0]
    faces = {c.get_facecolors().shape[0] for c in ax.collections[1:]}
    assert faces == {0, 1}  # one filled (stable), one open (saddle)
    handles = {h.get_label(): h for h in ax.get_legend().legend_handles}
    stable = next(h for k, h in handles.items() if k.startswith("stable"))
    saddle = next(h for k, h in handles.items() if k.startswith("saddle"))
    assert stable.get_markerfacecolor() != "none" and saddle.get_markerfacecolor() == "none"


def test_symbolic_graph_has_a_key():
    import networkx as nx

    G = nx.DiGraph()
    G.add_node(0, frequency=0.7, code="01")
    G.add_node(1, frequency=0.3, code="11")
    G.add_edge(0, 1, probability=0.4)
    G.add_edge(1, 0, probability=1.0)
    fig = interpretation.plot_symbolic_graph(G)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the graph and the colour bar of the visit frequency
    assert ax.get_legend() is not None and ax.get_legend().get_title().get_text() == "key"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("node area" in t for t in labels) and any("edge width" in t for t in labels)


MODELS = [lambda: ALRNN(3, 8, 2, key=jax.random.key(0)), lambda: PLRNN(2, 4, key=jax.random.key(0)),
          lambda: ShallowPLRNN(3, 3, 6, key=jax.random.key(0)),
          lambda: DendPLRNN(2, 3, 2, key=jax.random.key(0), observation="affine")]


@pytest.mark.parametrize("make", MODELS)
def test_every_model_has_a_summary(make):
    from dsrkit.models._base import parameter_arrays

    model = make()
    text = model.summary()
    n_params = sum(v.size for v in parameter_arrays(model).values())
    assert text.startswith(type(model).__name__) and model.description in text
    assert f"latent M = {model.latent_dim}, observed N = {model.obs_dim}" in text
    assert f"parameters:  {n_params} float32" in text and model.step_equation() in text
    assert len(text.splitlines()) <= 8


@pytest.mark.parametrize("make", MODELS)
def test_parameter_and_subregion_tables(make):
    model = make()
    rows = tables.parameter_rows(model, ["a", "b", "c"])
    assert len(rows) == model.latent_dim and "A_ii" in rows[0]
    np.testing.assert_allclose([r["A_ii"] for r in rows], np.asarray(model.A))
    code = "0" * model.n_switch
    (row,) = tables.subregion_rows(model, [code], [1.0])
    J = np.asarray(model.region_affine(np.zeros(model.n_switch, np.int8))[0], np.float64)
    assert row["spectral radius ρ"] == pytest.approx(np.abs(np.linalg.eigvals(J)).max(), rel=1e-5)


def test_alrnn_parameter_table_names_read_outs_and_relu_units():
    rows = tables.parameter_rows(ALRNN(2, 5, 2, key=jax.random.key(0)), ["volt", "gate"])
    assert rows[0]["unit"] == "z0 = volt" and rows[0]["role"] == "read-out, linear"
    assert rows[4]["role"] == "latent, ReLU" and rows[2]["role"] == "latent, linear"


def test_lyapunov_rows_label_both_estimates():
    analysis = {"lyapunov": {"n_steps": 10000, "transient": 500, "max_per_time": 0.978, "max_per_step": 0.00978}}
    metrics = {"lyapunov_max": 0.945, "dt": 0.01, "protocol": {"lyapunov_steps": 10000}}
    rows = tables.lyapunov_rows(analysis, metrics, 0.906, "the system's reference value")
    labels = [r["λ_max"] for r in rows]
    assert labels[0].startswith("analysis: QR along a 10000-step free run") and "500 transient" in labels[0]
    assert labels[1].startswith("evaluation: QR along a 10000-step free run") and "1000 transient" in labels[1]
    assert all("per time unit" in x for x in labels) and [r["model"] for r in rows] == [0.978, 0.945]


def test_member_rows_show_every_member_median_and_range():
    members = [{"member": i, "seed": i, "status": "ok", "best_epoch": 3, "score": s, "saved": i == 1}
               for i, s in enumerate([0.5, 0.2, 0.9])]
    rows, text = tables.member_rows(members)
    assert len(rows) == 3 and rows[1]["saved"] == "yes"
    assert "median 0.5" in text and "0.2 – 0.9" in text


def test_citations_cover_every_model_scheme_and_reference_baseline():
    from dsrkit.training.names import model_names, scheme_names
    from dsrkit.verdict import REFERENCES

    for m in model_names():
        for s in scheme_names():
            used = citations.methods_used({"model": m, "scheme": s}, {"state_space_divergence": 1.0})
            assert len(citations.citations(used)) >= 3, (m, s)
    used = citations.methods_used({"model": "alrnn", "scheme": "stf"}, {}, {},
                                  {"references": {n: {} for n in REFERENCES}})
    assert set(REFERENCES) <= set(used)
    with pytest.raises(KeyError, match="no citation"):
        citations.citations(["magic"])


def test_citation_table_agrees_with_citation_cff():
    """Every paper CITATION.cff lists is in the report's table, by title and first author and year."""
    from pathlib import Path

    yaml = pytest.importorskip("yaml")
    cff = Path(__file__).resolve().parents[1] / "CITATION.cff"
    if not cff.exists():
        pytest.skip("no CITATION.cff")
    texts = [t.lower() for t in citations.REFERENCES.values()]
    for ref in yaml.safe_load(cff.read_text()).get("references", []):
        title, first, year = ref["title"].lower(), ref["authors"][0]["family-names"], str(ref["year"])
        assert any(title in t and t.startswith(first.lower()) and year in t for t in texts), ref["title"]


def test_fixed_points_print_as_a_table_not_raw_vectors():
    from dsrkit.analysis import CycleList, fixed_points

    fps = fixed_points(ALRNN(3, 20, 3, key=jax.random.key(1)))
    assert isinstance(fps, CycleList) and isinstance(fps, list) and len(fps) >= 1
    text = str(fps)
    assert "ρ (spectral radius)" in text and fps[0].type in text and "first 3 of M = 20" in text
    assert len(text.splitlines()[1].split()) < 20  # a row shows 3 coordinates, not all 20
    assert "Cycle(period=1" in repr(fps[0]) and "M = 20" in repr(fps[0])
    assert str(CycleList()) == "no fixed points or cycles found"


def test_provenance_records_version_command_date_and_checksums(tmp_path):
    from dsrkit import Dataset, runs
    from dsrkit._version import __version__

    X = np.random.default_rng(0).standard_normal((50, 2))
    Dataset([X], 0.1).save(tmp_path / "d.npz")
    prov = runs.provenance(tmp_path / "d.npz", seed=3, seeds=2)
    assert prov["dsrkit_version"] == __version__ and prov["seed"] == 3 and prov["seeds"] == 2
    assert prov["data_sha256"] == hashlib.sha256((tmp_path / "d.npz").read_bytes()).hexdigest()
    assert prov["command"] == "python API"  # pytest is not the dsr command
    assert runs.provenance(argv=["dsr", "train", "my data.csv"])["command"] == "dsr train 'my data.csv'"
    loaded = Dataset.load(tmp_path / "d.npz")
    assert runs.data_checksum(loaded)["sha256"] == prov["data_sha256"]  # a Dataset read from a file: the file
    a, b = runs.data_checksum(X), runs.data_checksum(X + 1e-12)
    assert a == runs.data_checksum(X.copy()) and a["sha256"] != b["sha256"]
    with pytest.raises(ValueError, match="not a file"):
        runs.data_checksum(tmp_path / "missing.csv")


def test_command_line_is_the_dsr_command_when_run_as_it(monkeypatch):
    from dsrkit import runs

    monkeypatch.setattr(sys, "argv", ["/usr/bin/dsr", "reconstruct", "lorenz63"])
    assert runs.command_line() == "dsr reconstruct lorenz63"
