"""Errors of the emulated device: build, toolchain, start, crash and hang."""

from __future__ import annotations

from hil.errors import HilError


class EmulatorError(HilError):
    """Base of every emulated-device error."""


class ToolchainMissingError(EmulatorError):
    """A compiler or emulator is not installed; the message names the Debian package."""


class UnknownFaultError(EmulatorError):
    """A seeded-fault name that ``src/fw_faults.h`` does not define."""


class FirmwareBuildError(EmulatorError):
    """``make`` failed; the message carries the end of its output."""


class DeviceStartError(EmulatorError):
    """The device process did not come up (no pty / QEMU did not listen in time)."""


class DeviceCrashedError(EmulatorError):
    """The firmware stopped (HardFault, signal, exit); carries its last console output."""


class DeviceHungError(EmulatorError):
    """The firmware is running but does not answer; carries its last console output."""
