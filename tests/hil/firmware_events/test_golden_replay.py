"""The C device (lock-step build) replays the golden exchanges of the event-level protocol
(``firmware_bridge/vectors/event_golden.json``) over its pseudo-terminal, byte for byte; its
identity hash is the SHA-256 the Makefile documents; the lines it must ignore are counted."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.links import Link, open_link
from hil.emulator.event_device import EVENT_FIRMWARE_DIR, start_event_device

ROOT = Path(__file__).resolve().parents[3]
DOC: dict[str, Any] = json.loads(
    (ROOT / "firmware_bridge" / "vectors" / "event_golden.json").read_text())
EXCHANGES: list[dict[str, Any]] = DOC["exchanges"]
_HASH = re.compile(r"hash=[0-9a-f]{64}")

pytestmark = pytest.mark.needs_tools("gcc", "make")


def read_lines(link: Link, n: int, timeout_s: float = 5.0) -> list[str]:
    """The next ``n`` lines from the device (fewer if it falls silent for ``timeout_s``)."""
    buf = b""
    deadline = time.monotonic() + timeout_s
    while buf.count(b"\n") < n and time.monotonic() < deadline:
        buf += link.read(deadline - time.monotonic())
    return buf.decode("ascii").splitlines()


def source_hash(build: str, variant: str) -> str:
    """docs/firmware_events.md "Identity": SHA-256 of the sources (with the shared POSIX host
    files of ``hil/posix_host``) in byte order of their paths relative to the firmware folder,
    then the Makefile, then ``<build> <variant>\\n``."""
    d = EVENT_FIRMWARE_DIR
    shared = ["../posix_host/posix_host.c", "../posix_host/posix_host.h"]
    files = sorted([*(str(p.relative_to(d)) for pattern in ("src/*.c", "src/*.h", "hal/host/*.c",
                                                             "hal/host/*.h")
                      for p in d.glob(pattern)), *shared])
    h = hashlib.sha256()
    for name in [*files, "Makefile"]:
        h.update((d / name).read_bytes())
    h.update(f"{build} {variant}\n".encode())
    return h.hexdigest()


@pytest.mark.parametrize("x", EXCHANGES, ids=[x["name"] for x in EXCHANGES])
def test_c_device_replays_the_exchange(x: dict[str, Any]) -> None:
    with start_event_device(programming_args=x["device_args"]) as dev, \
            open_link(dev.url, timeout_s=5.0) as link:
        for step in x["steps"]:
            link.write("".join(f"{line}\n" for line in step["send"]).encode("ascii"))
            got = read_lines(link, len(step["expect"]))
            if x.get("any_hash"):
                got = [_HASH.sub(f"hash={DOC['hash_placeholder']}", line) for line in got]
            assert got == step["expect"], (step["send"], dev.console_output())
        assert link.read(0.05) == b""  # nothing after the last answer
        dev.check()
        if x["name"] == "bad_lines_ignored":
            console = dev.console_output()
            assert console.count("bad line ignored") == 3
            assert "'A 01'" in console and "'X 5'" in console and "'P V 5'" in console
            assert console.count("time went back") == 1


@pytest.mark.parametrize("fault", [None, "ESCAPE_5MS_SHORT"])
def test_identity_hash_is_the_documented_source_hash(fault: str | None) -> None:
    with start_event_device(fault) as dev, open_link(dev.url, timeout_s=5.0) as link:
        link.write(b"R\n")
        ident, end = read_lines(link, 2)
    assert end == "."
    want = source_hash("lockstep", fault or "clean")
    assert ident == f"I name=devicetwin-ev version=1.0.0 hash={want} caps=stop"
    assert want != source_hash("lockstep", "clean" if fault else "ESCAPE_5MS_SHORT")
