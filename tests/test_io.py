"""save/load: bit-exact round trip for every model, run directories, refusal to overwrite, clear errors on
corrupt, truncated, foreign and mismatched files."""

import json
import struct

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dsrkit  # noqa: F401
from dsrkit._files import checksum
from dsrkit.io import MAGIC, load, load_metadata, save
from dsrkit.models import ALRNN, PLRNN, DendPLRNN, ShallowPLRNN
from dsrkit.training import generate


@pytest.mark.parametrize("build", [
    lambda k: ALRNN(3, 10, 2, key=k),
    lambda k: PLRNN(3, 5, key=k, dtype=jnp.float64),
    lambda k: ShallowPLRNN(3, 4, 16, clipped=True, key=k, observation="affine"),
    lambda k: DendPLRNN(3, 5, 3, key=k),
], ids=["alrnn", "plrnn64", "shplrnn-affine", "dend"])
def test_round_trip_is_bit_exact(tmp_path, build):
    """A saved and reloaded model has identical parameters and generates an identical trajectory (bit for bit)."""
    model = build(jax.random.key(7))
    path = save(model, tmp_path / "m.eqx")
    back = load(path)
    assert type(back) is type(model) and back.config == model.config
    for a, b in zip(jax.tree_util.tree_leaves(model), jax.tree_util.tree_leaves(back)):
        if hasattr(a, "dtype"):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    x0 = np.array([0.1, -0.3, 0.2])
    y = generate(back, x0, 50)
    assert y.dtype == model.dtype
    np.testing.assert_array_equal(generate(model, x0, 50), y)


def test_run_directory_and_metadata(tmp_path):
    """load() accepts a run directory holding model.eqx; metadata stored by save() comes back."""
    model = ALRNN(3, 6, 1, key=jax.random.key(0))
    (tmp_path / "run").mkdir()
    save(model, tmp_path / "run" / "model.eqx", metadata={"mean": [1.0, 2.0, 3.0]})
    (tmp_path / "run" / "config.json").write_text("{}")
    back = load(tmp_path / "run")
    np.testing.assert_array_equal(back.W, model.W)
    assert load_metadata(tmp_path / "run") == {"mean": [1.0, 2.0, 3.0]}
    with pytest.raises(ValueError, match="without model.eqx"):
        load(tmp_path)


def test_never_overwrites_silently(tmp_path):
    model = ALRNN(3, 6, 1, key=jax.random.key(0))
    path = save(model, tmp_path / "m.eqx")
    other = ALRNN(3, 6, 1, key=jax.random.key(1))
    with pytest.raises(FileExistsError, match="overwrite"):
        save(other, path)
    np.testing.assert_array_equal(load(path).W, model.W)
    save(other, path, overwrite=True)
    np.testing.assert_array_equal(load(path).W, other.W)


def test_corrupt_truncated_foreign_and_mismatched_files(tmp_path):
    """Each damaged file raises ValueError naming the file and the problem."""
    path = save(PLRNN(3, 5, key=jax.random.key(0)), tmp_path / "m.eqx")
    raw = path.read_bytes()

    def write(name, data):
        p = tmp_path / name
        p.write_bytes(data)
        return p

    flipped = bytearray(raw)
    flipped[-3] ^= 0xFF
    cases = {
        "truncated.eqx": (raw[:-10], "truncated"),
        "header-cut.eqx": (raw[: len(MAGIC) + 4], "truncated"),
        "flipped.eqx": (bytes(flipped), "corrupt"),
        "foreign.eqx": (b"PK\x03\x04 not a model", "not a dsrkit model"),
    }
    # A header that claims a different configuration than the parameters it carries.
    n_head = struct.unpack("<Q", raw[len(MAGIC):len(MAGIC) + 8])[0]
    header = json.loads(raw[len(MAGIC) + 8:len(MAGIC) + 8 + n_head])
    header["config"]["latent_dim"] = 7
    header["sha256"] = checksum(header, raw[len(MAGIC) + 8 + n_head:])  # re-signed: only the shapes disagree
    head = json.dumps(header).encode()
    cases["mismatch.eqx"] = (MAGIC + struct.pack("<Q", len(head)) + head + raw[len(MAGIC) + 8 + n_head:],
                             "do not match")
    header["format_version"] = 99
    head = json.dumps(header).encode()
    cases["version.eqx"] = (MAGIC + struct.pack("<Q", len(head)) + head, "format version")
    for name, (data, message) in cases.items():
        p = write(name, data)
        with pytest.raises(ValueError, match=message) as err:
            load(p)
        assert name in str(err.value)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.eqx")
    with pytest.raises(TypeError, match="dsrkit model"):
        save(object(), tmp_path / "x.eqx")


