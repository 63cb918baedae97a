"""Build the C codec's host programs (tests, vector tool, fuzzer, echo peer) on demand.

Outputs go to ``firmware_bridge/c/build/`` and are rebuilt when a source or header is newer.
Used by the tests, the benchmark, and by anyone who needs the C codec on the host (the emulator
links the sources itself: ``CODEC_SOURCES``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from firmware_bridge.errors import BridgeError

C_DIR = Path(__file__).parent / "c"
BUILD_DIR = C_DIR / "build"
CODEC_SOURCES = (C_DIR / "fb_protocol.c", C_DIR / "fb_sha256.c")
HEADERS = (C_DIR / "fb_protocol.h", C_DIR / "fb_sha256.h")
WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


class BuildError(BridgeError):
    """A C program of the codec could not be compiled (missing compiler or a compile error)."""


def find_compiler(names: Sequence[str] = ("cc", "gcc", "clang")) -> str:
    """The first C compiler found on PATH."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise BuildError(f"no C compiler among {list(names)} on PATH",
                     expected="gcc or clang (Debian packages gcc / clang)")


def build_program(name: str, sources: Sequence[Path], *, compiler: str | None = None,
                  sanitize: bool = True, extra_flags: Sequence[str] = (),
                  opt: str = "-O1") -> Path:
    """Compile ``sources`` plus the codec into ``build/<name>`` unless it is up to date."""
    cc = compiler or find_compiler()
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    out = BUILD_DIR / name
    inputs = [*sources, *CODEC_SOURCES, *HEADERS]
    if out.exists() and all(out.stat().st_mtime >= p.stat().st_mtime for p in inputs):
        return out
    tmp = out.with_name(f"{name}.{os.getpid()}.tmp")  # concurrent builders never collide
    cmd = [cc, *WARNINGS, opt, "-g", f"-I{C_DIR}", *(SANITIZE if sanitize else ()),
           *extra_flags, *map(str, sources), *map(str, CODEC_SOURCES), "-o", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"compiling {name} failed:\n{proc.stderr[-4000:]}", sent=" ".join(cmd),
                         expected="a clean build with -Wall -Wextra -Werror")
    tmp.replace(out)
    return out


def build_echo(*, opt: str = "-O2") -> Path:
    """The bare byte echo (``c/tools/fb_echo.c``): the benchmark's floor for a pty round trip."""
    return build_program("fb_echo", [C_DIR / "tools" / "fb_echo.c"], sanitize=False, opt=opt)


def build_peer(*, sanitize: bool = True, opt: str = "-O1") -> Path:
    """The C echo peer (``c/tools/fb_peer.c``): a minimal device on stdin/stdout."""
    name = "fb_peer" + ("" if sanitize else "_fast")
    return build_program(name, [C_DIR / "tools" / "fb_peer.c"], sanitize=sanitize, opt=opt,
                         extra_flags=("-D_POSIX_C_SOURCE=200809L",))
