"""The emulated analog bench: AWG playback channels, the pulses on the scope channels, and one
record clock shared by both (t = 0 at the AWG's ``*TRG``, as when the scope's record is started by
the AWG's sync output).

Everything here is guarded by one lock; the servers and the analog device call in from their
threads. Noise is deterministic: baseline noise of scope channel ``c`` at sample rate ``fs`` in
block ``b`` comes from ``numpy.random.default_rng((seed, c, fs, b))``; pulse noise from one
generator seeded with ``seed`` drawn in pace order.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hil.instruments.emulated.pulse import Pulse, PulseModel, add_pulse

FloatArray = npt.NDArray[np.float64]
NOISE_BLOCK = 1 << 16
#: A pace is reported by the firmware within a few ms; the record is complete this long ago.
COMPLETE_MARGIN_S = 0.012
MAX_PULSES = 100_000


@dataclass
class AwgChannel:
    """One AWG channel's settings and playback state (arbitrary waveform, looped, or a queue
    of streamed segments). Samples are stored normalised to -1..1 as the instrument does."""

    sample_rate_hz: float = 1000.0
    amplitude_vpp: float = 2.0
    offset_v: float = 0.0
    load_ohm: float = math.inf
    output: bool = False
    arb: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    streaming: bool = False
    pending: FloatArray = field(default_factory=lambda: np.zeros(0))
    base: int = 0  # input index of pending[0]
    appended: int = 0  # input samples appended since the trigger (streaming)
    underruns: int = 0

    def reset_playback(self) -> None:
        """Forget the streamed queue."""
        self.pending = np.zeros(0)
        self.base = 0
        self.appended = 0
        self.underruns = 0

    def volts(self, normalised: FloatArray) -> FloatArray:
        """Normalised samples -> output volts (0 V while the output is off)."""
        if not self.output:
            return np.zeros_like(normalised)
        # programmed into load_ohm behind 50 ohm; the device input is high impedance
        gain = 1.0 if math.isinf(self.load_ohm) else (self.load_ohm + 50.0) / self.load_ohm
        return (normalised * (self.amplitude_vpp / 2.0) + self.offset_v) * gain

    def available(self, k: int, out_rate_hz: float) -> int:
        """How many output samples from output index ``k`` the queue can give (streaming)."""
        if not self.streaming:
            return 1 << 40
        total = self.base + self.pending.shape[0]
        if total == 0:
            return 0
        r = self.sample_rate_hz / out_rate_hz
        k_max = math.floor((total - 1) / r + 1e-9)
        return int(max(0, k_max - k + 1))

    def take(self, k: int, n: int, out_rate_hz: float) -> FloatArray:
        """Output samples ``k .. k+n-1`` at ``out_rate_hz``, point-sampled (linear interpolation)
        from the channel's waveform; volts."""
        r = self.sample_rate_hz / out_rate_hz
        x = (k + np.arange(n, dtype=np.float64)) * r
        if not self.streaming:
            m = self.arb.shape[0]
            if m == 0:
                return self.volts(np.zeros(n))
            xm = np.mod(x, m)
            i = np.floor(xm).astype(np.int64)
            frac = xm - i
            a = self.arb.astype(np.float64)
            return self.volts(a[i] * (1 - frac) + a[(i + 1) % m] * frac)
        idx = np.arange(self.base, self.base + self.pending.shape[0], dtype=np.float64)
        if idx.shape[0] == 0:
            self.underruns += n
            return self.volts(np.zeros(n))
        y = np.interp(x, idx, self.pending)
        keep_from = max(0, math.floor(x[-1]) - self.base) if n else 0
        self.pending = self.pending[keep_from:]
        self.base += keep_from
        return self.volts(y)


