"""Play test vectors to a device and check its paces against the expected ones.

Two ways to give a device its stimuli (``level``):

* ``samples``: for firmware that senses electrograms. Each stimulus becomes a triangle pulse (2 ms
  rise, 13 ms fall, four times the chamber's programmed sensitivity) placed so that the A-16
  front end detects it exactly at the stimulus time; the whole stream is checked against
  :class:`devicetwin.pacemaker.sensing.SensingFrontEnd` before it is sent in TICK windows.
* ``events``: for devices that take sense events directly, over the event-level codec
  (``firmware_bridge.codec.get_codec("events")``, docs/protocol.md section 7).

The check matches each expected pace to the device's pace in the same chamber within that
chamber's tolerance; an expected pace without one is paired with the nearest unmatched device pace
within ``PAIR_WINDOW_US`` (a timing error) or reported missing; device paces left over are extra.
Entries within the largest tolerance of the end are not judged when they have no partner (the
partner may fall just beyond the run).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import Chamber, Programming
from devicetwin.pacemaker.sensing import FULL_SCALE_UV, SensingFrontEnd
from firmware_bridge.errors import BridgeError
from hil.devices import DeviceOptions, open_device
from hil.errors import HilError
from hil.session.mapping import programming_from
from hil.vectors.format import ExpectedPace, VectorFile

PAIR_WINDOW_US = 300_000
RISE_MS = 2
FALL_MS = 13
GAIN_OVER_SENSITIVITY = 4


class Level(enum.Enum):
    """How stimuli reach the device."""

    SAMPLES = "samples"
    EVENTS = "events"


class VectorPlayError(HilError):
    """The vectors cannot be played to this device (level, timing or link)."""


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


@dataclass(frozen=True, slots=True)
class SampleStream:
    """The synthesised electrograms (int16 uV at 1 kHz, sample k at k ms)."""

    atrial_uv: npt.NDArray[np.int16]
    ventricular_uv: npt.NDArray[np.int16]


def synthesise(vectors: VectorFile, programming: Programming) -> SampleStream:
    """Electrograms in which the front end detects exactly the stimuli (checked)."""
    n = vectors.duration_us // 1000 + 1
    sens = {Chamber.A: int(programming.to_wire_units()["atrial_sensitivity_uv"]),
            Chamber.V: int(programming.to_wire_units()["ventricular_sensitivity_uv"])}
    dead = int(programming.value("detection_dead_time_ms"))
    chans = {Chamber.A: np.zeros(n, dtype=np.int32), Chamber.V: np.zeros(n, dtype=np.int32)}
    for ch in (Chamber.A, Chamber.V):
        if sens[ch] <= 0:
            sens[ch] = 1000  # sensing off in this chamber: the pulse still has to exist
    shapes = {ch: pulse(sens[ch]) for ch in chans}
    offsets = {ch: detection_offset(shapes[ch], sens[ch], dead) for ch in chans}
    for i, s in enumerate(vectors.stimuli):
        if s.t_us % 1000:
            raise VectorPlayError(
                f"stimuli[{i}]: t_us = {s.t_us} is not on the 1 ms sample grid",
                name="t_us", value=s.t_us, expected="a multiple of 1000 (level samples)")
        start = s.t_us // 1000 - offsets[s.chamber]
        if start < 0:
            raise VectorPlayError(
                f"stimuli[{i}]: t_us = {s.t_us} is too early for a pulse detected "
                f"{offsets[s.chamber]} ms after it starts", name="t_us", value=s.t_us,
                expected=f">= {offsets[s.chamber] * 1000}")
        shape = shapes[s.chamber][: max(0, n - start)]
        chans[s.chamber][start: start + shape.shape[0]] += shape
    a = np.clip(chans[Chamber.A], -FULL_SCALE_UV, FULL_SCALE_UV).astype(np.int16)
    v = np.clip(chans[Chamber.V], -FULL_SCALE_UV, FULL_SCALE_UV).astype(np.int16)
    fe = SensingFrontEnd(sens[Chamber.A], sens[Chamber.V], dead)
    det = fe.process(a, v, 0)
    got = [(int(t), Chamber.A if int(c) == 0 else Chamber.V)
           for t, c in zip(det.t_us.tolist(), det.chamber.tolist(), strict=True)]
    want = [(s.t_us, s.chamber) for s in vectors.stimuli]
    if got != want:
        k = next((i for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w),
                 min(len(got), len(want)))
        what = (f"the front end detects {got[k]}" if k < len(got) else "no detection")
        raise VectorPlayError(
            f"stimuli[{k}] {want[k] if k < len(want) else '(none)'}: {what}; stimuli in one "
            f"chamber must be at least {dead} ms apart to be played as samples",
            name="stimuli", value=k, expected="every stimulus detected at its time")
    return SampleStream(a, v)


def play_samples(vectors: VectorFile, device: str, *, fault: str | None = None,
                 key: bytes | None = None) -> list[tuple[int, Chamber]]:
    """Program the device, send the synthesised stream in TICK windows; its paces."""
    programming = programming_from(vectors.mode, vectors.parameters)
    stream = synthesise(vectors, programming)
    n = stream.atrial_uv.shape[0]
    act = np.zeros(n, dtype=np.int16)
    paces: list[tuple[int, Chamber]] = []
    with open_device(device, DeviceOptions(fault=fault, key=key)) as dev:
        dev.program(programming)
        win = dev.identity.max_window_samples
        k = 0
        while k < n:
            m = min(win, n - k)
            events, used = dev.tick(k * 1000, stream.atrial_uv[k: k + m],
                                    stream.ventricular_uv[k: k + m], act[k: k + m])
            paces += [(e.t_us, e.chamber) for e in events if e.kind.is_pace]
            k += max(1, used)
    return paces


# -- events ----------------------------------------------------------------------------------

def play_events(vectors: VectorFile, device: str) -> list[tuple[int, Chamber]]:
    """Send the stimuli as sense events (event-level codec) and collect the paces.

    ``device`` is a link URL, or ``twin`` for the reference model behind a pseudo-terminal.
    Before each stimulus at ``t`` the device is told time has reached ``t - 1 us`` (its paces
    due before the sense are collected), then the sense; at the end, time reaches the end.
    """
    from firmware_bridge.codec import get_codec
    from firmware_bridge.eventcodec import EventLevelDevice, EventLineCodec
    from firmware_bridge.links import open_link
    from firmware_bridge.wire import WireChamber

    server = None
    if device == "twin":
        from firmware_bridge.serve import PtyServer
        from hil.vectors.twindevice import TwinEventDevice

        server = PtyServer(TwinEventDevice(programming_from(vectors.mode,
                                                            vectors.parameters)).handle)
        url = server.url
    elif device in ("emulated", "host", "qemu"):
        raise VectorPlayError(
            f"device {device!r} senses electrograms; use --level samples (or --device twin "
            f"or a URL for the event level)", name="device", value=device,
            expected="twin or a URL of an event-level device")
    else:
        url = device
    codec = get_codec("events")
    assert isinstance(codec, EventLineCodec)
    wire_ch = {Chamber.A: WireChamber.A, Chamber.V: WireChamber.V}
    back = {WireChamber.A: Chamber.A, WireChamber.V: Chamber.V}
    out: list[tuple[int, Chamber]] = []
    try:
        with open_link(url, timeout_s=5.0) as link:
            dev = EventLevelDevice(link, timeout_s=5.0)
            dev.codec = codec
            reached = -1
            for s in vectors.stimuli:
                if s.t_us - 1 > reached:  # time never goes back (two stimuli on one time)
                    reached = s.t_us - 1
                    out += [(p.t_us, back[p.chamber]) for p in dev.advance(reached)]
                dev.sense(wire_ch[s.chamber], s.t_us)
            out += [(p.t_us, back[p.chamber]) for p in dev.advance(vectors.duration_us)]
    except BridgeError as err:
        raise VectorPlayError(f"event-level device {device!r}: {err}", name="device",
                              value=device, expected="an event-level device") from err
    finally:
        if server is not None:
            server.close()
    return out


# -- the check -------------------------------------------------------------------------------

class Finding(enum.Enum):
    """What went wrong with one entry."""

    TIMING = "timing"
    MISSING = "missing"
    EXTRA = "extra"


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed entry: ``index`` into ``expected`` (None for an extra device pace)."""

    finding: Finding
    chamber: Chamber
    index: int | None
    line: int
    expected_us: int | None
    device_us: int | None
    tolerance_us: int

    def describe(self) -> str:
        """One line for the report."""
        where = (f"expected[{self.index}]" + (f" (line {self.line})" if self.line else "")
                 if self.index is not None else "device")
        ch = f"{self.chamber.name}P"
        if self.finding is Finding.TIMING:
            assert self.expected_us is not None and self.device_us is not None
            d = (self.device_us - self.expected_us) / 1000
            return (f"{where}: {ch} expected at {self.expected_us / 1000:.3f} ms, device paced "
                    f"at {self.device_us / 1000:.3f} ms ({abs(d):.3f} ms "
                    f"{'late' if d > 0 else 'early'}, tolerance +-{self.tolerance_us / 1000:g} "
                    "ms)")
        if self.finding is Finding.MISSING:
            return f"{where}: {ch} expected at {self.expected_us / 1000:.3f} ms, none delivered" \
                if self.expected_us is not None else f"{where}: missing"
        return (f"{where}: extra {ch} at {(self.device_us or 0) / 1000:.3f} ms, none "
                "expected")


