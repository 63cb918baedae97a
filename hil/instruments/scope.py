"""SCPI driver for an oscilloscope / digitizer (:class:`Digitizer`)."""

from __future__ import annotations

import numpy as np

from hil.instruments.errors import AcquisitionTimeoutError, BlockFormatError, InstrumentError
from hil.instruments.interfaces import ChannelSetup, Slope, Waveform
from hil.instruments.scpi import ScpiInstrument


class Preamble:
    """``WAV:PRE?``: format, type, points, count, xinc, xorig, xref, yinc, yorig, yref."""

    def __init__(self, text: str) -> None:
        parts = text.split(",")
        if len(parts) != 10:
            raise BlockFormatError(f"WAV:PRE? answered {text!r}", name="WAV:PRE?", value=text,
                                   expected="10 comma-separated fields")
        self.points = int(float(parts[2]))
        self.xinc, self.xorig, self.xref, self.yinc, self.yorig, self.yref = (
            float(p) for p in parts[4:])


class ScpiDigitizer(ScpiInstrument):
    """A digitizer over VISA (command subset in docs/instruments.md); int16 (WORD) transfer."""

    def __init__(self, resource: str, timeout_s: float = 5.0) -> None:
        super().__init__(resource, timeout_s)
        self.sample_rate_hz = 0.0
        #: ask ``WAV:TREC?`` for the record time of each transfer (set False for instruments
        #: without a running record)
        self.record_times = True

    def _batch(self, cmds: list[str]) -> None:
        for c in cmds:
            self.io.write(c)
        self.io.check("; ".join(cmds))

    def configure_channel(self, channel: int, setup: ChannelSetup) -> None:
        """Range, offset, coupling, impedance; checks SYST:ERR?."""
        self._batch([f"CHAN{channel}:DISP ON",
                     f"CHAN{channel}:SCAL {setup.range_v / 10.0:.9g}",
                     f"CHAN{channel}:OFFS {setup.offset_v:.9g}",
                     f"CHAN{channel}:COUP {setup.coupling.value}",
                     f"CHAN{channel}:IMP {setup.impedance_ohm:.9g}"])

    def configure_timebase(self, sample_rate_hz: float) -> None:
        """Sample rate, Hz."""
        self.send(f"ACQ:SRAT {sample_rate_hz:.9g}")
        self.sample_rate_hz = float(self.io.query("ACQ:SRAT?"))

    def configure_trigger(self, channel: int, level_v: float, slope: Slope = Slope.RISING, *,
                          auto: bool = False) -> None:
        """Edge trigger; checks SYST:ERR?."""
        self._batch([f"TRIG:SOUR CHAN{channel}", f"TRIG:LEV {level_v:.9g}",
                     f"TRIG:SLOP {slope.value}", f"TRIG:SWE {'AUTO' if auto else 'NORM'}"])

    def acquire(self, n_points: int, channel: int = 1, timeout_s: float = 5.0) -> Waveform:
        """Arm, wait for the trigger (``*OPC?``, at most ``timeout_s``), transfer ``channel``."""
        self._batch([f"ACQ:POIN {n_points}", f"ACQ:TOUT {timeout_s:.9g}", "SING"])
        self.io.query("*OPC?", timeout_s=timeout_s + self.io.timeout_s)
        errs = self.io.errors()
        if errs:
            code, text = errs[0]
            cls = AcquisitionTimeoutError if code == -214 else InstrumentError
            raise cls(f"{self.resource}: acquisition of {n_points} points -> instrument error "
                      f'{code},"{text}"', name="SING", value=f'{code},"{text}"',
                      expected="a trigger within the timeout")
        return self.transfer(channel)

    def transfer(self, channel: int = 1) -> Waveform:
        """The current record of ``channel``: preamble, int16 block, scaled to volts."""
        self._batch([f"WAV:SOUR CHAN{channel}", "WAV:FORM WORD"])
        pre = Preamble(self.io.query("WAV:PRE?"))
        raw = self.io.query_block("WAV:DATA?")
        if len(raw) != 2 * pre.points:
            raise BlockFormatError(f"WAV:DATA? gave {len(raw)} bytes for {pre.points} points",
                                   name="WAV:DATA?", value=len(raw),
                                   expected=f"{2 * pre.points} bytes")
        codes = np.frombuffer(raw, dtype="<i2")
        volts = (codes - pre.yref) * pre.yinc + pre.yorig
        record_t0 = float(self.io.query("WAV:TREC?")) if self.record_times else None
        return Waveform(t0_s=pre.xorig - pre.xref * pre.xinc, dt_s=pre.xinc, volts=volts,
                        channel=channel, resolution_v=pre.yinc, record_t0_s=record_t0)

    def fetch_channels(self, n_points: int, channels: tuple[int, ...], start_s: float,
                       check: bool = True) -> list[Waveform]:
        """One window of the running record on several channels with the fewest round trips
        (the real-time path): ``WAV:RANG`` once, then preamble and data per channel;
        ``check=False`` leaves the error queue to a later :meth:`check_errors`."""
        self.io.write(f"WAV:RANG {start_s:.9f},{n_points}")
        self.io.write("WAV:FORM WORD")
        out = []
        for ch in channels:
            self.io.write(f"WAV:SOUR CHAN{ch}")
            pre = Preamble(self.io.query("WAV:PRE?"))
            raw = self.io.query_block("WAV:DATA?")
            if len(raw) != 2 * pre.points:
                if check:
                    self.io.check(f"WAV:RANG {start_s:.9f},{n_points}")
                raise BlockFormatError(f"WAV:DATA? gave {len(raw)} bytes for {pre.points} "
                                       "points", name="WAV:DATA?", value=len(raw),
                                       expected=f"{2 * pre.points} bytes")
            volts = (np.frombuffer(raw, dtype="<i2") - pre.yref) * pre.yinc + pre.yorig
            t0 = pre.xorig - pre.xref * pre.xinc
            out.append(Waveform(t0_s=t0, dt_s=pre.xinc, volts=volts, channel=ch,
                                resolution_v=pre.yinc, record_t0_s=t0))
        if check:
            self.io.check(f"WAV:RANG {start_s:.9f},{n_points}")
        return out

    def record_time_s(self) -> float:
        """Record time of the latest complete sample, s."""
        return float(self.io.query("ACQ:TIME?"))

    def fetch(self, n_points: int, channel: int = 1, start_s: float | None = None) -> Waveform:
        """``n_points`` of the running record from ``start_s`` (None = the latest)."""
        if start_s is None:
            fs = self.sample_rate_hz or float(self.io.query("ACQ:SRAT?"))
            start_s = max(0.0, self.record_time_s() - n_points / fs)
        self._batch([f"WAV:RANG {start_s:.9f},{n_points}"])
        return self.transfer(channel)
