"""The codec registry: built-in codecs are always there, whatever is registered first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from firmware_bridge import codec
from firmware_bridge.errors import BridgeError
from firmware_bridge.eventcodec import EventLineCodec
from firmware_bridge.protocol import BinaryCodec

# A fresh interpreter: the first registry call of the process is a registration.
FIRST_CALL_REGISTERS = """
from firmware_bridge.codec import codec_names, get_codec, register_codec
from firmware_bridge.eventcodec import EventLineCodec
register_codec("lab", EventLineCodec)
print(type(get_codec("binary")).__name__, type(get_codec("events")).__name__,
      type(get_codec("lab")).__name__, *codec_names())
"""


def test_builtins_present_after_a_first_registration() -> None:
    proc = subprocess.run([sys.executable, "-c", FIRST_CALL_REGISTERS], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["BinaryCodec", "EventLineCodec", "EventLineCodec",
                                   "binary", "events", "lab"]


def test_a_registered_codec_sits_beside_the_builtins(request: pytest.FixtureRequest) -> None:
    name = "test-registry-lab"
    request.addfinalizer(lambda: codec._REGISTRY.pop(name, None))
    codec.register_codec(name, EventLineCodec)
    assert isinstance(codec.get_codec(name), EventLineCodec)
    assert isinstance(codec.get_codec("binary"), BinaryCodec)
    assert {"binary", "events", name} <= set(codec.codec_names())


def test_a_builtin_name_cannot_be_taken() -> None:
    with pytest.raises(BridgeError, match="'binary' is built in"):
        codec.register_codec("binary", EventLineCodec)
    assert isinstance(codec.get_codec("binary"), BinaryCodec)


def test_unknown_codec_quotes_the_name_and_the_choices() -> None:
    with pytest.raises(BridgeError, match="unknown codec 'nope'") as info:
        codec.get_codec("nope")
    assert "binary" in (info.value.expected or "")
