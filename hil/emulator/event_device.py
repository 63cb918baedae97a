"""The event-level reference device (``hil/firmware_events``) as a running device.

Two host builds of one C source tree: lock-step (the line protocol of ``docs/protocol.md``
section 7 with virtual time, early stop and identity) and real time (the byte mode of section 7.1
on the wall clock). ``start_event_device`` builds on first use (cached per variant, like
:func:`hil.emulator.build.build_firmware`), starts the program behind a pseudo-terminal and
returns the same :class:`~hil.emulator.device.EmulatedDevice` as the sample-level firmware.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from hil.emulator.build import require_tool, run_make
from hil.emulator.device import START_TIMEOUT_S, EmulatedDevice, start_host_program
from hil.emulator.errors import DeviceStartError, UnknownFaultError
from hil.emulator.faults import SeededFault

EVENT_FIRMWARE_DIR = Path(__file__).resolve().parent.parent / "firmware_events"
EVENT_FAULTS_HEADER = EVENT_FIRMWARE_DIR / "src" / "ev_faults.h"
_FAULT_LINE = re.compile(r'^\s*EV_FAULT\(([A-Z0-9_]+),\s*"([^"]*)",\s*"([^"]*)"\)')
_READY = "\nready\n"


def event_seeded_faults() -> tuple[SeededFault, ...]:
    """The event-level device's seeded faults, from ``src/ev_faults.h`` (the single source)."""
    out = []
    for line in EVENT_FAULTS_HEADER.read_text(encoding="utf-8").splitlines():
        m = _FAULT_LINE.match(line)
        if m:
            out.append(SeededFault(m.group(1), m.group(2), m.group(3)))
    return tuple(out)


def event_fault_names() -> tuple[str, ...]:
    """The names of the event-level device's seeded faults."""
    return tuple(f.name for f in event_seeded_faults())


def event_variant_dir(fault: str | None, realtime: bool = False) -> Path:
    """Build directory of one variant (``build/<lockstep|realtime>-<fault or clean>``)."""
    build = "realtime" if realtime else "lockstep"
    return EVENT_FIRMWARE_DIR / "build" / f"{build}-{fault or 'clean'}"


def build_event_firmware(fault: str | None, realtime: bool = False) -> Path:
    """Build (or bring up to date) one variant and return its program.

    Raises
    ------
    UnknownFaultError, ToolchainMissingError, FirmwareBuildError
    """
    if fault is not None and fault not in event_fault_names():
        raise UnknownFaultError(f"unknown seeded fault {fault!r} of the event-level device",
                                name="fault", value=fault,
                                expected=f"None or one of {', '.join(event_fault_names())}")
    require_tool("gcc")
    out_dir = event_variant_dir(fault, realtime)
    build = "realtime" if realtime else "lockstep"
    run_make(EVENT_FIRMWARE_DIR, build, fault, out_dir,
             f"the event-level device ({build}, {fault or 'clean'})")
    return out_dir / "ev_host"


def start_event_device(fault: str | None = None, *, realtime: bool = False,
                       programming_args: Sequence[str] = ()) -> EmulatedDevice:
    """Build (on first use) and start the event-level device behind a pseudo-terminal.

    Parameters
    ----------
    fault:
        A name of :func:`event_fault_names`, or None for the clean device.
    realtime:
        False: the lock-step build (line protocol, virtual time from ``T`` marks). True: the
        real-time build (byte mode, 1 ms ticks of the wall clock).
    programming_args:
        Command-line flags of its programming, e.g. ``("--mode", "VVI", "--lri-ms", "857")``
        (docs/firmware_events.md); the rest keep their nominal values.

    Returns the running device once its console says ``ready`` (its ``url`` is the pty path).

    Raises
    ------
    UnknownFaultError, ToolchainMissingError, FirmwareBuildError
        As :func:`build_event_firmware`.
    DeviceStartError
        The program refused the programming or did not come up; the message quotes its console.
    """
    program = build_event_firmware(fault, realtime)
    fd, name = tempfile.mkstemp(prefix="devicetwin-ev-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    dev = start_host_program(program, fault, log_path, programming_args)
    _wait_ready(dev)
    return dev


def _wait_ready(dev: EmulatedDevice) -> None:
    """Wait for the console's ``ready`` line (printed after the programming was accepted)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while _READY not in dev.console_output():
        code = dev.exit_status()
        if code is not None or time.monotonic() > deadline:
            console = dev.console_output()
            dev.stop()
            raise DeviceStartError(
                f"the event-level device did not start (exit status {code}):\n{console}",
                name="console", value=console[-300:], expected="the 'ready' line")
        time.sleep(0.002)
