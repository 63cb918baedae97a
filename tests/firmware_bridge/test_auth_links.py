"""Key files, the host counter, link selection by URL, and link statistics."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from firmware_bridge.auth import (
    DEV_KEY,
    KEY_FILE_ENV,
    CounterSource,
    KeyFileError,
    load_key,
    parse_key,
)
from firmware_bridge.errors import LinkError
from firmware_bridge.links import SerialLink, VisaLink, is_visa_resource, open_link


def test_dev_key_matches_the_c_header() -> None:
    header = (Path(__file__).resolve().parents[2] / "firmware_bridge" / "c" /
              "fb_protocol.h").read_text()
    line = next(ln for ln in header.splitlines() if ln.startswith("#define FB_DEV_KEY_HEX"))
    assert bytes.fromhex(line.split('"')[1]) == DEV_KEY == bytes(range(32))


def test_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "device.key"
    f.write_text("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n"
                 "101112131415161718191a1b1c1d1e1f\n")
    os.chmod(f, 0o600)
    assert load_key(f) == DEV_KEY
    monkeypatch.setenv(KEY_FILE_ENV, str(f))
    assert load_key() == DEV_KEY
    os.chmod(f, 0o644)
    with pytest.raises(KeyFileError, match="world readable"):
        load_key(f)
    with pytest.raises(KeyFileError, match="cannot read"):
        load_key(tmp_path / "missing.key")
    monkeypatch.delenv(KEY_FILE_ENV)
    with pytest.raises(KeyFileError, match=KEY_FILE_ENV):
        load_key()


@pytest.mark.parametrize("text", ["", "00" * 31, "00" * 33, "zz" * 32])
def test_bad_key_text(text: str) -> None:
    with pytest.raises(KeyFileError):
        parse_key(text)


def test_counter_source() -> None:
    c = CounterSource()
    assert c.next() == 1
    c.observe(41)  # the device already accepted 41 (from HELLO)
    assert c.next() == 42
    c.observe(7)  # never goes back
    assert c.next() == 43
    c = CounterSource(0xFFFF_FFFF)
    with pytest.raises(KeyFileError, match="exhausted"):
        c.next()


@pytest.mark.parametrize(("url", "visa"), [
    ("ASRL/dev/ttyUSB0::INSTR", True), ("ASRL3::INSTR", True),
    ("TCPIP::10.0.0.5::5025::SOCKET", True), ("TCPIP0::host::inst0::INSTR", True),
    ("/dev/ttyACM0", False), ("socket://localhost:5000", False), ("loop://", False),
    ("rfc2217://localhost:2217", False), ("COM3", False),
])
def test_visa_or_pyserial(url: str, visa: bool) -> None:
    assert is_visa_resource(url) is visa


def test_loop_link_stats_and_close() -> None:
    link = open_link("loop://", timeout_s=0.05)
    assert isinstance(link, SerialLink)
    link.write(b"abc\x00")
    assert link.read() == b"abc\x00"
    assert link.read() == b""
    s = link.stats
    assert (s.bytes_out, s.bytes_in, s.writes, s.reads, s.timeouts) == (4, 4, 1, 2, 1)
    link.close()
    link.close()
    with pytest.raises(LinkError, match="closed"):
        link.write(b"x")
    with pytest.raises(LinkError, match="closed"):
        link.read()


def test_unreachable_links_raise_link_error() -> None:
    with pytest.raises(LinkError, match="cannot open"):
        open_link("/dev/does-not-exist-devicetwin", timeout_s=0.1)
    # pyvisa-py connects without blocking: a refused port shows on the first write
    with VisaLink("TCPIP::127.0.0.1::1::SOCKET", timeout_s=0.2) as link, \
            pytest.raises(LinkError, match="refused"):
        link.write(b"x")


def test_reconnect_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    link = open_link("loop://", timeout_s=0.05)
    link.url = str(tmp_path / "gone")  # the device disappeared
    with pytest.raises(LinkError, match=r"reconnect .* failed after 2 attempts"):
        link.reconnect(attempts=2, backoff_s=0.001)
