"""The ISO 14708-2-style measurement suite over a bench (AWG, digitizer, programmer).

Each test is a function ``test(bench, programming, settings) -> list[Measurement]``; the
:class:`devicetwin.conformance.Measurement` records carry value, unit, limits (from the
programming and the specification's tolerances, pacing.md section 1) and a requirement ID; the
code that acquires them never judges them (``devicetwin.conformance.judge`` does).

Every stimulus goes through :func:`stimulate`: load the AWG (channel 1 atrial, 2 ventricular),
output on, trigger, wait (``bench.advance_s`` when the bench runs in simulated time, else real
time), then read the digitizer's running record (channel 1 atrial load, 2 ventricular load).
Record time 0 is the AWG's trigger, so test-pulse onsets and pace edges share one time base.
Nothing else differs between a simulated, an emulated and a real bench.

Entry point: :func:`run_suite`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from devicetwin.conformance import Limits, Measurement
from devicetwin.pacemaker import Mode, Programming
from hil.instruments.interfaces import (
    AwgChannelSetup,
    ChannelSetup,
    FloatArray,
    VisaBench,
    Waveform,
)
from hil.measure.errors import NoPulseError
from hil.measure.signals import pulse_train
from hil.measure.waveform import (
    Estimate,
    Pulse,
    PulseSettings,
    av_intervals_ms,
    find_pulses,
    mean_interval_ms,
    rate_ppm,
)

TOL_MS = 8.0  # interval tolerance (LRL, AV, refractory rows of the spec table)
AMPLITUDE_TOL = 0.12  # +-12 %
WIDTH_TOL_MS = 0.2
SENSITIVITY_TOL = 0.20  # +-20 %
ISO_PULSE_GAIN = 31.0 / 32.0  # y16 = 15.5 A for the 2/13 ms triangle at 1 kHz
MAGNET_RATE_BOL_PPM = 100.0
_MAGNET_ON = 3
_MAGNET_OFF = 4
_SYNC_PULSES = 4
_RECORD_WAIT_S = 1.0
MISSING = math.nan  # an expected value the device did not produce: fails every limit
_TRAIN_PULSES = 7
_JUDGE_FROM = 3  # trains are judged after this pulse (sync as above)

Stimulus = dict[int, FloatArray]


@dataclass(frozen=True, slots=True)
class SuiteSettings:
    """Instrument settings and search resolutions of the suite."""

    awg_rate_hz: float = 1000.0
    volts_per_mv: float = 1e-3
    scope_rate_hz: float = 100_000.0
    scope_range_v: float = 20.0
    refractory_resolution_ms: float = 2.0
    sensitivity_steps: int = 6
    pulse: PulseSettings = field(default_factory=PulseSettings)


@dataclass(frozen=True, slots=True)
class Capture:
    """What one stimulus produced: the pulses on each channel, and the raw captures."""

    atrial: list[Pulse]
    ventricular: list[Pulse]
    waveforms: tuple[Waveform, Waveform]

    def paces(self, channel: int) -> list[Pulse]:
        return self.atrial if channel == 1 else self.ventricular

    def leads_ms(self, channel: int) -> list[float]:
        return [p.t_lead_s * 1e3 for p in self.paces(channel)]


def _simulated(bench: VisaBench) -> bool:
    """True when the bench runs in simulated time (it has ``simulated_time`` and ``advance_s``)."""
    return bool(getattr(bench, "simulated_time", False)) and callable(
        getattr(bench, "advance_s", None))


def _wait(bench: VisaBench, seconds: float) -> None:
    if _simulated(bench):
        bench.advance_s(seconds)  # type: ignore[attr-defined]
    else:
        time.sleep(seconds)


def setup_bench(bench: VisaBench, settings: SuiteSettings) -> None:
    """Configure the AWG and digitizer channels once."""
    for ch in (1, 2):
        bench.awg.configure_channel(ch, AwgChannelSetup(sample_rate_hz=settings.awg_rate_hz))
        bench.scope.configure_channel(ch, ChannelSetup(range_v=settings.scope_range_v))
    bench.scope.configure_timebase(settings.scope_rate_hz)


def stimulate(bench: VisaBench, stimulus: Stimulus, duration_s: float,
              settings: SuiteSettings) -> Capture:
    """Play ``stimulus`` (AWG channel -> volts) from record time 0 for ``duration_s``; capture."""
    for ch in (1, 2):
        wave = stimulus.get(ch, np.zeros(1))
        bench.awg.load_waveform(ch, wave)
        bench.awg.output(ch, True)
    bench.awg.trigger()
    _wait(bench, duration_s)
    deadline = time.monotonic() + _RECORD_WAIT_S
    while (not _simulated(bench) and bench.scope.record_time_s() < duration_s
           and time.monotonic() < deadline):
        time.sleep(0.002)  # the record completes a few ms after the wall clock
    n = round(duration_s * settings.scope_rate_hz)
    wa = bench.scope.fetch(n, 1, 0.0)
    wv = bench.scope.fetch(n, 2, 0.0)
    for ch in (1, 2):
        bench.awg.output(ch, False)
    cfg = PulseSettings(
        threshold_v=settings.pulse.threshold_v, width_fraction=settings.pulse.width_fraction,
        load_ohm=float(getattr(bench, "load_ohm", settings.pulse.load_ohm)),
        load_tolerance_ohm=settings.pulse.load_tolerance_ohm,
        guard_fraction=settings.pulse.guard_fraction, timebase_ppm=settings.pulse.timebase_ppm,
    )
    return Capture(find_pulses(wa, cfg), find_pulses(wv, cfg), (wa, wv))


def program(bench: VisaBench, programming: Programming) -> None:
    """Send the whole programming through the bench's programmer (if it has one)."""
    if bench.programmer is not None:
        params: dict[str | int, int] = dict(programming.to_wire_units().items())
        bench.programmer.program(params)


