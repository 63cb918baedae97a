"""HTML report: time to write ``report.html`` for one run, and its size.

Runs a library scenario once (default ``ddd_pmt_recurrent``, 30 s, six PMT episodes), then writes
its report REPEATS times and reports the medians of the wall and CPU time (the CPU time is
steadier on a shared machine), the report's size and its parts (strip pages, ladders).

Usage: python benchmarks/report.py [REPEATS] [SCENARIO] [DURATION_S]
Prints medians of repeated runs; the last line is one JSON object.
"""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hil.reports.html import write_report
from hil.scenarios import load_scenario, resolve
from hil.session.runner import run_scenario


def main(argv: list[str]) -> None:
    repeats = int(argv[0]) if argv and argv[0].isdigit() else 5
    name = argv[1] if len(argv) > 1 else "ddd_pmt_recurrent"
    scenario = load_scenario(resolve(name))
    if len(argv) > 2:
        scenario = dataclasses.replace(scenario, duration_us=round(float(argv[2]) * 1e6))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        result = run_scenario(scenario, out_dir=out)
        walls, cpus = [], []
        path = out / "report.html"
        for _ in range(repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            write_report(result, path)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        page = path.read_text(encoding="utf-8")
    size = len(page.encode())
    pages = len(re.findall(r'<img class="page"', page))
    ladders = len(re.findall(r'<img class="lad"', page))
    figures = {
        "scenario": name,
        "duration_s": result.loop.end_us / 1e6,
        "report_wall_s_median": round(statistics.median(walls), 3),
        "report_cpu_s_median": round(statistics.median(cpus), 3),
        "report_bytes": size,
        "strip_pages": pages,
        "ladders": ladders,
        "repeats": repeats,
    }
    print(f"{name}, {figures['duration_s']:g} s: report in {figures['report_wall_s_median']} s "
          f"wall / {figures['report_cpu_s_median']} s CPU (medians of {repeats}), "
          f"{size / 1e6:.2f} MB, {pages} strip pages, {ladders} ladders")
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
