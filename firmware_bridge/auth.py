"""Keys and counters of the therapy-command authentication (``docs/protocol.md`` section 6).

The host side keeps the next counter (``CounterSource``); the device side (``AuthVerifier``,
used by the Python fake device) checks trailer, tag and counter in the documented order.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from firmware_bridge.errors import BridgeError
from firmware_bridge.protocol import Frame
from firmware_bridge.wire import KEY_LEN, NackReason

DEV_KEY = bytes(range(KEY_LEN))
"""The development key (bytes 0x00..0x1f), as ``FB_DEV_KEY_HEX`` in fb_protocol.h. Tests only."""

KEY_FILE_ENV = "DEVICETWIN_KEY_FILE"


class KeyFileError(BridgeError):
    """A key file is missing, malformed or readable by everyone."""


def parse_key(text: str) -> bytes:
    """A 32-byte key from 64 hex digits (whitespace ignored)."""
    digits = "".join(text.split())
    try:
        key = bytes.fromhex(digits)
    except ValueError:
        key = b""
    if len(key) != KEY_LEN:
        raise KeyFileError(f"key text of {len(digits)} characters is not 64 hex digits",
                        received=f"{digits[:8]}...", expected="64 hex digits (32 bytes)")
    return key


def load_key(path: str | os.PathLike[str] | None = None) -> bytes:
    """Read a key file (default: ``$DEVICETWIN_KEY_FILE``); it must not be world readable."""
    if path is None:
        env = os.environ.get(KEY_FILE_ENV)
        if not env:
            raise KeyFileError(f"no key file given and ${KEY_FILE_ENV} is not set",
                            expected="a path to a file of 64 hex digits")
        path = env
    p = Path(path)
    try:
        mode = p.stat().st_mode
        text = p.read_text()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {str(p)!r}: {exc.strerror}",
                        expected="a readable key file") from None
    if mode & stat.S_IROTH:
        raise KeyFileError(f"key file {str(p)!r} is world readable (mode {oct(mode & 0o777)})",
                        expected="chmod 600")
    return parse_key(text)


class CounterSource:
    """The host's monotonic counter: ``next()`` gives ``max(own, device's last) + 1``."""

    def __init__(self, start: int = 0) -> None:
        self.last = start

    def observe(self, device_last: int) -> None:
        """Take the device's last accepted counter into account (from HELLO)."""
        self.last = max(self.last, device_last)

    def next(self) -> int:
        """The counter for the next therapy command."""
        if self.last >= 0xFFFF_FFFF:
            raise KeyFileError("authentication counter exhausted", received=self.last,
                            expected="a re-keyed device")
        self.last += 1
        return self.last


class AuthVerifier:
    """Device-side check of an authenticated command; state changes only on acceptance."""

    def __init__(self, last_counter: int = 0) -> None:
        self.last_counter = last_counter
        self.failures = 0

    def check(self, frame: Frame) -> NackReason | None:
        """None when accepted (the counter is consumed), else the NACK reason."""
        auth = frame.auth
        if auth is None or not auth.verified:
            self.failures += 1
            return NackReason.NOT_AUTHENTICATED
        if auth.counter <= self.last_counter:
            self.failures += 1
            return NackReason.BAD_COUNTER
        self.last_counter = auth.counter
        return None
