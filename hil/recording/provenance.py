"""What a record and a report name to make a run reproducible: the scenario's and the
programming's SHA-256, and the comment lines a WFDB header carries."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime
from pathlib import Path

from devicetwin.pacemaker import Programming
from hil.scenarios import Scenario


def scenario_sha256(scenario: Scenario) -> tuple[str, str]:
    """The scenario's SHA-256 and what was hashed: the bytes of its file (``file``) when it came
    from one that is still there, else its canonical JSON form (``content``)."""
    source = scenario.source
    if source is not None and Path(source).is_file():
        return hashlib.sha256(Path(source).read_bytes()).hexdigest(), "file"
    plain = dataclasses.asdict(scenario)
    plain.pop("source", None)
    text = json.dumps(plain, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), "content"


def programming_sha256(programming: Programming) -> str:
    """SHA-256 of the programming as the wire carries it (every parameter, the mode included,
    as sorted ``name: integer`` JSON): equal hashes mean the same programming."""
    wire = programming.to_wire_units()
    text = json.dumps(wire, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def record_comments(scenario: Scenario, programming: Programming, start: datetime) -> list[str]:
    """Header comment lines of a run's record: scenario, its hash, seed, programming and start."""
    digest, of = scenario_sha256(scenario)
    return [
        f"scenario {scenario.name} sha256({of}) {digest}",
        f"seed {scenario.seed} condition {scenario.condition}",
        f"programming {programming.mode.name} sha256 {programming_sha256(programming)}"
        + (" device-defined" if programming.device_defined else ""),
        f"start {start.isoformat(timespec='seconds')} (UTC)",
    ]