def _rewrite_header(raw: bytes, change) -> bytes:
    """The file with its header changed by `change(header)` and signed again."""
    n_head = struct.unpack("<Q", raw[len(MAGIC):len(MAGIC) + 8])[0]
    header = json.loads(raw[len(MAGIC) + 8:len(MAGIC) + 8 + n_head])
    payload = raw[len(MAGIC) + 8 + n_head:]
    change(header)
    header["sha256"] = checksum(header, payload)
    head = json.dumps(header).encode()
    return MAGIC + struct.pack("<Q", len(head)) + head + payload


def test_model_files_say_their_kind_and_files_without_it_are_models(tmp_path):
    """Model files record "kind": "model"; version-2 files written before "kind" existed still load."""
    model = ALRNN(3, 6, 1, key=jax.random.key(0))
    path = save(model, tmp_path / "m.eqx")
    raw = path.read_bytes()
    assert b'"kind": "model"' in raw
    old = tmp_path / "old.eqx"
    old.write_bytes(_rewrite_header(raw, lambda h: h.pop("kind")))
    np.testing.assert_array_equal(load(old).W, model.W)
    other = tmp_path / "other.eqx"
    other.write_bytes(_rewrite_header(raw, lambda h: h.update(kind="dataset")))
    with pytest.raises(ValueError, match="other.eqx holds a 'dataset'"):
        load(other)


def test_one_format_for_models_and_baselines(tmp_path):
    """dsrkit.save/load take a fitted baseline as well: same magic, header and checksum; a run directory works
    the same way; a baseline whose hyperparameters were edited (and re-signed) into invalid ones is refused."""
    from dsrkit import baselines

    x = np.random.default_rng(0).normal(size=(200, 2)).cumsum(axis=0) * 0.1
    m = baselines.get("nvar", delays=2, ridge=1e-3).fit(x)
    (tmp_path / "run").mkdir()
    path = save(m, tmp_path / "run", metadata={"source": "test"})
    assert path == tmp_path / "run" / "model.eqx" and path.read_bytes().startswith(MAGIC)
    back = load(tmp_path / "run")
    assert type(back) is type(m) and back.get_params() == m.get_params()
    np.testing.assert_array_equal(back.generate(x[-5:], 40), m.generate(x[-5:], 40))
    assert load_metadata(path) == {"source": "test"}
    with pytest.raises(FileExistsError, match="overwrite"):
        save(m, path)
    raw = path.read_bytes()
    flipped = bytearray(raw)
    flipped[-1] ^= 0x01
    (tmp_path / "flipped.eqx").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="flipped.eqx is corrupt"):
        load(tmp_path / "flipped.eqx")
    (tmp_path / "edited.eqx").write_bytes(_rewrite_header(raw, lambda h: h["config"].update(ridge=-1.0)))
    with pytest.raises(ValueError, match=r"edited.eqx has hyperparameters .*ridge must be a finite number"):
        load(tmp_path / "edited.eqx")
    (tmp_path / "unknown.eqx").write_bytes(_rewrite_header(raw, lambda h: h.update({"class": "transformer"})))
    with pytest.raises(ValueError, match="unknown.eqx: unknown baseline 'transformer'"):
        load(tmp_path / "unknown.eqx")
