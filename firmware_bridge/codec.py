"""Pluggable codecs: the byte-level protocol a device speaks, behind one interface.

A codec turns messages into bytes (``encode``) and bytes into messages (``feed``), counting what
it rejects in ``stats``. ``binary`` is protocol v1 (``firmware_bridge.protocol``); ``events`` is
the event-level line protocol of lab hearts and simple student firmware
(``firmware_bridge.eventcodec``). A device with another protocol is added in one module that
defines a codec class and calls ``register_codec``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from firmware_bridge.errors import BridgeError
from firmware_bridge.eventcodec import EventLineCodec
from firmware_bridge.protocol import BinaryCodec


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


#: The codecs every process has; ``register_codec`` adds others beside them.
BUILTIN_CODECS: Mapping[str, Callable[[], Codec]] = MappingProxyType(
    {"binary": BinaryCodec, "events": EventLineCodec})
_REGISTRY: dict[str, Callable[[], Codec]] = dict(BUILTIN_CODECS)


def register_codec(name: str, factory: Callable[[], Codec]) -> None:
    """Make ``get_codec(name)`` return ``factory()``; a built-in name cannot be taken."""
    if name in BUILTIN_CODECS:
        raise BridgeError(f"codec name {name!r} is built in",
                          expected=f"a name other than {sorted(BUILTIN_CODECS)}")
    _REGISTRY[name] = factory


def get_codec(name: str) -> Codec:
    """A fresh codec by name (``"binary"``, ``"events"``, or a registered one)."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise BridgeError(f"unknown codec {name!r}",
                          expected=f"one of {sorted(_REGISTRY)}") from None


def codec_names() -> list[str]:
    """Registered codec names, the built-in ones included."""
    return sorted(_REGISTRY)
