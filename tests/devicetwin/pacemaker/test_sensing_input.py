"""Quantisation (A-16) and the front end's rejection of bad settings and bad blocks."""

from __future__ import annotations

import pickle
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.errors import DeviceTwinError
from devicetwin.pacemaker.markers import Chamber
from devicetwin.pacemaker.sensing import (
    ActivityEpochs,
    NonFiniteSampleError,
    SensingConfigError,
    SensingError,
    SensingFrontEnd,
    SensingInputError,
    StreamDiscontinuityError,
    quantize_uv,
)

ZEROS = np.zeros(10, dtype=np.int16)


# --- quantisation ---------------------------------------------------------------------------


def test_halves_round_away_from_zero() -> None:
    # Dyadic millivolts whose product with 1000 is an exact half (half-to-even would differ).
    mv = np.array([0.0625, -0.0625, 0.3125, -0.3125, 0.0, -0.0, 0.1875, 0.0004999])
    assert quantize_uv(mv).tolist() == [63, -63, 313, -313, 0, 0, 188, 0]


def test_saturates_at_full_scale_and_keeps_shape() -> None:
    mv = np.array([[32.7665, 32.7675, 40.0], [-40.0, 1e300, -1e300]])
    got = quantize_uv(mv)
    assert got.dtype == np.int16
    assert got.shape == (2, 3)
    assert got.tolist() == [[32767, 32767, 32767], [-32767, 32767, -32767]]


@given(st.floats(-40.0, 40.0, allow_nan=False))
def test_matches_exact_decimal_rounding(mv: float) -> None:
    # Decimal(float) is the exact binary value; ROUND_HALF_UP rounds ties away from zero.
    product = Decimal(mv * 1000.0)
    want = int(product.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    want = max(-32767, min(32767, want))
    assert quantize_uv(np.array([mv])).tolist() == [want]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_samples_are_named(bad: float) -> None:
    with pytest.raises(NonFiniteSampleError) as info:
        quantize_uv(np.array([0.1, 0.2, bad, 0.3]))
    message = str(info.value)
    assert repr(bad) in message
    assert "index 2" in message
    assert isinstance(info.value, DeviceTwinError)
    assert info.value.value is not None


def test_non_real_samples_are_rejected() -> None:
    with pytest.raises(SensingInputError, match="complex128"):
        quantize_uv(np.array([1 + 2j]))
    with pytest.raises(SensingInputError, match="<U"):
        quantize_uv(np.array(["1.0"]))


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name", "value"),
    [
        ({"atrial_sensitivity_uv": 0}, "atrial_sensitivity_uv", "0"),
        ({"atrial_sensitivity_uv": -750}, "atrial_sensitivity_uv", "-750"),
        ({"ventricular_sensitivity_uv": 0}, "ventricular_sensitivity_uv", "0"),
        ({"ventricular_sensitivity_uv": 40000}, "ventricular_sensitivity_uv", "40000"),
        ({"ventricular_sensitivity_uv": 2.5}, "ventricular_sensitivity_uv", "2.5"),
        ({"atrial_sensitivity_uv": True}, "atrial_sensitivity_uv", "True"),
        ({"dead_time_ms": 0}, "dead_time_ms", "0"),
        ({"sample_rate_hz": 500}, "sample_rate_hz", "500"),
    ],
)
def test_bad_settings_name_the_value_and_the_range(
    kwargs: dict[str, object], name: str, value: str
) -> None:
    settings: dict[str, object] = {"atrial_sensitivity_uv": 750, "ventricular_sensitivity_uv": 2500}
    settings.update(kwargs)
    with pytest.raises(SensingConfigError) as info:
        SensingFrontEnd(**settings)  # type: ignore[arg-type]
    assert name in str(info.value)
    assert value in str(info.value)
    assert "expected" in str(info.value)
    assert info.value.name == name