def lri_ms(programming: Programming) -> float:
    """The lower-rate interval, ms."""
    return 60000.0 / programming.lower_rate_ppm


def _paced_channel(mode: Mode) -> int:
    return 2 if mode.paces_ventricle else 1


def _m(name: str, req: str, value: float | None, unit: str, low: float | None,
       high: float | None, description: str) -> Measurement:
    return Measurement(name, req, value, unit, Limits(low, high), description)


def _u(est: Estimate | None) -> str:
    """`` (+-u unit)`` for a description."""
    return "" if est is None else f" (+-{est.uncertainty:.2g} {est.unit})"


def _triangles(onsets_ms: Sequence[float], amplitude_mv: float, polarity: int,
               settings: SuiteSettings, duration_ms: float) -> FloatArray:
    return pulse_train(onsets_ms, amplitude_mv, settings.awg_rate_hz, polarity=polarity,
                       volts_per_mv=settings.volts_per_mv, duration_ms=duration_ms)


def _sensitivity_mv(programming: Programming, channel: int) -> float:
    return (programming.atrial_sensitivity_mv if channel == 1
            else programming.ventricular_sensitivity_mv)


def _refractory_ms(programming: Programming, channel: int) -> int:
    return programming.arp_ms if channel == 1 else programming.vrp_ms


# --- pacing output -----------------------------------------------------------------------------

