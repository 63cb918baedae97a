"""The error the patient's twin raises: a twin or session file, or a value in one, is wrong."""

from __future__ import annotations

from devicetwin.errors import DeviceTwinError


class TwinError(DeviceTwinError):
    """A twin file, an imported session or a value in one is not what the twin accepts."""
