"""Bench instruments over VISA: interfaces, SCPI drivers, emulated instruments, the bench plug.

``open_bench(awg=..., scope=..., analyzer=..., device=...)`` opens every instrument of a bench;
the emulated bench and a real one differ only in the resource strings (docs/instruments.md).
"""

from hil.instruments.analyzer import LineAnalyzer
from hil.instruments.awg import ScpiAwg
from hil.instruments.bench import Bench, open_bench
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
    BenchResources,
    ChannelSetup,
    Coupling,
    DeviceProgrammer,
    Digitizer,
    PacemakerAnalyzer,
    SampleFormat,
    Slope,
    VisaBench,
    Waveform,
    WaveformGenerator,
)
from hil.instruments.programmer import BridgeProgrammer
from hil.instruments.scope import ScpiDigitizer

__all__ = [
    "AcquisitionTimeoutError",
    "AnalyzerError",
    "AwgChannelSetup",
    "Bench",
    "BenchResources",
    "BlockFormatError",
    "BridgeProgrammer",
    "ChannelSetup",
    "Coupling",
    "DeviceProgrammer",
    "Digitizer",
    "InstrumentConnectionError",
    "InstrumentError",
    "InstrumentTimeoutError",
    "LineAnalyzer",
    "PacemakerAnalyzer",
    "SampleFormat",
    "ScpiAwg",
    "ScpiDigitizer",
    "Slope",
    "VisaBench",
    "Waveform",
    "WaveformGenerator",
    "WaveformRangeError",
    "open_bench",
]
