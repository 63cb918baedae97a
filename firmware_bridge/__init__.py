"""firmware_bridge: everything that crosses a wire between the bench and a device.

Three layers, as pyserial and pyvisa separate them: links (bytes), the protocol (frames and
messages), and drivers (what a device or an instrument can do).
"""

# protocol v1 (docs/protocol.md): links, codec, device client
from firmware_bridge.client import DeviceClient
from firmware_bridge.errors import BridgeError
from firmware_bridge.links import Link, open_link
from firmware_bridge.protocol import Frame, decode, encode

__all__ = ["BridgeError", "DeviceClient", "Frame", "Link", "decode", "encode", "open_link"]
