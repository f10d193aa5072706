"""Behaviour of checkpoint selection, divergence, `reconstruct` and the neural baselines' trainer that the other
tests left open: each test here fails for a mutant of those functions that survived them (see
benchmarks/mutation/README.md). The models are tiny; divergence and evaluation are scripted, so the outcome is
known in advance and does not depend on numerics.
"""

import json
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dsrkit
from dsrkit.training import STF, loop, train
from dsrkit.training.callbacks import ProgressBar, non_finite

from tiny_training import SINE, TINY, ScriptedEvaluation, same_params, tiny_model


def stop_at(events):
    """A divergence rule (`train(divergence=...)`) that also stops the listed (epoch, member) pairs, as a blow-up
    in that epoch would: the member keeps its parameters of the epoch before and trains no further."""

    def rule(epoch, losses, finite, alive):
        scripted = np.array([(epoch, i) not in events for i in range(len(alive))])
        return non_finite(epoch, losses, finite, alive) & scripted

    return rule


# ----------------------------------------------------------------------------------------------- train: checkpoints


def test_ties_keep_the_earlier_checkpoint(monkeypatch):
    """Equal D_stsp at epochs 0, 1, 2: the earliest checkpoint stays (a later one must be strictly better)."""
    scripted = ScriptedEvaluation([0.5, 0.5, 0.5])
    monkeypatch.setattr(loop, "_evaluate", scripted)
    fit = train(tiny_model(), SINE, epochs=3, lr=1e-2, eval_every=1, **TINY)
    assert fit.best_epoch == 0 and same_params(fit.model, scripted.models[0])


def test_ties_keep_the_earlier_checkpoint_also_against_the_last_finite_state(monkeypatch):
    """eval_every = 2, divergence in epoch 3: epoch 1 is evaluated (0.5), epoch 2 is evaluated afterwards as the last
    finite state (0.5 as well). The tie keeps epoch 1, as between regular evaluations."""
    scripted = ScriptedEvaluation([0.5, 0.5])
    monkeypatch.setattr(loop, "_evaluate", scripted)
    fit = train(tiny_model(), SINE, epochs=5, lr=1e-2, eval_every=2, divergence=stop_at({(3, 0)}), **TINY)
    assert fit.diverged_epoch == 3 and fit.status == "ok"
    assert [h["epoch"] for h in fit.history if not math.isnan(h["d_stsp"])] == [1, 2]
    assert fit.best_epoch == 1 and same_params(fit.model, scripted.models[0])


def test_last_finite_state_is_not_evaluated_twice(monkeypatch):
    """eval_every = 1, divergence in epoch 2: epoch 1 was evaluated already, so nothing more is evaluated and its
    history row keeps its D_stsp; the better epoch 1 is returned."""
    scripted = ScriptedEvaluation([0.4, 0.2, 0.1])
    monkeypatch.setattr(loop, "_evaluate", scripted)
    fit = train(tiny_model(), SINE, epochs=4, lr=1e-2, eval_every=1, divergence=stop_at({(2, 0)}), **TINY)
    assert len(scripted.models) == 2
    assert [h["d_stsp"] for h in fit.history[:2]] == [0.4, 0.2] and math.isnan(fit.history[2]["d_stsp"])
    assert fit.diverged_epoch == 2 and fit.best_epoch == 1 and fit.status == "ok"
    assert fit.best_metrics == {"d_stsp": 0.2, "d_h": 0.1}


def test_member_stacked_divergence_evaluates_that_members_last_finite_state(monkeypatch):
    """seeds = 2, eval_every = 10 (no regular evaluation in 4 epochs), member 1 diverges in epoch 2: only member
    1's parameters after epoch 1 are evaluated, recorded in its own epoch-1 row and returned for it; member 0
    trains on, is never evaluated (eval at the last epoch only) and is returned from its last epoch."""
    scripted = ScriptedEvaluation([0.3, 0.6])
    monkeypatch.setattr(loop, "_evaluate", scripted)
    fit = train(tiny_model(), SINE, epochs=4, lr=1e-2, eval_every=10, seeds=2, divergence=stop_at({(2, 1)}),
                **TINY)
    rows = {(h["epoch"], h["member"]): h for h in fit.history}
    assert rows[1, 1]["d_stsp"] == 0.3 and math.isnan(rows[1, 0]["d_stsp"])
    assert rows[3, 0]["d_stsp"] == 0.6 and math.isnan(rows[2, 1]["d_stsp"]) and math.isnan(rows[3, 1]["loss"])
    first, second = fit.member(0), fit.member(1)
    assert (first.diverged_epoch, second.diverged_epoch) == (None, 2)
    assert fit.best_epochs.tolist() == [3, 1] and fit.statuses.tolist() == ["ok", "ok"]
    assert same_params(second.model, scripted.models[0]) and same_params(first.model, scripted.models[1])


