"""The plain-array export (dsrkit.export): a model exported to .npz or .json and stepped with plain NumPy (the
steps of the export's docstring, written out here without dsrkit) reproduces `dsrkit.rollout.generate`.

Tolerance: both run in float64 from the same float32 parameters; over 200 steps of these contracting,
freshly initialised models the two free runs agree to 1e-9 absolute (only the order of floating-point sums
differs between NumPy and XLA)."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from dsrkit.export import export_model, read_export
from dsrkit.models import ALRNN, PLRNN, DendPLRNN, ShallowPLRNN
from dsrkit.rollout import generate

ATOL = 1e-9
STEPS = 200


def relu(v):
    return np.maximum(v, 0.0)


def numpy_step(p: dict, meta: dict):
    """The one-step map of an export, in plain NumPy (the export module's docstring)."""
    cls, cfg = meta["model_class"], meta["config"]
    if cls == "PLRNN":
        return lambda z: p["A"] * z + p["W"] @ relu(z) + p["h"]
    if cls == "ALRNN":
        P = cfg["relu_units"]

        def step(z):
            phi = z.copy()
            phi[-P:] = relu(z[-P:])
            return p["A"] * z + p["W"] @ phi + p["h"]
        return step
    if cls == "ShallowPLRNN":
        def step(z):
            u = p["W2"] @ z
            hidden = relu(u + p["h2"]) - (relu(u) if cfg["clipped"] else 0.0)
            return p["A"] * z + p["W1"] @ hidden + p["h1"]
        return step
    if cls == "DendPLRNN":
        def step(z):
            basis = relu(z[:, None] - p["H"]) - (relu(z)[:, None] if cfg["clipped"] else 0.0)
            return p["A"] * z + p["W"] @ (basis @ p["alpha"]) + p["h"]
        return step
    raise AssertionError(cls)


def numpy_free_run(p: dict, meta: dict, x0: np.ndarray, n: int) -> np.ndarray:
    p = {k: np.asarray(v, dtype=np.float64) for k, v in p.items()}
    if meta["observation"]["kind"] == "identity":
        z, read = np.concatenate([x0, p["L"] @ x0]), (lambda z: z[: meta["obs_dim"]])
    else:
        z, read = np.linalg.pinv(p["B"]) @ (x0 - p["b"]), (lambda z: p["B"] @ z + p["b"])
    step, out = numpy_step(p, meta), [read(z)]
    for _ in range(n - 1):
        z = step(z)
        out.append(read(z))
    return np.array(out)


def _perturbed(model, seed):
    """A model with every parameter moved off its initialisation (h = 0 and the identity-like init would let a
    wrong bias or a missing diagonal mask go unnoticed)."""
    import equinox as eqx

    params, static = eqx.partition(model, eqx.is_inexact_array)
    leaves, tree = jax.tree_util.tree_flatten(params)
    rng = np.random.default_rng(seed)
    leaves = [x + 0.05 * rng.standard_normal(x.shape).astype(x.dtype) for x in leaves]
    return eqx.combine(jax.tree_util.tree_unflatten(tree, leaves), static)


MODELS = {
    "plrnn": lambda k: PLRNN(3, 6, key=k),
    "alrnn": lambda k: ALRNN(3, 8, 2, key=k),
    "shplrnn": lambda k: ShallowPLRNN(3, 4, 12, key=k),
    "shplrnn_clipped": lambda k: ShallowPLRNN(3, 3, 10, clipped=True, key=k),
    "dendplrnn": lambda k: DendPLRNN(2, 4, 3, key=k),
    "alrnn_affine": lambda k: ALRNN(2, 6, 2, key=k, observation="affine"),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("fmt", ["npz", "json"])
def test_export_steps_in_plain_numpy_like_generate(tmp_path, name, fmt):
    model = _perturbed(MODELS[name](jax.random.key(1)), seed=2)
    path = export_model(model, tmp_path / f"m.{fmt}", format=fmt)
    params, meta = read_export(path)
    assert meta["model_class"] == type(model).__name__ and meta["latent_dim"] == model.latent_dim
    assert meta["equation"] == model.step_equation() and meta["standardizer"] is None
    x0 = np.random.default_rng(0).standard_normal(model.obs_dim)
    expected = generate(model, x0, STEPS, dtype=np.float64)
    got = numpy_free_run(params, meta, x0, STEPS)
    assert np.all(np.isfinite(expected))
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


def test_npz_export_opens_without_pickle_and_json_is_plain(tmp_path):
    model = ALRNN(3, 8, 2, key=jax.random.key(0))
    with np.load(export_model(model, tmp_path / "m.npz"), allow_pickle=False) as f:
        assert {"A", "W", "h", "L", "metadata"} == set(f.files)
        assert json.loads(str(f["metadata"]))["config"]["relu_units"] == 2
    obj = json.loads(export_model(model, tmp_path / "m.json", format="json").read_text())
    assert set(obj) == {"metadata", "parameters"} and len(obj["parameters"]["W"]) == 8


def test_export_refuses_to_overwrite_unless_forced(tmp_path):
    model = PLRNN(2, 3, key=jax.random.key(0))
    path = tmp_path / "m.npz"
    path.write_bytes(b"the user's file")
    with pytest.raises(FileExistsError, match="m.npz"):
        export_model(model, path)
    assert path.read_bytes() == b"the user's file"
    export_model(model, path, force=True)
    assert read_export(path)[1]["model_class"] == "PLRNN"


def test_export_refuses_bad_arguments(tmp_path):
    model = PLRNN(2, 3, key=jax.random.key(0))
    with pytest.raises(ValueError, match="format must be one of"):
        export_model(model, tmp_path / "m.csv", format="csv")
    with pytest.raises(TypeError, match="dsrkit model"):
        export_model(object(), tmp_path / "m.npz")
    with pytest.raises(FileNotFoundError, match="no such run directory"):
        export_model(tmp_path / "nothing", tmp_path / "m.npz")


def test_export_of_a_run_carries_its_standardisation_and_steps_in_raw_units(tmp_path):
    """From a run directory: mean/std, dt and names of the run; raw data → standardise → NumPy free run →
    un-standardise equals `generate` of the run's model mapped the same way."""
    from dsrkit import Dataset, runs
    from dsrkit.pipeline import train_run
    from dsrkit.training import config_from_options

    rng = np.random.default_rng(0)
    t = np.arange(1500) * 0.05
    X = np.stack([10 + 3 * np.sin(t), -2 + 0.5 * np.cos(t)], axis=1) + 0.01 * rng.standard_normal((1500, 2))
    ds = Dataset([X], 0.05, ["volt", "gate"])
    cfg = config_from_options("alrnn", latent_dim=4, relu_units=1, scheme="stf", interval=4, data=ds, epochs=1,
                              seq_len=20)
    _, scaler, run_dir = train_run(ds, cfg, tmp_path / "run", progress=False)
    params, meta = read_export(export_model(run_dir, tmp_path / "run.npz"))
    assert meta["names"] == ["volt", "gate"] and meta["dt"] == 0.05
    np.testing.assert_allclose(meta["standardizer"]["mean"], scaler.mean)
    mean, std = np.array(meta["standardizer"]["mean"]), np.array(meta["standardizer"]["std"])
    model = runs.Run.open(run_dir).model
    raw = numpy_free_run(params, meta, (X[0] - mean) / std, 100) * std + mean
    np.testing.assert_allclose(raw, scaler.inverse(generate(model, scaler.transform(X[0]), 100, dtype=np.float64)),
                               rtol=0, atol=ATOL * 100)
