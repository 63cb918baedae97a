"""The run's WFDB record: signals, and three annotators (heart truth, device markers, twin).

Record sample ``i`` is the sample the device saw at session time ``i`` ms (sample 0 is the
pre-roll sample before the heart's first millisecond). Annotations are buffered and written in time
order once no earlier one can arrive (the heart decides a capture up to 15 ms after a pace; the
twin may predict a pace shortly after the device delivered one), and everything is flushed every
simulated second, so an interrupted run leaves a readable record up to its last second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from devicetwin.heart import Activation, Origin
from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, Programming
from hil.recording import AnnotationWriter, RecordWriter, SignalSpec, WfdbLabel
from hil.recording.provenance import record_comments
from hil.scenarios import Scenario

_FLUSH_SAMPLES = 1000
_LATE_US = 250_000  # how late an annotation may arrive behind the session clock

_MARKER_LABEL = {
    MarkerKind.AP: WfdbLabel.PACE, MarkerKind.VP: WfdbLabel.PACE,
    MarkerKind.AS: WfdbLabel.PWAVE, MarkerKind.AR: WfdbLabel.PWAVE, MarkerKind.AT: WfdbLabel.PWAVE,
    MarkerKind.VS: WfdbLabel.NORMAL, MarkerKind.VR: WfdbLabel.NORMAL, MarkerKind.PVC: WfdbLabel.PVC,
    MarkerKind.TN: WfdbLabel.NOISE,
}
_CHAN = {Chamber.A: 0, Chamber.V: 1, Chamber.X: 2}


def marker_note(event: MarkerEvent) -> str:
    """Marker text as on a programmer: kind, then flags in brackets."""
    text = event.kind.name
    if event.flags:
        names = [f.name or "" for f in type(event.flags) if f and f in event.flags]
        text += "[" + "|".join(names) + "]"
    return text


def _heart_label(event: Activation) -> tuple[WfdbLabel, str]:
    if event.origin is Origin.PACED:
        note = f"{event.site} {'captured' if event.captured else 'not captured'}"
        return WfdbLabel.PACE, note
    if event.chamber is Chamber.A:
        return (WfdbLabel.APC if event.origin is Origin.ECTOPIC else WfdbLabel.PWAVE,
                event.origin.value)
    label = {Origin.ECTOPIC: WfdbLabel.PVC, Origin.ESCAPE: WfdbLabel.ESCAPE}.get(
        event.origin, WfdbLabel.NORMAL)
    return label, event.origin.value


class _Annotator:
    def __init__(self, writer: AnnotationWriter) -> None:
        self.writer = writer
        self.pending: list[tuple[int, int, WfdbLabel, int, str]] = []
        self._order = 0

    def add(self, t_us: int, label: WfdbLabel, chan: int, note: str) -> None:
        self._order += 1
        self.pending.append((t_us, self._order, label, chan, note))

    def flush(self, upto_us: int | None) -> None:
        self.pending.sort()
        keep = []
        for t_us, order, label, chan, note in self.pending:
            if upto_us is not None and t_us > upto_us:
                keep.append((t_us, order, label, chan, note))
                continue
            sample = max(0, round(t_us / 1000))
            if label is WfdbLabel.NOTE:
                sample = max(1, sample)
            self.writer.add(sample, label, chan, note)
        self.pending = keep


#: The record's signal format: 24 bits hold +-8388 mV at 1 uV, so the largest pacing artefact
#: (7.0 V, the top of the amplitude range, seen whole on its own lead) is stored unclipped.
RECORD_FORMAT = 24


class SessionRecorder:
    """Record signals and annotations of one run under ``out_dir/record_name``.

    ``comments`` go into the header (``hil.recording.provenance.record_comments``) and ``start``
    (UTC) into its record line.
    """

    def __init__(self, out_dir: Path | str, record_name: str = "run", fs_hz: int = 1000, *,
                 comments: Sequence[str] = (), start: datetime | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.record_name = record_name
        specs = [SignalSpec("EGM_A"), SignalSpec("EGM_V"),
                 SignalSpec("ECG_II", gain_adu_per_unit=2000.0)]
        self.signals = RecordWriter(self.out_dir, record_name, fs_hz, specs, fmt=RECORD_FORMAT,
                                    comments=comments, start=start)
        self.heart = _Annotator(AnnotationWriter(self.out_dir, record_name, "heart"))
        self.device = _Annotator(AnnotationWriter(self.out_dir, record_name, "dev"))
        self.twin = _Annotator(AnnotationWriter(self.out_dir, record_name, "twin"))
        self._rows: list[npt.NDArray[np.float64]] = []
        self._buffered = 0

    @classmethod
    def for_run(cls, out_dir: Path | str, scenario: Scenario,
                programming: Programming) -> SessionRecorder:
        """The record of a run starting now: its header names the scenario (and hash), the seed,
        the programming's hash and the start date and time (UTC)."""
        start = datetime.now(UTC).replace(microsecond=0)
        return cls(out_dir, comments=record_comments(scenario, programming, start),
                   start=start.replace(tzinfo=None))

    @property
    def paths(self) -> list[Path]:
        """Every file of the record."""
        return [self.signals.header_path, self.signals.dat_path, self.heart.writer.path,
                self.device.writer.path, self.twin.writer.path]

    def samples(self, egm_a_mv: npt.ArrayLike, egm_v_mv: npt.ArrayLike,
                ecg_mv: npt.ArrayLike) -> None:
        """Append samples (mV) in session order."""
        block = np.column_stack([np.asarray(egm_a_mv, dtype=np.float64),
                                 np.asarray(egm_v_mv, dtype=np.float64),
                                 np.asarray(ecg_mv, dtype=np.float64)])
        self._rows.append(block)
        self._buffered += len(block)

    def device_events(self, events: Iterable[MarkerEvent]) -> None:
        """The device's markers."""
        for e in events:
            self.device.add(e.t_us, _MARKER_LABEL.get(e.kind, WfdbLabel.NOTE), _CHAN[e.chamber],
                            marker_note(e))

    def twin_events(self, events: Iterable[MarkerEvent]) -> None:
        """The twin's predicted markers."""
        for e in events:
            self.twin.add(e.t_us, _MARKER_LABEL.get(e.kind, WfdbLabel.NOTE), _CHAN[e.chamber],
                          marker_note(e))

    def heart_events(self, events: Iterable[Activation]) -> None:
        """The heart's ground truth."""
        for e in events:
            label, note = _heart_label(e)
            self.heart.add(e.t_us, label, _CHAN[e.chamber], note)

    def maybe_flush(self, now_us: int) -> None:
        """Flush when a second of samples is buffered."""
        if self._buffered >= _FLUSH_SAMPLES:
            self.flush(now_us - _LATE_US)

    def flush(self, upto_us: int | None = None) -> None:
        """Write buffered samples and the annotations up to ``upto_us`` (all when None)."""
        if self._rows:
            self.signals.write(np.vstack(self._rows))
            self._rows = []
            self._buffered = 0
        for ann in (self.heart, self.device, self.twin):
            ann.flush(upto_us)

    def remove(self) -> None:
        """Delete the (closed) record's files: for a run that stopped before its first sample."""
        for path in self.paths:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Write everything and close the files."""
        self.flush(None)
        self.signals.close()
        for ann in (self.heart, self.device, self.twin):
            ann.writer.close()
