"""An in-process bench in simulated time: the reference model behind the instrument interfaces.

:class:`SimBench` implements the :class:`hil.instruments.interfaces.VisaBench` shape (an AWG, a
digitizer, a programmer) without sockets: the AWG's samples feed
:class:`devicetwin.pacemaker.PacemakerModel` at 1 kHz and its paces are drawn into the digitizer's
record as capacitor-coupled pulses into the load (leading edge = programmed amplitude, droop with
``tau_ms``, a small recharge tail, Gaussian noise, quantisation). Time only moves in
:meth:`SimBench.advance_s`, which the suite calls instead of sleeping (``simulated_time``).

It exists to dry-run and test the measurement suite quickly; the emulated instruments over VISA
(``hil.instruments``) and real ones take its place unchanged. Time base: record time 0 is the last
``awg.trigger()`` (on a real bench: the AWG's trigger output starts the digitizer's record).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from devicetwin.pacemaker import (
    PARAMETERS,
    BatteryState,
    DeviceState,
    MarkerKind,
    PacemakerModel,
    Programming,
)
from hil.instruments.interfaces import (
    AwgChannelSetup,
    ChannelSetup,
    DeviceProgrammer,
    Digitizer,
    FloatArray,
    PacemakerAnalyzer,
    SampleFormat,
    Slope,
    Waveform,
    WaveformGenerator,
)
from hil.measure.errors import BadSignalError

_MAGNET_ON = 3
_MAGNET_OFF = 4
_PERMANENT = 0


def programming_from_wire(params: Mapping[str, int] | Mapping[str | int, int]) -> Programming:
    """The Programming a full ``Programming.to_wire_units()`` dictionary stands for."""
    values: dict[str, Any] = {}
    by_wire = {spec.wire_name: spec for spec in PARAMETERS.values()}
    for key, wire in params.items():
        spec = by_wire.get(str(key))
        if spec is None:
            raise BadSignalError(
                f"unknown wire parameter {key!r}", name="params", value=key,
                expected="a wire name of PARAMETERS",
            )
        match = [v for v in spec.values if spec.to_wire(v) == wire]
        if not match:
            raise BadSignalError(
                f"{key} = {wire!r} is not on the parameter's grid", name=str(key), value=wire,
                expected=spec.allowed,
            )
        values[spec.name] = match[0]
    return Programming().replace(**values)


class _SimAwg:
    def __init__(self, bench: SimBench) -> None:
        self.resource = "SIM::AWG"
        self._bench = bench
        self.setups: dict[int, AwgChannelSetup] = {1: AwgChannelSetup(), 2: AwgChannelSetup()}
        self.waves: dict[int, FloatArray] = {}
        self.on: dict[int, bool] = {1: False, 2: False}

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def identify(self) -> str:
        return "devicetwin,SimAWG,0,1"

    def reset(self) -> None:
        self.waves.clear()

    def check_errors(self, command: str = "") -> None:
        return None

    def configure_channel(self, channel: int, setup: AwgChannelSetup) -> None:
        if setup.sample_rate_hz % 1000.0 != 0.0:
            raise BadSignalError(
                f"AWG rate {setup.sample_rate_hz!r} Hz: the simulated bench needs a multiple "
                "of 1 kHz", name="sample_rate_hz", value=setup.sample_rate_hz,
                expected="k * 1000 Hz",
            )
        self.setups[channel] = setup

    def load_waveform(
        self, channel: int, samples_v: FloatArray, fmt: SampleFormat = SampleFormat.FLOAT32
    ) -> None:
        self.waves[channel] = np.asarray(samples_v, dtype=np.float64).copy()

    def append_segment(self, channel: int, samples_v: FloatArray) -> None:
        old = self.waves.get(channel, np.zeros(0))
        self.waves[channel] = np.concatenate([old, np.asarray(samples_v, dtype=np.float64)])

    def output(self, channel: int, on: bool) -> None:
        self.on[channel] = on

    def trigger(self) -> None:
        self._bench.trigger_us = self._bench.now_us

    def queued_s(self, channel: int) -> float:
        wave = self.waves.get(channel)
        if wave is None:
            return 0.0
        total = wave.shape[0] / self.setups[channel].sample_rate_hz
        played = (self._bench.now_us - self._bench.trigger_us) / 1e6
        return float(max(total - played, 0.0))

    def position_s(self, channel: int) -> float:
        return (self._bench.now_us - self._bench.trigger_us) / 1e6

    def value_mv(self, channel: int, t_us: int) -> float:
        """The electrode's mV at device time ``t_us``."""
        wave = self.waves.get(channel)
        if wave is None or not self.on[channel]:
            return 0.0
        fs = self.setups[channel].sample_rate_hz
        k = (t_us - self._bench.trigger_us) * fs / 1e6
        i = round(k)
        if i < 0 or i >= wave.shape[0]:
            return 0.0
        return float(wave[i]) / self._bench.volts_per_mv


