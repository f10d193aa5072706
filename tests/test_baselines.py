"""Conformance of every registered baseline to the Reconstructor protocol (tiny data, fast settings).

Each method is fitted on 300 steps of a standardised Lorenz-63 trajectory (RK4, dt = 0.01) with settings small enough
to keep the whole file within about a minute; the neural methods reuse their compiled training code across fits.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

import dsrkit
from dsrkit import baselines
from dsrkit._files import MAGIC, read_container
from dsrkit.io import load_metadata

NEEDS_PYSINDY = {"sindy"}
FAST = {
    "mean": {},
    "last_value": {},
    "parroting": dict(match_length=4),
    "sindy": dict(degree=2, threshold=0.05),
    "esn": dict(units=24, warmup=10),
    "nvar": dict(delays=2, skip=2, ridge=1e-4),
    "edmd": dict(degree=2),
    "mpedmd": dict(degree=2),
    "havok": dict(delays=6, rank=4),
    "node": dict(width=8, depth=1, window=4, batch_size=4, train_steps=6),
    "lstm": dict(hidden=6, window=8, warmup=3, forcing_interval=2, batch_size=4, train_steps=6),
    "gru": dict(hidden=6, window=8, warmup=3, forcing_interval=2, batch_size=4, train_steps=6),
    "alrnn": dict(latent_dim=6, epochs=2, batches_per_epoch=3, sequence_length=10, batch_size=4, eval_every=0),
    "plrnn": dict(latent_dim=6, epochs=2, batches_per_epoch=3, sequence_length=10, batch_size=4, eval_every=0),
    "shplrnn": dict(latent_dim=3, hidden_dim=8, epochs=2, batches_per_epoch=3, sequence_length=10, batch_size=4,
                    eval_every=0),
}
DETERMINISTIC_ANYWAY = {"mean", "last_value", "parroting", "sindy", "nvar", "edmd", "mpedmd", "havok"}


def _lorenz(n: int, x0=(1.0, 1.0, 20.0), dt: float = 0.01) -> np.ndarray:
    def f(x):
        return np.array([10 * (x[1] - x[0]), x[0] * (28 - x[2]) - x[1], x[0] * x[1] - 8 / 3 * x[2]])

    x = np.array(x0, dtype=float)
    out = np.empty((n + 200, 3))
    for t in range(n + 200):
        k1 = f(x)
        k2 = f(x + dt / 2 * k1)
        k3 = f(x + dt / 2 * k2)
        k4 = f(x + dt * k3)
        x = x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out[t] = x
    return out[200:]


_RAW = _lorenz(500)
DATA = (_RAW - _RAW.mean(0)) / _RAW.std(0)
TRAIN, TEST = DATA[:300], DATA[300:]


def _available(name):
    if name in NEEDS_PYSINDY:
        pytest.importorskip("pysindy")
    if name in {"alrnn", "plrnn", "shplrnn"} and not hasattr(dsrkit, "train") and not _has_training():
        pytest.skip("dsrkit.train is not available")


def _has_training():
    try:
        from dsrkit.training import train  # noqa: F401
    except ImportError:
        return False
    return True


_FITTED: dict = {}


def fitted(name):
    """One fitted instance per method, shared by the read-only tests."""
    _available(name)
    if name not in _FITTED:
        _FITTED[name] = baselines.get(name, **FAST[name]).fit(dsrkit.Dataset(TRAIN, dt=0.01), seed=0)
    return _FITTED[name]


#: `auto` (the population search) needs 1 600 points for its validation part; tests/test_baselines_auto.py
ALL = [n for n in baselines.names() if n != "auto"]
PLRNNS = {"alrnn", "plrnn", "shplrnn"}


def refitting(names):
    """Parameters for tests that fit several times: the PLRNN adapters (whose training compiles for tens of seconds)
    run these only in the slow suite; their shared fitted instance still goes through every other test."""
    return [pytest.param(n, marks=pytest.mark.slow) if n in PLRNNS else n for n in names]


def test_every_registered_method_has_fast_settings():
    assert set(ALL) == set(FAST), "add fast settings for new baselines to FAST"


def test_registry_rejects_unknown_names_and_parameters_listing_valid_ones():
    with pytest.raises(ValueError, match="valid names:.*esn"):
        baselines.get("no_such_method")
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['unitz'\].*units"):
        baselines.get("esn", unitz=3)
    with pytest.raises(ValueError, match="valid parameters"):
        baselines.get("esn").set_params(radius=1.0)


@pytest.mark.parametrize("name", ALL)
def test_params_are_stored_as_given_and_json_serialisable(name):
    m = baselines.get(name, **FAST[name])
    params = m.get_params()
    assert json.loads(json.dumps(params)) == params
    for k, v in FAST[name].items():
        assert params[k] == v
    assert baselines.get(name, **params).get_params() == params
    assert not [k for k in vars(m) if k.endswith("_")], "an unfitted instance must not carry learned attributes"


@pytest.mark.parametrize("name", ALL)
def test_shapes_first_row_and_status(name):
    m = fitted(name)
    assert m.status_ == "ok", m.reason_
    assert m.fit_time_ >= 0
    Y = m.generate(TEST[0], 60)
    assert Y.shape == (60, 3) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y[0], TEST[0])  # row 0 is the given observation
    status = m.status_
    assert status in ("ok", "diverged")
    Yc = m.generate(TEST[:20], 30)
    assert Yc.shape == (30, 3)
    np.testing.assert_array_equal(Yc[0], TEST[19])
    F = m.forecast(TEST[:20], 29)
    assert F.shape == (29, 3)
    np.testing.assert_allclose(F, Yc[1:], rtol=1e-5, atol=1e-5)  # forecast = generate minus the given row
    assert np.all(np.isfinite(Y)) == (status == "ok")


@pytest.mark.parametrize("name", refitting(ALL))
def test_same_seed_same_result(name):
    _available(name)
    a = baselines.get(name, **FAST[name]).fit(TRAIN, seed=3, dt=0.01).generate(TEST[:10], 40)
    b = baselines.get(name, **FAST[name]).fit(TRAIN, seed=3, dt=0.01).generate(TEST[:10], 40)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", refitting(sorted(set(ALL) - DETERMINISTIC_ANYWAY)))
def test_different_seed_different_model(name):
    _available(name)
    a = baselines.get(name, **FAST[name]).fit(TRAIN, seed=0, dt=0.01).generate(TEST[:10], 20)
    b = baselines.get(name, **FAST[name]).fit(TRAIN, seed=1, dt=0.01).generate(TEST[:10], 20)
    assert not np.allclose(a[1:], b[1:])


@pytest.mark.parametrize("name", refitting(ALL))
def test_multiple_trajectories_list_and_batch(name):
    _available(name)
    m = baselines.get(name, **FAST[name])
    m.fit([TRAIN[:150], TRAIN[150:]], seed=0, dt=0.01)
    assert m.status_ == "ok", m.reason_
    assert m.generate(TEST[0], 10).shape == (10, 3)
    batch = np.stack([TRAIN[:150], TRAIN[150:]])  # (B, T, N)
    m2 = baselines.get(name, **FAST[name]).fit(batch, seed=0, dt=0.01)
    np.testing.assert_array_equal(m.generate(TEST[:10], 20), m2.generate(TEST[:10], 20))


@pytest.mark.parametrize("name", ALL)
def test_save_load_round_trip(name, tmp_path):
    """A baseline is saved in dsrkit's model file format: `Reconstructor.save`/`load` and `dsrkit.save`/`load` write
    and read the same file, the header records the method and its hyperparameters, and the free run is identical."""
    m = fitted(name)
    path = m.save(tmp_path / "model.eqx")
    assert path.read_bytes().startswith(MAGIC)
    header, _ = read_container(path)
    assert (header["kind"], header["class"], header["config"]) == ("baseline", name, m.get_params())
    m2 = baselines.load(path)
    assert type(m2) is type(m) and m2.get_params() == m.get_params()
    np.testing.assert_array_equal(m2.generate(TEST[:10], 50), m.generate(TEST[:10], 50))
    assert type(m).load(path).get_params() == m.get_params()
    m3 = dsrkit.load(path)
    assert type(m3) is type(m)
    np.testing.assert_array_equal(m3.generate(TEST[:10], 50), m.generate(TEST[:10], 50))
    assert dsrkit.save(m, tmp_path / "via_io.eqx").read_bytes() == path.read_bytes()  # deterministic bytes
    with pytest.raises(FileExistsError, match="overwrite=True"):
        m.save(path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        dsrkit.save(m, path)
    m.save(path, overwrite=True)


def _write_old_format(path, new_file):
    """The same baseline in the format written before baselines used dsrkit's model files: an `.npz` of the learned
    arrays plus a `__meta__` JSON entry."""
    header, payload = read_container(new_file)
    with np.load(io.BytesIO(payload)) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = {"format": "dsrkit.baselines", "version": 1, "method": header["class"], "params": header["config"],
            **header["learned"]}
    np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)
    return path


@pytest.mark.parametrize("name", ["esn", "lstm"])
def test_old_format_baseline_files_are_still_read(name, tmp_path):
    m = fitted(name)
    old = _write_old_format(tmp_path / "old.npz", m.save(tmp_path / "new.eqx"))
    for back in (baselines.load(old), dsrkit.load(old)):
        assert type(back) is type(m) and back.get_params() == m.get_params()
        np.testing.assert_array_equal(back.generate(TEST[:10], 30), m.generate(TEST[:10], 30))


def test_metadata_travels_with_a_baseline(tmp_path):
    path = dsrkit.save(fitted("mean"), tmp_path / "mean.eqx", metadata={"note": "x"})
    assert load_metadata(path) == {"note": "x"}
    with pytest.raises(TypeError, match="JSON-serialisable"):
        fitted("mean").save(tmp_path / "bad.eqx", metadata={"x": object()})
    assert not (tmp_path / "bad.eqx").exists()


def test_load_rejects_corrupt_and_foreign_files(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="bad.npz is not a dsrkit model file"):
        baselines.load(bad)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a readable dsrkit baseline file"):
        baselines.load(other)
    path = fitted("mean").save(tmp_path / "mean.eqx")
    from dsrkit.baselines.reservoir import ESN

    with pytest.raises(ValueError, match="holds a 'mean' baseline"):
        ESN.load(path)
    raw = path.read_bytes()
    flipped = bytearray(raw)
    flipped[-5] ^= 0xFF  # a payload byte
    (tmp_path / "flipped.eqx").write_bytes(bytes(flipped))
    edited = raw.replace(b'"dt_": 0.01', b'"dt_": 0.02')  # a header byte: the learned sampling step
    assert edited != raw
    (tmp_path / "edited.eqx").write_bytes(edited)
    for name in ("flipped.eqx", "edited.eqx"):
        for reader in (baselines.load, dsrkit.load):
            with pytest.raises(ValueError, match=f"{name}.*corrupt"):
                reader(tmp_path / name)
    (tmp_path / "truncated.eqx").write_bytes(raw[:-7])
    with pytest.raises(ValueError, match="truncated"):
        baselines.load(tmp_path / "truncated.eqx")
    import jax

    model_file = dsrkit.save(dsrkit.models.ALRNN(3, 6, 1, key=jax.random.key(0)), tmp_path / "alrnn.eqx")
    with pytest.raises(ValueError, match=r"holds a dsrkit model \(ALRNN\), not a baseline"):
        baselines.load(model_file)
    with pytest.raises(FileNotFoundError):
        baselines.load(tmp_path / "missing.npz")


@pytest.mark.parametrize("name", ALL)
def test_divergence_is_reported_not_raised(name):
    """Moving the recorded training range far away makes every free run 'escape' at its first generated step:
    status diverged, NaN from there on, the given observation kept."""
    m = fitted(name)
    saved = (m.data_min_.copy(), m.data_max_.copy())
    try:
        m.data_min_, m.data_max_ = np.full(3, 50.0), np.full(3, 50.01)
        Y = m.generate(TEST[:10], 20)
        assert m.status_ == "diverged" and "step 1" in m.reason_
        assert Y.shape == (20, 3)
        np.testing.assert_array_equal(Y[0], TEST[9])
        assert np.isnan(Y[1:]).all()
    finally:
        m.data_min_, m.data_max_ = saved
    m.generate(TEST[0], 5)
    assert m.status_ == "ok"


def test_real_blow_up_is_diverged_for_sindy_and_edmd():
    """An unstable linear model extrapolated far beyond its training range must end as 'diverged'."""
    t = np.arange(200)
    X = np.stack([np.exp(0.01 * t), 0.5 * np.exp(0.005 * t)], axis=1)
    for name, kw in [("edmd", dict(degree=1)), ("sindy", dict(degree=1, threshold=1e-4))]:
        if name == "sindy" and not _has_pysindy():
            continue
        m = baselines.get(name, **kw).fit(X, dt=1.0)
        Y = m.generate(X[-1], 2000)
        assert m.status_ == "diverged", name
        assert np.isnan(Y[-1]).all() and np.isfinite(Y[:50]).all()


def _has_pysindy():
    try:
        import pysindy  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("name", ALL)
def test_bad_input_is_rejected_clearly(name):
    _available(name)
    m = baselines.get(name, **FAST[name])
    with pytest.raises(RuntimeError, match="not fitted"):
        m.generate(TEST[0], 5)
    nan = TRAIN.copy()
    nan[7, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite.*t=7, dim=1"):
        m.fit(nan)
    with pytest.raises(ValueError, match=r"time \(T, N\)|\(T, N\)"):
        m.fit(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="needs at least"):
        m.fit(TRAIN[:1])
    with pytest.raises(TypeError, match="seed"):
        m.fit(TRAIN, seed=1.5)
    f = fitted(name)
    with pytest.raises(ValueError, match=r"\(3,\).*got shape \(4,\)"):
        f.generate(np.zeros(4), 5)
    with pytest.raises(ValueError, match="NaN"):
        f.generate(np.array([0.0, np.nan, 0.0]), 5)
    with pytest.raises(ValueError, match="n_steps"):
        f.generate(TEST[0], 0)
    with pytest.raises(TypeError, match="n_steps"):
        f.forecast(TEST[:5], 2.5)


def test_failed_fit_generates_nan_without_raising():
    """A fit that cannot produce a model is a 'failed' status, and its free runs are NaN (never an exception)."""
    m = baselines.get("edmd", degree=1, residual_threshold=1e-300)
    m.fit(TRAIN + 0.3 * np.random.default_rng(0).normal(size=TRAIN.shape))
    assert m.status_ == "failed" and "residual" in m.reason_
    Y = m.generate(TEST[0], 5)
    assert Y.shape == (5, 3) and np.isnan(Y[1:]).all()
    assert m.status_ == "failed"


def test_sindy_recovers_lorenz_equations():
    """On clean Lorenz data (physical units) SINDy finds the right terms with coefficients within 2 %."""
    pytest.importorskip("pysindy")
    m = baselines.get("sindy", degree=2, threshold=0.5, differentiation="finite_difference").fit(_RAW, dt=0.01)
    C = dict(zip(m.feature_names_, m.coefficients_.T))
    np.testing.assert_allclose(C["x0"], [-10, 28, 0], atol=0.3)
    np.testing.assert_allclose(C["x1"], [10, -1, 0], atol=0.2)
    np.testing.assert_allclose(C["x0 x2"], [0, -1, 0], atol=0.02)
    np.testing.assert_allclose(C["x0 x1"], [0, 0, 1], atol=0.02)
    np.testing.assert_allclose(C["x2"], [0, 0, -8 / 3], atol=0.06)
    eq = m.equations(precision=1)
    assert eq[0].startswith("x0' = -10.0 x0 + 10.0 x1") and len(eq) == 3
    # short-term forecast follows the data (RK4 of the learned field)
    Y = m.generate(_RAW[0], 15)
    np.testing.assert_allclose(Y, _RAW[:15], atol=0.2)


def test_last_value_and_mean_are_exact():
    Y = baselines.get("last_value").fit(TRAIN).forecast(TEST[:5], 4)
    np.testing.assert_array_equal(Y, np.repeat(TEST[4:5], 4, axis=0))
    Y = baselines.get("mean").fit([TRAIN[:100], TRAIN[100:]]).forecast(TEST[:5], 3)
    np.testing.assert_allclose(Y, np.repeat(TRAIN.mean(0)[None], 3, axis=0), atol=1e-12)


def test_parroting_copies_the_continuation_of_the_best_match():
    m = baselines.get("parroting", match_length=5).fit(TRAIN)
    np.testing.assert_array_equal(m.forecast(TRAIN[100:110], 20), TRAIN[110:130])


def test_nvar_is_exact_on_a_linear_autoregression():
    """x_{t+1} = A x_t is inside NVAR's feature span (degree 1): the fit and the free run are exact."""
    A = np.array([[0.99, -0.1], [0.1, 0.99]])
    X = [np.array([1.0, 0.0])]
    for _ in range(300):
        X.append(A @ X[-1])
    X = np.array(X)
    m = baselines.get("nvar", delays=1, degree=1, ridge=1e-12).fit(X)
    np.testing.assert_allclose(m.forecast(X[:50], 100), X[50:150], atol=1e-6)


