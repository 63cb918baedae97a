"""The compiled codec is the C codec behind thin wrappers, and agrees with the Python reference.

``_fastcodec`` must not carry a second implementation of the byte format: it wraps
``firmware_bridge/c/fb_protocol.c`` (linked into the extension). Every wrapper is held against the
pure-Python reference (``framing.py_*``, the Python path of ``protocol.decode_raw``) on random
and damaged input: same values, or a rejection of the same class.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge import framing, protocol
from firmware_bridge.errors import FrameError
from firmware_bridge.messages import Event, Events
from firmware_bridge.wire import MessageType, WireChamber, WireKind

pytestmark = pytest.mark.skipif(not framing.HAVE_FAST,
                                reason="the compiled codec is not built (make build)")

PKG = Path(framing.__file__).parent
int16 = st.integers(-32768, 32767)
channel = st.lists(st.one_of(int16, st.integers(-3, 3)), max_size=100)


def _outcome(fn: Callable[..., Any], *args: Any) -> Any:
    """A function's value, or the reason of the FrameError it raised."""
    try:
        return fn(*args)
    except FrameError as err:
        return ("rejected", err.reason)


def test_the_extension_is_the_c_codec() -> None:
    from firmware_bridge import _fastcodec

    lib = ctypes.CDLL(_fastcodec.__file__)
    for symbol in ("fb_crc32c_update", "fb_cobs_encode", "fb_cobs_decode", "fb_samples_encode",
                   "fb_samples_decode", "fb_window_decode", "fb_encode", "fb_decode_raw"):
        assert hasattr(lib, symbol), symbol
    lib.fb_crc32c.restype = ctypes.c_uint32
    assert lib.fb_crc32c(b"123456789", ctypes.c_size_t(9)) == 0xE3069283  # the check value
    pyx = (PKG / "_fastcodec.pyx").read_text().lower()
    assert "0x82f63b78" not in pyx and "crc_table" not in pyx  # no second CRC-32C
    assert 'cdef extern from "fb_protocol.h"' in (PKG / "_fastcodec.pxd").read_text()


@given(st.binary(max_size=600), st.binary(max_size=600))
def test_crc32c_continues_like_the_reference(a: bytes, b: bytes) -> None:
    assert framing.crc32c(b, framing.crc32c(a)) == framing.py_crc32c(a + b)
    assert framing.crc32c(bytearray(a)) == framing.crc32c(memoryview(a)) == framing.py_crc32c(a)


@given(st.binary(max_size=1200))
def test_cobs_agrees_with_the_reference(data: bytes) -> None:
    assert framing.cobs_encode(data) == framing.py_cobs_encode(data)
    assert framing.cobs_decode(framing.cobs_encode(data)) == data
    # arbitrary bytes as a frame: the same bytes back or a rejection as "cobs"
    assert _outcome(framing.cobs_decode, data) == _outcome(framing.py_cobs_decode, data)


@given(channel)
def test_samples_agree_with_the_reference(samples: list[int]) -> None:
    enc = framing.samples_encode(samples)
    assert enc == framing.py_samples_encode(samples)
    padded = b"\x07" + enc + b"\x07"
    assert framing.samples_decode(padded, 1, len(padded) - 1, len(samples)) == (
        tuple(samples), 1 + len(enc))


@given(st.binary(max_size=40), st.integers(0, 100))
def test_sample_decoding_of_random_bytes_agrees(data: bytes, n: int) -> None:
    assert (_outcome(framing.samples_decode, data, 0, len(data), n)
            == _outcome(framing.py_samples_decode, data, 0, len(data), n))


@given(st.binary(min_size=11, max_size=60))
def test_window_decoding_of_random_bytes_agrees(payload: bytes) -> None:
    # a plausible header (n 1..4, flags 0/1) over random samples, plus trailing-byte cases
    data = payload[:8] + bytes([payload[8] % 5, 0, payload[10] % 2]) + payload[11:]
    for end in (len(data), len(data) - 1):
        assert (_outcome(framing.window_decode, data, 0, end)
                == _outcome(framing.py_window_decode, data, 0, end))


def test_invalid_samples_are_refused_with_the_value() -> None:
    with pytest.raises(ValueError, match="sample 32768 outside int16"):
        framing.samples_encode([0, 32768])
    with pytest.raises(ValueError, match="101 samples"):
        framing.samples_encode([0] * 101)


events = st.builds(Event, st.integers(0, 2**64 - 1), st.sampled_from(WireChamber),
                   st.sampled_from(WireKind), st.integers(0, 255), st.integers(0, 0xFFFF),
                   st.integers(0, 0xFFFF))
events_msgs = st.builds(
    lambda t0, consumed, evs, stop, streamed: Events(
        t0, consumed, tuple(sorted(evs, key=lambda e: e.t_us)), stop, streamed),
    st.integers(0, 2**64 - 1), st.integers(0, 100), st.lists(events, max_size=48),
    st.booleans(), st.booleans())


def _reference_decode(raw: bytes) -> Any:
    with mock.patch.object(protocol, "_events_frame_decode", None):
        return _outcome(protocol.decode_raw, raw)


@given(events_msgs, st.integers(0, 0xFFFF))
def test_events_frames_decode_like_the_reference(msg: Events, seq: int) -> None:
    raw = protocol.encode_raw(msg, seq)
    frame = protocol.decode_raw(raw)
    assert frame == _reference_decode(raw) == protocol.Frame(MessageType.EVENTS, seq, msg)


@given(events_msgs, st.data())
def test_damaged_events_frames_are_rejected_like_the_reference(msg: Events,
                                                               data: st.DataObject) -> None:
    raw = bytearray(protocol.encode_raw(msg, 1))
    body = raw[:-4]
    i = data.draw(st.integers(5, len(body) - 1))  # a payload byte: the header stays EVENTS
    body[i] = data.draw(st.integers(0, 255).filter(lambda b: b != body[i]))
    if data.draw(st.booleans()):  # a correct CRC over the damage: the payload checks decide
        damaged = bytes(body) + framing.py_crc32c(body).to_bytes(4, "little")
    else:
        damaged = bytes(body) + bytes(raw[-4:])
    assert _outcome(protocol.decode_raw, damaged) == _reference_decode(damaged)
