"""firmware_bridge: everything that crosses a wire between the bench and a device.

Three layers, as pyserial and pyvisa separate them: links (bytes), the protocol (frames and
messages), and drivers (what a device or an instrument can do).
"""

from firmware_bridge.errors import BridgeError

__all__ = ["BridgeError"]
