"""``devicetwin measure``: the ISO 14708-2-style measurement suite on a bench."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from devicetwin.conformance import judge
from devicetwin.pacemaker import Mode, Programming
from hil.instruments.bench import open_bench
from hil.measure.report import write_measure_report
from hil.measure.simbench import SimBench
from hil.measure.suite import Capture, run_suite


def add_parser(sub: Any) -> None:
    """Add the ``measure`` subcommand to the ``devicetwin`` parser's subparsers."""
    p = sub.add_parser("measure", help="run the bench measurement suite (ISO 14708-2 style) "
                       "over VISA instruments (emulated by default)")
    p.add_argument("--awg", default="emulated", help="AWG VISA resource (default: emulated)")
    p.add_argument("--scope", default="emulated", help="digitizer VISA resource")
    p.add_argument("--analyzer", default=None, help="analyzer port or resource (default none)")
    p.add_argument("--device", default="emulated",
                   help="the programmer's device URL (default: the emulated host firmware)")
    p.add_argument("--fault", default=None, help="seeded-fault firmware variant (emulated)")
    p.add_argument("--mode", default="VVI", type=str.upper, choices=[m.name for m in Mode],
                   metavar="MODE", help="pacing mode to program, e.g. VVI, DDD (default VVI)")
    p.add_argument("--lrl", type=int, default=60, help="lower rate limit, ppm (default 60)")
    p.add_argument("--simulated", action="store_true",
                   help="in-process simulated bench in simulated time (reference model)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for junit.xml, report.html, measurements.json")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the suite, print one line per verdict, write the evidence; 0 when all passed."""
    prog = Programming(mode=Mode[args.mode], lower_rate_ppm=args.lrl)
    evidence: list[Capture] = []
    start = time.perf_counter()
    if args.simulated:
        with SimBench(prog) as sim:
            ms = run_suite(sim, prog, evidence=evidence)
    else:
        with open_bench(args.awg, args.scope, args.analyzer, args.device,
                        fault=args.fault) as bench:
            ms = run_suite(bench, prog, evidence=evidence)
    wall = time.perf_counter() - start
    verdicts = [judge(m) for m in ms]
    for v in verdicts:
        print(("FAIL " if v.failed else "PASS " if v.passed else "N/A  ") + v.sentence)
    print(f"{sum(v.passed for v in verdicts)}/{len(verdicts)} passed in {wall:.1f} s")
    if args.out is not None:
        plot = None
        for cap in evidence:
            for ch in (2, 1):
                if cap.paces(ch):
                    plot = (cap.waveforms[ch - 1], cap.paces(ch)[0])
                    break
            if plot:
                break
        files = write_measure_report(ms, args.out, plot=plot,
                                     title=f"measurement suite, {prog.mode.value}")
        for path in files.values():
            print(f"wrote {path}")
    return 1 if any(v.failed for v in verdicts) else 0