def test_bad_reprogramming_is_rejected() -> None:
    front_end = SensingFrontEnd(750, 2500)
    with pytest.raises(SensingConfigError, match=r"chamber <Chamber\.X"):
        front_end.set_sensitivity(Chamber.X, 1000)
    with pytest.raises(SensingConfigError, match="chamber 2"):
        front_end.set_sensitivity(2, 1000)
    with pytest.raises(SensingConfigError, match="ventricular_sensitivity_uv -1"):
        front_end.set_sensitivity(Chamber.V, -1)
    assert front_end.ventricular_sensitivity_uv == 2500


def test_restore_rejects_a_foreign_state() -> None:
    state = SensingFrontEnd(750, 2500, dead_time_ms=40).state()
    with pytest.raises(SensingConfigError, match=r"dead_time_ms 40.*expected 50"):
        SensingFrontEnd(750, 2500).restore(state)
    with pytest.raises(SensingConfigError, match="dict"):
        SensingFrontEnd(750, 2500).restore({})  # type: ignore[arg-type]


# --- blocks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("atrial", "pattern"),
    [
        (np.zeros(10, dtype=np.float64), "atrial_uv of dtype float64: expected int16"),
        (np.zeros(10, dtype=np.int32), "atrial_uv of dtype int32: expected int16"),
        (np.zeros((2, 5), dtype=np.int16), r"atrial_uv of shape \(2, 5\): expected a 1-D"),
        ([0] * 10, "atrial_uv of type list: expected a 1-D int16"),
    ],
)
def test_bad_blocks_are_rejected(atrial: object, pattern: str) -> None:
    with pytest.raises(SensingInputError, match=pattern):
        SensingFrontEnd(750, 2500).process(atrial, ZEROS, 0)  # type: ignore[arg-type]


def test_mismatched_channel_lengths_are_rejected() -> None:
    with pytest.raises(SensingInputError, match="ventricular_uv of 9 samples: expected 10"):
        SensingFrontEnd(750, 2500).process(ZEROS, ZEROS[:9], 0)


def test_non_contiguous_blocks_are_accepted() -> None:
    signal = np.zeros(40, dtype=np.int16)
    signal[20] = 8000
    found = SensingFrontEnd(750, 2500).process(signal[::2], signal[::2], 0)
    assert found.t_us.tolist() == [10_000, 10_000]


def test_discontinuous_t0_names_both_times() -> None:
    front_end = SensingFrontEnd(750, 2500)
    front_end.process(ZEROS, ZEROS, 1_000)
    with pytest.raises(StreamDiscontinuityError) as info:
        front_end.process(ZEROS, ZEROS, 12_000)
    assert "t0_us 12000" in str(info.value)
    assert "expected 11000" in str(info.value)
    front_end.process(ZEROS, ZEROS, 11_000)  # the right time still continues the stream


@pytest.mark.parametrize(
    ("t0", "pattern"),
    [(-1, "t0_us -1"), (2**63, f"t0_us {2**63}"), (1.5, "t0_us 1.5"), (None, "None")],
)
def test_bad_t0_is_rejected(t0: object, pattern: str) -> None:
    with pytest.raises(SensingInputError, match=pattern):
        SensingFrontEnd(750, 2500).process(ZEROS, ZEROS, t0)  # type: ignore[arg-type]


def test_activity_input_is_checked_like_the_electrograms() -> None:
    epochs = ActivityEpochs()
    with pytest.raises(SensingInputError, match="activity_milli_g of dtype float32"):
        epochs.process(np.zeros(3, dtype=np.float32), 0)
    epochs.process(np.zeros(3, dtype=np.int16), 0)
    with pytest.raises(StreamDiscontinuityError, match="t0_us 0: expected 3000"):
        epochs.process(np.zeros(3, dtype=np.int16), 0)
    with pytest.raises(SensingConfigError, match="epoch_ms 0"):
        ActivityEpochs(0)


def test_errors_are_picklable_with_their_fields() -> None:
    with pytest.raises(SensingError) as info:
        SensingFrontEnd(0, 2500)
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is SensingConfigError
    assert (copy.name, copy.value, str(copy)) == (
        "atrial_sensitivity_uv",
        0,
        str(info.value),
    )
