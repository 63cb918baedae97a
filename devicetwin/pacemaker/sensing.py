"""The sensing front end: sampled electrograms in, detections out (docs/assumptions.md A-16, A-12).

What a device's sense amplifier does, in integer arithmetic that the C firmware repeats bit for bit:

1. **Quantisation** (:func:`quantize_uv`): a sample in millivolts becomes ``round(mV * 1000)``
   microvolts (the IEEE double product, rounded half away from zero), saturated to +-32767 uV.
2. **Baseline filter**, per channel and sample ``n``: ``y16[n] = 16 * x[n] - sum(x[n-16 .. n-1])``,
   sixteen times the sample minus the mean of the previous 16 samples, with no division. Before
   the stream's first sample the history is zero, so the first samples of a stream see a step from
   0 V: a baseline offset of at least the sensitivity is detected once at the start (then the
   filter settles: a constant input gives ``y16 = 0`` from sample 16 on).
3. **Detection**: the first sample with ``|y16[n]| >= 16 * sensitivity_uv`` (either polarity)
   outside the channel's dead time. A detection at sample ``n`` starts a dead time of
   ``dead_time_ms`` (50 ms): the next detection on that channel can come at ``n + 50`` at the
   earliest: samples ``n+1 .. n+49`` are ignored even above threshold, so two short pulses whose
   peaks are 50 ms apart give two detections, 40 ms apart one. Channels are independent.
4. **Time**: sample ``n`` of a stream is at ``t0_us + n * 1000`` where ``t0_us`` is the time given
   with the stream's first block. Detections are in time order; on one sample the atrium comes
   first.

The front end does not know the timing state: blanking, refractory periods and noise are the timing
engine's business (A-5, A-11). It is a stream: the 16-sample history and the dead times persist
between :meth:`SensingFrontEnd.process` calls, so any split of a recording into blocks (down to one
sample) gives the same detections as one call. The inner loop is the Cython kernel
``devicetwin.pacemaker._frontend``; :func:`reference_detections` is a plain NumPy implementation of
the same arithmetic that the tests hold it against.

The gain of the filter depends on the waveform: for the ISO 14708-2 test pulse (2 ms rise,
13 ms fall) sampled at 1 kHz the peak sample is ``A`` and the 16 before it sum to ``A/2``, so
``y16 = 15.5 * A`` and the pulse is detected from ``A >= 32/31 * sensitivity``.

:class:`ActivityEpochs` turns the accelerometer channel (integer milli-g at 1 kHz) into the epoch
means of A-12 that drive rate adaptation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.errors import DeviceTwinError
from devicetwin.pacemaker._frontend import FrontEndKernel
from devicetwin.pacemaker.markers import Chamber

__all__ = [
    "FILTER_WINDOW_SAMPLES",
    "FULL_SCALE_UV",
    "ActivityEpochs",
    "ActivityState",
    "Detections",
    "NonFiniteSampleError",
    "SenseChannel",
    "SensingConfigError",
    "SensingError",
    "SensingFrontEnd",
    "SensingInputError",
    "SensingState",
    "StreamDiscontinuityError",
    "quantize_uv",
    "reference_detections",
]

FILTER_WINDOW_SAMPLES = 16
"""Samples in the baseline window; also the filter's gain on the current sample (A-16)."""

FULL_SCALE_UV = 32767
"""Saturation of quantised samples, in microvolts (int16 range, symmetric)."""

SAMPLE_RATE_HZ = 1000
"""The only sample rate A-16 defines; one sample every :data:`SAMPLE_PERIOD_US`."""

SAMPLE_PERIOD_US = 1_000_000 // SAMPLE_RATE_HZ

DEFAULT_DEAD_TIME_MS = 50
"""``detection_dead_time_ms`` of A-16."""

MAX_SENSITIVITY_UV = FULL_SCALE_UV
"""Largest accepted sensitivity: the samples' full scale."""

MAX_T_US = 2**62
"""Latest accepted block start, in microseconds (keeps int64 detection times from overflowing)."""


class SensingError(DeviceTwinError):
    """Base of the front end's errors."""


class SensingConfigError(SensingError):
    """A front-end setting (sensitivity, dead time, sample rate, epoch length) is out of range."""


class SensingInputError(SensingError):
    """A sample block has the wrong type, dtype, shape or length."""


