"""The POSIX plumbing shared by the two host builds (``hil/posix_host``), seen from outside the
process, the same for both firmwares: a fault signal is reported on stderr with the firmware's
own seeded-fault name and ends the process with status 70; stdin closing ends it with status 0;
a link that fails on write is named on the console and ends it with status 0."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from firmware_bridge.messages import HelloRequest
from firmware_bridge.protocol import encode
from hil.emulator.build import build_firmware
from hil.emulator.event_device import build_event_firmware

pytestmark = pytest.mark.needs_tools("gcc", "make")

#: (firmware, seeded fault built in, a request that makes the device answer, its write failure)
FIRMWARES = {
    "binary": ("NO_SAFETY_PACING", encode(HelloRequest(), 1), "uart write failed: link gone\n"),
    "events": ("ESCAPE_5MS_SHORT", b"R\n", "link write failed: link gone\n"),
}
FAULT_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL)
EXIT_FAULT = 70  # the host builds' documented status after a fault signal
TIMEOUT_S = 10.0


def program(firmware: str) -> Path:
    """The host build of ``firmware`` with its seeded fault (built on first use)."""
    fault = FIRMWARES[firmware][0]
    return build_firmware("host", fault) if firmware == "binary" else build_event_firmware(fault)


def read_until(fd: int, marker: bytes, timeout_s: float = TIMEOUT_S) -> bytes:
    """Bytes from ``fd`` up to and including ``marker`` (all that came if it timed out)."""
    got = b""
    deadline = time.monotonic() + timeout_s
    while marker not in got and (left := deadline - time.monotonic()) > 0:
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            got += chunk
    return got


@pytest.mark.parametrize("sig", FAULT_SIGNALS, ids=[s.name for s in FAULT_SIGNALS])
@pytest.mark.parametrize("firmware", sorted(FIRMWARES))
def test_a_fault_signal_is_reported_and_exits_70(firmware: str, sig: signal.Signals) -> None:
    fault = FIRMWARES[firmware][0]
    with subprocess.Popen([str(program(firmware))], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stderr is not None
        banner = read_until(proc.stderr.fileno(), b"ready")
        assert b"ready" in banner, banner
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=TIMEOUT_S) == EXIT_FAULT
        rest = proc.stderr.read().decode("ascii")
    assert rest == f"HARDFAULT: signal {int(sig)} (host target), fault={fault}\n"


@pytest.mark.parametrize("firmware", sorted(FIRMWARES))
def test_closing_stdin_ends_the_device(firmware: str) -> None:
    """A pipe closed by its writer hangs up without data (POLLHUP, no POLLIN): both builds take
    it for the end of stdin. (The binary firmware used to idle on until orphaned.)"""
    done = subprocess.run([str(program(firmware))], input=b"", capture_output=True,
                          timeout=TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("firmware", sorted(FIRMWARES))
def test_a_failed_link_write_is_named_and_exits_0(firmware: str) -> None:
    _, request, message = FIRMWARES[firmware]
    with subprocess.Popen([str(program(firmware))], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        assert b"ready" in read_until(proc.stderr.fileno(), b"ready")
        proc.stdout.close()  # the answer meets a pipe without a reader: EPIPE
        proc.stdin.write(request)
        proc.stdin.flush()
        assert proc.wait(timeout=TIMEOUT_S) == 0
        assert proc.stderr.read().decode("ascii").endswith(message)
        proc.stdin.close()
