"""Models: analytic Jacobians, subregion maps, rollout against plain NumPy, hyperparameter validation.

The float64 models are built at collection, outside 64-bit mode (their constructors switch it on); the tests that
evaluate them directly in float64 ask for the `x64` fixture, as a user's program would."""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsrkit.models import ALRNN, PLRNN, DendPLRNN, ShallowPLRNN
from dsrkit.training import generate

F64 = jnp.float64


def all_models(observation="identity"):
    k = jax.random.key(3)
    return [
        ALRNN(3, 8, 2, key=k, dtype=F64, observation=observation),
        PLRNN(3, 6, key=k, dtype=F64, observation=observation),
        ShallowPLRNN(3, 5, 7, key=k, dtype=F64, observation=observation),
        ShallowPLRNN(3, 5, 7, clipped=True, key=k, dtype=F64, observation=observation),
        DendPLRNN(3, 5, 3, key=k, dtype=F64, observation=observation),
        DendPLRNN(3, 5, 3, clipped=False, key=k, dtype=F64, observation=observation),
    ]


def random_states(m, n=20, seed=0):
    return jax.random.normal(jax.random.key(seed), (n, m.latent_dim), dtype=F64) * 2.0


@eqx.filter_jit
def _pieces(m, z):
    def affine_step(x):
        jac, c = m.region_affine(m.region_code(x))
        return jac @ x + c

    return (jax.vmap(m.jacobian)(z), jax.vmap(jax.jacfwd(m))(z), jax.vmap(m.region_code)(z), jax.vmap(affine_step)(z),
            jax.vmap(m)(z))


@pytest.mark.parametrize("model", all_models(), ids=lambda m: type(m).__name__)
def test_jacobian_and_region_affine(model, x64):
    """The analytic Jacobian equals jax.jacfwd of the step at random states (1e-12); the subregion code is 0/1 of
    length n_switch; within the subregion of z, J z + c equals the nonlinear step (1e-12)."""
    analytic, autodiff, d, affine, step = _pieces(model, random_states(model))
    np.testing.assert_allclose(analytic, autodiff, atol=1e-12)
    assert d.shape == (20, model.n_switch) and d.dtype == jnp.int8
    assert set(np.unique(np.asarray(d))) == {0, 1}
    np.testing.assert_allclose(affine, step, atol=1e-12)


def test_alrnn_regions_are_last_p_units(x64):
    """AL-RNN's code is the sign pattern of its last P units; its 2^P region maps differ only in those columns."""
    m = ALRNN(2, 6, 2, key=jax.random.key(0), dtype=F64)
    assert m.n_switch == 2
    z = jnp.array([-1.0, 2.0, -3.0, 4.0, 5.0, -6.0])
    np.testing.assert_array_equal(m.region_code(z), [1, 0])
    maps = [np.asarray(m.region_affine(jnp.array(d))[0]) for d in itertools.product([0, 1], repeat=2)]
    for a in maps:
        np.testing.assert_array_equal(a[:, :4], maps[0][:, :4])


def test_alrnn_published_init():
    """A is the diagonal of a positive-definite matrix of spectral radius 1 (0 < A <= 1), W ~ N(0, 0.01²), h = 0."""
    m = ALRNN(3, 50, 5, key=jax.random.key(1))
    assert m.A.dtype == jnp.float32 and m.W.dtype == jnp.float32
    assert np.all(np.asarray(m.A) > 0) and np.all(np.asarray(m.A) <= 1.0 + 1e-6)
    assert 0.007 < float(np.std(np.asarray(m.W))) < 0.013
    np.testing.assert_array_equal(m.h, 0.0)


