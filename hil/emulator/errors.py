"""Errors of the emulated device: build, toolchain, start, crash and hang."""

from __future__ import annotations

from hil.errors import HilError


class EmulatorError(HilError):
    """Base of every emulated-device error."""


class ToolchainMissing(EmulatorError):
    """A compiler or emulator is not installed; the message names the Debian package."""


class UnknownFault(EmulatorError):
    """A seeded-fault name that ``src/fw_faults.h`` does not define."""


class FirmwareBuildError(EmulatorError):
    """``make`` failed; the message carries the end of its output."""


class DeviceStartError(EmulatorError):
    """The device process did not come up (no pty / QEMU did not listen in time)."""


class DeviceCrashed(EmulatorError):
    """The firmware stopped (HardFault, signal, exit); carries its last console output."""


class DeviceHung(EmulatorError):
    """The firmware is running but does not answer; carries its last console output."""