class NonFiniteSampleError(SensingInputError):
    """A sample to quantise is NaN or infinite."""


class StreamDiscontinuityError(SensingInputError):
    """A block's ``t0_us`` does not continue the stream where the previous block ended."""


class SenseChannel(enum.IntEnum):
    """The front end's channels, as stored in :attr:`Detections.chamber`."""

    ATRIUM = 0
    VENTRICLE = 1

    @property
    def chamber(self) -> Chamber:
        """The marker channel of this sensing channel."""
        return Chamber.A if self is SenseChannel.ATRIUM else Chamber.V


@dataclass(frozen=True, eq=False, slots=True)
class Detections:
    """Detections of one :meth:`SensingFrontEnd.process` call, in time order.

    Attributes
    ----------
    t_us:
        int64 detection times in microseconds since session start (read-only array).
    chamber:
        uint8 channel of each detection, 0 = atrium, 1 = ventricle (:class:`SenseChannel`);
        on one sample the atrium comes first.
    """

    t_us: npt.NDArray[np.int64]
    chamber: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.t_us.shape[0])

    def events(self) -> list[tuple[int, SenseChannel]]:
        """The detections as ``(t_us, channel)`` pairs of Python values."""
        return [
            (int(t), SenseChannel(int(c)))
            for t, c in zip(self.t_us.tolist(), self.chamber.tolist(), strict=True)
        ]


@dataclass(frozen=True, slots=True)
class SensingState:
    """A snapshot of a :class:`SensingFrontEnd` for the bench's rollback.

    Histories hold the last 16 samples of each channel in microvolts, oldest first; dead times are
    the samples each channel still ignores; ``next_t_us`` is the ``t0_us`` the next block must have
    (``None`` before the first block).
    """

    atrial_sensitivity_uv: int
    ventricular_sensitivity_uv: int
    dead_time_ms: int
    samples_seen: int
    next_t_us: int | None
    atrial_history_uv: tuple[int, ...]
    ventricular_history_uv: tuple[int, ...]
    atrial_dead_left_samples: int
    ventricular_dead_left_samples: int


