"""Bench instruments over VISA: interfaces, SCPI drivers, emulated instruments, the bench plug.

``open_bench(awg=..., scope=..., analyzer=..., device=...)`` opens every instrument of a bench;
the emulated bench and a real one differ only in the resource strings (docs/instruments.md).
"""

from hil.instruments.errors import (
    AcquisitionTimeoutError,
    AnalyzerError,
    BlockFormatError,
    InstrumentConnectionError,
    InstrumentError,
    InstrumentTimeoutError,
    WaveformRangeError,
)
from hil.instruments.interfaces import (
    AwgChannelSetup,
    ChannelSetup,
    Coupling,
    Digitizer,
    PacemakerAnalyzer,
    SampleFormat,
    Slope,
    Waveform,
    WaveformGenerator,
)

__all__ = [
    "AcquisitionTimeoutError",
    "AnalyzerError",
    "AwgChannelSetup",
    "BlockFormatError",
    "ChannelSetup",
    "Coupling",
    "Digitizer",
    "InstrumentConnectionError",
    "InstrumentError",
    "InstrumentTimeoutError",
    "PacemakerAnalyzer",
    "SampleFormat",
    "Slope",
    "Waveform",
    "WaveformGenerator",
    "WaveformRangeError",
]
