"""SCPI over VISA: IEEE 488.2 binary blocks and a message-based resource with an error check.

Layering (docs/instruments.md): ``block`` helpers (bytes), :class:`ScpiResource` (one pyvisa
resource opened with the pyvisa-py backend ``@py``; write, query, binary blocks, ``SYST:ERR?``),
then the drivers (``awg.py``, ``scope.py``) that know what an instrument can do.
"""

from __future__ import annotations

import contextlib
import re
import socket
from types import TracebackType
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pyvisa
from pyvisa import constants
from pyvisa.errors import VisaIOError

from hil.instruments.errors import (
    BlockFormatError,
    InstrumentConnectionError,
    InstrumentError,
    InstrumentTimeoutError,
)

_ERR_RE = re.compile(r"^\s*([+-]?\d+)\s*,\s*\"?(.*?)\"?\s*$")


def encode_block(payload: bytes) -> bytes:
    """An IEEE 488.2 definite-length block: ``#<n><len><payload>`` (n = digits of len)."""
    length = str(len(payload)).encode()
    if len(length) > 9:
        raise BlockFormatError(f"block of {len(payload)} bytes is too long", name="block",
                               value=len(payload), expected="< 1e9 bytes")
    return b"#" + str(len(length)).encode() + length + payload


def block_extent(buf: bytes | bytearray | memoryview, start: int = 0) -> tuple[int, int] | None:
    """Where a block starting at ``buf[start]`` (``#``) has its payload: (offset, length).

    Returns None while the header is incomplete; raises BlockFormatError on a bad header.
    """
    if len(buf) < start + 2:
        return None
    if buf[start] != 0x23:  # '#'
        raise BlockFormatError(f"block starts with {bytes(buf[start:start + 1])!r}",
                               name="block", value=bytes(buf[start:start + 8]),
                               expected="'#' then a digit")
    nd = buf[start + 1] - 0x30
    if not 1 <= nd <= 9:
        raise BlockFormatError(f"block header {bytes(buf[start:start + 2])!r} has no length "
                               "digit count", name="block", value=bytes(buf[start:start + 8]),
                               expected="#1..#9 (definite length)")
    if len(buf) < start + 2 + nd:
        return None
    digits = bytes(buf[start + 2: start + 2 + nd])
    if not digits.isdigit():
        raise BlockFormatError(f"block length {digits!r} is not decimal", name="block",
                               value=digits, expected=f"{nd} decimal digits")
    return start + 2 + nd, int(digits)


def decode_block(data: bytes) -> bytes:
    """The payload of one complete block (a trailing newline is allowed)."""
    ext = block_extent(data)
    if ext is None:
        raise BlockFormatError(f"truncated block header {data[:12]!r}", name="block",
                               value=data[:12], expected="#<n><len>")
    off, n = ext
    rest = len(data) - off - n
    if rest < 0 or rest > 2 or data[off + n:].strip(b"\r\n"):
        raise BlockFormatError(f"block declares {n} bytes, {len(data) - off} follow", name="block",
                               value=len(data) - off, expected=f"{n} bytes then a newline")
    return data[off: off + n]


def parse_error(text: str) -> tuple[int, str]:
    """``-113,"Undefined header"`` -> (-113, "Undefined header")."""
    m = _ERR_RE.match(text)
    if m is None:
        raise InstrumentError(f"SYST:ERR? answered {text!r}", name="SYST:ERR?", value=text,
                              expected='<code>,"<text>"')
    return int(m.group(1)), m.group(2)


