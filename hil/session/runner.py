"""Run one scenario against one device and judge it: the bench's main job.

``run_scenario`` builds the heart, connects and programs the device, runs the closed loop with the
twin shadowing, scores the device's events against the twin and the monitors, and writes the
evidence (WFDB record, summary, manifest, JUnit, HTML report) when given an output folder.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devicetwin.conformance import (
    HAZARD_MONITOR,
    MatchResult,
    MatchTolerance,
    MonitorReport,
    SignedStats,
    TimingLimits,
    VerdictStatus,
    match,
    run_monitors,
)
from devicetwin.conformance import LowerRateTiming as ConfTiming
from devicetwin.conformance.hazards import Hazard, HazardFinding
from devicetwin.heart import Heart, get_condition
from devicetwin.outcomes import (
    Outcomes,
    OutcomeSettings,
    compute_outcomes,
    merge_findings,
    outcome_hazards,
)
from devicetwin.pacemaker import (
    PARAMETERS,
    DeviceState,
    LowerRateTiming,
    PacemakerModel,
    Programming,
    ProgrammingError,
    interval_ms,
    state_programming,
)
from hil.devices import (
    Capabilities,
    DeviceIdentity,
    DeviceOptions,
    open_device,
    split_url,
)
from hil.devices.contract import not_capable
from hil.devices.profile import DeviceProfile
from hil.devices.registry import REALTIME_ONLY_KINDS
from hil.errors import ConfigError, HilError
from hil.instruments.session import VISA_REALTIME
from hil.interrupts import interruption_text, shielded, signal_of
from hil.scenarios import Scenario
from hil.scenarios.model import TimelineEntry
from hil.session.lockstep import LockstepLoop, LoopOutput
from hil.session.mapping import activations_for_monitors, programming_from
from hil.session.realtime import RealtimeLoop, RealtimeOptions, realtime_judgement
from hil.session.recorder import SessionRecorder
from hil.session.timeline import device_timeline, schedule_on_heart


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of a run, with what was measured and what was required.

    ``passed`` says whether the criterion lets the run pass. A criterion with nothing to judge
    (a monitor that saw nothing of its kind) has ``applicable`` False: its ``status`` is
    not applicable, it does not fail the run (``passed`` stays True) and reports do not count
    it as a pass. ``statistics`` are the signed timing errors behind it, as (label, stats) in
    microseconds: labelled by marker kind for conformance (device minus twin), one with an
    empty label for an interval monitor (measured minus expected).
    """

    name: str
    passed: bool
    measured: Any
    required: str
    requirement: str = ""
    applicable: bool = True
    statistics: tuple[tuple[str, SignedStats], ...] = ()

    def __post_init__(self) -> None:
        if not self.applicable and not self.passed:
            raise HilError(f"criterion {self.name!r} is not applicable yet marked failed",
                           name="passed", value=self.passed,
                           expected="True for a not-applicable criterion")

    @property
    def status(self) -> VerdictStatus:
        """Pass, fail or not applicable."""
        if not self.applicable:
            return VerdictStatus.NOT_APPLICABLE
        return VerdictStatus.PASS if self.passed else VerdictStatus.FAIL


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
        """True when every criterion passed and the run was not cut short."""
        return self.loop.interrupted is None and all(c.passed for c in self.criteria)

    @property
    def verdict(self) -> str:
        """``pass`` or ``fail``."""
        return "pass" if self.passed else "fail"

    def explain(self) -> str:
        """The console summary: verdict, conformance, hazards and failed criteria."""
        from hil.reports.console import run_summary

        return run_summary(self)

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
                {"name": c.name, "passed": c.passed, "status": c.status.value,
                 "measured": c.measured, "required": c.required, "requirement": c.requirement}
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


