"""The console summary of a run or a suite: a short table a person reads at a glance."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence

from devicetwin.conformance import VerdictStatus
from hil.reports.tables import (
    TimingGroup,
    format_value,
    outcome_rows,
    timing_lines,
    timing_rows,
)
from hil.results import RunResult, SuiteEntry


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def run_summary(result: RunResult) -> str:
    """Verdict, conformance figures, signed timing, hazards, criteria counts, the patient's
    outcome and the failed criteria of one run."""
    conf = result.conformance
    te = conf.timing_error
    head = (f"{result.scenario.name}: {result.verdict.upper()}  "
            f"({result.loop.end_us / 1e6:.1f} s simulated, "
            f"{result.realtime_factor:.1f}x real time, "
            f"device {result.device.model} {result.device.firmware_version}"
            + (f", fault {result.device.fault}" if result.device.fault else "") + ")")
    lines = [head]
    if result.loop.interrupted:
        lines.append(f"  run cut short: {result.loop.interrupted}")
    lines.append(_table(
        [[str(conf.device_events), str(conf.predicted_events), str(conf.matched),
          f"{conf.precision:.3f}", f"{conf.recall:.3f}",
          f"{te.p50_ms:.1f}/{te.p95_ms:.1f}/{te.max_ms:.1f}"]],
        ["device", "twin", "matched", "precision", "recall", "|error| p50/p95/max ms"]))
    rows = timing_rows(result)
    for group, title in ((TimingGroup.KIND, "signed timing, device - twin, ms:"),
                         (TimingGroup.INTERVAL, "signed intervals, measured - expected, ms:")):
        mine = timing_lines([r for r in rows if r.group is group])
        if mine:
            lines.append(title)
            lines += ["  " + t for t in mine]
    found = [h for h, d in result.hazard_flags().items() if d]
    lines.append("hazards detected: " + (", ".join(found) if found else "none"))
    counts = Counter(c.status for c in result.criteria)
    lines.append(f"criteria: {counts[VerdictStatus.PASS]} pass, {counts[VerdictStatus.FAIL]} "
                 f"fail, {counts[VerdictStatus.NOT_APPLICABLE]} N/A")
    na = [c.name for c in result.criteria if c.status is VerdictStatus.NOT_APPLICABLE]
    if na:
        lines.append(textwrap.fill("N/A (nothing to judge): " + ", ".join(na), width=100,
                                   initial_indent="  ", subsequent_indent="    "))
    outcomes = outcome_rows(result)
    if outcomes:
        lines.append(_table([[r.name, r.value, r.unit, r.limit, r.verdict] for r in outcomes],
                            ["outcome", "value", "unit", "limit", "verdict"]))
    failed = [c for c in result.criteria if c.status is VerdictStatus.FAIL]
    if failed:
        lines.append(_table([[c.name, f"{format_value(c.value)} {c.unit}".strip(), c.required]
                             for c in failed],
                            ["failed criterion", "measured", "required"]))
    return "\n".join(lines)


def suite_summary(entries: Sequence[SuiteEntry]) -> str:
    """One line per run."""
    rows = [[e.scenario, e.fault or "-", e.verdict, f"{e.realtime_factor:.0f}x",
             f"{e.wall_s:.1f}", ", ".join(e.failed[:3]) or (e.error or "")[:60]]
            for e in entries]
    return _table(rows, ["scenario", "firmware", "verdict", "speed", "wall s", "failed"])


def mutant_summary(table: dict[str, list[str]], scenarios: Sequence[str]) -> str:
    """Which scenario caught which seeded fault (x = caught)."""
    short = [s[:14] for s in scenarios]
    rows = [[fault, *["x" if s in caught else "." for s in scenarios], str(len(caught))]
            for fault, caught in table.items()]
    return _table(rows, ["fault", *short, "caught by"])
