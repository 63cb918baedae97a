"""Driver interfaces for bench instruments: one Protocol per kind of instrument.

A real VISA instrument and its emulator share one interface; only the resource string differs
(``TCPIP::192.168.1.20::5025::SOCKET`` for a real AWG, ``TCPIP::127.0.0.1::PORT::SOCKET`` for the
emulated one). Every driver is a plug with a lifecycle: ``open()``, configure, use, ``close()``
(closing twice is harmless); each is also a context manager. Drivers check ``SYST:ERR?`` after
configuration and raise :class:`hil.instruments.errors.InstrumentError` (a HilError) quoting the
command and the instrument's error text.

Units: volts (V), seconds (s), hertz (Hz), ohms; names carry the unit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class Coupling(enum.Enum):
    """Digitizer input coupling."""

    DC = "DC"
    AC = "AC"


class Slope(enum.Enum):
    """Trigger edge direction."""

    RISING = "POS"
    FALLING = "NEG"
    EITHER = "EITH"


class SampleFormat(enum.Enum):
    """Binary block sample format on the wire (IEEE 488.2 definite-length block)."""

    INT16 = "INT16"
    FLOAT32 = "REAL32"


@dataclass(frozen=True, slots=True)
class Waveform:
    """A scaled capture of one channel.

    Attributes
    ----------
    t0_s : float
        Time of the first sample relative to the trigger, s (negative = pre-trigger).
    dt_s : float
        Sample interval, s.
    volts : ndarray of float64
        Samples, V (already scaled from the raw codes with the ``WAV:PRE?`` preamble).
    channel : int
        Source channel (1-based).
    resolution_v : float
        One code step, V (the quantisation; the uncertainty of a single sample is half of it).
    record_t0_s : float or None
        Record time of the first sample, s since the bench's trigger (the AWG's ``*TRG``), when
        the instrument keeps a running record (the emulated one does); None otherwise.
    """

    t0_s: float
    dt_s: float
    volts: FloatArray
    channel: int
    resolution_v: float = 0.0
    record_t0_s: float | None = None

    @property
    def n_points(self) -> int:
        """Number of samples."""
        return int(self.volts.shape[0])

    @property
    def sample_rate_hz(self) -> float:
        """1 / dt_s, Hz."""
        return 1.0 / self.dt_s

    def times_s(self) -> FloatArray:
        """Sample times relative to the trigger, s."""
        return self.t0_s + self.dt_s * np.arange(self.n_points, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ChannelSetup:
    """A digitizer channel's settings.

    Attributes
    ----------
    range_v : float
        Full-scale span, V (the vertical scale is range_v / 10 per division).
    offset_v : float
        Vertical offset, V.
    coupling : Coupling
        DC or AC.
    impedance_ohm : float
        Input impedance, ohm (50 or 1e6).
    """

    range_v: float = 10.0
    offset_v: float = 0.0
    coupling: Coupling = Coupling.DC
    impedance_ohm: float = 1e6


@dataclass(frozen=True, slots=True)
class AwgChannelSetup:
    """An AWG channel's settings.

    Attributes
    ----------
    sample_rate_hz : float
        Arbitrary-waveform sample rate, Hz.
    amplitude_vpp : float
        Peak-to-peak amplitude the full-scale waveform maps to, V.
    offset_v : float
        DC offset, V.
    load_ohm : float
        Expected load, ohm (``inf`` = high impedance); sets how the programmed voltage is scaled.
    """

    sample_rate_hz: float = 1000.0
    amplitude_vpp: float = 2.0
    offset_v: float = 0.0
    load_ohm: float = float("inf")


@runtime_checkable
class Instrument(Protocol):
    """What every instrument plug can do."""

    resource: str

    def open(self) -> None:
        """Open the resource (connect); idempotent."""

    def close(self) -> None:
        """Close the resource; closing twice is harmless."""

    def identify(self) -> str:
        """The instrument's identity (``*IDN?`` or the analyzer's ``ID?``)."""

    def reset(self) -> None:
        """Reset to defaults and clear the error queue."""

    def check_errors(self, command: str = "") -> None:
        """Drain the error queue; raise InstrumentError naming ``command`` if any was queued."""


@runtime_checkable
class WaveformGenerator(Instrument, Protocol):
    """An arbitrary waveform generator (SCPI)."""

    def configure_channel(self, channel: int, setup: AwgChannelSetup) -> None:
        """Set sample rate (Hz), amplitude (Vpp), offset (V) and load (ohm); checks SYST:ERR?."""

    def load_waveform(
        self, channel: int, samples_v: FloatArray, fmt: SampleFormat = SampleFormat.FLOAT32
    ) -> None:
        """Load a waveform of volts (at the channel's sample rate) as one binary block
        (``DATA:ARB`` ``#<n><len><bytes>``), replacing the channel's waveform; checks SYST:ERR?."""

    def append_segment(self, channel: int, samples_v: FloatArray) -> None:
        """Stream: queue a further segment of volts to play after those already queued
        (``DATA:SEGM``); segments play back to back without a gap while output is on."""

    def output(self, channel: int, on: bool) -> None:
        """Output on/off (``OUTP<n> ON|OFF``)."""

    def trigger(self) -> None:
        """Start playback (``*TRG``)."""

    def queued_s(self, channel: int) -> float:
        """Seconds of queued, not yet played, samples on ``channel`` (for streaming pacing)."""

    def position_s(self, channel: int) -> float:
        """Playback time since the trigger, s (0 before ``trigger``)."""


@runtime_checkable
class Digitizer(Instrument, Protocol):
    """An oscilloscope / digitizer (SCPI)."""

    def configure_channel(self, channel: int, setup: ChannelSetup) -> None:
        """Range (V), offset (V), coupling, impedance; checks SYST:ERR?."""

    def configure_timebase(self, sample_rate_hz: float) -> None:
        """Sample rate, Hz."""

    def configure_trigger(
        self, channel: int, level_v: float, slope: Slope = Slope.RISING, *, auto: bool = False
    ) -> None:
        """Edge trigger on ``channel`` at ``level_v`` (V) with ``slope``; ``auto`` = free-run."""

    def acquire(self, n_points: int, channel: int = 1, timeout_s: float = 5.0) -> Waveform:
        """Arm, wait for the trigger (at most ``timeout_s``), and transfer ``n_points`` samples
        as a binary block scaled with the ``WAV:PRE?`` preamble."""

    def record_time_s(self) -> float:
        """Running record (roll mode): time of the latest complete sample, s since the bench's
        trigger (the AWG's ``*TRG``)."""

    def fetch(self, n_points: int, channel: int = 1, start_s: float | None = None) -> Waveform:
        """Running record: transfer ``n_points`` samples of ``channel`` starting at record time
        ``start_s`` (None = the latest ``n_points``) without arming; ``t0_s`` is the record time
        of the first sample."""


@runtime_checkable
class PacemakerAnalyzer(Instrument, Protocol):
    """A pacemaker analyzer speaking line ASCII ``CMD=value`` -> ``OK`` / data (RS-232)."""

    def command(self, line: str) -> str:
        """Send one line, return the reply line; ``ERR ...`` replies raise InstrumentError."""

    def set_load_ohm(self, load_ohm: float) -> None:
        """Test load, ohm (``LOAD=500``)."""

    def measure_rate_ppm(self) -> float:
        """Pacing rate, pulses per minute (``RATE?``)."""

    def measure_interval_ms(self) -> float:
        """Pacing interval, ms (``INTERVAL?``)."""

    def measure_amplitude_v(self) -> float:
        """Leading-edge pulse amplitude into the load, V (``AMPL?``)."""

    def measure_width_ms(self) -> float:
        """Pulse width, ms (``WIDTH?``)."""

    def measure_av_interval_ms(self) -> float:
        """Atrial-to-ventricular pace interval, ms (``AV?``)."""

    def demand_test(self, fraction: float) -> bool:
        """Drive at ``fraction`` of the measured rate (0.85 underdrive, 1.15 overdrive) and
        report whether the device paced (``DEMAND=0.85`` -> ``PACED`` / ``INHIBITED``)."""


@runtime_checkable
class DeviceProgrammer(Protocol):
    """The programmer's link to the device under test (firmware_bridge), shared safely with
    the emulated analog device: therapy commands are authenticated with the device key."""

    def program(self, params: dict[str | int, int]) -> None:
        """Send a (partial) programming: parameter name or id -> integer value in its unit."""

    def set_state(self, command: int, mode: int = 0) -> None:
        """SET_STATE (magnet on/off, temporary mode, ...; codes of docs/protocol.md 3.3)."""

    def interrogate(self) -> dict[str, int]:
        """The device's permanent programming, parameter name -> value."""


class VisaBench(Protocol):
    """An open bench: instruments and the programmer, closed together.

    Use ``with open_bench(...) as bench:``; leaving the block (normally or by an exception)
    closes every instrument and stops every emulator it started.

    Attributes
    ----------
    awg : WaveformGenerator
        Channel 1 drives the atrial lead input, channel 2 the ventricular one.
    scope : Digitizer
        Channel 1 across the atrial output's test load, channel 2 across the ventricular one.
    analyzer : PacemakerAnalyzer or None
    programmer : DeviceProgrammer or None
    resources : BenchResources
        The resource strings actually opened (emulated ones resolved to their loopback ports).
    load_ohm : float
        The test load the pulses are measured across, ohm (500).
    """

    @property
    def awg(self) -> WaveformGenerator:
        """The AWG."""

    @property
    def scope(self) -> Digitizer:
        """The digitizer."""

    @property
    def analyzer(self) -> PacemakerAnalyzer | None:
        """The analyzer, if the bench has one."""

    @property
    def programmer(self) -> DeviceProgrammer | None:
        """The programmer, if the bench has one."""

    @property
    def load_ohm(self) -> float:
        """The test load, ohm."""

    def close(self) -> None:
        """Close every instrument and stop the emulators; safe to call twice."""

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


@dataclass(frozen=True, slots=True)
class BenchResources:
    """Resource strings of a bench: the only thing that differs between real and emulated.

    ``None`` = that instrument is not part of the bench. ``"emulated"`` = start the emulator.
    ``device`` is the firmware's link (pyserial URL or VISA resource), or ``"emulated"``.
    """

    awg: str | None = "emulated"
    scope: str | None = "emulated"
    analyzer: str | None = None
    device: str | None = "emulated"
    extra: dict[str, str] = field(default_factory=dict)


#: The factory (implemented in :mod:`hil.instruments.bench`)::
#:
#:     open_bench(awg: str = "emulated", scope: str = "emulated", analyzer: str | None = None,
#:                device: str = "emulated", *, fault: str | None = None, seed: int = 0,
#:                key: bytes | None = None, timeout_s: float = 5.0) -> Bench
#:
#: Real instruments: ``awg="TCPIP::192.168.1.20::5025::SOCKET"``, ``scope="TCPIP::...::SOCKET"``,
#: ``analyzer="ASRL/dev/ttyUSB0::INSTR"`` (or a pty path), ``device`` = the programmer's
#: firmware_bridge URL. ``"emulated"`` starts the loopback emulators and the emulated analog
#: device with the host firmware (``fault`` = a seeded-fault variant, ``seed`` = noise seed).