@dataclass
class VectorReport:
    """The result of playing a vector file."""

    vectors: VectorFile
    device: str
    level: Level
    device_paces: list[tuple[int, Chamber]]
    matched: int = 0
    errors_us: list[int] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every expected pace was delivered in time and nothing extra."""
        return not self.failures

    def text(self) -> str:
        """The short report."""
        v = self.vectors
        err = max((abs(e) for e in self.errors_us), default=0) / 1000
        head = (f"vectors {v.name} ({v.source}): {'PASS' if self.passed else 'FAIL'} - "
                f"{v.mode}, {len(v.stimuli)} stimuli, {self.matched}/{len(v.expected)} expected "
                f"paces matched, {len(self.device_paces)} device paces, max timing error "
                f"{err:.3f} ms (device {self.device}, level {self.level.value})")
        lines = [head] + ["  " + f.describe() for f in self.failures[:20]]
        if len(self.failures) > 20:
            lines.append(f"  ... {len(self.failures) - 20} more")
        return "\n".join(lines)


def compare(vectors: VectorFile, device_paces: Sequence[tuple[int, Chamber]]
            ) -> tuple[int, list[int], list[Failure]]:
    """Match device paces to expected ones per chamber: (matched, errors in us, failures)."""
    failures: list[Failure] = []
    errors: list[int] = []
    matched = 0
    edge = max(vectors.tolerance_us.values())
    end = vectors.duration_us
    for ch in (Chamber.A, Chamber.V):
        tol = vectors.tolerance_for(ch)
        exp = [(i, e) for i, e in enumerate(vectors.expected) if e.chamber is ch]
        dev = sorted(t for t, c in device_paces if c is ch)
        used = [False] * len(dev)

        def nearest(t: int, window: int) -> int | None:
            best: int | None = None
            for j, d in enumerate(dev):  # noqa: B023 - called within this iteration only
                if used[j] or abs(d - t) > window:  # noqa: B023
                    continue
                if best is None or abs(d - t) < abs(dev[best] - t):  # noqa: B023
                    best = j
            return best

        late: list[tuple[int, ExpectedPace]] = []
        for i, e in exp:
            j = nearest(e.t_us, tol)
            if j is None:
                late.append((i, e))
                continue
            used[j] = True
            matched += 1
            errors.append(dev[j] - e.t_us)
        for i, e in late:
            j = nearest(e.t_us, PAIR_WINDOW_US)
            if j is not None:
                used[j] = True
                failures.append(Failure(Finding.TIMING, ch, i, e.line, e.t_us, dev[j], tol))
            elif e.t_us < end - edge:
                failures.append(Failure(Finding.MISSING, ch, i, e.line, e.t_us, None, tol))
        for j, d in enumerate(dev):
            if not used[j] and d < end - edge:
                failures.append(Failure(Finding.EXTRA, ch, None, 0, None, d, tol))
    failures.sort(key=lambda f: (f.expected_us if f.expected_us is not None else
                                 f.device_us or 0))
    return matched, errors, failures


def run_vectors(vectors: VectorFile, device: str = "emulated", *,
                level: Level | str = Level.SAMPLES, fault: str | None = None,
                key: bytes | None = None) -> VectorReport:
    """Play ``vectors`` to ``device`` at ``level`` and check the paces."""
    lvl = Level(level)
    player: Callable[[], list[tuple[int, Chamber]]]
    if lvl is Level.SAMPLES:
        def player() -> list[tuple[int, Chamber]]:
            return play_samples(vectors, device, fault=fault, key=key)
    else:
        if fault is not None:
            raise VectorPlayError("--fault needs --level samples", name="fault", value=fault,
                                  expected="level samples")

        def player() -> list[tuple[int, Chamber]]:
            return play_events(vectors, device)
    paces = [(t, c) for t, c in player() if t <= vectors.duration_us]
    matched, errors, failures = compare(vectors, paces)
    return VectorReport(vectors, device, lvl, paces, matched, errors, failures)


__all__ = ["PAIR_WINDOW_US", "Failure", "Finding", "Level", "SampleStream", "VectorPlayError",
           "VectorReport", "compare", "detection_offset", "play_events", "play_samples",
           "pulse", "run_vectors", "synthesise"]
