"""The root of every error the twin raises, and the structured-error base the bench reuses.

Errors are structured and picklable: they carry the offending value and what was expected,
as ``pyvisa.errors.VisaIOError`` carries its code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
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


#: How much less similar than the best match another name may be and still be suggested.
_CLOSE_MARGIN = 0.05


def close_names(name: object, known: Iterable[str]) -> list[str]:
    """The names in ``known`` closest to ``name``, best first, for "did you mean" hints.

    Every misspelt name is matched the same way (``difflib.get_close_matches``, ignoring case);
    names nearly as close as the best one are kept too. A non-string ``name`` has none.
    """
    if not isinstance(name, str):
        return []
    by_folded = {k.casefold(): k for k in known}
    word = name.casefold()
    close = difflib.get_close_matches(word, list(by_folded), n=3, cutoff=0.6)
    if not close:
        return []
    best = difflib.SequenceMatcher(None, word, close[0]).ratio()
    return [by_folded[c] for c in close
            if difflib.SequenceMatcher(None, word, c).ratio() >= best - _CLOSE_MARGIN]


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """``" (did you mean lower_rate_ppm?)"`` for a misspelt ``name``, else ``""``."""
    close = close_names(name, known)
    return f" (did you mean {' or '.join(close)}?)" if close else ""