def test_divergence_without_evaluation_is_diverged(monkeypatch):
    """eval_every = 0 and divergence in epoch 1: nothing is evaluated, so there is no checkpoint: status
    diverged, best_epoch -1; the model is the last finite parameters (after epoch 0), not the NaN ones."""
    scripted = ScriptedEvaluation([])
    monkeypatch.setattr(loop, "_evaluate", scripted)
    model = tiny_model()
    fit = train(model, SINE, epochs=3, lr=1e-2, eval_every=0, divergence=stop_at({(1, 0)}), **TINY)
    after_0 = train(model, SINE, epochs=1, lr=1e-2, eval_every=0, **TINY)
    assert scripted.models == []
    assert fit.diverged_epoch == 1 and fit.status == "diverged" and fit.best_epoch == -1
    assert same_params(fit.model, after_0.model)


@pytest.mark.parametrize("epochs, every", [(3, 1), (20, 2), (25, 2)])
def test_default_eval_every_is_a_tenth_of_the_epochs_at_least_1(monkeypatch, epochs, every):
    """eval_every=None means max(1, epochs // 10): every epoch for 3 epochs, every 2nd for 20 and 25 epochs (and
    always the last)."""
    scripted = ScriptedEvaluation([0.5] * epochs)
    monkeypatch.setattr(loop, "_evaluate", scripted)
    fit = train(tiny_model(), SINE, epochs=epochs, lr=1e-2, **TINY)
    evaluated = [h["epoch"] for h in fit.history if not math.isnan(h["d_stsp"])]
    assert fit.config["eval_every"] == every
    assert evaluated == sorted({e for e in range(epochs) if (e + 1) % every == 0} | {epochs - 1})


def test_status_needs_the_whole_free_run_of_1_25_eval_steps_to_be_finite(monkeypatch):
    """status "ok" requires the returned model's free run from the first data point over 1.25 · eval_steps steps
    (375 for eval_steps = 300) to be finite: a free run that turns NaN only after row 370 makes it "diverged"."""
    real = loop.protocol_free_run
    calls = []

    def nan_tail(model, test, *args, **kwargs):
        out = np.array(real(model, test, *args, **kwargs))
        calls.append((np.asarray(test[0]), len(out)))
        out[370:] = np.nan
        return out

    fit = train(tiny_model(), SINE, epochs=1, lr=1e-2, eval_every=0, **TINY)
    assert fit.status == "ok" and fit.best_epoch == 0
    monkeypatch.setattr(loop, "protocol_free_run", nan_tail)
    fit = train(tiny_model(), SINE, epochs=1, lr=1e-2, eval_every=0, **TINY)
    assert fit.status == "diverged" and fit.best_epoch == 0
    assert [n for _, n in calls] == [375] and np.array_equal(calls[0][0], SINE[0])


def test_learning_rate_schedule_reaches_the_end_value_in_the_last_epoch():
    """lr = (start, end) decays exponentially per epoch and reaches `end` in the last epoch (2 and 3 epochs)."""
    two = train(tiny_model(), SINE, epochs=2, lr=(1e-2, 1e-4), eval_every=0, **TINY)
    three = train(tiny_model(), SINE, epochs=3, lr=(1e-2, 1e-4), eval_every=0, **TINY)
    assert [h["lr"] for h in two.history] == pytest.approx([1e-2, 1e-4], rel=1e-12)
    assert [h["lr"] for h in three.history] == pytest.approx([1e-2, 1e-3, 1e-4], rel=1e-12)


def test_models_of_different_configuration_are_refused():
    """Members trained together must share class and configuration; the second of two is checked too."""
    with pytest.raises(ValueError, match="share class and configuration"):
        train([tiny_model(0), tiny_model(1, latent=5)], SINE, epochs=1, **TINY)


def test_default_scheme_is_stf_16():
    fit = train(tiny_model(), SINE, epochs=1, eval_every=0, **dict(TINY, scheme=None))
    assert fit.config["scheme"] == repr(STF(16))


def test_times_are_seconds_since_the_call():
    """history time_s and TrainResult.seconds count from the start of the call: non-negative, non-decreasing and
    within the wall time around it."""
    import time

    start = time.perf_counter()
    fit = train(tiny_model(), SINE, epochs=3, lr=1e-2, eval_every=0, **TINY)
    elapsed = time.perf_counter() - start
    times = [h["time_s"] for h in fit.history]
    assert 0 <= times[0] <= times[1] <= times[2] <= fit.seconds <= elapsed


# ----------------------------------------------------------------------------------------------- train: progress


