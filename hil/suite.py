"""Many runs: a suite of scenarios on the project's Dask executor, and the seeded-fault table.

Each run is one task (``batch_size=1``: a run is seconds of work) of :func:`run_item` on a
:class:`hil.executor.Executor`: a local cluster by default (``jobs`` worker processes), or the
cluster at ``scheduler``. Entries reach ``on_done`` as the runs end. An interrupt (Ctrl-C,
SIGTERM, SIGHUP) ends every run in progress the way it ends a single run (record closed,
summary and report written, device stopped), cancels the runs not started, and is re-raised.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hil.devices.profile import load_profile
from hil.errors import NotApplicableError
from hil.executor import Executor
from hil.exitcodes import ExitCode, exit_code_for, exit_code_of_run
from hil.interrupts import interruption_text, received_signal, stop_requested
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
    if received_signal() is not None or stop_requested() is not None:  # stopping: no new run
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


#: One run as a task: (scenario file, device URL, seeded fault, evidence folder, profile file).
SuiteItem = tuple[str, str, str | None, str | None, str | None]


def run_item(item: SuiteItem) -> SuiteEntry:
    """:func:`run_one` over one :data:`SuiteItem` (the executor's one-argument task)."""
    return run_one(*item)


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
    scheduler: str | None = None,
    on_start: Callable[[str], None] | None = None,
) -> list[SuiteEntry]:
    """Run every scenario against every firmware variant on the Dask executor.

    ``jobs`` is the local cluster's worker processes (default: one per core); ``scheduler`` a
    running Dask scheduler's address instead (its workers must import ``hil``, reach the
    device and, with ``out_dir``, write to that same folder). With ``out_dir``, each run's
    evidence goes to ``out_dir/<variant>/<scenario file stem>`` (the variant is the fault, or
    ``clean``). ``on_start(text)`` hears where the runs go (workers, dashboard address) and
    ``on_done(entry, done, total)`` of each run as it ends. The runs start longest first (by
    the scenario's simulated duration, so that a long one does not start last and leave the
    other workers idle); entries come back in the order faults x paths. An interrupt is
    re-raised once the runs in progress have ended.
    """
    def target(path: Path, fault: str | None) -> str | None:
        if out_dir is None:
            return None
        return str(out_dir / (fault or "clean") / path.stem)

    items: list[SuiteItem] = [(str(p), device, f, target(p, f), str(profile) if profile else None)
                              for f in faults for p in paths]
    if not items:
        return []
    seconds = {p: load_scenario(p).duration_s for p in paths}
    order = sorted(range(len(items)), key=lambda i: -seconds[paths[i % len(paths)]])
    done = 0

    def arrived(indices: list[int], entries: list[SuiteEntry]) -> None:
        nonlocal done
        for entry in entries:
            done += 1
            if on_done is not None:
                on_done(entry, done, len(items))

    with Executor(scheduler, jobs, stop_runs=True) as ex:
        if on_start is not None:
            on_start(ex.describe())
        entries = ex.map_batched(run_item, [items[i] for i in order], batch_size=1,
                                 on_batch=arrived, name="scenario-run")
    out: list[SuiteEntry] = [entries[0]] * len(items)
    for entry, i in zip(entries, order, strict=True):
        out[i] = entry
    return out


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


__all__ = ["SuiteEntry", "SuiteItem", "expand", "mutant_table", "run_item", "run_one",
           "run_suite", "suite_exit_code", "write_json"]
