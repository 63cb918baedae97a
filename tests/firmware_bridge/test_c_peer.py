"""The Python client against the C codec in a running C peer (``c/tools/fb_peer.c``, built with
ASan+UBSan) over a real pseudo-terminal: every request, authentication, and the NACKs a device
sends for frames its decoder rejects."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from firmware_bridge import cbuild, framing, protocol
from firmware_bridge.auth import DEV_KEY
from firmware_bridge.client import DeviceClient
from firmware_bridge.errors import AuthRejectedError
from firmware_bridge.links import open_link
from firmware_bridge.messages import Hello, Nack, Program, Tick
from firmware_bridge.serve import ProcessOnPty
from firmware_bridge.wire import Battery, MessageType, NackReason, ParamId


@pytest.fixture
def peer() -> Iterator[ProcessOnPty]:
    proc = ProcessOnPty([str(cbuild.build_peer())])
    yield proc
    err = proc.close()
    assert "runtime error" not in err and "AddressSanitizer" not in err, err


def test_client_against_c_peer(peer: ProcessOnPty) -> None:
    with DeviceClient.open(peer.url, key=DEV_KEY, timeout_s=2.0) as client:
        hello = client.connect()
        assert hello.model == "fb_peer"
        client.program({"lower_rate_ppm": 75, "mode": 10})
        q = client.interrogate()
        assert q.as_dict() == {int(ParamId.LOWER_RATE_PPM): 75, int(ParamId.MODE): 10}
        ramp = tuple(range(-32768, 32767, 655))[:100]
        ev = client.tick(Tick(2**32 + 5, ramp, ramp[::-1], (0,) * 100))
        assert ev.consumed == 100 and ev.t0_us == 2**32 + 5
        client.set_battery(Battery.ERN)
        tel = client.telemetry()
        assert tel.frames_ok == 6 and tel.frames_bad == 0
        assert tel.time_us == 2**32 + 5 + 100_000


def test_c_peer_authentication(peer: ProcessOnPty) -> None:
    with DeviceClient.open(peer.url, key=bytes(32), timeout_s=2.0) as client:
        client.connect()
        with pytest.raises(AuthRejectedError):
            client.program({"lower_rate_ppm": 75})
        assert client.interrogate().params == ()
    with open_link(peer.url, timeout_s=2.0) as link:
        frame = protocol.encode(Program(((2, 80),)), 1, key=DEV_KEY, counter=3)
        dec = protocol.FrameDecoder()
        link.write(frame)
        assert dec.feed(link.read())[0].message.TYPE is MessageType.ACK
        link.write(frame)  # replay
        nack = dec.feed(link.read())[0].message
        assert isinstance(nack, Nack) and nack.reason is NackReason.BAD_COUNTER


def _read_one(link: object, dec: protocol.FrameDecoder) -> protocol.Frame:
    frames: list[protocol.Frame] = []
    while not frames:
        data = link.read()  # type: ignore[attr-defined]
        assert data, "timeout"
        frames = dec.feed(data)
    return frames[0]


def test_c_peer_nacks_bad_frames(peer: ProcessOnPty) -> None:
    def seal(raw: bytes) -> bytes:
        return framing.cobs_encode(raw + struct.pack("<I", framing.crc32c(raw))) + b"\x00"

    with open_link(peer.url, timeout_s=2.0) as link:
        dec = protocol.FrameDecoder()
        link.write(b"\x00\x13\x37\x00")  # noise: counted, not answered
        link.write(seal(struct.pack("<BBBH", 2, 0x30, 0, 7)))  # another version
        f = _read_one(link, dec)
        assert isinstance(f.message, Nack) and f.seq == 7
        assert f.message.reason is NackReason.VERSION_MISMATCH
        link.write(seal(struct.pack("<BBBH", 3, 0x01, 0, 8)))  # HELLO_REQ of v3: still HELLO
        f = _read_one(link, dec)
        assert isinstance(f.message, Hello) and f.seq == 8
        link.write(seal(struct.pack("<BBBH", 1, 0x77, 0, 9)))
        f = _read_one(link, dec)
        assert isinstance(f.message, Nack) and f.message.reason is NackReason.UNKNOWN_MESSAGE
        link.write(seal(struct.pack("<BBBH", 1, 0x30, 0, 10) + b"\x00"))
        f = _read_one(link, dec)
        assert isinstance(f.message, Nack) and f.message.reason is NackReason.BAD_FRAME
        link.write(protocol.encode(Nack(1, NackReason.BUSY), 11))  # a device-to-host type
        f = _read_one(link, dec)
        assert isinstance(f.message, Nack) and f.message.reason is NackReason.UNKNOWN_MESSAGE
