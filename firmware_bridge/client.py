"""The device client: what the bench can ask of any device that speaks protocol v1.

``DeviceClient.open(url, key=...)`` opens a link, ``connect()`` exchanges HELLO and checks the
version, then ``program``, ``set_state``, ``set_battery``, ``reset``, ``interrogate``, ``tick``,
``stream``/``poll_events`` and ``telemetry``; ``send``/``receive`` move single frames (for device
tests). Every failure is a BridgeError subclass carrying what was sent and what came back.
Read-only requests are retried after a timeout; any request is resent once after a dropped link
has been reconnected.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from firmware_bridge.auth import CounterSource
from firmware_bridge.errors import (
    AuthRejectedError,
    BridgeError,
    DeviceFaultError,
    DeviceNackError,
    LinkError,
    LinkTimeoutError,
    UnexpectedReplyError,
    VersionMismatchError,
)
from firmware_bridge.links import Link, LinkStats, open_link
from firmware_bridge.messages import (
    Ack,
    DeviceError,
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
from firmware_bridge.protocol import BinaryCodec, CodecStats, Frame
from firmware_bridge.wire import (
    PROTOCOL_VERSION,
    Battery,
    MessageType,
    Mode,
    NackReason,
    ParamId,
    ResetKind,
    Rule,
    StateCommand,
)

M = TypeVar("M")
_ERROR = MessageType.ERROR
_EVENTS = MessageType.EVENTS


@dataclass(frozen=True, slots=True)
class ClientStats:
    """A snapshot of the client's link and codec counters."""

    link: LinkStats
    codec: CodecStats
    requests: int
    retries: int
    stale_replies: int


def _describe_nack(nack: Nack) -> str:
    text = nack.reason.name
    if nack.param_id:
        try:
            text += f", parameter {ParamId(nack.param_id).name.lower()} (id {nack.param_id})"
        except ValueError:
            text += f", parameter id {nack.param_id}"
    if nack.rule is not Rule.NONE:
        text += f", rule {nack.rule.name} (A-18 #{int(nack.rule)})"
    return text


#: Parameters to program: by model name or id, values in wire units.
ProgramParams = (
    Mapping[str, int] | Mapping[int, int] | Mapping[str | int, int] | Sequence[tuple[int, int]]
)


def param_pairs(params: ProgramParams) -> tuple[tuple[int, int], ...]:
    """(parameter id, wire value) pairs from names or ids."""
    items = params.items() if isinstance(params, Mapping) else params
    return tuple((int(ParamId.by_name(k) if isinstance(k, str) else k), int(v)) for k, v in items)