def pacing_output(bench: VisaBench, programming: Programming,
                  settings: SuiteSettings | None = None, *,
                  evidence: list[Capture] | None = None) -> list[Measurement]:
    """Pacing interval and rate, pulse amplitude (leading, trailing, mean), width, energy and
    charge into the load, and (dual-chamber paced modes) the AV interval, with no input.
    The capture is appended to ``evidence`` when given (for the report's pulse plot)."""
    cfg = settings or SuiteSettings()
    lri = lri_ms(programming)
    cap = stimulate(bench, {}, 4.2 * lri / 1000.0, cfg)
    if evidence is not None:
        evidence.append(cap)
    out: list[Measurement] = []
    mode = programming.mode
    for ch, prefix, paced in ((1, "atrial", mode.paces_atrium), (2, "ventricular",
                                                                  mode.paces_ventricle)):
        if not paced:
            continue
        pulses = cap.paces(ch)
        amp = (programming.atrial_amplitude_v if ch == 1 else programming.ventricular_amplitude_v)
        if amp is None:  # output Off: nothing to measure on this channel
            continue
        width = (programming.atrial_pulse_width_ms if ch == 1
                 else programming.ventricular_pulse_width_ms)
        interval = rate = MISSING
        u_i = u_r = ""
        if len(pulses) >= 2:
            est = mean_interval_ms(pulses)
            r_est = rate_ppm(est)
            interval, rate, u_i, u_r = est.value, r_est.value, _u(est), _u(r_est)
        out.append(_m(f"{prefix}.pacing_interval_ms", "A-2", interval, "ms", lri - TOL_MS,
                      lri + TOL_MS, f"mean {prefix} pacing interval{u_i}"))
        out.append(_m(f"{prefix}.pacing_rate_ppm", "A-2", rate, "ppm",
                      60000.0 / (lri + TOL_MS), 60000.0 / (lri - TOL_MS),
                      f"{prefix} pacing rate{u_r}"))
        p = pulses[0] if pulses else None
        out.append(_m(f"{prefix}.pulse_amplitude_v", "SPEC-PULSE-AMPLITUDE",
                      p.leading_edge_v.value if p else MISSING, "V", amp * (1 - AMPLITUDE_TOL),
                      amp * (1 + AMPLITUDE_TOL),
                      f"{prefix} leading-edge pulse amplitude"
                      f"{_u(p.leading_edge_v if p else None)}"))
        out.append(_m(f"{prefix}.pulse_width_ms", "SPEC-PULSE-WIDTH",
                      p.width_ms.value if p else MISSING, "ms", width - WIDTH_TOL_MS,
                      width + WIDTH_TOL_MS,
                      f"{prefix} pulse width at 50 % of the leading edge"
                      f"{_u(p.width_ms if p else None)}"))
        for attr, unit, what in (("trailing_edge_v", "V", "trailing-edge amplitude"),
                                 ("mean_v", "V", "mean amplitude"),
                                 ("energy_uj", "uJ", "energy into the load"),
                                 ("charge_uc", "uC", "charge into the load")):
            e = getattr(p, attr) if p else None
            out.append(_m(f"{prefix}.pulse_{attr}", "SPEC-PULSE-AMPLITUDE",
                          e.value if e else None, unit, None, None,
                          f"{prefix} pulse {what}{_u(e)} (informational)"))
    if mode.paces_atrium and mode.paces_ventricle:
        avs = av_intervals_ms(cap.atrial, cap.ventricular)
        av = float(np.mean([a.value for a in avs])) if avs else MISSING
        pav = programming.fixed_av_delay_ms
        out.append(_m("av.paced_av_interval_ms", "A-3", av, "ms", pav - TOL_MS, pav + TOL_MS,
                      "mean paced AV interval (AP to VP leading edges)"))
    return out


# --- sensing: escape, refractory, sensitivity ---------------------------------------------------

def _sensing_channel(programming: Programming) -> int | None:
    mode = programming.mode
    if mode in (Mode.VVI, Mode.VVIR):
        return 2
    if mode in (Mode.AAI, Mode.AAIR):
        return 1
    return None


def _sync_ms(programming: Programming, channel: int) -> float:
    """Gap of the synchronising test pulses: beyond refractory, under the LRI (60 ms beyond
    refractory, or half way to the LRI when that is closer)."""
    refractory = _refractory_ms(programming, channel)
    return min(refractory + 60.0, (refractory + lri_ms(programming)) / 2)


def _sync_onsets(programming: Programming, channel: int) -> list[float]:
    """Four synchronising pulses: an ignored one (in refractory after a pace) shifts the next
    one's phase, and one of the first three is sensed; from then on every one is (the gap is
    beyond refractory and under the LRI), so the last one restarts the timing."""
    g = _sync_ms(programming, channel)
    return [100.0 + k * g for k in range(_SYNC_PULSES)]


