"""SCPI driver for an arbitrary waveform generator (:class:`WaveformGenerator`)."""

from __future__ import annotations

import math

import numpy as np

from hil.instruments.errors import InstrumentError, WaveformRangeError
from hil.instruments.interfaces import AwgChannelSetup, FloatArray, SampleFormat
from hil.instruments.scpi import ScpiInstrument


class ScpiAwg(ScpiInstrument):
    """An AWG over VISA (Keysight 33500-style command subset, docs/instruments.md).

    Samples are given in volts; the driver normalises them with the channel's amplitude and
    offset (``(v - offset) / (Vpp / 2)`` must lie in -1..1, else WaveformRangeError) and sends
    one binary block.
    """

    def __init__(self, resource: str, timeout_s: float = 5.0) -> None:
        super().__init__(resource, timeout_s)
        self._setup: dict[int, AwgChannelSetup] = {}

    def reset(self) -> None:
        """``*RST`` and ``*CLS``, wait for completion, and forget the channel setups."""
        super().reset()
        self._setup.clear()

    # -- configuration -------------------------------------------------------------------------
    def configure_channel(self, channel: int, setup: AwgChannelSetup) -> None:
        """Arbitrary function, sample rate, amplitude, offset and load; checks SYST:ERR?."""
        load = "INF" if math.isinf(setup.load_ohm) else f"{setup.load_ohm:.9g}"
        cmds = [f"SOUR{channel}:FUNC ARB",
                f"SOUR{channel}:FUNC:ARB:SRAT {setup.sample_rate_hz:.9g}",
                f"OUTP{channel}:LOAD {load}",
                f"SOUR{channel}:VOLT {setup.amplitude_vpp:.9g}",
                f"SOUR{channel}:VOLT:OFFS {setup.offset_v:.9g}",
                "TRIG:SOUR BUS"]
        for c in cmds:
            self.io.write(c)
        self.io.check("; ".join(cmds))
        self._setup[channel] = setup

    def _normalise(self, channel: int, samples_v: FloatArray) -> FloatArray:
        setup = self._setup.get(channel)
        if setup is None:
            raise InstrumentError(f"{self.resource}: channel {channel} is not configured",
                                  name="channel", value=channel,
                                  expected="configure_channel() first")
        x = (np.asarray(samples_v, dtype=np.float64) - setup.offset_v) / (setup.amplitude_vpp / 2)
        if x.shape[0] == 0 or x.ndim != 1:
            raise WaveformRangeError(f"waveform of shape {x.shape}", name="samples_v",
                                     value=x.shape, expected="a non-empty 1-D array")
        peak = float(np.max(np.abs(x)))
        if not peak <= 1.0 + 1e-9:
            worst = float(np.asarray(samples_v)[int(np.argmax(np.abs(x)))])
            raise WaveformRangeError(
                f"sample {worst!r} V outside channel {channel}'s window "
                f"{setup.offset_v - setup.amplitude_vpp / 2:.6g}..."
                f"{setup.offset_v + setup.amplitude_vpp / 2:.6g} V", name="samples_v",
                value=worst, expected="volts within offset +- Vpp/2")
        return np.clip(x, -1.0, 1.0)

    def load_waveform(self, channel: int, samples_v: FloatArray,
                      fmt: SampleFormat = SampleFormat.FLOAT32) -> None:
        """Replace the channel's waveform with one binary block; checks SYST:ERR?."""
        x = self._normalise(channel, samples_v)
        if fmt is SampleFormat.INT16:
            cmd = f"SOUR{channel}:DATA:ARB:DAC"
            payload = np.rint(x * 32767.0).astype("<i2").tobytes()
        else:
            cmd = f"SOUR{channel}:DATA:ARB"
            payload = x.astype("<f4").tobytes()
        self.io.write_block(cmd, payload)
        self.io.check(f"{cmd} <{len(payload)}-byte block>")

    def append_segment(self, channel: int, samples_v: FloatArray, check: bool = True) -> None:
        """Queue a streamed segment (``DATA:SEGM``); ``check=False`` skips the error query (the
        real-time path checks once per second instead)."""
        x = self._normalise(channel, samples_v)
        cmd = f"SOUR{channel}:DATA:SEGM"
        self.io.write_block(cmd, x.astype("<f4").tobytes())
        if check:
            self.io.check(f"{cmd} <{x.shape[0]} samples>")

    def output(self, channel: int, on: bool) -> None:
        """Output on/off."""
        self.send(f"OUTP{channel} {'ON' if on else 'OFF'}")

    def trigger(self) -> None:
        """``*TRG``: start playback (and the scope's record, via the sync output)."""
        self.io.write("*TRG")

    def abort(self) -> None:
        """``ABOR``: stop playback."""
        self.io.write("ABOR")

    def queued_s(self, channel: int) -> float:
        """Streamed seconds not yet played."""
        return float(self.io.query(f"SOUR{channel}:DATA:QUE?"))

    def position_s(self, channel: int) -> float:
        """Seconds played since the trigger."""
        return float(self.io.query(f"SOUR{channel}:DATA:POS?"))
