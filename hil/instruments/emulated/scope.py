"""The emulated oscilloscope / digitizer: a SCPI server over an :class:`AnalogWorld`.

Command subset (short forms; ``#`` = channel 1 or 2): ``ACQ:SRAT <Hz>``, ``ACQ:POIN <n>``,
``ACQ:TOUT <s>`` (how long ``*OPC?`` waits for a trigger), ``CHAN#:SCAL <V/div>`` (10 divisions),
``CHAN#:OFFS <V>``, ``CHAN#:COUP DC|AC``, ``CHAN#:IMP <ohm>``, ``CHAN#:DISP ON|OFF``,
``TRIG:SOUR CHAN#``, ``TRIG:LEV <V>``, ``TRIG:SLOP POS|NEG|EITH``, ``TRIG:SWE NORM|AUTO``
(each also as a query), ``SING`` (arm; ``*OPC?`` answers when the record is complete, or after
``ACQ:TOUT`` with error -214 queued), ``ACQ:TIME?`` (record time of the latest complete sample,
s), ``WAV:SOUR CHAN#``, ``WAV:FORM WORD``, ``WAV:RANG <t0 s>,<n>`` (select ``n`` samples of the
running record from ``t0``, roll mode; waits up to ``ACQ:TOUT`` for the record to reach
them), ``WAV:PRE?``, ``WAV:DATA?`` (little-endian int16
block), ``WAV:TREC?`` (record time of the record's first sample, s).

``WAV:PRE?`` answers ``format,type,points,count,xinc,xorig,xref,yinc,yorig,yref`` (format 1 =
WORD); volts = (code - yref) yinc + yorig, time of sample i = (i - xref) xinc + xorig relative
to the trigger (roll mode: relative to record time 0). The vertical
resolution is ``10 SCAL / 65536``; codes clip at the int16 range. A triggered record holds 10 %
pre-trigger samples.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hil.instruments.emulated.server import (
    ScpiCommandError,
    ScpiServer,
    parse_bool,
    parse_float,
    suffix,
)
from hil.instruments.emulated.world import AnalogWorld

IDN = "devicetwin,EmulatedScope,0001,1.0"
MAX_POINTS = 16 << 20
PRETRIGGER = 0.1
CHUNK = 1 << 16


@dataclass
class ScopeChannel:
    """One input's settings."""

    scale_v: float = 1.0
    offset_v: float = 0.0
    coupling: str = "DC"
    impedance_ohm: float = 1e6
    display: bool = True

    @property
    def yinc(self) -> float:
        """Volts per code."""
        return 10.0 * self.scale_v / 65536.0