def _no_delay(inst: Any) -> None:
    """TCP_NODELAY on a pyvisa-py socket session. Commands written back to back would
    otherwise wait for the instrument's delayed ACK (Nagle; 40 ms on Linux) before a query goes
    out. pyvisa-py does not implement ``VI_ATTR_TCPIP_NODELAY``, so the option is set on its
    socket; other backends keep their own setting."""
    sess = getattr(inst.visalib, "sessions", {}).get(inst.session)
    sock = getattr(sess, "interface", None)
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class ScpiResource:
    """One SCPI instrument over pyvisa (pyvisa-py backend): write/query with newline
    termination, binary blocks, and the error queue.

    Parameters
    ----------
    resource : str
        VISA resource string, e.g. ``TCPIP::127.0.0.1::5025::SOCKET``.
    timeout_s : float
        I/O timeout of every read, s (inside the VISA read; nothing sleeps).
    """

    def __init__(self, resource: str, timeout_s: float = 5.0) -> None:
        self.resource = resource
        self.timeout_s = timeout_s
        self._rm: Any = None
        self._inst: Any = None
        self.idn = ""

    @property
    def is_open(self) -> bool:
        """True between open and close."""
        return self._inst is not None

    def open(self) -> None:
        """Open the resource (idempotent)."""
        if self._inst is not None:
            return
        try:
            self._rm = pyvisa.ResourceManager("@py")
            inst = self._rm.open_resource(self.resource)
        except Exception as exc:
            self._close_rm()
            raise InstrumentConnectionError(
                f"cannot open {self.resource!r}: {exc}", name="open", value=self.resource,
                expected="a reachable VISA resource") from exc
        inst.read_termination = "\n"
        inst.write_termination = "\n"
        inst.timeout = max(1, round(self.timeout_s * 1000))
        inst.chunk_size = 1 << 20
        if self.resource.upper().startswith("TCPIP"):
            _no_delay(inst)
        self._inst = inst
        try:  # pyvisa-py connects lazily: ask who is there, so a dead resource fails here
            self.idn = self.query("*IDN?")
        except InstrumentError as exc:
            self.close()
            raise InstrumentConnectionError(
                f"cannot open {self.resource!r}: {exc}", name="open", value=self.resource,
                expected="an instrument answering *IDN?") from exc

    def _close_rm(self) -> None:
        if self._rm is not None:
            with contextlib.suppress(Exception):
                self._rm.close()
            self._rm = None

    def close(self) -> None:
        """Close the resource; closing twice is harmless."""
        inst, self._inst = self._inst, None
        if inst is not None:
            with contextlib.suppress(Exception):
                inst.close()
        self._close_rm()

    def _need(self) -> Any:
        if self._inst is None:
            raise InstrumentConnectionError(f"{self.resource!r} is not open", name="resource",
                                            value=self.resource, expected="an open resource")
        return self._inst

    def _io_error(self, command: str, exc: Exception) -> InstrumentError:
        if isinstance(exc, VisaIOError) and exc.error_code == constants.StatusCode.error_timeout:
            return InstrumentTimeoutError(
                f"{self.resource}: no answer to {command!r} within {self.timeout_s} s",
                name=command, value=self.timeout_s, expected="an answer")
        return InstrumentConnectionError(f"{self.resource}: {command!r} failed: {exc}",
                                         name=command, value=str(exc), expected="a live link")

    def write(self, command: str) -> None:
        """Send one command line."""
        inst = self._need()
        try:
            inst.write(command)
        except Exception as exc:
            raise self._io_error(command, exc) from exc

    def query(self, command: str, timeout_s: float | None = None) -> str:
        """Send a query, return its answer line (without the newline)."""
        inst = self._need()
        try:
            if timeout_s is not None:
                inst.timeout = max(1, round(timeout_s * 1000))
            try:
                answer: str = inst.query(command)
            finally:
                if timeout_s is not None:
                    inst.timeout = max(1, round(self.timeout_s * 1000))
        except Exception as exc:
            err = self._io_error(command, exc)
            if isinstance(err, InstrumentTimeoutError) and command != "SYST:ERR?":
                err = self._with_queue(err, command)
            raise err from exc
        return answer.strip()

    def _with_queue(self, err: InstrumentTimeoutError, command: str) -> InstrumentError:
        """A query that got no answer: an instrument that refused it says why in its queue."""
        try:
            code, text = parse_error(self.query("SYST:ERR?", timeout_s=min(1.0, self.timeout_s)))
        except InstrumentError:
            return err
        if code == 0:
            return err
        return InstrumentError(f"{self.resource}: {command!r} was not answered -> instrument "
                               f'error {code},"{text}"', name=command, value=f'{code},"{text}"',
                               expected="an answer")

    def write_block(self, command: str, payload: bytes) -> None:
        """Send ``command #<n><len><payload>`` and the newline."""
        inst = self._need()
        try:
            inst.write_raw(command.encode() + b" " + encode_block(payload) + b"\n")
        except Exception as exc:
            raise self._io_error(command, exc) from exc

    def query_block(self, command: str) -> bytes:
        """Send a query answered by one binary block; return the payload."""
        inst = self._need()
        try:
            inst.write(command)
            # no termination character inside binary data: every 0x0A byte would end a read
            inst.read_termination = None
            try:
                return self._read_block(inst, command)
            finally:
                inst.read_termination = "\n"
        except InstrumentError:
            raise
        except Exception as exc:
            raise self._io_error(command, exc) from exc

    def _read_block(self, inst: Any, command: str) -> bytes:
        try:
            head = inst.read_bytes(2)
            nd = head[1] - 0x30
            if head[:1] != b"#" or not 1 <= nd <= 9:
                raise BlockFormatError(f"{command!r} answered {head!r}", name=command,
                                       value=head, expected="a definite-length block '#<n>...'")
            digits = inst.read_bytes(nd)
            if not digits.isdigit():
                raise BlockFormatError(f"{command!r}: block length {digits!r}", name=command,
                                       value=digits, expected="decimal digits")
            n = int(digits)
            payload: bytes = inst.read_bytes(n + 1)  # and the newline
        except InstrumentError:
            raise
        except Exception as exc:
            raise self._io_error(command, exc) from exc
        if payload[-1:] != b"\n":
            raise BlockFormatError(f"{command!r}: block not followed by a newline", name=command,
                                   value=payload[-1:], expected="b'\\n'")
        return payload[:-1]

    def errors(self) -> list[tuple[int, str]]:
        """Drain ``SYST:ERR?`` until ``0,"No error"`` (at most 32 entries)."""
        out: list[tuple[int, str]] = []
        for _ in range(32):
            code, text = parse_error(self.query("SYST:ERR?"))
            if code == 0:
                break
            out.append((code, text))
        return out

    def check(self, command: str) -> None:
        """Raise InstrumentError quoting ``command`` and the instrument's first error."""
        errs = self.errors()
        if errs:
            code, text = errs[0]
            raise InstrumentError(
                f"{self.resource}: {command!r} -> instrument error {code},\"{text}\""
                + (f" (+{len(errs) - 1} more)" if len(errs) > 1 else ""),
                name=command, value=f'{code},"{text}"', expected='0,"No error"')