def _paces_between(cap: Capture, channel: int, lo_ms: float, hi_ms: float) -> list[float]:
    return [t for t in cap.leads_ms(channel) if lo_ms <= t < hi_ms]


def escape_interval(bench: VisaBench, programming: Programming,
                    settings: SuiteSettings | None = None) -> list[Measurement]:
    """Escape interval after a sensed test pulse (AAI/VVI): two supra-threshold pulses (the
    second is sensed whatever the first met), then the first pace; measured from the second
    pulse's onset (detection is on its rising edge, within the 2 ms rise)."""
    cfg = settings or SuiteSettings()
    ch = _sensing_channel(programming)
    if ch is None:
        return []
    lri = lri_ms(programming)
    amp = 3.0 * _sensitivity_mv(programming, ch)
    onsets = _sync_onsets(programming, ch)
    dur = onsets[-1] + lri + 300.0
    cap = stimulate(bench, {ch: _triangles(onsets, amp, 1, cfg, dur)}, dur / 1000.0, cfg)
    after = _paces_between(cap, ch, onsets[-1], dur)
    before = _paces_between(cap, ch, onsets[-2], onsets[-1])
    value = after[0] - onsets[-1] if after and not before else MISSING
    rise = 2.0
    return [_m(f"{_name(ch)}.escape_interval_ms", "A-2", value, "ms", lri - TOL_MS,
               lri + TOL_MS + rise, "escape interval after a sensed test pulse (from its onset)")]


def _name(ch: int) -> str:
    return "atrial" if ch == 1 else "ventricular"


def probe_inhibits(bench: VisaBench, programming: Programming, ch: int, delay_ms: float,
                   after_pace: bool, cfg: SuiteSettings) -> tuple[bool, float] | None:
    """One refractory probe: sync pulses, then a probe ``delay_ms`` after the pace that follows
    them (``after_pace``) or after the last sync pulse. Returns (inhibited, actual delay)."""
    lri = lri_ms(programming)
    amp = 3.0 * _sensitivity_mv(programming, ch)
    syncs = _sync_onsets(programming, ch)
    s2 = syncs[-1]
    anchor_nominal = s2 + lri if after_pace else s2
    probe = anchor_nominal + delay_ms
    dur = probe + lri + 300.0
    cap = stimulate(bench, {ch: _triangles([*syncs, probe], amp, 1, cfg, dur)},
                    dur / 1000.0, cfg)
    if after_pace:
        first = _paces_between(cap, ch, s2, probe)
        if not first:
            return None
        anchor = first[-1]
    else:
        anchor = s2
    nxt = _paces_between(cap, ch, anchor + 1.0, dur)
    if not nxt:
        return None
    # Ignored: next pace one escape after the anchor; sensed: one escape after the probe.
    inhibited = bool(abs(nxt[0] - (probe + lri)) < abs(nxt[0] - (anchor + lri)))
    return inhibited, probe - anchor


def refractory_period(bench: VisaBench, programming: Programming, *, after_pace: bool,
                      settings: SuiteSettings | None = None) -> list[Measurement]:
    """Paced (``after_pace``) or sensed refractory period (AAI: ARP, VVI: VRP): bisect the
    probe's delay until the shortest delay that inhibits, to ``refractory_resolution_ms``."""
    cfg = settings or SuiteSettings()
    ch = _sensing_channel(programming)
    if ch is None:
        return []
    lri = lri_ms(programming)
    lo, hi = 60.0, lri - 60.0
    found_hi = MISSING
    for _ in range(12):
        if hi - lo <= cfg.refractory_resolution_ms:
            break
        mid = (lo + hi) / 2
        res = probe_inhibits(bench, programming, ch, mid, after_pace, cfg)
        if res is None:
            break
        inhibited, actual = res
        if inhibited:
            hi, found_hi = actual, actual
        else:
            lo = actual
    expected = _refractory_ms(programming, ch)
    kind = "paced" if after_pace else "sensed"
    label = "arp" if ch == 1 else "vrp"
    return [_m(f"{_name(ch)}.{kind}_refractory_{label}_ms", "A-5", found_hi, "ms",
               expected - TOL_MS, expected + TOL_MS,
               f"{kind} refractory period (shortest probe onset that inhibits, search "
               f"bracket {hi - lo:.2g} ms)")]


