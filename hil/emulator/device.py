"""Start the reference firmware as a device: a host process behind a pseudo-terminal, or an
lm3s6965evb image under ``qemu-system-arm``; give back the URL firmware_bridge opens.

The host process gets the master side of a pty (``--uart-fd``); the bench opens the slave path
(``/dev/pts/N``). QEMU attaches UART0 to a TCP server socket on loopback (``wait=on``: the guest
starts when the bench connects, so no early output is lost; ``nodelay=on``: no Nagle delay), and
the URL is ``socket://127.0.0.1:PORT``. The firmware's console (host: stderr; QEMU: semihosting)
goes to a log file that :meth:`EmulatedDevice.console_output` reads.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

from hil.emulator.build import Target, build_firmware, require_tool
from hil.emulator.errors import DeviceCrashedError, DeviceHungError, DeviceStartError, EmulatorError

QEMU_MACHINE = "lm3s6965evb"
_QEMU_WAITING = re.compile(r"waiting for connection")
START_TIMEOUT_S = 10.0
EXIT_GRACE_S = 0.5
"""How long :meth:`EmulatedDevice.diagnose` waits for a process whose link just broke to finish
exiting. The kernel closes a dying process's files (so the pty hangs up and the link read fails)
before the exit status can be collected; without the wait a crash could be reported as a hang."""


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_bench() -> None:
    """In the child, before exec: be killed when the bench process dies, however it dies.

    Every normal exit path stops the device (``EmulatedDevice.stop``); this covers the one that
    runs no Python code at all (SIGKILL, a crash of the interpreter), so no firmware or QEMU
    process outlives the bench.
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def child_preexec() -> Callable[[], None] | None:
    """The ``preexec_fn`` that ties a device process's life to the bench's (None: nothing).

    The kernel sends the parent-death signal when the *thread* that started the child ends, so
    it is only requested from the main thread, which lives as long as the bench.
    """
    if _LIBC is None or threading.current_thread() is not threading.main_thread():
        return None
    return _die_with_bench


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmulatedDevice:
    """A running emulated device. Use as a context manager, or call :meth:`stop`.

    Attributes
    ----------
    url:
        What firmware_bridge's ``open_link`` takes: a pty path (host) or ``socket://...`` (QEMU).
    target:
        ``"host"`` or ``"qemu"``.
    fault:
        The seeded fault the firmware was built with, or None.
    program:
        The executable or ELF image that runs.
    """

    def __init__(self, target: Target | Literal["program"], fault: str | None, program: Path,
                 proc: subprocess.Popen[bytes], url: str, log_path: Path,
                 keep_fd: int | None) -> None:
        self.target = target
        self.fault = fault
        self.program = program
        self.url = url
        self._proc = proc
        self._log_path = log_path
        self._keep_fd = keep_fd
        self._stopping = False
        self._final_console: bytes | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> EmulatedDevice:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        """Process id of the firmware process (or of QEMU)."""
        return self._proc.pid

    def exit_status(self) -> int | None:
        """The process's exit status, or None while it runs."""
        return self._proc.poll()

    def running(self) -> bool:
        """True while the firmware process is alive."""
        return self._proc.poll() is None

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the device and release the pty / port. Safe to call twice."""
        self._stopping = True
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=timeout_s)
        if self._keep_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._keep_fd)
            self._keep_fd = None
        if self._final_console is None:
            try:
                self._final_console = self._log_path.read_bytes()
            except OSError:
                self._final_console = b""
            with contextlib.suppress(OSError):
                self._log_path.unlink()

    # -- diagnostics -----------------------------------------------------------------------
    def console_output(self, max_chars: int = 4000) -> str:
        """The last ``max_chars`` characters the firmware wrote to its console."""
        if self._final_console is not None:
            data = self._final_console
        else:
            try:
                data = self._log_path.read_bytes()
            except OSError:
                return ""
        return data[-max_chars:].decode("utf-8", "replace")

    def check(self) -> None:
        """Raise DeviceCrashedError if the firmware stopped without being asked to."""
        code = self._proc.poll()
        if code is not None and not self._stopping:
            console = self.console_output()
            raise DeviceCrashedError(
                f"{self.target} firmware ({self.fault or 'clean'}) stopped with status {code}; "
                f"last console output:\n{console}",
                name="exit_status", value=code, expected="a running device",
            )
        if "HARDFAULT" in self.console_output():
            raise DeviceCrashedError(
                f"{self.target} firmware reported a fault; last console output:\n"
                f"{self.console_output()}",
                name="console", value="HARDFAULT", expected="no fault report",
            )

    def diagnose(self, error: BaseException) -> EmulatorError:
        """Turn a link error (timeout, EOF) into DeviceCrashedError or DeviceHungError.

        Call it when the device stopped answering: a dead process is a crash, a live one that
        does not answer is a hang. A process that is still exiting gets up to
        :data:`EXIT_GRACE_S` to finish, so a crash is reported as a crash.
        """
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=EXIT_GRACE_S)
        try:
            self.check()
        except DeviceCrashedError as crashed:
            return crashed
        return DeviceHungError(
            f"{self.target} firmware ({self.fault or 'clean'}) is running but did not answer "
            f"({error}); last console output:\n{self.console_output()}",
            name="link", value=str(error), expected="an answer within the link timeout",
        )

    def __repr__(self) -> str:
        return (f"EmulatedDevice(target={self.target!r}, fault={self.fault!r}, url={self.url!r},"
                f" running={self.running()})")


def start_host_program(program: Path, fault: str | None, log_path: Path,
                       args: Sequence[str] = ()) -> EmulatedDevice:
    """Start a host build that takes the master side of a new pty as ``--uart-fd N`` (the
    reference firmwares), with ``args`` after it; its console goes to ``log_path``."""
    master, slave = os.openpty()
    url = os.ttyname(slave)  # before the child can exit and hang the pty up
    try:
        tty.setraw(slave)
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(program), "--uart-fd", str(master), *args],
                pass_fds=(master,), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                close_fds=True, preexec_fn=child_preexec(),
            )
    except BaseException:
        os.close(slave)
        raise
    finally:
        os.close(master)
    return EmulatedDevice("host", fault, program, proc, url, log_path, slave)


def _start_qemu(program: Path, fault: str | None, log_path: Path) -> EmulatedDevice:
    qemu = require_tool("qemu-system-arm")
    port = _free_port()
    args = [
        qemu, "-M", QEMU_MACHINE, "-display", "none", "-monitor", "none",
        "-chardev",
        f"socket,id=uart0,host=127.0.0.1,port={port},server=on,wait=on,nodelay=on",
        "-serial", "chardev:uart0",
        "-semihosting-config", "enable=on,target=native",
        "-kernel", str(program),
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                close_fds=True, preexec_fn=child_preexec())
    dev = EmulatedDevice("qemu", fault, program, proc, f"socket://127.0.0.1:{port}", log_path,
                         None)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _QEMU_WAITING.search(dev.console_output()):
        if proc.poll() is not None:
            raise DeviceStartError(
                f"qemu-system-arm exited with status {proc.returncode} before listening:\n"
                f"{dev.console_output()}",
                name="qemu", value=proc.returncode, expected="a listening UART socket",
            )
        if time.monotonic() > deadline:
            dev.stop()
            raise DeviceStartError(
                f"qemu-system-arm did not listen on port {port} within {START_TIMEOUT_S} s",
                name="port", value=port, expected="a listening UART socket",
            )
        time.sleep(0.002)
    _boot_qemu_guest(dev, port, deadline)
    return dev


_READY = b"ready, fault="


def _boot_qemu_guest(dev: EmulatedDevice, port: int, deadline: float) -> None:
    """Connect once so that QEMU (wait=on) starts the guest, wait for the firmware's ready banner
    on the semihosting console, and disconnect without sending a byte.

    QEMU's PL011 holds one byte before the firmware turns its FIFOs on, and drops it when it does;
    a bench that talked while the guest was still booting could lose the first byte of its first
    frame. After the banner the UART is fully set up, and QEMU listens again for the bench.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=START_TIMEOUT_S):
        while _READY not in dev.console_output().encode():
            if dev._proc.poll() is not None or time.monotonic() > deadline:
                dev.stop()
                raise DeviceStartError(
                    f"the QEMU firmware did not boot within {START_TIMEOUT_S} s:\n"
                    f"{dev.console_output()}",
                    name="console", value=dev.console_output()[-200:],
                    expected="the firmware's ready banner",
                )
            time.sleep(0.001)


