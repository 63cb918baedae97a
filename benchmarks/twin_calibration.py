"""Benchmark of twin calibration: one patient from a ten-minute protocol recording.

Run ``.venv/bin/python benchmarks/twin_calibration.py [repeats] [budget]`` (defaults 3,
standard). Each repeat calibrates a different synthetic patient (recorded on the fast heart, so
that the benchmark measures calibration, not the cell heart) in this process, on one core, and
prints median figures; the last line is one JSON object with

- ``prior_table_s``: generation 0 (the prior draws through the protocol), simulated once and
  shared by every patient (cached by ``devicetwin twin calibrate``);
- ``calibrate_s``: the per-patient part (SMC generations, regression, posterior predictive
  check) with the table given;
- ``from_scratch_s``: the two together, what one patient costs with no cache (goal < 120 s on
  two cores; this figure is one core's);

plus ``*_cpu`` variants (this process's CPU time: what one core does when the machine is
shared). On a shared machine the wall figures vary with the load; the medians damp that.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from devicetwin.twin.calibration import (
    calibrate,
    draw_patients,
    fast_segment,
    prior_table,
    simulate_recording,
)
from devicetwin.twin.calibration_protocol import recording_protocol
from hil.twin.calibrate_cmd import DEFAULT_SCALE, PRIOR_SEED, abc_settings


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    budget = sys.argv[2] if len(sys.argv) > 2 else "standard"
    settings = abc_settings(budget)
    w0, c0 = time.perf_counter(), time.process_time()
    table = prior_table(settings.first_batch, fast_segment, scale=DEFAULT_SCALE,
                        seed=PRIOR_SEED)
    table_s, table_cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"prior table: {settings.first_batch} simulations, {table_s:.1f} s "
          f"({table_cpu:.1f} s CPU)", flush=True)
    walls, cpus = [], []
    for k, patient in enumerate(draw_patients(repeats, seed=4242)):
        rec = simulate_recording(patient, recording_protocol(), k, fast_segment)
        w0, c0 = time.perf_counter(), time.process_time()
        calibrate(rec, fast_segment, settings=settings, scale=DEFAULT_SCALE, seed=k,
                  prior_sample=table)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        print(f"patient {k}: {walls[-1]:.1f} s ({cpus[-1]:.1f} s CPU)", flush=True)
    cal_s, cal_cpu = statistics.median(walls), statistics.median(cpus)
    print(json.dumps({
        "budget": budget, "repeats": repeats,
        "prior_table_s": round(table_s, 2), "prior_table_s_cpu": round(table_cpu, 2),
        "calibrate_s": round(cal_s, 2), "calibrate_s_cpu": round(cal_cpu, 2),
        "from_scratch_s": round(table_s + cal_s, 2),
        "from_scratch_s_cpu": round(table_cpu + cal_cpu, 2),
    }))


if __name__ == "__main__":
    main()