def train_inhibits(bench: VisaBench, programming: Programming, ch: int, amplitude_mv: float,
                   polarity: int, cfg: SuiteSettings) -> bool:
    """Seven triangles at (refractory + LRI) / 2: inhibited when no pace follows the fourth
    (three periods, longer than the LRI, so a device that ignores them paces there)."""
    lri = lri_ms(programming)
    period = (_refractory_ms(programming, ch) + lri) / 2
    onsets = [100.0 + k * period for k in range(_TRAIN_PULSES)]
    dur = onsets[-1] + period
    cap = stimulate(bench, {ch: _triangles(onsets, amplitude_mv, polarity, cfg, dur)},
                    dur / 1000.0, cfg)
    return not _paces_between(cap, ch, onsets[_JUDGE_FROM], dur)


def sensitivity(bench: VisaBench, programming: Programming,
                settings: SuiteSettings | None = None) -> list[Measurement]:
    """Sensitivity threshold, both polarities: bisection on the triangle's amplitude between
    0.5x and 1.5x the programmed sensitivity (1/64 of it after 6 steps); the threshold is the
    smallest amplitude that inhibited. Limits: programmed sensitivity +-20 %."""
    cfg = settings or SuiteSettings()
    ch = _sensing_channel(programming)
    if ch is None:
        return []
    sens = _sensitivity_mv(programming, ch)
    out = []
    for polarity, tag in ((1, "positive"), (-1, "negative")):
        lo, hi = 0.5 * sens, 1.5 * sens
        found = hi if train_inhibits(bench, programming, ch, hi, polarity, cfg) else MISSING
        for _ in range(0 if math.isnan(found) else cfg.sensitivity_steps):
            mid = (lo + hi) / 2
            if train_inhibits(bench, programming, ch, mid, polarity, cfg):
                hi = found = mid
            else:
                lo = mid
        out.append(_m(f"{_name(ch)}.sensitivity_{tag}_mv", "A-16", found, "mV",
                      sens * (1 - SENSITIVITY_TOL), sens * (1 + SENSITIVITY_TOL),
                      f"sensitivity threshold, {tag} ISO 14708-2 triangle (2 ms / 13 ms; "
                      f"search bracket {hi - lo:.2g} mV)"))
    return out


# --- demand, asynchronous, magnet ---------------------------------------------------------------

def _measured_interval_ms(bench: VisaBench, programming: Programming, cfg: SuiteSettings) -> float:
    ch = _paced_channel(programming.mode)
    cap = stimulate(bench, {}, 3.2 * lri_ms(programming) / 1000.0, cfg)
    pulses = cap.paces(ch)
    if len(pulses) < 2:
        raise NoPulseError(
            f"{len(pulses)} pace(s) in {3.2 * lri_ms(programming):.0f} ms: no rate to drive at",
            name="pulses", value=len(pulses), expected=">= 2 paces",
        )
    return mean_interval_ms(pulses).value


def _paces_during_train(bench: VisaBench, programming: Programming, ch: int, period_ms: float,
                        cfg: SuiteSettings, count: int = _TRAIN_PULSES) -> int:
    amp = 3.0 * _sensitivity_mv(programming, ch)
    onsets = [100.0 + k * period_ms for k in range(count)]
    dur = onsets[-1] + min(period_ms, lri_ms(programming)) - 20.0
    cap = stimulate(bench, {ch: _triangles(onsets, amp, 1, cfg, dur)}, dur / 1000.0, cfg)
    return len(_paces_between(cap, ch, onsets[_JUDGE_FROM], dur))