@pytest.mark.parametrize("name", ["nvar", "havok", "lstm"])
def test_a_short_context_is_completed_from_the_training_data_before_the_nearest_state(name, tmp_path):
    """A delay or warm-up model given fewer past rows than it needs takes them from the training data before the
    nearest training state, shifted to join the given row (method of analogues). From an observation that is a
    training row, one observation gives the same free run as that row with its true past; from any other it
    equals the analogue's past, offset; a saved and loaded model does the same. Repeating the first row (the
    former padding) fails the first check: the past of a training row is not constant."""
    m = baselines.get(name, **FAST[name]).fit(TRAIN, seed=0)
    need = m._context_steps()
    assert need > 1 and m.analogues_.shape == TRAIN.shape
    t = 150
    np.testing.assert_array_equal(m.generate(TRAIN[t], 30), m.generate(TRAIN[t - need + 1:t + 1], 30))
    x0 = TEST[7]
    i = int(np.argmin((((TRAIN - x0) / (TRAIN.max(0) - TRAIN.min(0))) ** 2).sum(1)))
    assert i >= need - 1
    past = TRAIN[i - need + 1:i] + (x0 - TRAIN[i])
    np.testing.assert_array_equal(m.generate(x0, 30), m.generate(np.vstack([past, x0]), 30))
    back = baselines.Reconstructor.load(m.save(tmp_path / "m.dsrk"))
    np.testing.assert_array_equal(back.generate(x0, 30), m.generate(x0, 30))


