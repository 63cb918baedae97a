"""``socket://`` links: every byte a peer sent before closing reaches the reader, and only then
is the disconnection reported (a QEMU image that reports a HardFault on its UART and exits at
once depends on it)."""

from __future__ import annotations

import socket
import threading

import pytest

from firmware_bridge.errors import LinkError
from firmware_bridge.links import open_link


def _serve_then_close(payload: bytes) -> tuple[int, threading.Thread]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def run() -> None:
        conn, _ = server.accept()
        conn.recv(1)  # wait for the reader to be connected and ready
        conn.sendall(payload)
        conn.close()
        server.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return server.getsockname()[1], thread


@pytest.mark.parametrize("size", [1, 3, 77, 5000])
def test_bytes_sent_just_before_close_all_arrive(size: int) -> None:
    payload = bytes((i * 7 + 3) % 256 for i in range(size))
    port, thread = _serve_then_close(payload)
    got = bytearray()
    with open_link(f"socket://127.0.0.1:{port}", timeout_s=2.0) as link:
        link.write(b"!")
        thread.join(timeout=5)  # the peer has sent everything and closed
        with pytest.raises(LinkError):
            while True:
                chunk = link.read(2.0)
                assert chunk, "a timeout before the end of the stream"
                got += chunk
    assert bytes(got) == payload
