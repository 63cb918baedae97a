"""Limits judge measurements; TimingLimits and MatchTolerance validate at the boundary."""

from __future__ import annotations

import json
import pickle

import pytest

from devicetwin.conformance import (
    ConformanceError,
    Limits,
    MatchTolerance,
    Measurement,
    TimingLimits,
    VerdictStatus,
    judge,
    match,
    run_monitors,
)
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind


def test_limits_inclusive_bounds() -> None:
    lim = Limits(low=492, high=1008)
    assert lim.contains(492) and lim.contains(1008)
    assert not lim.contains(491.9) and not lim.contains(1008.5)
    assert Limits().contains(1e12)
    assert not Limits(high=0).contains(float("nan"))
    assert Limits(high=1008).describe("ms") == "<= 1008 ms"
    assert Limits(low=1, high=2).describe("ms") == "1..2 ms"
    with pytest.raises(ConformanceError, match="low = 3"):
        Limits(low=3, high=2)


def test_judge_passes_and_fails_with_sentence() -> None:
    m = Measurement("upper_rate.min_interval_ms", "A-3", 480, "ms", Limits(low=492),
                    "shortest V-V interval before a pace", (630_000,))
    v = judge(m)
    assert not v.passed and v.requirement_id == "A-3" and v.value == 480
    assert "480 ms" in v.sentence and "OUTSIDE" in v.sentence and "630 ms" in v.sentence
    ok = judge(Measurement("x", "A-3", 500, "ms", Limits(low=492), "shortest"))
    assert ok.passed and "within" in ok.sentence
    na = judge(Measurement("x", "A-3", None, "ms", Limits(low=492), "shortest"))
    assert na.status is VerdictStatus.NOT_APPLICABLE and "not applicable" in na.sentence
    assert not na.passed and not na.failed and not na.applicable  # neither a pass nor a failure
    assert ok.status is VerdictStatus.PASS and v.status is VerdictStatus.FAIL
    assert na.to_dict()["status"] == "not_applicable"
    json.dumps(v.to_dict())


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"mode": "XYZ"}, "mode"),
    ({"lri_ms": 0}, "lri_ms"),
    ({"uri_ms": 1200}, "uri_ms"),
    ({"hysteresis_interval_ms": 900}, "hysteresis_interval_ms"),
    ({"sensed_av_offset_ms": 10}, "sensed_av_offset_ms"),
    ({"tolerance_us": 8.5}, "tolerance_us"),
    ({"tolerance_us": -1}, "tolerance_us"),
])
def test_timing_limits_reject_bad_values(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConformanceError) as exc:
        TimingLimits(**kwargs)  # type: ignore[arg-type]
    assert exc.value.name == field
    assert repr(kwargs[field]) in str(exc.value) or str(kwargs[field]) in str(exc.value)
    again = pickle.loads(pickle.dumps(exc.value))
    assert again.name == field and again.value == exc.value.value


def test_timing_limits_mode_properties() -> None:
    ddd = TimingLimits(mode="DDDR")
    assert ddd.tracking and ddd.dual_paced and ddd.paces_atrium and ddd.senses_atrium
    vvi = TimingLimits(mode="VVI")
    assert not vvi.tracking and vvi.paces_ventricle and not vvi.paces_atrium
    aai = TimingLimits(mode="AAI")
    assert aai.atrial_only and aai.lower_rate_on_atrium
    # A-4 dynamic AV: fixed 150, min 50, LRI 1000, URI 500
    dyn = TimingLimits(dynamic_av_min_ms=50, sensed_av_offset_ms=-30)
    assert dyn.av_delay_ms(None) == 150 and dyn.av_delay_ms(400) == 50
    assert dyn.av_delay_ms(600) == 50 + (100 * 100) // 500 == 70
    assert dyn.sensed_av_delay_ms(600) == 40 and dyn.sensed_av_delay_ms(400) == 30


def test_match_tolerance_validation_and_lookup() -> None:
    t = MatchTolerance(tolerance_us_by_kind={MarkerKind.VP: 4000})
    assert t.tolerance_us_for(MarkerKind.VP) == 4000 and t.tolerance_us_for(MarkerKind.AP) == 8000
    assert t.window_us_for(MarkerKind.ATR_FB) == 2_000_000
    assert t.window_us_for(MarkerKind.AS) == 100_000
    with pytest.raises(ConformanceError):
        MatchTolerance(tolerance_us=-1)
    with pytest.raises(ConformanceError, match=r"2\.5"):
        MatchTolerance(tolerance_us=2.5)  # type: ignore[arg-type]
    with pytest.raises(ConformanceError, match="tolerance_us_by_kind"):
        MatchTolerance(tolerance_us_by_kind={MarkerKind.VP: -4})
    with pytest.raises(ConformanceError):
        MatchTolerance(amplitude_pct=-3)


def test_negative_times_rejected() -> None:
    bad = [MarkerEvent(-5, Chamber.A, MarkerKind.AS)]
    with pytest.raises(ConformanceError, match="-5"):
        match(bad, [])
    with pytest.raises(ConformanceError, match="-5"):
        run_monitors(bad, TimingLimits())


def test_reports_are_json_ready() -> None:
    s = [MarkerEvent(0, Chamber.V, MarkerKind.VP, 3500, 400),
         MarkerEvent(1_020_000, Chamber.V, MarkerKind.VP, 3500, 400)]
    r = run_monitors(s, TimingLimits(mode="VVI"))
    d = json.loads(json.dumps(r.to_dict()))
    assert d["passed"] is False
    assert set(r.hazard_flags()) == set(d["hazards"])
    m = match(s, s[:1])
    md = json.loads(json.dumps(m.to_dict()))
    assert md["matched_events"] == 1 and md["discrepancy_counts"]["extra_pace"] == 1
    assert md["timing_error_ms"] == {"p50": 0.0, "p95": 0.0, "max": 0.0}
