"""Open-loop test vectors: timed stimuli, expected device outputs, tolerance windows.

``format`` (the file, reader and writer), ``patterns`` (built-in stimulus patterns), ``generate``
(expected outputs from the twin), ``play`` (stimuli to a device as samples or sense events, and
the check), ``command`` (``devicetwin vectors ...``). docs/vectors.md describes the file.
"""

from hil.vectors.format import (
    ExpectedPace,
    Stimulus,
    VectorFile,
    VectorFileError,
    parse_vectors,
    read_vectors,
    write_vectors,
)
from hil.vectors.generate import generate_vectors
from hil.vectors.play import Level, VectorPlayError, VectorReport, run_vectors

__all__ = ["ExpectedPace", "Level", "Stimulus", "VectorFile", "VectorFileError",
           "VectorPlayError", "VectorReport", "generate_vectors", "parse_vectors",
           "read_vectors", "run_vectors", "write_vectors"]
