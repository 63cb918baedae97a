"""A SCPI socket server on loopback: one thread, a selector, a self-pipe to stop it.

Commands are newline-terminated lines, ``HEADER[ args]``; an argument that starts with ``#<n>`` is
an IEEE 488.2 definite-length block and may contain any byte. Headers are matched in their short
form, case-insensitively, with an optional leading colon; a number at the end of a node is a
suffix (``SOUR2:VOLT`` matches ``SOUR#:VOLT`` with suffix 2). Every server answers ``*IDN?``,
``*RST``, ``*CLS``, ``*OPC?``, ``*OPC``, ``*WAI`` and ``SYST:ERR?`` and keeps an error queue of
at most 32 entries (``-350,"Queue overflow"`` replaces the last one when it is full).
"""

from __future__ import annotations

import contextlib
import re
import selectors
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from hil.instruments.scpi import block_extent, encode_block

Reply = str | bytes | None
Handler = Callable[[tuple[int, ...], str, bytes | None], Reply]

_SUFFIX = re.compile(r"(?<=[A-Z*])(\d+)(?=:|\?|$)")
MAX_LINE = 1 << 12
MAX_BLOCK = 64 << 20
QUEUE_LEN = 32


class ScpiCommandError(Exception):
    """Raised by a handler: queue the SCPI error ``code,"text"``."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f'{code},"{text}"')
        self.code = code
        self.text = text


@dataclass(slots=True)
class _Conn:
    sock: socket.socket
    buf: bytearray


class ScpiServer:
    """A threaded SCPI server; subclasses register handlers with :meth:`on`.

    Parameters
    ----------
    idn : str
        The ``*IDN?`` answer.
    port : int
        TCP port on 127.0.0.1 (0 = a free one; read :attr:`port` after :meth:`start`).
    """

    def __init__(self, idn: str, port: int = 0) -> None:
        self.idn = idn
        self._want_port = port
        self.port = 0
        self.errors: deque[tuple[int, str]] = deque()
        self.stop_event = threading.Event()
        self._handlers: dict[str, Handler] = {}
        self._plain: dict[str, Handler] = {}
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self.commands = 0
        self.on("*IDN?", lambda s, a, b: self.idn)
        self.on("*RST", lambda s, a, b: self.reset())
        self.on("*CLS", lambda s, a, b: self.errors.clear())
        self.on("*OPC?", lambda s, a, b: self.operation_complete())
        self.on("*OPC", lambda s, a, b: None)
        self.on("*WAI", lambda s, a, b: None)
        self.on("SYST:ERR?", lambda s, a, b: self._next_error())

    # -- subclass API -----------------------------------------------------------------------
    def on(self, header: str, handler: Handler) -> None:
        """Register ``handler(suffixes, argument_text, block)`` for a short-form header."""
        self._handlers[header.upper()] = handler
        if "#" in header:  # the suffix may be omitted: ``OUTP ON`` is ``OUTP1 ON``
            self._plain[header.upper().replace("#", "")] = handler

    def reset(self) -> None:
        """``*RST``: subclasses restore their defaults (and call this)."""
        self.errors.clear()

    def operation_complete(self) -> str:
        """``*OPC?``: subclasses may wait for a pending operation first."""
        return "1"

    def push_error(self, code: int, text: str) -> None:
        """Queue an error (the last entry becomes -350 when the queue is full)."""
        if len(self.errors) >= QUEUE_LEN:
            self.errors[-1] = (-350, "Queue overflow")
            return
        self.errors.append((code, text))

    def _next_error(self) -> str:
        if not self.errors:
            return '0,"No error"'
        code, text = self.errors.popleft()
        return f'{code},"{text}"'

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def resource(self) -> str:
        """The VISA resource string of this server."""
        return f"TCPIP::127.0.0.1::{self.port}::SOCKET"

    def start(self) -> Self:
        """Listen and serve in a thread; returns when the port is open."""
        if self._thread is not None:
            return self
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", self._want_port))
        lst.listen(4)
        lst.setblocking(False)
        self._listener = lst
        self.port = int(lst.getsockname()[1])
        self._wake_r, self._wake_w = socket.socketpair()
        self.stop_event.clear()
        self._thread = threading.Thread(target=self._serve, name=f"scpi-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop serving, close every socket, join the thread; safe to call twice."""
        self.stop_event.set()
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        for s in (self._listener, self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        self._listener = self._wake_r = self._wake_w = None

    @property
    def running(self) -> bool:
        """True while the server thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- the loop ---------------------------------------------------------------------------
    def _serve(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ, None)
        sel.register(self._wake_r, selectors.EVENT_READ, None)
        conns: dict[int, _Conn] = {}
        try:
            while not self.stop_event.is_set():
                for key, _ in sel.select():
                    sock = key.fileobj
                    if sock is self._wake_r:
                        return
                    if sock is self._listener:
                        with contextlib.suppress(BlockingIOError):
                            c, _ = self._listener.accept()
                            c.setblocking(True)
                            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                            conn = _Conn(c, bytearray())
                            conns[c.fileno()] = conn
                            sel.register(c, selectors.EVENT_READ, conn)
                        continue
                    conn = key.data
                    try:
                        data = conn.sock.recv(1 << 20)
                    except OSError:
                        data = b""
                    if not data:
                        sel.unregister(conn.sock)
                        conns.pop(conn.sock.fileno(), None)
                        conn.sock.close()
                        continue
                    conn.buf += data
                    if not self._drain(conn):
                        sel.unregister(conn.sock)
                        conns.pop(conn.sock.fileno(), None)
                        conn.sock.close()
        finally:
            for conn in conns.values():
                with contextlib.suppress(Exception):
                    sel.unregister(conn.sock)
                conn.sock.close()
            sel.close()

    def _drain(self, conn: _Conn) -> bool:
        """Execute every complete command in the buffer; False to drop the connection."""
        buf = conn.buf
        while buf:
            nl = buf.find(b"\n")
            hash_at = buf.find(b"#")
            if hash_at != -1 and (nl == -1 or hash_at < nl):
                try:
                    ext = block_extent(buf, hash_at)
                except Exception:
                    self.push_error(-161, "Invalid block data")
                    return False
                if ext is None:
                    return True
                off, n = ext
                if n > MAX_BLOCK:
                    self.push_error(-223, "Too much data")
                    return False
                end = off + n
                if len(buf) < end + 1:
                    return True
                head = bytes(buf[:hash_at]).decode("ascii", "replace").strip()
                block = bytes(buf[off:end])
                tail = end + 1 if buf[end:end + 1] == b"\n" else end
                del buf[:tail]
                self._execute(conn, head, block)
                continue
            if nl == -1:
                if len(buf) > MAX_LINE:
                    self.push_error(-112, "Program mnemonic too long")
                    buf.clear()
                return True
            line = bytes(buf[:nl]).decode("ascii", "replace").strip()
            del buf[: nl + 1]
            for part in line.split(";"):
                if part.strip():
                    self._execute(conn, part.strip(), None)
        return True

    def _execute(self, conn: _Conn, text: str, block: bytes | None) -> None:
        self.commands += 1
        header, _, arg = text.partition(" ")
        header = header.upper().lstrip(":")
        suffixes = tuple(int(m) for m in _SUFFIX.findall(header))
        pattern = _SUFFIX.sub("#", header)
        handler = self._handlers.get(pattern)
        if handler is None:
            handler = self._plain.get(pattern)
        if handler is None:
            self.push_error(-113, f"Undefined header; {header}")
            return
        try:
            reply = handler(suffixes, arg.strip(), block)
        except ScpiCommandError as err:
            self.push_error(err.code, err.text)
            return
        except (ValueError, IndexError) as err:
            self.push_error(-224, f"Illegal parameter value; {err}")
            return
        if reply is None:
            return
        out = encode_block(reply) + b"\n" if isinstance(reply, bytes) else (reply + "\n").encode()
        with contextlib.suppress(OSError):
            conn.sock.sendall(out)


def suffix(suffixes: tuple[int, ...], index: int = 0, default: int = 1) -> int:
    """The ``index``-th numeric suffix of a header, or ``default`` when absent."""
    return suffixes[index] if len(suffixes) > index else default


def parse_float(arg: str, name: str) -> float:
    """A numeric SCPI argument (also ``INF``); -224 when it is not a number."""
    a = arg.strip().upper()
    if a in ("INF", "INFINITY", "MAX"):
        return float("inf")
    try:
        return float(a)
    except ValueError:
        raise ScpiCommandError(-224, f"Illegal parameter value; {name} {arg!r}") from None


def parse_bool(arg: str, name: str) -> bool:
    """``ON``/``OFF``/``1``/``0``."""
    a = arg.strip().upper()
    if a in ("ON", "1"):
        return True
    if a in ("OFF", "0"):
        return False
    raise ScpiCommandError(-224, f"Illegal parameter value; {name} {arg!r}")
