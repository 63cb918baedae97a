"""Bench speed: lock-step real-time factor of the default scenario on the host firmware, on
QEMU, on the event-level reference device (``events+emulated``: the bench senses, the device
answers with paces, windows with early stop) and on the host firmware's C linked into the
bench's process (``inprocess+emulated``: no link at all, so what is left is heart, twin and
record), and the wall time of the whole scenario library on two cores.

Usage: python benchmarks/bench.py [REPEATS] [--no-suite]
Prints medians of repeated runs; the last line is one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hil.scenarios import load_scenario, resolve
from hil.session.runner import run_scenario
from hil.suite import expand, run_suite

DEFAULT = "bench_default"


def realtime_factor(device: str, repeats: int) -> tuple[float, list[float], float]:
    """The default scenario, recording on: median lock-step real-time factor of the loop
    (simulated seconds per wall second of the closed loop), its values, and the median wall
    time of the whole run (device start, programming, loop, verdicts, evidence and report)."""
    scenario = load_scenario(resolve(DEFAULT))
    factors, walls = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            result = run_scenario(scenario, device, out_dir=Path(out))
            walls.append(time.perf_counter() - t0)
        if not result.passed:
            print(f"warning: {DEFAULT} did not pass on {device}: {result.explain()}")
        factors.append(result.realtime_factor)
    return statistics.median(factors), factors, statistics.median(walls)


def last_loop_split(device: str) -> dict[str, float]:
    """Where one run's loop time goes (heart, device, twin, record), in seconds."""
    result = run_scenario(load_scenario(resolve(DEFAULT)), device)
    s = result.loop.stats
    return {"loop": round(s.wall_s, 3), "heart": round(s.heart_s, 3),
            "device": round(s.device_s, 3), "twin": round(s.twin_s, 3),
            "record": round(s.record_s, 3)}


def main(argv: list[str]) -> None:
    repeats = int(argv[0]) if argv and argv[0].isdigit() else 5
    figures: dict[str, float] = {}
    for device, key in (("emulated", "lockstep_realtime_factor_host"),
                        ("events+emulated", "lockstep_realtime_factor_events"),
                        ("inprocess+emulated", "lockstep_realtime_factor_inprocess"),
                        ("qemu", "lockstep_realtime_factor_qemu")):
        median, runs, wall = realtime_factor(device, repeats)
        print(f"{key}: median {median:.1f}x over {repeats} runs "
              f"({', '.join(f'{r:.1f}' for r in runs)}); whole {DEFAULT} run incl. device "
              f"start and evidence: median {wall:.2f} s")
        figures[key] = round(median, 2)
        figures[key.replace("lockstep_realtime_factor", "whole_run_s")] = round(wall, 2)
        loop = last_loop_split(device)
        print(f"  loop split (s): {loop}")
    if "--no-suite" not in argv:
        paths = expand([])
        t0 = time.perf_counter()
        entries = run_suite(paths, jobs=2)
        wall = time.perf_counter() - t0
        passed = sum(e.verdict == "pass" for e in entries)
        print(f"suite_wall_s: {wall:.1f} s for {len(paths)} scenarios on 2 jobs "
              f"({passed} passed)")
        figures["suite_wall_s"] = round(wall, 1)
        figures["suite_scenarios"] = len(paths)
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
