"""The emulated device's test client: firmware_bridge's DeviceClient with a tester's conventions.

Used by the emulator's own tests, the model cross-check and the smoke scenario. Everything that
crosses the wire (link, framing, sequence numbers, the authentication counter) is the bench's
``DeviceClient``; the probe adds what tests of a device ask beyond the bench's needs: raw bytes
out, frames in one by one, a NACK returned instead of raised, therapy commands sent without
authentication, whole electrograms fed through TICK windows, and a device that stops answering
reported as ``DeviceHungError`` (no retries, no reconnects: a test sees the device as it is).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

from firmware_bridge import messages as m
from firmware_bridge.auth import DEV_KEY
from firmware_bridge.client import DeviceClient, param_pairs
from firmware_bridge.errors import (
    BridgeError,
    DeviceNackError,
    LinkTimeoutError,
    VersionMismatchError,
)
from firmware_bridge.protocol import Frame
from firmware_bridge.wire import ResetKind
from hil.emulator.errors import DeviceHungError

WINDOW = 100

__all__ = ["DEV_KEY", "WINDOW", "ProbeClient", "RunResult"]


@dataclass(frozen=True, slots=True)
class RunResult:
    """Markers of a lock-step run and the number of TICK round trips it took."""

    events: tuple[m.Event, ...]
    round_trips: int


class ProbeClient:
    """A DeviceClient on a pyserial URL (pty path or ``socket://``), for device tests."""

    def __init__(self, url: str, timeout_s: float = 5.0, key: bytes = DEV_KEY) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.client = DeviceClient.open(url, key=key, timeout_s=timeout_s, retries=0,
                                        auto_reconnect=False)

    def __enter__(self) -> ProbeClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the link."""
        self.client.close()

    @property
    def unsolicited(self) -> deque[Frame]:
        """Streamed EVENTS that arrived while a request waited for its answer."""
        return self.client.unsolicited

    @contextmanager
    def _answering(self) -> Iterator[None]:
        try:
            yield
        except LinkTimeoutError as err:
            raise DeviceHungError(f"no answer from {self.url} within {self.timeout_s} s: {err}",
                                  name="link", value=self.url, expected="a frame") from err

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (for malformed-frame tests)."""
        self.client.link.write(data)

    def send(self, msg: m.Message, *, auth: bool = True) -> int:
        """Send a message, therapy commands authenticated unless ``auth`` is False; its seq."""
        return self.client.send(msg, authenticate=auth)

    def receive(self) -> Frame:
        """The next frame from the device, whatever it is (DeviceHungError on timeout)."""
        with self._answering():
            return self.client.receive()

    def hello(self) -> m.Hello:
        """HELLO exchange; also adopts the device's authentication counter."""
        with self._answering():
            return self.client.connect()

    def command(self, msg: m.Message, *, auth: bool = True) -> m.Ack | m.Nack:
        """A therapy command answered by ACK or NACK (returned, not raised)."""
        with self._answering():
            try:
                return self.client.request(msg, m.Ack, authenticate=auth)
            except (DeviceNackError, VersionMismatchError) as err:
                if isinstance(err.received, m.Nack):
                    return err.received
                raise

    def program(self, values: dict[str, int]) -> m.Ack | m.Nack:
        """PROGRAM by parameter names (firmware_bridge.wire.ParamId names)."""
        return self.command(m.Program(param_pairs(values)))

    def telemetry(self) -> m.Telemetry:
        """TELEMETRY_REQ."""
        with self._answering():
            return self.client.telemetry()

    def interrogate(self) -> m.Interrogation:
        """INTERROGATE."""
        with self._answering():
            return self.client.interrogate()

    def reset_session(self) -> m.Ack | m.Nack:
        """RESET SESSION: device time back to 0."""
        return self.command(m.Reset(ResetKind.SESSION))

    def tick(self, t0_us: int, atrial: Sequence[int], ventricular: Sequence[int],
             activity: Sequence[int], early_stop: bool = True) -> m.Events:
        """One TICK window; the EVENTS answer."""
        with self._answering():
            return self.client.tick(m.Tick(t0_us, tuple(atrial), tuple(ventricular),
                                           tuple(activity), early_stop))

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
