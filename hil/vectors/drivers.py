"""Three ways to give a device its stimuli and hear its paces, one interface (:class:`Driver`).

* :class:`TwinDriver` (``--device twin``): the reference model in this process, fed detections.
* :class:`EventDriver` (an ``events+`` device at level ``events``): the device is opened through
  the registry (``hil.devices``: session reset, identity, the emulated event firmware started
  with the programming on its command line, ``exec:`` programs, profiles) and its senses go over
  the event-level codec at their exact times; a device with early stop answers up to its first
  pace and is asked again.
* :class:`SampleDriver` (any lock-step device of the contract at level ``samples``: the binary
  firmware, or an event-level device whose bench front end senses the samples): each stimulus
  becomes a triangle pulse (2 ms rise, 13 ms fall, four times the chamber's sensitivity) placed
  so that the A-16 front end detects it exactly at its time, sent in the device's TICK windows.

A driver runs forward only: ``advance(t_us)`` returns the device's paces up to and including
``t_us``; ``sense(t_us, chamber)`` delivers a detection after the time already reached.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import Chamber, MarkerEvent, PaceFlag, PacemakerModel, Programming
from devicetwin.pacemaker.sensing import FULL_SCALE_UV, SensingFrontEnd
from firmware_bridge.errors import BridgeError
from firmware_bridge.eventcodec import EventLevelDevice
from firmware_bridge.wire import WireChamber
from hil.devices import DeviceUnderTest
from hil.errors import HilError

SAMPLE_US = 1000
RISE_MS = 2
FALL_MS = 13
GAIN_OVER_SENSITIVITY = 4
_WIRE = {Chamber.A: WireChamber.A, Chamber.V: WireChamber.V}
_BACK = {WireChamber.A: Chamber.A, WireChamber.V: Chamber.V}


class Level(enum.Enum):
    """How stimuli reach the device."""

    SAMPLES = "samples"
    EVENTS = "events"


class VectorPlayError(HilError):
    """The vectors cannot be played to this device (level, timing or link)."""


@dataclass(frozen=True, slots=True)
class DevicePace:
    """A pace the device delivered: session time (us), chamber, flags when the device says."""

    t_us: int
    chamber: Chamber
    flags: PaceFlag = PaceFlag.NONE


class Driver(Protocol):
    """A device as the vector player drives it (module docstring)."""

    #: The smallest step between two times the driver can deliver (us): 1000 on the sample grid.
    resolution_us: int

    def advance(self, t_us: int) -> list[DevicePace]:
        """Run the device up to and including ``t_us``; its paces since the last call."""

    def sense(self, t_us: int, chamber: Chamber) -> None:
        """Deliver a detection in ``chamber`` at ``t_us`` (after the time reached)."""

    def finish(self) -> None:
        """Check what was delivered (raises :class:`VectorPlayError` when a stimulus did not
        reach the device as sent)."""


# -- the twin --------------------------------------------------------------------------------

class TwinDriver:
    """The reference model as the device (exact, in process)."""

    resolution_us = 1

    def __init__(self, programming: Programming) -> None:
        self.model = PacemakerModel(programming)
        self.markers: list[MarkerEvent] = []

    def advance(self, t_us: int) -> list[DevicePace]:
        """Run the model to ``t_us``; its paces (with the model's flags)."""
        out = self.model.advance_to(max(t_us, self.model.now_us))
        self.markers += out
        return [DevicePace(m.t_us, m.chamber, m.flags) for m in out
                if m.kind.is_pace and m.chamber in _WIRE]

    def sense(self, t_us: int, chamber: Chamber) -> None:
        """A detection, handled by the model's sensing rules."""
        self.model.detect(t_us, chamber)

    def finish(self) -> None:
        """Nothing to check: the model took every detection as given."""


# -- event level -----------------------------------------------------------------------------

class EventDriver:
    """Senses over the event-level codec to a device opened through the registry."""

    resolution_us = 1

    def __init__(self, driver: EventLevelDevice, spec: str) -> None:
        self.driver = driver
        self.spec = spec
        self.reached_us = -1

    def advance(self, t_us: int) -> list[DevicePace]:
        """Time marks up to ``t_us`` (again after each early stop); the paces."""
        out: list[DevicePace] = []
        try:
            while self.reached_us < t_us:
                paces = self.driver.advance(t_us)
                out += [DevicePace(p.t_us, _BACK[p.chamber]) for p in paces]
                self.reached_us = self.driver.clock_us
        except BridgeError as err:
            raise VectorPlayError(f"event-level device {self.spec!r}: {err}", name="device",
                                  value=self.spec, expected="an event-level device") from err
        return out

    def sense(self, t_us: int, chamber: Chamber) -> None:
        """``A t`` / ``V t``."""
        try:
            self.driver.sense(_WIRE[chamber], t_us)
        except BridgeError as err:
            raise VectorPlayError(f"event-level device {self.spec!r}: {err}", name="device",
                                  value=self.spec, expected="an event-level device") from err

    def finish(self) -> None:
        """Nothing to check: the senses went as sent."""


# -- samples ---------------------------------------------------------------------------------

def pulse(sensitivity_uv: int) -> npt.NDArray[np.int16]:
    """The stimulus pulse for a channel: a triangle, 2 ms rise and 13 ms fall, peak four times
    the sensitivity (saturated to the sample range)."""
    peak = min(FULL_SCALE_UV, GAIN_OVER_SENSITIVITY * int(sensitivity_uv))
    rise = [peak * (k + 1) // RISE_MS for k in range(RISE_MS)]
    fall = [peak * (FALL_MS - k) // FALL_MS for k in range(1, FALL_MS)]
    return np.asarray(rise + fall, dtype=np.int16)


def detection_offset(template: npt.NDArray[np.int16], sensitivity_uv: int,
                     dead_time_ms: int) -> int:
    """Samples from the pulse's start to where the front end detects it (found by running it)."""
    lead = 32
    x = np.zeros(lead + template.shape[0] + 64, dtype=np.int16)
    x[lead: lead + template.shape[0]] = template
    fe = SensingFrontEnd(sensitivity_uv, sensitivity_uv, dead_time_ms)
    det = fe.process(x, np.zeros_like(x), 0)
    times = det.t_us.tolist()
    if len(times) != 1:
        raise VectorPlayError(f"the stimulus pulse gives {len(times)} detections",
                              name="pulse", value=len(times), expected="exactly 1")
    return int(times[0]) // 1000 - lead


def sensitivities_uv(programming: Programming) -> dict[Chamber, int]:
    """The programmed sensitivities (uV), 1000 where a chamber's sensing is off (the pulse
    still has to exist)."""
    wire = programming.to_wire_units()
    sens = {Chamber.A: int(wire["atrial_sensitivity_uv"]),
            Chamber.V: int(wire["ventricular_sensitivity_uv"])}
    return {c: (s if s > 0 else 1000) for c, s in sens.items()}


class SampleDriver:
    """Electrogram pulses in TICK windows to a lock-step device of the contract.

    Parameters
    ----------
    device:
        An open, programmed device.
    programming:
        What it runs (its sensitivities size the pulses).
    length_ms:
        The longest the run may go (the sample buffers), milliseconds.
    """

    resolution_us = SAMPLE_US

    def __init__(self, device: DeviceUnderTest, programming: Programming,
                 length_ms: int) -> None:
        self.device = device
        self.n = int(length_ms) + 1
        self.sens = sensitivities_uv(programming)
        self.dead_ms = int(programming.value("detection_dead_time_ms"))
        self.shapes = {c: pulse(self.sens[c]) for c in self.sens}
        self.offsets = {c: detection_offset(self.shapes[c], self.sens[c], self.dead_ms)
                        for c in self.sens}
        self.chans = {Chamber.A: np.zeros(self.n, dtype=np.int32),
                      Chamber.V: np.zeros(self.n, dtype=np.int32)}
        self.activity = np.zeros(self.n, dtype=np.int16)
        self.k = 0  # the next sample to send
        self.sent: list[tuple[int, Chamber]] = []

    def _samples(self, chamber: Chamber, k: int, m: int) -> npt.NDArray[np.int16]:
        return np.clip(self.chans[chamber][k: k + m], -FULL_SCALE_UV,
                       FULL_SCALE_UV).astype(np.int16)

    def sense(self, t_us: int, chamber: Chamber) -> None:
        """Add the pulse detected at ``t_us`` (on the 1 ms grid, after the samples sent)."""
        if t_us % SAMPLE_US:
            raise VectorPlayError(f"a stimulus at t_us = {t_us} is not on the 1 ms sample grid",
                                  name="t_us", value=t_us,
                                  expected="a multiple of 1000 (level samples)")
        start = t_us // SAMPLE_US - self.offsets[chamber]
        if start < self.k:
            raise VectorPlayError(
                f"a stimulus at t_us = {t_us} comes after samples already sent (up to "
                f"{(self.k - 1) * SAMPLE_US} us)", name="t_us", value=t_us,
                expected=f">= {self.k * SAMPLE_US + self.offsets[chamber] * SAMPLE_US}")
        shape = self.shapes[chamber][: max(0, self.n - start)]
        self.chans[chamber][start: start + shape.shape[0]] += shape
        self.sent.append((t_us, chamber))

    def advance(self, t_us: int) -> list[DevicePace]:
        """Send the samples up to ``t_us`` in the device's windows; its paces."""
        last = t_us // SAMPLE_US
        if last >= self.n:
            raise VectorPlayError(f"the run reached {t_us} us, past its {self.n - 1} ms of "
                                  "samples", name="t_us", value=t_us,
                                  expected=f"<= {(self.n - 1) * SAMPLE_US}")
        win = max(1, self.device.identity.max_window_samples)
        out: list[DevicePace] = []
        while self.k <= last:
            m = min(win, last - self.k + 1)
            events, used = self.device.tick(
                self.k * SAMPLE_US, self._samples(Chamber.A, self.k, m),
                self._samples(Chamber.V, self.k, m), self.activity[self.k: self.k + m])
            out += [DevicePace(e.t_us, e.chamber, e.flags) for e in events
                    if e.kind.is_pace and e.chamber in _WIRE]
            self.k += max(1, used)
        return out

    def stream(self, samples: int) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
        """The first ``samples`` of the synthesised electrograms (A, V; int16 uV at 1 kHz)."""
        return self._samples(Chamber.A, 0, samples), self._samples(Chamber.V, 0, samples)

    def finish(self) -> None:
        """The front end run on everything sent must detect exactly the stimuli."""
        self.check(self.k)

    def check(self, samples: int) -> None:
        """The front end run on the first ``samples`` must detect exactly the stimuli in them
        (raises :class:`VectorPlayError` naming the first that is not)."""
        fe = SensingFrontEnd(self.sens[Chamber.A], self.sens[Chamber.V], self.dead_ms)
        a, v = self.stream(samples)
        det = fe.process(a, v, 0)
        self_k = samples
        got = [(int(t), Chamber.A if int(c) == 0 else Chamber.V)
               for t, c in zip(det.t_us.tolist(), det.chamber.tolist(), strict=True)]
        want = sorted(((t, c) for t, c in self.sent if t < self_k * SAMPLE_US),
                      key=lambda tc: (tc[0], tc[1].value))
        if got != want:
            k = next((i for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w),
                     min(len(got), len(want)))

            def said(tc: tuple[int, Chamber]) -> str:
                return f"{tc[1].name} at {tc[0] / 1000:g} ms"
            what = f"the front end detects {said(got[k])}" if k < len(got) else "no detection"
            raise VectorPlayError(
                f"stimulus {said(want[k]) if k < len(want) else '(none)'}: {what}; stimuli in "
                f"one chamber must be at least {self.dead_ms} ms apart to be played as samples",
                name="stimuli", value=k, expected="every stimulus detected at its time")


__all__ = ["FALL_MS", "GAIN_OVER_SENSITIVITY", "RISE_MS", "SAMPLE_US", "DevicePace", "Driver",
           "EventDriver", "Level", "SampleDriver", "TwinDriver", "VectorPlayError",
           "detection_offset", "pulse", "sensitivities_uv"]
