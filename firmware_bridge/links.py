"""Byte links: pyserial URLs and VISA resources behind one small interface.

``open_link(url)`` picks the transport from the URL:

- pyserial (``serial.serial_for_url``): a device path (``/dev/ttyACM0``, a pty such as
  ``/dev/pts/7``), ``socket://host:port``, ``rfc2217://host:port``, ``loop://``;
- VISA through pyvisa with the pyvisa-py backend (``@py``): ``ASRL/dev/ttyUSB0::INSTR``,
  ``ASRL3::INSTR``, ``TCPIP::host::port::SOCKET``. Reads stop at the frame delimiter 0x00 (VISA
  termination character), so a VISA read returns whole frames.

Reads take a timeout and return ``b""`` when it expires (the timeout lives inside the I/O call,
nothing sleeps); a failed or dropped link raises LinkError; ``reconnect()`` reopens the same URL.
"""

from __future__ import annotations

import abc
import contextlib
import math
import os
import select
import socket
import time
from dataclasses import dataclass
from typing import Any

import pyvisa
import serial
from pyvisa import constants
from pyvisa.errors import VisaIOError

from firmware_bridge.errors import LinkError, LinkTimeoutError

VISA_PREFIXES = ("ASRL", "TCPIP", "GPIB", "USB", "VXI")
FIRST_BYTES_KEPT = 256
"""How many of the first bytes a link received it keeps (``Link.first_bytes``): enough to tell
which protocol a device that does not answer as expected speaks."""


@dataclass(slots=True)
class LinkStats:
    """Counters of one link across reconnects."""

    bytes_in: int = 0
    bytes_out: int = 0
    reads: int = 0
    writes: int = 0
    timeouts: int = 0
    reconnects: int = 0


