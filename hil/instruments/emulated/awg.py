"""The emulated arbitrary waveform generator: a SCPI server over an :class:`AnalogWorld`.

Command subset (short forms; ``#`` = channel 1 or 2, may be omitted for 1):
``SOUR#:FUNC ARB``, ``SOUR#:FUNC:ARB:SRAT <Hz>``, ``SOUR#:VOLT <Vpp>``, ``SOUR#:VOLT:OFFS <V>``,
``OUTP#:LOAD <ohm>|INF``, ``OUTP# ON|OFF`` (each also as a query), ``SOUR#:DATA:ARB <block>``
(little-endian float32, -1..1), ``SOUR#:DATA:ARB:DAC <block>`` (little-endian int16,
-32767..32767), ``SOUR#:DATA:SEGM <block>`` (float32; appends to the streaming queue),
``SOUR#:DATA:QUE?`` (queued s), ``SOUR#:DATA:POS?`` (played s), ``TRIG:SOUR BUS|IMM``, ``*TRG``,
``ABOR``. Voltages are programmed into ``OUTP#:LOAD`` behind a 50 ohm source, as bench AWGs do;
the emulated device's input is high impedance, so it sees ``V (R + 50) / R`` (twice the setting
for a 50 ohm setting, the setting itself for ``INF``).
"""

from __future__ import annotations

import math

import numpy as np

from hil.instruments.emulated.server import (
    ScpiCommandError,
    ScpiServer,
    parse_bool,
    parse_float,
    suffix,
)
from hil.instruments.emulated.world import AnalogWorld, AwgChannel

IDN = "devicetwin,EmulatedAWG,0001,1.0"
MAX_RATE_HZ = 250e6
MAX_VPP = 20.0
MAX_ARB_POINTS = 16 << 20
MAX_QUEUE_POINTS = 4 << 20  # 4,194,304 samples (70 min at 1 kHz) not yet played


