"""The run manifest: what ran, on what, with which inputs, and the SHA-256 of every artefact.

It is the traceable evidence record IEC 62304 asks of a verification tool: parameters, firmware
hash, seeds, verdicts, tool version, and hashes that prove the artefacts were not changed since.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devicetwin import __version__

MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(
    out_dir: Path | str,
    content: Mapping[str, Any],
    artefacts: Iterable[Path | str],
) -> Path:
    """Write ``manifest.json`` in ``out_dir``: ``content`` plus tool facts and artefact hashes.

    ``content`` holds the run's own facts (scenario, programming, device identity, seeds,
    verdicts). Artefacts are paths inside ``out_dir`` or paths relative to it; they are stored
    relative to ``out_dir``.
    """
    out = Path(out_dir)
    base = out.resolve()
    files = {}
    for artefact in sorted(Path(a) for a in artefacts):
        # a path inside out_dir (absolute, or relative to the working folder), else one
        # already relative to out_dir
        here = artefact.resolve()
        rel = here.relative_to(base) if here.is_relative_to(base) else artefact
        files[str(rel)] = {
            "sha256": sha256_file(out / rel),
            "bytes": (out / rel).stat().st_size,
        }
    doc = {
        "tool": {
            "name": "devicetwin",
            "version": __version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "written_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        **content,
        "artefacts": files,
    }
    path = out / MANIFEST_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n")
    tmp.replace(path)
    return path


def verify_manifest(out_dir: Path | str) -> list[str]:
    """Artefacts whose hash no longer matches the manifest (empty when all match)."""
    out = Path(out_dir)
    doc = json.loads((out / MANIFEST_NAME).read_text())
    bad = []
    for rel, facts in doc["artefacts"].items():
        path = out / rel
        if not path.exists() or sha256_file(path) != facts["sha256"]:
            bad.append(rel)
    return bad
