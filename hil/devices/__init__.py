"""Devices under test: one contract (``contract``), one module per kind, chosen by URL
(``registry``)."""

from hil.devices.contract import (
    ALL_KINDS,
    PACE_KINDS,
    Capabilities,
    DeviceError,
    DeviceIdentity,
    DeviceUnderTest,
    RealtimeLink,
    read_key_file,
)
from hil.devices.registry import KINDS, DeviceOptions, open_device, split_url

__all__ = [
    "ALL_KINDS",
    "KINDS",
    "PACE_KINDS",
    "Capabilities",
    "DeviceError",
    "DeviceIdentity",
    "DeviceOptions",
    "DeviceUnderTest",
    "RealtimeLink",
    "open_device",
    "read_key_file",
    "split_url",
]
