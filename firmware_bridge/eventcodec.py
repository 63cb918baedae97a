"""The event-level codec: ASCII lines, senses in and paces out (``docs/protocol.md`` section 7).

Lab hearts and simple student firmware speak this instead of sample windows: the bench tells the
device when it sensed (``A <t_us>`` / ``V <t_us>``) and how far time has come (``T <t_us>``); the
device answers each ``T`` with its paces up to that time (``P A <t_us>`` / ``P V <t_us>``) and a
``.`` line. ``EventLevelDevice`` is the matching driver over any link.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from firmware_bridge.errors import EncodeError, LinkTimeoutError
from firmware_bridge.links import Link
from firmware_bridge.wire import WireChamber

MAX_LINE = 64
_CHAMBERS = {"A": WireChamber.A, "V": WireChamber.V}


@dataclass(frozen=True, slots=True)
class Sense:
    """Bench to device: a sense in ``chamber`` at ``t_us``."""

    chamber: WireChamber
    t_us: int


@dataclass(frozen=True, slots=True)
class TimeMark:
    """Bench to device: time has reached ``t_us``; answer with paces up to it, then ``.``."""

    t_us: int


@dataclass(frozen=True, slots=True)
class Pace:
    """Device to bench: a pace in ``chamber`` at ``t_us``."""

    chamber: WireChamber
    t_us: int


@dataclass(frozen=True, slots=True)
class EndOfAnswer:
    """Device to bench: no more paces for the last TimeMark."""


EventMessage = Sense | TimeMark | Pace | EndOfAnswer


def _check(t_us: int, chamber: WireChamber | None = None) -> None:
    if not isinstance(t_us, int) or not 0 <= t_us < 10**20:
        raise EncodeError(f"t_us = {t_us!r} outside 0..10**20-1", expected="a 20-digit time")
    if chamber is not None and chamber not in (WireChamber.A, WireChamber.V):
        raise EncodeError(f"chamber {chamber!r}", expected="A or V")


@dataclass(slots=True)
class EventCodecStats:
    """Lines in and out; rejected lines (malformed or over 64 bytes)."""

    lines_in: int = 0
    lines_out: int = 0
    bad_lines: int = 0
    rejected: list[bytes] = field(default_factory=list)


class EventLineCodec:
    """Encode and parse the event-level line protocol (both directions)."""

    name = "events"

    def __init__(self) -> None:
        self.stats = EventCodecStats()
        self._buf = bytearray()
        self._overlong = False

    def encode(self, msg: EventMessage, seq: int = 0) -> bytes:
        """One line for ``msg`` (``seq`` is unused: the protocol has none)."""
        if isinstance(msg, Sense):
            _check(msg.t_us, msg.chamber)
            line = f"{msg.chamber.name} {msg.t_us}"
        elif isinstance(msg, TimeMark):
            _check(msg.t_us)
            line = f"T {msg.t_us}"
        elif isinstance(msg, Pace):
            _check(msg.t_us, msg.chamber)
            line = f"P {msg.chamber.name} {msg.t_us}"
        elif isinstance(msg, EndOfAnswer):
            line = "."
        else:
            raise EncodeError(f"cannot encode {msg!r}", expected="Sense, TimeMark, Pace, End")
        self.stats.lines_out += 1
        return line.encode("ascii") + b"\n"

    def reset(self) -> None:
        """Forget a partial line."""
        self._buf.clear()
        self._overlong = False

    def _reject(self, line: bytes) -> None:
        self.stats.bad_lines += 1
        self.stats.rejected = [*self.stats.rejected[-15:], line[:MAX_LINE]]

    def feed(self, data: bytes) -> list[EventMessage]:
        """Messages completed by ``data``."""
        out: list[EventMessage] = []
        parts = bytes(data).split(b"\n")
        for i, part in enumerate(parts):
            if not self._overlong:
                self._buf += part
                if len(self._buf) > MAX_LINE:
                    self._reject(bytes(self._buf))
                    self._buf.clear()
                    self._overlong = True
            if i == len(parts) - 1:
                break
            if self._overlong:
                self._overlong = False
                continue
            line = bytes(self._buf).rstrip(b"\r")
            self._buf.clear()
            if not line:
                continue
            msg = self._parse(line)
            if msg is None:
                self._reject(line)
            else:
                self.stats.lines_in += 1
                out.append(msg)
        return out

    @staticmethod
    def _parse(line: bytes) -> EventMessage | None:
        try:
            words = line.decode("ascii").split(" ")
        except UnicodeDecodeError:
            return None
        if words == ["."]:
            return EndOfAnswer()

        def number(w: str) -> int | None:
            return int(w) if w.isdigit() and len(w) <= 20 else None

        if len(words) == 2 and words[0] in ("A", "V", "T"):
            t = number(words[1])
            if t is None:
                return None
            return TimeMark(t) if words[0] == "T" else Sense(_CHAMBERS[words[0]], t)
        if len(words) == 3 and words[0] == "P" and words[1] in _CHAMBERS:
            t = number(words[2])
            return None if t is None else Pace(_CHAMBERS[words[1]], t)
        return None


class EventLevelDevice:
    """Drive an event-level device over a link: report senses, advance time, collect paces."""

    def __init__(self, link: Link, timeout_s: float = 1.0) -> None:
        self.link = link
        self.timeout_s = timeout_s
        self.codec = EventLineCodec()
        self._pending: list[EventMessage] = []

    def sense(self, chamber: WireChamber, t_us: int) -> None:
        """Tell the device that ``chamber`` sensed at ``t_us``."""
        self.link.write(self.codec.encode(Sense(chamber, t_us)))

    def advance(self, t_us: int) -> list[Pace]:
        """Time has reached ``t_us``: the device's paces up to then."""
        sent = self.codec.encode(TimeMark(t_us))
        self.link.write(sent)
        paces: list[Pace] = []
        deadline = time.monotonic() + self.timeout_s
        while True:
            while self._pending:
                msg = self._pending.pop(0)
                if isinstance(msg, EndOfAnswer):
                    return paces
                if isinstance(msg, Pace):
                    paces.append(msg)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LinkTimeoutError(
                    f"no '.' after T {t_us} from {self.link.url!r} within {self.timeout_s} s",
                    sent=sent, received=paces, expected="paces then '.'")
            data = self.link.read(remaining)
            self._pending += self.codec.feed(data)
