"""Property: whatever a user types, every `dsr` command ends with exit status 0 or 2 (one `error:` line), never a
traceback, and never changes or deletes a file it was not asked to write.

Hypothesis draws command lines from bad and good pieces: wrong shapes, NaN, too-short series, text saved as .npy,
non-numeric and non-finite options, paths with brackets and spaces, existing files, folders and runs as outputs.
The draw is derandomised, so CI sees the same examples every time.
"""

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dsrkit.cli import app
from dsrkit.data import Dataset

runner = CliRunner()

GOOD = "my data [v1]/good.npz"
RUN = "run [a]"
INPUTS = [GOOD, "short.npy", "nan.csv", "text.npy", "empty.csv", "cube.npy", "fake.npz", "notes.txt", "dir",
          RUN, "missing [x]/a.npz", "has space.csv"]
OUTPUTS = ["out [/b] 1", "notes.txt", "dir", RUN, ".", "notes.txt/below", "new dir/x.npz", "plot [red].png"]
NUMBERS = ["0", "-1", "nan", "inf", "1e308", "abc", "1", "2"]


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """A sandbox template: data files good and bad, a user's notes, a folder, a trained run."""
    root = tmp_path_factory.mktemp("template")
    from dsrkit import systems

    (root / "my data [v1]").mkdir()
    X = systems.get("lorenz63").trajectory(1200, seed=0)
    Dataset([X], dt=0.01).save(root / GOOD)
    np.save(root / "short.npy", X[:2])
    (root / "nan.csv").write_text("1,2\n3,nan\n")
    (root / "text.npy").write_text("1,2,3\n")
    (root / "empty.csv").write_text("")
    np.save(root / "cube.npy", np.zeros((2, 3, 4, 5)))
    (root / "fake.npz").write_text("not a zip")
    (root / "has space.csv").write_text("x,y\n" + "\n".join(f"{np.sin(t)},{np.cos(t)}" for t in range(300)))
    (root / "notes.txt").write_text("the user's notes")
    (root / "dir").mkdir()
    (root / "dir" / "keep.txt").write_text("keep")
    result = runner.invoke(app, ["train", str(root / GOOD), "--latent-dim", "6", "--epochs", "1", "--seq-len", "20",
                                 "--out", str(root / RUN)])
    assert result.exit_code == 0, result.output
    return root


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in root.rglob("*")}


def under(path: str, allowed: set[str]) -> bool:
    return any(path == a or path.startswith(a.rstrip("/") + "/") for a in allowed)


pick_in = st.sampled_from(INPUTS)
pick_out = st.sampled_from(OUTPUTS)
num = st.sampled_from(NUMBERS)
flag = st.booleans()


@st.composite
def command_lines(draw):
    """(argv with paths relative to the sandbox, set of sandbox paths the command may write)."""
    kind = draw(st.sampled_from(["simulate", "train", "evaluate", "analyze", "report", "reconstruct", "bench",
                                 "bench-results"]))
    force = draw(flag)
    tail = ["--force"] if force else []
    if kind == "simulate":
        out, plot = draw(pick_out), draw(st.one_of(st.none(), pick_out))
        argv = ["simulate", draw(st.sampled_from(["lorenz63", "henon", "bogus"])), "--n-steps", draw(num),
                "--noise", draw(num), "--out", out] + (["--plot", plot] if plot else []) + tail
        return argv, {out, plot} - {None} if force else set()
    if kind == "train":
        out = draw(pick_out)
        argv = ["train", draw(pick_in), "--epochs", draw(st.sampled_from(["0", "1", "-1"])),
                "--seq-len", draw(st.sampled_from(["0", "20", "1000000"])),
                "--latent-dim", draw(st.sampled_from(["0", "6"])),
                "--lr", draw(num), "1e-5", "--out", out] + (["--dt", draw(num)] if draw(flag) else []) + tail
        return argv, {out} if force else set()
    if kind in ("evaluate", "analyze", "report"):
        run = draw(st.sampled_from([RUN, RUN, "dir", "notes.txt", "missing [x]"]))
        argv = [kind, run] + (["--data", draw(pick_in)] if kind == "evaluate" or draw(flag) else [])
        if draw(flag):
            argv += ["--dt", draw(num)]
        return argv, {run} if kind != "evaluate" else set()
    if kind == "reconstruct":
        out = draw(pick_out)
        argv = ["reconstruct", draw(st.sampled_from(["lorenz63", "bogus", GOOD, "text.npy", "dir"])),
                "--max-epochs", "1", "--n-train", draw(st.sampled_from(["0", "-1", "400"])),
                "--n-test", draw(st.sampled_from(["0", "400"])), "--out", out] + tail
        return argv, {out} if force else set()
    suite = draw(st.sampled_from(["missing.toml", "notes.txt", "dir", "text.npy"]))
    if kind == "bench":
        store = draw(st.sampled_from(["notes.txt", "dir", "s.sqlite"]))
        time_limit = draw(st.sampled_from(["0", "-5", "nan", "10"]))
        return ["bench", suite, "--store", store, "--time-limit", time_limit], {"s.sqlite"}
    export = draw(st.sampled_from(["dir", "notes.txt", "x.csv"]))
    return ["bench", "results", suite, "--csv", export] + tail, {export} if force else set()


@settings(max_examples=80, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(line=command_lines())
def test_every_command_exits_0_or_2_and_touches_only_what_it_was_asked_to_write(assets, monkeypatch, line):
    argv, allowed = line
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp) / "box"
        shutil.copytree(assets, box)
        monkeypatch.chdir(box)
        before = snapshot(box)
        result = runner.invoke(app, argv)
        event(f"{argv[0]} exit {result.exit_code}")
        shown = f"dsr {' '.join(argv)}\n{result.output}"
        assert result.exit_code in (0, 2), shown
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{shown}\ntraceback: {result.exception!r}")
        if result.exit_code == 2:
            assert "error:" in result.output and "Traceback" not in result.output, shown
        after = snapshot(box)
        for path, content in before.items():
            if under(path, allowed):
                continue
            assert path in after, f"{shown}\ndeleted {path}"
            assert after[path] == content, f"{shown}\nchanged {path}"
        leftovers = [p for p in after if Path(p).name.startswith(".") and ("-new-" in p or "-upd-" in p
                                                                          or "-old-" in p or p.endswith(".tmp"))]
        assert not leftovers, f"{shown}\ntemporary files left: {leftovers}"
