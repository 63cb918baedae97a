"""The root of every error the bench raises."""

from __future__ import annotations

from typing import Any


class HilError(Exception):
    """Base of all hil errors; carries the offending value and what was expected."""

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
        return (_rebuild, (type(self), self.message, self.name, self.value, self.expected))

    def __str__(self) -> str:
        return self.message


def _rebuild(
    cls: type[HilError], message: str, name: str | None, value: Any, expected: str | None
) -> HilError:
    err = cls.__new__(cls)
    HilError.__init__(err, message, name=name, value=value, expected=expected)
    return err
