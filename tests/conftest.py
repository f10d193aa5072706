"""Test-session setup: compiled programs of spawned benchmark workers and CLI calls go to a per-session cache
directory (removed at exit), never to the user's ~/.cache; XLA compiles without LLVM optimisation (below). JAX
runs with its defaults (32-bit types): dsrkit's functions switch 64-bit types on where they compute in float64, and
a test that builds float64 JAX arrays itself asks for the `x64` fixture, as a user's program would use
`jax.enable_x64`."""

import atexit
import os
import shutil
import tempfile

if "DSRKIT_JAX_CACHE" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="dsrkit-jax-cache-")
    os.environ["DSRKIT_JAX_CACHE"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

# Compile at LLVM's lowest optimisation level. The suite compiles hundreds of small programs and runs most of them
# briefly, so compiling dominates (tests/test_population.py: 71 s at the default level, 48 s at 0, on a 2-core
# AMD EPYC). Set before JAX starts, so spawned workers and examples inherit it; a level the caller set is kept.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()
# Under pytest-xdist (`make test` runs two workers), each worker computes on one thread, so that two workers on two
# cores do not both start thread pools the size of the machine.
if os.environ.get("PYTEST_XDIST_WORKER"):
    if "xla_cpu_multi_thread_eigen" not in os.environ["XLA_FLAGS"]:
        os.environ["XLA_FLAGS"] += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import jax
import pytest

# `make test` runs two pytest-xdist workers. Each test file goes to one worker whole, so its module fixtures are
# built once; the files that run the main job on tiny data go to the same worker together, which compiles the
# search's programs once for all of them (a second tiny `reconstruct` in the same process takes 8 s instead of
# 28 s on the 2-core development box). The longest groups start first, so that the two workers finish together.
# Neither changes anything a test checks.
MAIN_JOB = ("test_examples.py", "test_cli.py", "test_report_sections.py", "test_reconstruction.py",
            "test_reliability_files.py")
LONG_FIRST = ("main-job", "test_population.py", "test_baselines.py", "test_cli_properties.py",
              "test_import_side_effects.py", "test_bench.py", "test_bench_core.py", "test_training.py",
              "test_systems.py", "test_analysis.py", "test_baselines_defaults.py")


def _group(nodeid: str) -> str:
    file = nodeid.split("::")[0].rsplit("/", 1)[-1]
    return "main-job" if file in MAIN_JOB else file


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(_group(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With `--dist loadfile`: pytest-xdist's file-by-file scheduling, with `_group` as the unit handed to a
    worker; units start in collection order (`--no-loadscope-reorder`, set in the Makefile)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return GroupScheduling(config, log)


_JAX_FLAGS = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
              "jax_persistent_cache_min_entry_size_bytes", "jax_enable_x64")


@pytest.fixture(autouse=True)
def _restore_jax_config():
    """Every test leaves JAX's global configuration as it found it."""
    before = {k: getattr(jax.config, k) for k in _JAX_FLAGS}
    yield
    for k, v in before.items():
        if getattr(jax.config, k) != v:
            jax.config.update(k, v)


@pytest.fixture
def x64():
    """JAX's 64-bit types on for the duration of one test (`jax.enable_x64`, this thread only)."""
    with jax.enable_x64(True):
        yield
