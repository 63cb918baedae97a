"""Capture by the strength-duration law, only in excitable tissue; artefacts on every lead.

Law: Weiss/Lapicque, V_th = V_rheobase * (1 + chronaxie / width) (Lapicque 1909; the form used
in pacing practice, Ellenbogen, Clinical Cardiac Pacing, ch. 1). Defaults: RV rheobase 0.30 V,
chronaxie 0.50 ms -> 0.30 * (1 + 0.5 / 0.4) = 0.675 V at 0.4 ms (typical chronic ventricular
threshold 0.5-1.0 V at 0.4 ms).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from devicetwin.heart import Heart, HeartError, Origin, Pace
from devicetwin.pacemaker.markers import Chamber


def _captures(heart: Heart, site: str, amplitude_v: float, width_us: int) -> bool:
    snap = heart.snapshot()
    t = heart.now_us
    events = heart.advance(20_000, [Pace(t, site, amplitude_v, width_us)]).events
    heart.restore(snap)
    paces = [e for e in events if e.origin is Origin.PACED]
    assert len(paces) == 1
    assert paces[0].captured is not None
    return paces[0].captured


@pytest.mark.parametrize(
    ("site", "rheobase_v", "chronaxie_ms"),
    [("RV", 0.30, 0.50), ("RA", 0.35, 0.40), ("LV", 0.45, 0.50)],
)
def test_threshold_at_0_4_ms_follows_the_law(
    site: str, rheobase_v: float, chronaxie_ms: float, quiet_heart: Callable[..., Heart]
) -> None:
    heart = quiet_heart()
    heart.advance(500_000)
    lo, hi = 0.05, 10.0
    assert not _captures(heart, site, lo, 400) and _captures(heart, site, hi, 400)
    while hi - lo > 0.002:
        mid = 0.5 * (lo + hi)
        if _captures(heart, site, mid, 400):
            hi = mid
        else:
            lo = mid
    law = rheobase_v * (1.0 + chronaxie_ms / 0.4)  # computed by hand from the defaults
    assert hi == pytest.approx(law, rel=0.05)


def test_threshold_rises_with_the_rising_threshold_condition(
    quiet_heart: Callable[..., Heart],
) -> None:
    heart = quiet_heart(threshold_rise_per_min=2.0, threshold_max_factor=4.0)
    at_start = heart.threshold_v("RV", 400)
    heart.advance(30_000_000)  # 30 s at +200 %/min -> factor 2
    assert heart.threshold_v("RV", 400) == pytest.approx(2.0 * at_start, rel=1e-6)
    heart.advance(60_000_000)  # capped at 4x
    assert heart.threshold_v("RV", 400) == pytest.approx(4.0 * at_start, rel=1e-6)


def test_no_capture_in_refractory_tissue(quiet_heart: Callable[..., Heart]) -> None:
    heart = quiet_heart()
    heart.advance(500_000)
    paces = [Pace(500_000, "RV", 5.0, 400), Pace(600_000, "RV", 5.0, 400)]
    events = heart.advance(200_000, paces).events
    captured = [e.captured for e in events if e.origin is Origin.PACED]
    assert captured == [True, False]
    assert len([e for e in events if e.chamber is Chamber.V]) == 2  # both paces reported


def test_a_non_captured_pulse_still_shows_as_an_artefact(quiet_heart: Callable[..., Heart]) -> None:
    heart = quiet_heart()
    heart.advance(500_000)
    out = heart.advance(10_000, [Pace(503_000, "RV", 0.1, 400)])
    assert [e.captured for e in out.events] == []  # decided after the capture window
    rv = out.egm_mv["RV"]
    # 0.1 V over 0.4 of a 1 ms sample: 40 mV averaged into sample 3 on the pacing lead
    assert rv[3] == pytest.approx(40.0, rel=0.05)
    assert abs(out.egm_mv["RA"][3]) > 0.0  # far-field artefact on the atrial lead
    assert abs(out.egm_mv["RA"][3]) < 0.5 * abs(rv[3])
    late = heart.advance(20_000).events
    assert [(e.captured, e.site) for e in late] == [(False, "RV")]


def test_artefact_spanning_two_windows_is_split_like_one_call(
    quiet_heart: Callable[..., Heart],
) -> None:
    one = quiet_heart()
    two = quiet_heart()
    pace = Pace(1_800, "RV", 1.0, 400)  # 1.8-2.2 ms: crosses a 1 ms sample boundary
    a = one.advance(4_000, [pace]).egm_mv["RV"]
    b = np.concatenate([two.advance(2_000, [pace]).egm_mv["RV"], two.advance(2_000).egm_mv["RV"]])
    assert np.array_equal(a, b)
    assert a[1] == pytest.approx(200.0, rel=0.05) and a[2] == pytest.approx(200.0, rel=0.05)


def test_bad_paces_are_rejected_with_value_and_range() -> None:
    heart = Heart()
    with pytest.raises(HeartError) as err:
        Pace(0, "LA", 1.0, 400)
    assert err.value.value == "LA" and "RV" in str(err.value.expected)
    with pytest.raises(HeartError):
        Pace(0, "RV", -1.0, 400)
    with pytest.raises(HeartError):
        Pace(0, "RV", 1.0, 0)
    with pytest.raises(HeartError) as err2:
        heart.advance(1000, [Pace(5_000, "RV", 1.0, 400)])
    assert err2.value.value == 5_000 and "[0, 1000)" in str(err2.value)
