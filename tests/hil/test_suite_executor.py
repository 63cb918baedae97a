"""Suites on the one Dask executor: a run in a worker *thread* stops cooperatively with its
evidence, a SIGTERM to ``devicetwin suite --jobs 2`` ends both runs in progress with theirs and
leaves no process behind, and a suite runs on a ``dask scheduler`` + ``dask worker`` cluster
started here on loopback, with the same verdicts as the same runs in this process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client
from interrupted import check_interrupted_evidence
from processes import alive, children, wait_for, wait_gone

from hil.cli import main
from hil.interrupts import (
    clear_stop,
    install_stop_handlers,
    raise_if_stop_requested,
    request_stop,
    stop_requested,
)
from hil.results import SuiteEntry
from hil.scenarios import resolve
from hil.suite import run_one, run_suite

#: Long enough that no run ends before the stop reaches it, simulated seconds.
LONG_S = 600


def long_copy(folder: Path, name: str) -> Path:
    """The default scenario lasting ``LONG_S`` simulated seconds, as ``folder/name.toml``."""
    text = resolve("bench_default").read_text()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text.replace("duration_s = 30", f"duration_s = {LONG_S}"))
    assert f"duration_s = {LONG_S}" in path.read_text()
    return path


@pytest.fixture
def no_stop() -> Iterator[None]:
    clear_stop()
    yield
    clear_stop()


def test_the_stop_flag_raises_the_signal_it_was_requested_with(no_stop: None) -> None:
    assert stop_requested() is None
    raise_if_stop_requested()  # nothing requested: no effect
    request_stop(signal.SIGHUP)
    request_stop(signal.SIGTERM)  # the first request's signal is kept
    assert stop_requested() == signal.SIGHUP
    with pytest.raises(KeyboardInterrupt) as info:
        raise_if_stop_requested()
    assert getattr(info.value, "signum", None) == signal.SIGHUP
    clear_stop()
    assert stop_requested() is None


def test_stop_handlers_turn_a_signal_into_a_request_not_a_death(no_stop: None) -> None:
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        assert install_stop_handlers()
        os.kill(os.getpid(), signal.SIGTERM)  # default action would end this process
        deadline = time.monotonic() + 5.0
        while stop_requested() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stop_requested() == signal.SIGTERM
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    in_thread: list[bool] = []
    worker = threading.Thread(target=lambda: in_thread.append(install_stop_handlers()))
    worker.start()
    worker.join()
    assert in_thread == [False]  # only a main thread can install handlers


def test_a_run_in_a_thread_stops_at_the_request_with_its_evidence(tmp_path: Path,
                                                                  no_stop: None) -> None:
    out = tmp_path / "run"
    got: list[SuiteEntry] = []
    runner = threading.Thread(daemon=True, target=lambda: got.append(
        run_one(str(long_copy(tmp_path, "long")), "emulated", None, str(out))))
    runner.start()
    try:
        assert wait_for(out / "run.dat", 90.0), "the run never started its record"
        time.sleep(0.5)
    finally:
        request_stop(signal.SIGTERM)
        runner.join(60.0)
    assert not runner.is_alive()
    (entry,) = got
    assert entry.error == "interrupted by SIGTERM"
    assert entry.exit_code == 128 + signal.SIGTERM
    check_interrupted_evidence(out, signal.SIGTERM, LONG_S)


def test_sigterm_to_a_two_worker_suite_ends_both_runs_with_their_evidence(
        tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    long_copy(folder, "long_a")
    long_copy(folder, "long_b")
    out = tmp_path / "suite"
    proc = subprocess.Popen([sys.executable, "-m", "hil.cli", "suite", str(folder), "--jobs", "2",
                             "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for name in ("long_a", "long_b"):
            assert wait_for(out / "clean" / name / "run.dat", 120.0), f"{name} never started"
        tree = children(proc.pid)
        firmware = [pid for w in tree for pid, n in children(w).items() if "fw_host" in n]
        assert len(firmware) == 2, f"expected a firmware under each worker: {tree}"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "dashboard http://127.0.0.1:" in err
    for name in ("long_a", "long_b"):
        check_interrupted_evidence(out / "clean" / name, signal.SIGTERM, LONG_S)
    assert wait_gone(list(tree) + firmware, 15.0) == []


@pytest.fixture
def loopback_cluster(tmp_path: Path) -> Iterator[str]:
    """A ``dask scheduler`` and one ``dask worker`` (one thread) on loopback; the address."""
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--dashboard-address", ":0", "--scheduler-file", str(info)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    procs = [scheduler]
    try:
        assert wait_for(info, 30.0), "the scheduler never wrote its address"
        address = ""
        deadline = time.monotonic() + 10.0
        while not address and time.monotonic() < deadline:
            try:
                address = json.loads(info.read_text())["address"]
            except (ValueError, KeyError):
                time.sleep(0.05)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        yield address
    finally:
        pids = [p.pid for p in procs]
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        assert not any(alive(pid) for pid in pids)


def test_a_suite_on_an_existing_cluster_matches_the_same_runs_in_process(
        tmp_path: Path, loopback_cluster: str) -> None:
    paths = [resolve("aoo_async"), resolve("programming_refused")]
    starts: list[str] = []
    heard: list[tuple[str, int, int]] = []
    remote = run_suite(paths, scheduler=loopback_cluster, out_dir=tmp_path / "remote",
                       on_start=starts.append,
                       on_done=lambda e, n, total: heard.append((e.scenario, n, total)))
    local = run_suite(paths, scheduler="synchronous")
    # the same runs, the same judgement; both scenarios pass on the clean firmware
    assert [(e.scenario, e.verdict, e.failed) for e in remote] == \
        [(e.scenario, e.verdict, e.failed) for e in local] == \
        [("aoo_async", "pass", ()), ("programming_refused", "pass", ())]
    assert sorted(n for _, n, _ in heard) == [1, 2] and {t for *_, t in heard} == {2}
    assert starts and loopback_cluster in starts[0] and "1 workers" in starts[0]
    for p in paths:
        summary = json.loads((tmp_path / "remote" / "clean" / p.stem / "summary.json")
                             .read_text())
        assert summary["verdict"] == "pass"
    with Client(loopback_cluster, timeout=10) as client:  # the runs were that cluster's tasks
        prefixes = client.run_on_scheduler(
            lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert "scenario-run" in prefixes


def test_an_interrupt_stops_a_remote_run_with_its_evidence_and_the_next_suite_runs(
        tmp_path: Path, loopback_cluster: str) -> None:
    out = tmp_path / "remote"
    record = out / "clean" / "long" / "run.dat"
    heard: list[SuiteEntry] = []

    def interrupt_when_running() -> None:
        if wait_for(record, 90.0):
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in this (the client's) process

    signaller = threading.Thread(target=interrupt_when_running, daemon=True)
    with pytest.raises(KeyboardInterrupt):
        signaller.start()
        run_suite([long_copy(tmp_path, "long")], scheduler=loopback_cluster, out_dir=out,
                  on_done=lambda e, n, total: heard.append(e))
    signaller.join(5.0)
    # the remote worker, which no signal of ours reaches, stopped the run as SIGINT would
    (entry,) = heard
    assert entry.error == "interrupted by SIGINT"
    check_interrupted_evidence(out / "clean" / "long", signal.SIGINT, LONG_S)
    # and its stop request does not outlive the suite: the next one runs to its verdict
    (again,) = run_suite([resolve("aoo_async")], scheduler=loopback_cluster)
    assert (again.scenario, again.verdict) == ("aoo_async", "pass")


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--jobs", "0", "--jobs 0 must be at least 1"),
    ("--workers", "-2", "--jobs -2 must be at least 1"),
    ("--scheduler", "tcp://a b", "'tcp://a b' is not a Dask scheduler address"),
])
@pytest.mark.parametrize("command", ["suite", "mutants"])
def test_bad_executor_options_are_configuration_errors(
        command: str, option: str, value: str, said: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "aoo_async", option, value]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