def timing_limits(programming: Programming, tolerance_us: int = 8000) -> TimingLimits:
    """The monitors' limits for a programming (its mode's escape, upper rate, AV, refractory),
    with a timing tolerance of ``tolerance_us`` microseconds."""
    p = programming
    v = p.value
    hyst = v("hysteresis_rate_ppm")
    ext = v("pvarp_extension_ms")
    rate_adaptive = p.mode.rate_adaptive
    return TimingLimits(
        mode=p.mode.name,
        lri_ms=p.lri_ms,
        uri_ms=p.uri_ms,
        pav_ms=v("fixed_av_delay_ms"),
        sav_ms=max(30, v("fixed_av_delay_ms") + (v("sensed_av_offset_ms") or 0)),
        vrp_ms=v("vrp_ms"),
        arp_ms=v("arp_ms"),
        pvarp_ms=v("pvarp_ms"),
        pvarp_extension_ms=ext or None,
        hysteresis_interval_ms=interval_ms(hyst) if hyst else None,
        msri_ms=interval_ms(v("max_sensor_rate_ppm")) if rate_adaptive else None,
        dynamic_av_min_ms=v("min_dynamic_av_delay_ms") if v("dynamic_av_delay") else None,
        sensed_av_offset_ms=v("sensed_av_offset_ms") or 0,
        tolerance_us=tolerance_us,
        convention=(ConfTiming.ATRIAL if v("lower_rate_timing") is LowerRateTiming.ATRIAL
                    else ConfTiming.VENTRICULAR),
        ventricular_blanking_ms=v("ventricular_blanking_ms"),
        vsp_window_ms=v("vsp_window_ms"),
        safety_pacing=bool(v("safety_pacing")),
        pvab_ms=v("pvab_ms"),
        noise_interval_ms=v("noise_interval_ms"),
        atr_enabled=bool(v("atr_mode")),
        atr_duration_cycles=v("atr_duration_cycles"),
        atr_fallback_time_min=v("atr_fallback_time_min"),
        pmt_termination=bool(v("pmt_termination")),
        pmt_cycles=v("pmt_cycles"),
        pmt_va_max_ms=v("pmt_va_max_ms"),
        pmt_pvarp_ms=v("pmt_pvarp_ms"),
    )


def _judge(scenario: Scenario, conf: MatchResult, monitors: MonitorReport,
           outcomes: Outcomes) -> list[Criterion]:
    exp = scenario.expect
    req = ",".join(scenario.requirements)
    out = [
        Criterion("conformance.recall", conf.recall >= exp.min_recall, round(conf.recall, 4),
                  f">= {exp.min_recall}", req),
        Criterion("conformance.precision", conf.precision >= exp.min_precision,
                  round(conf.precision, 4), f">= {exp.min_precision}", req),
        Criterion("conformance.timing_error_max_ms",
                  conf.timing_error.max_ms <= exp.max_timing_error_ms,
                  round(conf.timing_error.max_ms, 3), f"<= {exp.max_timing_error_ms} ms", req,
                  statistics=tuple((k.value, st) for k, st in conf.timing_by_kind.items())),
    ]
    flags = {h.value: f.detected for h, f in hazard_findings(monitors, outcomes).items()}
    for hazard, must in exp.hazards.items():
        found = flags.get(hazard, False)
        out.append(Criterion(f"hazard.{hazard}", found == must, found,
                             "detected" if must else "not detected", f"HAZ-{hazard}"))
    wanted = set(exp.monitors)
    for v in monitors.verdicts:
        # hazards the scenario provokes on purpose are judged by the hazard criteria above
        if wanted and v.name.split(".")[0] not in wanted and v.name not in wanted:
            continue
        if not wanted and exp.hazards.get(_hazard_of(v.name), False):
            continue
        out.append(Criterion(
            f"monitor.{v.name}", not v.failed, v.value, v.sentence, v.requirement_id,
            applicable=v.applicable,
            statistics=() if v.signed_error is None else (("", v.signed_error),)))
    return out


def hazard_findings(monitors: MonitorReport, outcomes: Outcomes) -> dict[Hazard, HazardFinding]:
    """A run's hazards: the monitors' findings and the outcome's, merged (either detects)."""
    return merge_findings(monitors.hazards, outcome_hazards(outcomes))


def _outcome_criteria(scenario: Scenario, outcomes: Outcomes) -> list[Criterion]:
    """One criterion per ``[expect.outcomes]`` limit, judged on the patient's outcome; a measure
    the run could not take (a rate without two beats) is not applicable."""
    values = outcomes.values()
    req = ",".join(scenario.requirements)
    out = []
    for lim in scenario.expect.outcomes:
        value = values[lim.name]
        out.append(Criterion(f"outcome.{lim.name}", value is None or lim.holds(value), value,
                             lim.text, req, applicable=value is not None))
    return out


