"""Closed-form checks of the sensing front end (A-16): numbers derived by hand here, not recorded.

The filter is ``y16[n] = 16*x[n] - sum(x[n-16..n-1])`` and a channel detects when
``|y16| >= 16 * sensitivity_uv`` outside its 50 ms dead time.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from devicetwin.pacemaker.markers import Chamber
from devicetwin.pacemaker.sensing import SenseChannel, SensingFrontEnd, quantize_uv

ATRIUM = int(SenseChannel.ATRIUM)
VENTRICLE = int(SenseChannel.VENTRICLE)


def iso_pulse_uv(amplitude_uv: int) -> npt.NDArray[np.int64]:
    """The ISO 14708-2 triangle at 1 kHz: 0, A//2, A (peak, index 2), then down to 0 over 13 ms.

    Built in integers by the test: rise sample ``A // 2``, fall samples ``A * (13 - k) // 13``.
    """
    a = abs(amplitude_uv)
    shape = [0, a // 2] + [a * (13 - k) // 13 for k in range(14)]
    pulse = np.asarray(shape, dtype=np.int64)
    return pulse if amplitude_uv >= 0 else -pulse


PULSE_PEAK_INDEX = 2


def place(length: int, *pieces: tuple[int, npt.NDArray[np.int64]]) -> npt.NDArray[np.int16]:
    """A zero signal of ``length`` samples with each ``(start, pulse)`` added at ``start``."""
    signal = np.zeros(length, dtype=np.int64)
    for start, pulse in pieces:
        signal[start : start + pulse.shape[0]] += pulse
    return signal.astype(np.int16)


def run(
    atrial: npt.NDArray[np.int16],
    ventricular: npt.NDArray[np.int16] | None = None,
    *,
    atrial_uv: int = 750,
    ventricular_uv: int = 2500,
    t0_us: int = 0,
) -> list[tuple[int, int]]:
    if ventricular is None:
        ventricular = np.zeros_like(atrial)
    front_end = SensingFrontEnd(atrial_uv, ventricular_uv)
    found = front_end.process(atrial, ventricular, t0_us)
    return [(int(t), int(c)) for t, c in zip(found.t_us, found.chamber, strict=True)]


def smallest_detected_amplitude_uv(sensitivity_uv: int) -> int:
    """Hand derivation of the ISO pulse's detection threshold.

    The window before the peak holds 14 zeros, 0 and the rise sample ``A // 2``, so at the peak
    ``y16 = 16*A - A//2``: for even ``A = 2k`` that is ``31k`` (gain 31/32 of ``16*A``), for odd
    ``A = 2m + 1`` it is ``31m + 16``. Every other sample has a smaller ``|y16|``: the rise sample
    gives ``8A``, the first fall sample ``16*(12A/13) - 1.5A < 13.3A``, later ones less, and once
    the pulse has passed ``|y16|`` is at most its area, ``7.5A``. So the pulse is detected iff
    ``16*A - A//2 >= 16*S``; the smallest even and odd solutions are below.
    """
    threshold = 16 * sensitivity_uv
    smallest_even = 2 * math.ceil(threshold / 31)
    smallest_odd = 2 * math.ceil((threshold - 16) / 31) + 1
    return min(smallest_even, smallest_odd)


@pytest.mark.parametrize("sensitivity_uv", [250, 500, 750, 1000, 2500, 4321, 10000])
@pytest.mark.parametrize("polarity", [1, -1])
def test_iso_pulse_detected_from_the_hand_derived_amplitude(
    sensitivity_uv: int, polarity: int
) -> None:
    a_min = smallest_detected_amplitude_uv(sensitivity_uv)
    # The gain at the peak is 31/32 (exactly for even A): the threshold is 32/31 of the sensitivity.
    assert 32 * sensitivity_uv / 31 <= a_min <= 32 * sensitivity_uv / 31 + 1
    start = 200
    for amplitude, expected in ((a_min, True), (a_min - 1, False)):
        signal = place(600, (start, iso_pulse_uv(polarity * amplitude)))
        for channel, kwargs in (
            (ATRIUM, {"atrial_uv": sensitivity_uv}),
            (VENTRICLE, {"ventricular_uv": sensitivity_uv}),
        ):
            quiet = np.zeros_like(signal)
            pair = (signal, quiet) if channel == ATRIUM else (quiet, signal)
            found = run(*pair, **kwargs)  # type: ignore[arg-type]
            # The other channel sees nothing; this one detects exactly at the peak, or not at all.
            want = [((start + PULSE_PEAK_INDEX) * 1000, channel)] if expected else []
            assert found == want, (amplitude, sensitivity_uv, polarity, channel)


def test_iso_pulse_on_a_settled_baseline_offset_has_the_same_threshold() -> None:
    sensitivity_uv = 2500
    a_min = smallest_detected_amplitude_uv(sensitivity_uv)  # 2581 uV
    assert a_min == 2581
    offset_uv = -1200  # below the sensitivity, so the start of the stream detects nothing
    for amplitude, want in ((a_min, [(302_000, VENTRICLE)]), (a_min - 1, [])):
        signal = place(600, (300, iso_pulse_uv(amplitude))).astype(np.int64) + offset_uv
        assert run(np.zeros(600, np.int16), signal.astype(np.int16)) == want


@pytest.mark.parametrize(("separation_ms", "count"), [(40, 1), (47, 1), (50, 2), (60, 2)])
def test_dead_time_merges_pulses_closer_than_50_ms(separation_ms: int, count: int) -> None:
    # A = 4 mV at 2.5 mV: the peak gives 15.5*A = 62000 >= 40000 but the rise sample only
    # 8*A = 32000 and the tail at most 7.5*A = 30000. The two samples after the peak still reach
    # 16*3692 - 6000 = 53072 and 16*3384 - (6000 + 3692) = 44452; the third only
    # 16*3076 - 13076 = 36140. So the second pulse falls wholly in the dead time (first + 50)
    # when its peak + 2 < first + 52.
    first = 100
    pulse = iso_pulse_uv(4000)
    signal = place(400, (first, pulse), (first + separation_ms, pulse))
    peaks = [first + PULSE_PEAK_INDEX, first + separation_ms + PULSE_PEAK_INDEX]
    want = [(peak * 1000, VENTRICLE) for peak in peaks[:count]]
    assert run(np.zeros_like(signal), signal) == want


@pytest.mark.parametrize("offset_uv", [1, 749, -749, 2499, -32767])
def test_dc_below_sensitivity_never_detects(offset_uv: int) -> None:
    # Before the start the history is 0: y16[n] = (16 - n) * c for n < 16, then 0. Max 16*|c|,
    # just below 16 * (|c| + 1).
    signal = np.full(3000, offset_uv, dtype=np.int16)
    sensitivity = min(abs(offset_uv) + 1, 32767)
    if abs(offset_uv) == 32767:
        sensitivity = 32767
        assert run(signal, signal, atrial_uv=sensitivity, ventricular_uv=sensitivity) == [
            (0, ATRIUM),
            (0, VENTRICLE),
        ]
        return
    assert run(signal, signal, atrial_uv=sensitivity, ventricular_uv=sensitivity) == []


def test_dc_at_or_above_sensitivity_detects_only_the_start_step() -> None:
    # y16[0] = 16*c >= 16*S detects once at sample 0; from sample 16 on y16 = 0 forever.
    signal = np.full(3000, 2500, dtype=np.int16)
    assert run(signal, signal, t0_us=7_000) == [(7_000, ATRIUM), (7_000, VENTRICLE)]
    assert run(-signal, -signal) == [(0, ATRIUM), (0, VENTRICLE)]
    below = np.full(3000, 2499, dtype=np.int16)
    assert run(below, below) == [(0, ATRIUM)]  # 2.499 mV: above 0.75 mV, below 2.5 mV


def test_slow_t_wave_ramp_is_not_detected_at_2_5_mv() -> None:
    # On a ramp x[n] = s*n, y16 = 16*s*n - s*(16n - 136) = 136*s. 1 mV over 150 ms is
    # s = 6.67 uV/ms, y16 ~ 907 uV, far below 16 * 2500 = 40000 uV. The apex and the return only
    # swap the sign of the slope. A T wave: up 1 mV over 150 ms, down over 150 ms, on a baseline.
    up = np.arange(151) * 1000.0 / 150.0
    t_wave_mv = np.concatenate((np.zeros(100), up, up[::-1][1:], np.zeros(200))) / 1000.0
    signal = quantize_uv(t_wave_mv)
    assert signal.max() == 1000
    assert run(np.zeros_like(signal), signal) == []


def test_steep_ramp_is_detected_where_the_ramp_formula_says() -> None:
    # The converse, so the ramp test can fail: slope 300 uV/ms gives y16 = 136*300 = 40800 >= 40000
    # once the window lies on the ramp (from ramp sample 16, n = 100 + 16); before that the window
    # still holds baseline zeros and y16 = 16*s*k - s*k*(k-1)/2 for ramp sample k (k < 16):
    # k = 15 gives 72000 - 31500 = 40500 >= 40000, k = 14 gives 67200 - 27300 = 39900 < 40000.
    ramp = np.concatenate((np.zeros(100, np.int64), 300 * np.arange(100), np.full(100, 29700)))
    signal = ramp.astype(np.int16)
    # The ramp goes on after the dead time: 136*300 at n = 165 detects again. After the ramp ends
    # (n = 200) y16 = 16*29700 - 300*(84 + ... + 99) = 36000 and falls: nothing more.
    assert run(np.zeros_like(signal), signal) == [(115_000, VENTRICLE), (165_000, VENTRICLE)]
    gentler = (ramp * 290 // 300).astype(np.int16)  # 136 * 290 = 39440 < 40000 everywhere
    assert run(np.zeros_like(gentler), gentler) == []


def test_mains_50_hz_at_1_mv_is_detected_every_dead_time_at_0_75_mv() -> None:
    # 50 Hz at 1 kHz has a 20-sample period, and x[n + 10] = -x[n] exactly after quantisation, so
    # once the 16-sample window is full |y16| has a period of 10 samples. Its peak: the filter's
    # gain at w = pi/10 is |16 - sum_{k=1..16} e^{-iwk}| = |16 - e^{-i 8.5 w} sin(8w)/sin(w/2)|,
    # about 19.4, so max |y16| ~ 19400 uV > 16 * 750 = 12000 (and < 16 * 2500 = 40000).
    w = math.pi / 10
    window_sum = complex(math.cos(8.5 * w), -math.sin(8.5 * w)) * math.sin(8 * w) / math.sin(w / 2)
    gain = abs(16 - window_sum)
    assert 19.3 < gain < 19.5
    mains = quantize_uv(np.sin(2 * np.pi * 50 * np.arange(2000) / 1000.0))
    assert mains.max() == 1000
    found = run(mains, mains)
    atrial = [t for t, c in found if c == ATRIUM]
    assert [c for _, c in found] == [ATRIUM] * len(found)  # nothing at 2.5 mV
    # After a detection at d >= 16, sample d + 50 has the same |y16| and is the first one allowed.
    intervals = np.diff(atrial)
    assert 50_000 <= intervals[0] < 60_000
    assert set(intervals[1:].tolist()) == {50_000}
    assert len(atrial) in (39, 40)  # 2 s at one detection per 50 ms


def test_dead_time_end_can_catch_the_falling_edge_of_a_pulse() -> None:
    # Peaks 49 ms apart: the second peak (n = 151) is in the dead time, the next sample (152,
    # first fall sample, y16 = 16*3692 - 6000 = 53072 >= 40000) is the first allowed and detects.
    pulse = iso_pulse_uv(4000)
    signal = place(400, (100, pulse), (149, pulse))
    assert run(np.zeros_like(signal), signal) == [(102_000, VENTRICLE), (152_000, VENTRICLE)]


def test_same_sample_on_both_channels_lists_the_atrium_first() -> None:
    signal = place(200, (50, iso_pulse_uv(-4000)))  # rise 8*A = 32000 < 40000 on both channels
    assert run(signal, signal, atrial_uv=2500) == [(52_000, ATRIUM), (52_000, VENTRICLE)]


def test_channels_have_independent_dead_times() -> None:
    # 1.4 mV at 0.75 mV: rise 8*1400 = 11200 and tail 7.5*1400 = 10500 stay below 12000.
    atrial = place(300, (10, iso_pulse_uv(1400)), (110, iso_pulse_uv(1400)))
    ventricular = place(300, (40, iso_pulse_uv(4000)))
    assert run(atrial, ventricular) == [
        (12_000, ATRIUM),
        (42_000, VENTRICLE),
        (112_000, ATRIUM),
    ]


def test_reprogrammed_sensitivity_applies_from_the_next_block() -> None:
    # 3 mV pulse: peak y16 = 16*3000 - 1500 = 46500: detected at 2.5 mV (40000), not at 3 mV.
    signal = place(200, (100, iso_pulse_uv(3000)))
    quiet = np.zeros_like(signal)
    front_end = SensingFrontEnd(750, 2500)
    assert len(front_end.process(quiet, signal, 0)) == 1
    front_end.set_sensitivity(Chamber.V, 3000)
    assert front_end.ventricular_sensitivity_uv == 3000
    assert len(front_end.process(quiet, signal, 200_000)) == 0
    front_end.set_sensitivity(1, 2906)  # 16 * 2906 = 46496 <= 46500
    assert front_end.process(quiet, signal, 400_000).t_us.tolist() == [502_000]
    front_end.set_sensitivity(SenseChannel.ATRIUM, 3000)
    assert front_end.atrial_sensitivity_uv == 3000


def test_reset_starts_a_new_stream() -> None:
    dc = np.full(100, 3000, dtype=np.int16)
    front_end = SensingFrontEnd(750, 2500)
    assert front_end.process(dc, dc, 0).t_us.tolist() == [0, 0]
    assert len(front_end.process(dc, dc, 100_000)) == 0  # settled: no step
    front_end.reset()
    assert front_end.next_t_us is None
    # History is zero again: the DC step detects at the new stream's first sample.
    assert front_end.process(dc, dc, 5_000_000).t_us.tolist() == [5_000_000, 5_000_000]
