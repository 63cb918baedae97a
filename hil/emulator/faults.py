"""The seeded faults of the reference firmware, read from ``hil/firmware/src/fw_faults.h``.

The C header is the single source: each ``FW_FAULT(NAME, "requirement", "what it does")`` line is
one build-time variant (``-DFAULT_NAME=1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hil.emulator.errors import UnknownFaultError

FIRMWARE_DIR = Path(__file__).resolve().parent.parent / "firmware"
FAULTS_HEADER = FIRMWARE_DIR / "src" / "fw_faults.h"

_LINE = re.compile(r'^\s*FW_FAULT\(([A-Z0-9_]+),\s*"([^"]*)",\s*"([^"]*)"\)')


@dataclass(frozen=True, slots=True)
class SeededFault:
    """One defect variant: its name, the requirement it breaks, and what it does."""

    name: str
    requirement: str
    description: str


def seeded_faults() -> tuple[SeededFault, ...]:
    """Every seeded fault, in the header's order."""
    out = []
    for line in FAULTS_HEADER.read_text(encoding="utf-8").splitlines():
        m = _LINE.match(line)
        if m:
            out.append(SeededFault(m.group(1), m.group(2), m.group(3)))
    return tuple(out)


def fault_names() -> tuple[str, ...]:
    """The names of every seeded fault."""
    return tuple(f.name for f in seeded_faults())


def check_fault(fault: str | None) -> str | None:
    """Return ``fault`` if it is None or a known name, else raise UnknownFaultError."""
    if fault is None:
        return None
    names = fault_names()
    if fault not in names:
        raise UnknownFaultError(
            f"unknown seeded fault {fault!r}",
            name="fault",
            value=fault,
            expected=f"None or one of {', '.join(names)}",
        )
    return fault
