"""The event-level protocol: ASCII lines, senses in and paces out (``docs/protocol.md`` section 7).

Lab hearts and simple student firmware speak this instead of sample windows: the bench tells the
device when it sensed (``A <t_us>`` / ``V <t_us>``) and how far time has come (``T <t_us>``); the
device answers each ``T`` with its paces up to that time (``P A <t_us>`` / ``P V <t_us>``, with an
optional ``<amplitude_mv> <width_us>``) and a ``.`` line. ``R`` starts a session: the device
resets, may name itself (``I name=... version=... [hash=...] [caps=...]``) and answers ``.``; a
device with the capability ``stop`` then answers each ``T`` at its first pace (early stop).

``EventLineCodec`` encodes and strictly parses the lines; ``EventLevelDevice`` drives a lock-step
device over any link; ``EventByteStream`` is the real-time byte mode (section 7.1).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware_bridge.errors import EncodeError, FrameError, LinkTimeoutError, UnexpectedReplyError
from firmware_bridge.links import Link
from firmware_bridge.wire import WireChamber

MAX_LINE = 64
"""Longest line in bytes before its ``\\n`` (a ``\\r`` before it counts), identity lines aside."""
MAX_IDENTITY_LINE = 192
"""Longest identity (``I ...``) line in bytes: it carries a 64-digit hash."""
MAX_TIME_US = 2**64 - 1
"""Times are unsigned 64-bit microsecond counts."""
MAX_SENSES_PER_MARK = 32
"""Senses a bench may send between two ``T`` lines; every device must hold that many."""
CAP_STOP = "stop"
"""Capability: early stop at the first pace."""

_CHAMBERS = {"A": WireChamber.A, "V": WireChamber.V}
_NUMBER = re.compile(rb"0|[1-9][0-9]{0,19}")
_TOKEN = re.compile(r"[A-Za-z0-9._+-]{1,32}")
_CAP = re.compile(r"[a-z][a-z0-9_-]{0,15}")
_HASH = re.compile(r"[0-9a-f]{64}")
_IDENTITY = re.compile(rb"I name=(\S+) version=(\S+)(?: hash=(\S+))?(?: caps=(\S+))?")


def _check_time(t_us: int) -> None:
    if isinstance(t_us, bool) or not isinstance(t_us, int) or not 0 <= t_us <= MAX_TIME_US:
        raise EncodeError(f"t_us = {t_us!r} outside 0..2**64-1", expected="a 64-bit time in us")


def _check_chamber(chamber: WireChamber) -> None:
    if chamber not in (WireChamber.A, WireChamber.V):
        raise EncodeError(f"chamber {chamber!r}", expected="A or V")


@dataclass(frozen=True, slots=True)
class Sense:
    """Bench to device: a sense in ``chamber`` at ``t_us``."""

    chamber: WireChamber
    t_us: int

    def __post_init__(self) -> None:
        _check_chamber(self.chamber)
        _check_time(self.t_us)


@dataclass(frozen=True, slots=True)
class TimeMark:
    """Bench to device: time has reached ``t_us``; answer with paces up to it, then ``.``."""

    t_us: int

    def __post_init__(self) -> None:
        _check_time(self.t_us)


@dataclass(frozen=True, slots=True)
class Reset:
    """Bench to device: back to the power-on state, clock at 0; a session starts."""


@dataclass(frozen=True, slots=True)
class Pace:
    """Device to bench: a pace in ``chamber`` at ``t_us``, optionally with its output
    (``amplitude_mv``, ``width_us``: both or neither, each 0..65535)."""

    chamber: WireChamber
    t_us: int
    amplitude_mv: int | None = None
    width_us: int | None = None

    def __post_init__(self) -> None:
        _check_chamber(self.chamber)
        _check_time(self.t_us)
        details = (self.amplitude_mv, self.width_us)
        if (details[0] is None) != (details[1] is None):
            raise EncodeError(f"pace details {details!r}: give both or neither",
                              expected="amplitude_mv and width_us together")
        for name, v in zip(("amplitude_mv", "width_us"), details, strict=True):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)
                                  or not 0 <= v <= 0xFFFF):
                raise EncodeError(f"{name} = {v!r} outside 0..65535", expected="a u16")


@dataclass(frozen=True, slots=True)
class EndOfAnswer:
    """Device to bench: the answer to the last ``T`` or ``R`` is complete."""


@dataclass(frozen=True, slots=True)
class EventIdentity:
    """Device to bench, answering ``R``: who the device is and what it can do.

    ``name`` and ``version`` are tokens of 1-32 characters ``[A-Za-z0-9._+-]``; ``hash`` is 64
    lowercase hex digits (SHA-256 of the firmware) or None; ``caps`` are capability names
    (``[a-z][a-z0-9_-]``, at most 16 characters, no repeats), e.g. ``("stop",)``.
    """

    name: str
    version: str
    hash: str | None = None
    caps: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, v in (("name", self.name), ("version", self.version)):
            if not isinstance(v, str) or not _TOKEN.fullmatch(v):
                raise EncodeError(f"identity {what} {v!r}", expected="1-32 of [A-Za-z0-9._+-]")
        if self.hash is not None and not (isinstance(self.hash, str)
                                          and _HASH.fullmatch(self.hash)):
            raise EncodeError(f"identity hash {self.hash!r}", expected="64 lowercase hex digits")
        if not isinstance(self.caps, tuple) or len(set(self.caps)) != len(self.caps) or not all(
                isinstance(c, str) and _CAP.fullmatch(c) for c in self.caps):
            raise EncodeError(f"identity caps {self.caps!r}",
                              expected="a tuple of distinct names [a-z][a-z0-9_-]{0,15}")

    def has(self, cap: str) -> bool:
        """True if the device announced capability ``cap``."""
        return cap in self.caps


BenchLine = Sense | TimeMark | Reset
DeviceLine = Pace | EndOfAnswer | EventIdentity
EventMessage = BenchLine | DeviceLine


@dataclass(slots=True)
class EventCodecStats:
    """Lines in and out; rejected lines (malformed or too long), the last 16 kept."""

    lines_in: int = 0
    lines_out: int = 0
    bad_lines: int = 0
    rejected: list[bytes] = field(default_factory=list)


def _number(word: bytes) -> int | None:
    if not _NUMBER.fullmatch(word):
        return None
    v = int(word)
    return v if v <= MAX_TIME_US else None


def _parse_identity(line: bytes) -> EventIdentity | None:
    m = _IDENTITY.fullmatch(line)
    if m is None:
        return None
    name, version, hash_, caps = (g.decode("ascii") if g is not None else None
                                  for g in m.groups())
    assert name is not None and version is not None
    try:
        return EventIdentity(name, version, hash_,
                             tuple(caps.split(",")) if caps is not None else ())
    except EncodeError:
        return None


def parse_line(line: bytes) -> EventMessage | None:
    """The message of one line without its ``\\n`` (and ``\\r``), or None if it is not in the
    grammar of ``docs/protocol.md`` section 7 (both directions)."""
    if not line.isascii():
        return None
    if line == b".":
        return EndOfAnswer()
    if line == b"R":
        return Reset()
    if line.startswith(b"I "):
        return _parse_identity(line)
    words = line.split(b" ")
    if len(words) == 2 and words[0] in (b"A", b"V", b"T"):
        t = _number(words[1])
        if t is None:
            return None
        return TimeMark(t) if words[0] == b"T" else Sense(_CHAMBERS[words[0].decode()], t)
    if len(words) in (3, 5) and words[0] == b"P" and words[1] in (b"A", b"V"):
        nums = [n for n in map(_number, words[2:]) if n is not None]
        if len(nums) != len(words) - 2 or any(n > 0xFFFF for n in nums[1:]):
            return None
        return Pace(_CHAMBERS[words[1].decode()], *nums)
    return None


def _line_limit(buf: bytes | bytearray) -> int:
    return MAX_IDENTITY_LINE if buf[:2] == b"I " else MAX_LINE


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
            line = f"{msg.chamber.name} {msg.t_us}"
        elif isinstance(msg, TimeMark):
            line = f"T {msg.t_us}"
        elif isinstance(msg, Reset):
            line = "R"
        elif isinstance(msg, Pace):
            line = f"P {msg.chamber.name} {msg.t_us}"
            if msg.amplitude_mv is not None:
                line += f" {msg.amplitude_mv} {msg.width_us}"
        elif isinstance(msg, EndOfAnswer):
            line = "."
        elif isinstance(msg, EventIdentity):
            line = f"I name={msg.name} version={msg.version}"
            line += f" hash={msg.hash}" if msg.hash is not None else ""
            line += f" caps={','.join(msg.caps)}" if msg.caps else ""
        else:
            raise EncodeError(f"cannot encode {msg!r}",
                              expected="Sense, TimeMark, Reset, Pace, EndOfAnswer, EventIdentity")
        self.stats.lines_out += 1
        return line.encode("ascii") + b"\n"

    def reset(self) -> None:
        """Forget a partial line."""
        self._buf.clear()
        self._overlong = False

    def _reject(self, line: bytes) -> None:
        self.stats.bad_lines += 1
        self.stats.rejected = [*self.stats.rejected[-15:], line[:MAX_IDENTITY_LINE + 1]]

    def feed(self, data: bytes) -> list[EventMessage]:
        """Messages completed by ``data``; rejected lines are counted in ``stats``."""
        out: list[EventMessage] = []
        parts = bytes(data).split(b"\n")
        for i, part in enumerate(parts):
            if not self._overlong:
                self._buf += part
                if len(self._buf) > _line_limit(self._buf):
                    self._reject(bytes(self._buf))
                    self._buf.clear()
                    self._overlong = True
            if i == len(parts) - 1:
                break
            if self._overlong:
                self._overlong = False
                continue
            line = bytes(self._buf)
            self._buf.clear()
            line = line[:-1] if line.endswith(b"\r") else line
            if not line:
                continue
            msg = parse_line(line)
            if msg is None:
                self._reject(line)
            else:
                self.stats.lines_in += 1
                out.append(msg)
        return out


def _bad_line_error(line: bytes, url: str) -> FrameError:
    limit = _line_limit(line)
    long = len(line) > limit
    return FrameError(
        f"{'overlong' if long else 'malformed'} line {line!r} from {url!r}",
        received=line,
        expected=(f"oversize: a line of at most {limit} bytes" if long else
                  "payload: a device line of docs/protocol.md section 7 (P, I or '.')"))


class EventLevelDevice:
    """Drive an event-level device over a link in lock-step: reset, report senses, advance time.

    ``clock_us`` is the device's time: the last mark answered, or the pace an early stop ended
    at. Bench times may not go below it; :meth:`advance` checks every answer against the
    protocol (pace times within the answered span, early stop at one instant).
    """

    def __init__(self, link: Link, timeout_s: float = 1.0) -> None:
        self.link = link
        self.timeout_s = timeout_s
        self.codec = EventLineCodec()
        self.identity: EventIdentity | None = None
        self.clock_us = 0
        self._session = False
        self._floor_us = 0  # lowest pace time the next answer may hold
        self._last_sent_us = 0
        self._senses_since_mark = 0
        self._pending: list[EventMessage] = []

    @property
    def early_stop(self) -> bool:
        """True once :meth:`reset` found a device with capability ``stop``."""
        return self._session and self.identity is not None and self.identity.has(CAP_STOP)

    def reset(self) -> EventIdentity | None:
        """Send ``R``: the device resets, its clock is 0; return its identity (None if it sent
        none). Raises LinkTimeoutError if it does not answer (a base-protocol device)."""
        sent = self.codec.encode(Reset())
        self.link.write(sent)
        answer = self._answer(sent)
        if any(not isinstance(m, EventIdentity) for m in answer) or len(answer) > 1:
            raise UnexpectedReplyError(f"answer to R was {answer!r}", sent=sent,
                                       received=answer, expected="at most one I line, then '.'")
        self.identity = answer[0] if answer and isinstance(answer[0], EventIdentity) else None
        self._session = True
        self.clock_us = self._floor_us = self._last_sent_us = self._senses_since_mark = 0
        return self.identity

    def _check_order(self, what: str, t_us: int) -> None:
        least = max(self.clock_us, self._last_sent_us)
        if t_us < least:
            raise EncodeError(f"{what} at t_us={t_us} before the device clock or an earlier "
                              f"bench time ({least} us)", expected=f"t_us >= {least}")

    def sense(self, chamber: WireChamber, t_us: int) -> None:
        """Tell the device that ``chamber`` sensed at ``t_us`` (at most
        :data:`MAX_SENSES_PER_MARK` between two marks)."""
        self._check_order("sense", t_us)
        if self._senses_since_mark == MAX_SENSES_PER_MARK:
            raise EncodeError(f"sense at t_us={t_us}: already {MAX_SENSES_PER_MARK} senses since "
                              "the last mark", expected="a T line first")
        self.link.write(self.codec.encode(Sense(chamber, t_us)))
        self._last_sent_us = t_us
        self._senses_since_mark += 1

    def advance(self, t_us: int) -> list[Pace]:
        """Time has reached ``t_us``: the device's paces up to then.

        With early stop the answer ends at the first pace ``t_p``: ``clock_us`` becomes
        ``t_p`` and the senses sent after ``t_p`` are forgotten (send them again).
        """
        self._check_order("T", t_us)
        sent = self.codec.encode(TimeMark(t_us))
        self.link.write(sent)
        self._senses_since_mark = 0
        paces: list[Pace] = []
        for msg in self._answer(sent):
            if not isinstance(msg, Pace):
                raise UnexpectedReplyError(f"{msg!r} in the answer to {sent!r}", sent=sent,
                                           received=msg, expected="P lines, then '.'")
            low = paces[-1].t_us if paces else self._floor_us
            if not low <= msg.t_us <= t_us or (self.early_stop and paces
                                                and msg.t_us != paces[0].t_us):
                raise UnexpectedReplyError(
                    f"pace {msg!r} in the answer to {sent!r}: expected a time in "
                    f"{low}..{t_us} us, in order" + (", at the first pace's time (early stop)"
                                                     if self.early_stop else ""),
                    sent=sent, received=msg, expected=f"{low} <= t_us <= {t_us}")
            paces.append(msg)
        self.clock_us = paces[0].t_us if self.early_stop and paces else t_us
        self._last_sent_us = self.clock_us
        self._floor_us = self.clock_us + 1  # the pace at the clock was answered already
        return paces

    def _answer(self, sent: bytes) -> list[DeviceLine]:
        """Device lines up to ``.`` (excluded); malformed lines and bench lines are errors."""
        answer: list[DeviceLine] = []
        deadline = time.monotonic() + self.timeout_s
        while True:
            while self._pending:
                msg = self._pending.pop(0)
                if isinstance(msg, EndOfAnswer):
                    return answer
                if isinstance(msg, (Sense, TimeMark, Reset)):
                    raise UnexpectedReplyError(f"bench line {msg!r} from the device", sent=sent,
                                               received=msg, expected="P, I or '.'")
                answer.append(msg)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LinkTimeoutError(
                    f"no '.' after {sent!r} from {self.link.url!r} within {self.timeout_s} s",
                    sent=sent, received=answer, expected="device lines then '.'")
            bad = self.codec.stats.bad_lines
            self._pending += self.codec.feed(self.link.read(remaining))
            if self.codec.stats.bad_lines != bad:
                raise _bad_line_error(self.codec.stats.rejected[-1], self.link.url)


def _monotonic_us() -> int:
    return time.monotonic_ns() // 1000


class EventByteStream:
    """The real-time byte mode (``docs/protocol.md`` section 7.1) over a link.

    The bench writes ``A``/``V`` at the moment of a sense (``R`` restarts the device's timing);
    the device writes ``A``/``V`` when it paces, and the bench stamps each pace with the time it
    read it. Times are microseconds of ``clock_us`` (default: the monotonic clock) since the
    stream was made or last reset. Bytes read together get the same stamp.
    """

    def __init__(self, link: Link, clock_us: Callable[[], int] = _monotonic_us) -> None:
        self.link = link
        self._clock_us = clock_us
        self.t0_us = clock_us()

    def now_us(self) -> int:
        """Microseconds since the session's start."""
        return self._clock_us() - self.t0_us

    def reset(self) -> None:
        """Write ``R``: the device restarts its timing; session time starts again at 0."""
        self.t0_us = self._clock_us()
        self.link.write(b"R")

    def sense(self, chamber: WireChamber) -> int:
        """Write a sense now; return its session time in us (read just before the write)."""
        _check_chamber(chamber)
        t_us = self.now_us()
        self.link.write(chamber.name.encode("ascii"))
        return t_us

    def read_paces(self, timeout_s: float) -> list[Pace]:
        """The paces that arrive within ``timeout_s`` (one read), stamped on receipt."""
        data = self.link.read(timeout_s)
        t_us = self.now_us()
        bad = data.translate(None, b"AV")
        if bad:
            raise FrameError(f"byte mode: unexpected bytes {data!r} from {self.link.url!r}",
                             received=data, expected="payload: only the bytes A and V")
        return [Pace(_CHAMBERS[chr(b)], t_us) for b in data]
