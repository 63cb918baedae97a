"""Errors of the instrument layer (all HilError): each quotes the command and what came back."""

from __future__ import annotations

from hil.errors import HilError


class InstrumentError(HilError):
    """An instrument refused a command or reported an error in its queue (``SYST:ERR?``).

    ``value`` is the instrument's error text (``-113,"Undefined header"``), ``name`` the command.
    """


class InstrumentConnectionError(InstrumentError):
    """The resource could not be opened or the link dropped."""


class InstrumentTimeoutError(InstrumentError):
    """No answer within the I/O timeout."""


class AcquisitionTimeoutError(InstrumentTimeoutError):
    """The digitizer did not trigger within the acquisition timeout (SCPI -214)."""


class WaveformRangeError(InstrumentError):
    """A waveform's volts lie outside the AWG channel's amplitude/offset window."""


class BlockFormatError(InstrumentError):
    """A malformed IEEE 488.2 binary block (header, length or sample size)."""


class AnalyzerError(InstrumentError):
    """The pacemaker analyzer answered ``ERR ...`` or something unexpected."""


__all__ = [
    "AcquisitionTimeoutError",
    "AnalyzerError",
    "BlockFormatError",
    "InstrumentConnectionError",
    "InstrumentError",
    "InstrumentTimeoutError",
    "WaveformRangeError",
]
