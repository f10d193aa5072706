"""Training must never call a wrong result ok: divergence at any epoch, the checkpoint that is returned, what
"epoch e" evaluates, non-finite hyperparameters, and which member of a multi-member fit is kept.

Each test names the case it guards. The models are tiny (AL-RNN M = 4 on a 2-D sine wave, windows of 20 steps,
5 batches per epoch, 3 epochs), so every test runs in a few seconds.
"""

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import dsrkit  # noqa: F401
from dsrkit.training import GTF, AdaptiveGTF, MemberFit, TrainResult, loop, train

from tiny_training import SINE, TINY, ScriptedEvaluation, leaves, same_params, tiny_model


def max_param_change(a, b):
    return max(float(np.max(np.abs(x - y))) for x, y in zip(leaves(a), leaves(b), strict=True))


# ----------------------------------------------------------------------------------------------- case 5


def test_case5_huge_lr_diverges_at_epoch_0_never_ok_with_the_initial_model():
    """lr = 10 makes the loss NaN in epoch 0. The pre-update (initial) parameters must not be evaluated as
    "epoch 0": no checkpoint of trained parameters exists, so the status is diverged and best_epoch -1, although
    the initial model's free run is finite (it would pass a finiteness check alone). Training stops there."""
    model = tiny_model()
    assert np.isfinite(dsrkit.generate(model, SINE[0], 400)).all()  # the trap: the initialisation looks fine
    fit = train(model, SINE, epochs=3, lr=10.0, eval_every=1, **TINY)
    assert not math.isfinite(fit.history[0]["loss"])
    assert fit.diverged_epoch == 0
    assert fit.status == "diverged"
    assert fit.best_epoch == -1
    assert math.isnan(fit.best_metrics["d_stsp"]) and math.isnan(fit.best_metrics["d_h"])
    assert [h["epoch"] for h in fit.history] == [0] and math.isnan(fit.history[0]["d_stsp"])


@pytest.mark.parametrize("eval_every", [0, 10])
def test_case5_divergence_detected_at_a_non_evaluation_epoch(eval_every):
    """Divergence is read from the loss after EVERY epoch, not only at evaluation epochs (here epoch 0 is not an
    evaluation epoch, or evaluation is off): diverged in epoch 0, status diverged, no checkpoint."""
    fit = train(tiny_model(), SINE, epochs=3, lr=10.0, eval_every=eval_every, **TINY)
    assert fit.diverged_epoch == 0 and fit.status == "diverged" and fit.best_epoch == -1
    assert len(fit.history) == 1


def test_case5_huge_lr_member_stacked_run_is_diverged_for_every_member():
    """The same with seeds = 2 (vmapped members): every member is diverged with best_epoch -1, never ok."""
    fit = train(tiny_model(), SINE, epochs=3, lr=10.0, eval_every=1, seeds=2, **TINY)
    assert fit.diverged_epochs.tolist() == [0, 0]
    assert fit.statuses.tolist() == ["diverged", "diverged"]
    assert fit.best_epochs.tolist() == [-1, -1]
    assert all(math.isnan(fit.member(i).best_metrics["d_stsp"]) for i in range(2)) and np.isnan(fit.scores).all()
    assert fit.status == "diverged" and fit.best_epoch == -1  # the shortcuts (best member) never say ok


def test_case5_member_stacked_run_with_one_diverging_member():
    """Members [stable, exploding (A = 3)]: the exploding one is diverged in epoch 0 with no checkpoint and its
    later history rows carry no loss; the stable one trains all epochs and is ok with a finite checkpoint."""
    good = tiny_model(0)
    bad = eqx.tree_at(lambda m: m.A, tiny_model(1), 3.0 * jnp.ones(4, jnp.float32))
    kw = dict(TINY, scheme=GTF(0.0), seq_len=100)
    fit = train([good, bad], SINE, epochs=3, lr=1e-3, eval_every=1, **kw)
    assert fit.statuses.tolist() == ["ok", "diverged"]
    assert [fit.member(0).diverged_epoch, fit.member(1).diverged_epoch] == [None, 0]
    assert fit.diverged_epochs.tolist() == [-1, 0]
    assert fit.best_epochs[0] in (0, 1, 2) and fit.best_epochs[1] == -1
    assert math.isfinite(fit.member(0).best_metrics["d_stsp"]) and math.isnan(fit.member(1).best_metrics["d_stsp"])
    assert fit.best().member == 0 and fit.status == "ok"
    rows = {(h["epoch"], h["member"]): h for h in fit.history}
    assert sorted(rows) == [(e, i) for e in range(3) for i in range(2)]
    assert all(math.isfinite(rows[e, 0]["loss"]) for e in range(3))
    assert not math.isfinite(rows[0, 1]["loss"])
    assert all(math.isnan(rows[e, 1]["loss"]) and math.isnan(rows[e, 1]["d_stsp"]) for e in (1, 2))