def test_plrnn_family_fits_seeds_as_one_population_equal_to_single_fits():
    """fit_population: copy i equals fit(datasets[i], seed=seeds[i]) (float32 parameters to 1e-4 relative,
    vmapped against one member) and learns its own data's range; mismatched lengths are an error."""
    import equinox as eqx
    import jax

    m = baselines.get("alrnn", **FAST["alrnn"])
    data, seeds = [TRAIN[:200], TRAIN[100:]], [0, 3]
    copies = m.fit_population(data, seeds)
    for c, x, seed in zip(copies, data, seeds):
        alone = baselines.get("alrnn", **FAST["alrnn"]).fit(x, seed=seed)
        np.testing.assert_array_equal(c.data_min_, x.min(0))
        for a, b in zip(jax.tree_util.tree_leaves(eqx.filter(c.model_, eqx.is_array)),
                        jax.tree_util.tree_leaves(eqx.filter(alone.model_, eqx.is_array)), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
        assert c.best_epoch_ == alone.best_epoch_ and c.status_ == alone.status_
    assert not np.allclose(copies[0].model_.A, copies[1].model_.A)
    with pytest.raises(ValueError, match="one seed per dataset"):
        m.fit_population(data, [0])


def test_esn_continues_a_sine_wave():
    """A sine wave is easy for a reservoir: the closed-loop forecast stays within 2 % of the amplitude for 200 steps."""
    t = np.arange(1200)
    X = np.stack([np.sin(0.1 * t), np.cos(0.1 * t)], axis=1)
    m = baselines.get("esn", units=24, warmup=10, ridge=1e-8).fit(X[:1000])
    np.testing.assert_allclose(m.forecast(X[900:1000], 200), X[1000:1200], atol=0.02)


def test_missing_optional_dependency_names_the_install_hint(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pysindy", None)  # makes `import pysindy` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'dsrkit\[baselines\]'"):
        baselines.get("sindy").fit(TRAIN)


def test_plrnn_adapter_trains_with_adaptive_gtf_and_rejects_unknown_schemes():
    """scheme="adaptive_gtf" trains through AdaptiveGTF (other parameters than STF from the same seed and data);
    an unknown scheme is a clear error."""
    kw = dict(epochs=2, batches_per_epoch=3, sequence_length=20, hidden_dim=8, eval_every=0)
    gtf = baselines.get("shplrnn", scheme="adaptive_gtf", **kw).fit(TRAIN, seed=0)
    stf = baselines.get("shplrnn", scheme="stf", **kw).fit(TRAIN, seed=0)
    assert gtf.status_ in ("ok", "diverged") and gtf.model_.W1.shape == stf.model_.W1.shape
    assert not np.allclose(np.asarray(gtf.model_.W1), np.asarray(stf.model_.W1))
    with pytest.raises(ValueError, match=r"scheme must be one of \('stf', 'adaptive_gtf'\)"):
        baselines.get("alrnn", scheme="gtf").fit(TRAIN[:400])


# ---- the neural baselines' window trainer (baselines/_train.py) ---------------------------------------------------


def _one_step_loss(model, batch, cfg):
    """MSE of x_{t+1} ≈ model(x_t) over a batch of windows (B, length, N); module level: static for jit."""
    import jax
    import jax.numpy as jnp

    pred = jax.vmap(jax.vmap(model))(batch[:, :-1])
    return jnp.mean((pred - batch[:, 1:]) ** 2)


def _rotation_data(n=200):
    th = 0.3
    R = 0.98 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    x = [np.array([1.0, 0.0])]
    for _ in range(n - 1):
        x.append(R @ x[-1])
    return [np.array(x)]


def _window_loss(model, trajectories, length=5):
    import jax.numpy as jnp

    x = trajectories[0]
    batch = np.stack([x[s:s + length] for s in range(len(x) - length + 1)]).astype(np.float32)
    return float(_one_step_loss(model, jnp.asarray(batch), ()))


def test_neural_trainer_updates_parameters_and_lowers_the_loss():
    """fit_windows on a linear map x_{t+1} = R x_t (eqx.nn.Linear, 2-D): every parameter array changes, the loss
    over all windows falls by more than 10x, and the reported loss is that of the trained model's range."""
    import equinox as eqx
    import jax

    from dsrkit.baselines._train import fit_windows

    data = _rotation_data()
    model0 = eqx.nn.Linear(2, 2, dtype=np.float32, key=jax.random.key(0))
    model, last_loss, reason = fit_windows(model0, _one_step_loss, (), data, length=5, steps=300, batch_size=8,
                                           learning_rate=3e-2, seed=0, check_every=100)
    assert reason == ""
    for a, b in zip(jax.tree_util.tree_leaves(model0), jax.tree_util.tree_leaves(model), strict=True):
        assert np.max(np.abs(np.asarray(a) - np.asarray(b))) > 1e-3
    before, after = _window_loss(model0, data), _window_loss(model, data)
    assert after < before / 10
    assert np.isfinite(last_loss) and last_loss < before / 10


def test_neural_trainer_non_finite_first_chunk_returns_initial_model_with_reason():
    """A learning rate so large that the loss overflows in the first chunk: the initial model comes back with a
    reason saying so (the baselines turn it into status 'failed'), never a silent success."""
    import equinox as eqx
    import jax

    from dsrkit.baselines._train import fit_windows

    data = _rotation_data()
    model0 = eqx.nn.Linear(2, 2, dtype=np.float32, key=jax.random.key(0))
    model, last_loss, reason = fit_windows(model0, _one_step_loss, (), data, length=5, steps=20, batch_size=8,
                                           learning_rate=1e30, seed=0, check_every=10)
    assert reason.startswith("non-finite loss in the first") and np.isnan(last_loss)
    for a, b in zip(jax.tree_util.tree_leaves(model0), jax.tree_util.tree_leaves(model), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, match", [(dict(learning_rate=float("inf")), "learning_rate"),
                                           (dict(learning_rate=float("nan")), "learning_rate"),
                                           (dict(learning_rate=0.0), "learning_rate"),
                                           (dict(steps=0), "steps")])
