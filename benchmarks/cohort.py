"""Benchmark of cohort simulation: the fast heart with the reference model, the fast heart with
the C firmware in lock-step, and the Dask executor.

Run ``.venv/bin/python benchmarks/cohort.py [minutes_per_patient] [repeats]`` (defaults 60, 3).
It prints median figures of repeated runs and, as its last line, one JSON object with

- ``fast_heart_realtime_factor``: simulated / wall time of ``devicetwin.cohort.simulate_patient``
  (``heart="fast"``: the event-level heart and the reference ``PacemakerModel`` at event level,
  outcomes included), one core, over a mix of patients (goal >= 36,000: a patient-day in 2.4 s);
- ``firmware_loop_realtime_factor``: the same patients on the fast heart closed around the C
  firmware linked in-process (``hil.emulator.fastloop``: rendered electrograms in, paces out,
  windows cut at the firmware's next pace and the heart's next sense), one core (goal >= 1,000);
- ``dask_overhead``: wall time of a batch of patients through ``hil.executor.Executor`` on one
  worker over a plain loop in this process (goal <= 1.10; cluster start-up not counted, it is
  printed apart);
- ``patient_days_per_hour_2cores``: simulated patient-days per wall hour through the executor
  with two workers (goal >= 3,000);

plus ``*_cpu`` variants of the two one-core figures (simulated time over this process's CPU
time: what one core does when the machine is shared) and the set-up figures behind them. On a
shared machine the wall figures vary with the load; the medians damp that.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from devicetwin.cohort import simulate_patient
from devicetwin.pacemaker import Mode, Programming
from hil.emulator.fastloop import run_patient
from hil.executor import Executor

US_PER_MIN = 60_000_000
US_PER_DAY = 86_400_000_000
#: Patients of the Dask figures: 120 x 60 min = 5 patient-days, several seconds of work per
#: worker, as a cohort's batch is (a second of work would measure the scheduler's fixed cost)
DASK_PATIENTS = 120


@dataclass(frozen=True)
class Patient:
    """One virtual patient of the benchmark's mix: a heart preset, a seed and a programming."""

    condition: str
    seed: int
    mode: str
    duration_us: int

    def programming(self) -> Programming:
        return Programming.nominal(Mode[self.mode])


#: The mix: sinus node dysfunction, AV block, conduction intact, retrograde VA conduction (DDD)
#: and AF with slow conduction (VVI).
MIX = (("sick_sinus", "DDD"), ("complete_av_block", "DDD"), ("normal_sinus", "DDD"),
       ("retrograde_va", "DDD"), ("mobitz_1", "DDD"), ("atrial_fibrillation", "VVI"))


def patients(n: int, duration_us: int, first_seed: int = 1) -> list[Patient]:
    """``n`` patients cycling through :data:`MIX`, seeds counting up."""
    return [Patient(MIX[i % len(MIX)][0], first_seed + i, MIX[i % len(MIX)][1], duration_us)
            for i in range(n)]


def simulate_one(p: Patient) -> float:
    """One patient through ``simulate_patient`` (fast heart); returns its ventricular pacing %
    (a small result, as a cohort task returns)."""
    run = simulate_patient(p.condition, p.programming(), p.duration_us, p.seed, heart="fast")
    return float(run.outcomes.ventricular_pacing.paced_percent or 0.0)


def firmware_one(p: Patient) -> float:
    """One patient on the fast heart closed around the in-process C firmware (outcomes
    included, as for the reference model); its ventricular pacing %."""
    run = run_patient(p.condition, p.programming(), p.duration_us, p.seed)
    return float(run.outcomes.ventricular_pacing.paced_percent or 0.0)


def timed(fn: Any, items: list[Patient]) -> float:
    return timed_cpu(fn, items)[0]


def timed_cpu(fn: Any, items: list[Patient]) -> tuple[float, float]:
    """Wall and CPU seconds of this process for ``items`` run one after another."""
    start, cpu = time.perf_counter(), time.process_time()
    for p in items:
        fn(p)
    return time.perf_counter() - start, time.process_time() - cpu


