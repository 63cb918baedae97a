"""The unit of a trial's work, what a worker imports: one patient in one arm.

Items are small (a patient's parameters and an arm's programming as plain values); the worker
builds the condition, the programming, the heart and the device itself (:func:`run_patient_arm`),
so no large object travels in the task graph: a firmware arm's seeded-fault variant is built or
loaded by the worker (:mod:`hil.emulator.variants`). Items go patient by patient, so the arms of
one patient finish close together.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devicetwin.cohort import simulate_patient
from devicetwin.pacemaker.programming import Programming
from devicetwin.population import Patient
from hil.emulator.fastloop import run_patient
from hil.trials.spec import TrialSpec


@dataclass(frozen=True)
class PatientArm:
    """One unit of work: a patient in an arm (plain, small, picklable)."""

    patient: Patient
    arm: str
    mode: str
    parameters: Mapping[str, Any]
    duration_us: int
    heart: str
    device: str = "reference"
    fault: str | None = None


def run_patient_arm(item: PatientArm) -> dict[str, Any]:
    """Simulate one patient in one arm (on a worker) and return its result row."""
    start = time.perf_counter()
    programming = Programming.from_plain(item.mode, item.parameters)
    if item.device == "firmware":
        run = run_patient(item.patient.condition(), programming, item.duration_us,
                          item.patient.seed, fault=item.fault)
    else:
        run = simulate_patient(item.patient.condition(), programming, item.duration_us,
                               item.patient.seed, item.heart)
    return {"patient_id": item.patient.patient_id, "arm": item.arm, **run.outcomes.values(),
            "wall_s": time.perf_counter() - start}


def work_items(spec: TrialSpec, patients: Sequence[Patient]) -> list[PatientArm]:
    """Every (patient, arm) of the trial, patient by patient."""
    return [PatientArm(p, a.name, a.mode, dict(a.parameters), spec.duration_us, spec.heart,
                       a.device, a.fault)
            for p in patients for a in spec.arms]
