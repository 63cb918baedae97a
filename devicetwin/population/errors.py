"""The population package's one error type."""

from __future__ import annotations

from devicetwin.errors import DeviceTwinError


class PopulationError(DeviceTwinError):
    """A population file or sampling request is invalid.

    The message starts with where (``file: indication 'x' parameter 'y'``), quotes the bad value
    and says what is allowed; ``name``, ``value`` and ``expected`` carry the same.
    """
