"""Run one scenario against one device and judge it: the bench's main job.

``run_scenario`` builds the heart, connects and programs the device, runs the closed loop with the
twin shadowing, and scores the device's events against the twin and the monitors. It returns a
``hil.results.RunResult`` whose criteria are conformance verdicts. Given an output folder it
writes the WFDB record and ``summary.json``, then hands the result to the caller's evidence
writer (``hil.reports.evidence.write_evidence``: JUnit, HTML report, manifest). It imports no
report and no instrument: a device kind's real-time defaults come from
``hil.session.realtime.DEFAULT_OPTIONS_BY_KIND``.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from devicetwin.conformance import (
    HAZARD_MONITOR,
    Limits,
    MatchResult,
    MatchTolerance,
    Measurement,
    MonitorReport,
    TimingLimits,
    judge,
    match,
    run_monitors,
)
from devicetwin.conformance import LowerRateTiming as ConfTiming
from devicetwin.heart import Heart, get_condition
from devicetwin.outcomes import UNITS, Outcomes, OutcomeSettings, compute_outcomes
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
from hil.interrupts import interruption_text, shielded, signal_of
from hil.results import (
    Criterion,
    EvidenceWriter,
    RunResult,
    hazard_findings,
    write_summary,
)
from hil.scenarios import Scenario
from hil.scenarios.model import TimelineEntry
from hil.session.lockstep import LockstepLoop, LoopOutput
from hil.session.mapping import activations_for_monitors, programming_from
from hil.session.realtime import (
    DEFAULT_OPTIONS_BY_KIND,
    RealtimeLoop,
    RealtimeOptions,
    realtime_judgement,
)
from hil.session.recorder import SessionRecorder
from hil.session.timeline import device_timeline, schedule_on_heart


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
        judge(Measurement("conformance.recall", req, round(conf.recall, 4), "",
                          Limits(low=exp.min_recall),
                          "share of the twin's events the device matched")),
        judge(Measurement("conformance.precision", req, round(conf.precision, 4), "",
                          Limits(low=exp.min_precision),
                          "share of the device's events the twin predicted")),
        judge(Measurement("conformance.timing_error_max_ms", req,
                          round(conf.timing_error.max_ms, 3), "ms",
                          Limits(high=exp.max_timing_error_ms),
                          "largest |device - twin| timing error of a matched event",
                          signed_errors=tuple((k.value, st)
                                              for k, st in conf.timing_by_kind.items()))),
    ]
    flags = {h.value: f.detected for h, f in hazard_findings(monitors, outcomes).items()}
    for hazard, must in exp.hazards.items():
        found = flags.get(hazard, False)
        out.append(judge(Measurement(
            f"hazard.{hazard}", f"HAZ-{hazard}", _DETECTED[found], "",
            Limits.one_of(_DETECTED[must]), f"hazard {hazard} (monitors and outcome)")))
    wanted = set(exp.monitors)
    for v in monitors.verdicts:
        # hazards the scenario provokes on purpose are judged by the hazard criteria above
        if wanted and v.name.split(".")[0] not in wanted and v.name not in wanted:
            continue
        if not wanted and exp.hazards.get(_hazard_of(v.name), False):
            continue
        out.append(v.renamed(f"monitor.{v.name}"))
    return out


#: A hazard finding as a categorical value.
_DETECTED = {True: "detected", False: "not detected"}


def _outcome_criteria(scenario: Scenario, outcomes: Outcomes) -> list[Criterion]:
    """One criterion per ``[expect.outcomes]`` limit, judged on the patient's outcome; a measure
    the run could not take (a rate without two beats) is not applicable."""
    values = outcomes.values()
    req = ",".join(scenario.requirements)
    out = []
    for lim in scenario.expect.outcomes:
        value = values[lim.name]
        out.append(judge(Measurement(f"outcome.{lim.name}", req, value, UNITS.get(lim.name, ""),
                                     Limits(lim.low, lim.high), f"outcome {lim.name}")))
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
    evidence: EvidenceWriter | None = None,
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
        Where to write the record and ``summary.json`` (nothing if None), and whatever
        ``evidence`` writes.
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
    evidence:
        Called with the judged result and the files written so far, when ``out_dir`` is given:
        writes the rest of the evidence (``hil.reports.evidence.write_evidence``: JUnit, HTML
        report, manifest). The runner itself imports no report.
    """
    if via not in ("bridge", "visa"):
        raise ConfigError(f"via {via!r}", name="via", value=via, expected="bridge or visa",
                          source="--via")
    if via == "visa":
        device = f"analog+{device}"
    kind = split_url(device)[0]
    if kind in REALTIME_ONLY_KINDS:
        realtime = True
    realtime_options = realtime_options or DEFAULT_OPTIONS_BY_KIND.get(kind)
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
                setup_criteria.append(judge(Measurement(
                    f"programming.refused[{_describe(changes)}]", "A-18",
                    "ACK" if nack is None else "NACK", "", Limits.one_of("NACK"),
                    f"the device's answer to the invalid programming {_describe(changes)}"
                    + ("" if nack is None else f" (reason {nack.reason.name})"))))
            if corrupt:
                state = dev.interrogate().state
                setup_criteria.append(judge(Measurement(
                    "device.power_on_reset_after_corrupt_store", "A-15", state.name, "",
                    Limits.one_of(DeviceState.POWER_ON_RESET.name),
                    "the device's state after a corrupt store")))
            elif capabilities.programmable or not dev.capabilities.programmable:
                # sent over the wire, or declared to a device that runs it unprogrammed; the
                # twin runs what the device runs (features it lacks switched off)
                programming = dev.program(programming)
            twin = PacemakerModel(programming, state=start_state, follower=True)
            # the record starts once the device answered: an unreachable device leaves no
            # empty record behind, only a summary that says why (_write_stopped_summary)
            recorder = (SessionRecorder.for_run(out, scenario, programming)
                        if out is not None else None)

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
                          start_state, capabilities, out, recorder, wall0, profile=profile,
                          evidence=evidence)


def _judge_run(scenario: Scenario, programming: Programming, identity: DeviceIdentity,
               output: LoopOutput, loop: LockstepLoop | RealtimeLoop,
               setup_criteria: list[Criterion], start_state: DeviceState,
               capabilities: Capabilities, out: Path | None, recorder: SessionRecorder | None,
               wall0: float, *, profile: DeviceProfile | None = None,
               evidence: EvidenceWriter | None = None) -> RunResult:
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
        files = [*recorder.paths, write_summary(result)]
        result.artefacts = {p.name: p for p in files}
        if evidence is not None:
            evidence(result, files)
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


__all__ = ["build_heart", "run_scenario", "timing_limits"]
