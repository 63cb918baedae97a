"""The binary codec of protocol v1: messages to frames and back (``docs/protocol.md``).

``encode`` turns a message into wire bytes (COBS + delimiter), ``decode_raw`` checks and parses one
COBS-decoded frame, ``FrameDecoder`` cuts a byte stream into frames, resynchronising after garbage
and counting every rejection. ``BinaryCodec`` bundles them behind the ``Codec`` interface.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from firmware_bridge import framing
from firmware_bridge.errors import EncodeError, FrameError
from firmware_bridge.messages import (
    Ack,
    DeviceError,
    Event,
    Events,
    Hello,
    HelloRequest,
    Interrogate,
    Interrogation,
    Message,
    Nack,
    Program,
    Reset,
    SetBattery,
    SetState,
    Stream,
    Telemetry,
    TelemetryRequest,
    Tick,
)
from firmware_bridge.wire import (
    AUTH_TRAILER_LEN,
    CRC_LEN,
    FLAG_AUTH,
    HEADER_LEN,
    KEY_LEN,
    MAX_ENCODED,
    MAX_FRAME,
    MIN_FRAME,
    PROTOCOL_VERSION,
    TAG_LEN,
    MessageType,
)

_HEADER = struct.Struct("<BBBH")
_U32 = struct.Struct("<I")
_HELLO_FIXED = struct.Struct("<BIHHI32s")
_EVENT = struct.Struct("<QBBBHH")
_EVENTS_FIXED = struct.Struct("<QHBB")
_WINDOW_FIXED = struct.Struct("<QHB")
_INTERROGATION_FIXED = struct.Struct("<BBBBQ")
_TELEMETRY = struct.Struct("<QHBHH11I")
_ERROR_FIXED = struct.Struct("<BI")
_PARAM = struct.Struct("<Bi")
_TYPE_BY_CODE = {int(t): t for t in MessageType}


def compute_tag(key: bytes, data: bytes) -> bytes:
    """The 16-byte tag: HMAC-SHA256(key, data) truncated to its first 16 bytes."""
    return hmac.new(key, data, hashlib.sha256).digest()[:TAG_LEN]


@dataclass(frozen=True, slots=True)
class AuthInfo:
    """The auth trailer of a received frame; ``verified`` is None when no key was given."""

    counter: int
    tag: bytes
    verified: bool | None


class Frame(NamedTuple):
    """A decoded frame: header fields, the message, and the auth trailer if any."""

    type: MessageType
    seq: int
    message: Message
    auth: AuthInfo | None = None
    version: int = PROTOCOL_VERSION


# The C codec's whole-frame paths for the lock-step hot loop (TICK out, EVENTS back): same
# bytes, same checks and the same error classes as the Python code below (see the tests).
_window_frame_encode: Callable[..., bytes] | None = None
_window_frame_decode: Callable[[bytes], tuple[Any, ...]] | None = None
_events_frame_decode: Callable[[bytes], tuple[Any, ...]] | None = None
if framing.HAVE_FAST:
    from firmware_bridge._fastcodec import events_frame_decode as _events_frame_decode
    from firmware_bridge._fastcodec import window_frame_decode as _window_frame_decode
    from firmware_bridge._fastcodec import window_frame_encode as _window_frame_encode


# ---- encoding ---------------------------------------------------------------------------------
def _params_bytes(params: tuple[tuple[int, int], ...]) -> bytes:
    return bytes([len(params)]) + b"".join(_PARAM.pack(pid, value) for pid, value in params)


def _text(s: str) -> bytes:
    b = s.encode("ascii")
    return bytes([len(b)]) + b


def encode_payload(msg: Message) -> bytes:
    """The payload bytes of a message (section 3 layouts)."""
    t = msg.TYPE
    if t in (MessageType.TICK, MessageType.STREAM):
        w = cast(Tick, msg)
        return (_WINDOW_FIXED.pack(w.t0_us, len(w.atrial_uv), 1 if w.early_stop else 0)
                + framing.samples_encode(w.atrial_uv) + framing.samples_encode(w.ventricular_uv)
                + framing.samples_encode(w.activity_mg))
    if t is MessageType.EVENTS:
        e = cast(Events, msg)
        flags = (1 if e.stopped_at_pace else 0) | (2 if e.streamed else 0)
        return _EVENTS_FIXED.pack(e.t0_us, e.consumed, flags, len(e.events)) + b"".join(
            _EVENT.pack(v.t_us, v.chamber, v.kind, v.flags, v.amplitude_mv, v.width_us)
            for v in e.events)
    if t in (MessageType.HELLO_REQ, MessageType.INTERROGATE, MessageType.TELEMETRY_REQ):
        return b""
    if t is MessageType.PROGRAM:
        return _params_bytes(cast(Program, msg).params)
    if t is MessageType.SET_STATE:
        s = cast(SetState, msg)
        return bytes([s.command, s.mode])
    if t is MessageType.SET_BATTERY:
        return bytes([cast(SetBattery, msg).state])
    if t is MessageType.RESET:
        return bytes([cast(Reset, msg).kind])
    if t is MessageType.ACK:
        return bytes([cast(Ack, msg).acked_type])
    if t is MessageType.NACK:
        n = cast(Nack, msg)
        return bytes([n.acked_type, n.reason, n.param_id, n.rule])
    if t is MessageType.INTERROGATION:
        q = cast(Interrogation, msg)
        return (_INTERROGATION_FIXED.pack(q.state, int(q.magnet), q.active_mode, q.battery,
                                          q.time_us) + _params_bytes(q.params))
    if t is MessageType.HELLO:
        h = cast(Hello, msg)
        return (_HELLO_FIXED.pack(h.protocol_version, h.capabilities, h.max_window_samples,
                                  h.sample_rate_hz, h.auth_counter, h.firmware_hash)
                + _text(h.model) + _text(h.serial) + _text(h.firmware_version))
    if t is MessageType.TELEMETRY:
        m = cast(Telemetry, msg)
        return _TELEMETRY.pack(
            m.time_us, m.battery_mv, m.battery_state, m.atrial_impedance_ohm,
            m.ventricular_impedance_ohm, m.ap_count, m.as_count, m.ar_count, m.vp_count,
            m.vs_count, m.vr_count, m.pvc_count, m.frames_ok, m.frames_bad, m.nacks_sent,
            m.auth_failures)
    if t is MessageType.ERROR:
        d = cast(DeviceError, msg)
        return _ERROR_FIXED.pack(d.code, d.detail) + _text(d.text)
    raise EncodeError(f"cannot encode {msg!r}", expected="a firmware_bridge.messages message")


def encode_raw(msg: Message, seq: int, *, key: bytes | None = None,
               counter: int | None = None) -> bytes:
    """The raw frame (header, payload, auth trailer, CRC) before COBS.

    Parameters
    ----------
    msg:
        The message.
    seq:
        Header sequence number, 0..65535.
    key, counter:
        Both given: append the auth trailer (only for therapy commands). ``counter`` is u32.
    """
    if not 0 <= seq <= 0xFFFF:
        raise EncodeError(f"seq = {seq!r} outside 0..65535", expected="a u16 sequence number")
    authed = key is not None or counter is not None
    if authed:
        if key is None or counter is None or len(key) != KEY_LEN:
            raise EncodeError("authenticated frames need a 32-byte key and a counter",
                              sent=msg, expected="key (32 bytes) and counter together")
        if not msg.TYPE.requires_auth:
            raise EncodeError(f"{msg.TYPE.name} is not an authenticated command", sent=msg,
                              expected="PROGRAM, SET_STATE, SET_BATTERY or RESET")
        if not 0 <= counter <= 0xFFFF_FFFF:
            raise EncodeError(f"counter = {counter!r} outside u32", expected="0..2**32-1")
    body = _HEADER.pack(PROTOCOL_VERSION, msg.TYPE, FLAG_AUTH if authed else 0, seq)
    body += encode_payload(msg)
    if authed:
        assert key is not None and counter is not None
        body += _U32.pack(counter)
        body += compute_tag(key, body)
    if len(body) + CRC_LEN > MAX_FRAME:
        raise EncodeError(f"frame of {len(body) + CRC_LEN} bytes", sent=msg,
                          expected=f"at most {MAX_FRAME} bytes")
    return body + _U32.pack(framing.crc32c(body))


def encode(msg: Message, seq: int, *, key: bytes | None = None,
           counter: int | None = None) -> bytes:
    """Wire bytes of one frame: COBS(raw) followed by the 0x00 delimiter."""
    if _window_frame_encode is not None and isinstance(msg, Tick) and key is None \
            and counter is None and 0 <= seq <= 0xFFFF:
        # compiled fast path for the lock-step hot loop (same bytes, see the tests)
        return _window_frame_encode(msg.TYPE, seq, msg.t0_us, msg.early_stop, msg.atrial_uv,
                                    msg.ventricular_uv, msg.activity_mg)
    return framing.cobs_encode(encode_raw(msg, seq, key=key, counter=counter)) + b"\x00"


# ---- decoding ---------------------------------------------------------------------------------
def _bad(reason: str, raw: bytes, what: str) -> FrameError:
    return FrameError(what, received=raw, expected=f"{reason}: docs/protocol.md")


class _Reader:
    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data = data
        self.pos = pos
        self.end = end

    def take(self, st: struct.Struct) -> tuple[Any, ...]:
        if self.end - self.pos < st.size:
            raise _bad("payload", self.data, f"payload truncated at offset {self.pos}")
        v = st.unpack_from(self.data, self.pos)
        self.pos += st.size
        return v

    def u8(self) -> int:
        if self.pos >= self.end:
            raise _bad("payload", self.data, f"payload truncated at offset {self.pos}")
        v = self.data[self.pos]
        self.pos += 1
        return v

    def raw(self, n: int) -> bytes:
        if self.end - self.pos < n:
            raise _bad("payload", self.data, f"payload truncated at offset {self.pos}")
        v = self.data[self.pos : self.pos + n]
        self.pos += n
        return v

    def text(self, max_len: int) -> str:
        n = self.u8()
        if n > max_len:
            raise _bad("payload", self.data, f"string of {n} bytes (max {max_len})")
        return self.raw(n).decode("latin-1")

    def params(self) -> tuple[tuple[int, int], ...]:
        n = self.u8()
        return tuple((pid, value) for pid, value in (self.take(_PARAM) for _ in range(n)))


def _decode_payload(t: MessageType, r: _Reader) -> Message:
    if t in (MessageType.TICK, MessageType.STREAM):
        t0, early, a, v, x = framing.window_decode(r.data, r.pos, r.end)
        r.pos = r.end
        cls = Tick if t is MessageType.TICK else Stream
        return cls._trusted(t0, a, v, x, early)
    if t is MessageType.EVENTS:
        t0, consumed, flags, count = r.take(_EVENTS_FIXED)
        if flags & ~3:
            raise _bad("payload", r.data, f"EVENTS flags {flags:#x}")
        evs = tuple(Event(*r.take(_EVENT)) for _ in range(count))
        return Events(t0, consumed, evs, bool(flags & 1), bool(flags & 2))
    if t in (MessageType.HELLO_REQ, MessageType.INTERROGATE, MessageType.TELEMETRY_REQ):
        return cast(Message, {MessageType.HELLO_REQ: HelloRequest,
                              MessageType.INTERROGATE: Interrogate,
                              MessageType.TELEMETRY_REQ: TelemetryRequest}[t]())
    if t is MessageType.PROGRAM:
        return Program(r.params())
    if t is MessageType.SET_STATE:
        return SetState(r.u8(), r.u8())  # type: ignore[arg-type]
    if t is MessageType.SET_BATTERY:
        return SetBattery(r.u8())  # type: ignore[arg-type]
    if t is MessageType.RESET:
        return Reset(r.u8())  # type: ignore[arg-type]
    if t is MessageType.ACK:
        return Ack(r.u8())
    if t is MessageType.NACK:
        return Nack(r.u8(), r.u8(), r.u8(), r.u8())  # type: ignore[arg-type]
    if t is MessageType.INTERROGATION:
        state, magnet, mode, battery, time_us = r.take(_INTERROGATION_FIXED)
        if magnet > 1:
            raise _bad("payload", r.data, f"magnet = {magnet}")
        return Interrogation(state, magnet, mode, battery, time_us, r.params())
    if t is MessageType.HELLO:
        version, caps, window, rate, counter, fw_hash = r.take(_HELLO_FIXED)
        return Hello(version, caps, window, rate, counter, fw_hash, r.text(32), r.text(32),
                     r.text(32))
    if t is MessageType.TELEMETRY:
        return Telemetry(*r.take(_TELEMETRY))
    if t is MessageType.ERROR:
        code, detail = r.take(_ERROR_FIXED)
        return DeviceError(code, detail, r.text(64))
    raise _bad("type", r.data, f"unknown type {t}")  # pragma: no cover


def decode_raw(raw: bytes, key: bytes | None = None) -> Frame:
    """Check and parse one raw frame (COBS already removed).

    Raises FrameError whose ``reason`` is length, oversize, crc, version, type, flags or payload.
    """
    n = len(raw)
    if MIN_FRAME <= n <= MAX_FRAME and raw[0] == 1 and raw[2] == 0 and type(raw) is bytes:
        type_code = raw[1]
        if type_code == 0x41 and _events_frame_decode is not None:
            return _events_frame(raw)
        if (type_code == 0x40 or type_code == 0x42) and _window_frame_decode is not None:
            seq, t0, early, a, v, x = _window_frame_decode(raw)
            if type_code == 0x40:
                return Frame(MessageType.TICK, seq, Tick._trusted(t0, a, v, x, early))
            return Frame(MessageType.STREAM, seq, Stream._trusted(t0, a, v, x, early))
    if n < MIN_FRAME:
        raise _bad("length", raw, f"frame of {n} bytes, shorter than {MIN_FRAME}")
    if n > MAX_FRAME:
        raise _bad("oversize", raw, f"frame of {n} bytes, longer than {MAX_FRAME}")
    body_end = n - CRC_LEN
    crc = int.from_bytes(raw[body_end:], "little")
    if crc != framing.crc32c(raw[:body_end]):
        raise _bad("crc", raw, f"CRC {crc:#010x} does not match the frame")
    version, type_code, flags, seq = _HEADER.unpack_from(raw)
    if version != PROTOCOL_VERSION:
        raise _bad("version", raw, f"protocol version {version}, expected {PROTOCOL_VERSION}")
    t = _TYPE_BY_CODE.get(type_code)
    if t is None:
        raise _bad("type", raw, f"unknown message type {type_code:#04x}")
    if flags & ~FLAG_AUTH or (flags & FLAG_AUTH and not t.requires_auth):
        raise _bad("flags", raw, f"flags {flags:#04x} not allowed on {t.name}")
    auth = None
    if flags & FLAG_AUTH:
        if body_end < HEADER_LEN + AUTH_TRAILER_LEN:
            raise _bad("payload", raw, "auth flag set but no room for the trailer")
        body_end -= AUTH_TRAILER_LEN
        counter = int.from_bytes(raw[body_end : body_end + 4], "little")
        tag = raw[body_end + 4 : body_end + AUTH_TRAILER_LEN]
        verified = None
        if key is not None:
            verified = hmac.compare_digest(compute_tag(key, raw[: body_end + 4]), tag)
        auth = AuthInfo(counter, tag, verified)
    r = _Reader(raw, HEADER_LEN, body_end)
    try:
        msg = _decode_payload(t, r)
    except EncodeError as exc:  # a field outside its table
        raise _bad("payload", raw, f"{t.name} payload: {exc.message}") from None
    if r.pos != body_end:
        raise _bad("payload", raw, f"{body_end - r.pos} trailing payload bytes in {t.name}")
    return Frame(t, seq, msg, auth)


def _events_frame(raw: bytes) -> Frame:
    """An EVENTS frame through the C decoder (it checks what the message classes check)."""
    assert _events_frame_decode is not None
    seq, t0, consumed, flags, evs = _events_frame_decode(raw)
    try:
        events = Events(t0, consumed, tuple([Event(*e) for e in evs]) if evs else (),
                        bool(flags & 1), bool(flags & 2))
    except EncodeError as exc:  # pragma: no cover - the C decoder checks the same fields
        raise _bad("payload", raw, f"EVENTS payload: {exc.message}") from None
    return Frame(MessageType.EVENTS, seq, events)


def decode(wire: bytes, key: bytes | None = None) -> Frame:
    """Decode one complete COBS frame (a trailing 0x00 delimiter is allowed)."""
    if wire.endswith(b"\x00"):
        wire = wire[:-1]
    return decode_raw(framing.cobs_decode(wire), key)


# ---- stream decoder ---------------------------------------------------------------------------
@dataclass(slots=True)
class CodecStats:
    """Counters of a codec: frames in/out, bytes, rejections by class, resynchronisations."""

    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    frames_bad: int = 0
    crc_errors: int = 0
    cobs_errors: int = 0
    oversize: int = 0
    resyncs: int = 0
    rejects: dict[str, int] = field(default_factory=dict)

    def count_reject(self, reason: str) -> None:
        """Count one rejected frame of class ``reason``."""
        self.frames_bad += 1
        self.resyncs += 1
        self.rejects[reason] = self.rejects.get(reason, 0) + 1
        if reason == "crc":
            self.crc_errors += 1
        elif reason == "cobs":
            self.cobs_errors += 1
        elif reason == "oversize":
            self.oversize += 1


class FrameDecoder:
    """Cut a byte stream into frames; bad frames are dropped, counted and kept in ``errors``.

    Parameters
    ----------
    key:
        Device key for verifying auth trailers (``Frame.auth.verified``), or None.
    keep_errors:
        How many recent FrameErrors to keep in ``errors`` (for diagnostics).
    """

    def __init__(self, key: bytes | None = None, keep_errors: int = 16,
                 stats: CodecStats | None = None) -> None:
        self.key = key
        self.stats = stats if stats is not None else CodecStats()
        self.errors: list[FrameError] = []
        self._keep = keep_errors
        self._buf = bytearray()
        self._overflow = False

    def reset(self) -> None:
        """Drop any partial frame (after a reconnect)."""
        self._buf.clear()
        self._overflow = False

    def _reject(self, err: FrameError) -> None:
        self.stats.count_reject(err.reason)
        self.errors.append(err)
        if len(self.errors) > self._keep:
            del self.errors[0]

    def feed(self, data: bytes) -> list[Frame]:
        """Consume bytes; return the frames completed by them (possibly none)."""
        return [f for f in self.feed_all(data) if isinstance(f, Frame)]

    def _complete(self, chunk: bytes) -> Frame | FrameError:
        """Decode one delimited chunk; count it either way."""
        try:
            frame = decode_raw(framing.cobs_decode(chunk), self.key)
        except FrameError as err:
            self._reject(err)
            return err
        self.stats.frames_in += 1
        return frame

    def feed_all(self, data: bytes) -> list[Frame | FrameError]:
        """Consume bytes; return every completed frame and every rejection, in stream order."""
        data = bytes(data)
        n = len(data)
        self.stats.bytes_in += n
        if 1 < n <= MAX_ENCODED + 1 and not self._buf and not self._overflow \
                and data.find(0) == n - 1:
            return [self._complete(data[:-1])]  # one whole frame: what a read usually brings
        out: list[Frame | FrameError] = []
        parts = data.split(b"\x00")
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if not self._overflow:
                self._buf += part
                if len(self._buf) > MAX_ENCODED:
                    err = _bad("oversize", bytes(self._buf[:64]),
                               f"more than {MAX_ENCODED} bytes without a delimiter")
                    self._reject(err)
                    out.append(err)
                    self._buf.clear()
                    self._overflow = True
            if i == last:
                break
            # a delimiter follows this part
            if self._overflow:
                self._overflow = False
                continue
            if not self._buf:
                continue
            chunk = bytes(self._buf)
            self._buf.clear()
            out.append(self._complete(chunk))
        return out


class BinaryCodec:
    """Protocol v1 behind the ``Codec`` interface (``firmware_bridge.codec``)."""

    name = "binary"

    def __init__(self, key: bytes | None = None) -> None:
        self.stats = CodecStats()
        self.decoder = FrameDecoder(key, stats=self.stats)

    def encode(self, msg: Message, seq: int = 0, *, key: bytes | None = None,
               counter: int | None = None) -> bytes:
        """Wire bytes of one frame (counted in ``stats``)."""
        wire = encode(msg, seq, key=key, counter=counter)
        self.stats.frames_out += 1
        self.stats.bytes_out += len(wire)
        return wire

    def feed(self, data: bytes) -> list[Frame]:
        """Frames completed by ``data``."""
        return self.decoder.feed(data)

    def reset(self) -> None:
        """Forget partial input."""
        self.decoder.reset()
