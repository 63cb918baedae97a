"""The build tools a test needs: missing ones fail the test, they do not skip it.

`make setup` installs every Debian package the suite needs (tools/install-system-deps.sh), so a
missing compiler or emulator is a broken set-up, which must show as a failure and not hide as a
skip. ``DEVICETWIN_ALLOW_MISSING_TOOLS=1`` turns the failures into skips, for a developer who runs
a part of the suite on a machine without them, knowingly.
"""

from __future__ import annotations

import os
import shutil

import pytest

ALLOW_ENV = "DEVICETWIN_ALLOW_MISSING_TOOLS"

QEMU_TOOLS = ("qemu-system-arm", "arm-none-eabi-gcc")
"""What the QEMU Cortex-M device needs."""


def missing_tools(*commands: str) -> list[str]:
    """The commands among ``commands`` that are not on PATH."""
    return [c for c in commands if shutil.which(c) is None]


def require_tools(*commands: str) -> None:
    """Fail the calling test (skip under DEVICETWIN_ALLOW_MISSING_TOOLS=1) if a command is
    missing."""
    missing = missing_tools(*commands)
    if not missing:
        return
    message = (f"{', '.join(missing)} not installed; `make setup` installs it "
               "(tools/install-system-deps.sh)")
    if os.environ.get(ALLOW_ENV) == "1":
        pytest.skip(f"{message} [{ALLOW_ENV}=1]")
    pytest.fail(message, pytrace=False)
