"""Serve a byte handler (``bytes -> bytes``) on a pseudo-terminal or a loopback TCP socket.

Used to put a Python fake device (``fakedevice.FakeDevice.handle``) behind a real transport so
that the client is tested over the same pyserial/VISA code as with hardware. Each server runs one
thread that waits in ``select`` on its transport and on a self-pipe, so ``close()`` wakes it at
once (no thread is killed, nothing polls).
"""

from __future__ import annotations

import os
import select
import socket
import threading
import tty
from collections.abc import Callable
from typing import Any

Handler = Callable[[bytes], bytes]


class _Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.url = ""
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and release the transport."""
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # reported to the test through .error
            self.error = exc

    def _loop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class PtyServer(_Server):
    """The handler behind a pseudo-terminal; ``url`` is the slave path (``/dev/pts/N``)."""

    def __init__(self, handler: Handler) -> None:
        super().__init__(handler)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.url = os.ttyname(self._slave)
        self.start()

    def _loop(self) -> None:
        try:
            while True:
                r, _, _ = select.select([self._master, self._wake_r], [], [])
                if self._wake_r in r:
                    return
                try:
                    data = os.read(self._master, 65536)
                except OSError:
                    return
                out = self.handler(data)
                if out:
                    os.write(self._master, out)
        finally:
            os.close(self._master)
            os.close(self._slave)


class TcpServer(_Server):
    """The handler behind ``socket://127.0.0.1:<port>``; one client at a time, re-accepts
    after a drop. ``drop()`` closes the current connection (to test reconnects)."""

    def __init__(self, handler: Handler) -> None:
        super().__init__(handler)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self.port = self._listener.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self.visa_resource = f"TCPIP::127.0.0.1::{self.port}::SOCKET"
        self._conn: socket.socket | None = None
        self._drop = threading.Event()
        self.connections = 0
        self.start()

    def drop(self) -> None:
        """Close the current client connection from the device side."""
        self._drop.set()
        os.write(self._wake_w, b"d")

    def _loop(self) -> None:
        try:
            while True:
                watch: list[Any] = [self._listener, self._wake_r]
                if self._conn is not None:
                    watch.append(self._conn)
                r, _, _ = select.select(watch, [], [])
                if self._wake_r in r:
                    os.read(self._wake_r, 1)
                    if self._drop.is_set():
                        self._drop.clear()
                        if self._conn is not None:
                            self._conn.close()
                            self._conn = None
                        continue
                    return
                if self._listener in r:
                    conn, _ = self._listener.accept()
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    if self._conn is not None:
                        self._conn.close()
                    self._conn = conn
                    self.connections += 1
                if self._conn is not None and self._conn in r:
                    data = self._conn.recv(65536)
                    if not data:
                        self._conn.close()
                        self._conn = None
                        continue
                    out = self.handler(data)
                    if out:
                        self._conn.sendall(out)
        finally:
            if self._conn is not None:
                self._conn.close()
            self._listener.close()


class ProcessOnPty:
    """A device program whose stdin/stdout are the master side of a new pseudo-terminal;
    ``url`` is the slave path for ``open_link``. ``close()`` ends the process it started."""

    def __init__(self, argv: list[str]) -> None:
        import subprocess

        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.url = os.ttyname(self._slave)
        self.proc = subprocess.Popen(argv, stdin=self._master, stdout=self._master,
                                     stderr=subprocess.PIPE, close_fds=True)

    def close(self) -> str:
        """Stop the program; return its stderr (sanitizer reports, crash output)."""
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        if self.proc.stderr:
            self.proc.stderr.close()
        os.close(self._master)
        os.close(self._slave)
        return err

    def __enter__(self) -> ProcessOnPty:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
