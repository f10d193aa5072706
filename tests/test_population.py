"""Populations: members that differ in seed, learning rates, input noise, regularisation, STF τ or GTF α train in
one compiled program and equal the same members trained one by one; the result is member-stacked for any size;
loss, selection, divergence rule and callbacks are injected, not patched."""

import math

import equinox as eqx
import jax
import numpy as np
import pytest

import dsrkit
from dsrkit.models import ALRNN
from dsrkit.training import (GTF, STF, AdaptiveGTF, Callback, Selection, TrainConfig, batch_loss, init_members,
                             reference_batch_loss, train)

F64 = jax.numpy.float64
_T = np.arange(400) * 0.1
SINE = np.stack([np.sin(_T), np.cos(_T)], axis=1) + 0.05 * np.random.default_rng(0).normal(size=(400, 2))
TINY = dict(epochs=2, seq_len=10, batch_size=4, batches_per_epoch=3, eval_every=0, progress=False)


def tiny(key=0, dtype=F64):
    return ALRNN(2, 4, 1, key=jax.random.key(key), dtype=dtype)


def leaves(model):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))]


def assert_same(a, b, rtol):
    for x, y in zip(leaves(a), leaves(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol * 1e-3)


# Three members that differ in everything that keeps array shapes; the scheme carries τ or α per member.
SEEDS = [3, 11, 5]
LRS = [(1e-2, 1e-3), (3e-2, 3e-2), (5e-3, 1e-4)]
NOISE = [0.0, 0.05, 0.1]
REG = [0.0, 1e-3, 0.0]
SCHEMES = {
    "stf-tau": (STF(interval=[2, 3, 5]), lambda i: STF([2, 3, 5][i])),
    "gtf-alpha": (GTF(alpha=[0.0, 0.3, 0.9]), lambda i: GTF([0.0, 0.3, 0.9][i])),
    "agtf-alpha": (AdaptiveGTF(alpha_start=[1.0, 0.5, 0.2]), lambda i: AdaptiveGTF(alpha_start=[1.0, 0.5, 0.2][i])),
}


@pytest.mark.parametrize("per_call", [1, 3], ids=["loop", "vmap"])
@pytest.mark.parametrize("scheme_name", sorted(SCHEMES))
def test_population_equals_its_members_trained_one_by_one(scheme_name, per_call):
    """A population of 3 whose members differ in seed, (lr_start, lr_end), input noise, regularisation and τ or α
    equals each member trained alone with its own settings: parameters and losses to 1e-12 when members are looped
    over (the same compiled program), to 1e-9 under vmap (float64)."""
    scheme, single_scheme = SCHEMES[scheme_name]
    models = [tiny(i) for i in range(3)]
    pop = train(models, SINE, scheme, seed=SEEDS, lr=LRS, input_noise=NOISE, regularization=REG,
                members_per_call=per_call, **TINY)
    assert len(pop) == 3 and pop.config["members_per_call"] == per_call
    rtol = 1e-12 if per_call == 1 else 1e-9
    for i in range(3):
        alone = train(models[i], SINE, single_scheme(i), seed=SEEDS[i], lr=LRS[i], input_noise=NOISE[i],
                      regularization=REG[i], **TINY)
        member = pop.member(i)
        assert member.member == i and member.status == alone.status == "ok"
        assert_same(member.model, alone.model, rtol)
        np.testing.assert_allclose([h["loss"] for h in member.history], [h["loss"] for h in alone.history], rtol=rtol)
        np.testing.assert_allclose([h["alpha"] for h in member.history], [h["alpha"] for h in alone.history],
                                   rtol=rtol)
        assert [h["lr"] for h in member.history] == [h["lr"] for h in alone.history]
    # the members really differ
    assert not np.allclose(leaves(pop.member(0).model)[0], leaves(pop.member(1).model)[0])


def test_members_with_their_own_data_equal_single_runs_on_that_data():
    """A list of k Datasets gives each member its own training data (the seeds of a benchmark task): under vmap,
    member i equals a single run on dataset i (parameters and losses to 1e-9, float64), also when the datasets
    differ in length and number of trajectories (the shorter window tables are padded and never drawn from), and
    its selection scores against its own data. Sharing one dataset instead gives other models, so the data really
    are per member."""
    rng = np.random.default_rng(1)
    own = [dsrkit.Dataset([SINE], 0.1), dsrkit.Dataset([SINE[:250] + 0.1 * rng.normal(size=(250, 2))], 0.1),
           dsrkit.Dataset([SINE[:120], 1.5 * SINE[200:330]], 0.1)]
    models = [tiny(i) for i in range(3)]
    kw = dict(TINY, eval_every=2)
    pop = train(models, own, STF([2, 3, 5]), seed=SEEDS, **kw)
    assert pop.config["data"] == "per member" and pop.config["members_per_call"] == 3
    for i in range(3):
        alone = train(models[i], own[i], STF([2, 3, 5][i]), seed=SEEDS[i], **kw)
        assert_same(pop.member(i).model, alone.model, 1e-9)
        np.testing.assert_allclose([h["loss"] for h in pop.member(i).history], [h["loss"] for h in alone.history],
                                   rtol=1e-9)
        np.testing.assert_allclose(pop.member(i).score, alone.member(0).score, rtol=1e-6)
    shared = train(models, own[1], STF([2, 3, 5]), seed=SEEDS, **TINY)
    assert not np.allclose(leaves(shared.member(0).model)[0], leaves(pop.member(0).model)[0])
    with pytest.raises(ValueError, match="ambiguous: 2 datasets, 3 models"):
        train(models, own[:2], **TINY)


def test_seeds_population_uses_init_members_and_consecutive_streams():
    """seeds=k with one seed s: member i is init_members(model, k, s)[i] trained on the stream of s + i; looped
    over (members_per_call=1) it runs the single run's program, so the parameters are equal bit for bit."""
    model = tiny(0)
    pop = train(model, SINE, STF(3), seeds=2, seed=4, members_per_call=1, **TINY)
    for i, m in enumerate(init_members(model, 2, 4)):
        assert_same(pop.member(i).model, train(m, SINE, STF(3), seed=4 + i, **TINY).model, 0.0)


def test_result_is_member_stacked_for_any_size():
    """One model: a population of one whose shortcuts are its member (fit.model is the model, not a list); k
    models: (k,) arrays per member and `models` stacked along a leading axis."""
    one = train(tiny(0), SINE, STF(3), **TINY)
    assert len(one) == 1 and one.size == 1
    assert isinstance(one.model, ALRNN) and one.model is one.member(0).model is one.best().model
    assert one.statuses.shape == one.best_epochs.shape == one.scores.shape == one.diverged_epochs.shape == (1,)
    assert one.best_epoch == 1 and one.status == "ok" and one.diverged_epoch is None
    assert all(x.shape[0] == 1 for x in leaves(one.models))
    three = train([tiny(i) for i in range(3)], SINE, STF(3), **TINY)
    stacked = leaves(three.models)
    for i in range(3):
        for s, x in zip(stacked, leaves(three.member(i).model), strict=True):
            np.testing.assert_array_equal(s[i], x)
    assert three.statuses.tolist() == ["ok"] * 3 and three.best_epochs.tolist() == [1] * 3
    with pytest.raises(IndexError):
        three.member(3)


def test_config_dataclass_and_keywords_are_the_same_settings():
    """TrainConfig is frozen and validated; keywords override its fields."""
    cfg = TrainConfig(epochs=2, seq_len=10, batch_size=4, batches_per_epoch=3, eval_every=0, lr=(1e-2, 1e-3))
    with pytest.raises(dataclasses_frozen_error()):
        cfg.epochs = 3
    a = train(tiny(0), SINE, STF(3), config=cfg, progress=False)
    b = train(tiny(0), SINE, STF(3), lr=(1e-2, 1e-3), **TINY)
    c = train(tiny(0), SINE, STF(3), config=TrainConfig(epochs=7, lr=(1e-2, 1e-3)), progress=False,
              **{k: v for k, v in TINY.items() if k != "progress"})
    assert_same(a.model, b.model, 0)
    assert_same(b.model, c.model, 0)
    assert a.config["lr"] == [1e-2, 1e-3] and c.config["epochs"] == 2


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: train(tiny(), SINE, input_noise=[0.0, 0.1], seeds=3, **TINY), ValueError, "input_noise has 2.*seeds=3"),
        (lambda: train([tiny(0), tiny(1), tiny(2)], SINE, STF([2, 3]), **TINY), ValueError, "3 models.*scheme has 2"),
        (lambda: train(tiny(), SINE, lr=[(1e-3, 1e-5), (1e-3, math.nan)], **TINY), ValueError, "lr.*finite"),
        (lambda: train(tiny(), SINE, input_noise=[0.0, -1.0], **TINY), ValueError, "input_noise"),
        (lambda: STF([2, 0]), ValueError, "interval"),
        (lambda: GTF([0.1, math.inf]), ValueError, "alpha"),
        (lambda: train(tiny(), SINE, epoch=3, **TINY), TypeError, "epoch"),
        (lambda: train(tiny(), SINE, selection=lambda m, x: {}, **TINY), TypeError, "Selection"),
    ],
    ids=["noise-vs-seeds", "models-vs-scheme", "lr-nan", "noise-negative", "tau-0", "alpha-inf", "unknown-setting",
         "selection-type"],
)
def test_bad_population_settings_are_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------------------------- injected parts

