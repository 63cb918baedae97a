"""A device that speaks another protocol than the URL says is named within 5 s, with its bytes."""

from __future__ import annotations

import time

import pytest

from firmware_bridge.serve import TcpServer
from hil.devices import DeviceError, DeviceOptions, open_device
from hil.devices.sniff import what_it_speaks


def event_device(data: bytes) -> bytes:
    """An event-level device that answers every line with a pace and the end of its answer."""
    return b"P V 1000\n.\n" if data else b""


def test_an_event_device_behind_a_binary_url_is_named_quickly() -> None:
    with TcpServer(event_device) as server:
        t0 = time.monotonic()
        with pytest.raises(DeviceError) as err:
            open_device(server.url, DeviceOptions())
        elapsed_s = time.monotonic() - t0
    assert elapsed_s < 5.0
    message = str(err.value)
    assert "HELLO" in message and "event-level" in message and "events+" in message
    assert "P V 1000" in message


@pytest.mark.parametrize(("data", "words"), [
    (b"", "no bytes at all"),
    (b"P A 0\n.\nI name=x version=1\n", "event-level"),
    (b"AVAV", "bare A/V bytes"),
    (b"\x05\x01\x02\x00\x03", "0x00-delimited frames"),
    (b"hello world\r\n", "no protocol the bench knows"),
])
def test_what_the_bytes_look_like(data: bytes, words: str) -> None:
    assert words in what_it_speaks(data)
