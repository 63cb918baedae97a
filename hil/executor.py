"""One executor for many runs, on ``dask.distributed``: trials, suites, mutants, sweeps.

A :class:`Executor` is a context manager around a Dask client. With no scheduler address it
starts a ``LocalCluster`` on loopback (one worker process per core, one thread per worker, so a
kernel that holds the GIL still uses every core); with ``scheduler="tcp://host:8786"`` it joins a
cluster that is already running (its workers must be able to import ``devicetwin`` and ``hil``);
with ``scheduler="synchronous"`` it runs everything in the calling process, with the same
batching and callbacks, for debugging, profiling and a plain-loop baseline.

Work goes in as a picklable top-level function and a sequence of small items; the items are
grouped into batches, each batch one Dask task (dask's best practice: a task of at least ~100 ms
of work, so the scheduler's few hundred microseconds per task vanish), and each worker builds
whatever heavy objects it needs from the item itself (no large objects in the task graph)::

    with Executor() as ex:                          # LocalCluster, one process per core
        print(ex.describe())                        # workers, scheduler, dashboard address
        results = ex.map_batched(simulate, items,   # results in the order of ``items``
                                 on_batch=write_rows,          # called as each batch arrives
                                 on_progress=progress.update)  # (done, total) items

``batch_size=None`` sizes batches from the first results: one item per worker first, then
batches of about ``target_task_s`` of work each, never so large that a worker would wait idle at
the end (at most a quarter of each worker's share). A suite of scenario runs, each seconds long,
maps on with ``batch_size=1``: ``map_batched(run_one, [(scenario, device_url, fault), ...])``.

Faults: when a worker dies (killed, out of memory, a crash in a kernel), the scheduler runs its
unfinished batches again on the others; a batch's results reach the caller once, when its task
completes, so ``on_batch`` sees every item exactly once. An error raised by the function for an
item cancels the rest and is raised here (a structured error keeps its type through pickling).
An interrupt (Ctrl-C, SIGTERM through :mod:`hil.interrupts`) cancels the outstanding batches;
what ``on_batch`` received before it is the caller's to keep.

Runs that must end with their evidence (a suite's scenario runs) ask for ``stop_runs=True``.
A Dask task runs in a worker *thread*, where no signal arrives, so the stop is cooperative: a
worker plugin (:class:`StopOnSignal`) makes SIGINT, SIGTERM and SIGHUP set
:func:`hil.interrupts.request_stop` in each worker process, and the session loops poll it once
per window. On an interrupt here the executor passes the signal on (to the local cluster's
worker processes, whose PIDs it knows; to a remote cluster's workers by ``client.run``),
cancels the batches no worker has started, waits up to ``drain_s`` for the ones in progress to
end (each run marked interrupted, its evidence written), hands their results to ``on_batch``,
and re-raises; leaving the ``with`` block then stops the local cluster.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Generic, TextIO, TypeVar

import dask
from distributed import Client, Future, LocalCluster, WorkerPlugin, as_completed, wait

from hil.errors import ConfigError
from hil.interrupts import install_stop_handlers, request_stop, shielded, signal_of

T = TypeVar("T")
R = TypeVar("R")

#: The scheduler value that runs batches in the calling process (no Dask cluster).
SYNCHRONOUS = "synchronous"
#: Default work per task the adaptive batching aims at, seconds (dask: at least ~100 ms).
DEFAULT_TARGET_TASK_S = 0.5
_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc)://[^\s/]+(:\d+)?/?$|^[A-Za-z0-9_.-]+:\d+$")
_CONNECT_TIMEOUT_S = 10.0
#: Dask settings of the local cluster's workers. Their statistical profiler samples each task's
#: stack every 10 ms from a second thread and the event loop's tick watcher wakes every 20 ms,
#: each taking the GIL from a CPU-bound simulation: measured with benchmarks/cohort.py
#: (``dask_overhead``), about 20 % of a worker's time. Off, or rarer; the dashboard keeps its
#: task stream, progress and memory pages (not the profile page).
_QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.admin.tick.interval": "500ms",
}


def _run_batch(fn: Callable[[T], R], items: Sequence[T]) -> tuple[list[R], float]:
    """One task: ``fn`` over a batch of items on a worker, and the wall time it took (s)."""
    start = time.perf_counter()
    results = [fn(item) for item in items]
    return results, time.perf_counter() - start


#: How long an interrupted map waits for the runs in progress to end (``stop_runs``), seconds.
DEFAULT_DRAIN_S = 60.0
_STOP_PLUGIN = "devicetwin-stop-on-signal"


class StopOnSignal(WorkerPlugin):
    """On each worker, SIGINT, SIGTERM and SIGHUP request a cooperative stop of the runs in
    progress (:func:`hil.interrupts.install_stop_handlers`, in the worker's main thread) instead
    of shutting the worker down; registering it again clears an earlier request."""

    name = _STOP_PLUGIN
    idempotent = False

    def setup(self, worker: Any) -> None:
        install_stop_handlers()


def check_scheduler(address: str | None, source: str = "--scheduler") -> str | None:
    """``address`` if it is a Dask scheduler address (``tcp://host:8786``, ``host:8786``), the
    word ``synchronous``, or None (a local cluster); else a :class:`ConfigError` naming it."""
    if address is None or address == SYNCHRONOUS or _ADDRESS.match(address):
        return address
    raise ConfigError(f"scheduler address {address!r} is not a Dask scheduler address",
                      name="scheduler", value=address, source=source,
                      expected="tcp://host:port (e.g. tcp://10.0.0.5:8786), host:port, "
                               f"'{SYNCHRONOUS}', or nothing for a local cluster")


class Executor:
    """Runs batches of work on a Dask cluster (see the module docstring).

    Parameters
    ----------
    scheduler:
        None for a new ``LocalCluster`` on loopback, a scheduler address to join an existing
        cluster, or ``"synchronous"`` to run in this process.
    workers:
        Worker processes of the local cluster (default: one per core); ignored otherwise.
    target_task_s:
        Work per task that adaptive batching aims at, seconds.
    connect_timeout_s:
        How long to try to reach an existing scheduler, seconds.
    stop_runs:
        End the runs in progress on an interrupt instead of abandoning them (see the module
        docstring); for work that writes evidence as it goes.
    drain_s:
        With ``stop_runs``, how long an interrupted map waits for the runs in progress, seconds.
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None, *,
                 target_task_s: float = DEFAULT_TARGET_TASK_S,
                 connect_timeout_s: float = _CONNECT_TIMEOUT_S, stop_runs: bool = False,
                 drain_s: float = DEFAULT_DRAIN_S) -> None:
        self.scheduler = check_scheduler(scheduler)
        if workers is not None and workers < 1:
            raise ConfigError(f"workers={workers!r} must be at least 1", name="workers",
                              value=workers, expected="an integer >= 1", source="--workers")
        if not (target_task_s > 0):
            raise ConfigError(f"target_task_s={target_task_s!r} must be positive",
                              name="target_task_s", value=target_task_s, expected="> 0 s")
        self.workers = workers or os.cpu_count() or 1
        self.target_task_s = target_task_s
        self.connect_timeout_s = connect_timeout_s
        self.stop_runs = stop_runs
        self.drain_s = drain_s
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._worker_pids: list[int] = []

    # --- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> Executor:
        if self.scheduler == SYNCHRONOUS:
            return self
        if self.scheduler is None:
            with dask.config.set(_QUIET_WORKERS):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, host="127.0.0.1",
                                             dashboard_address="127.0.0.1:0",
                                             silence_logs=logging.ERROR)
            try:
                self._client = Client(self._cluster)
            except BaseException:  # an interrupt now must not leave the workers running
                self.close()
                raise
        else:
            try:
                self._client = Client(self.scheduler, timeout=self.connect_timeout_s)
            except (OSError, TimeoutError) as err:
                raise ConfigError(
                    f"could not reach the Dask scheduler at {self.scheduler!r} within "
                    f"{self.connect_timeout_s:g} s ({err}); is `dask scheduler` running there?",
                    name="scheduler", value=self.scheduler, source="--scheduler",
                    expected="the address of a running Dask scheduler") from None
            try:
                self._client.wait_for_workers(1, timeout=self.connect_timeout_s)
            except TimeoutError:
                self.close()
                raise ConfigError(
                    f"the Dask scheduler at {self.scheduler!r} has no workers (none joined "
                    f"within {self.connect_timeout_s:g} s); start some with `dask worker "
                    f"{self.scheduler} --nthreads 1`", name="scheduler", value=self.scheduler,
                    source="--scheduler", expected="a scheduler with workers") from None
        if self.stop_runs and self._client is not None:
            try:
                self._client.register_plugin(StopOnSignal(), name=_STOP_PLUGIN)
                if self._cluster is not None:
                    self._worker_pids = self.worker_pids()
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this executor started it."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()

    # --- what it runs on ------------------------------------------------------------------

    @property
    def client(self) -> Client | None:
        """The Dask client (None when synchronous or not entered)."""
        return self._client

    @property
    def scheduler_address(self) -> str | None:
        """The scheduler's address (None when synchronous or not entered)."""
        if self._client is None:
            return None
        return str(self._client.scheduler_info(n_workers=0).get("address", "")) or None

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's URL, when the scheduler serves one."""
        if self._client is None:
            return None
        with contextlib.suppress(Exception):
            link = self._client.dashboard_link
            return str(link) if link else None
        return None

    def worker_pids(self) -> list[int]:
        """The process IDs of the workers connected now (empty when synchronous); on a remote
        cluster they are IDs on the workers' hosts."""
        if self._client is None:
            return []
        return sorted(int(pid) for pid in self._client.run(os.getpid).values())

    def request_stop(self, signum: int) -> None:
        """Ask every worker to stop its runs as signal ``signum`` would stop a single run: the
        signal itself to the local cluster's worker processes (this executor started them),
        :func:`hil.interrupts.request_stop` through ``client.run`` on a remote cluster."""
        if self._client is None:
            return
        if self._cluster is not None:
            for pid in self._worker_pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signum)
            return
        with contextlib.suppress(Exception):
            self._client.run(request_stop, signum)

    def n_workers(self) -> int:
        """Workers connected now (1 when synchronous)."""
        if self._client is None:
            return 1
        info = self._client.scheduler_info(n_workers=-1)
        return max(1, len(info.get("workers", {})))

    def describe(self) -> str:
        """One line: where the work runs and where to watch it."""
        if self._client is None:
            return "executor: synchronous (this process)"
        kind = "local cluster" if self._cluster is not None else "cluster"
        text = (f"executor: dask {kind} at {self.scheduler_address}, "
                f"{self.n_workers()} workers x 1 thread")
        link = self.dashboard_link
        return text + (f"; dashboard {link}" if link else "")

    # --- running --------------------------------------------------------------------------

    def map_batched(self, fn: Callable[[T], R], items: Sequence[T], *,
                    batch_size: int | None = None,
                    on_batch: Callable[[list[int], list[R]], None] | None = None,
                    on_progress: Callable[[int, int], None] | None = None,
                    name: str | None = None) -> list[R]:
        """``[fn(item) for item in items]``, run in batches across the workers.

        Parameters
        ----------
        fn:
            A picklable top-level function of one item; it builds its heavy objects itself.
        items:
            Small, picklable work descriptions.
        batch_size:
            Items per task; None sizes batches adaptively (see the module docstring).
        on_batch:
            Called in this process with the indices (into ``items``) and results of each batch
            as it completes, exactly once per item.
        on_progress:
            Called with (items done, items in total) after each batch.
        name:
            Task-name prefix shown on the dashboard (default: the function's name).

        Returns
        -------
        list
            The results in the order of ``items``.
        """
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"batch_size={batch_size!r} must be at least 1",
                              name="batch_size", value=batch_size, expected="an integer >= 1")
        results: list[Any] = [None] * len(items)
        done = 0

        def deliver(indices: list[int], values: list[R]) -> None:
            nonlocal done
            for i, v in zip(indices, values, strict=True):
                results[i] = v
            done += len(indices)
            if on_batch is not None:
                on_batch(indices, values)
            if on_progress is not None:
                on_progress(done, len(items))

        if not items:
            return []
        if self._client is None:
            if self.scheduler != SYNCHRONOUS:
                raise RuntimeError("Executor.map_batched called outside its `with` block")
            pending = list(range(len(items)))
            size = batch_size or 1
            while pending:
                indices, pending = pending[:size], pending[size:]
                values, wall_s = _run_batch(fn, [items[i] for i in indices])
                deliver(indices, values)
                if batch_size is None:
                    size = _adaptive_size(self.target_task_s, wall_s / len(indices),
                                          len(pending), 1)
            return results
        label = name or str(getattr(fn, "__name__", "task"))
        _Batches(self, fn, items, batch_size, label, deliver).run()
        return results


