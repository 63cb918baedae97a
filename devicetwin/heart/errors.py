"""The heart's one error type."""

from __future__ import annotations

from devicetwin.errors import DeviceTwinError


class HeartError(DeviceTwinError):
    """A bad request to the heart: unknown condition, parameter out of range, bad pace or window.

    ``name`` says what was wrong, ``value`` carries the offending value and ``expected`` the
    allowed range or set.
    """


def bad(name: str, value: object, expected: str) -> HeartError:
    """A :class:`HeartError` whose message quotes the value and the allowed range."""
    return HeartError(
        f"{name} = {value!r} is not allowed: expected {expected}",
        name=name,
        value=value,
        expected=expected,
    )
