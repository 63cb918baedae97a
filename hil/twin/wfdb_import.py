"""Import a WFDB record (PhysioNet's format) as a de-identified session.

Reads any record the ``wfdb`` package reads (MIT-BIH's format 212 included) and the bench's own
records (``hil.recording``: EGM_A, EGM_V, ECG_II and the ``dev`` marker annotator; the
``manifest.json`` beside them gives the programming and the device serial). What passes is
listed in :mod:`devicetwin.twin.deidentify`: header comments, the record name, the base date
and time, non-lead signal names and free-text annotation notes are dropped.

Annotators: by default every ``<record>.<ext>`` file beside the header that ``wfdb`` reads as
annotations, except the bench's ``heart`` (the simulation's ground truth) and ``twin`` (the
reference model's prediction), which are not observations of a patient. An annotation whose
note is a marker code (``VP``, ``AS[...]``) becomes a device marker; a beat symbol a beat label;
a ``+`` with a rhythm code a rhythm note; anything else is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import wfdb

from devicetwin.pacemaker import PARAMETERS, Chamber, MarkerEvent, MarkerKind
from devicetwin.pacemaker.programming import value_to_plain
from devicetwin.twin import BeatLabel, RecordedSession, RhythmNote, SignalInfo
from devicetwin.twin.deidentify import (
    marker_note,
    pseudonym,
    rhythm_code,
    signal_name,
    signal_units,
)
from devicetwin.twin.session import BEAT_SYMBOLS
from hil.errors import ConfigError
from hil.twin.sources import hash_sources, new_salt, provenance, quiet_source_logs, session_id

#: Annotators the bench writes that are not observations of the patient.
NOT_OBSERVATIONS = ("heart", "twin")
_NOT_ANNOTATIONS = ("hea", "dat", "json", "xml", "html", "tmp", "csv", "txt", "npz", "mat")
_A_KINDS = (MarkerKind.AS, MarkerKind.AP, MarkerKind.AR, MarkerKind.AT)
_X_KINDS = (MarkerKind.ATR_DUR, MarkerKind.ATR_FB, MarkerKind.ATR_END, MarkerKind.PVARP_EXT)


@dataclass(frozen=True)
class ImportedSession:
    """A de-identified session and its waveforms (samples x signals, physical units)."""

    session: RecordedSession
    signals: npt.NDArray[np.float64] | None


def _record_base(path: Path | str) -> Path:
    p = Path(path)
    if p.is_dir():
        headers = sorted(p.glob("*.hea"))
        if len(headers) != 1:
            raise ConfigError(f"folder {str(p)!r} holds {len(headers)} WFDB headers; name the "
                              "record", name="record", value=str(path),
                              expected="a folder with one record, or the record's path",
                              source=str(path))
        p = headers[0]
    if p.suffix == ".hea":
        p = p.with_suffix("")
    if not p.with_suffix(".hea").is_file():
        raise ConfigError(f"no WFDB header {p.name + '.hea'!r} in {str(p.parent)!r}",
                          name="record", value=str(path),
                          expected="a WFDB record (path without extension, or its .hea)",
                          source=str(path))
    return p


def find_annotators(base: Path) -> list[str]:
    """Annotator extensions beside the record, minus :data:`NOT_OBSERVATIONS`."""
    out = []
    for f in sorted(base.parent.glob(base.name + ".*")):
        ext = f.name[len(base.name) + 1:]
        if not ext.isidentifier() or ext in _NOT_ANNOTATIONS or ext in NOT_OBSERVATIONS:
            continue
        out.append(ext)
    return out


def _chamber(kind: MarkerKind, chan: int) -> Chamber:
    if kind in _A_KINDS:
        return Chamber.A
    if kind in _X_KINDS:
        return Chamber.X
    if kind is MarkerKind.TN:
        return Chamber.A if chan == 0 else Chamber.V
    return Chamber.V


def _plain_programming(wire: dict[str, Any]) -> dict[str, Any]:
    """The programming of a bench manifest (wire units) in plain units: each value is the
    grid value whose wire form matches."""
    params: dict[str, Any] = {}
    mode = "DDD"
    for name, spec in PARAMETERS.items():
        if spec.wire_name not in wire:
            continue
        raw = wire[spec.wire_name]
        match = [v for v in spec.values if spec.to_wire(v) == raw]
        if not match:
            raise ConfigError(f"manifest programming {spec.wire_name} = {raw!r} is not on the "
                              f"grid of {name}", name=spec.wire_name, value=raw,
                              expected=spec.allowed, source="manifest.json")
        value = value_to_plain(match[0])
        if name == "mode":
            mode = str(value)
        else:
            params[name] = value
    return {"mode": mode, "parameters": params}


def import_wfdb(record: Path | str, *, salt: bytes | None = None,
                annotators: list[str] | None = None) -> ImportedSession:
    """Import the WFDB record at ``record`` (see :func:`read_wfdb`), with the logs of the
    libraries that read it quietened (:func:`hil.twin.sources.quiet_source_logs`)."""
    with quiet_source_logs():
        return read_wfdb(record, salt=salt, annotators=annotators)


def read_wfdb(record: Path | str, *, salt: bytes | None = None,
              annotators: list[str] | None = None) -> ImportedSession:
    """Import the WFDB record at ``record`` (a path without extension, its ``.hea``, or a
    folder holding one record, such as a bench run's output folder).

    ``salt`` makes device pseudonyms (a per-import random salt when None); ``annotators``
    chooses the annotation files (default: :func:`find_annotators`).
    """
    base = _record_base(record)
    try:
        header = wfdb.rdheader(str(base))
        rec = wfdb.rdrecord(str(base), physical=True)
    except Exception as err:  # wfdb raises bare ValueError/OSError/... on a bad record
        raise ConfigError(f"cannot read WFDB record: {type(err).__name__}", name="record",
                          value=base.name, expected="a record the wfdb package reads",
                          source=str(base)) from None
    fs_hz = float(header.fs)
    removed: list[str] = []
    n_comments = len(header.comments or [])
    if n_comments:
        removed.append(f"{n_comments} header comment line(s)")
    removed.append("record name")
    if header.base_date is not None or header.base_time is not None:
        removed.append("base date and time (times made relative to the record's start)")
    files = {"header": base.with_suffix(".hea")}
    for i, name in enumerate(sorted({str(f) for f in (header.file_name or [])})):
        files[f"signals{i if i else ''}"] = base.parent / name
    chosen = find_annotators(base) if annotators is None else list(annotators)
    signals = tuple(SignalInfo(signal_name(n, i), signal_units(u))
                    for i, (n, u) in enumerate(zip(header.sig_name, header.units, strict=True)))
    renamed = sum(s.name != n.strip() for s, n in zip(signals, header.sig_name, strict=True))
    if renamed:
        removed.append(f"{renamed} signal name(s) that are not lead names")
    n_samples = int(header.sig_len)
    duration_us = max(1, round(n_samples * 1e6 / fs_hz))
    markers: list[MarkerEvent] = []
    beats: list[BeatLabel] = []
    rhythms: list[RhythmNote] = []
    dropped = 0
    for ext in chosen:
        path = base.with_name(f"{base.name}.{ext}")
        if not path.is_file():
            raise ConfigError(f"no annotation file for annotator {ext!r}", name="annotator",
                              value=ext, expected="one of " + (", ".join(find_annotators(base))
                                                               or "(none found)"),
                              source=str(base))
        try:
            ann = wfdb.rdann(str(base), ext)
        except Exception as err:  # as above
            raise ConfigError(f"annotator {ext!r} is not a WFDB annotation file "
                              f"({type(err).__name__})", name="annotator", value=ext,
                              expected="a WFDB (MIT format) annotation file",
                              source=str(path)) from None
        files[f"annotations:{ext}"] = path
        notes = ann.aux_note or [""] * len(ann.sample)
        chans = ann.chan if ann.chan is not None else [0] * len(ann.sample)
        for sample, symbol, note, chan in zip(ann.sample, ann.symbol, notes, chans, strict=True):
            t_us = min(duration_us, max(0, round(int(sample) * 1e6 / fs_hz)))
            marker = marker_note(note or "")
            if marker is not None:
                kind, flags = marker
                markers.append(MarkerEvent(t_us, _chamber(kind, int(chan)), kind, flags=flags))
            elif symbol in BEAT_SYMBOLS:
                beats.append(BeatLabel(t_us, symbol))
            elif symbol == "+" and rhythm_code(note or "") is not None:
                rhythms.append(RhythmNote(t_us, str(rhythm_code(note or ""))))
            else:
                dropped += 1
    if dropped:
        removed.append(f"{dropped} annotation(s) that are neither markers, beats nor rhythms")
    serial_hash = None
    programming = None
    fmt = "wfdb"
    manifest = base.parent / "manifest.json"
    if "dev" in chosen and manifest.is_file():
        doc = json.loads(manifest.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("tool", {}).get("name") == "devicetwin":
            fmt = "bench"
            files["manifest"] = manifest
            serial = str(doc.get("device", {}).get("serial", "")).strip()
            if serial:
                serial_hash = pseudonym(serial, salt or new_salt())
                removed.append("device serial number (replaced by a salted hash)")
            if isinstance(doc.get("programming"), dict):
                programming = _plain_programming(doc["programming"])
            removed.append("manifest fields other than the programming and the serial")
    hashes = hash_sources(files)
    markers.sort(key=lambda m: m.t_us)
    beats.sort(key=lambda b: b.t_us)
    rhythms.sort(key=lambda r: r.t_us)
    session = RecordedSession(
        session_id=session_id(hashes), duration_us=duration_us, fs_hz=fs_hz, signals=signals,
        markers=tuple(markers), beats=tuple(beats), rhythms=tuple(rhythms),
        provenance=provenance(fmt, hashes, serial_hash, salt is not None, removed),
        programming=programming)
    data = None if rec.p_signal is None else np.asarray(rec.p_signal, dtype=np.float64)
    return ImportedSession(session, data)
