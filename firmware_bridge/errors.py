"""The root of every error that crosses a wire.

Each error says what was sent and what came back (or what was expected), and pickles.
"""

from __future__ import annotations

from typing import Any


class BridgeError(Exception):
    """Base of all firmware_bridge errors.

    Parameters
    ----------
    message:
        A sentence quoting the offending value and what was expected.
    sent:
        What the bench sent, when the error answers a request.
    received:
        What came back (bytes or a decoded message), if anything.
    expected:
        What would have been accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        sent: Any = None,
        received: Any = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sent = sent
        self.received = received
        self.expected = expected

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.sent, self.received, self.expected))

    def __str__(self) -> str:
        return self.message


def _rebuild(
    cls: type[BridgeError], message: str, sent: Any, received: Any, expected: str | None
) -> BridgeError:
    err = cls.__new__(cls)
    BridgeError.__init__(err, message, sent=sent, received=received, expected=expected)
    return err