class DeviceClient:
    """Talk protocol v1 to one device over a byte link.

    Parameters
    ----------
    link:
        An open link (``open_link``).
    key:
        The device's 32-byte key for therapy commands, or None (they are then sent without a
        trailer and the device answers NOT_AUTHENTICATED).
    timeout_s:
        How long to wait for each answer.
    retries:
        Extra attempts for read-only requests after a timeout.
    auto_reconnect:
        Reconnect and resend once when the link drops.
    """

    def __init__(self, link: Link, *, key: bytes | None = None, timeout_s: float = 1.0,
                 retries: int = 2, auto_reconnect: bool = True) -> None:
        self.link = link
        self.key = key
        self.timeout_s = timeout_s
        self.retries = retries
        self.auto_reconnect = auto_reconnect
        self.codec = BinaryCodec()
        self.counter = CounterSource()
        self.hello: Hello | None = None
        self.unsolicited: deque[Frame] = deque(maxlen=4096)
        self._pending: deque[Frame] = deque()
        self._seq = 0
        self._requests = 0
        self._retries = 0
        self._stale = 0

    @classmethod
    def open(cls, url: str, *, key: bytes | None = None, timeout_s: float = 1.0,
             **kwargs: Any) -> DeviceClient:
        """Open ``url`` (pyserial URL or VISA resource) and wrap it; call ``connect()`` next."""
        return cls(open_link(url, timeout_s=timeout_s), key=key, timeout_s=timeout_s, **kwargs)

    def close(self) -> None:
        """Close the link."""
        self.link.close()

    def __enter__(self) -> DeviceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> ClientStats:
        """Counters: bytes, frames, CRC errors, resyncs, timeouts, reconnects, retries."""
        return ClientStats(LinkStats(**{k: getattr(self.link.stats, k)
                                        for k in LinkStats.__slots__}),
                           self.codec.stats, self._requests, self._retries, self._stale)

    # -- transport ---------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        return self._seq

    def _write(self, wire: bytes) -> None:
        try:
            self.link.write(wire)
        except LinkError:
            if not self.auto_reconnect:
                raise
            self._reconnect()
            self.link.write(wire)

    def _reconnect(self) -> None:
        self.link.reconnect()
        self.codec.reset()
        self._pending.clear()

    def _frames(self, timeout_s: float) -> list[Frame]:
        data = self.link.read(timeout_s)
        return self.codec.feed(data) if data else []

    def _next_frame(self, deadline: float) -> Frame | None:
        """The next received frame, reading until ``deadline`` (monotonic s); None after it."""
        while not self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._pending.extend(self._frames(remaining))
        return self._pending.popleft()

    def _send(self, msg: Message, authenticate: bool) -> tuple[int, bytes]:
        seq = self._next_seq()
        if authenticate and self.key is not None and msg.TYPE.requires_auth:
            wire = self.codec.encode(msg, seq, key=self.key, counter=self.counter.next())
        else:
            wire = self.codec.encode(msg, seq)
        self._write(wire)
        return seq, wire

    def _await(self, seq: int, sent: Message, wire: bytes) -> Frame:
        deadline = time.monotonic() + self.timeout_s
        while True:
            frame = self._next_frame(deadline)
            if frame is None:
                bad = self.codec.decoder.errors[-1] if self.codec.decoder.errors else None
                raise LinkTimeoutError(
                    f"no answer to {sent.TYPE.name} seq {seq} from {self.link.url!r} within "
                    f"{self.timeout_s} s" + (f" (last rejected frame: {bad})" if bad else ""),
                    sent=wire, received=bad.received if bad else None,
                    expected=f"a reply with seq {seq}")
            if frame.type is _ERROR:
                raise DeviceFaultError(
                    f"device reported error {frame.message} while answering "
                    f"{sent.TYPE.name} seq {seq}", sent=sent, received=frame.message)
            if frame.type is _EVENTS and isinstance(frame.message, Events) \
                    and frame.message.streamed:
                self.unsolicited.append(frame)
                continue
            if frame.seq == seq:
                return frame
            self._stale += 1  # a late answer to an earlier request

    def send(self, msg: Message, *, authenticate: bool = True) -> int:
        """Write one frame without waiting for an answer; return its sequence number.

        A therapy command carries the auth trailer when the client has a key, unless
        ``authenticate`` is False (to see a device refuse an unauthenticated command).
        """
        return self._send(msg, authenticate)[0]

    def receive(self, timeout_s: float | None = None) -> Frame:
        """The next frame from the device, whatever it is, in stream order (frames that a
        request set aside are in ``unsolicited``); LinkTimeoutError when none arrives within
        ``timeout_s`` (default: the client's timeout)."""
        wait_s = self.timeout_s if timeout_s is None else timeout_s
        frame = self._next_frame(time.monotonic() + wait_s)
        if frame is None:
            raise LinkTimeoutError(f"no frame from {self.link.url!r} within {wait_s} s",
                                   expected="a frame")
        return frame

    def request(self, msg: Message, expect: type[M], *, authenticate: bool = True) -> M:
        """Send ``msg`` and return the device's reply of type ``expect`` (or raise).

        ``authenticate=False`` sends a therapy command without the auth trailer.
        """
        therapy = msg.TYPE.requires_auth
        attempts = 1 if therapy else 1 + self.retries
        self._requests += 1
        for attempt in range(attempts):
            try:
                seq, wire = self._send(msg, authenticate)
                frame = self._await(seq, msg, wire)
            except LinkTimeoutError:
                if attempt + 1 >= attempts:
                    raise
                self._retries += 1
                continue
            except LinkError:
                if not self.auto_reconnect or attempt + 1 >= max(attempts, 2):
                    raise
                self._retries += 1
                self._reconnect()
                continue
            return self._check_reply(msg, frame, expect)
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_reply(self, sent: Message, frame: Frame, expect: type[M]) -> M:
        reply = frame.message
        if isinstance(reply, Nack) and expect is not Nack:
            what = f"device refused {sent.TYPE.name} (seq {frame.seq}): {_describe_nack(reply)}"
            if reply.reason in (NackReason.NOT_AUTHENTICATED, NackReason.BAD_COUNTER):
                raise AuthRejectedError(what, sent=sent, received=reply,
                                   expected="an authenticated command with a fresh counter")
            if reply.reason is NackReason.VERSION_MISMATCH:
                raise VersionMismatchError(what, sent=sent, received=reply,
                                      expected=f"protocol version {PROTOCOL_VERSION}")
            raise DeviceNackError(what, sent=sent, received=reply, expected="ACK")
        if not isinstance(reply, expect):
            raise UnexpectedReplyError(
                f"{sent.TYPE.name} seq {frame.seq} answered with {frame.type.name}",
                sent=sent, received=reply, expected=expect.__name__)
        if isinstance(reply, Ack) and reply.acked_type != sent.TYPE:
            raise UnexpectedReplyError(
                f"ACK for type {reply.acked_type:#04x}, expected {int(sent.TYPE):#04x}",
                sent=sent, received=reply, expected=f"ACK of {sent.TYPE.name}")
        return reply

    # -- operations --------------------------------------------------------------------------
    def connect(self) -> Hello:
        """HELLO exchange: check the protocol version, learn capabilities and the counter."""
        hello = self.request(HelloRequest(), Hello)
        if hello.protocol_version != PROTOCOL_VERSION:
            raise VersionMismatchError(
                f"device {hello.model!r} speaks protocol v{hello.protocol_version}",
                sent=HelloRequest(), received=hello, expected=f"v{PROTOCOL_VERSION}")
        self.counter.observe(hello.auth_counter)
        self.hello = hello
        return hello

    def program(self, params: ProgramParams) -> None:
        """Program parameters given by model name or id, values in wire units."""
        self.request(Program(param_pairs(params)), Ack)

    def try_program(self, params: ProgramParams) -> Nack | None:
        """:meth:`program`, for checking that a device refuses a programming: None when the
        device accepted it, its NACK when it refused (other failures raise as usual)."""
        try:
            self.program(params)
        except DeviceNackError as err:
            if isinstance(err.received, Nack):
                return err.received
            raise
        return None

    def set_state(self, command: StateCommand, mode: Mode = Mode.OFF) -> None:
        """Change the device state (temporary mode, pace-now, magnet, power-on reset)."""
        self.request(SetState(command, mode), Ack)

    def set_battery(self, state: Battery) -> None:
        """Force the battery state (testing)."""
        self.request(SetBattery(state), Ack)

    def reset(self, kind: ResetKind = ResetKind.SESSION) -> None:
        """Reset the device's session (time to zero) or reboot it."""
        self.request(Reset(kind), Ack)

    def interrogate(self) -> Interrogation:
        """The programming, state, active mode and session time."""
        return self.request(Interrogate(), Interrogation)

    def telemetry(self) -> Telemetry:
        """Battery, lead impedances and counters."""
        return self.request(TelemetryRequest(), Telemetry)

    def tick(self, window: Tick) -> Events:
        """Lock-step: send a window, get the device's events and how much it consumed."""
        events = self.request(window, Events)
        if events.t0_us != window.t0_us or events.consumed > window.n_samples:
            raise UnexpectedReplyError(
                f"EVENTS for t0 {events.t0_us} us consuming {events.consumed}, sent t0 "
                f"{window.t0_us} us with {window.n_samples} samples", sent=window,
                received=events, expected="same t0, consumed <= n_samples")
        return events

    def stream(self, window: Stream) -> None:
        """Real time: send a window without waiting (events come via ``poll_events``)."""
        self._write(self.codec.encode(window, self._next_seq()))

    def poll_events(self, timeout_s: float = 0.0) -> list[Events]:
        """Streamed EVENTS received so far (waiting up to ``timeout_s`` for the first)."""
        frames = list(self.unsolicited) + list(self._pending)
        self.unsolicited.clear()
        self._pending.clear()
        if not frames and timeout_s > 0:
            frames = self._frames(timeout_s)
        frames += self._frames(0.0) if self.link.is_open else []
        out: list[Events] = []
        for f in frames:
            if isinstance(f.message, DeviceError):
                raise DeviceFaultError(f"device reported error {f.message}", received=f.message)
            if isinstance(f.message, Events):
                out.append(f.message)
        return out


__all__ = ["BridgeError", "ClientStats", "DeviceClient"]
