"""The device client against the Python fake device over real transports: a pseudo-terminal,
a loopback socket (pyserial ``socket://`` and VISA ``TCPIP::...::SOCKET``), VISA ``ASRL`` on a
pty; plus timeouts, resynchronisation, reconnection and authentication."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest

from firmware_bridge import protocol
from firmware_bridge.auth import DEV_KEY
from firmware_bridge.client import DeviceClient
from firmware_bridge.errors import (
    AuthRejectedError,
    BridgeError,
    DeviceNackError,
    LinkError,
    LinkTimeoutError,
    VersionMismatchError,
)
from firmware_bridge.fakedevice import FakeDevice
from firmware_bridge.links import SerialLink, VisaLink, is_visa_resource, open_link
from firmware_bridge.messages import Ack, Nack, Program, Stream, Tick
from firmware_bridge.serve import PtyServer, TcpServer
from firmware_bridge.wire import (
    Battery,
    DeviceState,
    Mode,
    NackReason,
    ParamId,
    ResetKind,
    Rule,
    StateCommand,
    WireKind,
)

QUIET = (0,) * 10


@pytest.fixture
def device() -> FakeDevice:
    return FakeDevice()


@pytest.fixture
def tcp(device: FakeDevice) -> Iterator[TcpServer]:
    server = TcpServer(device.handle)
    yield server
    server.close()
    assert server.error is None


@pytest.fixture
def pty(device: FakeDevice) -> Iterator[PtyServer]:
    server = PtyServer(device.handle)
    yield server
    server.close()
    assert server.error is None


def _exercise(client: DeviceClient, device: FakeDevice) -> None:
    hello = client.connect()
    assert hello.model == "fakedevice" and hello.protocol_version == 1
    client.program({"lower_rate_ppm": 70, "upper_rate_ppm": 130})
    assert device.params[ParamId.LOWER_RATE_PPM] == 70
    q = client.interrogate()
    assert q.as_dict()[ParamId.UPPER_RATE_PPM] == 130
    # 70 ppm: interval floor((60000 + 35) / 70) = 857 ms; first pace at t = 857 ms after 0
    t0 = 0
    paces = []
    while t0 < 2_000_000:
        ev = client.tick(Tick(t0, QUIET, QUIET, QUIET))
        paces += [e.t_us for e in ev.events if e.kind is WireKind.VP]
        assert 1 <= ev.consumed <= 10
        t0 += 1000 * ev.consumed
    assert paces == [857_000, 1_714_000]
    tel = client.telemetry()
    assert tel.vp_count == 2 and tel.battery_state is Battery.BOL


def test_client_over_pty(pty: PtyServer, device: FakeDevice) -> None:
    with DeviceClient.open(pty.url, key=DEV_KEY, timeout_s=2.0) as client:
        assert isinstance(client.link, SerialLink)
        _exercise(client, device)


def test_client_over_socket(tcp: TcpServer, device: FakeDevice) -> None:
    with DeviceClient.open(tcp.url, key=DEV_KEY, timeout_s=2.0) as client:
        _exercise(client, device)
        stats = client.stats
        assert stats.codec.frames_in == stats.codec.frames_out
        assert stats.link.bytes_out > 0 and stats.codec.crc_errors == 0


def test_client_over_visa_tcpip_socket(tcp: TcpServer, device: FakeDevice) -> None:
    assert is_visa_resource(tcp.visa_resource)
    with DeviceClient.open(tcp.visa_resource, key=DEV_KEY, timeout_s=2.0) as client:
        assert isinstance(client.link, VisaLink)
        _exercise(client, device)


def test_client_over_visa_asrl_pty(pty: PtyServer, device: FakeDevice) -> None:
    with DeviceClient.open(f"ASRL{pty.url}::INSTR", key=DEV_KEY, timeout_s=2.0) as client:
        assert isinstance(client.link, VisaLink)
        client.connect()
        client.program({"lower_rate_ppm": 80})
        assert client.interrogate().as_dict()[ParamId.LOWER_RATE_PPM] == 80


def test_loop_url_sees_its_own_frames() -> None:
    # loop:// echoes: a request comes back as itself, which the client rejects as unexpected
    with open_link("loop://", timeout_s=0.2) as link:
        link.write(protocol.encode(Ack(1), 5))
        assert protocol.decode(link.read()).message == Ack(1)
        assert link.read(0.01) == b""
        assert link.stats.timeouts == 1


def test_timeout_says_what_was_sent(tcp: TcpServer, device: FakeDevice) -> None:
    device.mute = True
    with DeviceClient.open(tcp.url, timeout_s=0.1, retries=1) as client, \
            pytest.raises(LinkTimeoutError) as info:
        client.interrogate()
    err = info.value
    assert "INTERROGATE" in str(err) and isinstance(err.sent, bytes)
    assert protocol.decode(err.sent).type.name == "INTERROGATE"
    assert client.stats.retries == 1
    assert pickle.loads(pickle.dumps(err)).message == err.message


def test_resync_after_garbage_on_the_link(tcp: TcpServer, device: FakeDevice) -> None:
    answers = 0

    def noisy(data: bytes) -> bytes:
        nonlocal answers
        answers += 1
        if answers == 1:  # line noise that ends in a delimiter: the decoder resynchronises
            return b"\x13\x37\x42\x00\x05\xff\xff\x00" + device.handle(data)
        if answers == 2:  # noise glued to the frame: that answer is lost, the client retries
            return b"\x05\xff\xff" + device.handle(data)
        return device.handle(data)

    tcp.handler = noisy
    with DeviceClient.open(tcp.url, timeout_s=1.0, retries=1) as client:
        client.connect()
        assert client.stats.codec.frames_bad == 2 and client.stats.retries == 0
        client.interrogate()
        assert client.stats.retries == 1
        assert client.stats.codec.resyncs == client.stats.codec.frames_bad == 3


def test_reconnect_after_drop(tcp: TcpServer, device: FakeDevice) -> None:
    with DeviceClient.open(tcp.url, key=DEV_KEY, timeout_s=0.5) as client:
        client.connect()
        tcp.drop()
        # the next request notices the dead link, reconnects and resends
        for _ in range(3):
            try:
                client.interrogate()
                break
            except LinkTimeoutError:
                continue
        assert client.interrogate().state is DeviceState.PERMANENT
        assert tcp.connections >= 2
        assert client.stats.link.reconnects >= 1


def test_nack_reasons_are_typed(tcp: TcpServer, device: FakeDevice) -> None:
    with DeviceClient.open(tcp.url, key=DEV_KEY, timeout_s=1.0) as client:
        client.connect()
        with pytest.raises(DeviceNackError) as info:
            client.program({"lower_rate_ppm": 500})
        nack = info.value.received
        assert isinstance(nack, Nack) and nack.reason is NackReason.PARAM_OUT_OF_RANGE
        assert nack.param_id == ParamId.LOWER_RATE_PPM
        assert "lower_rate_ppm" in str(info.value) and "500" in repr(info.value.sent)
        with pytest.raises(DeviceNackError) as info:
            client.program({"lower_rate_ppm": 100, "upper_rate_ppm": 90})
        assert info.value.received.rule is Rule.URL_GE_LRL
        assert device.params[ParamId.LOWER_RATE_PPM] == 60  # all or nothing


def test_try_program_returns_the_refusal_instead_of_raising(
    tcp: TcpServer, device: FakeDevice
) -> None:
    with DeviceClient.open(tcp.url, key=DEV_KEY, timeout_s=1.0) as client:
        client.connect()
        nack = client.try_program({"lower_rate_ppm": 100, "upper_rate_ppm": 90})
        assert isinstance(nack, Nack) and nack.rule is Rule.URL_GE_LRL
        assert device.params[ParamId.LOWER_RATE_PPM] == 60
        assert client.try_program([(int(ParamId.LOWER_RATE_PPM), 70)]) is None
        assert device.params[ParamId.LOWER_RATE_PPM] == 70


def test_version_mismatch(tcp: TcpServer, device: FakeDevice) -> None:
    device.protocol_version = 2
    with DeviceClient.open(tcp.url, timeout_s=1.0) as client, pytest.raises(VersionMismatchError):
        client.connect()


def test_state_battery_reset(tcp: TcpServer, device: FakeDevice) -> None:
    with DeviceClient.open(tcp.url, key=DEV_KEY, timeout_s=1.0) as client:
        client.connect()
        client.set_state(StateCommand.TEMPORARY, Mode.OOO)
        q = client.interrogate()
        assert q.state is DeviceState.TEMPORARY and q.active_mode is Mode.OOO
        client.set_state(StateCommand.MAGNET_ON)
        assert client.interrogate().magnet
        client.set_battery(Battery.ERT)
        assert client.telemetry().battery_state is Battery.ERT
        client.tick(Tick(5_000_000, QUIET, QUIET, QUIET))
        client.reset(ResetKind.SESSION)
        assert client.interrogate().time_us == 0


def test_streaming_events(tcp: TcpServer, device: FakeDevice) -> None:
    with DeviceClient.open(tcp.url, key=DEV_KEY, timeout_s=1.0) as client:
        client.connect()
        t0 = 0
        for _ in range(110):  # 1.1 s of samples at 60 ppm: one pace at 1000 ms
            client.stream(Stream(t0, QUIET, QUIET, QUIET, early_stop=False))
            t0 += 10_000
        got = []
        for _ in range(50):
            got += client.poll_events(0.05)
            if got:
                break
        assert [e.t_us for ev in got for e in ev.events] == [1_000_000]
        assert all(ev.streamed for ev in got)


# -- authentication: wrong key, stale counter, replay, truncated tag ---------------------------
def _state(device: FakeDevice) -> tuple[object, ...]:
    return (dict(device.params), device.state, device.battery, device.auth.last_counter)


def test_wrong_key_rejected_state_unchanged(tcp: TcpServer, device: FakeDevice) -> None:
    before = _state(device)
    with DeviceClient.open(tcp.url, key=bytes(32), timeout_s=1.0) as client:
        client.connect()
        with pytest.raises(AuthRejectedError) as info:
            client.program({"lower_rate_ppm": 80})
    assert info.value.received.reason is NackReason.NOT_AUTHENTICATED
    assert _state(device) == before


def test_no_key_rejected(tcp: TcpServer, device: FakeDevice) -> None:
    before = _state(device)
    with DeviceClient.open(tcp.url, timeout_s=1.0) as client, pytest.raises(AuthRejectedError):
        client.set_battery(Battery.ERT)
    assert _state(device) == before


def test_replay_and_stale_counter_and_truncated_tag(device: FakeDevice) -> None:
    frame = protocol.encode(Program(((int(ParamId.LOWER_RATE_PPM), 90),)), 1, key=DEV_KEY,
                            counter=10)
    first = protocol.decode(device.handle(frame))
    assert isinstance(first.message, Ack)
    assert device.params[ParamId.LOWER_RATE_PPM] == 90
    device.params[ParamId.LOWER_RATE_PPM] = 60
    before = _state(device)
    # the very same bytes again: a replay
    replay = protocol.decode(device.handle(frame)).message
    assert isinstance(replay, Nack) and replay.reason is NackReason.BAD_COUNTER
    # a fresh frame with an older counter
    stale = protocol.encode(Program(((int(ParamId.LOWER_RATE_PPM), 91),)), 2, key=DEV_KEY,
                            counter=9)
    msg = protocol.decode(device.handle(stale)).message
    assert isinstance(msg, Nack) and msg.reason is NackReason.BAD_COUNTER
    # the tag cut to 8 bytes (CRC recomputed so only the tag is wrong)
    raw = protocol.encode_raw(Program(((int(ParamId.LOWER_RATE_PPM), 92),)), 3, key=DEV_KEY,
                              counter=11)
    cut = raw[:-4 - 8]
    from firmware_bridge import framing

    wire = framing.cobs_encode(cut + framing.crc32c(cut).to_bytes(4, "little")) + b"\x00"
    answer = protocol.decode(device.handle(wire)).message
    assert isinstance(answer, Nack) and answer.reason in (NackReason.NOT_AUTHENTICATED,
                                                          NackReason.BAD_FRAME)
    assert _state(device) == before
    assert device.counters["auth_failures"] >= 2


def test_errors_share_one_root() -> None:
    for cls in (LinkError, LinkTimeoutError, DeviceNackError, AuthRejectedError,
                VersionMismatchError):
        assert issubclass(cls, BridgeError)
    with pytest.raises(LinkError):
        open_link("socket://127.0.0.1:1", timeout_s=0.2)