def quantize_uv(mv: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """Quantise millivolt samples to integer microvolts as a device's ADC path does (A-16).

    Parameters
    ----------
    mv:
        Samples in millivolts, any shape, real numbers.

    Returns
    -------
    numpy.ndarray
        int16 microvolts of the same shape: ``round(mv * 1000)`` with halves rounded away from zero,
        saturated to +-32767 uV.

    Raises
    ------
    NonFiniteSampleError
        If a sample is NaN or infinite (the first one is named with its index).
    SensingInputError
        If the samples are not real numbers.
    """
    arr = np.asarray(mv)
    if arr.dtype.kind not in "fiu":
        raise SensingInputError(
            f"samples of dtype {arr.dtype!s}: expected real numbers in millivolts",
            name="mv",
            value=str(arr.dtype),
            expected="a real (float or integer) array",
        )
    values = arr.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        bad = float(values[index])
        where = index[0] if len(index) == 1 else index
        raise NonFiniteSampleError(
            f"sample {bad!r} mV at index {where}: expected a finite value",
            name="mv",
            value=bad,
            expected="finite millivolts",
        )
    # Clip in millivolts first so the product cannot overflow; anything beyond +-1e5 mV saturates.
    scaled = np.clip(np.clip(values, -1e5, 1e5) * 1000.0, -FULL_SCALE_UV, FULL_SCALE_UV)
    magnitude = np.abs(scaled)
    whole = np.floor(magnitude)
    # magnitude - whole is exact in binary floating point, so the half test is exact too.
    rounded = whole + (magnitude - whole >= 0.5)
    return np.asarray(np.copysign(rounded, scaled), dtype=np.int16)


def _check_int(name: str, value: object, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise SensingConfigError(
            f"{name} {value!r}: expected an integer",
            name=name,
            value=value,
            expected="an integer",
        )
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        allowed = f">= {minimum}" if maximum is None else f"{minimum} .. {maximum}"
        raise SensingConfigError(
            f"{name} {number!r}: expected {allowed}",
            name=name,
            value=number,
            expected=allowed,
        )
    return number


def _check_sensitivity(name: str, value: object) -> int:
    return _check_int(name, value, minimum=1, maximum=MAX_SENSITIVITY_UV)


def _check_t0(t0_us: object) -> int:
    if isinstance(t0_us, bool) or not isinstance(t0_us, int | np.integer):
        raise SensingInputError(
            f"t0_us {t0_us!r}: expected an integer number of microseconds",
            name="t0_us",
            value=t0_us,
            expected="an integer >= 0",
        )
    if not 0 <= t0_us <= MAX_T_US:
        raise SensingInputError(
            f"t0_us {int(t0_us)!r}: expected 0 .. {MAX_T_US} (microseconds since session start)",
            name="t0_us",
            value=int(t0_us),
            expected=f"an integer in 0 .. {MAX_T_US}",
        )
    return int(t0_us)


def _check_samples(name: str, samples: object) -> npt.NDArray[np.int16]:
    if not isinstance(samples, np.ndarray):
        raise SensingInputError(
            f"{name} of type {type(samples).__name__}: expected a 1-D int16 numpy array",
            name=name,
            value=type(samples).__name__,
            expected="numpy.ndarray of int16",
        )
    if samples.dtype != np.int16:
        raise SensingInputError(
            f"{name} of dtype {samples.dtype!s}: expected int16 (microvolts or milli-g; "
            "use quantize_uv for millivolts)",
            name=name,
            value=str(samples.dtype),
            expected="int16",
        )
    if samples.ndim != 1:
        raise SensingInputError(
            f"{name} of shape {samples.shape!r}: expected a 1-D array",
            name=name,
            value=samples.shape,
            expected="1-D",
        )
    return np.ascontiguousarray(samples)


def _check_continuity(expected_t_us: int | None, t0_us: int) -> None:
    if expected_t_us is not None and t0_us != expected_t_us:
        raise StreamDiscontinuityError(
            f"t0_us {t0_us!r}: expected {expected_t_us} (the end of the previous block); "
            "call reset() to start a new stream",
            name="t0_us",
            value=t0_us,
            expected=str(expected_t_us),
        )


def _channel_of(chamber: object) -> SenseChannel:
    if chamber is Chamber.A:
        return SenseChannel.ATRIUM
    if chamber is Chamber.V:
        return SenseChannel.VENTRICLE
    is_integer = isinstance(chamber, int | np.integer) and not isinstance(chamber, bool)
    if is_integer and chamber in (0, 1):
        return SenseChannel(int(chamber))
    raise SensingConfigError(
        f"chamber {chamber!r}: expected Chamber.A, Chamber.V, 0 (atrium) or 1 (ventricle)",
        name="chamber",
        value=chamber,
        expected="Chamber.A, Chamber.V, 0 or 1",
    )


class SensingFrontEnd:
    """Two-channel streaming detector of A-16 (see the module documentation for the arithmetic).

    Parameters
    ----------
    atrial_sensitivity_uv, ventricular_sensitivity_uv:
        Detection thresholds in microvolts, 1 .. 32767 (the programmed 0.75 mV is 750).
    dead_time_ms:
        Time from a detection to the next possible detection on the same channel, >= 1 ms.
    sample_rate_hz:
        Must be 1000 (the only rate A-16 defines; the 16-sample window is 16 ms).
    """

    __slots__ = ("_dead_time_ms", "_kernel", "_next_t_us", "_sensitivity_uv")

    def __init__(
        self,
        atrial_sensitivity_uv: int,
        ventricular_sensitivity_uv: int,
        dead_time_ms: int = DEFAULT_DEAD_TIME_MS,
        sample_rate_hz: int = SAMPLE_RATE_HZ,
    ) -> None:
        atrial = _check_sensitivity("atrial_sensitivity_uv", atrial_sensitivity_uv)
        ventricular = _check_sensitivity("ventricular_sensitivity_uv", ventricular_sensitivity_uv)
        self._dead_time_ms = _check_int("dead_time_ms", dead_time_ms, minimum=1, maximum=60_000)
        _check_int("sample_rate_hz", sample_rate_hz, minimum=SAMPLE_RATE_HZ, maximum=SAMPLE_RATE_HZ)
        self._sensitivity_uv = [atrial, ventricular]
        self._kernel = FrontEndKernel(
            FILTER_WINDOW_SAMPLES * atrial,
            FILTER_WINDOW_SAMPLES * ventricular,
            self._dead_time_ms * SAMPLE_RATE_HZ // 1000,
        )
        self._next_t_us: int | None = None

    @property
    def atrial_sensitivity_uv(self) -> int:
        """The atrial channel's sensitivity in microvolts."""
        return self._sensitivity_uv[SenseChannel.ATRIUM]

    @property
    def ventricular_sensitivity_uv(self) -> int:
        """The ventricular channel's sensitivity in microvolts."""
        return self._sensitivity_uv[SenseChannel.VENTRICLE]

    @property
    def dead_time_ms(self) -> int:
        """The detection dead time in milliseconds."""
        return self._dead_time_ms

    @property
    def next_t_us(self) -> int | None:
        """The ``t0_us`` the next block must carry (``None`` before the first block)."""
        return self._next_t_us

    def process(
        self, atrial_uv: npt.NDArray[np.int16], ventricular_uv: npt.NDArray[np.int16], t0_us: int
    ) -> Detections:
        """Detect on the next block of both channels.

        Parameters
        ----------
        atrial_uv, ventricular_uv:
            1-D int16 arrays of equal length, in microvolts (see :func:`quantize_uv`), at 1 kHz.
        t0_us:
            Time of the block's first sample in microseconds since session start. The first block
            of a stream may start anywhere; every later one must start where the previous ended
            (``previous t0_us + 1000 * previous length``).

        Returns
        -------
        Detections
            The detections whose sample lies in this block, in time order.
        """
        atrial = _check_samples("atrial_uv", atrial_uv)
        ventricular = _check_samples("ventricular_uv", ventricular_uv)
        if atrial.shape[0] != ventricular.shape[0]:
            raise SensingInputError(
                f"ventricular_uv of {ventricular.shape[0]} samples: expected "
                f"{atrial.shape[0]}, the length of atrial_uv",
                name="ventricular_uv",
                value=int(ventricular.shape[0]),
                expected=f"{atrial.shape[0]} samples",
            )
        start_us = _check_t0(t0_us)
        _check_continuity(self._next_t_us, start_us)
        sample, channel = self._kernel.process(atrial, ventricular)
        t_us = sample * SAMPLE_PERIOD_US + start_us
        t_us.flags.writeable = False
        channel.flags.writeable = False
        self._next_t_us = start_us + SAMPLE_PERIOD_US * int(atrial.shape[0])
        return Detections(t_us=t_us, chamber=channel)

    def set_sensitivity(self, chamber: Chamber | int, uv: int) -> None:
        """Reprogram one channel's sensitivity (microvolts) from the next sample on.

        ``chamber`` is ``Chamber.A``/``Chamber.V`` or 0/1; the history and dead times are kept.
        """
        channel = _channel_of(chamber)
        name = "atrial" if channel is SenseChannel.ATRIUM else "ventricular"
        sensitivity = _check_sensitivity(f"{name}_sensitivity_uv", uv)
        self._sensitivity_uv[channel] = sensitivity
        self._kernel.set_threshold16(int(channel), FILTER_WINDOW_SAMPLES * sensitivity)

    def reset(self) -> None:
        """Start a new stream: history zero, no dead time, any ``t0_us`` accepted next."""
        self._kernel.reset()
        self._next_t_us = None

    def state(self) -> SensingState:
        """Snapshot everything :meth:`process` depends on (sensitivities included)."""
        samples_seen, hist_a, hist_v, dead_a, dead_v = self._kernel.get_state()
        return SensingState(
            atrial_sensitivity_uv=self.atrial_sensitivity_uv,
            ventricular_sensitivity_uv=self.ventricular_sensitivity_uv,
            dead_time_ms=self._dead_time_ms,
            samples_seen=samples_seen,
            next_t_us=self._next_t_us,
            atrial_history_uv=hist_a,
            ventricular_history_uv=hist_v,
            atrial_dead_left_samples=dead_a,
            ventricular_dead_left_samples=dead_v,
        )

    def restore(self, state: SensingState) -> None:
        """Return to a snapshot taken by :meth:`state` (of a front end with the same dead time)."""
        if not isinstance(state, SensingState):
            raise SensingConfigError(
                f"state of type {type(state).__name__}: expected SensingState",
                name="state",
                value=type(state).__name__,
                expected="SensingState",
            )
        if state.dead_time_ms != self._dead_time_ms:
            raise SensingConfigError(
                f"state with dead_time_ms {state.dead_time_ms!r}: expected {self._dead_time_ms}, "
                "this front end's dead time",
                name="dead_time_ms",
                value=state.dead_time_ms,
                expected=str(self._dead_time_ms),
            )
        atrial = _check_sensitivity("atrial_sensitivity_uv", state.atrial_sensitivity_uv)
        ventricular = _check_sensitivity(
            "ventricular_sensitivity_uv", state.ventricular_sensitivity_uv
        )
        samples_seen = _check_int("samples_seen", state.samples_seen, minimum=0)
        if state.next_t_us is not None:
            _check_t0(state.next_t_us)
        dead_max = self._dead_time_ms * SAMPLE_RATE_HZ // 1000 - 1
        dead_a = _check_int(
            "atrial_dead_left_samples", state.atrial_dead_left_samples, minimum=0, maximum=dead_max
        )
        dead_v = _check_int(
            "ventricular_dead_left_samples",
            state.ventricular_dead_left_samples,
            minimum=0,
            maximum=dead_max,
        )
        for name, history in (
            ("atrial_history_uv", state.atrial_history_uv),
            ("ventricular_history_uv", state.ventricular_history_uv),
        ):
            if len(history) != FILTER_WINDOW_SAMPLES or not all(
                isinstance(x, int) and -FULL_SCALE_UV - 1 <= x <= FULL_SCALE_UV for x in history
            ):
                raise SensingConfigError(
                    f"{name} {history!r}: expected {FILTER_WINDOW_SAMPLES} int16 samples",
                    name=name,
                    value=history,
                    expected=f"{FILTER_WINDOW_SAMPLES} integers in -32768 .. 32767",
                )
        self._kernel.set_state(
            samples_seen, state.atrial_history_uv, state.ventricular_history_uv, dead_a, dead_v
        )
        self.set_sensitivity(SenseChannel.ATRIUM, atrial)
        self.set_sensitivity(SenseChannel.VENTRICLE, ventricular)
        self._next_t_us = state.next_t_us


def reference_detections(
    atrial_uv: npt.NDArray[np.int16],
    ventricular_uv: npt.NDArray[np.int16],
    atrial_sensitivity_uv: int,
    ventricular_sensitivity_uv: int,
    dead_time_ms: int = DEFAULT_DEAD_TIME_MS,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
    """A-16 over a whole recording in plain NumPy and Python: the kernel's independent twin.

    The window sums come from a cumulative sum instead of the kernel's running ring, and the dead
    time from a loop over candidate samples. Returns ``(sample, channel)``: sample numbers from
    the recording's start and channels (0 atrium, 1 ventricle), atrium first on one sample.
    """
    samples: list[npt.NDArray[np.int64]] = []
    channels: list[npt.NDArray[np.uint8]] = []
    for channel, (x16, sensitivity) in enumerate(
        ((atrial_uv, atrial_sensitivity_uv), (ventricular_uv, ventricular_sensitivity_uv))
    ):
        x = np.asarray(x16, dtype=np.int64)
        padded = np.concatenate((np.zeros(FILTER_WINDOW_SAMPLES, dtype=np.int64), x))
        cumulative = np.concatenate((np.zeros(1, dtype=np.int64), np.cumsum(padded)))
        n = np.arange(x.shape[0])
        window_sum = cumulative[n + FILTER_WINDOW_SAMPLES] - cumulative[n]
        filtered = FILTER_WINDOW_SAMPLES * x - window_sum
        candidates = np.flatnonzero(np.abs(filtered) >= FILTER_WINDOW_SAMPLES * sensitivity)
        accepted: list[int] = []
        for candidate in candidates.tolist():
            if not accepted or candidate - accepted[-1] >= dead_time_ms:
                accepted.append(candidate)
        samples.append(np.asarray(accepted, dtype=np.int64))
        channels.append(np.full(len(accepted), channel, dtype=np.uint8))
    sample = np.concatenate(samples)
    channel_of = np.concatenate(channels)
    order = np.lexsort((channel_of, sample))
    return sample[order], channel_of[order]


@dataclass(frozen=True, slots=True)
class ActivityState:
    """A snapshot of an :class:`ActivityEpochs` stream."""

    epoch_ms: int
    start_t_us: int | None
    samples_seen: int
    partial_sum_milli_g: int


class ActivityEpochs:
    """Mean absolute activity per epoch (A-12): ``m = floor(sum(|a|) / n)`` milli-g.

    Epochs are aligned to the stream's first sample: epoch ``k`` holds samples
    ``k * n .. (k+1) * n - 1`` with ``n = epoch_ms`` samples at 1 kHz, and ends (exclusive) at
    ``t0 + (k+1) * epoch_ms * 1000`` us, where ``t0`` is the time of the first block. A session
    starting at ``t_us = 0`` thus has epoch k covering ``[k s, (k+1) s)`` as A-12 states. A
    trailing partial epoch is kept for the next block and never reported on its own.

    Parameters
    ----------
    epoch_ms:
        Epoch length in milliseconds (= samples), >= 1; A-12 uses 1000.
    """

    __slots__ = ("_epoch_ms", "_partial_sum", "_samples_seen", "_start_t_us")

    def __init__(self, epoch_ms: int = 1000) -> None:
        self._epoch_ms = _check_int("epoch_ms", epoch_ms, minimum=1, maximum=3_600_000)
        self._start_t_us: int | None = None
        self._samples_seen = 0
        self._partial_sum = 0

    @property
    def epoch_ms(self) -> int:
        """The epoch length in milliseconds."""
        return self._epoch_ms

    @property
    def next_t_us(self) -> int | None:
        """The ``t0_us`` the next block must carry (``None`` before the first block)."""
        if self._start_t_us is None:
            return None
        return self._start_t_us + SAMPLE_PERIOD_US * self._samples_seen

    def process(self, activity_milli_g: npt.NDArray[np.int16], t0_us: int) -> list[tuple[int, int]]:
        """Consume the next block of activity samples (int16 milli-g at 1 kHz).

        Returns
        -------
        list of (int, int)
            ``(epoch_end_t_us, mean_abs_milli_g)`` for every epoch that this block completed.
        """
        samples = _check_samples("activity_milli_g", activity_milli_g)
        start_us = _check_t0(t0_us)
        _check_continuity(self.next_t_us, start_us)
        if self._start_t_us is None:
            self._start_t_us = start_us
        n = self._epoch_ms
        magnitude = np.abs(samples.astype(np.int64))
        filled = self._samples_seen % n
        need = n - filled
        epoch_sums: list[int] = []
        if magnitude.shape[0] < need:
            self._partial_sum += int(magnitude.sum())
        else:
            epoch_sums.append(self._partial_sum + int(magnitude[:need].sum()))
            rest = magnitude[need:]
            whole = rest.shape[0] // n
            if whole:
                epoch_sums.extend(rest[: whole * n].reshape(whole, n).sum(axis=1).tolist())
            self._partial_sum = int(rest[whole * n :].sum())
        first_epoch = self._samples_seen // n
        self._samples_seen += int(magnitude.shape[0])
        epoch_us = n * SAMPLE_PERIOD_US
        return [
            (self._start_t_us + (first_epoch + k + 1) * epoch_us, total // n)
            for k, total in enumerate(epoch_sums)
        ]

    def reset(self) -> None:
        """Start a new stream: no partial epoch, any ``t0_us`` accepted next."""
        self._start_t_us = None
        self._samples_seen = 0
        self._partial_sum = 0

    def state(self) -> ActivityState:
        """Snapshot the stream."""
        return ActivityState(
            epoch_ms=self._epoch_ms,
            start_t_us=self._start_t_us,
            samples_seen=self._samples_seen,
            partial_sum_milli_g=self._partial_sum,
        )

    def restore(self, state: ActivityState) -> None:
        """Return to a snapshot of a stream with the same epoch length."""
        if not isinstance(state, ActivityState) or state.epoch_ms != self._epoch_ms:
            got: Any = state.epoch_ms if isinstance(state, ActivityState) else type(state).__name__
            raise SensingConfigError(
                f"activity state {got!r}: expected an ActivityState with epoch_ms {self._epoch_ms}",
                name="state",
                value=got,
                expected=f"ActivityState(epoch_ms={self._epoch_ms})",
            )
        self._start_t_us = state.start_t_us
        self._samples_seen = _check_int("samples_seen", state.samples_seen, minimum=0)
        self._partial_sum = _check_int("partial_sum_milli_g", state.partial_sum_milli_g, minimum=0)