TRACES = []


def counting_loss(model, scheme, sstate, x_in, x_target):
    """The default loss; counts how often the epoch program is traced (once per compilation)."""
    TRACES.append(1)
    return batch_loss(model, scheme, sstate, x_in, x_target, 0.0)


def test_one_compiled_program_for_members_that_differ_in_hyperparameters():
    """The injected loss is traced once: a second population with other seeds, learning rates, noise levels and
    τ, and a single member with yet other values, reuse the compiled epoch; the results equal those of the
    default loss."""
    kw = dict(TINY, loss=counting_loss, members_per_call=1)
    first = train([tiny(0), tiny(1)], SINE, STF([2, 3]), seed=[0, 1], lr=[(1e-2, 1e-3), (2e-2, 1e-3)],
                  input_noise=[0.01, 0.02], **kw)
    traced = len(TRACES)
    assert traced >= 1
    train([tiny(2), tiny(3)], SINE, STF([4, 7]), seed=[5, 6], lr=[(3e-2, 1e-4), (1e-3, 1e-3)], input_noise=[0.1, 0.2],
          **kw)
    train(tiny(4), SINE, STF(9), seed=8, lr=5e-3, input_noise=0.3, **kw)
    assert len(TRACES) == traced
    default = train(tiny(0), SINE, STF(2), seed=0, lr=(1e-2, 1e-3), input_noise=0.01, **TINY)
    assert_same(first.member(0).model, default.model, 1e-12)


