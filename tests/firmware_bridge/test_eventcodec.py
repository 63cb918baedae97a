"""The event-level codec: line round trips, rejection of malformed input, and the driver
against a small lab-style device over a pseudo-terminal; plus the codec registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.codec import Codec, codec_names, get_codec, register_codec
from firmware_bridge.errors import BridgeError, EncodeError
from firmware_bridge.eventcodec import (
    EndOfAnswer,
    EventLevelDevice,
    EventLineCodec,
    EventMessage,
    Pace,
    Sense,
    TimeMark,
)
from firmware_bridge.links import open_link
from firmware_bridge.protocol import BinaryCodec
from firmware_bridge.serve import PtyServer
from firmware_bridge.wire import WireChamber

t_us = st.integers(0, 10**20 - 1)
chamber = st.sampled_from([WireChamber.A, WireChamber.V])
event_messages = st.one_of(st.builds(Sense, chamber, t_us), st.builds(TimeMark, t_us),
                           st.builds(Pace, chamber, t_us), st.just(EndOfAnswer()))


def test_line_layout_by_hand() -> None:
    c = EventLineCodec()
    assert c.encode(Sense(WireChamber.A, 1500)) == b"A 1500\n"
    assert c.encode(TimeMark(0)) == b"T 0\n"
    assert c.encode(Pace(WireChamber.V, 2**40)) == b"P V 1099511627776\n"
    assert c.encode(EndOfAnswer()) == b".\n"
    with pytest.raises(EncodeError):
        c.encode(Sense(WireChamber.X, 1))
    with pytest.raises(EncodeError):
        c.encode(TimeMark(-1))


@given(st.lists(event_messages, max_size=20), st.integers(1, 9))
def test_round_trip_any_chunking(msgs: list[EventMessage], chunk: int) -> None:
    c = EventLineCodec()
    data = b"".join(c.encode(m) for m in msgs)
    got: list[EventMessage] = []
    for i in range(0, len(data), chunk):
        got += c.feed(data[i : i + chunk])
    assert got == msgs and c.stats.bad_lines == 0


@given(st.binary(max_size=300))
def test_garbage_never_crashes_and_is_counted(data: bytes) -> None:
    c = EventLineCodec()
    msgs = c.feed(data + b"\n")
    lines = [ln for ln in (data + b"\n").split(b"\n")[:-1] if ln.rstrip(b"\r")]
    assert len(msgs) + c.stats.bad_lines <= len(lines)
    for m in msgs:
        assert c.feed(c.encode(m)) == [m]


@pytest.mark.parametrize("line", [b"A", b"A -5", b"A 5 6", b"X 5", b"P X 5", b"T 1e3",
                                  b"T " + b"9" * 21, b"a 5", b"P A", b"A\xff 5"])
def test_malformed_lines_rejected(line: bytes) -> None:
    c = EventLineCodec()
    assert c.feed(line + b"\n") == []
    assert c.stats.bad_lines == 1


def test_overlong_line_counted_once_then_resync() -> None:
    c = EventLineCodec()
    assert c.feed(b"A " + b"1" * 200) == []
    assert c.feed(b"1" * 50 + b"\nT 5\n") == [TimeMark(5)]
    assert c.stats.bad_lines == 1


class LabHeartDevice:
    """A VVI-like event-level device at 60 ppm: paces V 1 s after the last V event."""

    def __init__(self) -> None:
        self.codec = EventLineCodec()
        self.last_v_us = 0

    def handle(self, data: bytes) -> bytes:
        out = bytearray()
        for msg in self.codec.feed(data):
            if isinstance(msg, Sense) and msg.chamber is WireChamber.V:
                self.last_v_us = msg.t_us
            elif isinstance(msg, TimeMark):
                while self.last_v_us + 1_000_000 <= msg.t_us:
                    self.last_v_us += 1_000_000
                    out += self.codec.encode(Pace(WireChamber.V, self.last_v_us))
                out += self.codec.encode(EndOfAnswer())
        return bytes(out)


@pytest.fixture
def lab_device() -> Iterator[PtyServer]:
    server = PtyServer(LabHeartDevice().handle)
    yield server
    server.close()
    assert server.error is None


def test_driver_over_pty(lab_device: PtyServer) -> None:
    with open_link(lab_device.url, timeout_s=2.0) as link:
        dev = EventLevelDevice(link, timeout_s=2.0)
        assert dev.advance(999_000) == []
        assert dev.advance(1_000_000) == [Pace(WireChamber.V, 1_000_000)]
        dev.sense(WireChamber.V, 1_600_000)  # inhibits: next pace 1 s after the sense
        assert dev.advance(2_500_000) == []
        assert dev.advance(4_700_000) == [Pace(WireChamber.V, 2_600_000),
                                          Pace(WireChamber.V, 3_600_000),
                                          Pace(WireChamber.V, 4_600_000)]


def test_codec_registry() -> None:
    assert {"binary", "events"} <= set(codec_names())
    assert isinstance(get_codec("binary"), BinaryCodec)
    assert isinstance(get_codec("events"), EventLineCodec)
    assert isinstance(get_codec("events"), Codec)
    register_codec("events2", EventLineCodec)
    assert isinstance(get_codec("events2"), EventLineCodec)
    with pytest.raises(BridgeError, match="nope"):
        get_codec("nope")
