"""Progressive writers for WFDB records (PhysioNet's format), readable by the ``wfdb`` package.

Signals go to one interleaved ``.dat`` file in format 16 (16-bit, +-32.767 mV at 1 uV) or format 24
(24-bit, +-8.39 V at 1 uV: room for the largest pacing artefact); the ``.hea`` header is rewritten
atomically after each block so that it always describes exactly the samples already on disk, with
the record's start date and time and its comment lines (what was run; which samples, if any,
saturated). Annotation files
(MIT format) end with the end-of-file word after every flush; the next write overwrites it. A
run stopped at any point, by Ctrl-C or a crashed device, therefore leaves a record that
``wfdb.rdrecord`` and ``wfdb.rdann`` read up to the last flush. Files are flushed to the
operating system after each write (not fsync'd: a process crash loses nothing, a power cut may).
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from hil.errors import HilError

_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
#: Largest digital value per WFDB signal format; the most negative value is WFDB's "no sample".
DIGITAL_MAX = {16: 2**15 - 1, 24: 2**23 - 1, 32: 2**31 - 1}


class RecordingError(HilError):
    """A recording was asked to write something WFDB cannot hold."""


class WfdbLabel(enum.IntEnum):
    """The WFDB annotation codes this project writes (``ecgcodes.h`` numbering)."""

    NORMAL = 1  # N: a normal beat (heart ground truth, sinus-conducted ventricular activation)
    PVC = 5  # V: premature ventricular contraction
    APC = 8  # A: atrial premature beat
    ESCAPE = 14  # E: ventricular escape beat
    PACE = 12  # /: paced beat, or a pacemaker pace marker
    NOISE = 13  # ~: signal quality change (a noise marker)
    NOTE = 22  # ": a comment; the marker text is in aux_note
    PWAVE = 24  # p: P wave (atrial activation)


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """One recorded signal.

    Parameters
    ----------
    name:
        Description written in the header (``EGM_A``, ``EGM_V``, ``ECG_II``).
    units:
        Physical units, ``mV`` for every signal the bench records.
    gain_adu_per_unit:
        Digital units per physical unit: 1000 gives 1 uV resolution, over +-32.767 mV in
        format 16 and +-8388.607 mV in format 24.
    """

    name: str
    units: str = "mV"
    gain_adu_per_unit: float = 1000.0


def _check_name(kind: str, value: str) -> None:
    if not _NAME_RE.match(value):
        raise RecordingError(
            f"{kind} {value!r} is not a valid WFDB name; expected letters, digits and underscores",
            name=kind,
            value=value,
            expected="[A-Za-z0-9_]+",
        )


class RecordWriter:
    """Write a multi-signal WFDB record block by block.

    Parameters
    ----------
    directory:
        Where ``<record>.hea`` and ``<record>.dat`` are written (created if missing).
    record_name:
        The record name (letters, digits, underscores).
    fs_hz:
        Sampling frequency in hertz.
    signals:
        One :class:`SignalSpec` per column of the blocks given to :meth:`write`.
    fmt:
        WFDB signal format: 16, 24 or 32 (bits per sample, little-endian two's complement).
    comments:
        Header comment lines (ASCII, one line each), e.g. the scenario and programming hash.
    start:
        Date and time of the first sample, written in the header's record line (WFDB has no
        time zone: give UTC and say so in a comment).
    """

    def __init__(
        self, directory: Path | str, record_name: str, fs_hz: float, signals: list[SignalSpec],
        *, fmt: int = 16, comments: Sequence[str] = (), start: datetime | None = None,
    ) -> None:
        _check_name("record name", record_name)
        if fmt not in DIGITAL_MAX:
            raise RecordingError(
                f"WFDB signal format {fmt!r} is not supported; expected one of "
                f"{sorted(DIGITAL_MAX)}", name="fmt", value=fmt, expected=str(sorted(DIGITAL_MAX)),
            )
        for line in comments:
            if not line.isascii() or "\n" in line or "\r" in line:
                raise RecordingError(
                    f"header comment {line!r} must be one line of ASCII text", name="comments",
                    value=line, expected="one line of ASCII",
                )
        if not fs_hz > 0:
            raise RecordingError(
                f"sampling frequency {fs_hz!r} Hz must be positive",
                name="fs_hz", value=fs_hz, expected="> 0",
            )
        if not signals:
            raise RecordingError(
                "a record needs at least one signal", name="signals", value=signals,
                expected="one or more SignalSpec",
            )
        for spec in signals:
            if not spec.gain_adu_per_unit > 0:
                raise RecordingError(
                    f"signal {spec.name!r} has gain {spec.gain_adu_per_unit!r}; expected > 0",
                    name="gain_adu_per_unit", value=spec.gain_adu_per_unit, expected="> 0",
                )
            if any(c.isspace() for c in spec.units) or not spec.units:
                raise RecordingError(
                    f"signal {spec.name!r} has units {spec.units!r}; expected one word",
                    name="units", value=spec.units, expected="a non-empty word",
                )
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.record_name = record_name
        self.fs_hz = float(fs_hz)
        self.signals = list(signals)
        self.fmt = fmt
        self.comments = tuple(comments)
        self.start = start
        self._digital_max = DIGITAL_MAX[fmt]
        self._clipped = np.zeros(len(signals), dtype=np.int64)
        self._clipped_peak = np.zeros(len(signals), dtype=np.float64)
        self._gains = np.array([s.gain_adu_per_unit for s in signals], dtype=np.float64)
        self._n_samples = 0
        self._checksums = np.zeros(len(signals), dtype=np.int64)
        self._initial = np.zeros(len(signals), dtype=np.int64)
        self._dat: BinaryIO | None = open(self.dat_path, "wb")  # noqa: SIM115 (closed in close())
        self._write_header()

    @property
    def dat_path(self) -> Path:
        """Path of the signal file."""
        return self.directory / f"{self.record_name}.dat"

    @property
    def header_path(self) -> Path:
        """Path of the header file."""
        return self.directory / f"{self.record_name}.hea"

    @property
    def n_samples(self) -> int:
        """Samples per signal written so far."""
        return self._n_samples

    @property
    def clipped(self) -> dict[str, tuple[int, float]]:
        """Signals that saturated so far: ``{name: (samples, largest |value| in units)}``."""
        return {spec.name: (int(n), float(peak)) for spec, n, peak
                in zip(self.signals, self._clipped, self._clipped_peak, strict=True) if n}

    def write(self, block: npt.ArrayLike) -> None:
        """Append a block of shape ``(n_samples, n_signals)`` in physical units, then flush.

        Values beyond the digital range saturate (an amplifier's clipping), and the header says
        so in a comment with the count and the true largest value; NaN is rejected.
        """
        if self._dat is None:
            raise RecordingError(
                f"record {self.record_name!r} is closed", name="record", value=self.record_name,
                expected="an open record",
            )
        arr = np.asarray(block, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(self.signals):
            raise RecordingError(
                f"block shape {arr.shape} does not fit record {self.record_name!r}; expected "
                f"(n_samples, {len(self.signals)})",
                name="block", value=arr.shape, expected=f"(n, {len(self.signals)})",
            )
        if arr.shape[0] == 0:
            return
        if not np.all(np.isfinite(arr)):
            bad = float(arr[~np.isfinite(arr)][0])
            raise RecordingError(
                f"block contains {bad!r}; expected finite values", name="block", value=bad,
                expected="finite values",
            )
        digital = np.rint(arr * self._gains)
        over = np.abs(digital) > self._digital_max
        if over.any():
            self._clipped += over.sum(axis=0)
            peak = np.max(np.where(over, np.abs(arr), 0.0), axis=0)
            np.maximum(self._clipped_peak, peak, out=self._clipped_peak)
            np.clip(digital, -self._digital_max, self._digital_max, out=digital)
        samples = digital.astype(np.int64)
        if self._n_samples == 0:
            self._initial = samples[0].copy()
        self._checksums += samples.sum(axis=0, dtype=np.int64)
        self._dat.write(_encode(samples, self.fmt))
        self._dat.flush()
        self._n_samples += samples.shape[0]
        self._write_header()

    def _write_header(self) -> None:
        record_line = f"{self.record_name} {len(self.signals)} {self.fs_hz:g} {self._n_samples}"
        if self.start is not None:
            record_line += f" {self.start:%H:%M:%S} {self.start:%d/%m/%Y}"
        lines = [record_line]
        for i, spec in enumerate(self.signals):
            checksum = int(self._checksums[i]) & 0xFFFF
            if checksum >= 0x8000:
                checksum -= 0x10000
            lines.append(
                f"{self.dat_path.name} {self.fmt} {spec.gain_adu_per_unit:g}(0)/{spec.units} "
                f"{self.fmt} 0 {int(self._initial[i])} {checksum} 0 {spec.name}"
            )
        lines += [f"# {c}" for c in self.comments]
        for name, (n, peak) in self.clipped.items():
            spec = self.signals[[s.name for s in self.signals].index(name)]
            lines.append(f"# clipped {name}: {n} samples beyond +-"
                         f"{self._digital_max / spec.gain_adu_per_unit:g} {spec.units} "
                         f"(largest {peak:.3f} {spec.units})")
        tmp = self.header_path.with_suffix(".hea.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="ascii")
        os.replace(tmp, self.header_path)

    def close(self) -> None:
        """Finish the record (the files are complete after every write already)."""
        if self._dat is not None:
            self._dat.close()
            self._dat = None

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_SKIP, _NUM, _SUB, _CHN, _AUX = 59, 60, 61, 62, 63
_EOF = b"\x00\x00"


class AnnotationWriter:
    """Write one WFDB annotation file (MIT format) progressively.

    Annotations must come in non-decreasing sample order; each is written at once and the file
    always ends with the end-of-file word.

    Parameters
    ----------
    directory, record_name:
        The record the annotations belong to.
    extension:
        The annotator name, used as the file extension (``dev``, ``twin``, ``heart``).
    """

    def __init__(self, directory: Path | str, record_name: str, extension: str) -> None:
        _check_name("record name", record_name)
        _check_name("annotator", extension)
        self.path = Path(directory) / f"{record_name}.{extension}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f: BinaryIO | None = open(self.path, "w+b")  # noqa: SIM115 (closed in close())
        self._last_sample = 0
        self._count = 0
        self._f.write(_EOF)
        self._f.flush()

    @property
    def count(self) -> int:
        """Annotations written so far."""
        return self._count

    def add(self, sample: int, label: WfdbLabel, chan: int = 0, aux_note: str = "") -> None:
        """Append one annotation at ``sample`` (its sample number from the record's start)."""
        if self._f is None:
            raise RecordingError(
                f"annotation file {self.path.name!r} is closed", name="annotator",
                value=self.path.name, expected="an open annotation file",
            )
        if sample < self._last_sample:
            raise RecordingError(
                f"annotation at sample {sample} comes before the previous one at "
                f"{self._last_sample}; expected non-decreasing samples",
                name="sample", value=sample, expected=f">= {self._last_sample}",
            )
        if not 0 <= chan <= 255:
            raise RecordingError(
                f"annotation channel {chan} out of range; expected 0..255", name="chan",
                value=chan, expected="0..255",
            )
        if label == WfdbLabel.NOTE and sample == 0:
            raise RecordingError(
                "a NOTE annotation at sample 0 is reserved by WFDB for file definitions and "
                "readers drop it; expected a NOTE at sample >= 1 or another label",
                name="label", value=(sample, label.name), expected="NOTE at sample >= 1",
            )
        aux = aux_note.encode("ascii", errors="replace")
        if len(aux) > 255:
            raise RecordingError(
                f"aux note of {len(aux)} bytes is too long; expected at most 255",
                name="aux_note", value=aux_note, expected="<= 255 ASCII bytes",
            )
        out = bytearray()
        diff = sample - self._last_sample
        if diff > 1023:
            out += _word(_SKIP, 0)
            out += (diff >> 16 & 0xFFFF).to_bytes(2, "little")
            out += (diff & 0xFFFF).to_bytes(2, "little")
            diff = 0
        out += _word(int(label), diff)
        out += _word(_CHN, chan)
        if aux:
            out += _word(_AUX, len(aux))
            out += aux + (b"\x00" if len(aux) % 2 else b"")
        self._f.seek(-2, os.SEEK_END)
        self._f.write(bytes(out) + _EOF)
        self._f.flush()
        self._last_sample = sample
        self._count += 1

    def close(self) -> None:
        """Close the file (it is complete after every add already)."""
        if self._f is not None:
            self._f.close()
            self._f = None

    def __enter__(self) -> AnnotationWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _encode(samples: npt.NDArray[np.int64], fmt: int) -> bytes:
    """Interleaved samples as WFDB format ``fmt`` bytes (little-endian two's complement)."""
    if fmt == 16:
        return samples.astype("<i2").tobytes()
    if fmt == 32:
        return samples.astype("<i4").tobytes()
    # format 24: the low three bytes of each little-endian 32-bit value
    return samples.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()


def _word(code: int, value: int) -> bytes:
    """One 16-bit annotation word: 6-bit code, 10-bit value, little-endian."""
    return ((code << 10) | (value & 0x3FF)).to_bytes(2, "little")