def test_neural_trainer_rejects_non_finite_or_empty_settings(kwargs, match):
    import equinox as eqx
    import jax

    from dsrkit.baselines._train import fit_windows

    kw = dict(length=5, steps=20, batch_size=8, learning_rate=1e-2, seed=0)
    with pytest.raises(ValueError, match=match):
        fit_windows(eqx.nn.Linear(2, 2, dtype=np.float32, key=jax.random.key(0)), _one_step_loss, (), _rotation_data(),
                    **{**kw, **kwargs})


@pytest.mark.parametrize("name, attr", [("node", "vector_field_"), ("lstm", "net_"), ("gru", "net_")])
def test_neural_baselines_return_trained_not_initial_parameters(name, attr):
    """The fitted network of each neural baseline differs from its initialisation (same seed) in every array."""
    import equinox as eqx
    import jax

    m = fitted(name)
    init = m._skeleton(attr, key=jax.random.key(0))
    trained = getattr(m, attr)
    pairs = zip(jax.tree_util.tree_leaves(eqx.filter(init, eqx.is_inexact_array)),
                jax.tree_util.tree_leaves(eqx.filter(trained, eqx.is_inexact_array)), strict=True)
    assert all(np.max(np.abs(np.asarray(a) - np.asarray(b))) > 1e-6 for a, b in pairs)
