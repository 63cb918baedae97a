"""The closed loop driven by the wall clock: for hardware, which runs on its own clock.

The bench streams the heart's electrograms in STREAM windows of ``window_ms`` samples, each sent
at an absolute ``time.perf_counter`` deadline (``start + k * window_ms``: no drift accumulates
from sleeping), ``lead_ms`` ahead of the device so that its 1 kHz free-running clock always finds
a sample in its ring. The device timestamps its markers on its own clock and sends them
unsolicited; the bench collects them between deadlines.

Times (docs/realtime.md):

* **Session time** is the sample index, as in lock-step: the device's sample at ``T`` is the heart
  over ``[T - 1 ms, T)``, the first window starts with a pre-roll sample at ``T = 0``. The device
  clock ``d0_us`` read by TELEMETRY before streaming is the device time of session sample 0, so a
  device event at device time ``d`` is at session time ``d - d0_us`` (exact while the ring never
  runs dry; underruns are counted).
* **Device clock on the bench clock**: TELEMETRY probes during the run give the device time ``d``
  between a request sent at wall time ``w0`` and its answer at ``w1``; the midpoint is within
  half the round trip of the truth (Cristian's method). ``fit_clock`` fits ``wall = offset +
  rate * d`` through the probes with short round trips (offset only from the best probe until
  they span 2 s). Link latency of an event = bench receive time - model(event device time).
  Window deadlines follow the device's clock through the model, so a drifting device clock
  neither drains nor floods its ring.

A device pace reaches the heart at the next window boundary (the heart already ran ``lead_ms``
ahead and cannot be rolled back in real time); the lag is measured. The follower twin gets the
same samples and each device pace at its session time: it runs ``twin_margin_ms`` behind the
device's estimated clock so that paces arrive before the twin passes their time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from devicetwin.conformance import Limits, Measurement, Verdict, judge
from devicetwin.heart import Heart, HeartOutput, Pace
from devicetwin.pacemaker import MarkerEvent, MarkerKind, PacemakerModel
from devicetwin.pacemaker.sensing import quantize_uv
from firmware_bridge.errors import BridgeError
from firmware_bridge.messages import Stream
from firmware_bridge.wire import ResetKind
from hil.devices.contract import DeviceUnderTest
from hil.errors import HilError
from hil.interrupts import raise_if_stop_requested
from hil.session.lockstep import SAMPLE_US, LoopOutput, TimelineHook
from hil.session.mapping import marker_from_wire, pace_for_heart
from hil.session.recorder import SessionRecorder

if TYPE_CHECKING:
    from hil.scenarios import Scenario


class RealtimeConfigError(HilError):
    """A real-time option is out of range."""


@dataclass(frozen=True, slots=True)
class RealtimeOptions:
    """How the real-time loop paces itself and judges its own timing.

    Attributes
    ----------
    window_ms:
        Samples per STREAM window (and the loop period), 1..100.
    lead_ms:
        How far the stream runs ahead of the device's clock (its ring slack).
    late_threshold_ms:
        A window sent later than this after its deadline counts as a missed deadline.
    max_late_fraction:
        ``realtime.deadlines`` fails when more than this fraction of windows were late.
    twin_margin_ms:
        How far the twin stays behind the device's estimated clock (covers link latency).
    probe_interval_ms:
        Period of the TELEMETRY probes (clock alignment and ring slack).
    """

    window_ms: int = 4
    lead_ms: int = 20
    late_threshold_ms: float = 4.0
    max_late_fraction: float = 0.01
    twin_margin_ms: int = 100
    probe_interval_ms: int = 500

    def __post_init__(self) -> None:
        checks: list[tuple[str, float, float, float]] = [
            ("window_ms", self.window_ms, 1, 100),
            ("lead_ms", self.lead_ms, 0, 1000),
            ("late_threshold_ms", self.late_threshold_ms, 0, 1000),
            ("max_late_fraction", self.max_late_fraction, 0, 1),
            ("twin_margin_ms", self.twin_margin_ms, 1, 10_000),
            ("probe_interval_ms", self.probe_interval_ms, 10, 60_000),
        ]
        for name, value, lo, hi in checks:
            if not lo <= value <= hi:
                raise RealtimeConfigError(f"{name} = {value!r} outside {lo}..{hi}", name=name,
                                          value=value, expected=f"{lo}..{hi}")


#: Real-time options for the instrument path (more latency than a digital link: VISA writes,
#: scope polling every 20 ms): what the analog kind runs with unless told otherwise.
VISA_REALTIME = RealtimeOptions(window_ms=10, lead_ms=40, late_threshold_ms=6.0,
                                max_late_fraction=0.05, twin_margin_ms=200,
                                probe_interval_ms=500)

#: The options a device kind runs with when the caller gives none (``RealtimeOptions()`` for a
#: kind not listed).
DEFAULT_OPTIONS_BY_KIND: dict[str, RealtimeOptions] = {"analog": VISA_REALTIME}


@dataclass(frozen=True, slots=True)
class ClockProbe:
    """One TELEMETRY round trip: sent at ``w0_s``, answered at ``w1_s`` (perf_counter seconds),
    carrying the device time ``device_us``; ``sent_samples`` had been streamed by then."""

    w0_s: float
    w1_s: float
    device_us: int
    sent_samples: int

    @property
    def rtt_ms(self) -> float:
        """Round trip in milliseconds."""
        return (self.w1_s - self.w0_s) * 1e3


def device_clock_offset_s(probes: Sequence[ClockProbe]) -> float | None:
    """The bench wall time of device time 0 from the round trip with the shortest RTT.

    The device read its clock somewhere between sending and receiving; taking the midpoint
    bounds the error by half that round trip (Cristian's method). None without probes.
    """
    if not probes:
        return None
    best = min(probes, key=lambda p: p.w1_s - p.w0_s)
    return (best.w0_s + best.w1_s) / 2 - best.device_us / 1e6


@dataclass(frozen=True, slots=True)
class ClockModel:
    """Device clock on the bench clock: ``wall_s = offset_s + rate * device_us / 1e6``.

    ``rate`` is bench seconds per device second (1 + drift); 1 until the probes span
    ``MIN_FIT_SPAN_S``.
    """

    offset_s: float
    rate: float = 1.0

    def wall_s(self, device_us: float) -> float:
        """Bench time (perf_counter s) at device time ``device_us``."""
        return self.offset_s + self.rate * device_us / 1e6

    def device_us(self, wall_s: float) -> float:
        """Device time at bench time ``wall_s``."""
        return (wall_s - self.offset_s) / self.rate * 1e6


MIN_FIT_SPAN_S = 2.0
MAX_DRIFT = 0.05  # a rate further than 5 % from 1 is not believed (the fit keeps rate 1)


def fit_clock(probes: Sequence[ClockProbe]) -> ClockModel | None:
    """The clock model from the probes: offset and rate by least squares over the probes whose
    round trip is within 1.5x + 0.2 ms of the best (the others carry queueing delay), through
    the midpoints; offset only (min-RTT probe) while they span less than ``MIN_FIT_SPAN_S``."""
    off = device_clock_offset_s(probes)
    if off is None:
        return None
    best = min(p.rtt_ms for p in probes)
    good = [p for p in probes if p.rtt_ms <= 1.5 * best + 0.2]
    d = np.asarray([p.device_us / 1e6 for p in good])
    w = np.asarray([(p.w0_s + p.w1_s) / 2 for p in good])
    if len(good) < 3 or float(d.max() - d.min()) < MIN_FIT_SPAN_S:
        return ClockModel(off)
    rate, offset = np.polyfit(d - d.mean(), w, 1)
    if abs(float(rate) - 1.0) > MAX_DRIFT:
        return ClockModel(off)
    return ClockModel(float(offset) - float(rate) * float(d.mean()), float(rate))


SLIP_WINDOW_US = 100_000
MAX_SLIP_MS = 1.0


def sense_offsets_ms(device: Sequence[MarkerEvent], twin: Sequence[MarkerEvent]) -> list[float]:
    """For each device sense (AS, VS), the offset (ms) to the twin's nearest sense of the same
    kind within 100 ms. The twin sees the same samples, so these are 0 while the device's clock
    maps onto the sample index exactly."""
    out: list[float] = []
    for kind in (MarkerKind.AS, MarkerKind.VS):
        t_twin = np.asarray(sorted(e.t_us for e in twin if e.kind is kind), dtype=np.int64)
        if t_twin.shape[0] == 0:
            continue
        for e in device:
            if e.kind is not kind:
                continue
            i = int(np.searchsorted(t_twin, e.t_us))
            near = [t_twin[j] for j in (i - 1, i) if 0 <= j < t_twin.shape[0]]
            best = min(near, key=lambda t: abs(int(t) - e.t_us))
            if abs(int(best) - e.t_us) <= SLIP_WINDOW_US:
                out.append((e.t_us - int(best)) / 1e3)
    return out


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None, "min": None, "mean": None}
    a = np.asarray(values, dtype=np.float64)
    return {"p50": round(float(np.percentile(a, 50)), 3),
            "p95": round(float(np.percentile(a, 95)), 3),
            "max": round(float(a.max()), 3), "min": round(float(a.min()), 3),
            "mean": round(float(a.mean()), 3)}


@dataclass
class RealtimeStats:
    """What the real-time loop measured about its own timing (all times in ms)."""

    options: RealtimeOptions
    d0_us: int = 0
    windows: int = 0
    late_windows: int = 0
    lateness_ms: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    pace_lag_ms: list[float] = field(default_factory=list)
    probes: list[ClockProbe] = field(default_factory=list)
    underruns: int = 0
    min_slack_ms: float | None = None
    twin_late_paces: int = 0
    dropped_after_end: int = 0
    streaming_wall_s: float = 0.0
    clock_model: ClockModel | None = None
    sense_offsets_ms: list[float] = field(default_factory=list)

    @property
    def late_fraction(self) -> float:
        """Fraction of windows sent later than the threshold."""
        return self.late_windows / self.windows if self.windows else 0.0

    @property
    def deadlines_ok(self) -> bool:
        """True when at most ``max_late_fraction`` of the windows were late."""
        return self.late_fraction <= self.options.max_late_fraction

    def clock_slip_ms(self) -> float:
        """Median offset of the device's senses from the twin's on the same samples: 0 unless
        the device's clock and the sample index parted (samples lost or invented)."""
        return float(np.median(self.sense_offsets_ms)) if self.sense_offsets_ms else 0.0

    def latency_bound_ms(self) -> int:
        """The latency allowance added to the conformance tolerance: p95, whole ms, <= lead."""
        p95 = _percentiles(self.latencies_ms)["p95"]
        if p95 is None:
            return 0
        return int(min(self.options.lead_ms, max(0, math.ceil(p95))))

    def to_dict(self) -> dict[str, Any]:
        """The ``realtime`` section of ``summary.json``."""
        lat = _percentiles(self.latencies_ms)
        best = min(self.probes, key=lambda p: p.rtt_ms) if self.probes else None
        jitter = (None if lat["p95"] is None or lat["p50"] is None
                  else round(lat["p95"] - lat["p50"], 3))
        return {
            "options": dataclasses.asdict(self.options),
            "windows": self.windows,
            "late_windows": self.late_windows,
            "late_fraction": round(self.late_fraction, 5),
            "lateness_ms": _percentiles(self.lateness_ms),
            "latency_ms": lat,
            "jitter_ms": jitter,
            "latency_events": len(self.latencies_ms),
            "latency_bound_ms": self.latency_bound_ms(),
            "pace_to_heart_lag_ms": _percentiles(self.pace_lag_ms),
            "clock": {"method": "min-RTT TELEMETRY probe (Cristian)",
                      "probes": len(self.probes),
                      "best_rtt_ms": None if best is None else round(best.rtt_ms, 3),
                      "drift_ppm": (None if self.clock_model is None else
                                    round((self.clock_model.rate - 1.0) * 1e6, 1)),
                      "device_t0_us": self.d0_us},
            "underruns": self.underruns,
            "clock_slip_ms": round(self.clock_slip_ms(), 3),
            "sense_pairs": len(self.sense_offsets_ms),
            "min_ring_slack_ms": self.min_slack_ms,
            "twin_late_paces": self.twin_late_paces,
            "events_after_end_dropped": self.dropped_after_end,
            "streaming_wall_s": round(self.streaming_wall_s, 4),
        }


class RealtimeLoop:
    """Couple a heart, a free-running device and a follower twin on the wall clock.

    Same parts and hooks as :class:`hil.session.lockstep.LockstepLoop`; ``run_until`` returns a
    :class:`LoopOutput` whose event times are session times, and ``rt`` holds the measurements.
    """

    def __init__(
        self,
        heart: Heart,
        device: DeviceUnderTest,
        twin: PacemakerModel,
        *,
        recorder: SessionRecorder | None = None,
        timeline: TimelineHook | None = None,
        progress: Callable[[int], None] | None = None,
        options: RealtimeOptions | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.heart = heart
        self.device = device
        self.twin = twin
        self.recorder = recorder
        self.timeline = timeline
        self.progress = progress
        self.options = options or RealtimeOptions()
        if self.options.window_ms > device.identity.max_window_samples:
            raise RealtimeConfigError(
                f"window_ms = {self.options.window_ms} above the device's window of "
                f"{device.identity.max_window_samples} samples", name="window_ms",
                value=self.options.window_ms,
                expected=f"<= {device.identity.max_window_samples}")
        self.clock = clock
        self.out = LoopOutput()
        self.rt = RealtimeStats(self.options)
        self._wall0: float | None = None
        self._model: ClockModel | None = None
        self._sent = 0  # samples streamed (session samples 0 .. sent-1)
        self._heart_paces: list[tuple[MarkerEvent, float]] = []
        self._twin_paces: list[MarkerEvent] = []
        self._twin_actions: list[tuple[int, Callable[[int], None]]] = []
        self._twin_next_us = 0  # session time of the next sample the twin has not seen
        self._a = np.zeros(0, dtype=np.int16)
        self._v = np.zeros(0, dtype=np.int16)
        self._act = np.zeros(0, dtype=np.int16)
        self._end_us = 0
        self._latency_raw: list[tuple[float, int]] = []  # (receive wall s, device event us)

    # -- clocks -------------------------------------------------------------------------------
    @property
    def now_us(self) -> int:
        """The device's estimated session time (whole ms), what a command sent now acts at."""
        return self._session_now_us(self.clock()) // SAMPLE_US * SAMPLE_US

    def _clock(self) -> ClockModel:
        """The current device clock model (from the probes; before them, the device clock is
        taken to start with the first window)."""
        if self._model is not None:
            return self._model
        wall0 = self._wall0 if self._wall0 is not None else self.clock()
        return ClockModel(wall0 - self.rt.d0_us / 1e6)

    def _session_now_us(self, wall_s: float) -> int:
        return max(0, round(self._clock().device_us(wall_s)) - self.rt.d0_us)

    def _deadline(self, k: int) -> float:
        """When window ``k`` is due: when the device's clock reaches ``k`` windows past its
        start (the stream then stays ``lead_ms`` ahead whatever the device clock's rate)."""
        return self._clock().wall_s(self.rt.d0_us + k * self.options.window_ms * SAMPLE_US)

    def defer_twin(self, action: Callable[[int], None]) -> None:
        """Apply ``action(t_us)`` to the twin when it reaches the device's current time."""
        self._twin_actions.append((self.now_us, action))

    # -- the parts ------------------------------------------------------------------------------
    def _grow(self, n: int) -> None:
        if n <= self._a.shape[0]:
            return
        size = max(n, 2 * self._a.shape[0], 4096)
        for name in ("_a", "_v", "_act"):
            old = getattr(self, name)
            new = np.zeros(size, dtype=np.int16)
            new[: old.shape[0]] = old
            setattr(self, name, new)

    def _heart_window(self, n: int) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16],
                                             npt.NDArray[np.int16], HeartOutput]:
        heart_t = self.heart.now_us
        paces: list[Pace] = []
        for e, _ in self._heart_paces:
            p = pace_for_heart(e)
            paces.append(Pace(heart_t, p.site, p.amplitude_v, p.width_us))
            self.rt.pace_lag_ms.append((heart_t - e.t_us) / 1e3)
        self._heart_paces = []
        out = self.heart.advance(n * SAMPLE_US, paces)
        egm = out.egm_mv
        a_uv, v_uv = quantize_uv(egm["RA"]), quantize_uv(egm["RV"])
        act = np.asarray(out.activity_milli_g, dtype=np.int16)
        self.out.heart_events.extend(out.events)
        if self.recorder is not None:
            self.recorder.samples(egm["RA"], egm["RV"], out.ecg_mv.get("II", np.zeros(n)))
            self.recorder.heart_events(out.events)
        return a_uv, v_uv, act, out

    def _send(self, a_uv: npt.NDArray[np.int16], v_uv: npt.NDArray[np.int16],
              act: npt.NDArray[np.int16]) -> None:
        n = int(a_uv.shape[0])
        t0 = self._sent * SAMPLE_US
        self._grow(self._sent + n)
        self._a[self._sent: self._sent + n] = a_uv
        self._v[self._sent: self._sent + n] = v_uv
        self._act[self._sent: self._sent + n] = act
        step = self.device.identity.max_window_samples
        for i in range(0, n, step):  # the first window (pre-roll + lead) may need several
            window = Stream._trusted(t0 + i * SAMPLE_US, tuple(a_uv[i: i + step].tolist()),
                                     tuple(v_uv[i: i + step].tolist()),
                                     tuple(act[i: i + step].tolist()), False)
            try:
                self.device.realtime_link().stream(window)
            except BridgeError as err:
                raise self.device.explain(err) from err
        self._sent += n

    def _collect(self, timeout_s: float) -> None:
        """Streamed events received within ``timeout_s``; stamp, map, queue."""
        try:
            frames = self.device.realtime_link().poll_events(timeout_s)
        except BridgeError as err:
            raise self.device.explain(err) from err
        if not frames:
            return
        recv = self.clock()
        d0 = self.rt.d0_us
        last_us = self._end_us
        for frame in frames:
            for wire in frame.events:
                m = marker_from_wire(wire)
                e = dataclasses.replace(m, t_us=m.t_us - d0)
                self._latency_raw.append((recv, m.t_us))
                if e.t_us > last_us or e.t_us < 0:
                    self.rt.dropped_after_end += 1
                    continue
                self.out.device_events.append(e)
                if self.recorder is not None:
                    self.recorder.device_events([e])
                if e.kind.is_pace:
                    self._heart_paces.append((e, recv))
                    self._twin_paces.append(e)

    def _probe(self) -> None:
        w0 = self.clock()
        try:
            tel = self.device.realtime_link().telemetry()
        except BridgeError as err:
            raise self.device.explain(err) from err
        w1 = self.clock()
        p = ClockProbe(w0, w1, tel.time_us, self._sent)
        self.rt.probes.append(p)
        self._model = fit_clock(self.rt.probes)
        processed = (tel.time_us - self.rt.d0_us) // SAMPLE_US
        slack = float(self._sent - processed)
        self.rt.underruns = max(self.rt.underruns, int(-slack))
        if self.rt.min_slack_ms is None or slack < self.rt.min_slack_ms:
            self.rt.min_slack_ms = slack

    def _feed_twin(self, limit_us: int) -> None:
        """Run the twin on the streamed samples up to session time ``limit_us`` (inclusive),
        with the device's paces and deferred actions at their times."""
        twin = self.twin
        last_sent_us = (self._sent - 1) * SAMPLE_US
        limit_us = min(limit_us, last_sent_us)
        predicted: list[MarkerEvent] = []
        while True:
            stops: list[tuple[int, int]] = []
            if self._twin_paces:
                stops.append((self._twin_paces[0].t_us, 0))
            if self._twin_actions:
                stops.append((self._twin_actions[0][0], 1))
            stop = min(stops) if stops else None
            upto = limit_us if stop is None or stop[0] > limit_us else stop[0]
            if upto >= self._twin_next_us:
                i0 = self._twin_next_us // SAMPLE_US
                i1 = upto // SAMPLE_US + 1
                predicted += twin.process_samples(self._twin_next_us, self._a[i0:i1],
                                                  self._v[i0:i1], self._act[i0:i1])
                self._twin_next_us = i1 * SAMPLE_US
            if stop is None or stop[0] > limit_us:
                break
            t = max(stop[0], twin.now_us)
            if stop[1] == 0:
                e = self._twin_paces.pop(0)
                if e.t_us < twin.now_us:
                    self.rt.twin_late_paces += 1
                twin.device_pace(t, e.chamber, e.flags)
            else:
                _, action = self._twin_actions.pop(0)
                action(t)
        predicted += twin.advance_to(twin.now_us)
        self.out.twin_events.extend(predicted)
        if self.recorder is not None:
            self.recorder.twin_events(predicted)
            self.recorder.maybe_flush(max(0, self._twin_next_us - SAMPLE_US))

    def _wait_until(self, deadline_s: float) -> None:
        while True:
            remaining = deadline_s - self.clock()
            if remaining <= 0:
                return
            self._collect(min(remaining, 0.002))

    # -- the loop ---------------------------------------------------------------------------------
    def run_until(self, end_us: int) -> LoopOutput:
        """Stream session samples ``0 .. end_us`` on the wall clock, then settle and stop."""
        opt = self.options
        stats = self.out.stats
        self._end_us = end_us
        clock = self.clock
        total = end_us // SAMPLE_US + 1  # the pre-roll sample at 0 and one per ms up to end_us
        try:
            tel = self.device.realtime_link().telemetry()
        except BridgeError as err:
            raise self.device.explain(err) from err
        self.rt.d0_us = tel.time_us
        wall0 = 0.0
        next_probe = 0.0
        crashed = False
        k = 0
        try:
            while self._sent < total:
                raise_if_stop_requested()  # a run on a Dask worker thread stops here
                # prepare the window during the slack before its deadline, with the paces
                # received so far (later ones reach the heart a window later)
                c0 = clock()
                if self.timeline is not None and k:
                    self.timeline(self._session_now_us(c0))
                if self._sent == 0:  # pre-roll sample at 0 (the heart at rest), then the lead
                    n = min(total, opt.lead_ms + opt.window_ms)
                    if self.recorder is not None:
                        self.recorder.samples([0.0], [0.0], [0.0])
                    z = np.zeros(1, dtype=np.int16)
                    a, v, act = z, z, z
                    if n > 1:
                        ha, hv, hact, _ = self._heart_window(n - 1)
                        a, v, act = (np.concatenate([z, ha]), np.concatenate([z, hv]),
                                     np.concatenate([z, hact]))
                else:
                    n = min(total - self._sent, opt.window_ms)
                    a, v, act, _ = self._heart_window(n)
                c1 = clock()
                if k == 0:
                    wall0 = self._wall0 = c1
                    next_probe = wall0 + 0.05
                    if self.timeline is not None:
                        self.timeline(0)
                deadline = self._deadline(k)
                self._wait_until(deadline)
                c2 = clock()
                self._send(a, v, act)
                late_ms = (c2 - deadline) * 1e3
                self.rt.lateness_ms.append(late_ms)
                self.rt.windows += 1
                if late_ms > opt.late_threshold_ms:
                    self.rt.late_windows += 1
                c3 = clock()
                if c3 >= next_probe:
                    self._probe()
                    next_probe += opt.probe_interval_ms / 1e3
                self._feed_twin(self._session_now_us(clock()) - opt.twin_margin_ms * 1000)
                c4 = clock()
                stats.windows += 1
                stats.samples += n
                stats.heart_s += c1 - c0
                stats.device_s += c3 - c2
                stats.twin_s += c4 - c3
                if self.progress is not None:
                    self.progress(max(0, (self._sent - 1) * SAMPLE_US))
                k += 1
            self._wait_until(self._deadline(k))
            self.rt.streaming_wall_s = clock() - wall0
            stats.wall_s += self.rt.streaming_wall_s
            # settle: the device still has the lead in its ring, and events are in flight
            settle_s = (opt.lead_ms + opt.twin_margin_ms) / 1e3 + 0.05
            self._wait_until(clock() + settle_s)
            self._collect(0.0)
        except KeyboardInterrupt as exc:
            self.out.interrupt(exc)
        except HilError as err:  # the device crashed or the link dropped: keep what we have
            self.out.interrupted = str(err)
            crashed = True
        finally:
            if not stats.wall_s and self._wall0 is not None and wall0:
                self.rt.streaming_wall_s = clock() - wall0
                stats.wall_s += self.rt.streaming_wall_s
        last_us = min(end_us, max(0, (self._sent - 1) * SAMPLE_US))
        if self.out.interrupted is not None:
            last_us = min(last_us, self.now_us)  # as far as the device can have got
        if not crashed:
            self._stop_device()
        self._feed_twin(last_us)
        self.rt.sense_offsets_ms = sense_offsets_ms(self.out.device_events,
                                                    self.out.twin_events)
        model = self._clock()
        self.rt.clock_model = model
        self.rt.latencies_ms = [(recv - model.wall_s(t_dev)) * 1e3
                                for recv, t_dev in self._latency_raw]
        self.out.end_us = last_us
        if self.recorder is not None:
            self.recorder.flush(None)
        return self.out

    def _stop_device(self) -> None:
        """End streaming (RESET SESSION): a device must not keep pacing on an empty ring."""
        with contextlib.suppress(BridgeError, HilError):
            self.device.realtime_link().reset(ResetKind.SESSION)