class EmulatedAwg(ScpiServer):
    """Two-channel AWG on loopback."""

    def __init__(self, world: AnalogWorld, port: int = 0) -> None:
        super().__init__(IDN, port)
        self.world = world
        self.trigger_source = "BUS"
        on = self.on
        on("SOUR#:FUNC", lambda s, a, b: self._func(s, a))
        on("SOUR#:FUNC?", lambda s, a, b: "ARB")
        on("SOUR#:FUNC:ARB:SRAT", lambda s, a, b: self._set(s, "sample_rate_hz",
                                                            self._rate(a)))
        on("SOUR#:FUNC:ARB:SRAT?", lambda s, a, b: f"{self._ch(s).sample_rate_hz:.9g}")
        on("SOUR#:VOLT", lambda s, a, b: self._set(s, "amplitude_vpp", self._vpp(a)))
        on("SOUR#:VOLT?", lambda s, a, b: f"{self._ch(s).amplitude_vpp:.9g}")
        on("SOUR#:VOLT:OFFS", lambda s, a, b: self._set(s, "offset_v", self._offset(s, a)))
        on("SOUR#:VOLT:OFFS?", lambda s, a, b: f"{self._ch(s).offset_v:.9g}")
        on("OUTP#:LOAD", lambda s, a, b: self._set(s, "load_ohm", self._load(a)))
        on("OUTP#:LOAD?", lambda s, a, b: ("INF" if math.isinf(self._ch(s).load_ohm)
                                           else f"{self._ch(s).load_ohm:.9g}"))
        on("OUTP#", lambda s, a, b: self._set(s, "output", parse_bool(a, "OUTP")))
        on("OUTP#?", lambda s, a, b: "1" if self._ch(s).output else "0")
        on("SOUR#:DATA:ARB", lambda s, a, b: self._arb(s, b, np.float32))
        on("SOUR#:DATA:ARB:DAC", lambda s, a, b: self._arb(s, b, np.int16))
        on("SOUR#:DATA:SEGM", lambda s, a, b: self._segment(s, b))
        on("SOUR#:DATA:QUE?", lambda s, a, b: f"{self._queued_s(s):.9g}")
        on("SOUR#:DATA:POS?", lambda s, a, b: f"{self._position_s(s):.9g}")
        on("TRIG:SOUR", lambda s, a, b: self._trig_source(a))
        on("TRIG:SOUR?", lambda s, a, b: self.trigger_source)
        on("*TRG", lambda s, a, b: self.world.trigger())
        on("ABOR", lambda s, a, b: self.world.stop())

    def reset(self) -> None:
        super().reset()
        self.trigger_source = "BUS"
        with self.world.lock:
            self.world.stop()
            for c in self.world.awg:
                self.world.awg[c] = AwgChannel()

    # -- helpers --------------------------------------------------------------------------------
    def _ch(self, s: tuple[int, ...]) -> AwgChannel:
        c = suffix(s)
        if c not in self.world.awg:
            raise ScpiCommandError(-114, f"Header suffix out of range; channel {c}")
        return self.world.awg[c]

    def _set(self, s: tuple[int, ...], name: str, value: object) -> None:
        with self.world.lock:
            setattr(self._ch(s), name, value)

    def _func(self, s: tuple[int, ...], a: str) -> None:
        self._ch(s)
        if a.strip().upper() not in ("ARB", "ARBITRARY"):
            raise ScpiCommandError(-224, f"Illegal parameter value; FUNC {a!r} (only ARB)")

    @staticmethod
    def _rate(a: str) -> float:
        v = parse_float(a, "SRAT")
        if not 1.0 <= v <= MAX_RATE_HZ:
            raise ScpiCommandError(-222, f"Data out of range; SRAT {a}")
        return v

    @staticmethod
    def _vpp(a: str) -> float:
        v = parse_float(a, "VOLT")
        if not 1e-3 <= v <= MAX_VPP:
            raise ScpiCommandError(-222, f"Data out of range; VOLT {a}")
        return v

    def _offset(self, s: tuple[int, ...], a: str) -> float:
        v = parse_float(a, "VOLT:OFFS")
        if abs(v) + self._ch(s).amplitude_vpp / 2 > MAX_VPP / 2:
            raise ScpiCommandError(-222, f"Data out of range; VOLT:OFFS {a}")
        return v

    @staticmethod
    def _load(a: str) -> float:
        v = parse_float(a, "LOAD")
        if not v >= 1.0:
            raise ScpiCommandError(-222, f"Data out of range; LOAD {a}")
        return v

    def _trig_source(self, a: str) -> None:
        v = a.strip().upper()
        if v not in ("BUS", "IMM"):
            raise ScpiCommandError(-224, f"Illegal parameter value; TRIG:SOUR {a!r}")
        self.trigger_source = v

    @staticmethod
    def _samples(block: bytes | None, dtype: type[np.float32] | type[np.int16]) -> np.ndarray:
        if block is None:
            raise ScpiCommandError(-161, "Invalid block data; a binary block was expected")
        size = np.dtype(dtype).itemsize
        if len(block) % size or not block:
            raise ScpiCommandError(-161, f"Invalid block data; {len(block)} bytes is not a "
                                   f"whole number of {size}-byte samples")
        if len(block) // size > MAX_ARB_POINTS:
            raise ScpiCommandError(-223, "Too much data")
        if dtype is np.int16:
            codes = np.frombuffer(block, dtype="<i2")
            if codes.min() < -32767:
                raise ScpiCommandError(-222, "Data out of range; DAC code -32768")
            return codes.astype(np.float64) / 32767.0
        x = np.frombuffer(block, dtype="<f4").astype(np.float64)
        if not np.all(np.isfinite(x)) or np.abs(x).max() > 1.0 + 1e-6:
            raise ScpiCommandError(-222, "Data out of range; samples must lie in -1..1")
        return x

    def _arb(self, s: tuple[int, ...], block: bytes | None,
             dtype: type[np.float32] | type[np.int16]) -> None:
        x = self._samples(block, dtype)
        with self.world.lock:
            ch = self._ch(s)
            ch.arb = x.astype(np.float32)
            ch.streaming = False
            ch.reset_playback()

    def _segment(self, s: tuple[int, ...], block: bytes | None) -> None:
        x = self._samples(block, np.float32)
        with self.world.lock:
            ch = self._ch(s)
            if not ch.streaming:
                ch.streaming = True
                ch.reset_playback()
            if ch.pending.shape[0] + x.shape[0] > MAX_QUEUE_POINTS:
                raise ScpiCommandError(-223, f"Too much data; streaming queue full "
                                       f"({ch.pending.shape[0]} samples not played)")
            ch.pending = np.concatenate([ch.pending, x]) if ch.pending.shape[0] else x
            self.world.changed.notify_all()

    def _position_s(self, s: tuple[int, ...]) -> float:
        with self.world.lock:
            ch = self._ch(s)
            now = self.world.now_s()
            if ch.streaming:
                return float(min(now, (ch.base + ch.pending.shape[0]) / ch.sample_rate_hz))
            return now

    def _queued_s(self, s: tuple[int, ...]) -> float:
        with self.world.lock:
            ch = self._ch(s)
            if not ch.streaming:
                return 0.0
            total_s = (ch.base + ch.pending.shape[0]) / ch.sample_rate_hz
            return float(max(0.0, total_s - self.world.now_s()))
