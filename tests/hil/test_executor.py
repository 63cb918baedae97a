"""The executor: batches, callbacks, errors; and on a real Dask cluster on loopback (a scheduler
and two worker processes), a worker killed mid-trial loses no result and duplicates none."""

from __future__ import annotations

import math
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from distributed import LocalCluster

from hil.errors import ConfigError
from hil.executor import SYNCHRONOUS, Executor, ProgressLines, check_scheduler
from hil.trials.runner import run_trial
from hil.trials.spec import LIBRARY_DIR, TrialSpec, trial_from_text

TRIAL = f"""
name = "fault_test"
population = "{LIBRARY_DIR / 'snd_intact_av.toml'}"
patients = 14
seed = 5
duration_s = 240
endpoints = ["ventricular_paced_percent"]
[[arms]]
name = "nominal"
mode = "DDD"
[[arms]]
name = "long_av"
mode = "DDD"
parameters = {{ fixed_av_delay_ms = 300, upper_rate_ppm = 105 }}
"""


def small_trial(tmp_path: Path) -> TrialSpec:
    path = tmp_path / "fault_test.toml"
    path.write_text(TRIAL)
    return trial_from_text(TRIAL, path)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """A scheduler and two single-threaded worker processes on loopback."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as c:
        yield c


# --- in this process ---------------------------------------------------------------------------


def test_synchronous_map_keeps_order_and_delivers_each_item_once() -> None:
    seen: list[int] = []
    progress: list[tuple[int, int]] = []
    with Executor(SYNCHRONOUS) as ex:
        out = ex.map_batched(math.factorial, list(range(10)), batch_size=3,
                             on_batch=lambda idx, vals: seen.extend(idx),
                             on_progress=lambda d, t: progress.append((d, t)))
    assert out == [math.factorial(i) for i in range(10)]
    assert sorted(seen) == list(range(10))
    assert progress == [(3, 10), (6, 10), (9, 10), (10, 10)]


def test_synchronous_adaptive_batches_grow_from_a_single_probe() -> None:
    sizes: list[int] = []
    with Executor(SYNCHRONOUS, target_task_s=10.0) as ex:
        out = ex.map_batched(math.factorial, list(range(100)),
                             on_batch=lambda idx, vals: sizes.append(len(idx)))
    assert out == [math.factorial(i) for i in range(100)]
    # the probe, then a quarter of what is left (fast items: the cap, not the time, decides)
    assert sizes[:3] == [1, math.ceil(99 / 4), math.ceil((99 - 25) / 4)] and sum(sizes) == 100


def test_an_error_in_an_item_is_raised_to_the_caller() -> None:
    with Executor(SYNCHRONOUS) as ex, pytest.raises(ValueError, match="not defined for negative"):
        ex.map_batched(math.factorial, [1, -1])


@pytest.mark.parametrize("address", ["http://host:8786", "tcp://", "host", "tcp://a b:1"])
def test_a_bad_scheduler_address_is_a_config_error(address: str) -> None:
    with pytest.raises(ConfigError, match="is not a Dask scheduler address") as info:
        check_scheduler(address)
    assert info.value.value == address and info.value.source == "--scheduler"


@pytest.mark.parametrize("address", [None, SYNCHRONOUS, "tcp://10.0.0.5:8786", "node1:8786",
                                     "tls://sched.example.org:8786"])
def test_good_scheduler_addresses(address: str | None) -> None:
    assert check_scheduler(address) == address


def test_an_unreachable_scheduler_is_a_config_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConfigError, match="could not reach the Dask scheduler"), \
            Executor(f"tcp://127.0.0.1:{port}", connect_timeout_s=1.0):
        pass


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match="workers=0"):
        Executor(workers=0)
    with pytest.raises(ConfigError, match="batch_size=0"), Executor(SYNCHRONOUS) as ex:
        ex.map_batched(math.factorial, [1], batch_size=0)


def test_progress_lines_without_a_terminal_are_lines_with_an_eta(tmp_path: Path) -> None:
    out = tmp_path / "log.txt"
    with out.open("w") as stream:
        p = ProgressLines("trial x", "patient-arms", stream=stream, interval_s=0.0)
        p.update(5, 20)
        p.update(20, 20)
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and "\r" not in out.read_text()
    assert lines[0].startswith("trial x: 5/20 patient-arms (25 %)") and "ETA" in lines[0]
    assert lines[1].startswith("trial x: 20/20 patient-arms (100 %)")


# --- on the cluster ----------------------------------------------------------------------------


def test_adaptive_batches_on_the_cluster(cluster: LocalCluster) -> None:
    sizes: list[int] = []
    seen: list[int] = []

    def batch(idx: list[int], _vals: list[int]) -> None:
        sizes.append(len(idx))
        seen.extend(idx)

    with Executor(cluster.scheduler_address, target_task_s=1.0) as ex:
        assert "2 workers x 1 thread" in ex.describe() and "dashboard http" in ex.describe()
        out = ex.map_batched(math.factorial, list(range(200)), on_batch=batch)
    assert out == [math.factorial(i) for i in range(200)]
    assert sorted(seen) == list(range(200))  # every item exactly once
    # one probe item per worker (the first result is a probe; the other may arrive later),
    # then batches of at most a quarter of each worker's share: 198 left -> 25 per batch
    assert sizes[0] == 1 and sizes.count(1) == 2 and max(sizes) == math.ceil(198 / 2 / 4)


def test_a_worker_killed_mid_trial_loses_no_result_and_duplicates_none(
        cluster: LocalCluster, tmp_path: Path) -> None:
    spec = small_trial(tmp_path)
    killed: dict[str, object] = {}

    with Executor(cluster.scheduler_address) as ex:
        client = ex.client
        assert client is not None

        def kill_a_busy_worker(done: int, total: int) -> None:
            if killed:
                return
            busy = {w: keys for w, keys in client.processing().items() if keys}
            if not busy:
                return
            worker, keys = next(iter(busy.items()))
            pid = client.run(os.getpid, workers=[worker])[worker]
            os.kill(pid, signal.SIGKILL)
            killed.update(worker=worker, pid=pid, keys=list(keys), at=done)

        run = run_trial(spec, tmp_path / "dask", ex, batch_size=1,
                        on_progress=kill_a_busy_worker)
        assert killed, "no worker was busy when the first result arrived"
        assert killed["keys"] and int(str(killed["at"])) < spec.patients * 2
        # the killed process is gone: the workers now answering are others
        assert killed["pid"] not in client.run(os.getpid).values()
    # complete and unique: every patient in both arms, once, in the parts as written
    parts = [pq.read_table(p) for p in (tmp_path / "dask" / "results").glob("part-*.parquet")]
    written = [(pid, arm) for t in parts for pid, arm in zip(
        t.column("patient_id").to_pylist(), t.column("arm").to_pylist(), strict=True)]
    expected = {(i, a) for i in range(spec.patients) for a in ("nominal", "long_av")}
    assert len(written) == len(expected) and set(written) == expected
    assert run.computed == len(expected) and run.resumed == 0
    # and the same results as the same trial run without Dask, in this process
    with Executor(SYNCHRONOUS) as ex:
        plain = run_trial(spec, tmp_path / "plain", ex)
    assert pq.read_table(tmp_path / "dask" / "results.parquet").drop(["wall_s"]).equals(
        pq.read_table(tmp_path / "plain" / "results.parquet").drop(["wall_s"]))
    assert plain.summary.estimate("ventricular_paced_percent", "nominal").value == \
        run.summary.estimate("ventricular_paced_percent", "nominal").value


def test_a_scheduler_without_workers_is_a_config_error() -> None:
    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1",
                      dashboard_address=None) as empty, \
            pytest.raises(ConfigError, match="has no workers"), \
            Executor(empty.scheduler_address, connect_timeout_s=1.0):
        pass