class _Batches(Generic[T, R]):
    """The bookkeeping of one ``map_batched`` call on a cluster."""

    def __init__(self, ex: Executor, fn: Callable[[T], R], items: Sequence[T],
                 batch_size: int | None, name: str,
                 deliver: Callable[[list[int], list[R]], None]) -> None:
        assert ex.client is not None
        self.client: Client = ex.client
        self.ex = ex
        self.fn = fn
        self.items = items
        self.batch_size = batch_size
        self.deliver = deliver
        self.prefix = f"{name}-{uuid.uuid4().hex[:8]}"
        self.pending = list(range(len(items)))
        self.count = 0
        self.indices: dict[str, list[int]] = {}
        self.live: dict[str, Future[tuple[list[R], float]]] = {}

    def submit(self, indices: list[int]) -> Future[tuple[list[R], float]]:
        key = f"{self.prefix}-{self.count}"
        self.count += 1
        self.indices[key] = indices
        # pure=False: a batch resubmitted after a fault is a new task, never a cached one
        fut: Future[tuple[list[R], float]] = self.client.submit(
            _run_batch, self.fn, [self.items[i] for i in indices], key=key, pure=False,
            retries=0)
        self.live[key] = fut
        return fut

    def take(self, n: int) -> list[int]:
        head, self.pending = self.pending[:n], self.pending[n:]
        return head


    def run(self) -> None:
        workers = self.ex.n_workers()
        if self.batch_size is not None:
            futures = [self.submit(c) for c in _chunks(self.pending, self.batch_size)]
            self.pending = []
        else:  # probe: one item per worker, then size the rest from how long they took
            futures = [self.submit(self.take(1)) for _ in range(min(workers, len(self.pending)))]
        queue = as_completed(futures)
        try:
            for fut in queue:
                values, wall_s = fut.result()
                indices = self.indices.pop(fut.key)
                self.live.pop(fut.key, None)
                fut.release()
                self.deliver(indices, values)
                if self.pending:
                    size = _adaptive_size(self.ex.target_task_s, wall_s / max(1, len(indices)),
                                          len(self.pending), workers)
                    for chunk in _chunks(self.pending, size):
                        queue.add(self.submit(chunk))
                    self.pending = []
        except KeyboardInterrupt as exc:
            if self.ex.stop_runs:
                with shielded():  # a second signal must not cut the draining short
                    self.drain(signal_of(exc))
            with contextlib.suppress(Exception):
                self.client.cancel(list(self.live.values()))
            raise
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.cancel([f for f in futures if not f.done()])
                self.client.cancel(list(queue.futures))
            raise


    def drain(self, signum: int) -> None:
        """After an interrupt: stop the workers' runs, cancel the batches none has started,
        and deliver those in progress as they end (at most ``drain_s``)."""
        self.ex.request_stop(signum)
        time.sleep(0.1)  # the workers' handlers run in their main threads: let them
        running: set[str] = set()
        with contextlib.suppress(Exception):
            for keys in self.client.processing().values():
                running.update(str(k) for k in keys)
        started = {k: f for k, f in self.live.items() if k in running}
        with contextlib.suppress(Exception):
            self.client.cancel([f for k, f in self.live.items() if k not in started])
        with contextlib.suppress(Exception):
            wait(list(started.values()), timeout=self.ex.drain_s)
        for key, fut in started.items():
            if fut.status == "finished":
                with contextlib.suppress(Exception):
                    values, _ = fut.result()
                    self.live.pop(key, None)
                    self.deliver(self.indices.pop(key), values)