def numpy_step(m, z):
    """Plain NumPy transcription of each model's published equation."""
    a = np.asarray(m.A)
    if isinstance(m, ALRNN):
        phi = z.copy()
        phi[m.latent_dim - m.relu_units:] = np.maximum(phi[m.latent_dim - m.relu_units:], 0)
        return a * z + np.asarray(m.W) @ phi + np.asarray(m.h)
    if isinstance(m, PLRNN):
        w = np.asarray(m.W) * (1 - np.eye(m.latent_dim))
        return a * z + w @ np.maximum(z, 0) + np.asarray(m.h)
    if isinstance(m, ShallowPLRNN):
        u = np.asarray(m.W2) @ z
        hid = np.maximum(u + np.asarray(m.h2), 0) - (np.maximum(u, 0) if m.clipped else 0)
        return a * z + np.asarray(m.W1) @ hid + np.asarray(m.h1)
    if isinstance(m, DendPLRNN):
        w = np.asarray(m.W) * (1 - np.eye(m.latent_dim))
        phi = np.zeros(m.latent_dim)
        for b in range(m.n_bases):
            phi += float(m.alpha[b]) * (np.maximum(z - np.asarray(m.H[:, b]), 0) - (np.maximum(z, 0) if m.clipped else 0))
        return a * z + w @ phi + np.asarray(m.h)
    raise TypeError(type(m))


@pytest.mark.parametrize("model", all_models() + all_models("affine")[:1], ids=lambda m: type(m).__name__ + "-" + m.observation)
def test_generate_matches_numpy_loop(model, x64):
    """generate() (compiled lax.scan) equals a plain NumPy loop of the published equation in float64 (1e-12 rel.)."""
    x0 = np.array([0.3, -0.2, 0.5])
    y = generate(model, x0, 200)
    z = np.asarray(model.init_state(jnp.asarray(x0)))
    if model.observation == "identity":
        np.testing.assert_array_equal(z[:3], x0)
        np.testing.assert_allclose(z[3:], np.asarray(model.obs.L) @ x0, rtol=1e-14)
    rows = []
    for _ in range(200):
        rows.append(np.asarray(model.observe(jnp.asarray(z))))
        z = numpy_step(model, z)
    assert y.shape == (200, 3) and y.dtype == np.float64
    np.testing.assert_allclose(y, np.array(rows), rtol=1e-10, atol=1e-12)


def test_generate_dtype_and_shape_checks():
    """float64 on request (float32 output is covered by the save/load tests); wrong x0 shape or n_steps rejected."""
    m = ALRNN(3, 10, 2, key=jax.random.key(0))
    assert m.A.dtype == jnp.float32
    y = generate(m, np.ones(3), 1, dtype=jnp.float64)
    assert y.dtype == np.float64 and y.shape == (1, 3)
    with pytest.raises(ValueError, match="x0"):
        generate(m, np.ones(4), 5)
    with pytest.raises(ValueError, match="n_steps"):
        generate(m, np.ones(3), 0)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda k: ALRNN(3, 20, 21, key=k), "relu_units"),
        (lambda k: ALRNN(3, 2, 1, key=k), "latent_dim"),
        (lambda k: ALRNN(0, 20, 2, key=k), "obs_dim"),
        (lambda k: ALRNN(3, 20, 0, key=k), "relu_units"),
        (lambda k: PLRNN(3, -1, key=k), "latent_dim"),
        (lambda k: ShallowPLRNN(3, 5, 0, key=k), "hidden_dim"),
        (lambda k: DendPLRNN(3, 5, 0, key=k), "n_bases"),
        (lambda k: PLRNN(3, 5, key=k, observation="nonsense"), "observation"),
        (lambda k: PLRNN(3, 5, key=k, dtype=jnp.int32), "dtype"),
    ],
)
def test_bad_hyperparameters_rejected(build, match):
    """Invalid sizes, P > M, M < N, unknown observation or dtype raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=match):
        build(jax.random.key(0))


def test_non_integer_size_and_missing_key_rejected():
    with pytest.raises(TypeError, match="latent_dim"):
        PLRNN(3, 5.5, key=jax.random.key(0))
    with pytest.raises(TypeError, match="key"):
        PLRNN(3, 5)