def test_reference_loss_is_injected_not_patched():
    """loss=reference_batch_loss (plain autodiff through the scan) trains the same model as the default loss."""
    kw = dict(TINY, seed=2, input_noise=0.05)
    fast = train(tiny(1), SINE, STF(3), **kw)
    ref = train(tiny(1), SINE, STF(3), loss=reference_batch_loss, **kw)
    assert_same(fast.model, ref.model, 1e-9)
    assert "reference_batch_loss" in ref.config["loss"]


def test_injected_selection_chooses_and_is_recorded():
    """A selection rule that scores a checkpoint by ‖W‖ (lower better) picks each member's checkpoint and ranks
    the members by it; its name and metric appear in the result and the history."""
    def by_weight(model, true):
        return {"w_norm": float(np.linalg.norm(np.asarray(model.W)))}

    rule = Selection(by_weight, metric="w_norm", name="smallest recurrent weights", columns=("w_norm",))
    fit = train([tiny(0), tiny(1), tiny(2)], SINE, STF(3), selection=rule, **dict(TINY, eval_every=1, epochs=3))
    assert fit.selection == "smallest recurrent weights" and fit.member(0).selection == fit.selection
    assert fit.config["selection"] == fit.selection
    for i in range(3):
        rows = fit.member(i).history
        assert [h["epoch"] for h in rows] == [0, 1, 2] and all(np.isfinite(h["w_norm"]) for h in rows)
        best_row = min(rows, key=lambda h: h["w_norm"])
        assert fit.member(i).best_epoch == best_row["epoch"]
        assert fit.member(i).score == best_row["w_norm"] == fit.member(i).best_metrics["w_norm"]
        np.testing.assert_allclose(np.linalg.norm(np.asarray(fit.member(i).model.W)), fit.member(i).score)
    assert fit.best().member == int(np.argmin(fit.scores)) and fit.model is fit.best().model


def test_injected_divergence_rule_and_callbacks():
    """A divergence rule that stops member 1 in epoch 0 makes it diverged without a checkpoint while member 0
    trains on; a callback sees every epoch and stops training after epoch 1."""
    calls = []

    class StopAfterOne(Callback):
        def on_train_start(self, epochs, members):
            calls.append(("start", epochs, members))

        def on_epoch_end(self, epoch, rows, alive):
            calls.append(("epoch", epoch, len(rows), alive.tolist()))
            return epoch == 1

        def on_train_end(self):
            calls.append(("end",))

    def stop_member_1(epoch, losses, finite, alive):
        return alive & finite & np.isfinite(losses) & (np.arange(len(alive)) != 1)

    fit = train([tiny(0), tiny(1)], SINE, STF(3), divergence=stop_member_1, callbacks=[StopAfterOne()],
                **dict(TINY, epochs=5, eval_every=1, eval_steps=200))
    assert calls == [("start", 5, 2), ("epoch", 0, 2, [True, False]), ("epoch", 1, 2, [True, False]), ("end",)]
    assert fit.statuses.tolist() == ["ok", "diverged"] and fit.diverged_epochs.tolist() == [-1, 0]
    assert fit.best_epochs[1] == -1 and fit.best_epochs[0] in (0, 1)
    assert sorted({h["epoch"] for h in fit.history}) == [0, 1]
    assert all(math.isnan(h["loss"]) for h in fit.member(1).history if h["epoch"] > 0)


def test_dsrkit_train_contract_for_one_model():
    """The public call `dsr.train(model, ds, scheme=dsr.STF(interval=16), epochs=..., seed=0)` still returns
    model, history, best_epoch, status and best_metrics for one model."""
    ds = dsrkit.Dataset([SINE], dt=0.1)
    fit = dsrkit.train(tiny(0, jax.numpy.float32), ds, scheme=dsrkit.STF(interval=16), epochs=2, seed=0,
                       seq_len=20, batch_size=4, batches_per_epoch=3, eval_steps=200, progress=False)
    assert isinstance(fit.model, ALRNN) and fit.status == "ok" and fit.best_epoch in (0, 1)
    assert set(fit.best_metrics) == {"d_stsp", "d_h"} and len(fit.history) == 2