class Link(abc.ABC):
    """A bidirectional byte link. Subclasses implement ``_open``, ``_close``, ``_read``,
    ``_write``; this class counts, converts errors and reconnects."""

    def __init__(self, url: str, timeout_s: float = 1.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.stats = LinkStats()
        self.first_bytes = bytearray()  # the first FIRST_BYTES_KEPT bytes received
        self._is_open = False
        self.open()

    # -- lifecycle
    def open(self) -> None:
        """Open the transport (done by the constructor)."""
        try:
            self._open()
        except LinkError:
            raise
        except Exception as exc:
            raise LinkError(f"cannot open link {self.url!r}: {exc}", sent=self.url,
                            expected="a reachable pyserial URL or VISA resource") from exc
        self._is_open = True

    def close(self) -> None:
        """Close the transport; closing twice is harmless."""
        if self._is_open:
            self._is_open = False
            # closing a dead transport may fail; it is closed either way
            with contextlib.suppress(Exception):
                self._close()

    def reconnect(self, attempts: int = 5, backoff_s: float = 0.05) -> None:
        """Close and reopen the same URL, retrying ``attempts`` times with a growing backoff."""
        self.close()
        last: Exception | None = None
        for i in range(attempts):
            try:
                self.open()
            except LinkError as exc:
                last = exc
                time.sleep(backoff_s * (2**i))
                continue
            self.stats.reconnects += 1
            return
        raise LinkError(f"reconnect to {self.url!r} failed after {attempts} attempts: {last}",
                        sent=self.url, expected="the device to come back")

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        """True between open and close."""
        return self._is_open

    # -- I/O
    def write(self, data: bytes) -> None:
        """Write all of ``data``."""
        if not self._is_open:
            raise LinkError(f"write on closed link {self.url!r}", sent=data)
        try:
            self._write(data)
        except LinkError:
            raise
        except Exception as exc:
            raise LinkError(f"write of {len(data)} bytes to {self.url!r} failed: {exc}",
                            sent=data) from exc
        self.stats.writes += 1
        self.stats.bytes_out += len(data)

    def read(self, timeout_s: float | None = None, max_bytes: int = 65536) -> bytes:
        """Bytes available within ``timeout_s`` (default: the link's), or ``b""`` on timeout."""
        if not self._is_open:
            raise LinkError(f"read on closed link {self.url!r}")
        t = self.timeout_s if timeout_s is None else timeout_s
        try:
            data = self._read(t, max_bytes)
        except LinkError:
            raise
        except Exception as exc:
            raise LinkError(f"read from {self.url!r} failed: {exc}") from exc
        self.stats.reads += 1
        if not data:
            self.stats.timeouts += 1
        elif self.stats.bytes_in < FIRST_BYTES_KEPT:  # what a device says first, for diagnosis
            self.first_bytes += data[:FIRST_BYTES_KEPT - self.stats.bytes_in]
        self.stats.bytes_in += len(data)
        return data

    @abc.abstractmethod
    def _open(self) -> None: ...

    @abc.abstractmethod
    def _close(self) -> None: ...

    @abc.abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def _read(self, timeout_s: float, max_bytes: int) -> bytes: ...


class SerialLink(Link):
    """A pyserial URL: device path, pty, ``socket://``, ``rfc2217://``, ``loop://``.

    A POSIX port (a device path or a pty) is opened and configured by pyserial, then read and
    written on its file descriptor directly: one ``poll`` (on the port and on pyserial's
    cancel pipe, so ``cancel_read()`` still ends a wait) and one ``read`` per call, with the
    timeout given to ``poll`` instead of reconfiguring the port when it changes. A write
    returns once the kernel holds all the bytes (it does not wait for a UART to send them).
    A ``socket://`` link is read and written on its socket the same way (pyserial's own socket
    ``read`` takes two bytes a call and drops the bytes that arrived just before the peer
    closed); TCP_NODELAY is set, so short messages are not held back by Nagle's algorithm.
    Other URLs go through pyserial's own ``read``/``write``.
    """

    def __init__(self, url: str, timeout_s: float = 1.0, baudrate: int = 115200) -> None:
        self.baudrate = baudrate
        self._port: Any = None
        self._port_timeout: float | None = None
        self._fd: int | None = None
        self._poll: Any = None
        self._cancel_fd = -1
        super().__init__(url, timeout_s)

    def _open(self) -> None:
        self._port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                           timeout=self.timeout_s)
        self._port_timeout = self.timeout_s
        sock = getattr(self._port, "_socket", None)
        if self.url.startswith("socket://") and isinstance(sock, socket.socket):
            # small writes (an event line, a sense byte) leave at once, not after Nagle's wait
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fd = getattr(self._port, "fd", None)
        cancel_fd = getattr(self._port, "pipe_abort_read_r", None)
        if isinstance(fd, int) and isinstance(cancel_fd, int):  # serial.serialposix.Serial
            self._poll = select.poll()
            self._poll.register(fd, select.POLLIN)
            self._poll.register(cancel_fd, select.POLLIN)
            self._fd, self._cancel_fd = fd, cancel_fd
        elif self.url.startswith("socket://") and isinstance(sock, socket.socket):
            # pyserial left the socket non-blocking
            self._poll = select.poll()
            self._poll.register(sock.fileno(), select.POLLIN)
            self._fd = sock.fileno()

    def _close(self) -> None:
        self._fd, self._poll, self._cancel_fd = None, None, -1
        # pyserial's socket:// skips closing its socket when shutdown() fails on a connection
        # the peer already dropped; close it here so no descriptor leaks
        sock = getattr(self._port, "_socket", None)
        try:
            self._port.close()
        finally:
            if sock is not None:
                sock.close()

    def _write(self, data: bytes) -> None:
        fd = self._fd
        if fd is None:
            self._port.write(data)
            self._port.flush()
            return
        try:
            n = os.write(fd, data)
        except BlockingIOError:  # the port's buffer is full
            n = 0
        if n < len(data):
            self._write_rest(fd, memoryview(data)[n:], len(data))

    def _write_rest(self, fd: int, rest: memoryview, total: int) -> None:
        """Finish a partial write, waiting up to the link timeout each time the port is full."""
        while rest:
            _, ready, _ = select.select([], [fd], [], self.timeout_s)
            if not ready:
                raise LinkTimeoutError(
                    f"write to {self.url!r} stalled with {len(rest)} of {total} bytes unsent "
                    f"for {self.timeout_s} s", expected="the port to accept data")
            try:
                rest = rest[os.write(fd, rest):]
            except BlockingIOError:
                continue

    def _read(self, timeout_s: float, max_bytes: int) -> bytes:
        fd = self._fd
        if fd is None:
            return self._read_port(timeout_s, max_bytes)
        ready = self._poll.poll(max(0, math.ceil(timeout_s * 1000)))
        if not ready:
            return b""
        for which, _ in ready:
            if which == self._cancel_fd:  # cancel_read(): end the wait, report nothing
                os.read(self._cancel_fd, 1000)
                return b""
        try:
            data = os.read(fd, max_bytes)
        except BlockingIOError:  # woken without data
            return b""
        if not data:
            raise LinkError(f"{self.url!r} was ready to read but returned no data (device "
                            "disconnected?)", expected="data or a timeout")
        return data

    def _read_port(self, timeout_s: float, max_bytes: int) -> bytes:
        port = self._port
        if self._port_timeout != timeout_s:
            port.timeout = timeout_s  # reconfigures a real port, so only when it changes
            self._port_timeout = timeout_s
        first: bytes = port.read(1)
        if not first:
            return b""
        waiting = port.in_waiting
        if not waiting:
            return first
        try:
            return first + bytes(port.read(min(waiting, max_bytes - 1)))
        except Exception:
            # the peer closed right after its last bytes (pyserial's socket:// reports "ready"
            # for the end of the stream too): hand over what arrived; the next read reports the
            # disconnection
            return first