def float32_le(samples: npt.NDArray[np.float64]) -> bytes:
    """Samples as little-endian float32 bytes."""
    return np.asarray(samples, dtype="<f4").tobytes()


def int16_le(codes: npt.NDArray[np.int64] | npt.NDArray[np.int16]) -> bytes:
    """Codes as little-endian int16 bytes."""
    return np.asarray(codes, dtype="<i2").tobytes()


class ScpiInstrument:
    """What every SCPI instrument driver shares: the resource, its lifecycle and the IEEE 488.2
    common commands. Drivers add their own subsystem commands."""

    def __init__(self, resource: str, timeout_s: float = 5.0) -> None:
        self.resource = resource
        self.io = ScpiResource(resource, timeout_s)

    def open(self) -> None:
        """Open the resource."""
        self.io.open()

    def close(self) -> None:
        """Close the resource; closing twice is harmless."""
        self.io.close()

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def identify(self) -> str:
        """``*IDN?``."""
        return self.io.query("*IDN?")

    def reset(self) -> None:
        """``*RST`` and ``*CLS``, then wait for completion (``*OPC?``)."""
        self.io.write("*RST")
        self.io.write("*CLS")
        self.io.query("*OPC?")

    def check_errors(self, command: str = "") -> None:
        """Raise InstrumentError if the error queue holds anything."""
        self.io.check(command or "(previous commands)")

    def send(self, command: str) -> None:
        """Send one command and check the error queue (raises quoting the instrument's error)."""
        self.io.write(command)
        self.io.check(command)
