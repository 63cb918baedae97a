"""The ISO 14708-2 triangle and trains, checked against hand values and the A-16 front end."""

from __future__ import annotations

import re

import numpy as np
import pytest

from devicetwin.pacemaker.sensing import SensingFrontEnd
from hil.measure.errors import BadSignalError
from hil.measure.signals import iso_triangle, pulse_train, train_onsets_ms


def test_triangle_at_1_khz_is_the_a16_shape() -> None:
    wave = iso_triangle(2.6, 1000.0)
    assert wave.shape == (15,)
    # 0, A/2, A at 2 ms, then down by A/13 per ms.
    expected = [0.0, 1.3, 2.6] + [2.6 * (1 - k / 13) for k in range(1, 13)]
    np.testing.assert_allclose(wave, np.array(expected) * 1e-3, atol=1e-15)


@pytest.mark.parametrize("rate", [1000.0, 10_000.0, 96_000.0])
def test_peak_at_2_ms_for_any_rate_and_polarity(rate: float) -> None:
    wave = iso_triangle(5.0, rate, polarity=-1, volts_per_mv=0.1)
    assert wave.shape[0] == round(0.015 * rate)
    k = int(np.argmin(wave))
    assert k / rate == pytest.approx(0.002)
    assert wave[k] == pytest.approx(-0.5)
    assert np.all(wave <= 0)


def test_front_end_threshold_is_32_31_of_the_sensitivity() -> None:
    # the peak sample is A and the 16 before sum to A/2, so y16 = 15.5 A: the pulse is
    # detected from A >= 32/31 * sensitivity. Sensitivity 2.48 mV -> threshold 2.56 mV.
    def detected(amplitude_mv: float) -> bool:
        fe = SensingFrontEnd(1000, 2480, 50)
        mv = pulse_train([100.0], amplitude_mv, 1000.0, volts_per_mv=1.0, duration_ms=200)
        uv = np.round(mv * 1000).astype(np.int16)
        det = fe.process(np.zeros_like(uv), uv, 0)
        return len(det.t_us) > 0

    assert detected(2.560)
    assert not detected(2.558)


def test_train_onsets_and_overlap() -> None:
    assert train_onsets_ms(100.0, 460.0, 3) == [100.0, 560.0, 1020.0]
    wave = pulse_train([0.0, 5.0], 1.0, 1000.0, volts_per_mv=1.0)
    assert wave.shape == (20,)
    # Sample 7: the first triangle at 7 ms (1 - 5/13) plus the second at 2 ms (1).
    assert wave[7] == pytest.approx(1 - 5 / 13 + 1.0)
    assert pulse_train([10.0], 1.0, 1000.0, duration_ms=12.0).shape == (12,)


def test_bad_values_are_named() -> None:
    with pytest.raises(BadSignalError, match=re.escape("-1.0")):
        iso_triangle(-1.0, 1000.0)
    with pytest.raises(BadSignalError, match="0"):
        iso_triangle(1.0, 0.0)
    with pytest.raises(BadSignalError, match="polarity 2"):
        iso_triangle(1.0, 1000.0, polarity=2)
    with pytest.raises(BadSignalError, match=re.escape("-5.0")):
        pulse_train([-5.0], 1.0, 1000.0)
