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


class EncodeError(BridgeError):
    """A message could not be encoded: a field is outside what the wire layout can carry."""


class FrameError(BridgeError):
    """A received frame was rejected.

    ``reason`` is one of ``"cobs"``, ``"length"``, ``"oversize"``, ``"crc"``, ``"version"``,
    ``"type"``, ``"payload"``, ``"flags"``; ``received`` holds the offending bytes.
    """

    @property
    def reason(self) -> str:
        """The rejection class, the first word of ``expected``."""
        return (self.expected or "").split(":", 1)[0]


class LinkError(BridgeError):
    """The byte link could not be opened, or it failed or dropped while in use."""


class LinkTimeoutError(LinkError):
    """No (complete) answer arrived within the read timeout."""


class UnexpectedReplyError(BridgeError):
    """The device answered with a message of the wrong type or sequence number."""


class VersionMismatchError(BridgeError):
    """The device speaks another protocol version."""


class DeviceNackError(BridgeError):
    """The device refused a request with a NACK; ``received`` is the ``Nack`` message."""


class AuthRejectedError(DeviceNackError):
    """The device refused a therapy command for authentication (tag or counter)."""


class DeviceFaultError(BridgeError):
    """The device reported an ERROR frame (``received`` is the ``DeviceError`` message)."""
