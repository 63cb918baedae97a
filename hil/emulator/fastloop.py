"""The closed loop of an event-level heart and the in-process firmware, in lock-step.

The bench's lock-step loop (``hil.session.lockstep``) steps the cell-network heart and the
device one window of at most 100 samples at a time over a link. Here the heart is event level
(``devicetwin.fastheart.FastHeart``: it says when the device would sense, and takes paces) and
the device is the firmware linked into this process (:class:`~hil.emulator.inprocess.
InProcessDevice`), so a window can run from one event to the next:

1. The firmware says when its next pace is due if nothing is sensed before (its own timers).
2. The heart runs up to that sample; each sense it reports is rendered into the electrograms as
   a template whose first sample is the detection (the firmware's own front end detects it).
3. The firmware runs the samples up to the pace or the sense (early stop at a pace); the paces
   it delivered go to the heart at their times.

A sample stamped ``T`` carries the heart over ``[T - 1 ms, T)`` (the bench's convention), so a
sense at ``t_us`` lands in sample ``t_us // 1000 + 1`` and a pace at ``T`` reaches the heart at
``T``. Windows cut this way give exactly what 1 ms windows would: the heart is never run past a
sample the firmware has not yet answered for (checked: a pace earlier than the heart's time
raises :class:`LoopOrderError`).

Templates: the default ones are the cross-check's triangles (P 2 mV, R 8 mV: 2 ms rise, 13 ms
fall, detected at their first sample at nominal sensitivity); electrograms rendered from the
cell-network heart's per-activation templates plug in through :class:`SenseTemplates`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from devicetwin.cohort import PatientRun
from devicetwin.fastheart.heart import FastHeart
from devicetwin.heart.conditions import Condition
from devicetwin.outcomes import OutcomeSettings, compute_outcomes
from devicetwin.pacemaker import Chamber, MarkerEvent, Programming
from hil.emulator import _inprocess
from hil.emulator.crosscheck import triangle
from hil.emulator.errors import EmulatorError
from hil.emulator.inprocess import InProcessDevice, RawEvent, marker_from_raw
from hil.errors import ConfigError

SAMPLE_US = 1000
#: Longest window (samples) when no pace is pending and nothing is sensed.
MAX_WINDOW_SAMPLES = 60_000
_RING = 1 << 17  # samples kept ahead of and behind the device's time, per channel
_AP, _VP = 2, 6  # the wire's kind codes of AP and VP
_PACE_SITE = {0: "RA", 1: "RV"}


class LoopOrderError(EmulatorError):
    """The firmware paced before the heart's time: the loop's window rule was broken."""


class Sense(Protocol):
    """A detection the heart says the device will make."""

    @property
    def t_us(self) -> int: ...

    @property
    def chamber(self) -> Chamber: ...


class EventHeart(Protocol):
    """What the loop needs of an event-level heart (``devicetwin.fastheart.FastHeart``)."""

    @property
    def now_us(self) -> int: ...

    def next_sense(self, limit_us: int) -> Sense | None:
        """Run to the next sense at or before ``limit_us`` (returned), else to ``limit_us``."""

    def pace(self, t_us: int, site: str, amplitude_v: float, width_us: int) -> bool:
        """A pace at ``t_us`` (>= now) at ``site`` ("RA" or "RV"); True if it captured."""


@dataclass(frozen=True)
class SenseTemplates:
    """The electrogram of one sense per channel (uV at 1 kHz), its first sample the detection."""

    atrial_uv: npt.NDArray[np.int16]
    ventricular_uv: npt.NDArray[np.int16]

    def __post_init__(self) -> None:
        for name in ("atrial_uv", "ventricular_uv"):
            arr = getattr(self, name)
            if not (isinstance(arr, np.ndarray) and arr.dtype == np.int16 and arr.ndim == 1
                    and 0 < arr.shape[0] <= 1000):
                raise ConfigError(f"template {name}: {arr!r}", name=name, value=repr(arr),
                                  expected="a 1-D int16 array of 1 to 1000 samples")

    @classmethod
    def triangles(cls, atrial_peak_uv: int = 2000, ventricular_peak_uv: int = 8000
                  ) -> SenseTemplates:
        """The cross-check's triangle P and R waves (2 ms rise, 13 ms fall)."""
        a = np.zeros(14, np.int16)
        v = np.zeros(14, np.int16)
        triangle(a, 0, atrial_peak_uv)
        triangle(v, 0, ventricular_peak_uv)
        return cls(a, v)


@dataclass
class FirmwareLoopResult:
    """What a run produced: the firmware's markers (raw, in the wire's codes) and its cost."""

    raw_events: list[RawEvent] = field(default_factory=list)
    samples: int = 0
    windows: int = 0
    senses: int = 0
    paces: int = 0
    wall_s: float = 0.0

    def markers(self) -> list[MarkerEvent]:
        """The firmware's markers as marker events."""
        return [marker_from_raw(e) for e in self.raw_events]

    def realtime_factor(self) -> float:
        """Simulated seconds per wall-clock second."""
        return self.samples * SAMPLE_US / 1e6 / self.wall_s if self.wall_s > 0 else 0.0


