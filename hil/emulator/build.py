"""Build the firmware variants (host gcc, QEMU arm-none-eabi-gcc) with ``make``, cached.

Each (target, fault) variant builds into its own directory under ``hil/firmware/build``; ``make``
rebuilds only when a source changed, so the first use builds and later uses cost one make run.
A file lock keeps two processes from building the same variant at once.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path
from typing import Literal

from hil.emulator.errors import FirmwareBuildError, ToolchainMissingError
from hil.emulator.faults import FIRMWARE_DIR, check_fault

Target = Literal["host", "qemu"]

#: command -> Debian package that provides it (tools/install-system-deps.sh installs them)
DEBIAN_PACKAGES: dict[str, str] = {
    "make": "make",
    "gcc": "gcc",
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "arm-none-eabi-size": "binutils-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
}


def require_tool(command: str) -> str:
    """Path of ``command``, or ToolchainMissingError naming the Debian package to install."""
    path = shutil.which(command)
    if path is None:
        package = DEBIAN_PACKAGES.get(command, command)
        raise ToolchainMissingError(
            f"{command!r} not found on PATH: install the Debian package {package!r} "
            f"(sudo apt-get install {package}, or `make setup`)",
            name=command,
            value=None,
            expected=f"the {package} package",
        )
    return path


def variant_dir(target: Target, fault: str | None) -> Path:
    """Build directory of one variant."""
    return FIRMWARE_DIR / "build" / f"{target}-{fault or 'clean'}"


def artefact(target: Target, fault: str | None) -> Path:
    """Path of the built program (host executable or QEMU ELF image)."""
    name = "fw_host" if target == "host" else "fw_lm3s6965.elf"
    return variant_dir(target, fault) / name


def run_make(directory: Path, goal: str, fault: str | None, out_dir: Path, what: str) -> None:
    """``make -C directory goal [FAULT=fault]``, one build of ``out_dir`` at a time.

    Raises
    ------
    ToolchainMissingError
        ``make`` is not installed.
    FirmwareBuildError
        The build failed; the message carries the end of make's output.
    """
    make = require_tool("make")
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [make, "-s", "-C", str(directory), goal]
    if fault:
        args.append(f"FAULT={fault}")
    with open(out_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise FirmwareBuildError(f"building {what} failed:\n{tail}", name="make",
                                 value=proc.returncode, expected="exit status 0")


def build_firmware(target: Target, fault: str | None = None) -> Path:
    """Build (or bring up to date) one variant and return its program.

    Raises
    ------
    ToolchainMissingError
        A needed compiler is not installed.
    FirmwareBuildError
        The build failed.
    """
    check_fault(fault)
    if target not in ("host", "qemu"):
        raise FirmwareBuildError(f"unknown target {target!r}", name="target", value=target,
                                 expected="'host' or 'qemu'")
    if target == "host":
        require_tool("gcc")
    else:
        require_tool("arm-none-eabi-gcc")
        require_tool("arm-none-eabi-size")
    run_make(FIRMWARE_DIR, target, fault, variant_dir(target, fault),
             f"the {target} firmware ({fault or 'clean'})")
    path = artefact(target, fault)
    if not path.exists():
        raise FirmwareBuildError(f"make succeeded but {path} is missing", name="artefact",
                                 value=str(path), expected="the built program")
    return path
