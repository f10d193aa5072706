"""Every script in examples/ runs to completion on its tiny settings (so the documented usage cannot rot): the
tutorials that the documentation pages include (tests/test_docs.py checks which) and the other examples."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    result = subprocess.run([sys.executable, str(script), "--tiny"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