def test_case5_divergence_in_a_later_epoch_keeps_the_last_finite_state_as_its_own_epoch(monkeypatch):
    """lr rising 1e-2 -> 1e8 trains epoch 0 and diverges in epoch 1. The last finite parameters (after epoch 0) are
    evaluated as the checkpoint of epoch 0, recorded in epoch 0's history row, and returned: status ok,
    best_epoch 0, diverged_epoch 1; nothing is evaluated for epoch 1."""
    scripted = ScriptedEvaluation([0.7])
    monkeypatch.setattr(loop, "_evaluate", scripted)
    model = tiny_model()
    fit = train(model, SINE, epochs=3, lr=(1e-2, 1e8), eval_every=10, **TINY)
    assert fit.diverged_epoch == 1
    assert len(scripted.models) == 1
    assert fit.best_epoch == 0 and fit.status == "ok"
    assert fit.best_metrics["d_stsp"] == 0.7
    assert [h["d_stsp"] for h in fit.history][:1] == [0.7] and math.isnan(fit.history[1]["d_stsp"])
    assert same_params(fit.model, scripted.models[0])
    assert max_param_change(fit.model, model) > 1e-4  # trained, not the initialisation


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lr=math.inf), "lr.*finite"),
        (dict(lr=math.nan), "lr.*finite"),
        (dict(lr=(1e-3, math.inf)), "lr.*finite"),
        (dict(lr=(math.nan, 1e-5)), "lr.*finite"),
        (dict(lr=(1e-3, 1e-4, 1e-5)), r"lr.*\(start, end\)"),
        (dict(lr=0.0), "lr.*positive"),
        (dict(input_noise=math.inf), "input_noise.*finite"),
        (dict(input_noise=math.nan), "input_noise.*finite"),
        (dict(regularization=math.inf), "regularization.*finite"),
        (dict(regularization=math.nan), "regularization.*finite"),
        (dict(grad_clip=math.nan), "grad_clip.*finite"),
        (dict(grad_clip=math.inf), "grad_clip.*finite"),
        (dict(grad_clip=0.0), "grad_clip.*> 0"),
        (dict(grad_clip=-1.0), "grad_clip.*> 0"),
        (dict(eval_every=-1), "eval_every"),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else None,
)
def test_case5_non_finite_hyperparameters_are_errors(kwargs, match):
    """NaN/inf (or out-of-range) hyperparameters are a ValueError naming the argument and what is expected."""
    with pytest.raises(ValueError, match=match):
        train(tiny_model(), SINE, **dict(TINY, **kwargs))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: GTF(math.nan), "alpha"),
        (lambda: GTF(math.inf), "alpha"),
        (lambda: AdaptiveGTF(decay=math.nan), "decay"),
        (lambda: AdaptiveGTF(alpha_start=math.inf), "alpha_start"),
    ],
)
def test_case5_non_finite_scheme_parameters_are_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ----------------------------------------------------------------------------------------------- checkpoints


def test_returned_model_is_the_best_checkpoint_not_the_last_epoch(monkeypatch):
    """Scripted D_stsp 0.3, 0.1, 0.2 for epochs 0, 1, 2: the returned model must be, parameter by parameter, the
    model evaluated at epoch 1 (not the later, worse epoch 2), and its metrics those of epoch 1. The model
    evaluated as "epoch e" must be the parameters after epoch e's updates: equal to the model of an unevaluated
    run of e + 1 epochs (constant lr, same seed), and never the initialisation."""
    scripted = ScriptedEvaluation([0.3, 0.1, 0.2])
    monkeypatch.setattr(loop, "_evaluate", scripted)
    model = tiny_model()
    kw = dict(TINY, lr=1e-2, seed=3)
    fit = train(model, SINE, epochs=3, eval_every=1, **kw)
    assert len(scripted.models) == 3
    assert fit.best_epoch == 1 and fit.status == "ok"
    assert fit.best_metrics == {"d_stsp": 0.1, "d_h": 0.05}
    assert [h["d_stsp"] for h in fit.history] == [0.3, 0.1, 0.2]
    assert same_params(fit.model, scripted.models[1])
    assert max_param_change(scripted.models[2], scripted.models[1]) > 1e-4  # so the last epoch is distinguishable
    assert not same_params(fit.model, scripted.models[2])

    monkeypatch.undo()
    after_0 = train(model, SINE, epochs=1, eval_every=0, **kw)
    after_1 = train(model, SINE, epochs=2, eval_every=0, **kw)
    assert after_0.best_epoch == 0 and after_1.best_epoch == 1
    assert max_param_change(after_0.model, model) > 1e-4
    assert same_params(scripted.models[0], after_0.model)
    assert same_params(scripted.models[1], after_1.model) and same_params(fit.model, after_1.model)


