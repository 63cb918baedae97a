"""The recording protocol a twin is calibrated from: three programmed segments, ten minutes.

What a recording can tell about a patient depends on how the device was programmed while it was
made: at the nominal DDD programming (AV delay 150 ms) a patient whose AV conduction takes 180 ms
is always paced, and the conduction time never shows. So the twin is calibrated from a short
interrogation protocol of the kind a follow-up clinic runs (an intrinsic-rhythm check, incremental
atrial pacing, a retrograde-conduction test), each segment a programming on the PACEMAKER grid:

1. ``intrinsic`` (4 min): DDI at 30 ppm, PVARP 150 ms, as a clinic checks the underlying
   rhythm: a mode that cannot track, at the lowest rate the grid allows. The sinus node and the
   AV node are seen unpaced: sinus rate and variability, the PR interval (up to the ventricular
   escape, not cut at an AV delay), which P waves conduct (block pattern), ectopic beats. A
   tracking mode here would let a retrograde P wave after a conducted or escape beat be tracked
   and start an endless-loop tachycardia whose cycle (AV delay + VA time) hides the sinus rhythm
   (in DDD at PVARP 150 ms that hid it in about a third of the patients with retrograde
   conduction). With ventricular-based timing the atrial escape runs 1700 ms from a ventricular
   event, longer than any sinus cycle after a conducted beat that the priors allow (<= 1500 ms
   minus the PR), so the atrium is paced only where a retrograde P wave reset a slow sinus node
   late.
2. ``atrial_pacing`` (4 x 45 s): DDD with atrial-based lower-rate timing at 90, 110, 130 and
   150 ppm, AV delay 250 ms. The AV time at each rate shows the node's decrement; the share of
   atrial paces it fails to conduct within 250 ms shows its Wenckebach point.
3. ``retrograde`` (3 min): VDD at 110 ppm (above any resting sinus rate the prior allows),
   PVARP 150 ms. The ventricle is paced without a preceding atrial beat; an atrial sense (or a
   refractory one) at a fixed interval after the paces is retrograde conduction, and that
   interval is its VA time at the device.

The same protocol is simulated, segment by segment, for every candidate patient during
calibration, so whatever it leaves unseen (an offset between the marker and the lead's
activation, a censored conduction time) is left unseen identically in the data and in the
simulations. Each segment starts from a rested heart, as after a programming change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag
from devicetwin.pacemaker.modes import LowerRateTiming, Mode
from devicetwin.pacemaker.parameters import PARAMETERS
from devicetwin.pacemaker.programming import Programming, ProgrammingError, value_to_plain
from devicetwin.twin.errors import TwinError

US_PER_S = 1_000_000


@dataclass(frozen=True)
class Segment:
    """One programmed stretch of the recording protocol.

    Attributes
    ----------
    name:
        Which summaries read it (``intrinsic``, ``atrial_pacing_<ppm>``, ``retrograde``).
    programming:
        The device's programming during the segment.
    duration_us:
        Its length in microseconds.
    """

    name: str
    programming: Programming
    duration_us: int


#: The atrial pacing rates of segment 2, ppm.
PACING_RATES_PPM: tuple[int, ...] = (90, 110, 130, 150)
#: AV delay while pacing the atrium, ms: the longest the grid allows at a 150 ppm upper rate with
#: PVARP 150 ms (TARP 400 ms = the upper-rate interval).
PACING_AV_DELAY_MS = 250
#: AV delay of the intrinsic segment (after an atrial pace only: DDI does not track), ms: the
#: grid's longest.
INTRINSIC_AV_DELAY_MS = 300
#: Lower rate of the intrinsic segment, ppm: the grid's lowest.
INTRINSIC_RATE_PPM = 30
#: Lower rate of the retrograde test, ppm.
RETROGRADE_RATE_PPM = 110
#: PVARP of every segment, ms: the grid's shortest, so that atrial senses show as early as the
#: post-ventricular atrial blanking allows.
PROTOCOL_PVARP_MS = 150


def _intrinsic() -> Programming:
    return Programming.nominal(Mode.DDI, lower_rate_ppm=INTRINSIC_RATE_PPM,
                               fixed_av_delay_ms=INTRINSIC_AV_DELAY_MS,
                               pvarp_ms=PROTOCOL_PVARP_MS)


def _atrial_pacing(rate_ppm: int) -> Programming:
    return Programming.nominal(Mode.DDD, lower_rate_ppm=rate_ppm, upper_rate_ppm=150,
                               fixed_av_delay_ms=PACING_AV_DELAY_MS, pvarp_ms=PROTOCOL_PVARP_MS,
                               vrp_ms=250, lower_rate_timing=LowerRateTiming.ATRIAL)


def _retrograde() -> Programming:
    return Programming.nominal(Mode.VDD, lower_rate_ppm=RETROGRADE_RATE_PPM, upper_rate_ppm=120,
                               fixed_av_delay_ms=150, pvarp_ms=PROTOCOL_PVARP_MS)


def recording_protocol(scale: float = 1.0) -> tuple[Segment, ...]:
    """The protocol's segments, each ``scale`` times its clinical length (1 = ten minutes).

    Calibration simulates shortened copies (``scale`` < 1) of it: the summaries are medians and
    fractions, intensive quantities, so a shorter simulation estimates the same values with
    more noise (which widens the posterior rather than biasing it).
    """
    if not (isinstance(scale, int | float) and 0.01 <= scale <= 10.0):
        raise TwinError(f"protocol scale {scale!r} is out of range; expected 0.01-10",
                        name="scale", value=scale, expected="0.01-10")
    def us(seconds: float) -> int:
        return round(seconds * scale * US_PER_S)
    return (Segment("intrinsic", _intrinsic(), us(240.0)),
            *(Segment(f"atrial_pacing_{r}", _atrial_pacing(r), us(45.0))
              for r in PACING_RATES_PPM),
            Segment("retrograde", _retrograde(), us(180.0)))


@dataclass(frozen=True)
class SegmentRecord:
    """The markers of one segment, times counted from the segment's start (microseconds)."""

    segment: Segment
    markers: tuple[MarkerEvent, ...]


