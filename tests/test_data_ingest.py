"""Dataset.load reading data as users hold it: time columns (named, inferred, given, refused), column selection,
trajectory ids, .npz time arrays, the missing-dt message, a large CSV read exactly, and the provenance record.

Tolerances: dt read from a time column is compared exactly (==) to the step written, because load rounds the mean
step to 12 significant digits; data values written with repr() are compared exactly; STEP_RTOL (1e-3, relative to
the median step) is the spacing tolerance under test.
"""

import json

import numpy as np
import pytest

from dsrkit.data import STEP_RTOL, Dataset

DT = 0.01


def _lorenz(n: int = 300, dt: float = DT) -> np.ndarray:
    """A chaotic (n, 3) trajectory (Euler steps of Lorenz-63 after a transient): no column is monotone."""
    x, out = np.array([1.0, 1.0, 1.0]), []
    for k in range(n + 500):
        dx = np.array([10 * (x[1] - x[0]), x[0] * (28 - x[2]) - x[1], x[0] * x[1] - 8 / 3 * x[2]])
        x = x + 0.5 * dt * dx
        if k >= 500:
            out.append(x.copy())
    return np.array(out)


def _cell(v) -> str:
    return repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)


def _write_csv(path, header, columns, comment=None):
    """Write columns (each a (T,) sequence) with repr() so that every float is kept exactly."""
    lines = [comment] if comment else []
    lines += [",".join(header)] if header else []
    lines += [",".join(_cell(v) for v in row) for row in zip(*columns)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def X():
    return _lorenz()


def test_named_time_column_gives_dt_and_is_not_a_variable(tmp_path, X):
    """Header time_s,x,y,z: 3 variables, dt exactly the written step, the time column recorded as inferred."""
    t = np.arange(len(X)) * DT
    p = _write_csv(tmp_path / "named.csv", ["time_s", "x", "y", "z"], [t, *X.T])
    ds = Dataset.load(p)
    assert ds.names == ["x", "y", "z"] and ds.dim == 3 and ds.lengths == [len(X)]
    assert ds.dt == DT
    np.testing.assert_array_equal(ds[0], X)
    tc = ds.provenance["time_column"]
    assert tc["name"] == "time_s" and tc["inferred"] is True and tc["how"] == "name" and tc["index"] == 0
    assert ds.provenance["dt_source"] == "time column"
    assert {"column": "time_s", "index": 0, "reason": "time column"} in ds.provenance["dropped"]


@pytest.mark.parametrize("name", ["t", "Time", "TIME_S", "t[s]", "time (ms)", "timestamp", "seconds", "t_ms"])
def test_usual_time_names_are_recognised(tmp_path, X, name):
    """Every usual spelling (any case, unit suffixes) marks the time column, even when its values would not."""
    t = 5.0 + np.arange(len(X)) * 0.5
    p = _write_csv(tmp_path / "n.csv", [name, "a", "b", "c"], [t, *X.T])
    ds = Dataset.load(p)
    assert ds.names == ["a", "b", "c"] and ds.dt == 0.5
    assert ds.provenance["time_column"]["name"] == name


def test_headerless_evenly_spaced_first_column_is_inferred_as_time(tmp_path, X):
    """No header; the first column 0, 0.01, 0.02, ... is strictly increasing and even, so it is the time column."""
    t = np.arange(len(X)) * DT
    p = _write_csv(tmp_path / "nohead.csv", None, [t, *X.T])
    ds = Dataset.load(p)
    assert ds.dim == 3 and ds.dt == DT and ds.names == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(ds[0], X)
    tc = ds.provenance["time_column"]
    assert tc == {"name": "column 0", "index": 0, "inferred": True, "how": "values", "stamps": "numbers"}


def test_printed_timestamps_within_tolerance_are_even(tmp_path, X):
    """Stamps printed with 6 decimals (jitter ~1e-6, far below STEP_RTOL * dt = 1e-5) still count as even;
    dt is the mean step, within 1e-6 relative of the true 1/60."""
    dt = 1 / 60
    t = np.arange(len(X)) * dt
    p = tmp_path / "rounded.csv"
    rows = [f"{a:.6f},{_cell(b)},{_cell(c)},{_cell(d)}" for a, (b, c, d) in zip(t, X)]
    p.write_text("t,x,y,z\n" + "\n".join(rows) + "\n")
    ds = Dataset.load(p)
    assert ds.dt == pytest.approx(dt, rel=1e-6)


def test_chaotic_first_column_is_not_a_time_column(tmp_path, X):
    """A headerless file of chaotic variables: no column is monotone, so nothing is taken for time."""
    p = _write_csv(tmp_path / "chaos.csv", None, list(X.T))
    ds = Dataset.load(p, dt=DT)
    assert ds.dim == 3 and ds.provenance["time_column"] is None
    assert ds.provenance["dt_source"] == "argument" and ds.provenance["dropped"] == []


def test_time_col_false_never_infers(tmp_path, X):
    """time_col=False keeps an evenly spaced column as a variable."""
    t = np.arange(len(X)) * DT
    p = _write_csv(tmp_path / "keep.csv", ["t", "x", "y", "z"], [t, *X.T])
    ds = Dataset.load(p, dt=DT, time_col=False)
    assert ds.names == ["t", "x", "y", "z"] and ds.provenance["time_column"] is None


def test_explicit_time_col_by_name_and_index(tmp_path, X):
    """time_col given by name or index (also as a string of digits) is used and recorded as not inferred."""
    clock = 100 + np.arange(len(X)) * 0.25
    p = _write_csv(tmp_path / "clock.csv", ["x", "clock", "y"], [X[:, 0], clock, X[:, 1]])
    for spec in ("clock", 1, "1", -2):
        ds = Dataset.load(p, time_col=spec)
        assert ds.names == ["x", "y"] and ds.dt == 0.25
        assert ds.provenance["time_column"]["inferred"] is False
    with pytest.raises(ValueError, match=r"clock.csv: time_col='tt' is not a column.*'x'.*'clock'.*'y'"):
        Dataset.load(p, time_col="tt")


def test_irregular_stamps_are_refused_naming_column_steps_and_row(tmp_path, X):
    """Steps of 0.01 then one of 0.03: ValueError naming the column, the step range, the line, and 'resample'."""
    t = np.arange(len(X)) * DT
    t[50:] += 0.02
    p = _write_csv(tmp_path / "irregular.csv", ["time", "x", "y", "z"], [t, *X.T])
    with pytest.raises(ValueError, match="irregular.csv: the time column 'time' is not evenly spaced") as err:
        Dataset.load(p)
    msg = str(err.value)
    assert "resample" in msg and "from 0.01 to 0.03" in msg
    assert "line 52" in msg  # header is line 1, data row 0 line 2, row 50 (the first stamp off the grid) line 52
    assert "coarsely rounded" not in msg  # a step 3x the median is no rounding error


def test_decreasing_stamps_are_refused(tmp_path, X):
    """Time that restarts (two runs pasted together) is not increasing; the error suggests series_col."""
    t = np.concatenate([np.arange(150), np.arange(150)]) * DT
    p = _write_csv(tmp_path / "restart.csv", ["t", "x", "y", "z"], [t, *X.T])
    with pytest.raises(ValueError, match=r"'t' is not strictly increasing.*line 152.*resample.*series_col"):
        Dataset.load(p)


def test_dt_conflicting_with_the_time_column(tmp_path, X):
    """dt=0.02 against a column stepping 0.01 (relative difference 1 >> STEP_RTOL): ValueError naming both."""
    t = np.arange(len(X)) * DT
    p = _write_csv(tmp_path / "conflict.csv", ["t", "x", "y", "z"], [t, *X.T])
    with pytest.raises(ValueError, match=r"conflict.csv: the dt given \(0.02\) disagrees .*'t'.*\(0.01\)"):
        Dataset.load(p, dt=0.02)
    assert Dataset.load(p, dt=DT * (1 + STEP_RTOL / 2)).dt == DT  # within the tolerance: the column's step wins


def test_columns_keeps_the_given_variables_in_order(tmp_path, X):
    """columns=["z", "x"] keeps 2 variables in that order; indices count the variables left after time."""
    t = np.arange(len(X)) * DT
    p = _write_csv(tmp_path / "sel.csv", ["t", "x", "y", "z"], [t, *X.T])
    ds = Dataset.load(p, columns=["z", "x"])
    assert ds.names == ["z", "x"]
    np.testing.assert_array_equal(ds[0], X[:, [2, 0]])
    assert {"column": "y", "index": 2, "reason": "not selected"} in ds.provenance["dropped"]
    assert Dataset.load(p, columns=[2, 0]).names == ["z", "x"]
    assert Dataset.load(p, columns=["x", "z"], names=["a", "b"]).names == ["a", "b"]


def test_unknown_column_lists_the_available_ones(tmp_path, X):
    """An unknown name is a ValueError that lists the variables (the time column is not one)."""
    t = np.arange(len(X)) * DT
    p = _write_csv(tmp_path / "sel.csv", ["t", "x", "y", "z"], [t, *X.T])
    with pytest.raises(ValueError, match=r"sel.csv: columns: 'w' is not a variable.* 0: 'x', 1: 'y', 2: 'z'.*'t'"):
        Dataset.load(p, columns=["x", "w"])


def test_series_col_splits_trajectories_in_order_of_first_appearance(tmp_path, X):
    """Ids b, a, c (text) with 100, 120, 80 rows, time restarting per trajectory: 3 trajectories, right contents."""
    sizes = {"b": 100, "a": 120, "c": 80}
    ids = [k for k, n in sizes.items() for _ in range(n)]
    t = np.concatenate([np.arange(n) * DT for n in sizes.values()])
    p = _write_csv(tmp_path / "runs.csv", ["run", "t", "x", "y", "z"], [ids, t, *X.T])
    ds = Dataset.load(p, series_col="run")
    assert ds.lengths == [100, 120, 80] and ds.names == ["x", "y", "z"] and ds.dt == DT
    np.testing.assert_array_equal(ds[1], X[100:220])
    assert ds.provenance["series_ids"] == ["b", "a", "c"] and ds.provenance["series_column"] == "run"
    reasons = {d["column"]: d["reason"] for d in ds.provenance["dropped"]}
    assert reasons == {"run": "series id", "t": "time column"}


def test_series_col_interleaved_numeric_ids(tmp_path, X):
    """Integer ids on interleaved rows: rows are grouped per id in file order; ids recorded as ints."""
    ids = np.tile([7, 3], len(X) // 2)
    p = _write_csv(tmp_path / "inter.csv", ["id", "x", "y", "z"], [ids, *X.T])
    ds = Dataset.load(p, dt=DT, series_col="id")
    assert ds.provenance["series_ids"] == [7, 3]
    np.testing.assert_array_equal(ds[0], X[0::2])
    np.testing.assert_array_equal(ds[1], X[1::2])


def test_text_column_without_series_col_is_named(tmp_path, X):
    """A text id column that is not declared keeps the old message (line and value) and suggests series_col."""
    p = _write_csv(tmp_path / "ids.csv", ["run", "x"], [["a"] * 5, X[:5, 0]])
    with pytest.raises(TypeError, match=r"ids.csv: line 2: not numeric: 'a'.*series_col='run'"):
        Dataset.load(p, dt=DT)


def test_npz_time_array_and_two_trajectories(tmp_path, X):
    """An .npz with a 1-D `t` and two (T, 3) arrays: two trajectories, dt from t, t not a trajectory."""
    p = tmp_path / "runs.npz"
    np.savez(p, t=np.arange(150) * DT, a=X[:150], b=X[150:])
    ds = Dataset.load(p)
    assert len(ds) == 2 and ds.lengths == [150, 150] and ds.dt == DT
    np.testing.assert_array_equal(ds[1], X[150:])
    assert ds.provenance["time_column"]["name"] == "t" and ds.provenance["dt_source"] == "time column"


def test_missing_dt_says_how_to_give_it(tmp_path, X):
    """No time column, no stored dt, no argument: the message names dt=..., --dt and --time-col."""
    p = _write_csv(tmp_path / "nodt.csv", ["x", "y", "z"], list(X.T))
    with pytest.raises(ValueError, match=r"nodt.csv: .*pass dt=\.\.\. \(command line: --dt DT\) or give a time "
                                         r"column \(--time-col NAME\)"):
        Dataset.load(p)


def test_stored_dt_is_used_and_round_trips_keep_every_column(tmp_path, X):
    """A dsrkit CSV (# dt = ...) with an evenly spaced variable keeps it: a stored dt turns off value inference."""
    ramp = np.arange(len(X)) * 2.0
    ds = Dataset(np.column_stack([ramp, X]), dt=DT, names=["ramp", "x", "y", "z"])
    back = Dataset.load(ds.save(tmp_path / "ramp.csv"))
    assert back.names == ds.names and back.dt == DT and back.provenance["dt_source"] == "file"


def test_pandas_index_and_datetime_stamps(tmp_path, X):
    """A pandas-style unnamed index column is dropped as a row index; ISO date-times give dt in seconds."""
    stamps = np.datetime64("2024-01-31T12:00:00") + np.arange(len(X)) * np.timedelta64(500, "ms")
    rows = [f"{i},{s},{_cell(a)},{_cell(b)},{_cell(c)}" for i, (s, (a, b, c)) in enumerate(zip(stamps, X))]
    lines = [",timestamp,x,y,z"] + rows
    p = tmp_path / "pandas.csv"
    p.write_text("\n".join(lines) + "\n")
    ds = Dataset.load(p)
    assert ds.names == ["x", "y", "z"] and ds.dt == 0.5
    reasons = sorted(d["reason"] for d in ds.provenance["dropped"])
    assert reasons == ["row index", "time column"]


def test_semicolon_and_constant_columns(tmp_path, X):
    """Semicolon-separated files are read; a constant column is kept and listed, not refused."""
    lines = ["t;x;c"] + [f"{k * DT!r};{_cell(a)};1.0" for k, a in enumerate(X[:, 0])]
    p = tmp_path / "semi.csv"
    p.write_text("\n".join(lines) + "\n")
    ds = Dataset.load(p)
    assert ds.names == ["x", "c"] and ds.provenance["constant_columns"] == ["c"]


def test_large_csv_loads_exactly(tmp_path):
    """100 000 rows x 5 columns: the values come back exactly, the time column gives dt."""
    Y = np.random.default_rng(0).normal(size=(100_000, 4))
    t = np.arange(len(Y)) * 0.001
    p = tmp_path / "big.csv"
    np.savetxt(p, np.column_stack([t, Y]), delimiter=",", header="time,a,b,c,d", comments="", fmt="%.17g")
    ds = Dataset.load(p)
    np.testing.assert_array_equal(ds[0], Y)
    assert ds.dt == 0.001


def test_provenance_is_json_and_described(tmp_path, X):
    """provenance survives json.dumps; describe() names variables, dt origin and drops; split/standardize carry it."""
    ids = np.repeat([1, 2], len(X) // 2)
    t = np.tile(np.arange(len(X) // 2) * DT, 2)
    p = _write_csv(tmp_path / "prov.csv", ["id", "t", "x", "y", "z"], [ids, t, *X.T])
    ds = Dataset.load(p, series_col="id", columns=["x", "y"])
    record = json.loads(json.dumps(ds.provenance))
    assert {"path", "format", "variables", "dropped", "time_column", "dt", "dt_source", "n_trajectories", "lengths",
            "series_ids", "constant_columns"} <= set(record)
    assert record["lengths"] == [150, 150] and record["variables"] == ["x", "y"]
    text = ds.describe()
    assert "x, y" in text and "'t'" in text and "'z' (not selected)" in text and "'id' (series id)" in text
    train, _ = ds.split(0.8)
    scaled, _ = train.standardize()
    assert scaled.provenance["path"] == str(p) and scaled.provenance["standardized"] is True
    assert scaled.provenance["split"] == {"part": "train", "fraction": 0.8}
    json.dumps(scaled.provenance)
    assert Dataset(X, dt=1.0).provenance == {}
