"""Binary blocks and error-queue parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hil.instruments.errors import BlockFormatError, InstrumentError
from hil.instruments.scpi import block_extent, decode_block, encode_block, parse_error


def test_block_header_by_hand() -> None:
    assert encode_block(b"abc") == b"#13abc"
    assert encode_block(b"x" * 12) == b"#212" + b"x" * 12
    assert encode_block(b"") == b"#10"


@given(st.binary(max_size=3000))
def test_block_round_trip(payload: bytes) -> None:
    wire = encode_block(payload)
    assert decode_block(wire + b"\n") == payload
    ext = block_extent(wire)
    assert ext is not None and ext[1] == len(payload)
    assert wire[ext[0]:] == payload


def test_incomplete_header_waits() -> None:
    assert block_extent(b"#") is None
    assert block_extent(b"#4") is None
    assert block_extent(b"#412") is None


@pytest.mark.parametrize("bad", [b"x13abc", b"#0", b"#a12", b"#2x1abc"])
def test_bad_headers_quote_the_bytes(bad: bytes) -> None:
    with pytest.raises(BlockFormatError) as info:
        block_extent(bad)
    assert info.value.value is not None


def test_declared_length_must_match() -> None:
    with pytest.raises(BlockFormatError, match="declares 5 bytes"):
        decode_block(b"#15abc\n")


def test_parse_error() -> None:
    assert parse_error('0,"No error"') == (0, "No error")
    assert parse_error('-113,"Undefined header"') == (-113, "Undefined header")
    with pytest.raises(InstrumentError, match="garbage"):
        parse_error("garbage")