class _SimScope:
    def __init__(self, bench: SimBench) -> None:
        self.resource = "SIM::SCOPE"
        self._bench = bench
        self.rate_hz = 100_000.0
        self.setups: dict[int, ChannelSetup] = {1: ChannelSetup(), 2: ChannelSetup()}

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def identify(self) -> str:
        return "devicetwin,SimScope,0,1"

    def reset(self) -> None:
        return None

    def check_errors(self, command: str = "") -> None:
        return None

    def configure_channel(self, channel: int, setup: ChannelSetup) -> None:
        self.setups[channel] = setup

    def configure_timebase(self, sample_rate_hz: float) -> None:
        self.rate_hz = sample_rate_hz

    def configure_trigger(
        self, channel: int, level_v: float, slope: Slope = Slope.RISING, *, auto: bool = False
    ) -> None:
        return None

    def acquire(self, n_points: int, channel: int = 1, timeout_s: float = 5.0) -> Waveform:
        return self.fetch(n_points, channel)

    def record_time_s(self) -> float:
        return (self._bench.now_us - self._bench.trigger_us) / 1e6

    def fetch(self, n_points: int, channel: int = 1, start_s: float | None = None) -> Waveform:
        b = self._bench
        dt = 1.0 / self.rate_hz
        t0 = self.record_time_s() - n_points * dt if start_s is None else start_s
        t = t0 + dt * np.arange(n_points, dtype=np.float64)
        v = np.zeros(n_points, dtype=np.float64)
        kind = MarkerKind.AP if channel == 1 else MarkerKind.VP
        tau = b.tau_ms * 1e-3
        for ev in b.paces:
            if ev.kind is not kind:
                continue
            tp = (ev.t_us - b.trigger_us) / 1e6
            w = (ev.width_us or 0) / 1e6
            if tp + w + 10 * 2e-3 < t0 or tp > t[-1]:
                continue
            amp = (ev.amplitude_mv or 0) / 1000.0
            x = t - tp
            pulse = (x >= 0) & (x < w)
            v[pulse] -= amp * np.exp(-x[pulse] / tau)
            after = x >= w
            recharge = amp * (1.0 - math.exp(-w / tau)) * 0.5
            v[after] += recharge * np.exp(-(x[after] - w) / 2e-3)
        v += b.rng.normal(0.0, b.noise_v, n_points)
        setup = self.setups.get(channel, ChannelSetup())
        q = setup.range_v / 2**b.bits
        half = setup.range_v / 2
        v = np.clip(np.round(v / q) * q, -half, half - q)
        return Waveform(t0, dt, v, channel, q)


class _SimProgrammer:
    def __init__(self, bench: SimBench) -> None:
        self._bench = bench

    def program(self, params: dict[str | int, int]) -> None:
        b = self._bench
        b.model.reprogram(b.now_us, programming_from_wire(params))

    def set_state(self, command: int, mode: int = 0) -> None:
        b = self._bench
        if command == _MAGNET_ON:
            b.model.enter_state(b.now_us, DeviceState.MAGNET)
        elif command in (_MAGNET_OFF, _PERMANENT):
            b.model.enter_state(b.now_us, DeviceState.PERMANENT)
        else:
            raise BadSignalError(
                f"SET_STATE command {command!r} is not simulated", name="command",
                value=command, expected="0 (PERMANENT), 3 (MAGNET_ON) or 4 (MAGNET_OFF)",
            )

    def interrogate(self) -> dict[str, int]:
        return self._bench.model.programming.to_wire_units()


class SimBench:
    """The simulated bench (see the module docstring).

    Parameters
    ----------
    programming : Programming
        The device's initial permanent programming.
    seed : int
        Noise seed.
    noise_v : float
        Noise standard deviation on the digitizer, V.
    tau_ms : float
        Output capacitor droop time constant into the load, ms.
    bits : int
        Digitizer resolution, bits.
    battery : BatteryState
        Battery state (sets the magnet rate).
    """

    simulated_time = True
    load_ohm = 500.0
    volts_per_mv = 1e-3
    analyzer: PacemakerAnalyzer | None = None

    def __init__(self, programming: Programming, *, seed: int = 0, noise_v: float = 0.004,
                 tau_ms: float = 5.0, bits: int = 12,
                 battery: BatteryState = BatteryState.BOL) -> None:
        self.model = PacemakerModel(programming, battery=battery)
        self.now_us = 0
        self.trigger_us = 0
        self.rng = np.random.default_rng(seed)
        self.noise_v = noise_v
        self.tau_ms = tau_ms
        self.bits = bits
        self.paces: list[Any] = []
        self.sim_awg = _SimAwg(self)
        self.awg: WaveformGenerator = self.sim_awg
        self.scope: Digitizer = _SimScope(self)
        self.programmer: DeviceProgrammer | None = _SimProgrammer(self)

    def advance_s(self, seconds: float) -> None:
        """Run the device ``seconds`` of simulated time on the AWG's output."""
        n = math.ceil(seconds * 1000 - 1e-9)
        if n <= 0:
            return
        times = self.now_us + 1000 * np.arange(1, n + 1, dtype=np.int64)
        a = np.array([self.sim_awg.value_mv(1, int(t)) for t in times])
        v = np.array([self.sim_awg.value_mv(2, int(t)) for t in times])
        a_uv = np.clip(np.round(a * 1000), -32767, 32767).astype(np.int16)
        v_uv = np.clip(np.round(v * 1000), -32767, 32767).astype(np.int16)
        events = self.model.process_samples(int(times[0]), a_uv, v_uv)
        self.paces.extend(e for e in events if e.kind in (MarkerKind.AP, MarkerKind.VP))
        self.paces = [e for e in self.paces if e.t_us > self.now_us - 30_000_000]
        self.now_us = int(times[-1])

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> SimBench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
