"""The root of every error the bench raises."""

from __future__ import annotations

from devicetwin.errors import StructuredError


class HilError(StructuredError):
    """Base of all hil errors; carries the offending value and what was expected."""