def test_member_stacked_run_returns_each_members_best_checkpoint(monkeypatch):
    """seeds = 2 with scripted D_stsp (member 0: 0.3, 0.1, 0.2 -> epoch 1; member 1: 0.05, 0.4, 0.3 -> epoch 0):
    each returned member is its own best checkpoint, and "epoch 0" of each member is its parameters after epoch
    0's updates (equal to an unevaluated one-epoch run of the same two members)."""
    #                                 epoch 0      epoch 1     epoch 2   (member 0, member 1)
    scripted = ScriptedEvaluation([0.3, 0.05, 0.1, 0.4, 0.2, 0.3])
    monkeypatch.setattr(loop, "_evaluate", scripted)
    model = tiny_model()
    kw = dict(TINY, lr=1e-2, seed=5, seeds=2)
    fit = train(model, SINE, epochs=3, eval_every=1, **kw)
    evaluated = {(e, i): scripted.models[2 * e + i] for e in range(3) for i in range(2)}
    assert fit.best_epochs.tolist() == [1, 0] and fit.statuses.tolist() == ["ok", "ok"]
    assert [fit.member(i).best_metrics["d_stsp"] for i in range(2)] == [0.1, 0.05]
    assert fit.scores.tolist() == [0.1, 0.05] and fit.best().member == 1
    first, second = fit.member(0).model, fit.member(1).model
    assert same_params(first, evaluated[1, 0]) and not same_params(first, evaluated[2, 0])
    assert same_params(second, evaluated[0, 1]) and not same_params(second, evaluated[2, 1])

    monkeypatch.undo()
    after_0 = train(model, SINE, epochs=1, eval_every=0, **kw)
    for i in range(2):
        assert same_params(evaluated[0, i], after_0.member(i).model)
    assert max_param_change(after_0.member(0).model, model) > 1e-4


# ----------------------------------------------------------------------------------------------- best member


def fake_fit(d_stsp, status):
    """A k-member TrainResult with known scores; member i's model is the string "m<i>"."""
    k = len(d_stsp)
    history = [{"epoch": e, "member": i, "loss": 0.1, "d_stsp": math.nan} for e in range(2) for i in range(k)]
    members = tuple(
        MemberFit(model=f"m{i}", history=[h for h in history if h["member"] == i], best_epoch=10 + i,
                  status=status[i], best_metrics={"d_stsp": d_stsp[i], "d_h": 0.5}, seconds=1.0, member=i,
                  score=d_stsp[i])
        for i in range(k))
    return TrainResult(members=members, history=history, seconds=1.0)


@pytest.mark.parametrize(
    "d_stsp, status, expected",
    [
        ([0.5, 0.2, 0.9], ["ok"] * 3, 1),                                             # lowest D_stsp
        ([0.2, 0.5], ["ok"] * 2, 0),
        ([0.9, 0.7, 0.2, 0.2], ["ok"] * 4, 2),                                        # ties: lowest index
        ([0.5, 0.1, 0.3], ["ok", "diverged", "ok"], 2),                               # diverged last, even if lower
        ([math.nan, 0.8], ["ok", "ok"], 1),                                           # no score counts as diverged
        ([0.1, 0.05, 0.9], ["diverged", "diverged", "ok"], 2),
        ([0.3, 0.1], ["diverged", "diverged"], 0),                                    # all diverged: lowest index
    ],
)
def test_best_member_is_exactly_the_best_member_diverged_last(d_stsp, status, expected):
    fit = fake_fit(d_stsp, status)
    chosen = fit.best()
    assert chosen.member == expected
    assert chosen.model == f"m{expected}" and fit.model == f"m{expected}"
    assert chosen.best_epoch == 10 + expected and chosen.status == status[expected]
    assert fit.best_epoch == chosen.best_epoch and fit.status == chosen.status
    assert {h["member"] for h in chosen.history} == {expected} and len(chosen.history) == 2
    assert fit.ranking()[0] == expected and sorted(fit.ranking()) == list(range(len(d_stsp)))


def test_no_finite_evaluation_is_diverged_even_when_the_loss_stayed_finite(monkeypatch):
    """Training whose loss stays finite but whose every evaluation is non-finite (NaN D_stsp) has no checkpoint:
    status diverged, best_epoch -1, diverged_epoch None, never ok."""
    monkeypatch.setattr(loop, "_evaluate", ScriptedEvaluation([math.nan] * 3))
    fit = train(tiny_model(), SINE, epochs=3, lr=1e-3, eval_every=1, **TINY)
    assert fit.diverged_epoch is None and all(math.isfinite(h["loss"]) for h in fit.history)
    assert fit.status == "diverged" and fit.best_epoch == -1
