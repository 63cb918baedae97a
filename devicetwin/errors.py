"""The root of every error the twin raises, and the structured-error base the bench reuses.

Errors are structured and picklable: they carry the offending value and what was expected,
as ``pyvisa.errors.VisaIOError`` carries its code.
"""

from __future__ import annotations

from typing import Any


class StructuredError(Exception):
    """An error that names what was wrong, the offending value and what was expected.

    Parameters
    ----------
    message:
        A sentence that quotes the bad value and says what was expected.
    name:
        What was wrong (a parameter, a field, a condition name), if one thing was.
    value:
        The offending value.
    expected:
        A description of what would have been accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        name: str | None = None,
        value: Any = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.value = value
        self.expected = expected

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.name, self.value, self.expected,
                           self.__dict__))

    def __str__(self) -> str:
        return self.message


def _rebuild(
    cls: type[StructuredError], message: str, name: str | None, value: Any, expected: str | None,
    extra: dict[str, Any] | None = None,
) -> StructuredError:
    err = cls.__new__(cls)
    StructuredError.__init__(err, message, name=name, value=value, expected=expected)
    if extra:
        err.__dict__.update(extra)
    return err


class DeviceTwinError(StructuredError):
    """Base of all devicetwin errors (the heart, the reference model, conformance)."""
