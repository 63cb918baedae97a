"""Read back the records this project writes (format 16, one interleaved file).

The HTML report draws its strips from the record on disk, so a report can be made from a partial
run; tests read with the ``wfdb`` package instead, as an independent reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hil.recording.wfdb_writer import RecordingError


@dataclass(frozen=True, slots=True)
class Record:
    """Signals in physical units, one column per signal."""

    fs_hz: float
    names: tuple[str, ...]
    units: tuple[str, ...]
    signals: npt.NDArray[np.float64]

    def window(self, start_us: int, stop_us: int) -> tuple[int, npt.NDArray[np.float64]]:
        """Samples between two times: (index of the first sample, the rows)."""
        first = max(0, int(start_us * self.fs_hz // 1_000_000))
        last = min(len(self.signals), int(-(-stop_us * self.fs_hz // 1_000_000)))
        return first, self.signals[first:max(first, last)]


def read_record(directory: Path | str, record_name: str) -> Record:
    """Read ``<record_name>.hea`` and its format-16 signal file."""
    header = Path(directory) / f"{record_name}.hea"
    try:
        lines = [ln for ln in header.read_text(encoding="ascii").splitlines() if ln.strip()]
    except OSError as err:
        raise RecordingError(
            f"cannot read header {str(header)!r}: {err.strerror}", name="record",
            value=str(header), expected="a WFDB header written by devicetwin",
        ) from err
    first = lines[0].split()
    n_sig, fs, n_samples = int(first[1]), float(first[2]), int(first[3])
    names, units, gains = [], [], []
    dat_name = ""
    for line in lines[1 : 1 + n_sig]:
        fields = line.split()
        if fields[1] != "16":
            raise RecordingError(
                f"signal format {fields[1]!r} in {str(header)!r} is not supported",
                name="format", value=fields[1], expected="16",
            )
        dat_name = fields[0]
        gain_part, unit = fields[2].split("/", 1)
        gains.append(float(gain_part.split("(")[0]))
        units.append(unit)
        names.append(" ".join(fields[8:]))
    raw = np.fromfile(Path(directory) / dat_name, dtype="<i2")
    usable = min(n_samples, len(raw) // n_sig)
    digital = raw[: usable * n_sig].reshape(usable, n_sig).astype(np.float64)
    return Record(fs, tuple(names), tuple(units), digital / np.asarray(gains))