def realtime_factor(fn: Any, items: list[Patient], repeats: int, label: str
                    ) -> tuple[float, float]:
    """Medians over ``repeats`` of simulated time over wall time and over this process's CPU
    time (on a shared machine the CPU figure is what one core does; the wall one is what the
    issue's goal names), ``items`` run one after another."""
    simulated_s = sum(p.duration_us for p in items) / 1e6
    runs = [timed_cpu(fn, items) for _ in range(repeats)]
    factors = [simulated_s / wall for wall, _ in runs]
    med = statistics.median(factors)
    med_cpu = statistics.median(simulated_s / cpu for _, cpu in runs)
    print(f"{label}: {len(items)} patients x {items[0].duration_us / US_PER_MIN:g} min, "
          f"median {med:,.0f}x real time over {repeats} runs "
          f"({', '.join(f'{f:,.0f}' for f in factors)}); a patient-day in "
          f"{US_PER_DAY / 1e6 / med:.2f} s; per CPU second {med_cpu:,.0f}x")
    return med, med_cpu


def dask_figures(items: list[Patient], repeats: int) -> tuple[float, float]:
    """(dask_overhead, patient_days_per_hour_2cores)."""
    # the task and its items by reference, from an importable module, as a trial's are
    # (hil.trials.work): what a script's __main__ defines travels by value with every batch,
    # its classes and globals rebuilt on the worker each time
    module = importlib.import_module("cohort")
    simulate_one = module.simulate_one
    items = module.patients(len(items), items[0].duration_us, first_seed=items[0].seed)
    # plain loop and executor alternate, one pair per repeat, and the overhead is the median
    # of the pairs' ratios: a shared machine's load drifts over a minute, and timing every plain
    # run before every Dask run would charge the drift to one side. The plain loop runs with no
    # cluster in this process (a LocalCluster's scheduler shares this process's GIL), so each
    # repeat starts its own one-worker cluster after it; start-up and the first (import) batch
    # are not counted.
    plain: list[float] = []
    one: list[float] = []
    startups: list[float] = []
    for _ in range(repeats):
        plain.append(timed(simulate_one, items))
        start = time.perf_counter()
        with Executor(workers=1) as ex:
            startups.append(time.perf_counter() - start)
            ex.map_batched(simulate_one, items[:1])  # the worker imports the packages once
            t0 = time.perf_counter()
            ex.map_batched(simulate_one, items)
            one.append(time.perf_counter() - t0)
    overhead = statistics.median(d / p for d, p in zip(one, plain, strict=True))
    print(f"dask: 1 worker, {len(items)} patients: median {statistics.median(one):.2f} s vs "
          f"plain loop {statistics.median(plain):.2f} s -> overhead {overhead:.3f} (median of "
          f"{repeats} paired ratios; cluster start-up {statistics.median(startups):.1f} s, "
          "not counted)")
    days = sum(p.duration_us for p in items) / US_PER_DAY
    with Executor(workers=2) as ex:
        ex.map_batched(simulate_one, items[:2], batch_size=1)
        two = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            ex.map_batched(simulate_one, items)
            two.append(time.perf_counter() - t0)
    per_hour = days / (statistics.median(two) / 3600.0)
    print(f"dask: 2 workers, {days:.2f} patient-days: median {statistics.median(two):.2f} s -> "
          f"{per_hour:,.0f} patient-days per hour")
    return overhead, per_hour


def main(argv: list[str]) -> None:
    minutes = float(argv[0]) if argv else 60.0
    repeats = int(argv[1]) if len(argv) > 1 else 3
    duration_us = int(minutes * US_PER_MIN)
    mix = patients(len(MIX), duration_us)
    notes: list[str] = []
    figures: dict[str, Any] = {}
    fast, fast_cpu = realtime_factor(simulate_one, mix, repeats, "fast heart + reference model")
    figures["fast_heart_realtime_factor"] = round(fast)
    figures["fast_heart_realtime_factor_cpu"] = round(fast_cpu)
    firmware, firmware_cpu = realtime_factor(
        firmware_one, mix, repeats, "fast heart + C firmware in-process (lock-step)")
    figures["firmware_loop_realtime_factor"] = round(firmware)
    figures["firmware_loop_realtime_factor_cpu"] = round(firmware_cpu)
    notes.append("firmware loop: electrograms rendered from triangle templates (P 2 mV, "
                 "R 8 mV) at the fast heart's senses")
    overhead, per_hour = dask_figures(patients(DASK_PATIENTS, duration_us, first_seed=100),
                                      repeats)
    figures["dask_overhead"] = round(overhead, 3)
    figures["patient_days_per_hour_2cores"] = round(per_hour)
    figures["minutes_per_patient"] = minutes
    figures["repeats"] = repeats
    figures["notes"] = notes
    for note in notes:
        print(f"note: {note}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