class EmulatedScope(ScpiServer):
    """Two-channel digitizer on loopback."""

    def __init__(self, world: AnalogWorld, port: int = 0) -> None:
        super().__init__(IDN, port)
        self.world = world
        self._defaults()
        on = self.on
        on("ACQ:SRAT", lambda s, a, b: self._set_rate(a))
        on("ACQ:SRAT?", lambda s, a, b: f"{self.sample_rate_hz:.9g}")
        on("ACQ:POIN", lambda s, a, b: self._set_points(a))
        on("ACQ:POIN?", lambda s, a, b: str(self.points))
        on("ACQ:TOUT", lambda s, a, b: setattr(self, "timeout_s", self._positive(a, "TOUT")))
        on("ACQ:TIME?", lambda s, a, b: f"{self.world.complete_s():.9f}")
        on("CHAN#:SCAL", lambda s, a, b: setattr(self._ch(s), "scale_v",
                                                 self._positive(a, "SCAL")))
        on("CHAN#:SCAL?", lambda s, a, b: f"{self._ch(s).scale_v:.9g}")
        on("CHAN#:OFFS", lambda s, a, b: setattr(self._ch(s), "offset_v",
                                                 parse_float(a, "OFFS")))
        on("CHAN#:OFFS?", lambda s, a, b: f"{self._ch(s).offset_v:.9g}")
        on("CHAN#:COUP", lambda s, a, b: setattr(self._ch(s), "coupling",
                                                 self._choice(a, ("DC", "AC"), "COUP")))
        on("CHAN#:COUP?", lambda s, a, b: self._ch(s).coupling)
        on("CHAN#:IMP", lambda s, a, b: setattr(self._ch(s), "impedance_ohm",
                                                self._positive(a, "IMP")))
        on("CHAN#:IMP?", lambda s, a, b: f"{self._ch(s).impedance_ohm:.9g}")
        on("CHAN#:DISP", lambda s, a, b: setattr(self._ch(s), "display", parse_bool(a, "DISP")))
        on("CHAN#:DISP?", lambda s, a, b: "1" if self._ch(s).display else "0")
        on("TRIG:SOUR", lambda s, a, b: setattr(self, "trig_source", self._source(a)))
        on("TRIG:SOUR?", lambda s, a, b: f"CHAN{self.trig_source}")
        on("TRIG:LEV", lambda s, a, b: setattr(self, "trig_level_v", parse_float(a, "LEV")))
        on("TRIG:LEV?", lambda s, a, b: f"{self.trig_level_v:.9g}")
        on("TRIG:SLOP", lambda s, a, b: setattr(self, "trig_slope",
                                                self._choice(a, ("POS", "NEG", "EITH"), "SLOP")))
        on("TRIG:SLOP?", lambda s, a, b: self.trig_slope)
        on("TRIG:SWE", lambda s, a, b: setattr(self, "sweep",
                                               self._choice(a, ("NORM", "AUTO"), "SWE")))
        on("TRIG:SWE?", lambda s, a, b: self.sweep)
        on("SING", lambda s, a, b: self._arm())
        on("WAV:SOUR", lambda s, a, b: setattr(self, "wav_source", self._source(a)))
        on("WAV:SOUR?", lambda s, a, b: f"CHAN{self.wav_source}")
        on("WAV:FORM", lambda s, a, b: self._choice(a, ("WORD",), "FORM") and None)
        on("WAV:FORM?", lambda s, a, b: "WORD")
        on("WAV:RANG", lambda s, a, b: self._range(a))
        on("WAV:PRE?", lambda s, a, b: self._preamble())
        on("WAV:TREC?", lambda s, a, b: self._record_time())
        on("WAV:DATA?", lambda s, a, b: self._data())

    def _defaults(self) -> None:
        self.sample_rate_hz = 100e3
        self.points = 10_000
        self.timeout_s = 10.0
        self.channels = {1: ScopeChannel(), 2: ScopeChannel()}
        self.trig_source = 1
        self.trig_level_v = 0.5
        self.trig_slope = "POS"
        self.sweep = "NORM"
        self.wav_source = 1
        self._armed_at: float | None = None
        self._record_t0: float | None = None
        self._record_pre = 0.0  # first sample - trigger, s (roll mode: trigger = record 0)
        self._record_rate = self.sample_rate_hz
        self._record_n = 0
        self._cache: dict[int, npt.NDArray[np.int16]] = {}

    def reset(self) -> None:
        super().reset()
        self._defaults()

    # -- parsing helpers ----------------------------------------------------------------------
    def _ch(self, s: tuple[int, ...]) -> ScopeChannel:
        c = suffix(s)
        if c not in self.channels:
            raise ScpiCommandError(-114, f"Header suffix out of range; channel {c}")
        return self.channels[c]

    @staticmethod
    def _positive(a: str, name: str) -> float:
        v = parse_float(a, name)
        if not (v > 0 and math.isfinite(v)):
            raise ScpiCommandError(-222, f"Data out of range; {name} {a}")
        return v

    @staticmethod
    def _choice(a: str, allowed: tuple[str, ...], name: str) -> str:
        v = a.strip().upper()
        for c in allowed:
            if v.startswith(c):
                return c
        raise ScpiCommandError(-224, f"Illegal parameter value; {name} {a!r}")

    def _source(self, a: str) -> int:
        v = a.strip().upper()
        if not v.startswith("CHAN") or not v[4:].isdigit() or int(v[4:]) not in self.channels:
            raise ScpiCommandError(-224, f"Illegal parameter value; source {a!r}")
        return int(v[4:])

    def _set_rate(self, a: str) -> None:
        v = self._positive(a, "SRAT")
        if v > 10e9:
            raise ScpiCommandError(-222, f"Data out of range; SRAT {a}")
        self.sample_rate_hz = v

    def _set_points(self, a: str) -> None:
        v = parse_float(a, "POIN")
        if not (1 <= v <= MAX_POINTS and v == int(v)):
            raise ScpiCommandError(-222, f"Data out of range; POIN {a}")
        self.points = int(v)

    # -- acquisition ------------------------------------------------------------------------
    def _arm(self) -> None:
        self._armed_at = self.world.complete_s()
        self._cache = {}
        self._record_t0 = None

    def operation_complete(self) -> str:
        if self._armed_at is not None:
            self._acquire()
        return "1"

    def _crossing(self, x: npt.NDArray[np.float64]) -> int | None:
        """Index of the first sample that completes a trigger crossing (x[i-1] -> x[i])."""
        lev = self.trig_level_v
        up = (x[:-1] < lev) & (x[1:] >= lev)
        down = (x[:-1] > lev) & (x[1:] <= lev)
        hits = up if self.trig_slope == "POS" else down if self.trig_slope == "NEG" else up | down
        idx = np.flatnonzero(hits)
        return int(idx[0]) + 1 if idx.shape[0] else None

    def _acquire(self) -> None:
        world = self.world
        fs = self.sample_rate_hz
        n = self.points
        pre = int(n * PRETRIGGER)
        armed = self._armed_at if self._armed_at is not None else 0.0
        self._armed_at = None
        deadline = time.monotonic() + self.timeout_s
        # the first sample that may complete a crossing has pre-trigger samples before it
        cursor = max(round(armed * fs), pre)
        t_start: float | None = None
        while t_start is None:
            if self.sweep == "AUTO":
                t_start = armed
                break
            done = math.floor(world.complete_s() * fs)
            while cursor < done and t_start is None:
                m = min(CHUNK, done - cursor)
                x = world.render(self.trig_source, (cursor - 1) / fs, m + 1, fs)
                hit = self._crossing(x)
                if hit is not None:
                    t_start = (cursor - 1 + hit - pre) / fs
                cursor += m
            if t_start is not None:
                break
            if time.monotonic() > deadline:
                self.push_error(-214, f"Trigger deadlock; no trigger within {self.timeout_s} s")
                return
            if self.stop_event.wait(0.002):
                return
        while world.complete_s() < t_start + n / fs:
            if time.monotonic() > deadline:
                self.push_error(-214, f"Trigger deadlock; record incomplete after "
                                f"{self.timeout_s} s")
                return
            if self.stop_event.wait(0.002):
                return
        self._record_t0 = t_start
        self._record_pre = (n * PRETRIGGER if self.sweep == "NORM" else 0) / fs
        self._record_rate = fs
        self._record_n = n
        self._cache = {c: self._codes(c) for c, ch in self.channels.items() if ch.display}

    def _codes(self, c: int) -> npt.NDArray[np.int16]:
        assert self._record_t0 is not None
        ch = self.channels[c]
        v = self.world.render(c, self._record_t0, self._record_n, self._record_rate)
        if ch.coupling == "AC":
            v = v - v.mean()
        codes = np.rint((v - ch.offset_v) / ch.yinc)
        return np.clip(codes, -32768, 32767).astype("<i2")

    def _range(self, a: str) -> None:
        parts = a.split(",")
        if len(parts) != 2:
            raise ScpiCommandError(-109, "Missing parameter; WAV:RANG <t0 s>,<points>")
        t0 = parse_float(parts[0], "t0")
        n = parse_float(parts[1], "points")
        if not (1 <= n <= MAX_POINTS and n == int(n)) or not (t0 >= 0 and math.isfinite(t0)):
            raise ScpiCommandError(-222, f"Data out of range; WAV:RANG {a}")
        fs = self.sample_rate_hz
        t0 = round(t0 * fs) / fs
        end = t0 + int(n) / fs
        # a window the record has not reached yet: wait for it (at most ACQ:TOUT)
        deadline = time.monotonic() + self.timeout_s
        while end > self.world.complete_s() + 1e-12:
            if time.monotonic() > deadline or end - self.world.complete_s() > self.timeout_s:
                raise ScpiCommandError(-221, f"Settings conflict; record complete up to "
                                       f"{self.world.complete_s():.6f} s")
            if self.stop_event.wait(0.002):
                return
        self._record_t0 = t0
        self._record_pre = -t0
        self._record_rate = fs
        self._record_n = int(n)
        self._cache = {}

    def _preamble(self) -> str:
        if self._record_t0 is None:
            raise ScpiCommandError(-230, "Data corrupt or stale; no acquisition")
        ch = self.channels[self.wav_source]
        return (f"1,0,{self._record_n},1,{1.0 / self._record_rate:.12e},"
                f"{-self._record_pre:.12e},0,{ch.yinc:.12e},{ch.offset_v:.12e},0")

    def _record_time(self) -> str:
        if self._record_t0 is None:
            raise ScpiCommandError(-230, "Data corrupt or stale; no acquisition")
        return f"{self._record_t0:.12e}"

    def _data(self) -> bytes:
        if self._record_t0 is None:
            raise ScpiCommandError(-230, "Data corrupt or stale; no acquisition")
        codes = self._cache.get(self.wav_source)
        if codes is None:
            codes = self._cache[self.wav_source] = self._codes(self.wav_source)
        return codes.tobytes()
