"""Errors of the measurement layer."""

from __future__ import annotations

from hil.errors import HilError


class MeasureError(HilError):
    """Base of every measurement error."""


class NoPulseError(MeasureError):
    """A capture holds no pacing pulse (or too few for the quantity asked)."""


class BadSignalError(MeasureError):
    """A test-signal or waveform parameter is out of range; names the value and the range."""
