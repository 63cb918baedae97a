"""The client over ``rfc2217://``: the fake device behind pyserial's own RFC 2217 port manager
(the server side of the Telnet COM-port option) on a loopback socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from serial import rfc2217

from firmware_bridge.auth import DEV_KEY
from firmware_bridge.client import DeviceClient
from firmware_bridge.fakedevice import FakeDevice
from firmware_bridge.messages import Tick
from firmware_bridge.wire import ParamId


class _PortShim:
    """The serial-port attributes PortManager reads and writes (no real port behind it)."""

    cts = dsr = ri = cd = False
    baudrate = 115200
    bytesize = 8
    parity = "N"
    stopbits = 1
    rts = dtr = False

    def reset_input_buffer(self) -> None: ...

    def reset_output_buffer(self) -> None: ...


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)


@pytest.fixture
def rfc2217_device() -> Iterator[tuple[str, FakeDevice]]:
    device = FakeDevice()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            out = _Conn(conn)
            manager = rfc2217.PortManager(_PortShim(), out)
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                try:
                    payload = b"".join(manager.filter(data))
                    answer = device.handle(payload)
                    if answer:
                        out.write(b"".join(manager.escape(answer)))
                except BaseException as exc:
                    errors.append(exc)
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"rfc2217://127.0.0.1:{port}", device
    listener.close()
    thread.join(timeout=5)
    assert not errors, errors


# pyserial 3.5's rfc2217 client calls the deprecated Thread.setDaemon() and setName()
@pytest.mark.filterwarnings("ignore:setDaemon:DeprecationWarning",
                            "ignore:setName:DeprecationWarning")
def test_client_over_rfc2217(rfc2217_device: tuple[str, FakeDevice]) -> None:
    url, device = rfc2217_device
    with DeviceClient.open(url, key=DEV_KEY, timeout_s=3.0) as client:
        assert client.connect().model == "fakedevice"
        client.program({"lower_rate_ppm": 100})
        assert device.params[ParamId.LOWER_RATE_PPM] == 100
        # frames containing 0xff bytes exercise the Telnet IAC escaping in both directions
        ev = client.tick(Tick(0xFFFF_FFFF_FF, (255, -1) * 5, (-256,) * 10, (0,) * 10))
        assert ev.t0_us == 0xFFFF_FFFF_FF
        assert client.interrogate().as_dict()[ParamId.LOWER_RATE_PPM] == 100