class RecordingProgress:
    """Stands in for the rich progress display: records every completed count and description."""

    def __init__(self):
        self.updates = []

    def update(self, task, completed, description):
        self.updates.append((completed, description))


def _rows(alpha, scores):
    return [{"loss": 0.5 + i, "alpha": alpha + i, "d_stsp": d, "d_h": d / 2} for i, d in enumerate(scores)]


def test_progress_shows_loss_alpha_metrics_and_diverged_members():
    """The progress line after each epoch: epochs completed, median loss, α of member 0, the latest finite
    D_stsp/D_H (kept from earlier epochs when none was evaluated), and "diverged d/k" once d of k members
    stopped (here 1 of 3)."""
    bar = ProgressBar()
    bar.bar, bar.task = RecordingProgress(), 0
    bar.on_epoch_end(0, _rows(0.25, [0.25, 0.5, 0.75]), np.array([True, True, True]))
    bar.on_epoch_end(1, _rows(0.125, [0.1, math.nan, 0.3]), np.array([True, False, True]))
    bar.on_epoch_end(2, _rows(0.0625, [math.nan] * 3), np.array([True, False, True]))
    assert [c for c, _ in bar.bar.updates] == [1, 2, 3]
    first, second, third = (d for _, d in bar.bar.updates)
    assert first == "loss 1.5  α 0.250  D_stsp 0.750  D_H 0.375"
    assert second == "loss 1.5  α 0.125  D_stsp 0.300  D_H 0.150  diverged 1/3"
    assert third == "loss 1.5  α 0.062  D_stsp 0.300  D_H 0.150  diverged 1/3"


def test_progress_of_a_single_model():
    """seeds = 1 with the real progress bar: trains and returns normally (its α is that of member 0)."""
    fit = train(tiny_model(), SINE, epochs=2, lr=1e-2, eval_every=0, **dict(TINY, progress=True))
    assert fit.status == "ok" and len(fit.history) == 2


# ----------------------------------------------------------------------------------------------- _evaluate


def test_evaluate_compares_the_protocol_free_run_with_the_first_n_eval_points(monkeypatch):
    """_evaluate hands D_stsp and D_H the first n_eval points of the series and the protocol's free run from its
    first point (n_eval + n_eval // 4 steps, the first n_eval // 4 dropped), in float64."""
    seen = {}

    def fake_d_stsp(true, gen):
        seen["true"], seen["gen"] = true, gen
        return 0.125

    monkeypatch.setattr(dsrkit.metrics, "state_space_divergence", fake_d_stsp)
    monkeypatch.setattr(dsrkit.metrics, "power_spectrum_distance", lambda true, gen: 0.25)
    model = tiny_model()
    assert loop._evaluate(model, SINE[:300], 200) == (0.125, 0.25)
    np.testing.assert_array_equal(seen["true"], SINE[:200])
    assert seen["gen"].dtype == np.float64 and seen["gen"].shape == (200, 2)
    np.testing.assert_allclose(seen["gen"], dsrkit.generate(model, SINE[0], 250)[50:], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("error", [ValueError, FloatingPointError])
def test_evaluate_turns_a_metric_error_into_a_non_finite_score(monkeypatch, error):
    """A metric that cannot be computed on the free run (ValueError, FloatingPointError) is a NaN score, not a crash:
    the checkpoint then simply does not count."""

    def failing(true, gen):
        raise error("degenerate free run")

    monkeypatch.setattr(dsrkit.metrics, "state_space_divergence", failing)
    d_stsp, d_h = loop._evaluate(tiny_model(), SINE[:200], 200)
    assert math.isnan(d_stsp) and math.isnan(d_h)


# ----------------------------------------------------------------------------------------------- neural trainer


def test_sampler_windows_stay_inside_each_trajectory_and_cycle_to_the_total_length():
    """make_sampler: the trajectories concatenated as float32, and the start of every window of `length` rows that
    lies inside one trajectory, repeated cyclically to the total number of rows."""
    from dsrkit.baselines._train import make_sampler

    a = np.arange(10, dtype=np.float64).reshape(5, 2)
    b = 100 + np.arange(14, dtype=np.float64).reshape(7, 2)
    data, starts = make_sampler([a, b], 3)
    assert data.dtype == jnp.float32 and np.array_equal(np.asarray(data), np.concatenate([a, b]))
    assert starts.dtype == jnp.int32 and np.asarray(starts).tolist() == [0, 1, 2, 5, 6, 7, 8, 9, 0, 1, 2, 5]


@pytest.mark.parametrize("steps", [1, 4])
def test_trainer_optimizer_is_adam_clipped_at_norm_1_with_the_rate_falling_to_a_tenth(steps):
    """The documented optimizer: gradients clipped at global norm 1, then Adam whose learning rate decays
    exponentially to 1/10 of its start over `steps` (and on at that rate). Compared update by update with that
    optax chain over gradients of very different norms (clipping changes Adam's ratios only then)."""
    import optax

    from dsrkit.baselines._train import _optimizer

    lr = 0.1
    expected = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(optax.exponential_decay(lr, steps, 0.1)))
    actual = _optimizer(lr, steps)
    params = jnp.zeros(2)
    s_exp, s_act = expected.init(params), actual.init(params)
    for g in ([30.0, -40.0], [0.3, 0.1], [-2.0, 5.0], [0.01, 0.02], [3.0, 4.0], [-0.5, 0.2]):
        u_exp, s_exp = expected.update(jnp.asarray(g), s_exp, params)
        u_act, s_act = actual.update(jnp.asarray(g), s_act, params)
        np.testing.assert_allclose(u_act, u_exp, rtol=1e-6, atol=1e-9)


