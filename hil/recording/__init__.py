"""Recordings: WFDB records written progressively, so an interrupted run stays readable."""

from hil.recording.wfdb_writer import (
    AnnotationWriter,
    RecordWriter,
    SignalSpec,
    WfdbLabel,
)

__all__ = ["AnnotationWriter", "RecordWriter", "SignalSpec", "WfdbLabel"]