class FirmwareLoop:
    """An event-level heart closed around the in-process firmware (see the module docstring).

    Parameters
    ----------
    heart:
        The heart, at time 0.
    device:
        The in-process device, programmed, at time 0.
    templates:
        The electrogram of a sense per channel.
    """

    def __init__(self, heart: EventHeart, device: InProcessDevice,
                 templates: SenseTemplates | None = None) -> None:
        self.heart = heart
        self.device = device
        self.templates = templates or SenseTemplates.triangles()
        self._a = np.zeros(_RING, np.int16)
        self._v = np.zeros(_RING, np.int16)
        self._act = np.zeros(_RING, np.int16)
        self._base_ms = device.time_us // SAMPLE_US  # sample time of ring index 0

    def _render(self, sense: Sense, sample_ms: int) -> None:
        tpl = self.templates.atrial_uv if sense.chamber is Chamber.A else \
            self.templates.ventricular_uv
        ring = self._a if sense.chamber is Chamber.A else self._v
        i = sample_ms - self._base_ms
        seg = ring[i:i + tpl.shape[0]]
        if seg.any():  # overlaps an earlier template: add, saturating at the int16 range
            seg[:] = np.clip(seg.astype(np.int32) + tpl, -32768, 32767)
        else:
            seg[:] = tpl

    def _slide(self, device_ms: int) -> None:
        """Drop the samples the device has consumed once the ring is half used."""
        shift = device_ms - self._base_ms
        if shift < _RING // 2:
            return
        for ring in (self._a, self._v):
            ring[:_RING - shift] = ring[shift:]
            ring[_RING - shift:] = 0
        self._base_ms = device_ms

    def run(self, duration_us: int) -> FirmwareLoopResult:
        """Run until the device has processed the sample at ``duration_us``; returns what the
        firmware did (the heart keeps its own record of activations)."""
        if not (isinstance(duration_us, int) and duration_us > self.device.time_us):
            raise ConfigError(f"duration_us={duration_us!r}", name="duration_us",
                              value=duration_us,
                              expected=f"an integer > the device's time {self.device.time_us}")
        out = FirmwareLoopResult()
        heart = self.heart
        core = self.device.core
        ring_a, ring_v, ring_act = self._a, self._v, self._act
        end_ms = duration_us // SAMPLE_US
        dev_ms = core.time_us // SAMPLE_US  # the next sample the device expects
        start = time.perf_counter()
        while dev_ms <= end_ms:
            self._slide(dev_ms)
            stop_ms = min(end_ms, dev_ms + MAX_WINDOW_SAMPLES - 1)
            due = core.next_pace_due_us
            if due is not None and due // SAMPLE_US < stop_ms:
                stop_ms = due // SAMPLE_US
            sense = heart.next_sense(stop_ms * SAMPLE_US - 1)
            if sense is not None:
                stop_ms = sense.t_us // SAMPLE_US + 1
                while sense is not None:  # every sense of that sample
                    self._render(sense, stop_ms)
                    out.senses += 1
                    sense = heart.next_sense(stop_ms * SAMPLE_US - 1)
            i, j = dev_ms - self._base_ms, stop_ms - self._base_ms + 1
            status, consumed, events = core.tick(dev_ms * SAMPLE_US, ring_a[i:j], ring_v[i:j],
                                                 ring_act[i:j], True)
            if status != _inprocess.TICK_OK:
                raise LoopOrderError(f"the device refused the window at {dev_ms} ms "
                                     f"(status {status})", name="t0_us",
                                     value=dev_ms * SAMPLE_US, expected=str(core.time_us))
            dev_ms += consumed
            out.samples += consumed
            out.windows += 1
            if events:
                out.raw_events.extend(events)
                for t_us, chamber, kind, _flags, amplitude_mv, width_us in events:
                    if kind in (_AP, _VP):
                        self._pace(t_us, chamber, amplitude_mv, width_us)
                        out.paces += 1
        out.wall_s = time.perf_counter() - start
        return out

    def _pace(self, t_us: int, chamber: int, amplitude_mv: int, width_us: int) -> None:
        heart = self.heart
        if t_us < heart.now_us:
            raise LoopOrderError(
                f"the firmware paced at {t_us} us, before the heart's time {heart.now_us} us",
                name="t_us", value=t_us, expected=f">= {heart.now_us}")
        if amplitude_mv > 0:
            heart.pace(t_us, _PACE_SITE[chamber], amplitude_mv / 1000.0, width_us)


def run_patient(condition: Condition | str, programming: Programming, duration_us: int,
                seed: int = 0, templates: SenseTemplates | None = None,
                fault: str | None = None) -> PatientRun:
    """One virtual patient on the fast heart with the C firmware as the device: the firmware
    arm of a trial, in the form ``devicetwin.cohort.simulate_patient`` returns for the
    reference model (the heart's ground truth, the firmware's markers, the outcome measures).

    ``duration_us`` is the simulated time (> 0): the firmware processes the samples up to the
    one before it, the heart's record is kept to it. ``fault`` runs a seeded-fault variant of
    the firmware (:mod:`hil.emulator.variants`) instead of the clean one.
    """
    heart = FastHeart(condition, seed)
    with InProcessDevice(fault=fault) as device:
        device.program(programming)
        result = FirmwareLoop(heart, device, templates).run(duration_us - SAMPLE_US)
    markers = tuple(result.markers())
    activations = tuple(a for a in heart.activations() if a.t_us < duration_us)
    outcomes = compute_outcomes(activations, [m for m in markers if m.kind.is_pace],
                                OutcomeSettings.for_programming(programming, duration_us))
    return PatientRun(activations, markers, outcomes, duration_us)
