"""Fixtures of the firmware_bridge tests: the C codec's test driver, built with sanitizers."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from firmware_bridge import cbuild


class CTool:
    """The C codec's test driver (``c/tools/fb_tool.c``) built with ASan+UBSan, one process."""

    def __init__(self) -> None:
        exe = cbuild.build_program("fb_tool", [cbuild.C_DIR / "tools" / "fb_tool.c"])
        self.proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, line: str, until: str | None = None) -> list[str]:
        """Send one command; read one answer line, or lines up to one starting with ``until``."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            got = self.proc.stdout.readline()
            if not got:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"fb_tool died on {line[:80]!r}: {err}")
            lines.append(got.rstrip("\n"))
            if until is None or got.startswith(until):
                return lines

    def close(self) -> str:
        """Stop the tool; return what it wrote to stderr (sanitizer reports)."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        err = self.proc.stderr.read() if self.proc.stderr else ""
        if self.proc.stdout:
            self.proc.stdout.close()
        if self.proc.stderr:
            self.proc.stderr.close()
        assert self.proc.returncode == 0, f"fb_tool exit {self.proc.returncode}: {err}"
        return err


@pytest.fixture(scope="session")
def ctool() -> Iterator[CTool]:
    """One fb_tool process for the session; fails the test that closes it on sanitizer output."""
    tool = CTool()
    yield tool
    err = tool.close()
    assert "runtime error" not in err and "AddressSanitizer" not in err, err