def _adaptive_size(target_task_s: float, seconds_per_item: float, pending: int,
                   workers: int) -> int:
    """Items per batch: about ``target_task_s`` of work, at most a quarter of each worker's
    share of the ``pending`` items (so no worker idles long at the end), at least one."""
    share = max(1, math.ceil(pending / max(1, workers) / 4))
    wanted = max(1, math.ceil(target_task_s / max(seconds_per_item, 1e-6)))
    return max(1, min(wanted, share))


def _chunks(seq: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


class ProgressLines:
    """Progress with ETA on the console: redrawn in place on a terminal, else one line every
    ``interval_s`` on the stream (stderr), so a CI log shows it too.

    ``update(done, total)`` matches :meth:`Executor.map_batched`'s ``on_progress``. The rate
    and ETA count from the first update, so a resumed run announces where it starts
    (``update(already_done, total)``) before its first batch and is not credited with the
    earlier run's work.
    """

    def __init__(self, label: str, unit: str = "items", *, stream: TextIO | None = None,
                 interval_s: float = 10.0) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval_s = interval_s if not self.tty else 0.2
        self._start = time.monotonic()
        self._last = -math.inf
        self._base: int | None = None
        self.done = 0
        self.total = 0

    def line(self) -> str:
        """``label: 40/120 items (33 %), 2.1 items/s, ETA 0:38``."""
        elapsed = time.monotonic() - self._start
        rate = (self.done - (self._base or 0)) / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else None
        eta = "--:--" if left is None else f"{int(left) // 60}:{int(left) % 60:02d}"
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (f"{self.label}: {self.done}/{self.total} {self.unit} ({pct:.0f} %), "
                f"{rate:.2f} {self.unit}/s, ETA {eta}")

    def update(self, done: int, total: int) -> None:
        """Record progress; draw when due and at the end."""
        now = time.monotonic()
        if self._base is None:
            self._base, self._start = done, now
        self.done, self.total = done, total
        if now - self._last >= self.interval_s or done >= total:
            self._last = now
            if self.tty:
                self.stream.write("\r" + self.line() + ("\n" if done >= total else ""))
            else:
                self.stream.write(self.line() + "\n")
            self.stream.flush()
