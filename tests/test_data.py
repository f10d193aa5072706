"""Dataset: validation, file round trips, standardisation, splitting, and each error triggered by a real bad file."""

import gzip

import numpy as np
import pytest

from dsrkit.data import Dataset


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(50, 3))


def test_shapes_are_normalised():
    ds = Dataset(np.arange(10.0), dt=0.1)
    assert ds.dim == 1 and ds.lengths == [10] and ds.trajectories[0].dtype == np.float64
    ds3 = Dataset(np.zeros((4, 20, 2)), dt=0.5)
    assert len(ds3) == 4 and ds3.dim == 2 and ds3.names == ["x0", "x1"]


@pytest.mark.parametrize("suffix", [".npz", ".npy", ".csv", ".csv.gz"])
def test_round_trip_is_exact(tmp_path, X, suffix):
    ds = Dataset(X, dt=0.01, names=["a", "b", "c"])
    path = ds.save(tmp_path / f"d{suffix}")
    back = Dataset.load(path, dt=0.01) if suffix == ".npy" else Dataset.load(path)
    np.testing.assert_array_equal(back.trajectories[0], X)  # repr() in CSV keeps every bit
    assert back.dt == 0.01
    if suffix != ".npy":
        assert back.names == ["a", "b", "c"]


def test_npz_keeps_several_trajectories_of_different_lengths(tmp_path, X):
    ds = Dataset([X, X[:20]], dt=0.2)
    back = Dataset.load(ds.save(tmp_path / "d.npz"))
    assert back.lengths == [50, 20] and back.dt == 0.2


def test_save_never_overwrites(tmp_path, X):
    path = Dataset(X, dt=1.0).save(tmp_path / "d.npz")
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        Dataset(X * 2, dt=1.0).save(path)
    assert path.read_bytes() == before


def test_standardize_is_invertible(X):
    ds, st = Dataset([X * 5 + 3, X], dt=1.0).standardize()
    allx = ds.concatenated()
    np.testing.assert_allclose(allx.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(allx.std(0), 1, atol=1e-12)
    np.testing.assert_allclose(st.inverse(ds.trajectories[0]), X * 5 + 3, atol=1e-12)


def test_split_by_time(X):
    train, test = Dataset(X, dt=1.0).split(0.8)
    np.testing.assert_array_equal(np.concatenate([train[0], test[0]]), X)
    assert train.lengths == [40]
    with pytest.raises(ValueError, match="too short to split"):
        Dataset(X[:3], dt=1.0).split(0.9)


def test_require_length_names_the_short_trajectory(X):
    with pytest.raises(ValueError, match="trajectory 1 has 20"):
        Dataset([X, X[:20]], dt=1.0).require_length(30, "training with windows of 30")


# -- every error from a real bad file -------------------------------------------------------------------------


def test_not_numeric_csv(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n3,oops\n")
    with pytest.raises(TypeError, match=r"bad.csv: line 3: not numeric: 'oops'"):
        Dataset.load(p, dt=1.0)


def test_nan_reports_first_positions(tmp_path):
    p = tmp_path / "nan.csv.gz"
    with gzip.open(p, "wt") as f:
        f.write("1,2\n3,nan\n4,5\ninf,6\n")
    with pytest.raises(ValueError, match=r"nan.csv.gz: 2 non-finite value\(s\).*\(t=1, dim=1\), \(t=3, dim=0\)"):
        Dataset.load(p, dt=1.0)


def test_wrong_number_of_dimensions(tmp_path):
    p = tmp_path / "four.npy"
    np.save(p, np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"four.npy: .*expected a \(T, N\) array .*got shape \(2, 3, 4, 5\)"):
        Dataset.load(p, dt=1.0)


def test_mismatched_dimensions_across_trajectories(tmp_path):
    p = tmp_path / "mixed.npz"
    np.savez(p, traj_0=np.zeros((10, 3)), traj_1=np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"mixed.npz: all trajectories must have the same number of variables"):
        Dataset.load(p, dt=1.0)


def test_unknown_extension(tmp_path):
    p = tmp_path / "data.xlsx"
    p.write_bytes(b"PK")
    with pytest.raises(ValueError, match=r"data.xlsx: unknown extension '.xlsx'"):
        Dataset.load(p, dt=1.0)


def test_corrupt_npz(tmp_path):
    p = tmp_path / "corrupt.npz"
    p.write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match=r"corrupt.npz: not a NumPy .npz archive"):
        Dataset.load(p, dt=1.0)


def test_ragged_csv(tmp_path):
    p = tmp_path / "ragged.csv"
    p.write_text("1,2\n3\n")
    with pytest.raises(ValueError, match=r"ragged.csv: rows have different numbers of columns"):
        Dataset.load(p, dt=1.0)


def test_series_too_short_for_the_windows(tmp_path):
    p = tmp_path / "short.csv"
    p.write_text("# dt = 0.1\n" + "\n".join(f"{i},{i}" for i in range(12)) + "\n")
    ds = Dataset.load(p)
    with pytest.raises(ValueError, match=r"training with windows of 200 \+ 1 steps needs at least 201 time steps.*has 12"):
        ds.require_length(201, "training with windows of 200 + 1 steps")


def test_missing_dt_is_asked_for(tmp_path):
    p = tmp_path / "nodt.npy"
    np.save(p, np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"nodt.npy: no sampling step .* pass dt="):
        Dataset.load(p)


def test_object_arrays_are_rejected(tmp_path):
    p = tmp_path / "obj.npy"
    np.save(p, np.array([[1, "a"]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"obj.npy: could not read"):
        Dataset.load(p, dt=1.0)
    with pytest.raises(TypeError, match="expected numeric data"):
        Dataset(np.array([["a", "b"]]), dt=1.0)


def test_bad_dt_and_names(X):
    with pytest.raises(ValueError, match="dt must be a positive"):
        Dataset(X, dt=0.0)
    with pytest.raises(ValueError, match=r"2 variable name\(s\).*3 column"):
        Dataset(X, dt=1.0, names=["a", "b"])
