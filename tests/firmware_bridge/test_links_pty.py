"""A POSIX serial link (a pty here) reads and writes its descriptor directly: the timeout lives in
``poll`` (the port is not reconfigured per read), ``cancel_read`` still ends a wait, a dropped
peer is a LinkError, and bytes arrive whole and in order."""

from __future__ import annotations

import os
import termios
import time
import tty
from collections.abc import Iterator
from typing import Any

import pytest

from firmware_bridge.errors import LinkError
from firmware_bridge.links import SerialLink, open_link


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    """The master descriptor of a raw pty and its slave path (what a device URL names)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(slave)
        os.close(master)


def test_reads_with_changing_timeouts_leave_the_port_alone(
        pty_pair: tuple[int, str], monkeypatch: pytest.MonkeyPatch) -> None:
    master, path = pty_pair
    with open_link(path, timeout_s=1.0) as link:
        assert isinstance(link, SerialLink)
        calls: list[str] = []
        get, set_ = termios.tcgetattr, termios.tcsetattr

        def counting_get(fd: int) -> Any:
            calls.append("tcgetattr")
            return get(fd)

        def counting_set(fd: int, when: int, attrs: Any) -> None:
            calls.append("tcsetattr")
            set_(fd, when, attrs)

        monkeypatch.setattr(termios, "tcgetattr", counting_get)
        monkeypatch.setattr(termios, "tcsetattr", counting_set)
        for timeout_s in (0.0, 0.003, 0.002, 0.001):
            assert link.read(timeout_s) == b""
        os.write(master, b"\x01\x02\x00")
        assert link.read(0.5) == b"\x01\x02\x00"
        assert calls == []  # pyserial reconfigures the port (tcgetattr...) per new timeout
        assert link.stats.timeouts == 4 and link.stats.bytes_in == 3


def test_writes_arrive_whole(pty_pair: tuple[int, str]) -> None:
    master, path = pty_pair
    data = bytes(range(1, 256)) * 4 + b"\x00"
    with open_link(path, timeout_s=1.0) as link:
        link.write(data)
        got = b""
        while len(got) < len(data):
            got += os.read(master, 4096)
    assert got == data


def test_cancel_read_ends_a_wait(pty_pair: tuple[int, str]) -> None:
    _, path = pty_pair
    with open_link(path, timeout_s=5.0) as link:
        assert isinstance(link, SerialLink)
        link._port.cancel_read()  # pyserial's self-pipe, as another thread would use it
        t0 = time.monotonic()
        assert link.read(5.0) == b""
        assert time.monotonic() - t0 < 1.0


def test_a_dropped_peer_is_a_link_error() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    link = open_link(path, timeout_s=1.0)
    try:
        os.close(master)
        os.close(slave)
        with pytest.raises(LinkError):
            link.read(1.0)
    finally:
        link.close()
