"""Running a trial: every patient in every arm (paired), through the executor, with results
written as they arrive and a run that resumes where an earlier one stopped.

The work itself (:mod:`hil.trials.work`) is what workers import; this module, with the
writing, summary and report, runs only in the client.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devicetwin.population import sample_patients
from hil.emulator.variants import firmware_module, variant_path
from hil.executor import Executor
from hil.trials.report import write_report
from hil.trials.spec import TrialSpec
from hil.trials.store import ResultStore, read_table, write_table
from hil.trials.summary import TrialSummary, summarize
from hil.trials.work import run_patient_arm, work_items


@dataclass(frozen=True)
class TrialRun:
    """What :func:`run_trial` did and wrote."""

    summary: TrialSummary
    out_dir: Path
    computed: int
    resumed: int
    wall_s: float
    files: Mapping[str, Path]


def run_trial(spec: TrialSpec, out_dir: Path, executor: Executor, *,
              batch_size: int | None = None,
              on_progress: Callable[[int, int], None] | None = None,
              log: Callable[[str], None] | None = None) -> TrialRun:
    """Run (or resume) ``spec`` into ``out_dir`` on ``executor``; summarise and report.

    Results already in ``out_dir`` from an earlier run of the same trial are kept and their
    (patient, arm) pairs not run again.
    """
    say = log or (lambda _text: None)
    start = time.perf_counter()
    population = spec.population()
    store = ResultStore(out_dir)
    store.open(spec.fingerprint(), spec.name)
    patients = sample_patients(population, spec.patients, spec.seed)
    patients_path = write_table(out_dir / "patients.parquet", [p.row() for p in patients])
    shutil.copyfile(spec.source, out_dir / "trial.toml")
    shutil.copyfile(spec.population_path, out_dir / "population.toml")
    done = store.done_keys()
    items = [it for it in work_items(spec, patients)
             if (it.patient.patient_id, it.arm) not in done]
    total = len(patients) * len(spec.arms)
    if done:
        say(f"resuming: {total - len(items)} of {total} patient-arms already in {out_dir}")
    base = total - len(items)

    def progress(k: int, _n: int) -> None:
        if on_progress is not None:
            on_progress(base + k, total)

    for fault in sorted({it.fault for it in items if it.fault is not None}):
        if not variant_path(fault).exists():  # build it once here, not on every worker
            say(f"building the firmware with seeded fault {fault} (first use, ~20 s)")
        firmware_module(fault)
    progress(0, len(items))  # where this run starts

    def write(_indices: list[int], rows: list[dict[str, Any]]) -> None:
        store.write_batch(rows)

    executor.map_batched(run_patient_arm, items, batch_size=batch_size, on_batch=write,
                         on_progress=progress, name=f"trial-{spec.name}")
    table = store.read()
    write_table(out_dir / "results.parquet", table.to_pylist())
    summary = summarize(spec, table.to_pydict(), read_table(patients_path).to_pydict())
    wall_s = time.perf_counter() - start
    summary_path = out_dir / "summary.json"
    summary_path.write_text(json.dumps(
        {**summary.to_dict(), "computed": len(items), "resumed": base,
         "wall_s": wall_s, "simulated_s_per_patient_arm": spec.duration_s},
        indent=2, default=str) + "\n")
    report = write_report(out_dir / "report.html", spec, population, summary,
                          table.to_pydict(), executor=executor.describe(), wall_s=wall_s)
    return TrialRun(summary, out_dir, len(items), base, wall_s,
                    {"patients": patients_path, "results": out_dir / "results.parquet",
                     "summary": summary_path, "report": report})