class VisaLink(Link):
    """A VISA resource through pyvisa-py; reads end at the frame delimiter 0x00."""

    def __init__(self, url: str, timeout_s: float = 1.0, baudrate: int = 115200) -> None:
        self.baudrate = baudrate
        self._rm: Any = None
        self._inst: Any = None
        super().__init__(url, timeout_s)

    def _open(self) -> None:
        self._rm = pyvisa.ResourceManager("@py")
        inst = self._rm.open_resource(self.url)
        inst.timeout = max(1, round(self.timeout_s * 1000))
        inst.set_visa_attribute(constants.VI_ATTR_TERMCHAR, 0)
        inst.set_visa_attribute(constants.VI_ATTR_TERMCHAR_EN, constants.VI_TRUE)
        if self.url.upper().startswith("ASRL"):
            inst.baud_rate = self.baudrate
            inst.set_visa_attribute(constants.VI_ATTR_ASRL_END_IN,
                                    constants.SerialTermination.termination_char)
            inst.set_visa_attribute(constants.VI_ATTR_ASRL_END_OUT,
                                    constants.SerialTermination.none)
        self._inst = inst

    def _close(self) -> None:
        try:
            self._inst.close()
        finally:
            self._rm.close()

    def _write(self, data: bytes) -> None:
        self._inst.write_raw(data)

    def _read(self, timeout_s: float, max_bytes: int) -> bytes:
        self._inst.timeout = max(1, round(timeout_s * 1000))
        try:
            data: bytes = self._inst.read_raw(max_bytes)
        except VisaIOError as exc:
            if exc.error_code == constants.StatusCode.error_timeout:
                return b""
            raise LinkError(f"VISA read from {self.url!r} failed: {exc}") from exc
        return data


def is_visa_resource(url: str) -> bool:
    """True for VISA resource strings (``ASRL...::INSTR``, ``TCPIP::...::SOCKET``, ...)."""
    head = url.split("::", 1)[0].upper()
    return "::" in url and head.startswith(VISA_PREFIXES)


def open_link(url: str, timeout_s: float = 1.0, baudrate: int = 115200) -> Link:
    """Open a byte link for a pyserial URL or a VISA resource string."""
    if is_visa_resource(url):
        return VisaLink(url, timeout_s, baudrate)
    return SerialLink(url, timeout_s, baudrate)
