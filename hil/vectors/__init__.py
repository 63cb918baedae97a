"""Open-loop test vectors: timed stimuli, expected device outputs, tolerance windows.

``format`` (the file, versions 1 and 2, reader and writer), ``patterns`` and ``probes`` (built-in
stimulus patterns), ``generate`` (expected outputs from the twin), ``importers`` (the Penn
pacemaker tester's ``.mat`` vectors, CSV), ``drivers`` (stimuli to a device as sense events or
samples), ``play`` (a session: prelude, anchor, re-anchoring), ``judge`` (the check),
``explain`` (rules and the twin's account), ``evidence`` (JSON, JUnit, HTML), ``command``
(``devicetwin vectors ...``). docs/vectors.md describes the file.
"""

from hil.vectors.drivers import Level, VectorPlayError
from hil.vectors.format import (
    Anchor,
    ExpectedPace,
    Stimulus,
    VectorFile,
    VectorFileError,
    parse_vectors,
    read_vectors,
    write_vectors,
)
from hil.vectors.generate import generate_vectors
from hil.vectors.play import VectorReport, run_vectors

__all__ = ["Anchor", "ExpectedPace", "Level", "Stimulus", "VectorFile", "VectorFileError",
           "VectorPlayError", "VectorReport", "generate_vectors", "parse_vectors",
           "read_vectors", "run_vectors", "write_vectors"]
