"""Test signals for the arbitrary waveform generator: the ISO 14708-2 triangular test pulse.

ISO 14708-2 measures sensitivity with a triangular pulse, 2 ms rise and 13 ms fall, in both
polarities. :func:`iso_triangle` returns it at an amplitude in mV as AWG samples in volts
(``volts_per_mv`` maps the electrode's millivolts to the generator's output; 1e-3 = no
attenuator). Sample ``k`` is at ``k / sample_rate_hz`` from the pulse's start, so at 1 kHz the
samples are ``0, A/2, A, 12A/13, ...`` (the shape ``docs/assumptions.md`` A-16 derives the
front end's gain from). :func:`pulse_train` places such pulses at given onsets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hil.measure.errors import BadSignalError

FloatArray = npt.NDArray[np.float64]

RISE_MS = 2.0
FALL_MS = 13.0
DURATION_MS = RISE_MS + FALL_MS


def _check_rate(sample_rate_hz: float) -> None:
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise BadSignalError(
            f"sample rate {sample_rate_hz!r} Hz must be positive", name="sample_rate_hz",
            value=sample_rate_hz, expected="> 0 Hz",
        )


def _check_polarity(polarity: int) -> None:
    if polarity not in (1, -1):
        raise BadSignalError(
            f"polarity {polarity!r} must be +1 or -1", name="polarity", value=polarity,
            expected="+1 or -1",
        )


def triangle_at(t_ms: FloatArray, amplitude_mv: float) -> FloatArray:
    """The triangle's value in mV at times ``t_ms`` from its start (0 outside ``[0, 15) ms``)."""
    rise = amplitude_mv * t_ms / RISE_MS
    fall = amplitude_mv * (1.0 - (t_ms - RISE_MS) / FALL_MS)
    out = np.where(t_ms <= RISE_MS, rise, fall)
    return np.where((t_ms >= 0.0) & (t_ms < DURATION_MS), out, 0.0)


def iso_triangle(
    amplitude_mv: float,
    sample_rate_hz: float,
    *,
    polarity: int = 1,
    volts_per_mv: float = 1e-3,
) -> FloatArray:
    """One ISO 14708-2 triangular pulse (2 ms rise, 13 ms fall) as AWG volts.

    Parameters
    ----------
    amplitude_mv : float
        Peak amplitude at the electrode, mV (non-negative).
    sample_rate_hz : float
        AWG sample rate, Hz.
    polarity : int
        +1 (positive peak) or -1.
    volts_per_mv : float
        AWG volts per electrode millivolt.

    Returns
    -------
    ndarray of float64
        ``round(15 ms * rate)`` samples, V; the first is the pulse's start (0).
    """
    _check_rate(sample_rate_hz)
    _check_polarity(polarity)
    if not (math.isfinite(amplitude_mv) and amplitude_mv >= 0):
        raise BadSignalError(
            f"amplitude {amplitude_mv!r} mV must be a non-negative number",
            name="amplitude_mv", value=amplitude_mv, expected=">= 0 mV",
        )
    n = round(DURATION_MS * 1e-3 * sample_rate_hz)
    t_ms = np.arange(n, dtype=np.float64) * (1e3 / sample_rate_hz)
    return polarity * volts_per_mv * triangle_at(t_ms, amplitude_mv)


def pulse_train(
    onsets_ms: Sequence[float],
    amplitude_mv: float,
    sample_rate_hz: float,
    *,
    duration_ms: float | None = None,
    polarity: int = 1,
    volts_per_mv: float = 1e-3,
) -> FloatArray:
    """Triangles starting at ``onsets_ms`` (from the waveform's first sample), as AWG volts.

    Onsets are rounded to the nearest sample. The waveform lasts ``duration_ms`` (default: to the
    end of the last pulse); pulses that overlap add.
    """
    _check_rate(sample_rate_hz)
    one = iso_triangle(amplitude_mv, sample_rate_hz, polarity=polarity,
                       volts_per_mv=volts_per_mv)
    starts = [round(t * 1e-3 * sample_rate_hz) for t in onsets_ms]
    if any(s < 0 for s in starts):
        raise BadSignalError(
            f"onsets {list(onsets_ms)!r} ms must not be negative", name="onsets_ms",
            value=list(onsets_ms), expected=">= 0 ms",
        )
    end = max((s + one.shape[0] for s in starts), default=0)
    n = end if duration_ms is None else round(duration_ms * 1e-3 * sample_rate_hz)
    out = np.zeros(max(n, 0), dtype=np.float64)
    for s in starts:
        stop = min(s + one.shape[0], out.shape[0])
        if stop > s:
            out[s:stop] += one[: stop - s]
    return out


def train_onsets_ms(first_ms: float, interval_ms: float, count: int) -> list[float]:
    """``count`` onsets ``first_ms + k * interval_ms`` (a train at ``60000 / interval_ms`` bpm)."""
    if not interval_ms > 0:
        raise BadSignalError(
            f"interval {interval_ms!r} ms must be positive", name="interval_ms",
            value=interval_ms, expected="> 0 ms",
        )
    return [first_ms + k * interval_ms for k in range(count)]
