"""Trial results on disk, written as they arrive: one Parquet part per finished batch.

A trial's folder holds ``manifest.json`` (the trial's fingerprint: a folder is resumed only by
the trial that started it), ``patients.parquet`` (the sampled population, one row per patient),
``results/part-*.parquet`` (per patient and arm, appended batch by batch) and, once every patient
has run, ``results.parquet`` (all of them, sorted). A part is written to a temporary name and
renamed into place, so a crash leaves whole parts or none; reading keeps the first row of each
(patient, arm), so a part written twice (a batch re-run after a fault whose first result did
arrive) duplicates nothing.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from devicetwin.outcomes import OUTCOME_NAMES
from hil.errors import ConfigError

#: The key of a result row.
KEY_COLUMNS: tuple[str, ...] = ("patient_id", "arm")
#: Every result row's columns: the key, every outcome measure (float, NaN for none), wall time.
RESULT_SCHEMA = pa.schema([("patient_id", pa.int64()), ("arm", pa.string()),
                          *[(n, pa.float64()) for n in OUTCOME_NAMES],
                          ("wall_s", pa.float64())])
TABLE_SUFFIXES: tuple[str, ...] = (".parquet", ".csv")


def write_table(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Rows (dicts with the same keys) to ``path``: Parquet or CSV by its suffix."""
    if path.suffix not in TABLE_SUFFIXES:
        raise ConfigError(f"output file {str(path)!r} must end in .parquet or .csv",
                          name="out", value=str(path), expected="a .parquet or .csv path",
                          source="--out")
    table = pa.Table.from_pylist([dict(r) for r in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    if path.suffix == ".csv":
        pacsv.write_csv(table, tmp)
    else:
        pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def read_table(path: Path) -> pa.Table:
    """A table written by :func:`write_table`."""
    return pacsv.read_csv(path) if path.suffix == ".csv" else pq.read_table(path)


def result_row(values: Mapping[str, Any]) -> dict[str, Any]:
    """A result row in :data:`RESULT_SCHEMA`'s columns (None -> NaN)."""
    row: dict[str, Any] = {"patient_id": int(values["patient_id"]), "arm": str(values["arm"])}
    for name in (*OUTCOME_NAMES, "wall_s"):
        v = values.get(name)
        row[name] = float("nan") if v is None else float(v)
    return row


class ResultStore:
    """The results folder of one trial (see the module docstring)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.parts_dir = out_dir / "results"

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / "manifest.json"

    def open(self, fingerprint: str, trial_name: str) -> None:
        """Create the folder, or check that it belongs to the same trial."""
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        if self.manifest_path.exists():
            try:
                found = json.loads(self.manifest_path.read_text()).get("fingerprint")
            except (OSError, ValueError):
                found = None
            if found != fingerprint:
                raise ConfigError(
                    f"{self.out_dir} holds results of another trial or of other settings "
                    f"(fingerprint {found!r}, this run {fingerprint!r}); choose another --out "
                    "folder or remove it", name="out", value=str(self.out_dir),
                    expected="an empty folder or one this trial started", source="--out")
            return
        self.manifest_path.write_text(json.dumps(
            {"trial": trial_name, "fingerprint": fingerprint}, indent=2) + "\n")

    def write_batch(self, rows: Sequence[Mapping[str, Any]]) -> Path | None:
        """One finished batch's rows as a new part (atomically)."""
        if not rows:
            return None
        table = pa.Table.from_pylist([result_row(r) for r in rows], schema=RESULT_SCHEMA)
        name = f"part-{uuid.uuid4().hex}.parquet"
        tmp = self.parts_dir / f".{name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, self.parts_dir / name)
        return self.parts_dir / name

    def read(self) -> pa.Table:
        """Every result row written so far, one per (patient, arm), sorted by patient and arm."""
        parts = sorted(self.parts_dir.glob("part-*.parquet"), key=lambda p: p.stat().st_mtime)
        if not parts:
            return RESULT_SCHEMA.empty_table()
        table = pa.concat_tables([pq.read_table(p, schema=RESULT_SCHEMA) for p in parts])
        ids = table.column("patient_id").to_numpy()
        arms = table.column("arm").to_pylist()
        seen: set[tuple[int, str]] = set()
        keep = np.zeros(len(ids), dtype=bool)
        for i, key in enumerate(zip(ids.tolist(), arms, strict=True)):
            if key not in seen:
                seen.add(key)
                keep[i] = True
        table = table.filter(pa.array(keep))
        return table.sort_by([("patient_id", "ascending"), ("arm", "ascending")])

    def done_keys(self) -> set[tuple[int, str]]:
        """The (patient, arm) pairs already written."""
        table = self.read()
        return set(zip(table.column("patient_id").to_pylist(),
                       table.column("arm").to_pylist(), strict=True))
