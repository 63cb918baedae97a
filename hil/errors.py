"""The root of every error the bench raises."""

from __future__ import annotations

from typing import Any

from devicetwin.errors import StructuredError


class HilError(StructuredError):
    """Base of all hil errors; carries the offending value and what was expected."""


class ConfigError(HilError):
    """Bad configuration: a scenario, vector or key file, a programming, or a CLI value.

    ``source`` names where the bad value came from (a file path, ``--param``, an option) and
    ``line`` its line in that file, when known; ``str()`` starts with ``source:line:``.
    """

    def __init__(self, message: str, *, name: str | None = None, value: Any = None,
                 expected: str | None = None, source: str | None = None,
                 line: int | None = None) -> None:
        where = source or ""
        if source and line is not None:
            where = f"{source}:{line}"
        super().__init__(f"{where}: {message}" if where else message, name=name, value=value,
                         expected=expected)
        self.source = source
        self.line = line


class DeviceUnavailableError(HilError):
    """The device under test or an instrument could not be reached, or stopped answering."""


class NotApplicableError(ConfigError):
    """The scenario asks what the device cannot do (a feature it lacks, a mode it does not
    run): the scenario does not apply to this device. Exit code 2 for a single run; a suite
    lists it as not applicable, the pytest plugin skips."""
