"""Pluggable codecs: the byte-level protocol a device speaks, behind one interface.

A codec turns messages into bytes (``encode``) and bytes into messages (``feed``), counting what
it rejects in ``stats``. ``binary`` is protocol v1 (``firmware_bridge.protocol``); ``events`` is
the event-level line protocol of lab hearts and simple student firmware
(``firmware_bridge.eventcodec``). A device with another protocol is added in one module that
defines a codec class and calls ``register_codec``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from firmware_bridge.errors import BridgeError


@runtime_checkable
class Codec(Protocol):
    """What every codec provides."""

    name: str

    def encode(self, msg: Any, seq: int = 0) -> bytes:
        """Bytes for one message (``seq`` is ignored by codecs without sequence numbers)."""
        ...

    def feed(self, data: bytes) -> list[Any]:
        """Messages completed by ``data``; rejected input is counted, not raised."""
        ...

    def reset(self) -> None:
        """Forget partial input (after a reconnect)."""
        ...


_REGISTRY: dict[str, Callable[[], Codec]] = {}


def register_codec(name: str, factory: Callable[[], Codec]) -> None:
    """Make ``get_codec(name)`` return ``factory()``."""
    _REGISTRY[name] = factory


def get_codec(name: str) -> Codec:
    """A fresh codec by name (``"binary"``, ``"events"``, or a registered one)."""
    if not _REGISTRY:
        _register_builtin()
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise BridgeError(f"unknown codec {name!r}",
                          expected=f"one of {sorted(_REGISTRY)}") from None


def codec_names() -> list[str]:
    """Registered codec names."""
    if not _REGISTRY:
        _register_builtin()
    return sorted(_REGISTRY)


def _register_builtin() -> None:
    from firmware_bridge.eventcodec import EventLineCodec
    from firmware_bridge.protocol import BinaryCodec

    register_codec("binary", BinaryCodec)
    register_codec("events", EventLineCodec)
