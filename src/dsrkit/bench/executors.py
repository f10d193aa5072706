"""Executors: where runs execute. Local worker processes (default) or a Ray cluster.

Both have the same small interface: `capacity` (runs in flight at once), `submit(key, payload, time_limit)`,
`poll(timeout) -> [(key, result)]` and `close()`. A run over its time limit comes back as a failed result with
reason "timeout"; a worker that dies comes back as a failed result naming its exit code. Results are written to
the store by the runner process only (Ray workers may sit on other machines).

Local executor: `workers` long-lived processes started with the spawn context, each pinned to one thread
(OMP/MKL/OpenBLAS variables and XLA_FLAGS set before the child interpreter starts, so before jax is imported).
It is not a `concurrent.futures.ProcessPoolExecutor` on purpose: that pool cannot stop a running task, and killing
one of its processes breaks the whole pool (every run in flight would be lost). Here a run over its limit costs only
its own worker, which is killed and replaced.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import time
from multiprocessing.connection import wait as mp_wait

from .._status import Status

THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
STARTUP_GRACE = 300.0  # seconds a fresh worker may take to import before its run's clock starts


def thread_env(base: dict | None = None) -> dict:
    """THREAD_ENV, with any XLA_FLAGS already in `base` kept after ours."""
    base = os.environ if base is None else base
    env = dict(THREAD_ENV)
    if base.get("XLA_FLAGS"):
        env["XLA_FLAGS"] = env["XLA_FLAGS"] + " " + base["XLA_FLAGS"]
    return env


class WorkerStartError(RuntimeError):
    """A worker process died before it could start a run (a broken environment, not a failing run)."""


def timeout_result(limit: float, elapsed: float) -> dict:
    return {"status": Status.FAILED, "reason": "timeout", "metrics": {}, "trajectories": None,
            "traceback": f"run exceeded the time limit of {limit:g} s and was stopped",
            "timings": {"total_s": elapsed}}


def crash_result(detail: str, elapsed: float) -> dict:
    return {"status": Status.FAILED, "reason": f"worker died: {detail}", "metrics": {}, "trajectories": None,
            "traceback": None, "timings": {"total_s": elapsed}}


@contextlib.contextmanager
def _environ(extra: dict):
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel SIGKILL this worker when the runner dies, so a killed runner leaves no orphans."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    if os.getppid() != parent_pid:
        os._exit(0)


def _worker_main(conn, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    from ..compile_cache import enable_compilation_cache
    from .execute import execute_payload

    enable_compilation_cache()  # workers share compiled programs: a method compiled once is loaded by the others

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        key, payload = msg
        conn.send(("start", key))
        conn.send(("done", key, execute_payload(*payload)))


class _Worker:
    def __init__(self, ctx):
        self.conn, child = ctx.Pipe(duplex=True)
        with _environ(thread_env()):
            self.proc = ctx.Process(target=_worker_main, args=(child, os.getpid()), daemon=True)
            self.proc.start()
        child.close()
        self.key = None
        self.history: set = set()  # affinity keys (method labels) this worker has run: its JIT caches are warm
        self.started = False
        self.limit = None
        self.t0 = 0.0
        self.deadline = None

    def kill(self):
        with contextlib.suppress(Exception):
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class LocalExecutor:
    """`workers` single-threaded spawn processes on this machine (default: one per CPU core)."""

    def __init__(self, workers: int | None = None):
        workers = (os.cpu_count() or 1) if workers is None else workers
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
        self.capacity = workers
        self._ctx = mp.get_context("spawn")
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []

    def preferred(self, affinities: list) -> int:
        """Index of the pending run (given by affinity keys, e.g. method labels) the next free worker should take:
        one it has run before (its compiled functions are cached), else one no worker has started on (so that two
        workers do not both compile the same method), else the first."""
        fresh = len(self._idle) + len(self._busy) < self.capacity
        idle_seen = set() if (fresh and not self._idle) else set().union(*(w.history for w in self._idle))
        all_seen = set().union(*(w.history for w in self._idle + self._busy))
        for i, a in enumerate(affinities):
            if a in idle_seen:
                return i
        for i, a in enumerate(affinities):
            if a not in all_seen:
                return i
        return 0

    def _take_worker(self, affinity) -> _Worker:
        for w in self._idle:
            if affinity in w.history:
                self._idle.remove(w)
                return w
        if len(self._idle) + len(self._busy) < self.capacity:
            return _Worker(self._ctx)
        return self._idle.pop()

    def submit(self, key, payload: tuple, time_limit: float | None, affinity=None) -> None:
        if len(self._busy) >= self.capacity:
            raise RuntimeError("executor is full")
        w = self._take_worker(affinity)
        w.history.add(affinity)
        w.key, w.limit, w.t0, w.started = key, time_limit, time.monotonic(), False
        w.deadline = None if time_limit is None else w.t0 + STARTUP_GRACE + time_limit
        try:
            w.conn.send((key, payload))
        except (OSError, EOFError):
            w.kill()
            w = _Worker(self._ctx)
            w.key, w.limit, w.t0 = key, time_limit, time.monotonic()
            w.deadline = None if time_limit is None else w.t0 + STARTUP_GRACE + time_limit
            w.conn.send((key, payload))
        self._busy.append(w)

    @property
    def in_flight(self) -> int:
        return len(self._busy)

    def poll(self, timeout: float) -> list[tuple[object, dict]]:
        """Wait up to `timeout` s for results; returns finished (key, result) pairs (possibly none)."""
        if not self._busy:
            time.sleep(min(timeout, 0.05))
            return []
        now = time.monotonic()
        deadlines = [w.deadline for w in self._busy if w.deadline is not None]
        wait_s = max(0.0, min([timeout] + [d - now for d in deadlines]))
        mp_wait([w.conn for w in self._busy] + [w.proc.sentinel for w in self._busy], timeout=wait_s)
        done = []
        for w in list(self._busy):
            result = self._drain(w)
            if result is not None:
                done.append((w.key, result))
                continue
            now = time.monotonic()
            if w.deadline is not None and now >= w.deadline:
                w.kill()
                self._busy.remove(w)
                done.append((w.key, timeout_result(w.limit, now - w.t0)))
            elif not w.proc.is_alive():
                w.kill()
                self._busy.remove(w)
                done.append((w.key, self._died(w)))
        return done

    def _died(self, w: _Worker) -> dict:
        if not w.started:
            raise WorkerStartError(f"a worker process exited with code {w.proc.exitcode} before starting a run "
                                   "(its error is on stderr); runs are scripts or modules, not code read from stdin")
        return crash_result(f"exit code {w.proc.exitcode}", time.monotonic() - w.t0)

    def _drain(self, w: _Worker) -> dict | None:
        try:
            while w.conn.poll():
                msg = w.conn.recv()
                if msg[0] == "start":
                    w.started = True
                    if w.limit is not None:
                        w.deadline = time.monotonic() + w.limit
                elif msg[0] == "done":
                    self._busy.remove(w)
                    self._idle.append(w)
                    return msg[2]
        except (EOFError, OSError):
            w.proc.join(1)
            w.kill()
            self._busy.remove(w)
            return self._died(w)
        return None

    def close(self) -> None:
        for w in self._idle:
            with contextlib.suppress(Exception):
                w.conn.send(None)
        for w in self._idle:
            w.proc.join(5)
            w.kill()
        for w in self._busy:
            w.kill()
        self._idle, self._busy = [], []


class InlineExecutor:
    """Runs each run in the calling process, one at a time: for debugging and for exercising the store.

    It cannot stop a stuck run, so time limits are not enforced, and the runner cannot refresh its claims' heartbeat
    during a run: a run longer than the store's lease may be retaken by another runner (duplicated work, never a
    duplicated row). Use "local" or "ray" for real suites."""

    capacity = 1

    def __init__(self):
        self._queue: list = []

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    def submit(self, key, payload: tuple, time_limit: float | None, affinity=None) -> None:
        self._queue.append((key, payload))

    def poll(self, timeout: float) -> list[tuple[object, dict]]:
        if not self._queue:
            time.sleep(min(timeout, 0.05))
            return []
        from .execute import execute_payload

        key, payload = self._queue.pop(0)
        return [(key, execute_payload(*payload))]

    def close(self) -> None:
        self._queue.clear()


def _ray_execute(*payload):
    from .execute import execute_payload

    return execute_payload(*payload)


class RayExecutor:
    """Runs on a Ray cluster: `address` of a running cluster, or None for a local one with `workers` CPUs.

    Each run is one Ray task with num_cpus=1 and the single-thread environment; capacity is `workers` or the
    cluster's CPU count. A run over its time limit (counted from submission) is cancelled with force=True, which
    kills its worker process. runtime_env: merged into the job's Ray runtime environment (e.g. PYTHONPATH for
    registries importable only from the driver's folders).
    """

    def __init__(self, workers: int | None = None, address: str | None = None, runtime_env: dict | None = None):
        try:
            import ray
        except ImportError:
            raise ImportError("the Ray executor needs ray: pip install 'dsrkit[ray]'") from None
        self._ray = ray
        runtime_env = dict(runtime_env or {})
        runtime_env["env_vars"] = {**thread_env(), **runtime_env.get("env_vars", {})}
        self._owns_cluster = not ray.is_initialized()
        if self._owns_cluster:
            kwargs = dict(address=address, runtime_env=runtime_env, include_dashboard=False, log_to_driver=False)
            if address is None:
                kwargs["num_cpus"] = workers or os.cpu_count() or 1
            ray.init(**kwargs)
        self.capacity = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_ray_execute)
        self._refs: dict = {}

    @property
    def in_flight(self) -> int:
        return len(self._refs)

    def submit(self, key, payload: tuple, time_limit: float | None, affinity=None) -> None:
        ref = self._remote.remote(*payload)
        self._refs[ref] = (key, time.monotonic(), time_limit)

    def poll(self, timeout: float) -> list[tuple[object, dict]]:
        ray = self._ray
        if not self._refs:
            time.sleep(min(timeout, 0.05))
            return []
        now = time.monotonic()
        limits = [t0 + lim - now for (_, t0, lim) in self._refs.values() if lim is not None]
        wait_s = max(0.0, min([timeout] + limits))
        refs = list(self._refs)
        ready, rest = ray.wait(refs, num_returns=1, timeout=wait_s)
        if ready and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        done = []
        for ref in ready:
            key, t0, _ = self._refs.pop(ref)
            try:
                done.append((key, ray.get(ref)))
            except Exception as e:  # the worker died (e.g. out of memory); the run is a failure, not a crash
                done.append((key, crash_result(f"{type(e).__name__}: {e}"[:500], time.monotonic() - t0)))
        now = time.monotonic()
        for ref, (key, t0, lim) in list(self._refs.items()):
            if lim is not None and now - t0 >= lim:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
                del self._refs[ref]
                done.append((key, timeout_result(lim, now - t0)))
        return done

    def close(self) -> None:
        for ref in list(self._refs):
            with contextlib.suppress(Exception):
                self._ray.cancel(ref, force=True)
        self._refs.clear()
        if self._owns_cluster:
            self._ray.shutdown()


def make_executor(kind: str = "local", *, workers: int | None = None, address: str | None = None,
                  runtime_env: dict | None = None):
    """'local' -> LocalExecutor(workers); 'ray' -> RayExecutor(workers, address, runtime_env); 'inline' ->
    InlineExecutor() (in this process, no time limits)."""
    if kind == "inline":
        return InlineExecutor()
    if kind == "local":
        if address is not None:
            raise ValueError("address is only for executor='ray'")
        return LocalExecutor(workers)
    if kind == "ray":
        return RayExecutor(workers, address, runtime_env)
    raise ValueError(f"executor must be 'local', 'ray' or 'inline', got {kind!r}")