@dataclass(frozen=True)
class Recording:
    """A patient's protocol recording: every segment's markers, in protocol order."""

    segments: tuple[SegmentRecord, ...]

    def segment(self, name: str) -> SegmentRecord:
        """The segment called ``name``."""
        for seg in self.segments:
            if seg.segment.name == name:
                return seg
        raise TwinError(f"the recording has no segment {name!r}; it has "
                        f"{[s.segment.name for s in self.segments]}", name="segment",
                        value=name, expected="a protocol segment")

    @property
    def duration_us(self) -> int:
        """Total length, microseconds."""
        return sum(s.segment.duration_us for s in self.segments)


def check_protocol(segments: Sequence[Segment]) -> None:
    """Raise :class:`TwinError` unless ``segments`` name every protocol segment once."""
    names = [s.name for s in segments]
    wanted = [s.name for s in recording_protocol()]
    if sorted(names) != sorted(wanted):
        raise TwinError(f"recording segments {names} are not the calibration protocol's "
                        f"{wanted}", name="segments", value=names, expected=str(wanted))


def _marker_row(m: MarkerEvent) -> list[Any]:
    return [m.t_us, m.chamber.value, m.kind.value, int(m.flags), m.amplitude_mv, m.width_us]


def recording_to_dict(recording: Recording) -> dict[str, Any]:
    """Plain data (JSON-ready): each segment's name, programming, duration and markers
    (``[t_us, chamber, kind, flags, amplitude_mv, width_us]``)."""
    return {"format": "devicetwin-protocol-recording", "version": 1, "segments": [
        {"name": s.segment.name, "duration_us": s.segment.duration_us,
         "programming": {"mode": s.segment.programming.mode.value, "parameters": {
             n: value_to_plain(s.segment.programming.value(n)) for n in PARAMETERS
             if n != "mode"}},
         "markers": [_marker_row(m) for m in s.markers]}
        for s in recording.segments]}


def recording_from_dict(data: Mapping[str, Any], source: str = "<recording>") -> Recording:
    """The inverse of :func:`recording_to_dict`; ``source`` names the file in errors."""
    if data.get("format") != "devicetwin-protocol-recording":
        raise TwinError(f"{source}: not a protocol recording (format {data.get('format')!r})",
                        name="format", value=data.get("format"),
                        expected="devicetwin-protocol-recording")
    try:
        segments = []
        for seg in data["segments"]:
            prog = Programming.from_plain(seg["programming"]["mode"],
                                          seg["programming"]["parameters"])
            markers = tuple(MarkerEvent(int(t), Chamber(c), MarkerKind(k), amp, width,
                                        PaceFlag(int(f)))
                            for t, c, k, f, amp, width in seg["markers"])
            segments.append(SegmentRecord(Segment(str(seg["name"]), prog,
                                                  int(seg["duration_us"])), markers))
    except (KeyError, TypeError, ValueError, ProgrammingError) as err:
        raise TwinError(f"{source}: malformed protocol recording ({type(err).__name__}: {err})",
                        name="recording", value=source,
                        expected="a file written by 'devicetwin twin validate'") from None
    return Recording(tuple(segments))
