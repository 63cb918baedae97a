"""Read back the records this project writes (formats 16, 24 and 32, one interleaved file).

The HTML report draws its strips from the record on disk, so a report can be made from a partial
run; tests read with the ``wfdb`` package instead, as an independent reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hil.recording.wfdb_writer import DIGITAL_MAX, RecordingError


@dataclass(frozen=True, slots=True)
class Record:
    """Signals in physical units, one column per signal, with the header's facts.

    ``start`` is the date and time of the first sample from the record line (None when the
    header gives none); ``comments`` are the header's comment lines without their ``#``.
    """

    fs_hz: float
    names: tuple[str, ...]
    units: tuple[str, ...]
    signals: npt.NDArray[np.float64]
    gains: tuple[float, ...] = ()
    fmt: int = 16
    start: datetime | None = None
    comments: tuple[str, ...] = ()

    def window(self, start_us: int, stop_us: int) -> tuple[int, npt.NDArray[np.float64]]:
        """Samples between two times: (index of the first sample, the rows)."""
        first = max(0, int(start_us * self.fs_hz // 1_000_000))
        last = min(len(self.signals), int(-(-stop_us * self.fs_hz // 1_000_000)))
        return first, self.signals[first:max(first, last)]


def _decode(raw: bytes, fmt: int, n_sig: int, n_samples: int) -> npt.NDArray[np.int64]:
    """Interleaved samples of format ``fmt``; a half-written trailing frame is dropped."""
    width = fmt // 8
    usable = min(n_samples, len(raw) // (width * n_sig))
    data = np.frombuffer(raw, dtype=np.uint8, count=usable * n_sig * width)
    if fmt == 24:
        b = data.reshape(-1, 3).astype(np.int64)
        values = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values)
    else:
        values = data.view("<i2" if fmt == 16 else "<i4").astype(np.int64)
    return values.reshape(usable, n_sig)


def _start(fields: list[str]) -> datetime | None:
    if len(fields) < 6:
        return None
    try:
        return datetime.strptime(f"{fields[4]} {fields[5]}", "%H:%M:%S %d/%m/%Y")
    except ValueError:
        return None


def read_record(directory: Path | str, record_name: str) -> Record:
    """Read ``<record_name>.hea`` and its signal file."""
    header = Path(directory) / f"{record_name}.hea"
    try:
        text = header.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as err:
        raise RecordingError(
            f"cannot read header {str(header)!r}: {err}", name="record",
            value=str(header), expected="a WFDB header written by devicetwin",
        ) from err
    all_lines = [ln for ln in text.splitlines() if ln.strip()]
    comments = tuple(ln.lstrip("#").strip() for ln in all_lines if ln.startswith("#"))
    lines = [ln for ln in all_lines if not ln.startswith("#")]
    first = lines[0].split()
    n_sig, fs, n_samples = int(first[1]), float(first[2]), int(first[3])
    names, units, gains = [], [], []
    dat_name = ""
    fmts = set()
    for line in lines[1 : 1 + n_sig]:
        fields = line.split()
        if not fields[1].isdigit() or int(fields[1]) not in DIGITAL_MAX:
            raise RecordingError(
                f"signal format {fields[1]!r} in {str(header)!r} is not supported",
                name="format", value=fields[1], expected=" or ".join(map(str, DIGITAL_MAX)),
            )
        fmts.add(int(fields[1]))
        dat_name = fields[0]
        gain_part, unit = fields[2].split("/", 1)
        gains.append(float(gain_part.split("(")[0]))
        units.append(unit)
        names.append(" ".join(fields[8:]))
    if len(fmts) != 1:
        raise RecordingError(
            f"signals of {str(header)!r} mix formats {sorted(fmts)}", name="format",
            value=sorted(fmts), expected="one format for the record's signal file",
        )
    fmt = fmts.pop()
    digital = _decode((Path(directory) / dat_name).read_bytes(), fmt, n_sig, n_samples)
    return Record(fs, tuple(names), tuple(units),
                  digital.astype(np.float64) / np.asarray(gains), tuple(gains), fmt,
                  _start(first), comments)