#: The hazard (by name) that each monitor's verdicts stand as evidence of (one monitor each).
_HAZARD_OF_MONITOR = {monitor: h.value for h, monitor in HAZARD_MONITOR.items()}


def _hazard_of(verdict_name: str) -> str:
    """The hazard a verdict is evidence of (its monitor's hazard), or '' for none."""
    return _HAZARD_OF_MONITOR.get(verdict_name.split(".")[0], "")


def build_heart(scenario: Scenario) -> Heart:
    """The scenario's patient."""
    cond = get_condition(scenario.condition)
    if scenario.condition_overrides:
        cond = cond.with_changes(**dict(scenario.condition_overrides))
    return Heart(cond, seed=scenario.seed)


def run_scenario(
    scenario: Scenario,
    device: str = "emulated",
    *,
    out_dir: Path | str | None = None,
    fault: str | None = None,
    key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    realtime: bool = False,
    realtime_options: RealtimeOptions | None = None,
    via: str = "bridge",
    instruments: dict[str, str] | None = None,
    profile: DeviceProfile | None = None,
) -> RunResult:
    """Run ``scenario`` against ``device`` in lock-step and judge it.

    Parameters
    ----------
    profile:
        A device profile (``hil.devices.profile``): its URL replaces ``device``; what it says
        the device reports, whether it is programmed, the programming it runs (device-defined,
        replacing the scenario's) and its kind's settings.
    device:
        ``emulated`` (host firmware), ``qemu``, or any firmware_bridge URL.
    out_dir:
        Where to write the record, summary, manifest, JUnit and HTML report (nothing if None).
    fault:
        A seeded-fault firmware variant (emulated devices only).
    realtime:
        Drive the loop by the wall clock (STREAM, the device's own clock; hil.session.realtime)
        instead of lock-step; conformance then allows the measured latency (docs/realtime.md).
    via:
        ``bridge`` (the device URL as given) or ``visa``, the same as the URL
        ``analog+<device>``: the heart's electrograms through the AWG, the paces from the scope
        (hil.devices.analog; always real time; judged on paces, the only markers it shows).
    instruments:
        For the analog kind: resources ``awg``, ``scope``, ``analyzer`` (emulated by default).
    """
    if via not in ("bridge", "visa"):
        raise ConfigError(f"via {via!r}", name="via", value=via, expected="bridge or visa",
                          source="--via")
    if via == "visa":
        device = f"analog+{device}"
    kind = split_url(device)[0]
    if kind in REALTIME_ONLY_KINDS:
        realtime = True
    if kind == "analog":
        realtime_options = realtime_options or VISA_REALTIME
    wall0 = time.perf_counter()
    if profile is not None:
        device = profile.url
    programming = _programming_run(scenario, profile)
    heart = build_heart(scenario)
    device_actions = schedule_on_heart(heart, scenario.timeline)
    out = Path(out_dir) if out_dir is not None else None
    corrupt = scenario.device_start == "corrupt_store"
    refusals = _refusal_probes(scenario, programming)
    start_state = DeviceState.POWER_ON_RESET if corrupt else DeviceState.PERMANENT
    setup_criteria: list[Criterion] = []
    recorder: SessionRecorder | None = None
    loop: LockstepLoop | RealtimeLoop | None = None
    try:
        options = DeviceOptions(fault=fault, key=key, corrupt_store=corrupt,
                                instruments=instruments or {},
                                profile=profile.settings if profile is not None else {})
        with open_device(device, options) as dev:
            capabilities = _declared(dev.capabilities, profile)
            _check_capabilities(scenario, dev.identity.spec, capabilities, realtime)
            for changes, wire in refusals:
                nack = dev.program_raw(wire)
                setup_criteria.append(Criterion(
                    f"programming.refused[{_describe(changes)}]", nack is not None,
                    "ACK" if nack is None else f"NACK {nack.reason.name}", "NACK", "A-18"))
            if corrupt:
                state = dev.interrogate().state
                setup_criteria.append(Criterion(
                    "device.power_on_reset_after_corrupt_store",
                    state.name == "POWER_ON_RESET", state.name, "POWER_ON_RESET", "A-15"))
            elif capabilities.programmable or not dev.capabilities.programmable:
                # sent over the wire, or declared to a device that runs it unprogrammed; the
                # twin runs what the device runs (features it lacks switched off)
                programming = dev.program(programming)
            twin = PacemakerModel(programming, state=start_state, follower=True)
            # the record starts once the device answered: an unreachable device leaves no
            # empty record behind, only a summary that says why (_write_stopped_summary)
            recorder = SessionRecorder(out) if out is not None else None

            def apply(entry: TimelineEntry) -> None:
                if entry.action == "magnet":
                    on = bool(entry.params.get("on", True))
                    dev.set_magnet(on)
                    state = DeviceState.MAGNET if on else DeviceState.PERMANENT
                    if isinstance(loop, RealtimeLoop):
                        loop.defer_twin(lambda t_us: twin.enter_state(t_us, state))
                    elif loop is not None:
                        twin.enter_state(loop.now_us, state)

            if realtime:
                loop = RealtimeLoop(heart, dev, twin, recorder=recorder,
                                    timeline=device_timeline(device_actions, apply),
                                    progress=progress, options=realtime_options)
            else:
                loop = LockstepLoop(heart, dev, twin, recorder=recorder,
                                    timeline=device_timeline(device_actions, apply),
                                    progress=progress)
            try:
                output = loop.run_until(scenario.duration_us)
            except HilError as err:  # the device crashed or the link dropped: keep what we have
                output = loop.out
                output.interrupted = str(err)
                output.end_us = loop.now_us
            identity = dev.identity
    except BaseException as err:
        # stopped before the loop could run (unreachable device, refused programming, a
        # signal): no record, a summary that says why, then the error goes on to the caller
        if loop is None and out is not None:
            with shielded():
                if recorder is not None:
                    recorder.close()
                    recorder.remove()
                _write_stopped_summary(out, scenario, device, err)
        raise
    finally:
        if recorder is not None:
            with shielded():
                recorder.close()
    with shielded():  # judging and writing the evidence finish even if a signal arrives now
        return _judge_run(scenario, programming, identity, output, loop, setup_criteria,
                          start_state, capabilities, out, recorder, wall0, profile=profile)


