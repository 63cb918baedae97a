"""Many runs: a suite of scenarios in parallel over cores, and the seeded-fault (mutant) table."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from hil.devices.profile import load_profile
from hil.errors import NotApplicableError
from hil.exitcodes import ExitCode, exit_code_for, exit_code_of_run
from hil.interrupts import interruption_text, received_signal, shielded, signal_of
from hil.reports.evidence import write_evidence
from hil.results import SuiteEntry
from hil.scenarios import library_names, load_scenario, resolve
from hil.session.runner import run_scenario


def run_one(path: str, device: str, fault: str | None, out_dir: str | None,
            profile: str | None = None) -> SuiteEntry:
    """One run of a suite, as a worker process runs it: plain, picklable arguments (the scenario
    file, the device URL, the seeded fault, the evidence folder, the device profile file) and a
    small picklable :class:`SuiteEntry` back. Writes the run's evidence when ``out_dir`` is set.
    """
    t0 = time.perf_counter()
    scenario = load_scenario(path)
    reqs = scenario.requirements
    # the device as asked for, until it answers with its identity
    unreached = (("spec", device),) + ((("profile", profile),) if profile else ())
    if received_signal() is not None:  # the suite is stopping: start no new run
        return SuiteEntry(scenario.name, fault, "interrupted", (), 0.0, 0.0, "not started",
                          requirements=reqs, device=unreached, out_dir=out_dir)
    try:
        result = run_scenario(scenario, device, fault=fault,
                              out_dir=Path(out_dir) if out_dir else None,
                              profile=load_profile(profile) if profile else None,
                              evidence=write_evidence)
    except NotApplicableError as err:  # the scenario asks what this device cannot do
        return SuiteEntry(scenario.name, fault, "n/a", (), 0.0, time.perf_counter() - t0,
                          str(err), ExitCode.PASSED, reqs, unreached, out_dir=out_dir)
    except Exception as err:  # a run that cannot even start is a failed entry, not a crash
        return SuiteEntry(scenario.name, fault, "error", (), 0.0, time.perf_counter() - t0,
                          f"{type(err).__name__}: {err}",
                          exit_code_for(err) or ExitCode.INTERNAL, reqs, unreached,
                          out_dir=out_dir)
    except KeyboardInterrupt as exc:  # stopped before its loop ran
        return SuiteEntry(scenario.name, fault, "interrupted", (), 0.0,
                          time.perf_counter() - t0, interruption_text(exc), requirements=reqs,
                          device=unreached, out_dir=out_dir)
    failed = [c for c in result.criteria if c.failed]
    identity = tuple((k, "" if v is None else str(v))
                     for k, v in result.device.to_dict().items())
    return SuiteEntry(scenario.name, fault, result.verdict, tuple(c.name for c in failed),
                      result.realtime_factor, result.wall_s, result.loop.interrupted,
                      exit_code_of_run(result.passed, result.loop.signal), reqs, identity,
                      tuple(c.sentence for c in failed), out_dir)


def _stop_workers(pool: ProcessPoolExecutor, signum: int) -> None:
    """Pass an interruption on to the runs in progress and wait for their evidence.

    The workers are forked with the bench's handlers (hil.interrupts), so the signal ends each
    run as it ends a single one: record closed, summary and reports written, device stopped.
    Runs not yet started are cancelled.
    """
    with shielded():
        for child in multiprocessing.active_children():
            if child.pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(child.pid, signum)
        pool.shutdown(wait=True, cancel_futures=True)


def suite_exit_code(entries: Sequence[SuiteEntry]) -> ExitCode:
    """A suite's exit code: a run that could not start (2, 3, 4) outranks a failed verdict (1)."""
    codes = {ExitCode(e.exit_code) for e in entries}
    for code in (ExitCode.INTERNAL, ExitCode.DEVICE, ExitCode.CONFIG, ExitCode.FAILED):
        if code in codes:
            return code
    return ExitCode.PASSED


def expand(names_or_dir: Sequence[str]) -> list[Path]:
    """Scenario files from names, files and folders (all library scenarios when empty)."""
    if not names_or_dir:
        return [resolve(n) for n in library_names()]
    out: list[Path] = []
    for item in names_or_dir:
        p = Path(item)
        out.extend(sorted(p.glob("*.toml")) if p.is_dir() else [resolve(item)])
    return out


def run_suite(
    paths: Sequence[Path],
    *,
    device: str = "emulated",
    faults: Sequence[str | None] = (None,),
    jobs: int | None = None,
    out_dir: Path | None = None,
    on_done: Callable[[SuiteEntry, int, int], None] | None = None,
    profile: Path | None = None,
) -> list[SuiteEntry]:
    """Run every scenario against every firmware variant, ``jobs`` processes at a time; with
    ``out_dir``, each run's evidence goes to ``out_dir/<variant>/<scenario file stem>`` (the
    variant is the fault, or ``clean``). ``on_done(entry, done, total)`` hears of each run as it
    ends."""
    work = [(str(p), f) for f in faults for p in paths]
    jobs = max(1, jobs or os.cpu_count() or 1)
    results: list[SuiteEntry] = []

    def target(path: str, fault: str | None) -> str | None:
        if out_dir is None:
            return None
        return str(out_dir / (fault or "clean") / Path(path).stem)

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_one, p, device, f, target(p, f),
                               str(profile) if profile else None) for p, f in work]
        try:
            for fut in as_completed(futures):
                entry = fut.result()
                results.append(entry)
                if on_done is not None:
                    on_done(entry, len(results), len(work))
        except KeyboardInterrupt as exc:
            _stop_workers(pool, signal_of(exc))
            raise
    order = {(str(p), f): i for i, (p, f) in enumerate(work)}
    by_name = {Path(p).stem: p for p, _ in work}
    results.sort(key=lambda e: order.get((by_name.get(e.scenario, ""), e.fault), 0))
    return results


def mutant_table(entries: Sequence[SuiteEntry]) -> dict[str, Any]:
    """``mutants.json``: did the clean firmware pass everything, and who caught each fault."""
    clean = [e for e in entries if e.fault is None]
    faults: dict[str, list[str]] = {}
    for e in entries:
        if e.fault is not None:
            faults.setdefault(e.fault, [])
            if e.verdict not in ("pass", "n/a"):
                faults[e.fault].append(e.scenario)
    return {
        "clean_passed": bool(clean) and all(e.verdict in ("pass", "n/a") for e in clean),
        "clean_failures": {e.scenario: list(e.failed) or [e.error or e.verdict]
                           for e in clean if e.verdict not in ("pass", "n/a")},
        "faults": faults,
        "undetected": sorted(f for f, caught in faults.items() if not caught),
    }


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    """Write a JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


__all__ = ["SuiteEntry", "expand", "mutant_table", "run_one", "run_suite", "suite_exit_code",
           "write_json"]
