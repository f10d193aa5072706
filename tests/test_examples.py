"""Every script in examples/ runs to completion on its tiny settings (so the documented usage cannot rot): the
tutorials that the documentation pages include (tests/test_docs.py checks which) and the other examples.

Each script runs inside the test process as `__main__` (`runpy`), as `python examples/X.py --tiny` would run it, in
its own empty working folder: a fresh interpreter would add 5 s of importing JAX and dsrkit per script and compile
again what the suite has compiled already. That importing dsrkit changes nothing process-wide is
tests/test_import_side_effects.py's check, in fresh interpreters."""

import runpy
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script), "--tiny"])
    figures = plt.get_fignums()
    runpy.run_path(str(script), run_name="__main__")
    assert plt.get_fignums() == figures, "an example left pyplot figures open"
