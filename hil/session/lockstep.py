"""The closed loop in lock-step virtual time: deterministic, and faster than real time.

One clock, in microseconds. The device's sample at time ``T`` is the heart's electrogram over
``[T - 1 ms, T)``: a sample is stamped at the end of the millisecond it integrates, the way an
ADC delivers it. The first window carries one pre-roll sample at ``T = 0`` (the heart at rest).
A pace the device delivers at ``T`` (right after processing sample ``T``) therefore reaches the
heart at exactly ``T``, the start of the heart's next millisecond: no lag, and the device never
sees its own artefact before it paces.

Each window is sized to end where the shadow twin expects the next pace, and the device stops a
window right after a pace (EARLY_STOP); when the device paces earlier than the twin expected, the
heart is rolled back to the window's start and replayed for the samples the device consumed, so
the result equals stepping the loop one millisecond at a time.

The twin runs in follower mode: it classifies the same detections, predicts each pace (time and
flags) but does not deliver it; the device's paces are applied to it instead, so its timing
restarts from what the device did and one divergence stays one discrepancy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from devicetwin.heart import Activation, Heart, Pace
from devicetwin.pacemaker import Chamber, MarkerEvent, PacemakerModel
from devicetwin.pacemaker.sensing import quantize_uv
from hil.devices.contract import DeviceError, DeviceUnderTest
from hil.interrupts import interruption_text, raise_if_stop_requested, signal_of
from hil.session.mapping import pace_for_heart
from hil.session.recorder import SessionRecorder

SAMPLE_US = 1000

#: Called at the start of each window with the session time; returns the next time (us) at
#: which it wants to be called again (a window never crosses it), or None.
TimelineHook = Callable[[int], int | None]


@dataclass
class LoopStats:
    """How the loop ran: windows, rollbacks, and wall time per part (seconds)."""

    windows: int = 0
    rollbacks: int = 0
    samples: int = 0
    heart_s: float = 0.0
    device_s: float = 0.0
    twin_s: float = 0.0
    record_s: float = 0.0
    wall_s: float = 0.0

    def realtime_factor(self) -> float:
        """Simulated seconds per wall second."""
        return (self.samples * SAMPLE_US / 1e6) / self.wall_s if self.wall_s > 0 else 0.0


@dataclass
class LoopOutput:
    """Everything a run produced, in time order."""

    device_events: list[MarkerEvent] = field(default_factory=list)
    twin_events: list[MarkerEvent] = field(default_factory=list)
    heart_events: list[Activation] = field(default_factory=list)
    stats: LoopStats = field(default_factory=LoopStats)
    end_us: int = 0
    interrupted: str | None = None
    signal: int | None = None  # the signal that interrupted the run (SIGINT, SIGTERM, SIGHUP)

    def interrupt(self, exc: BaseException) -> None:
        """Mark the run interrupted by ``exc`` (a KeyboardInterrupt or hil's Interrupted)."""
        self.interrupted = interruption_text(exc)
        self.signal = signal_of(exc)


def _zeros(n: int) -> npt.NDArray[np.int16]:
    return np.zeros(n, dtype=np.int16)


class LockstepLoop:
    """Couple a heart, a device and a follower twin; run it window by window.

    Parameters
    ----------
    heart, device, twin:
        The parts; the twin must be in follower mode.
    recorder:
        Where signals and annotations go (optional).
    max_window_samples:
        Upper bound of a window (the device's own bound applies too).
    timeline:
        Hook for scenario changes that must fall on window boundaries.
    progress:
        Called with the session time after each window.
    """

    def __init__(
        self,
        heart: Heart,
        device: DeviceUnderTest,
        twin: PacemakerModel,
        *,
        recorder: SessionRecorder | None = None,
        max_window_samples: int = 100,
        timeline: TimelineHook | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.heart = heart
        self.device = device
        self.twin = twin
        self.recorder = recorder
        self.max_window = max(1, min(max_window_samples, device.identity.max_window_samples))
        self.timeline = timeline
        self.progress = progress
        self.out = LoopOutput()
        self._pending: list[Pace] = []
        self._t_us = 0  # heart time == session time of the last sample sent
        self._started = False

    @property
    def now_us(self) -> int:
        """Session time reached."""
        return self._t_us

    def _start(self) -> None:
        """The pre-roll sample at T = 0."""
        z = _zeros(1)
        events, _ = self.device.tick(0, z, z, z)
        predicted = self.twin.process_samples(0, z, z, z)
        self._absorb(events, predicted, [])
        if self.recorder is not None:
            self.recorder.samples([0.0], [0.0], [0.0])
        self._started = True

    def _absorb(self, device_events: list[MarkerEvent], predicted: list[MarkerEvent],
                heart_events: list[Activation]) -> None:
        for e in device_events:
            if e.kind.is_pace:
                self.twin.device_pace(e.t_us, e.chamber, e.flags)
                self._pending.append(pace_for_heart(e))
        predicted = predicted + self.twin.advance_to(self.twin.now_us)
        self.out.device_events.extend(device_events)
        self.out.twin_events.extend(predicted)
        self.out.heart_events.extend(heart_events)
        if self.recorder is not None:
            self.recorder.device_events(device_events)
            self.recorder.twin_events(predicted)
            self.recorder.heart_events(heart_events)

    def run_until(self, end_us: int) -> LoopOutput:
        """Run the loop to session time ``end_us`` (a whole millisecond)."""
        stats = self.out.stats
        wall0 = time.perf_counter()
        if not self._started:
            self._start()
        heart, twin, device = self.heart, self.twin, self.device
        try:
            while self._t_us < end_us:
                raise_if_stop_requested()  # a run on a Dask worker thread stops here
                t = self._t_us
                limit = end_us
                if self.timeline is not None:
                    nxt = self.timeline(t)
                    if nxt is not None and t < nxt < limit:
                        limit = nxt
                n = min(self.max_window, (limit - t) // SAMPLE_US)
                due = twin.next_pace_due_us()
                if due is not None and t < due < t + n * SAMPLE_US:
                    n = max(1, -(-(due - t) // SAMPLE_US))
                n = max(1, n)

                c0 = time.perf_counter()
                snap = heart.snapshot()
                paces, self._pending = self._pending, []
                out = heart.advance(n * SAMPLE_US, paces)
                egm = out.egm_mv
                a_mv, v_mv = egm["RA"], egm["RV"]
                a_uv, v_uv = quantize_uv(a_mv), quantize_uv(v_mv)
                act = out.activity_milli_g
                c1 = time.perf_counter()

                events, k = device.tick(t + SAMPLE_US, a_uv, v_uv, act)
                c2 = time.perf_counter()
                _check_event_times(events, t + SAMPLE_US, t + k * SAMPLE_US)

                if k < n:  # the device paced before the window's end: replay what it consumed
                    stats.rollbacks += 1
                    heart.restore(snap)
                    out = heart.advance(k * SAMPLE_US, paces)
                    egm = out.egm_mv
                    a_mv, v_mv = egm["RA"], egm["RV"]
                    a_uv, v_uv, act = a_uv[:k], v_uv[:k], act[:k]
                c3 = time.perf_counter()

                predicted = twin.process_samples(t + SAMPLE_US, a_uv, v_uv, act)
                self._t_us = t + k * SAMPLE_US
                self._absorb(events, predicted, out.events)
                c4 = time.perf_counter()

                if self.recorder is not None:
                    ecg = out.ecg_mv.get("II", np.zeros(k))
                    self.recorder.samples(a_mv, v_mv, ecg)
                    self.recorder.maybe_flush(self._t_us)
                c5 = time.perf_counter()

                stats.windows += 1
                stats.samples += k
                stats.heart_s += (c1 - c0) + (c3 - c2)
                stats.device_s += c2 - c1
                stats.twin_s += c4 - c3
                stats.record_s += c5 - c4
                if self.progress is not None:
                    self.progress(self._t_us)
        except KeyboardInterrupt as exc:
            self.out.interrupt(exc)
        finally:
            stats.wall_s += time.perf_counter() - wall0
            self.out.end_us = self._t_us
            if self.recorder is not None:
                self.recorder.flush(None if self.out.interrupted else self._t_us - 250_000)
        return self.out


def _check_event_times(events: list[MarkerEvent], first_us: int, last_us: int) -> None:
    """A device's events must lie on the samples it consumed (its clock is the session's, A-1).

    Raises
    ------
    DeviceError
        Naming the first event outside ``[first_us, last_us]`` (e.g. a wrapped time counter),
        so the run ends with a partial, failed verdict instead of corrupting the twin.
    """
    for e in events:
        if not first_us <= e.t_us <= last_us:
            raise DeviceError(
                f"device event {e.kind.name} at t_us={e.t_us} lies outside the window it "
                f"answered [{first_us}, {last_us}] us", name="t_us", value=e.t_us,
                expected=f"{first_us} <= t_us <= {last_us} (A-1: times from the session start)")


def chamber_site(chamber: Chamber) -> str:
    """The lead site a chamber is paced and sensed at."""
    return "RA" if chamber is Chamber.A else "RV"