def start_program(argv: Sequence[str]) -> EmulatedDevice:
    """Run any device program with its stdin and stdout on a new pseudo-terminal (the bench
    opens the other side, the returned ``url``); its stderr is the console. This is how a
    firmware team's host build becomes a device (``exec:`` device URLs).

    Raises
    ------
    DeviceStartError
        When the program cannot be started (not found, not executable).
    """
    if not argv:
        raise DeviceStartError("exec: names no program", name="exec", value="",
                               expected="exec:<program> [arguments]")
    fd, name = tempfile.mkstemp(prefix="devicetwin-program-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    master, slave = os.openpty()
    try:
        tty.setraw(master)
        tty.setraw(slave)
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(list(argv), stdin=master, stdout=master, stderr=log,
                                    close_fds=True, preexec_fn=child_preexec())
    except OSError as err:
        os.close(slave)
        log_path.unlink(missing_ok=True)
        raise DeviceStartError(f"cannot start device program {argv[0]!r}: {err.strerror}",
                               name="exec", value=argv[0],
                               expected="an executable program") from err
    finally:
        os.close(master)
    return EmulatedDevice("program", None, Path(argv[0]), proc, os.ttyname(slave), log_path,
                          slave)


def start_device(target: Literal["host", "qemu"] = "host", fault: str | None = None,
                 *, corrupt_store: bool = False) -> EmulatedDevice:
    """Build (on first use) and start the reference firmware; return the running device.

    Parameters
    ----------
    target:
        ``"host"`` (a gcc-built process behind a pty) or ``"qemu"`` (Cortex-M3 lm3s6965evb).
    fault:
        A seeded fault name (``python -m hil.emulator --list-faults``) or None for the clean
        firmware.
    corrupt_store:
        Damage the emulated non-volatile parameter store before boot (host target only): a
        correct firmware then starts in power-on reset (A-15).

    Raises
    ------
    ToolchainMissingError, FirmwareBuildError, DeviceStartError, UnknownFaultError
    """
    if corrupt_store and target != "host":
        raise DeviceStartError(
            f"corrupt_store is only available on the host target, not {target!r}",
            name="corrupt_store", value=target, expected="host")
    program = build_firmware(target, fault)
    fd, name = tempfile.mkstemp(prefix=f"devicetwin-{target}-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    if target == "host":
        return start_host_program(program, fault, log_path,
                                  ["--corrupt-store"] if corrupt_store else [])
    return _start_qemu(program, fault, log_path)
