"""The console summary of a run or a suite: a short table a person reads at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hil.session.runner import RunResult
    from hil.suite import SuiteEntry


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def run_summary(result: RunResult) -> str:
    """Verdict, conformance figures, hazards and failed criteria of one run."""
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
        ["device", "twin", "matched", "precision", "recall", "error p50/p95/max ms"]))
    flags = result.hazard_flags()
    found = [h for h, d in flags.items() if d]
    lines.append("hazards detected: " + (", ".join(found) if found else "none"))
    failed = [c for c in result.criteria if not c.passed]
    if failed:
        lines.append(_table([[c.name, str(c.measured), c.required] for c in failed],
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