def demand_test(bench: VisaBench, programming: Programming,
                settings: SuiteSettings | None = None) -> list[Measurement]:
    """Underdrive at 85 % of the measured rate (the device must pace) and overdrive at 115 %
    (it must be inhibited), with supra-threshold triangles on the sensed channel."""
    cfg = settings or SuiteSettings()
    ch = _sensing_channel(programming)
    if ch is None:
        return []
    interval = _measured_interval_ms(bench, programming, cfg)
    under = _paces_during_train(bench, programming, ch, interval / 0.85, cfg)
    over = _paces_during_train(bench, programming, ch, interval / 1.15, cfg)
    return [
        _m("demand.underdrive_paces", "A-2", under, "paces", 1, None,
           "paces during an underdrive train at 85 % of the measured rate"),
        _m("demand.overdrive_paces", "A-2", over, "paces", 0, 0,
           "paces during an overdrive train at 115 % of the measured rate"),
    ]


def asynchronous_test(bench: VisaBench, programming: Programming, *, reprogram: bool = True,
                      settings: SuiteSettings | None = None) -> list[Measurement]:
    """The asynchronous mode (VOO/AOO/DOO of the programming) paces at the LRI regardless of
    an overdrive train of supra-threshold triangles. ``reprogram=False`` leaves the device as
    it is (to check the test against a device that stays in a demand mode)."""
    cfg = settings or SuiteSettings()
    asyn = programming.replace(mode=programming.mode.asynchronous)
    if reprogram:
        program(bench, asyn)
    ch = _paced_channel(asyn.mode)
    lri = lri_ms(programming)
    period = 0.6 * lri
    onsets = [100.0 + k * period for k in range(7)]
    dur = onsets[-1] + period
    try:
        cap = stimulate(bench, {ch: _triangles(onsets, 3.0 * _sensitivity_mv(programming, ch),
                                               1, cfg, dur)}, dur / 1000.0, cfg)
    finally:
        if reprogram:
            program(bench, programming)
    paces = cap.paces(ch)
    interval = mean_interval_ms(paces).value if len(paces) >= 2 else MISSING
    return [_m("asynchronous.pacing_interval_ms", "A-2", interval, "ms", lri - TOL_MS,
               lri + TOL_MS, f"pacing interval in {asyn.mode.value} under an overdrive train")]


def magnet_rate(bench: VisaBench, programming: Programming,
                settings: SuiteSettings | None = None) -> list[Measurement]:
    """Magnet rate (Magnet state): 100 ppm at beginning of life, interval +-8 ms."""
    cfg = settings or SuiteSettings()
    if bench.programmer is None:
        return []
    bench.programmer.set_state(_MAGNET_ON)
    try:
        ch = _paced_channel(programming.mode)
        cap = stimulate(bench, {}, 3.2 * 0.6, cfg)
    finally:
        bench.programmer.set_state(_MAGNET_OFF)
    paces = cap.paces(ch)
    rate = rate_ppm(mean_interval_ms(paces)).value if len(paces) >= 2 else MISSING
    nominal = 60000.0 / MAGNET_RATE_BOL_PPM
    return [_m("magnet.rate_ppm", "A-15", rate, "ppm", 60000.0 / (nominal + TOL_MS),
               60000.0 / (nominal - TOL_MS), "asynchronous rate with the magnet applied (BOL)")]


def run_suite(bench: VisaBench, programming: Programming,
              settings: SuiteSettings | None = None, *,
              evidence: list[Capture] | None = None) -> list[Measurement]:
    """Program the device, then run every test that applies to its mode, in order.

    Tests that do not apply return nothing: escape, refractory, sensitivity and demand run in
    AAI/VVI (+R); pacing output, asynchronous and magnet in every mode that paces.
    """
    cfg = settings or SuiteSettings()
    setup_bench(bench, cfg)
    program(bench, programming)
    out = pacing_output(bench, programming, cfg, evidence=evidence)
    out += escape_interval(bench, programming, cfg)
    out += refractory_period(bench, programming, after_pace=True, settings=cfg)
    out += refractory_period(bench, programming, after_pace=False, settings=cfg)
    out += sensitivity(bench, programming, cfg)
    out += demand_test(bench, programming, cfg)
    out += asynchronous_test(bench, programming, settings=cfg)
    out += magnet_rate(bench, programming, cfg)
    return out

