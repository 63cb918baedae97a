"""What a bench run produced and concluded: the results the runner returns and every reader
(console, JUnit, HTML, CLI, pytest plugin, suite) reads.

This module imports no report, instrument or session driver: results flow from the runner to the
readers, never back.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devicetwin.conformance import MatchResult, MonitorReport, Verdict
from devicetwin.conformance.hazards import Hazard, HazardFinding
from devicetwin.outcomes import Outcomes, merge_findings, outcome_hazards
from devicetwin.pacemaker import Programming
from hil.devices import Capabilities, DeviceIdentity
from hil.devices.profile import DeviceProfile
from hil.errors import HilError
from hil.scenarios import Scenario
from hil.session.lockstep import LoopOutput

#: One criterion of a run: conformance's judged measurement (``devicetwin.conformance.Verdict``),
#: declared with its value, unit, limits and requirement ID (comma-joined when several) and
#: judged by ``devicetwin.conformance.judge``. A criterion with nothing to judge is not applicable
#: (``status``): it does not fail the run (``failed`` is False) and is not counted as a pass.
#: ``statistics`` are the signed timing errors behind it, as (label, stats) in microseconds.
Criterion = Verdict


@dataclass
class RunResult:
    """Everything a bench run produced and concluded."""

    scenario: Scenario
    programming: Programming
    device: DeviceIdentity
    loop: LoopOutput
    conformance: MatchResult
    monitors: MonitorReport
    criteria: list[Criterion]
    realtime_factor: float
    wall_s: float
    outcomes: Outcomes
    capabilities: Capabilities = field(default_factory=Capabilities)
    """What the device can do and shows: conformance and the monitors judged ``reports``."""
    profile: DeviceProfile | None = None
    out_dir: Path | None = None
    artefacts: dict[str, Path] = field(default_factory=dict)
    realtime: dict[str, Any] | None = None  # real-time measurements (hil.session.realtime)

    @property
    def hazards(self) -> dict[Hazard, HazardFinding]:
        """Each hazard as the monitors and the patient's outcome found it (either detects)."""
        return hazard_findings(self.monitors, self.outcomes)

    def hazard_flags(self) -> dict[str, bool]:
        """``{hazard name: detected}``, monitors and outcome together."""
        return {h.value: f.detected for h, f in self.hazards.items()}

    @property
    def passed(self) -> bool:
        """True when no criterion failed (a not-applicable one does not) and the run was not
        cut short."""
        return self.loop.interrupted is None and not any(c.failed for c in self.criteria)

    @property
    def verdict(self) -> str:
        """``pass`` or ``fail``."""
        return "pass" if self.passed else "fail"

    def explain(self) -> str:
        """Why the run passed or failed, in a few lines (an assertion message): the verdict, a
        cut-short run's reason and each failed criterion with what was measured and required.
        The full console table is ``hil.reports.console.run_summary``."""
        lines = [f"{self.scenario.name}: {self.verdict.upper()} on {self.device.model} "
                 f"{self.device.firmware_version}"
                 + (f" (fault {self.device.fault})" if self.device.fault else "")]
        if self.loop.interrupted:
            lines.append(f"  run cut short: {self.loop.interrupted}")
        lines += [f"  failed {c.name}: {c.sentence}" for c in self.criteria if c.failed]
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` content."""
        conf = self.conformance.to_dict()
        return {
            "scenario": self.scenario.name,
            "verdict": self.verdict,
            "interrupted": self.loop.interrupted,
            "signal": (signal.Signals(self.loop.signal).name
                       if self.loop.signal is not None else None),
            "duration_s": self.loop.end_us / 1e6,
            "device_events": conf["device_events"],
            "predicted_events": conf["predicted_events"],
            "matched_events": conf["matched_events"],
            "precision": conf["precision"],
            "recall": conf["recall"],
            "timing_error_ms": conf["timing_error_ms"],
            "discrepancy_counts": conf["discrepancy_counts"],
            "hazards": self.hazard_flags(),
            "outcomes": self.outcomes.to_dict(),
            "criteria": [
                {"name": c.name, "status": c.status.value, "passed": not c.failed,
                 "measured": c.value, "unit": c.unit, "required": c.required,
                 "requirement": c.requirement_id, "sentence": c.sentence}
                for c in self.criteria
            ],
            "timing_statistics_us": {
                "by_kind": {k.value: st.to_dict()
                            for k, st in self.conformance.timing_by_kind.items()},
                "by_monitor": {name: st.to_dict()
                               for name, st in self.monitors.timing_statistics().items()},
            },
            "realtime_factor": self.realtime_factor,
            "wall_s": self.wall_s,
            "loop": {
                "windows": self.loop.stats.windows,
                "rollbacks": self.loop.stats.rollbacks,
                "heart_s": self.loop.stats.heart_s,
                "device_s": self.loop.stats.device_s,
                "twin_s": self.loop.stats.twin_s,
                "record_s": self.loop.stats.record_s,
            },
            "device": self.device.to_dict(),
            "device_capabilities": self.capabilities.to_dict(),
            "judged_kinds": sorted(k.name for k in self.capabilities.reports),
            "programming_source": ("device-defined (profile "
                                   f"{self.profile.name}: {self.profile.source})"
                                   if self.programming.device_defined and self.profile
                                   else "scenario"),
            "device_profile": self.profile.to_dict() if self.profile else None,
            **({"realtime": self.realtime} if self.realtime is not None else {}),
        }


def hazard_findings(monitors: MonitorReport, outcomes: Outcomes) -> dict[Hazard, HazardFinding]:
    """A run's hazards: the monitors' findings and the outcome's, merged (either detects)."""
    return merge_findings(monitors.hazards, outcome_hazards(outcomes))


@dataclass(frozen=True, slots=True)
class SuiteEntry:
    """The outcome of one run in a suite or a mutant table: small and picklable, what a worker
    process sends back.

    ``verdict`` is ``pass``, ``fail``, ``n/a`` (the scenario needs what the device lacks),
    ``error`` (the run could not start) or ``interrupted``. ``failed`` names the failed
    criteria and ``failures`` gives their sentences. ``device`` is the identity the device gave
    (``DeviceIdentity.to_dict()``, as text), or only its ``spec`` when it was never reached.
    ``out_dir`` is the run's evidence folder (None without ``--out``).
    """

    scenario: str
    fault: str | None
    verdict: str
    failed: tuple[str, ...]
    realtime_factor: float
    wall_s: float
    error: str | None = None
    exit_code: int = 0  # hil.exitcodes: what this run alone would have exited with
    requirements: tuple[str, ...] = ()
    device: tuple[tuple[str, str], ...] = ()
    failures: tuple[str, ...] = ()
    out_dir: str | None = None

    @property
    def variant(self) -> str:
        """The firmware variant: the seeded fault, or ``clean``."""
        return self.fault or "clean"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the suite's ``summary.json`` entries)."""
        return {
            "scenario": self.scenario, "fault": self.fault, "verdict": self.verdict,
            "failed": list(self.failed), "failures": list(self.failures), "error": self.error,
            "exit_code": self.exit_code, "realtime_factor": self.realtime_factor,
            "wall_s": self.wall_s, "requirements": list(self.requirements),
            "device": dict(self.device), "out_dir": self.out_dir,
        }


def summary_json(result: RunResult) -> str:
    """``summary.json`` text."""
    return json.dumps(result.summary(), indent=2, default=str) + "\n"


def write_summary(result: RunResult) -> Path:
    """Write ``summary.json`` into the run's output folder and return its path."""
    if result.out_dir is None:
        raise HilError(f"run of {result.scenario.name!r} has no output folder", name="out_dir",
                       value=None, expected="a folder to write summary.json into")
    path = result.out_dir / "summary.json"
    path.write_text(summary_json(result))
    return path


#: Writes the rest of a finished run's evidence into ``result.out_dir`` (JUnit, HTML report,
#: manifest), given the files the run already wrote there (its record and ``summary.json``), and
#: lists everything in ``result.artefacts``. ``hil.reports.evidence.write_evidence`` is one.
EvidenceWriter = Callable[[RunResult, Sequence[Path]], None]


__all__ = ["Criterion", "EvidenceWriter", "RunResult", "SuiteEntry", "hazard_findings",
           "summary_json", "write_summary"]