def describe(section: dict[str, Any]) -> str:
    """One console paragraph from the ``realtime`` summary section."""
    lat = section["latency_ms"]
    lag = section["pace_to_heart_lag_ms"]

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    lines = [
        f"real time: {section['windows']} windows, {section['late_windows']} late "
        f"({section['late_fraction']:.2%}), underruns {section['underruns']}"
        + (" - THE LOOP FELL BEHIND" if section.get("fell_behind") else ""),
        f"  link latency p50 {ms(lat['p50'])} / p95 {ms(lat['p95'])} / max {ms(lat['max'])} ms"
        f" over {section['latency_events']} events, jitter {ms(section['jitter_ms'])} ms; "
        f"pace to heart lag p50 {ms(lag['p50'])} ms; conformance tolerance "
        f"{section.get('conformance_tolerance_ms', '-')} ms",
    ]
    return "\n".join(lines)


def realtime_judgement(scenario: Scenario, rt: RealtimeStats
                       ) -> tuple[Scenario, list[Verdict], dict[str, Any]]:
    """Judge a real-time run's own timing; widen the scenario's conformance tolerance.

    Returns the scenario with ``tolerance_ms`` and ``expect.max_timing_error_ms`` raised by the
    latency bound (:meth:`RealtimeStats.latency_bound_ms`), the criteria ``realtime.deadlines``
    (at most ``max_late_fraction`` of the windows late) and ``realtime.underruns`` (the device's
    ring never ran dry, by the TELEMETRY probes), and the summary's ``realtime`` section.
    """
    extra = rt.latency_bound_ms()
    widened = dataclasses.replace(
        scenario, tolerance_ms=scenario.tolerance_ms + extra,
        expect=dataclasses.replace(scenario.expect, max_timing_error_ms=(
            scenario.expect.max_timing_error_ms + extra)))
    opt = rt.options
    criteria = [
        judge(Measurement(
            "realtime.deadlines", "RT-deadlines", rt.late_fraction, "of windows",
            Limits(high=opt.max_late_fraction),
            f"share of windows sent later than {opt.late_threshold_ms} ms after their deadline "
            f"({rt.late_windows}/{rt.windows})")),
        judge(Measurement("realtime.underruns", "RT-underruns", rt.underruns, "samples",
                          Limits(high=0), "samples missing from the device's ring")),
        judge(Measurement("realtime.clock_slip", "RT-clock", rt.clock_slip_ms(), "ms",
                          Limits(-MAX_SLIP_MS, MAX_SLIP_MS),
                          "median offset of the device's senses from the twin's")),
    ]
    summary = rt.to_dict()
    summary["conformance_tolerance_ms"] = scenario.tolerance_ms + extra
    summary["fell_behind"] = any(c.failed for c in criteria)
    return widened, criteria, summary


__all__ = [
    "DEFAULT_OPTIONS_BY_KIND",
    "VISA_REALTIME",
    "ClockModel",
    "ClockProbe",
    "RealtimeConfigError",
    "RealtimeLoop",
    "RealtimeOptions",
    "RealtimeStats",
    "describe",
    "device_clock_offset_s",
    "fit_clock",
    "realtime_judgement",
    "sense_offsets_ms",
]