class Drift(eqx.Module):
    w: jax.Array


def drift_loss(model, batch, cfg):
    """-w (its gradient -1 makes Adam raise w by the current learning rate every step), NaN once w > cfg[0]."""
    (limit,) = cfg
    return jnp.where(model.w[0] > limit, jnp.nan, -model.w[0]) + 0.0 * jnp.sum(batch)


def drift_path(n_steps, steps, lr=0.1):
    """w before each of the first n_steps steps (w_0 = 0, w_{j+1} = w_j + lr · 0.1^(j / steps))."""
    w, path = 0.0, []
    for j in range(n_steps + 1):
        path.append(w)
        w += lr * 0.1 ** (j / steps)
    return np.asarray(path)


def _fit_drift(limit, steps, check_every):
    from dsrkit.baselines._train import fit_windows

    return fit_windows(Drift(jnp.zeros(1, jnp.float32)), drift_loss, (limit,), [np.zeros((50, 1))], length=5,
                       steps=steps, batch_size=2, learning_rate=0.1, seed=0, check_every=check_every)


def test_trainer_runs_exactly_steps_in_chunks_and_reports_the_last_chunks_mean_loss():
    """steps = 25 in chunks of 10: 10 + 10 + 5 steps, no more; the loss returned is the mean over the last chunk of
    the losses before each update."""
    model, last_loss, reason = _fit_drift(1e9, steps=25, check_every=10)
    path = drift_path(25, 25)
    assert reason == ""
    assert float(model.w[0]) == pytest.approx(path[25], rel=1e-5)
    assert last_loss == pytest.approx(float(np.mean(-path[20:25])), rel=1e-5)


def test_trainer_stopping_in_a_later_chunk_keeps_the_last_finite_chunk():
    """With 40 steps in chunks of 10 and the loss NaN from w > 1 on (step 15), the second chunk fails: the model
    after step 10 is returned with the first chunk's mean loss and a reason naming both step counts."""
    model, last_loss, reason = _fit_drift(1.0, steps=40, check_every=10)
    path = drift_path(40, 40)
    assert int(np.argmax(path > 1.0)) == 15  # the scripted failure lies inside the second chunk
    assert reason == "non-finite loss after 20 of 40 steps; kept step 10"
    assert float(model.w[0]) == pytest.approx(path[10], rel=1e-5)
    assert last_loss == pytest.approx(float(np.mean(-path[:10])), rel=1e-5)


class Step(eqx.Module):
    b: jax.Array


def step_loss(model, batch, cfg):
    """Mean squared error of x_{t+1} = x_t + b over the windows' consecutive rows."""
    return jnp.mean((batch[:, 1:] - batch[:, :-1] - model.b[0]) ** 2)


def test_trainer_windows_run_forward_in_time():
    """On a ramp x_t = t the windows' steps are +1, so fitting x_{t+1} = x_t + b finds b = 1 (windows read backwards
    would give -1)."""
    from dsrkit.baselines._train import fit_windows

    ramp = np.arange(60, dtype=np.float64)[:, None]
    model, last_loss, reason = fit_windows(Step(jnp.zeros(1, jnp.float32)), step_loss, (), [ramp], length=4,
                                           steps=300, batch_size=4, learning_rate=0.1, seed=0, check_every=100)
    assert reason == "" and float(model.b[0]) == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("learning_rate", [True, "0.1", None])
def test_trainer_learning_rate_must_be_a_real_number_not_a_bool(learning_rate):
    from dsrkit.baselines._train import fit_windows

    with pytest.raises(TypeError, match="learning_rate must be a finite number > 0"):
        fit_windows(Step(jnp.zeros(1, jnp.float32)), step_loss, (), [np.zeros((20, 1))], length=4, steps=2,
                    batch_size=2, learning_rate=learning_rate, seed=0)
