"""Driver for a pacemaker analyzer speaking line ASCII (``CMD=value`` -> ``OK`` / data).

The link is a serial port: a pyserial URL or device path (``/dev/ttyUSB0``, a pty), or a VISA
serial resource (``ASRL/dev/ttyUSB0::INSTR``). Reads end at ``\\n`` with the driver's timeout.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any

import pyvisa
import serial

from firmware_bridge.links import is_visa_resource
from hil.instruments.errors import AnalyzerError, InstrumentConnectionError, InstrumentTimeoutError


class LineAnalyzer:
    """:class:`hil.instruments.interfaces.PacemakerAnalyzer` over a line-based serial link.

    Parameters
    ----------
    resource : str
        pyserial URL / device path, or ``ASRL...::INSTR``.
    timeout_s : float
        Read timeout of a reply line, s (``demand_test`` extends it by the test's duration).
    baudrate : int
    """

    def __init__(self, resource: str, timeout_s: float = 5.0, baudrate: int = 115200) -> None:
        self.resource = resource
        self.timeout_s = timeout_s
        self.baudrate = baudrate
        self._port: Any = None
        self._rm: Any = None

    def open(self) -> None:
        """Open the link (idempotent)."""
        if self._port is not None:
            return
        try:
            if is_visa_resource(self.resource):
                self._rm = pyvisa.ResourceManager("@py")
                port = self._rm.open_resource(self.resource)
                port.baud_rate = self.baudrate
                port.read_termination = "\n"
                port.write_termination = "\n"
                port.timeout = round(self.timeout_s * 1000)
            else:
                port = serial.serial_for_url(self.resource, baudrate=self.baudrate,
                                             timeout=self.timeout_s)
        except Exception as exc:
            self.close()
            raise InstrumentConnectionError(f"cannot open analyzer {self.resource!r}: {exc}",
                                            name="open", value=self.resource,
                                            expected="a serial port or ASRL resource") from exc
        self._port = port

    def close(self) -> None:
        """Close the link; closing twice is harmless."""
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()
        if self._rm is not None:
            with contextlib.suppress(Exception):
                self._rm.close()
            self._rm = None

    def __enter__(self) -> LineAnalyzer:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def command(self, line: str, timeout_s: float | None = None) -> str:
        """Send one line and return the reply line; ``ERR ...`` raises AnalyzerError."""
        port = self._port
        if port is None:
            raise InstrumentConnectionError(f"analyzer {self.resource!r} is not open",
                                            name=line, value=self.resource,
                                            expected="an open link")
        t = self.timeout_s if timeout_s is None else timeout_s
        try:
            if self._rm is not None:
                port.timeout = round(t * 1000)
                reply = str(port.query(line)).strip()
            else:
                port.timeout = t
                port.reset_input_buffer()
                port.write(line.encode("ascii") + b"\n")
                raw = port.readline()
                if not raw.endswith(b"\n"):
                    raise InstrumentTimeoutError(
                        f"analyzer {self.resource}: no reply to {line!r} within {t} s",
                        name=line, value=raw, expected="a reply line")
                reply = raw.decode("ascii", "replace").strip()
        except (AnalyzerError, InstrumentTimeoutError):
            raise
        except Exception as exc:
            raise InstrumentConnectionError(f"analyzer {self.resource}: {line!r} failed: {exc}",
                                            name=line, value=str(exc),
                                            expected="a live link") from exc
        if reply.startswith("ERR"):
            raise AnalyzerError(f"analyzer {self.resource}: {line!r} -> {reply!r}", name=line,
                                value=reply, expected="OK or NAME=value")
        return reply

    def _value(self, query: str, timeout_s: float | None = None) -> str:
        reply = self.command(query, timeout_s)
        name = query.rstrip("?").split("=")[0]
        head, eq, value = reply.partition("=")
        if not eq or head != name:
            raise AnalyzerError(f"analyzer {self.resource}: {query!r} -> {reply!r}", name=query,
                                value=reply, expected=f"{name}=<value>")
        return value

    def _float(self, query: str) -> float:
        value = self._value(query)
        try:
            return float(value)
        except ValueError:
            raise AnalyzerError(f"analyzer {self.resource}: {query!r} -> {value!r}", name=query,
                                value=value, expected="a number") from None

    def _ok(self, line: str) -> None:
        reply = self.command(line)
        if reply != "OK":
            raise AnalyzerError(f"analyzer {self.resource}: {line!r} -> {reply!r}", name=line,
                                value=reply, expected="OK")

    # -- what it can do -----------------------------------------------------------------------
    def identify(self) -> str:
        """``ID?``."""
        return self._value("ID?")

    def reset(self) -> None:
        """``RST``."""
        self._ok("RST")

    def check_errors(self, command: str = "") -> None:
        """Errors are reported per command (``ERR ...``); nothing is queued."""

    def set_load_ohm(self, load_ohm: float) -> None:
        """``LOAD=<ohm>``."""
        self._ok(f"LOAD={load_ohm:g}")

    def select_chamber(self, chamber: str) -> None:
        """``CHAN=A`` or ``CHAN=V``: the output measured."""
        self._ok(f"CHAN={chamber}")

    def measure_rate_ppm(self) -> float:
        """``RATE?``, pulses per minute."""
        return self._float("RATE?")

    def measure_interval_ms(self) -> float:
        """``INTERVAL?``, ms."""
        return self._float("INTERVAL?")

    def measure_amplitude_v(self) -> float:
        """``AMPL?``, leading-edge V."""
        return self._float("AMPL?")

    def measure_width_ms(self) -> float:
        """``WIDTH?``, ms."""
        return self._float("WIDTH?")

    def measure_av_interval_ms(self) -> float:
        """``AV?``, ms."""
        return self._float("AV?")

    def demand_test(self, fraction: float, seconds: float = 5.0) -> bool:
        """``DEMAND=<fraction>,<seconds>``: True when the device paced."""
        value = self._value(f"DEMAND={fraction:g},{seconds:g}", self.timeout_s + seconds + 1.0)
        if value not in ("PACED", "INHIBITED"):
            raise AnalyzerError(f"analyzer {self.resource}: DEMAND -> {value!r}", name="DEMAND",
                                value=value, expected="PACED or INHIBITED")
        return value == "PACED"
