"""The emulated pacemaker analyzer: line ASCII commands on a pty (as over RS-232).

Lines end in ``\\n``; each command is answered by one line: ``OK``, ``NAME=value`` or
``ERR <text>``. Commands: ``ID?``, ``RST``, ``LOAD=<ohm>`` / ``LOAD?`` (250..2000),
``CHAN=A|V`` / ``CHAN?`` (the output measured), ``RATE?`` (ppm), ``INTERVAL?`` (ms), ``AMPL?``
(leading-edge V), ``WIDTH?`` (ms, at 50 % of the leading edge), ``AV?`` (ms, the last
ventricular pulse minus the atrial pulse before it), ``DEMAND=<fraction>[,<seconds>]`` (drive
the measured chamber with sensed beats at ``fraction`` of the measured rate for ``seconds``, 5 by
default; answers ``DEMAND=PACED`` or ``DEMAND=INHIBITED`` from the paces in the last two
stimulus periods).

The analyzer sees the same pulses as the scope (it is wired to the same outputs); it measures
each one from a 1 MHz rendering. Its demand beats are triangles (2 ms rise, 13 ms fall, 5 mV)
added to the lead signal by the emulated analog device.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import threading
import tty
from types import TracebackType

import numpy as np
import numpy.typing as npt

from hil.instruments.emulated.device import AnalogDevice
from hil.instruments.emulated.pulse import Pulse
from hil.instruments.emulated.world import AnalogWorld

IDN = "devicetwin,EmulatedAnalyzer,0001,1.0"
MAX_LINE = 256
DEMAND_AMPLITUDE_UV = 5000.0
RISE_MS = 2.0
FALL_MS = 13.0


class AnalyzerCommandError(Exception):
    """Answered as ``ERR <text>``."""


def triangle_uv(phase_ms: npt.NDArray[np.float64], amplitude_uv: float) -> npt.NDArray[np.float64]:
    """The 2 ms rise / 13 ms fall test pulse at ``phase_ms`` after its start, uV."""
    y = np.zeros_like(phase_ms)
    m = (phase_ms >= 0) & (phase_ms < RISE_MS)
    y[m] = amplitude_uv * phase_ms[m] / RISE_MS
    m = (phase_ms >= RISE_MS) & (phase_ms < RISE_MS + FALL_MS)
    y[m] = amplitude_uv * (1.0 - (phase_ms[m] - RISE_MS) / FALL_MS)
    return y


class EmulatedAnalyzer:
    """Serves the analyzer's line protocol on a pty; :attr:`url` is the slave path."""

    def __init__(self, world: AnalogWorld, device: AnalogDevice | None = None) -> None:
        self.world = world
        self.device = device
        self.load_ohm = 500.0
        self.channel = 2
        self.url = ""
        self._master = -1
        self._slave = -1
        self._wake_r = -1
        self._wake_w = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> EmulatedAnalyzer:
        """Open the pty and serve in a thread."""
        if self._thread is not None:
            return self
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.url = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="analyzer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop serving and close the pty; safe to call twice."""
        self._stop.set()
        if self._wake_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = self._wake_r = self._wake_w = -1

    def __enter__(self) -> EmulatedAnalyzer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _serve(self) -> None:
        buf = bytearray()
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            buf += data
            while True:
                nl = buf.find(b"\n")
                if nl == -1:
                    if len(buf) > MAX_LINE:
                        buf.clear()
                        self._reply("ERR line too long")
                    break
                line = bytes(buf[:nl]).decode("ascii", "replace").strip()
                del buf[: nl + 1]
                if line:
                    try:
                        answer = self.execute(line)
                    except AnalyzerCommandError as err:
                        answer = f"ERR {err}"
                    self._reply(answer)

    def _reply(self, text: str) -> None:
        with contextlib.suppress(OSError):
            os.write(self._master, (text + "\n").encode())

    # -- commands -----------------------------------------------------------------------------
    def execute(self, line: str) -> str:
        """One command line -> its answer line."""
        cmd, eq, value = line.partition("=")
        cmd = cmd.strip().upper()
        if eq:
            return self._set(cmd, value.strip())
        if cmd == "ID?":
            return f"ID={IDN}"
        if cmd == "RST":
            self.load_ohm, self.channel = 500.0, 2
            return "OK"
        if cmd == "LOAD?":
            return f"LOAD={self.load_ohm:g}"
        if cmd == "CHAN?":
            return f"CHAN={'A' if self.channel == 1 else 'V'}"
        if cmd == "RATE?":
            return f"RATE={60000.0 / self._interval_ms():.3f}"
        if cmd == "INTERVAL?":
            return f"INTERVAL={self._interval_ms():.3f}"
        if cmd == "AMPL?":
            return f"AMPL={self._measure(self._last(self.channel))[0]:.4f}"
        if cmd == "WIDTH?":
            return f"WIDTH={self._measure(self._last(self.channel))[1] * 1e3:.4f}"
        if cmd == "AV?":
            return f"AV={self._av_ms():.3f}"
        raise AnalyzerCommandError(f"unknown command {line!r}")

    def _set(self, cmd: str, value: str) -> str:
        if cmd == "LOAD":
            try:
                v = float(value)
            except ValueError:
                raise AnalyzerCommandError(f"bad value {value!r} for LOAD") from None
            if not 250.0 <= v <= 2000.0:
                raise AnalyzerCommandError(f"LOAD={value} outside 250..2000 ohm")
            self.load_ohm = v
            return "OK"
        if cmd == "CHAN":
            if value.upper() not in ("A", "V"):
                raise AnalyzerCommandError(f"bad value {value!r} for CHAN (A or V)")
            self.channel = 1 if value.upper() == "A" else 2
            return "OK"
        if cmd == "DEMAND":
            return "DEMAND=" + self._demand(value)
        raise AnalyzerCommandError(f"unknown command {cmd + '=' + value!r}")

    def _recent(self, channel: int, window_s: float = 10.0) -> list[Pulse]:
        done = self.world.complete_s()
        return [p for p in self.world.pulses(channel) if done - window_s <= p.t_s <= done]

    def _last(self, channel: int) -> Pulse:
        recent = self._recent(channel)
        if not recent:
            raise AnalyzerCommandError(f"no pulse on {'A' if channel == 1 else 'V'} in 10 s")
        return recent[-1]

    def _interval_ms(self) -> float:
        recent = self._recent(self.channel)[-6:]
        if len(recent) < 2:
            raise AnalyzerCommandError("fewer than 2 pulses in 10 s")
        return (recent[-1].t_s - recent[0].t_s) / (len(recent) - 1) * 1e3

    def _measure(self, p: Pulse) -> tuple[float, float]:
        """(leading-edge amplitude V, width s at 50 % of it) from a 1 MHz rendering."""
        fs = 1e6
        t0 = p.t_s - 20e-6
        n = int((p.width_s + 60e-6) * fs)
        v = self.world.render(p.channel, t0, n, fs)
        edge = self.world.model.edge_us * 1e-6
        i_lead = math.ceil((p.t_s + edge - t0) * fs)
        amp = float(np.median(v[i_lead:i_lead + 3]))
        above = np.flatnonzero(v >= amp / 2)
        if above.shape[0] == 0:
            raise AnalyzerCommandError("pulse below half its own amplitude")
        return amp, (above[-1] - above[0] + 1) / fs

    def _av_ms(self) -> float:
        v = self._last(2)
        atrial = [p for p in self._recent(1) if p.t_s <= v.t_s]
        if not atrial:
            raise AnalyzerCommandError("no atrial pulse before the last ventricular one")
        return (v.t_s - atrial[-1].t_s) * 1e3

    def _demand(self, value: str) -> str:
        parts = value.split(",")
        try:
            fraction = float(parts[0])
            seconds = float(parts[1]) if len(parts) > 1 else 5.0
        except ValueError:
            raise AnalyzerCommandError(f"bad value {value!r} for DEMAND") from None
        if not (0.3 <= fraction <= 3.0 and 0.5 <= seconds <= 60.0) or len(parts) > 2:
            raise AnalyzerCommandError(f"DEMAND={value}: fraction 0.3..3, seconds 0.5..60")
        if self.device is None:
            raise AnalyzerCommandError("DEMAND needs the emulated device's lead input")
        period_ms = self._interval_ms() / fraction
        channel = self.channel
        start_ms = int(self.world.now_s() * 1000.0) + self.device.lead_ms + 50
        end_ms = start_ms + int(seconds * 1000.0)

        def stim(lead: int, k0: int, n: int) -> npt.NDArray[np.float64]:
            if lead != channel:
                return np.zeros(n)
            k = np.arange(k0, k0 + n, dtype=np.float64)
            phase = np.mod(k - start_ms, period_ms)
            y = triangle_uv(phase, DEMAND_AMPLITUDE_UV)
            y[(k < start_ms) | (k >= end_ms)] = 0.0
            return y

        device = self.device
        device.stimuli.append(stim)
        try:
            # judged over the last two stimulus periods: earlier, a stimulus may still fall in
            # the refractory period after a pace (its phase walks by the rate difference)
            half = (end_ms - max(2.0 * period_ms, 500.0)) / 1e3
            while self.world.complete_s() < end_ms / 1e3:
                if self._stop.wait(0.01):
                    raise AnalyzerCommandError("stopped")
        finally:
            device.stimuli.remove(stim)
        paced = [p for p in self.world.pulses(channel) if half <= p.t_s < end_ms / 1e3]
        return "PACED" if paced else "INHIBITED"
