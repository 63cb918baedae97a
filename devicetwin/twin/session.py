"""An imported, de-identified recording: what the twin is calibrated on and the report shows.

Times are integer microseconds from the start of the recording (the source's date and clock
time are dropped). The waveforms themselves stay with the importer's store (``hil.twin``); the
session carries their description, the device markers, the beat labels and the rhythm notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, PaceFlag
from devicetwin.twin.errors import TwinError, check_file_format
from devicetwin.twin.provenance import Provenance

#: WFDB beat-label symbols a session keeps (``ecgcodes.h``); other annotations are not beats.
BEAT_SYMBOLS = ("N", "L", "R", "B", "A", "a", "J", "S", "V", "r", "F", "e", "j", "n", "E", "/",
                "f", "Q", "?")
#: Beat symbols that are paced beats, fusions of paced and intrinsic beats, and PVCs.
PACED_SYMBOLS = ("/",)
FUSION_SYMBOLS = ("f",)
PVC_SYMBOLS = ("V", "r", "E")
SESSION_FORMAT = "devicetwin-session"
SESSION_VERSION = 1


@dataclass(frozen=True, slots=True)
class BeatLabel:
    """A labelled beat: its time (us from the recording's start) and WFDB symbol."""

    t_us: int
    symbol: str


@dataclass(frozen=True, slots=True)
class RhythmNote:
    """From ``t_us`` on the rhythm is ``code`` (a WFDB rhythm code: ``P`` paced, ``N`` normal)."""

    t_us: int
    code: str


@dataclass(frozen=True, slots=True)
class SignalInfo:
    """One recorded waveform: its lead name (or ``signal<i>``) and physical units."""

    name: str
    units: str


@dataclass(frozen=True, slots=True)
class RecordedSession:
    """A de-identified recording.

    Attributes
    ----------
    session_id:
        ``rec-`` + 12 hex digits derived from the sources' hashes (not from any name).
    duration_us:
        Length of the recording in microseconds.
    fs_hz:
        Sampling frequency of the waveforms in hertz (None for a marker log).
    signals:
        The waveforms' descriptions, in column order.
    markers:
        Device markers (from an interrogation, the bench's ``dev`` annotator, a marker log).
    beats, rhythms:
        Beat labels and rhythm notes (from a reference annotator such as MIT-BIH ``atr``).
    programming:
        ``{"mode": ..., "parameters": {...}}`` when the source states it (the bench's
        manifest), else None.
    provenance:
        Where it came from (hashes), never who.
    """

    session_id: str
    duration_us: int
    fs_hz: float | None
    signals: tuple[SignalInfo, ...]
    markers: tuple[MarkerEvent, ...]
    beats: tuple[BeatLabel, ...]
    rhythms: tuple[RhythmNote, ...]
    provenance: Provenance
    programming: Mapping[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.duration_us <= 0:
            raise TwinError(f"session duration {self.duration_us} us is not positive",
                            name="duration_us", value=self.duration_us, expected="> 0 us")
        last = -1
        for b in self.beats:
            if b.symbol not in BEAT_SYMBOLS:
                raise TwinError(f"beat symbol {b.symbol!r} is not a WFDB beat label",
                                name="symbol", value=b.symbol, expected=f"one of {BEAT_SYMBOLS}")
            if b.t_us < last:
                raise TwinError(f"beat at {b.t_us} us comes before the previous one at {last} us",
                                name="t_us", value=b.t_us, expected="non-decreasing times")
            last = b.t_us
        for m in self.markers:
            if not 0 <= m.t_us <= self.duration_us:
                raise TwinError(f"marker at {m.t_us} us lies outside the session (0.."
                                f"{self.duration_us} us)", name="t_us", value=m.t_us,
                                expected=f"0..{self.duration_us} us")

    @property
    def duration_s(self) -> float:
        """Length in seconds (for display)."""
        return self.duration_us / 1e6

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return {
            "format": SESSION_FORMAT, "version": SESSION_VERSION,
            "session_id": self.session_id, "duration_us": self.duration_us, "fs_hz": self.fs_hz,
            "signals": [[s.name, s.units] for s in self.signals],
            "markers": [[m.t_us, m.chamber.value, m.kind.value, int(m.flags)]
                        for m in self.markers],
            "beats": [[b.t_us, b.symbol] for b in self.beats],
            "rhythms": [[r.t_us, r.code] for r in self.rhythms],
            "programming": None if self.programming is None else dict(self.programming),
            "provenance": self.provenance.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<session>") -> RecordedSession:
        """The inverse of :meth:`to_dict`; ``source`` names the file in error messages."""
        check_file_format(data, SESSION_FORMAT, SESSION_VERSION, "session", source)
        try:
            return cls(
                session_id=str(data["session_id"]), duration_us=int(data["duration_us"]),
                fs_hz=None if data["fs_hz"] is None else float(data["fs_hz"]),
                signals=tuple(SignalInfo(str(n), str(u)) for n, u in data["signals"]),
                markers=tuple(MarkerEvent(int(t), Chamber(c), MarkerKind(k),
                                          flags=PaceFlag(int(f)))
                              for t, c, k, f in data["markers"]),
                beats=tuple(BeatLabel(int(t), str(s)) for t, s in data["beats"]),
                rhythms=tuple(RhythmNote(int(t), str(c)) for t, c in data["rhythms"]),
                programming=data.get("programming"),
                provenance=Provenance.from_dict(data["provenance"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise TwinError(f"{source}: malformed session file ({type(err).__name__}: {err})",
                            name="session", value=source,
                            expected="a file written by 'devicetwin twin import'") from None


def beats_of(session: RecordedSession, symbols: Sequence[str]) -> list[int]:
    """Times (us) of the session's beats labelled with one of ``symbols``."""
    return [b.t_us for b in session.beats if b.symbol in symbols]
