"""Fixtures of the session tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest


def _firmware_pids() -> list[int]:
    """Host firmware processes started by this test process (children with a pty UART)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"uart-fd" in cmd:
            out.append(int(d.name))
    return out


@pytest.fixture
def firmware_pids() -> Callable[[], list[int]]:
    """A function listing the emulated firmware processes this test started."""
    return _firmware_pids