class AnalogWorld:
    """What the emulated AWG plays and what the emulated scope sees, on one record clock."""

    def __init__(self, seed: int = 0, model: PulseModel | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.seed = seed
        self.model = model or PulseModel()
        self.clock = clock
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.awg = {1: AwgChannel(), 2: AwgChannel()}
        self.trigger_wall: float | None = None
        self._pulses: dict[int, list[Pulse]] = {1: [], 2: []}
        self._starts: dict[int, list[float]] = {1: [], 2: []}
        self._rng = np.random.default_rng(seed)
        self._noise_cache: dict[tuple[int, float, int], FloatArray] = {}
        self.generation = 0  # bumped by every trigger / reset

    # -- clock ----------------------------------------------------------------------------------
    def trigger(self) -> None:
        """The AWG's ``*TRG``: playback and a new scope record start now (t = 0)."""
        with self.lock:
            self.trigger_wall = self.clock()
            for ch in self.awg.values():
                ch.appended = ch.base + ch.pending.shape[0]
            for c in self._pulses:  # a new record
                self._pulses[c] = []
                self._starts[c] = []
            self.generation += 1
            self.changed.notify_all()

    def stop(self) -> None:
        """Playback stopped (``*RST``, ``ABOR``): record time back to 0, pulses forgotten."""
        with self.lock:
            self.trigger_wall = None
            for ch in self.awg.values():
                ch.reset_playback()
            for c in self._pulses:
                self._pulses[c] = []
                self._starts[c] = []
            self.generation += 1
            self.changed.notify_all()

    def now_s(self) -> float:
        """Record time now, s (0 before the trigger)."""
        w = self.trigger_wall
        return 0.0 if w is None else self.clock() - w

    def complete_s(self) -> float:
        """Record time up to which every pulse is known, s."""
        return max(0.0, self.now_s() - COMPLETE_MARGIN_S)

    # -- pulses ---------------------------------------------------------------------------------
    def add_pace(self, channel: int, t_s: float, amplitude_v: float, width_s: float) -> Pulse:
        """A pace at record time ``t_s`` on scope ``channel``, with the model's noise."""
        m = self.model
        with self.lock:
            amp = amplitude_v * (1.0 + m.amplitude_noise * float(self._rng.standard_normal()))
            w = max(m.edge_us * 2e-6,
                    width_s + m.width_jitter_us * 1e-6 * float(self._rng.standard_normal()))
            p = Pulse(t_s, channel, amp, w)
            starts = self._starts[channel]
            i = bisect.bisect_right(starts, t_s)
            starts.insert(i, t_s)
            self._pulses[channel].insert(i, p)
            if len(starts) > MAX_PULSES:
                del starts[0]
                del self._pulses[channel][0]
            self.changed.notify_all()
            return p

    def pulses(self, channel: int) -> list[Pulse]:
        """Every pulse on ``channel`` so far, in time order."""
        with self.lock:
            return list(self._pulses[channel])

    def _noise(self, channel: int, fs: float, block: int) -> FloatArray:
        key = (channel, fs, block)
        got = self._noise_cache.get(key)
        if got is None:
            rng = np.random.default_rng((self.seed, channel, round(fs), block))
            got = rng.standard_normal(NOISE_BLOCK) * self.model.baseline_noise_v
            with self.lock:
                if len(self._noise_cache) > 64:
                    self._noise_cache.clear()
                self._noise_cache[key] = got
        return got

    def render(self, channel: int, t0_s: float, n: int, fs: float) -> FloatArray:
        """Volts across ``channel``'s load for samples at ``t0_s + i / fs``, i < n."""
        i0 = round(t0_s * fs)
        t1 = t0_s + n / fs
        with self.lock:  # only the lookup under the lock: the device thread must not wait
            starts = self._starts.get(channel, [])
            lo = bisect.bisect_left(starts, t0_s - self.model.duration_s(0.01))
            hi = bisect.bisect_right(starts, t1)
            pulses = self._pulses.get(channel, [])[lo:hi]
        out = np.empty(n, dtype=np.float64)
        pos = 0
        while pos < n:
            gi = i0 + pos
            b, off = divmod(gi, NOISE_BLOCK)
            take = min(n - pos, NOISE_BLOCK - off)
            out[pos:pos + take] = self._noise(channel, fs, b)[off:off + take]
            pos += take
        for p in pulses:
            add_pulse(out, i0 / fs, 1.0 / fs, p, self.model)
        return out
