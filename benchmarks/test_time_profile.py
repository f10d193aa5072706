"""Where the test suite's time goes: a pytest plugin that records, per test file, the wall time of its tests and
the seconds JAX spent tracing, lowering and compiling inside the test process (JAX's compile-duration events).

    PYTHONPATH=benchmarks python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder -p test_time_profile
    python benchmarks/test_time_profile.py            # per worker: test time; per file: wall and compile seconds

Each worker (or the single process) writes `$TEST_TIME_PROFILE_DIR/<worker>.json` (default
benchmarks/results/test_time_profile/). Subprocesses the tests start are not counted.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from pathlib import Path

OUT = Path(os.environ.get("TEST_TIME_PROFILE_DIR", Path(__file__).parent / "results" / "test_time_profile"))
_file = ["?"]
_wall: dict[str, float] = collections.defaultdict(float)
_compile: dict[str, float] = collections.defaultdict(float)


def _listen(event: str, duration: float, **_) -> None:
    if event.startswith("/jax/core/compile/"):
        _compile[_file[0]] += duration


def pytest_configure(config) -> None:
    import jax

    jax.monitoring.register_event_duration_secs_listener(_listen)


def pytest_runtest_protocol(item, nextitem):
    _file[0] = item.nodeid.split("::")[0]
    item.config._time_profile_start = time.perf_counter()


def pytest_runtest_teardown(item, nextitem) -> None:
    _wall[_file[0]] += time.perf_counter() - item.config._time_profile_start


def pytest_sessionfinish(session) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (OUT / f"{worker}.json").write_text(json.dumps({"wall": _wall, "compile": _compile}, indent=1))


def summary(folder: Path = OUT) -> None:
    rows = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        print(f"{path.stem}: test time {sum(data['wall'].values()):.0f} s, "
              f"compiling {sum(data['compile'].values()):.0f} s")
        rows += [(w, data["compile"].get(f, 0.0), f, path.stem) for f, w in data["wall"].items()]
    for wall, comp, file, worker in sorted(rows, reverse=True):
        print(f"{wall:7.1f} s  compile {comp:6.1f} s  {worker:5s} {file}")


if __name__ == "__main__":
    summary(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
