"""The main job's parts: the search by successive halving, the verdict's flags and grades, the splits and the
refusal of unusable data (dsrkit.training.search, dsrkit.verdict, dsrkit.reconstruction)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import dsrkit
from dsrkit import systems
from dsrkit.evaluation import Protocol
from dsrkit.reconstruction import candidates_for, check_usable, prepare_data, reconstruct
from dsrkit.training.search import Candidate, search, selection_score
from dsrkit.metrics import autocorrelation_peak
from dsrkit.verdict import STRAY_FLAG, data_floor, free_run_flags, verdict

LORENZ = systems.get("lorenz63")


@pytest.fixture(scope="module")
def lorenz_std():
    x = LORENZ.trajectory(6000, seed=0, noise=0.05)
    return (x - x.mean(0)) / x.std(0)


# ----------------------------------------------------------------------------------------------- search


def test_selection_score_is_the_geometric_mean_plus_the_range_penalty():
    assert selection_score(0.4, 0.1, 1.0) == pytest.approx(0.2)
    assert selection_score(0.4, 0.1, 0.9) == pytest.approx(0.2 + 10 * 0.1)
    assert selection_score(math.nan, 0.1, 1.0) == math.inf and selection_score(0.4, None, 1.0) == math.inf
    assert selection_score(0.4, 0.1, 1.0, cycle=True) == pytest.approx(0.2 + 1.0)


class _TwoBasins:
    """A stand-in model: from a point with x > 0 it replays a sine (the data's attractor); from x <= 0 it sits
    still at that point (a spurious stable fixed point)."""

    def generate(self, x0, n_steps):
        if x0[0] > 0:
            t = np.arange(n_steps) * 2 * np.pi / 700
            return np.stack([np.sin(t), np.cos(t)], axis=1)
        return np.tile(x0, (n_steps, 1))


def test_stray_starts_counts_the_later_starts_that_collapse_diverge_or_leave():
    """Validation is a sine of period 700 steps, 4000 points; the basin check starts at points 1000, 2000, 3000,
    one of them with x <= 0. Exactly the starts with x <= 0 collapse (the sine from the others is the data's own
    cycle, not a stray one); irregular data make every sine a stray cycle; a model that leaves the range or diverges fails everywhere; each
    failing share costs the cycle penalty in the score."""
    from dsrkit.training.search import CYCLE_PENALTY, stray_starts

    t = np.arange(4000) * 2 * np.pi / 700
    val = np.stack([np.sin(t), np.cos(t)], axis=1)
    expected = np.mean([val[k * 1000, 0] <= 0 for k in (1, 2, 3)])
    assert expected == pytest.approx(1 / 3)  # the case separates the two basins
    assert stray_starts(_TwoBasins(), val) == pytest.approx(expected)

    class Leaves:
        def generate(self, x0, n):
            return np.full((n, 2), 5.0)

    class Diverges:
        def generate(self, x0, n):
            return np.full((n, 2), np.nan)

    assert stray_starts(Leaves(), val) == 1.0 and stray_starts(Diverges(), val) == 1.0
    # irregular data (autocorrelation peak near 0): a model that settles on a sine from every start is a stray cycle
    class Cycles:
        def generate(self, x0, n):
            t = np.arange(n) * 2 * np.pi / 50  # inside the data's range: only the cycle counts
            return np.stack([np.sin(t), np.cos(t)], axis=1)

    irregular = np.random.default_rng(0).normal(size=(4000, 2))
    assert stray_starts(Cycles(), irregular) == 1.0 and stray_starts(Cycles(), val) == 0.0
    # data that themselves settle at a fixed point (a decaying spiral) do not make a still model "collapsed"
    spiral = np.exp(-np.arange(4000) / 200)[:, None] * val - 0.5
    assert stray_starts(_TwoBasins(), spiral) == 0.0
    assert selection_score(0.4, 0.1, 1.0, stray=2 / 3) == pytest.approx(0.2 + CYCLE_PENALTY * 2 / 3)


def _modulated(n: int) -> np.ndarray:
    """A phase-coherent stand-in for chaotic data: a rotation of period 100 steps whose radius swings 0.4–1.6 over
    370 steps (its autocorrelation peak reads 0.985, close to a cycle's 1)."""
    t = np.arange(n) * 2 * np.pi / 100
    r = 1 + 0.6 * np.sin(t * 100 / 370)
    return np.stack([r * np.sin(t), r * np.cos(t)], axis=1)


class _SmallCycle:
    """From the first validation point it replays the modulated rotation; `late`: only for the first 60 % of a
    run, then (and from every other point) a circle of radius 0.5, inside the data's range."""

    def __init__(self, first: np.ndarray, late: bool = False):
        self.first, self.late = first, late

    def generate(self, x0, n):
        t = np.arange(n) * 2 * np.pi / 100
        circle = 0.5 * np.stack([np.sin(t), np.cos(t)], axis=1)
        if not np.allclose(x0, self.first):
            return circle if not self.late else _modulated(n)
        if not self.late:
            return _modulated(n)
        k = int(0.6 * n)
        return np.concatenate([_modulated(k), circle[k:]])


def test_the_basin_check_sees_another_attractor_by_its_d_stsp_and_a_late_settling_by_the_run_end():
    """Data whose autocorrelation peak reads about 1 (phase-coherent, as LuChen's 0.971) hide a spurious cycle from
    the autocorrelation test: only the D_stsp test (STRAY_FACTOR × the long run's best piece) sees that the later
    starts settle on a small circle (D_stsp about 12 against 0.02 for the data's own pieces). A run from the
    first point that settles there after 60 % of its steps fails the run-end check: one of BASIN_STARTS + 1."""
    from dsrkit.training.search import BASIN_STARTS, STRAY_FACTOR, stray_starts, validation_horizon, validation_scores

    val = _modulated(4000)
    assert autocorrelation_peak(val) > 0.98
    elsewhere = _SmallCycle(val[0])
    assert stray_starts(elsewhere, val) == 0.0  # the autocorrelation test alone passes it
    assert stray_starts(elsewhere, val, reference=0.02) == 1.0
    assert stray_starts(elsewhere, val, reference=12.0 / STRAY_FACTOR * 1.5) == 0.0  # the factor decides
    horizon = validation_horizon(len(val))
    assert validation_scores(elsewhere, val, horizon=horizon)["val_stray"] == pytest.approx(
        BASIN_STARTS / (BASIN_STARTS + 1))
    assert validation_scores(_SmallCycle(val[0], late=True), val, horizon=horizon)["val_stray"] == pytest.approx(
        1 / (BASIN_STARTS + 1))
    assert math.isnan(validation_scores(_SmallCycle(val[0], late=True), val, horizon=horizon, stray=False)["val_stray"])


def test_search_halves_the_population_and_keeps_each_candidates_best_checkpoint(lorenz_std):
    """4 candidates, η = 2: 1 + ⌈log2 4⌉ = 3 rungs (max_epochs, not the generous budget, ends the search, so the
    count does not depend on the machine's speed); after rung 0 at most 2 go on, after rung 1 at most 1; the
    candidates eliminated first are those ranked lowest by their best validation score; every checkpoint's
    recorded score is the validation score of the returned model over the search's long validation run
    (recomputed here)."""
    from dsrkit.training.search import SPECTRUM_LENGTH, validation_horizon, validation_scores

    train, val = lorenz_std[:4500], lorenz_std[4500:]
    cands = [Candidate("alrnn", {"latent_dim": 8, "relu_units": 2}, "stf", {"interval": tau}, seed=i)
             for i, tau in enumerate((4, 8, 16, 32))]
    result = search(dsrkit.Dataset([train], 0.01), val, cands, budget=600, seq_len=50, batches_per_epoch=5,
                    max_epochs=8)
    assert len(result.rungs) == 3
    assert result.rungs[0]["candidates"] == 4 and result.rungs[0]["kept"] == 2
    after0 = [c for c in result.candidates if c.eliminated_after == 0]
    went_on = [c for c in result.candidates if c.rung >= 1]
    assert len(went_on) <= 2 and len(after0) >= 2
    # elimination after rung 0 was by the scores held then: every survivor ranked at least as well then; scores
    # only improve, so a survivor's final score may be lower, never higher, than at rung 0
    for c in result.candidates:
        if c.model is not None:
            again = validation_scores(c.model, val, horizon=validation_horizon(len(val)),
                                      spectrum_length=SPECTRUM_LENGTH)
            assert c.score == pytest.approx(again["score"], rel=1e-6)
    best = result.best
    assert best.score == min(c.score for c in result.candidates)
    table = result.table()
    assert [r["candidate"] for r in table][0] == best.index and len(table) == 4


def test_validation_horizon_keeps_eight_validation_lengths_after_its_transient_capped():
    """The search's validation run keeps VALIDATION_RUN_FACTOR x T_v steps after dropping its first fifth (the
    drop `validation_scores` applies to a given horizon), at most MAX_VALIDATION_RUN and never less than T_v."""
    from dsrkit.training.search import MAX_VALIDATION_RUN, TRANSIENT_SHARE, VALIDATION_RUN_FACTOR, validation_horizon

    assert TRANSIENT_SHARE == 0.2
    for t_v in (20, 199, 1001, 16_000, 20_000, 10 ** 6):
        h = validation_horizon(t_v)
        kept = h - int(round(TRANSIENT_SHARE * h))
        assert kept >= max(t_v, min(VALIDATION_RUN_FACTOR * t_v, MAX_VALIDATION_RUN))
        assert kept <= max(t_v, min(VALIDATION_RUN_FACTOR * t_v, MAX_VALIDATION_RUN)) + 1
    assert validation_horizon(16_000) == 160_000


def test_search_refuses_bad_settings(lorenz_std):
    with pytest.raises(ValueError, match="at least one candidate"):
        search(lorenz_std, lorenz_std[:500], [], budget=10)
    with pytest.raises(ValueError, match="eta"):
        search(lorenz_std, lorenz_std[:500], [Candidate("alrnn", {}, "stf")], eta=1)
    with pytest.raises(ValueError, match="budget"):
        search(lorenz_std, lorenz_std[:500], [Candidate("alrnn", {}, "stf")], budget=-1)


def test_candidates_span_the_families_and_the_suggested_forcing(lorenz_std):
    from dsrkit.training.suggest import suggest

    sg = suggest(lorenz_std, dt=0.01)
    auto = candidates_for(sg)
    assert {c.model for c in auto} == {"alrnn", "shplrnn"}
    taus = {c.scheme_args["interval"] for c in auto if c.model == "alrnn"}
    assert taus == set(sg.stf_intervals)
    assert {c.model for c in candidates_for(sg, "alrnn")} == {"alrnn"}
    assert {c.scheme for c in candidates_for(sg, "shplrnn")} == {"adaptive_gtf"}
    assert len({c.seed for c in candidates_for(sg, "shplrnn")}) == len(candidates_for(sg, "shplrnn"))


# ----------------------------------------------------------------------------------------------- verdict


def test_flags_a_fixed_point_a_cycle_and_a_run_outside_the_range(lorenz_std):
    test = lorenz_std[:4000]
    assert free_run_flags(test[::-1].copy(), test, {"in_range_fraction": 1.0}) == []
    fixed = np.tile(test[100], (4000, 1)) + 1e-9 * np.random.default_rng(0).normal(size=(4000, 3))
    assert any("fixed point" in f for f in free_run_flags(fixed, test, {}))
    t = np.arange(4000) * 0.05
    cycle = np.stack([np.sin(t), np.cos(t), np.sin(2 * t)], axis=1)
    assert autocorrelation_peak(cycle) > 0.98 and autocorrelation_peak(test) < 0.9
    assert any("cycle" in f for f in free_run_flags(cycle, test, {}))
    assert any("range" in f for f in free_run_flags(test, test, {"in_range_fraction": 0.7}))
    assert any("not chaotic" in f for f in free_run_flags(test, test, {"lyapunov_max": -0.5},
                                                          lyapunov_reference=0.9))
    assert free_run_flags(test, test, {"lyapunov_max": 0.8}, lyapunov_reference=0.9) == []
    assert any("diverged" in f for f in free_run_flags(np.full((10, 3), np.nan), test, {}))
    # the search's basin check: a share of failed starts is a flag that makes the grade poor, not failed;
    # 0 and NaN (no check ran) are none
    (flag,) = free_run_flags(test, test, {}, stray_share=0.25)
    assert flag.startswith(STRAY_FLAG) and "25%" in flag
    assert free_run_flags(test, test, {}, stray_share=0.0) == free_run_flags(test, test, {}, stray_share=math.nan) == []


def test_verdict_grades_against_the_best_reference():
    refs = {"esn": {"role": "reference", "status": "ok", "state_space_divergence": 0.4, "power_spectrum_distance": 0.1},
            "nvar": {"role": "reference", "status": "diverged", "state_space_divergence": None},
            "parroting": {"role": "replay floor", "status": "ok", "state_space_divergence": 0.01}}
    floor = {"state_space_divergence": 0.2, "power_spectrum_distance": 0.05}
    grade = lambda d, flags=(): verdict({"status": "ok", "state_space_divergence": d,  # noqa: E731
                                         "power_spectrum_distance": 0.1}, refs, floor, list(flags))["grade"]
    assert grade(0.3) == "good" and grade(0.5) == "comparable" and grade(0.7) == "poor"
    assert grade(0.3, ["collapsed to a fixed point: ..."]) == "failed"
    assert grade(0.3, ["not chaotic while the data are: ..."]) == "poor"
    assert grade(0.3, [STRAY_FLAG + ": 25% of ..."]) == "poor"
    far = {"state_space_divergence": 0.05, "power_spectrum_distance": 0.05}  # model 6x the floor
    v = verdict({"status": "ok", "state_space_divergence": 0.3, "power_spectrum_distance": 0.1}, refs, far, [])
    assert v["grade"] == "poor" and "far from the data floor" in v["text"]
    v = verdict({"status": "ok", "state_space_divergence": 0.3, "power_spectrum_distance": 0.1}, refs, floor, [])
    assert v["best_reference"] == "esn" and v["ratio_to_floor"] == pytest.approx(1.5)
    assert verdict({"status": "diverged", "state_space_divergence": None}, refs, floor, [])["grade"] == "failed"
    assert verdict({"status": "ok", "state_space_divergence": 0.3}, {}, floor, [])["grade"] == "unjudged"


def test_the_data_floor_compares_the_test_series_with_the_end_of_the_training_data(lorenz_std):
    from dsrkit.metrics import power_spectrum_distance, state_space_divergence

    train, test = dsrkit.Dataset([lorenz_std[:4000]], 0.01), lorenz_std[4000:5000]
    floor = data_floor(train, test, Protocol())
    assert floor["length"] == 1000
    assert floor["state_space_divergence"] == pytest.approx(state_space_divergence(test, lorenz_std[3000:4000]))
    assert floor["power_spectrum_distance"] == pytest.approx(power_spectrum_distance(test, lorenz_std[3000:4000]))


# ----------------------------------------------------------------------------------------------- data


def test_a_file_is_split_into_train_validation_and_test_in_time_order(tmp_path):
    x = LORENZ.trajectory(5000, seed=1)
    path = tmp_path / "l.csv"
    rows = np.column_stack([np.arange(5000) * 0.01, x])
    path.write_text("time_s,x,y,z\n" + "\n".join(",".join(f"{v:.10g}" for v in r) for r in rows))
    s = prepare_data(str(path))
    assert s.train.names == ["x", "y", "z"] and s.train.dt == pytest.approx(0.01)
    assert (s.train.lengths, s.validation.lengths, s.test.lengths) == ([3200], [800], [1000])
    np.testing.assert_allclose(np.concatenate([s.train[0], s.validation[0], s.test[0]]), x, rtol=1e-9, atol=1e-9)
    assert s.source["time_column"]["name"] == "time_s"


def test_unusable_data_are_refused_with_what_to_do():
    x = LORENZ.trajectory(4000, seed=1)
    const = np.column_stack([x, np.ones(4000)])
    with pytest.raises(ValueError, match=r"\['x3'\] are constant.*--columns"):
        check_usable(prepare_data(const, dt=0.01), Protocol())
    clock = np.column_stack([np.arange(4000) * 0.5, x])
    with pytest.raises(ValueError, match="time column.*--time-col"):
        check_usable(prepare_data(clock, dt=0.01), Protocol())
    with pytest.raises(ValueError, match="at least 500"):
        check_usable(prepare_data(x[:700], dt=0.01), Protocol())
    with pytest.raises(ValueError, match="needs its sampling step"):
        prepare_data(x)
    with pytest.raises(ValueError, match="the validation part has 160 points; the evaluation protocol needs at least"):
        check_usable(prepare_data(x[:1000], dt=0.01), Protocol())
    with pytest.raises(ValueError, match="the test part has 300 points"):
        check_usable(prepare_data(x[:3000], dt=0.01, test_fraction=0.1), Protocol())


def test_reconstruct_refuses_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="model must be one of"):
        reconstruct("lorenz63", out=tmp_path / "r", model="lstm", progress=False)
    with pytest.raises(ValueError, match="budget must be at least 30"):
        reconstruct("lorenz63", out=tmp_path / "r", budget=5, progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("source, expected", [("lorenz63", "lorenz63"), ("file", "my_lorenz")])
def test_reconstruct_names_the_run_after_the_system_or_the_file_stem(monkeypatch, tmp_path, source, expected):
    import dsrkit.pipeline

    class Stop(Exception):
        pass

    seen = []

    def fake_default_run_dir(name, root="runs"):
        seen.append(name)
        raise Stop

    monkeypatch.setattr(dsrkit.pipeline, "default_run_dir", fake_default_run_dir)
    if source == "file":
        source = str(tmp_path / "my_lorenz.npz")
        dsrkit.Dataset([LORENZ.trajectory(2000)], dt=0.01).save(source)
    with pytest.raises(Stop):
        reconstruct(source, progress=False)
    assert seen == [expected]


def test_reconstruct_from_an_array_records_the_split_the_settings_and_the_search(tmp_path):
    """The Python route on an array: config.json records the split, the data-derived settings and the search;
    population.csv has one row per candidate; metrics.json carries the floor and the verdict; the saved model
    is the selected candidate's checkpoint."""
    x = LORENZ.trajectory(5000, seed=2, noise=0.05)
    rec = reconstruct(x, dt=0.01, out=tmp_path / "r", budget=30, max_epochs=2, model="alrnn", references=False,
                      progress=False)
    cfg = json.loads((rec.run_dir / "config.json").read_text())
    assert cfg["source"]["split"] == {"train": [3200], "validation": [800], "test": [1000], "test_fraction": 0.2,
                                      "validation_fraction": 0.2, "validation_cap": 20_000}
    assert cfg["suggestion"]["seq_len"] >= 2 and "estimates" in cfg["suggestion"]
    n = len(cfg["search"]["candidates"])
    assert (rec.run_dir / "population.csv").read_text().strip().count("\n") == n
    assert rec.metrics["verdict"]["grade"] in ("failed", "poor", "comparable", "good", "unjudged")
    assert rec.metrics["floor"]["length"] == 1000
    assert cfg["candidate"] == rec.search.best.candidate.to_dict()


def test_interpretable_choice_is_the_alrnn_with_fewest_subregions_near_the_best(lorenz_std):
    """choose(): by default the best validation score; with interpretable, among the AL-RNNs whose validation
    D_stsp is within INTERPRETABLE_FACTOR of the best, the one whose free run visits the fewest subregions; an
    AL-RNN outside the factor is never chosen."""
    import jax

    from dsrkit.models import ALRNN, ShallowPLRNN
    from dsrkit.reconstruction import INTERPRETABLE_FACTOR, choose
    from dsrkit.training.search import CandidateResult, SearchResult

    def result(i, model, cand, d):
        return CandidateResult(i, cand, model=model, metrics={"score": d, "val_d_stsp": d, "val_d_h": 0.1})

    val = lorenz_std[:2000]
    al = lambda p, s: ALRNN(3, 12, p, key=jax.random.key(s))  # noqa: E731
    cands = [result(0, ShallowPLRNN(3, 3, 20, key=jax.random.key(0)), Candidate("shplrnn", {}, "adaptive_gtf"), 0.5),
             result(1, al(2, 1), Candidate("alrnn", {"relu_units": 2}, "stf"), 0.9),
             result(2, al(6, 2), Candidate("alrnn", {"relu_units": 6}, "stf"), 0.7),
             result(3, al(1, 3), Candidate("alrnn", {"relu_units": 1}, "stf"), INTERPRETABLE_FACTOR * 0.5 + 0.1)]
    res = SearchResult(cands, 0, 1.0, 1.0, [], [])
    chosen, rows = choose(res, val, interpretable=False)
    assert chosen.index == 0 and len(rows) == 4
    chosen, rows = choose(res, val, interpretable=True)
    eligible = [r for r in rows if r["model"] == "alrnn" and r["val_d_stsp"] <= INTERPRETABLE_FACTOR * 0.5]
    assert {r["candidate"] for r in eligible} == {1, 2}
    assert chosen.index == min(eligible, key=lambda r: (r["subregions"], r["score"]))["candidate"]


def test_python_m_dsrkit_is_the_dsr_command():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "dsrkit", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "reconstruct" in out.stdout


def test_search_by_family_keeps_the_best_of_each_family_to_the_last_rung(lorenz_std):
    """by_family: halving within each model family, so both families are still training in the last rung."""
    train, val = lorenz_std[:4500], lorenz_std[4500:]
    cands = [Candidate("alrnn", {"latent_dim": 8, "relu_units": 2}, "stf", {"interval": t}, seed=i)
             for i, t in enumerate((4, 8, 16, 32))]
    cands += [Candidate("shplrnn", {"hidden_dim": 8}, "gtf", {"alpha": a}, seed=i) for i, a in enumerate((0.1, 0.3))]
    result = search(dsrkit.Dataset([train], 0.01), val, cands, budget=600, seq_len=50, batches_per_epoch=5,
                    max_epochs=6, by_family=True)
    assert len(result.rungs) == 3  # from the largest family, 4 AL-RNNs: 1 + ⌈log2 4⌉
    last = [c for c in result.candidates if c.eliminated_after is None]
    assert sorted(c.candidate.model for c in last) == ["alrnn", "shplrnn"]
