"""Training: forcing schemes against explicit loops, hand-written BPTT against autodiff and finite differences,
linear-system recovery, seed vmap equivalence, divergence handling, argument checks."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dsrkit  # noqa: F401  (enables float64)
from dsrkit.models import ALRNN, PLRNN, DendPLRNN, ShallowPLRNN
from dsrkit.training import GTF, STF, AdaptiveGTF, train
from dsrkit.training.loss import batch_loss, reference_batch_loss
from dsrkit.training.schemes import jacobian_norm_bound, jacobian_norms

F64 = jnp.float64

# The loss and gradient tests compute in float64 outside `train` (which switches 64-bit types on itself).
pytestmark = pytest.mark.usefixtures("x64")


def windows(n_batch=3, length=13, dim=3, seed=0):
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.normal(size=(n_batch, length, dim)))


def explicit_predictions(model, x, force):
    """Plain Python loop: z0 = init_state(x0); z_k = F(z̃_{k−1}); z̃_k = force(k, z_k, x_k)."""
    z = model.init_state(x[0])
    out = []
    for k in range(1, len(x)):
        z = model(z)
        out.append(np.asarray(model.observe(z)))
        z = force(k, z, x[k])
    return np.array(out)


def loss_of(model, scheme, x):
    return float(eqx.filter_jit(batch_loss)(model, scheme, scheme.init(F64), x, x, 0.0))


def test_full_forcing_equivalences():
    """STF(1) and GTF(1) both equal full forcing of the read-out units; GTF(0) equals free running;
    STF(4) replaces exactly at k = 4, 8, … (checked on the loss against explicit loops, to 1e-12)."""
    model = ALRNN(3, 6, 2, key=jax.random.key(1), dtype=F64)
    x = windows()

    def replace(k, z, xk):
        return z.at[:3].set(xk)

    def mse(force):
        return np.mean([(explicit_predictions(model, xi, force) - np.asarray(xi[1:])) ** 2 for xi in x])

    full = mse(replace)
    free = mse(lambda k, z, xk: z)
    every4 = mse(lambda k, z, xk: replace(k, z, xk) if k % 4 == 0 else z)
    assert abs(full - free) > 1e-3
    np.testing.assert_allclose(loss_of(model, STF(1), x), full, rtol=1e-12)
    np.testing.assert_allclose(loss_of(model, GTF(1.0), x), full, rtol=1e-12)
    np.testing.assert_allclose(loss_of(model, GTF(0.0), x), free, rtol=1e-12)
    np.testing.assert_allclose(loss_of(model, STF(4), x), every4, rtol=1e-12)
    gtf = mse(lambda k, z, xk: z.at[:3].set(0.7 * z[:3] + 0.3 * xk))
    np.testing.assert_allclose(loss_of(model, GTF(0.3), x), gtf, rtol=1e-12)


MODELS = [
    lambda k: ALRNN(3, 5, 2, key=k, dtype=F64),
    lambda k: PLRNN(3, 4, key=k, dtype=F64),
    lambda k: ShallowPLRNN(3, 4, 6, key=k, dtype=F64),
    lambda k: ShallowPLRNN(3, 4, 6, clipped=True, key=k, dtype=F64),
    lambda k: DendPLRNN(3, 4, 2, key=k, dtype=F64),
    lambda k: ALRNN(3, 5, 2, key=k, dtype=F64, observation="affine"),
]


CASES = [(0, STF(4)), (1, GTF(0.3)), (2, STF(4)), (3, GTF(0.3)), (4, STF(4)), (5, GTF(0.3))]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{['alrnn', 'plrnn', 'sh', 'shclip', 'dend', 'affine'][c[0]]}-"
                         f"{type(c[1]).__name__}")
def test_custom_bptt_matches_autodiff(case):
    """The hand-written BPTT (custom VJP) gives the same loss and gradients as plain autodiff of the scan, for
    every model, with identity and affine observation (gradient through the inferred forcing signals), 1e-10."""
    build, scheme = MODELS[case[0]], case[1]
    model = build(jax.random.key(2))
    x = windows(seed=1)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    state = scheme.init(F64)
    fast = jax.jit(jax.value_and_grad(lambda p: batch_loss(eqx.combine(p, static), scheme, state, x, x, 0.0)))(params)
    ref = jax.jit(jax.value_and_grad(lambda p: reference_batch_loss(eqx.combine(p, static), scheme, state, x, x)))(params)
    np.testing.assert_allclose(fast[0], ref[0], rtol=1e-12)
    for a, b in zip(jax.tree_util.tree_leaves(fast[1]), jax.tree_util.tree_leaves(ref[1])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_gradient_matches_finite_differences():
    """Gradient of the STF loss of a tiny float64 AL-RNN (incl. regulariser) equals central differences (1e-6)."""
    model = ALRNN(2, 3, 1, key=jax.random.key(4), dtype=F64)
    model = eqx.tree_at(lambda m: m.h, model, jnp.array([0.3, -0.2, 0.1]))  # away from the kink of |h| at 0
    x = windows(n_batch=2, length=9, dim=2, seed=3)
    scheme, state = STF(3), STF(3).init(F64)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    flat, unravel = jax.flatten_util.ravel_pytree(params)

    def f(v):
        return batch_loss(eqx.combine(unravel(v), static), scheme, state, x, x, 0.01)

    grad = np.asarray(jax.jit(jax.grad(f))(flat))
    eps = 1e-6
    steps = eps * jnp.eye(flat.size)
    fd = np.asarray((jax.jit(jax.vmap(f))(flat + steps) - jax.jit(jax.vmap(f))(flat - steps)) / (2 * eps))
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_adaptive_gtf_rule():
    """α* = max(0, 1 − 1/𝒩): with J = 2I everywhere 𝒩 = 2, α* = 0.5; from α = 1 it decays as
    0.999α + 0.001α*, from α = 0.2 it jumps to 0.5, and between updates (batch index not divisible by 5) stays."""
    model = ALRNN(2, 3, 1, key=jax.random.key(0), dtype=F64)
    model = eqx.tree_at(lambda m: (m.A, m.W), model, (2.0 * jnp.ones(3), jnp.zeros((3, 3))))
    z = jnp.asarray(np.random.default_rng(0).normal(size=(2, 7, 3)))
    np.testing.assert_allclose(eqx.filter_jit(jacobian_norm_bound)(model, z), 2.0, rtol=1e-12)
    s = AdaptiveGTF()
    update = eqx.filter_jit(s.update)
    st = update(s.init(F64), model, z, jnp.asarray(0))
    np.testing.assert_allclose(st["alpha"], 0.999 + 0.001 * 0.5, rtol=1e-12)
    st = update({"alpha": jnp.asarray(0.2)}, model, z, jnp.asarray(10))
    np.testing.assert_allclose(st["alpha"], 0.5, rtol=1e-12)
    st = update({"alpha": jnp.asarray(0.2)}, model, z, jnp.asarray(3))
    np.testing.assert_allclose(st["alpha"], 0.2, rtol=1e-12)


def test_jacobian_norms_match_svd():
    """Spectral norms of the Jacobians equal numpy's SVD to 1e-8 (float64): through the AL-RNN's subregion table,
    and state by state (Gram-matrix eigenvalues) for a PLRNN (2^11 subregions, too many to tabulate) and a
    shPLRNN."""
    for model, tol in [(ALRNN(3, 6, 3, key=jax.random.key(5), dtype=F64), 1e-8),
                       (PLRNN(2, 11, key=jax.random.key(5), dtype=F64), 1e-8),
                       (ShallowPLRNN(3, 3, 50, key=jax.random.key(5), dtype=F64), 1e-8)]:
        z = jax.random.normal(jax.random.key(6), (4, 9, model.latent_dim), dtype=F64)
        ref = np.linalg.norm(np.asarray(eqx.filter_jit(lambda m, z: jax.vmap(jax.vmap(m.jacobian))(z))(model, z)),
                             ord=2, axis=(-2, -1))
        np.testing.assert_allclose(eqx.filter_jit(jacobian_norms)(model, z), ref, rtol=tol)


def linear_data(n=400):
    """x_{t+1} = c + R (x_t − c): a slowly decaying rotation about c = (1, 1), staying in the positive quadrant."""
    th = 0.2
    R = 0.995 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    c = np.array([1.0, 1.0])
    xs = [c + np.array([0.8, 0.0])]
    for _ in range(n - 1):
        xs.append(c + R @ (xs[-1] - c))
    return np.array(xs), R, c


def test_training_recovers_linear_system():
    """STF(1) training of an AL-RNN (M = N = 2, P = 1) on a two-trajectory Dataset of a linear system whose data never leave the positive
    quadrant recovers the system matrix R and offset (I − R)c in the visited subregion, to 1e-3."""
    X, R, c = linear_data()
    model = ALRNN(2, 2, 1, key=jax.random.key(0), dtype=F64)
    data = dsrkit.Dataset([X[:200], X[200:]], dt=1.0)
    fit = train(model, data, scheme=STF(1), epochs=100, seq_len=10, batch_size=8,
                batches_per_epoch=20, lr=(2e-2, 2e-3), input_noise=0.0, eval_every=0, progress=False)
    jac, off = fit.model.region_affine(jnp.array([1], jnp.int8))
    np.testing.assert_allclose(jac, R, atol=1e-3)
    np.testing.assert_allclose(off, (np.eye(2) - R) @ c, atol=1e-3)
    assert fit.status == "ok" and fit.history[-1]["loss"] < fit.history[0]["loss"]


def test_k_seed_run_matches_single_runs():
    """seeds=2 (vmapped: members_per_call=2) reproduces two single-seed runs of the same members with seeds seed
    and seed+1 (1e-9)."""
    from dsrkit.training import init_members

    X, _, _ = linear_data(300)
    model = ALRNN(2, 4, 1, key=jax.random.key(0), dtype=F64)
    kw = dict(scheme=STF(3), epochs=3, seq_len=12, batch_size=4, batches_per_epoch=5, lr=(1e-2, 1e-3),
              input_noise=0.01, eval_every=0, progress=False)
    multi = train(model, X, seeds=2, seed=7, members_per_call=2, **kw)
    members = init_members(model, 2, 7)
    for i in range(2):
        single = train(members[i], X, seed=7 + i, **kw)
        for a, b in zip(jax.tree_util.tree_leaves(eqx.filter(multi.member(i).model, eqx.is_array)),
                        jax.tree_util.tree_leaves(eqx.filter(single.model, eqx.is_array))):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert len(multi.history) == 2 * 3 and {h["member"] for h in multi.history} == {0, 1}


def test_divergence_is_a_status_not_a_crash():
    """A model with an exploding map (A = 3) makes the loss non-finite: train returns status "diverged"."""
    X, _, _ = linear_data(200)
    model = ALRNN(2, 3, 1, key=jax.random.key(0))
    model = eqx.tree_at(lambda m: m.A, model, 3.0 * jnp.ones(3, jnp.float32))
    fit = train(model, X * 1e3, scheme=GTF(0.0), epochs=1, seq_len=100, batch_size=4, batches_per_epoch=2,
                eval_every=1, progress=False)
    assert fit.status == "diverged" and fit.diverged_epoch == 0


def test_evaluation_keeps_best_checkpoint():
    """With evaluation, history records D_stsp/D_H and the returned epoch is the argmin of D_stsp."""
    t = np.arange(3000) * 0.05
    X = np.stack([np.sin(t), np.cos(t)], axis=1) + 0.01 * np.random.default_rng(0).normal(size=(3000, 2))
    fit = train(ALRNN(2, 6, 2, key=jax.random.key(1)), X, scheme=AdaptiveGTF(), epochs=4, seq_len=20,
                batch_size=4, batches_per_epoch=5, eval_every=2, eval_steps=600, progress=False)
    evaluated = [h for h in fit.history if not math.isnan(h["d_stsp"])]
    assert [h["epoch"] for h in evaluated] == [1, 3]
    assert fit.best_epoch == min(evaluated, key=lambda h: h["d_stsp"])["epoch"]
    assert fit.best_metrics["d_stsp"] == min(h["d_stsp"] for h in evaluated)
    assert all(0.0 <= h["alpha"] <= 1.0 for h in fit.history)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epochs=0), "epochs"),
        (dict(seq_len=5000), "seq_len"),
        (dict(batch_size=0), "batch_size"),
        (dict(lr=(1e-3, -1.0)), "learning rates"),
        (dict(input_noise=-0.1), "input_noise"),
        (dict(seeds=0), "seeds"),
    ],
)
def test_bad_training_arguments_rejected(kwargs, match):
    X, _, _ = linear_data(300)
    with pytest.raises(ValueError, match=match):
        train(ALRNN(2, 3, 1, key=jax.random.key(0)), X, progress=False, **kwargs)


def test_bad_data_and_scheme_rejected():
    model = ALRNN(2, 3, 1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="obs_dim"):
        train(model, np.zeros((500, 3)), progress=False)
    bad = np.zeros((500, 2))
    bad[17, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train(model, bad, progress=False)
    with pytest.raises(TypeError, match="scheme"):
        train(model, np.zeros((500, 2)), scheme="STF", progress=False)
    with pytest.raises(ValueError, match="interval"):
        STF(0)
    with pytest.raises(ValueError, match="alpha"):
        GTF(1.5)