def _judge_run(scenario: Scenario, programming: Programming, identity: DeviceIdentity,
               output: LoopOutput, loop: LockstepLoop | RealtimeLoop,
               setup_criteria: list[Criterion], start_state: DeviceState,
               capabilities: Capabilities, out: Path | None, recorder: SessionRecorder | None,
               wall0: float, *, profile: DeviceProfile | None = None) -> RunResult:
    """Score a finished (or cut short) loop and write its evidence."""
    end_us = output.end_us
    rt_criteria: list[Criterion] = []
    rt_summary: dict[str, Any] | None = None
    if isinstance(loop, RealtimeLoop):
        scenario, rt_criteria, rt_summary = realtime_judgement(scenario, loop.rt)
    twin_events = output.twin_events
    monitored = output.device_events
    # judge what the device shows: a device that reports paces only is matched on paces, and
    # only the monitors that need nothing else judge it (devicetwin.conformance.run_monitors)
    reports = capabilities.reports
    twin_events = [e for e in twin_events if e.kind in reports]
    # the scenario's tolerance in whole microseconds: 2.5 ms is 2500 us, not 2 or 3 ms
    tolerance_us = round(scenario.tolerance_ms * 1000)
    conf = match(output.device_events, twin_events,
                 MatchTolerance(tolerance_us=tolerance_us))
    # the monitors judge the programming the device runs: power-on reset after a corrupt store
    running = state_programming(start_state) or programming
    monitors = run_monitors(monitored, timing_limits(running, tolerance_us),
                            activations=activations_for_monitors(output.heart_events),
                            end_us=end_us, reported=reports)
    outcomes = compute_outcomes(
        output.heart_events, [e for e in output.device_events if e.kind.is_pace],
        OutcomeSettings.for_programming(running, end_us, scenario.tolerance_ms))
    result = RunResult(
        scenario=scenario, programming=programming, device=identity, loop=output,
        conformance=conf, monitors=monitors, outcomes=outcomes,
        criteria=(setup_criteria + _judge(scenario, conf, monitors, outcomes)
                  + _outcome_criteria(scenario, outcomes) + rt_criteria),
        realtime_factor=output.stats.realtime_factor(), wall_s=time.perf_counter() - wall0,
        out_dir=out, realtime=rt_summary, capabilities=capabilities, profile=profile,
    )
    if out is not None and recorder is not None:
        from hil.reports.evidence import write_evidence

        write_evidence(result, recorder)
    return result


