"""Errors of the conformance package: bad inputs to matching and monitors."""

from __future__ import annotations

from devicetwin.errors import DeviceTwinError


class ConformanceError(DeviceTwinError):
    """An input to matching or a monitor is invalid (a bad limit, an unknown mode, bad times)."""
