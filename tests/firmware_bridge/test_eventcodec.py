"""The event-level codec: line round trips, rejection of malformed input, identity and pace
details; the driver against small lab-style devices over a pseudo-terminal (base protocol, reset
with early stop, answers that break the protocol); the real-time byte mode; TCP_NODELAY on
socket links; plus the codec registry."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.codec import Codec, codec_names, get_codec, register_codec
from firmware_bridge.errors import (
    BridgeError,
    EncodeError,
    FrameError,
    LinkTimeoutError,
    UnexpectedReplyError,
)
from firmware_bridge.eventcodec import (
    EndOfAnswer,
    EventByteStream,
    EventIdentity,
    EventLevelDevice,
    EventLineCodec,
    EventMessage,
    Pace,
    Reset,
    Sense,
    TimeMark,
)
from firmware_bridge.links import open_link
from firmware_bridge.protocol import BinaryCodec
from firmware_bridge.serve import PtyServer, TcpServer
from firmware_bridge.wire import WireChamber

t_us = st.integers(0, 2**64 - 1)
chamber = st.sampled_from([WireChamber.A, WireChamber.V])
u16 = st.integers(0, 0xFFFF)
token = st.from_regex(r"\A[A-Za-z0-9._+-]{1,32}\Z")
identities = st.builds(
    EventIdentity, token, token,
    st.none() | st.from_regex(r"\A[0-9a-f]{64}\Z"),
    st.lists(st.from_regex(r"\A[a-z][a-z0-9_-]{0,15}\Z"), unique=True, max_size=4).map(tuple))
event_messages = st.one_of(st.builds(Sense, chamber, t_us), st.builds(TimeMark, t_us),
                           st.builds(Pace, chamber, t_us), st.builds(Pace, chamber, t_us, u16, u16),
                           st.just(EndOfAnswer()), st.just(Reset()), identities)


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
    with pytest.raises(EncodeError):
        TimeMark(2**64)
    assert c.encode(Reset()) == b"R\n"
    assert c.encode(Pace(WireChamber.A, 850_000, 3500, 5000)) == b"P A 850000 3500 5000\n"
    assert c.encode(EventIdentity("lab", "2.1")) == b"I name=lab version=2.1\n"
    h = "ab" * 32
    line = c.encode(EventIdentity("devicetwin-ev", "1.0.0", h, ("stop", "x-1")))
    assert line == f"I name=devicetwin-ev version=1.0.0 hash={h} caps=stop,x-1\n".encode()
    assert len(line) > 64  # identity lines may be longer than other lines
    assert c.feed(line) == [EventIdentity("devicetwin-ev", "1.0.0", h, ("stop", "x-1"))]
    assert c.stats.bad_lines == 0


@pytest.mark.parametrize("kwargs", [
    {"amplitude_mv": 3500}, {"width_us": 400}, {"amplitude_mv": 65536, "width_us": 1},
    {"amplitude_mv": 1, "width_us": -1}, {"amplitude_mv": True, "width_us": 1}])
def test_pace_details_come_in_pairs_of_u16(kwargs: dict[str, int]) -> None:
    with pytest.raises(EncodeError):
        Pace(WireChamber.V, 1000, **kwargs)


@pytest.mark.parametrize("args", [("", "1"), ("a b", "1"), ("x", "1", "AB" * 32),
                                  ("x", "1", None, ("Stop",)), ("x", "1", None, ("a", "a")),
                                  ("x" * 33, "1")])
def test_identity_fields_are_checked(args: tuple[object, ...]) -> None:
    with pytest.raises(EncodeError):
        EventIdentity(*args)  # type: ignore[arg-type]


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
                                  b"T " + b"9" * 21, b"a 5", b"P A", b"A\xff 5", b"A 007",
                                  b"T 18446744073709551616", b"R 1", b"P V 5 1"])
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


class StopLabDevice:
    """A VVI device at 60 ppm that knows R and stops early: V pace 1 s after the last V event;
    a sense at the instant of a pace comes first and inhibits it."""

    def __init__(self) -> None:
        self.codec = EventLineCodec()
        self.last_v_us = 0
        self.session = False
        self.pending: list[int] = []

    def _run_to(self, t_us: int) -> bytes:
        while True:
            due = self.last_v_us + 1_000_000
            if self.pending and self.pending[0] <= min(due, t_us):
                self.last_v_us = self.pending.pop(0)
                continue
            if due > t_us:
                return b""
            self.last_v_us = due
            if self.session:
                self.pending.clear()  # early stop: later senses are sent again
                return self.codec.encode(Pace(WireChamber.V, due))
            out = self.codec.encode(Pace(WireChamber.V, due))
            return out + self._run_to(t_us)

    def handle(self, data: bytes) -> bytes:
        out = bytearray()
        for msg in self.codec.feed(data):
            if isinstance(msg, Reset):
                self.session, self.last_v_us, self.pending = True, 0, []
                out += self.codec.encode(EventIdentity("lab", "2", None, ("stop",)))
                out += self.codec.encode(EndOfAnswer())
            elif isinstance(msg, Sense) and msg.chamber is WireChamber.V:
                self.pending.append(msg.t_us)
            elif isinstance(msg, TimeMark):
                out += self._run_to(msg.t_us) + self.codec.encode(EndOfAnswer())
        return bytes(out)


def test_driver_reset_identity_and_early_stop() -> None:
    server = PtyServer(StopLabDevice().handle)
    try:
        with open_link(server.url, timeout_s=2.0) as link:
            dev = EventLevelDevice(link, timeout_s=2.0)
            assert not dev.early_stop
            assert dev.reset() == EventIdentity("lab", "2", None, ("stop",))
            assert dev.early_stop and dev.clock_us == 0
            dev.sense(WireChamber.V, 1_500_000)  # after the first pace: discarded by the stop
            assert dev.advance(3_000_000) == [Pace(WireChamber.V, 1_000_000)]
            assert dev.clock_us == 1_000_000
            with pytest.raises(EncodeError, match="999999"):
                dev.sense(WireChamber.V, 999_999)
            dev.sense(WireChamber.V, 1_500_000)  # sent again after the heart rolled back
            assert dev.advance(3_000_000) == [Pace(WireChamber.V, 2_500_000)]
            assert dev.advance(3_000_000) == []
            assert dev.clock_us == 3_000_000
            with pytest.raises(EncodeError):
                dev.advance(2_999_999)
            for k in range(32):
                dev.sense(WireChamber.V, 3_000_000 + k)
            with pytest.raises(EncodeError, match="32 senses"):
                dev.sense(WireChamber.V, 3_000_032)
    finally:
        server.close()
    assert server.error is None


def test_reset_of_a_base_device_times_out(lab_device: PtyServer) -> None:
    with open_link(lab_device.url, timeout_s=2.0) as link:
        dev = EventLevelDevice(link, timeout_s=0.2)
        with pytest.raises(LinkTimeoutError, match=r"no '\.' after b'R"):
            dev.reset()
        assert not dev.early_stop


class ScriptedDevice:
    """Answers each T or R with the next scripted bytes."""

    def __init__(self, answers: list[bytes]) -> None:
        self.codec = EventLineCodec()
        self.answers = answers

    def handle(self, data: bytes) -> bytes:
        return b"".join(self.answers.pop(0) for m in self.codec.feed(data)
                        if isinstance(m, (TimeMark, Reset)))


@pytest.mark.parametrize(("answers", "error", "quoted"), [
    ([b"P V banana\n.\n"], FrameError, "P V banana"),
    ([b"P V 5" + b"0" * 70 + b"\n.\n"], FrameError, "overlong"),
    ([b"P V 1000001\n.\n"], UnexpectedReplyError, "1000001"),
    ([b"P V 500\nP V 400\n.\n"], UnexpectedReplyError, "400"),
    ([b"A 5\n.\n"], UnexpectedReplyError, "bench line"),
    ([b"I name=x version=1\n.\n"], UnexpectedReplyError, "EventIdentity"),
    ([b".\n", b"P V 1000000\n.\n"], UnexpectedReplyError, "1000001..2000000"),
    ([b"I name=x version=1 caps=stop\n.\n", b"P A 850\nP V 1000\n.\n"],
     UnexpectedReplyError, "early stop"),
])
def test_driver_rejects_answers_that_break_the_protocol(
        answers: list[bytes], error: type[BridgeError], quoted: str) -> None:
    server = PtyServer(ScriptedDevice(list(answers)).handle)
    try:
        with open_link(server.url, timeout_s=2.0) as link:
            dev = EventLevelDevice(link, timeout_s=2.0)
            if b"caps=stop" in answers[0]:
                dev.reset()
                answers = answers[1:]
            with pytest.raises(error, match=quoted) as info:
                for k in range(1, len(answers) + 1):
                    dev.advance(k * 1_000_000)
            if error is FrameError:
                assert isinstance(info.value.received, bytes)
                assert info.value.received == answers[0].split(b"\n")[0]
                assert info.value.reason == ("oversize" if quoted == "overlong" else "payload")
    finally:
        server.close()


def test_byte_stream_stamps_paces_on_receipt() -> None:
    """Section 7.1: a sense is one byte; a pace byte is timed when the bench reads it."""
    replies = {b"A": b"V", b"V": b"x", b"R": b""}
    server = PtyServer(lambda data: b"".join(replies[bytes([b])] for b in data))
    now_us = [1_000]
    try:
        with open_link(server.url, timeout_s=2.0) as link:
            stream = EventByteStream(link, clock_us=lambda: now_us[0])
            now_us[0] = 5_000
            assert stream.sense(WireChamber.A) == 4_000
            now_us[0] = 7_000
            assert stream.read_paces(2.0) == [Pace(WireChamber.V, 6_000)]
            now_us[0] = 10_000
            stream.reset()
            assert stream.now_us() == 0
            stream.sense(WireChamber.V)
            with pytest.raises(FrameError, match="b'x'") as info:
                stream.read_paces(2.0)
            assert info.value.received == b"x"
            with pytest.raises(EncodeError):
                stream.sense(WireChamber.X)
            assert stream.read_paces(0.01) == []
    finally:
        server.close()
    assert server.error is None


def test_socket_links_set_tcp_nodelay() -> None:
    with TcpServer(lambda data: data) as server, open_link(server.url) as link:
        for _ in range(2):  # also after a reconnect
            sock = link._port._socket  # type: ignore[attr-defined]  # pyserial's socket://
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            link.reconnect()


def test_codec_registry() -> None:
    assert {"binary", "events"} <= set(codec_names())
    assert isinstance(get_codec("binary"), BinaryCodec)
    assert isinstance(get_codec("events"), EventLineCodec)
    assert isinstance(get_codec("events"), Codec)
    register_codec("events2", EventLineCodec)
    assert isinstance(get_codec("events2"), EventLineCodec)
    with pytest.raises(BridgeError, match="nope"):
        get_codec("nope")