def _write_stopped_summary(out: Path, scenario: Scenario, device: str,
                           err: BaseException) -> None:
    """``summary.json`` of a run that never reached its loop: which device, and why not."""
    signum = signal_of(err) if isinstance(err, KeyboardInterrupt) else None
    reason = interruption_text(err) if signum is not None else f"{type(err).__name__}: {err}"
    out.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "scenario": scenario.name,
        "verdict": "interrupted" if signum is not None else "error",
        "interrupted": reason if signum is not None else None,
        "signal": signal.Signals(signum).name if signum is not None else None,
        "error": reason if signum is None else None,
        "device": {"spec": device},
        "duration_s": 0.0,
        "criteria": [],
    }
    (out / "summary.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")


def _describe(changes: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in changes.items())


def _refusal_probes(scenario: Scenario, programming: Programming
                    ) -> list[tuple[Mapping[str, Any], dict[str, int]]]:
    """The wire programmings a scenario expects the device to refuse (A-18).

    Each is the scenario's programming with the listed changes. The reference model must refuse
    it too, else the scenario's expectation is wrong and the run stops with an error.
    """
    probes = []
    for changes in scenario.must_refuse:
        unknown = [k for k in changes if k not in PARAMETERS]
        if unknown:
            raise HilError(f"scenario {scenario.name!r}: must_refuse names unknown parameter "
                           f"{unknown[0]!r}", name="must_refuse", value=unknown[0],
                           expected="a parameter name")
        try:
            programming.replace(**changes)
        except ProgrammingError:
            pass
        else:
            raise HilError(
                f"scenario {scenario.name!r} expects the device to refuse {_describe(changes)}, "
                "but the specification allows it", name="must_refuse", value=dict(changes),
                expected="a programming the reference model rejects")
        wire = programming.to_wire_units()
        for name, value in changes.items():
            spec = PARAMETERS[name]
            wire[spec.wire_name] = spec.to_wire(value)
        probes.append((changes, wire))
    return probes


def _programming_run(scenario: Scenario, profile: DeviceProfile | None) -> Programming:
    """The programming the device runs: the scenario's, or the device-defined one of a profile
    for a device that is not programmed (the twin runs the same)."""
    if profile is not None and profile.programming is not None:
        return profile.programming
    return programming_from(scenario.mode, scenario.parameters)


def _declared(caps: Capabilities, profile: DeviceProfile | None) -> Capabilities:
    """The kind's capabilities as a profile narrows them (what the device reports, whether it
    is programmed over the wire)."""
    if profile is None:
        return caps
    changes: dict[str, Any] = {}
    if profile.reports is not None:
        changes["reports"] = profile.reports & caps.reports
    if profile.programmed is not None:
        changes["programmable"] = profile.programmed and caps.programmable
    return dataclasses.replace(caps, **changes)


def _check_capabilities(scenario: Scenario, spec: str, caps: Capabilities,
                        realtime: bool) -> None:
    """Stop with a configuration error when the scenario asks what this device cannot do."""
    needs = [
        (bool(scenario.must_refuse) and not caps.refusal_probes, "answer invalid programmings"),
        (scenario.device_start == "corrupt_store" and not caps.interrogate, "be interrogated"),
        (any(e.action == "magnet" for e in scenario.timeline) and not caps.magnet,
         "take a magnet"),
        (realtime and not caps.realtime, "run in real time"),
        (not realtime and not caps.lockstep, "run in lock-step"),
    ]
    lacking = [f for f in scenario.needs if f in caps.lacks]
    if lacking:
        needs.append((True, f"do {', '.join(lacking)} (it lacks the feature)"))
    for missing, what in needs:
        if missing:
            raise not_capable(spec, f"{what} (scenario {scenario.name!r})")


def summary_json(result: RunResult) -> str:
    """``summary.json`` text."""
    return json.dumps(result.summary(), indent=2, default=str) + "\n"


__all__ = ["Criterion", "RunResult", "build_heart", "run_scenario", "summary_json",
           "timing_limits"]
