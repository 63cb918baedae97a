"""The emulated device: the reference pacemaker firmware in C on the host or under QEMU.

``start_device(target, fault)`` builds the firmware on first use and returns a running
:class:`EmulatedDevice` whose ``url`` firmware_bridge opens.
"""

from hil.emulator.build import artefact, build_firmware
from hil.emulator.device import EmulatedDevice, start_device
from hil.emulator.errors import (
    DeviceCrashedError,
    DeviceHungError,
    DeviceStartError,
    EmulatorError,
    FirmwareBuildError,
    ToolchainMissingError,
    UnknownFaultError,
)
from hil.emulator.faults import SeededFault, fault_names, seeded_faults

__all__ = [
    "DeviceCrashedError",
    "DeviceHungError",
    "DeviceStartError",
    "EmulatedDevice",
    "EmulatorError",
    "FirmwareBuildError",
    "SeededFault",
    "ToolchainMissingError",
    "UnknownFaultError",
    "artefact",
    "build_firmware",
    "fault_names",
    "seeded_faults",
    "start_device",
]
