"""A minimal lock-step client for the emulated device, over pyserial, with the bridge's codec.

Used by the emulator's own tests, the smoke scenario and ``benchmarks/emulator.py``; the bench
itself uses firmware_bridge's device client. It speaks protocol v1 frames
(``firmware_bridge.protocol``), authenticates therapy commands with the development key, and
feeds a whole electrogram through TICK windows with early stop at paces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import serial  # type: ignore[import-untyped,unused-ignore]

from firmware_bridge import messages as m
from firmware_bridge import protocol
from firmware_bridge.errors import BridgeError
from firmware_bridge.wire import MessageType, ResetKind
from hil.emulator.errors import DeviceHungError

DEV_KEY = bytes(range(32))
WINDOW = 100


@dataclass(frozen=True, slots=True)
class RunResult:
    """Markers of a lock-step run and the number of TICK round trips it took."""

    events: tuple[m.Event, ...]
    round_trips: int


class ProbeClient:
    """Frames over a pyserial URL (pty path or ``socket://``)."""

    def __init__(self, url: str, timeout_s: float = 5.0, key: bytes = DEV_KEY) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._ser: Any = serial.serial_for_url(url, timeout=timeout_s)
        self._dec = protocol.FrameDecoder(key=None)
        self._pending: list[protocol.Frame] = []
        self._seq = 0
        self._counter = 0
        self._key = key
        self.unsolicited: list[protocol.Frame] = []

    def __enter__(self) -> ProbeClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the link."""
        self._ser.close()

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (for malformed-frame tests)."""
        self._ser.write(data)

    def send(self, msg: m.Message, *, auth: bool | None = None) -> int:
        """Send a message; therapy commands are authenticated unless ``auth`` is False."""
        self._seq = (self._seq + 1) & 0xFFFF
        if auth is None:
            auth = msg.TYPE.requires_auth
        if auth:
            self._counter += 1
            wire = protocol.encode(msg, self._seq, key=self._key, counter=self._counter)
        else:
            wire = protocol.encode(msg, self._seq)
        self._ser.write(wire)
        return self._seq

    def receive(self) -> protocol.Frame:
        """The next frame from the device (DeviceHungError-free: raises BridgeError on timeout)."""
        while not self._pending:
            data = self._ser.read(max(1, self._ser.in_waiting))
            if not data:
                raise DeviceHungError(f"no answer from {self.url} within {self.timeout_s} s",
                                 name="link", value=self.url, expected="a frame")
            self._pending.extend(self._dec.feed(data))
        return self._pending.pop(0)

    def request(self, msg: m.Message, *, auth: bool | None = None) -> protocol.Frame:
        """Send and wait for the answer with the same seq (unsolicited frames are kept)."""
        seq = self.send(msg, auth=auth)
        while True:
            frame = self.receive()
            if frame.type in (MessageType.ERROR,) or (
                    frame.type == MessageType.EVENTS and frame.message.streamed):  # type: ignore[union-attr]
                self.unsolicited.append(frame)
                continue
            if frame.seq == seq:
                return frame
            self.unsolicited.append(frame)

    def hello(self) -> m.Hello:
        """HELLO exchange; also adopts the device's authentication counter."""
        frame = self.request(m.HelloRequest())
        if not isinstance(frame.message, m.Hello):
            raise BridgeError(f"expected HELLO, got {frame.type.name}", received=frame)
        self._counter = max(self._counter, frame.message.auth_counter)
        return frame.message

    def command(self, msg: m.Message, *, auth: bool | None = None) -> m.Ack | m.Nack:
        """A therapy command answered by ACK or NACK."""
        msg_out = self.request(msg, auth=auth).message
        if not isinstance(msg_out, m.Ack | m.Nack):
            raise BridgeError(f"expected ACK/NACK, got {msg_out!r}", received=msg_out)
        return msg_out

    def program(self, values: dict[str, int]) -> m.Ack | m.Nack:
        """PROGRAM by parameter names (firmware_bridge.wire.ParamId names)."""
        return self.command(m.Program.from_names(values))

    def telemetry(self) -> m.Telemetry:
        """TELEMETRY_REQ."""
        out = self.request(m.TelemetryRequest()).message
        assert isinstance(out, m.Telemetry)
        return out

    def interrogate(self) -> m.Interrogation:
        """INTERROGATE."""
        out = self.request(m.Interrogate()).message
        assert isinstance(out, m.Interrogation)
        return out

    def reset_session(self) -> m.Ack | m.Nack:
        """RESET SESSION: device time back to 0."""
        return self.command(m.Reset(ResetKind.SESSION))

    def tick(self, t0_us: int, atrial: Sequence[int], ventricular: Sequence[int],
             activity: Sequence[int], early_stop: bool = True) -> m.Events:
        """One TICK window; the EVENTS answer."""
        out = self.request(m.Tick(t0_us, tuple(atrial), tuple(ventricular), tuple(activity),
                                  early_stop)).message
        if not isinstance(out, m.Events):
            raise BridgeError(f"expected EVENTS, got {out!r}", received=out)
        return out

    def run(self, atrial: Sequence[int], ventricular: Sequence[int],
            activity: Sequence[int] | None = None, t0_us: int = 0, window: int = WINDOW,
            early_stop: bool = True) -> RunResult:
        """Feed whole signals (1 kHz) through TICK windows; all markers in order."""
        n = len(atrial)
        act = activity if activity is not None else [0] * n
        pos = 0
        events: list[m.Event] = []
        trips = 0
        while pos < n:
            end = min(n, pos + window)
            ev = self.tick(t0_us + 1000 * pos, atrial[pos:end], ventricular[pos:end],
                           act[pos:end], early_stop)
            trips += 1
            if ev.consumed == 0:
                raise BridgeError(f"device consumed nothing at t0={t0_us + 1000 * pos} us",
                                  received=ev)
            events.extend(ev.events)
            pos += ev.consumed
        return RunResult(tuple(events), trips)
