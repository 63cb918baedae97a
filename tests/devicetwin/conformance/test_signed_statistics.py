"""Signed timing statistics, tolerances in microseconds and not-applicable verdicts, on
hand-built streams with hand-computed numbers."""

from __future__ import annotations

import json

import pytest
from marker_streams import ev

from devicetwin.conformance import DiscrepancyClass as D
from devicetwin.conformance import (
    MatchTolerance,
    SignedStats,
    TimingLimits,
    VerdictStatus,
    match,
    run_monitors,
)
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag


def moved(events: list[MarkerEvent], dt_us: int,
          kinds: frozenset[MarkerKind] | None = None) -> list[MarkerEvent]:
    """Every event (of ``kinds``, or all) moved by ``dt_us``."""
    return [MarkerEvent(e.t_us + dt_us, e.chamber, e.kind, e.amplitude_mv, e.width_us, e.flags)
            if kinds is None or e.kind in kinds else e for e in events]


def ddd_sensed_and_paced(n: int) -> list[MarkerEvent]:
    """n cycles of 1000 ms from 1 s on: paced cycles AP/VP, every third one AS/VS instead."""
    out = []
    for k in range(n):
        t = 1000 + 1000 * k
        if k % 3 == 2:
            out += [ev(t, MarkerKind.AS), ev(t + 120, MarkerKind.VS)]
        else:
            out += [ev(t, MarkerKind.AP), ev(t + 150, MarkerKind.VP)]
    return out


# SignedStats ---------------------------------------------------------------------------------

def test_signed_stats_hand_numbers() -> None:
    st = SignedStats.of([7000, -3000, 0, 2000, -1000], "twin")
    assert st is not None
    # sorted: -3000 -1000 0 2000 7000; mean 5000 / 5 = 1000
    assert (st.n, st.median_us, st.mean_us, st.max_abs_us) == (5, 0.0, 1000.0, 7000.0)
    # linear interpolation: p5 at rank 0.2 -> -3000 + 0.2 * 2000; p95 at 3.8 -> 2000 + 0.8 * 5000
    assert st.p5_us == pytest.approx(-2600.0) and st.p95_us == pytest.approx(6000.0)
    assert st.to_dict() == {"n": 5, "median_us": 0.0, "mean_us": 1000.0, "p5_us": -2600.0,
                            "p95_us": 6000.0, "max_abs_us": 7000.0, "reference": "twin"}
    assert SignedStats.of([]) is None


# matching: bias per kind -----------------------------------------------------------------------

def test_device_3ms_early_shows_minus_3000_us_per_kind_and_passes_at_8ms() -> None:
    pred = ddd_sensed_and_paced(12)  # 8 paced cycles, 4 sensed
    dev = moved(pred, -3000)
    r = match(dev, pred, MatchTolerance(tolerance_us=8000))
    assert r.passed and r.matched == 24
    assert list(r.timing_by_kind) == [MarkerKind.AS, MarkerKind.AP, MarkerKind.VS, MarkerKind.VP]
    for kind, n in ((MarkerKind.AP, 8), (MarkerKind.VP, 8), (MarkerKind.AS, 4),
                    (MarkerKind.VS, 4)):
        st = r.timing_by_kind[kind]
        assert (st.n, st.median_us, st.mean_us, st.p5_us, st.p95_us, st.max_abs_us) == (
            n, -3000.0, -3000.0, -3000.0, -3000.0, 3000.0), kind
    # the absolute figures alone do not say early or late
    assert r.timing_error.max_ms == 3.0
    d = json.loads(json.dumps(r.to_dict()))
    assert d["timing_by_kind_us"]["VP"]["median_us"] == -3000.0


def test_device_3ms_early_fails_at_2ms_and_still_shows_the_bias() -> None:
    pred = ddd_sensed_and_paced(12)
    r = match(moved(pred, -3000), pred, MatchTolerance(tolerance_us=2000))
    assert not r.passed and r.matched == 0
    assert r.counts[D.EARLY_PACE] == 16 and r.counts[D.SENSE_TIMING] == 8
    assert r.timing_by_kind[MarkerKind.VP].median_us == -3000.0
    assert r.timing_by_kind[MarkerKind.VP].n == 8


def test_bias_differs_per_kind_and_mixes_signs() -> None:
    pred = ddd_sensed_and_paced(6)  # AP 4, VP 4, AS 2, VS 2
    dev = moved(moved(pred, -2000, frozenset({MarkerKind.VP})), 1500,
                frozenset({MarkerKind.AP}))
    # one VP 5 ms late instead: VP errors -2000 x3 and +5000 -> sorted -2000 -2000 -2000 5000
    first_vp = next(i for i, e in enumerate(dev) if e.kind is MarkerKind.VP)
    dev[first_vp] = moved([dev[first_vp]], 7000)[0]
    r = match(dev, pred)
    vp = r.timing_by_kind[MarkerKind.VP]
    assert vp.n == 4 and vp.median_us == -2000.0 and vp.mean_us == pytest.approx(-250.0)
    assert vp.max_abs_us == 5000.0
    assert vp.p95_us == pytest.approx(-2000.0 + 0.85 * 7000.0)  # rank 2.85
    assert r.timing_by_kind[MarkerKind.AP].median_us == 1500.0
    assert r.timing_by_kind[MarkerKind.AS].max_abs_us == 0.0


# tolerance in microseconds --------------------------------------------------------------------

@pytest.mark.parametrize(("shift_us", "agrees"), [(2300, True), (2500, True), (2700, False),
                                                  (-2500, True), (-2600, False)])
def test_match_tolerance_of_2500_us_is_not_rounded(shift_us: int, agrees: bool) -> None:
    # 2.5 ms as 2 ms would reject 2.3; as 3 ms it would accept 2.7
    pred = ddd_sensed_and_paced(3)
    r = match(moved(pred, shift_us), pred, MatchTolerance(tolerance_us=2500))
    assert r.passed is agrees
    assert r.matched == (6 if agrees else 0)


VVI = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=500, tolerance_us=8000)


def vvi_escapes(escape_us: int, n: int = 10) -> list[MarkerEvent]:
    """VP every ``escape_us`` from 0 (all escapes)."""
    return [MarkerEvent(k * escape_us, Chamber.V, MarkerKind.VP, 3500, 400) for k in range(n + 1)]


def test_escape_interval_3ms_short_passes_at_8ms_with_its_bias() -> None:
    r = run_monitors(vvi_escapes(997_000), VVI)
    v = r.verdict("lower_rate.shortest_escape_interval_ms")
    assert v.passed and v.value == 997.0
    st = v.signed_error
    assert st is not None and st.reference == "LRI 1000 ms"
    assert (st.n, st.median_us, st.mean_us, st.p5_us, st.p95_us, st.max_abs_us) == (
        10, -3000.0, -3000.0, -3000.0, -3000.0, 3000.0)
    assert r.timing_statistics()["lower_rate.shortest_escape_interval_ms"] == st
    assert r.passed


@pytest.mark.parametrize(("tolerance_us", "escape_us", "status"), [
    (2000, 997_000, VerdictStatus.FAIL),    # limit 998 ms
    (2500, 997_000, VerdictStatus.FAIL),    # limit 997.5 ms
    (2500, 997_500, VerdictStatus.PASS),    # exactly on the limit (inclusive)
    (2500, 997_499, VerdictStatus.FAIL),    # 1 us short of it
    (3000, 997_000, VerdictStatus.PASS),
])
def test_escape_limit_uses_the_tolerance_in_us(tolerance_us: int, escape_us: int,
                                               status: VerdictStatus) -> None:
    lim = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=500, tolerance_us=tolerance_us)
    v = run_monitors(vvi_escapes(escape_us), lim).verdict("lower_rate.shortest_escape_interval_ms")
    assert v.limits.low == 1000 - tolerance_us / 1000
    assert v.status is status
    assert v.signed_error is not None and v.signed_error.median_us == escape_us - 1_000_000


def test_longest_interval_is_not_floored_to_the_millisecond() -> None:
    # 1002.7 ms against LRI 1000 + 2.5: floored to 1002 it would have passed
    lim = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=500, tolerance_us=2500)
    v = run_monitors(vvi_escapes(1_002_700), lim).verdict("lower_rate.longest_interval_ms")
    assert v.value == pytest.approx(1002.7) and v.status is VerdictStatus.FAIL
    assert v.limits.describe("ms") == "<= 1002.5 ms"
    assert len(v.evidence_t_us) == 10


def test_av_delay_signed_error_is_vp_minus_expected() -> None:
    # DDD at the lower rate (V timing): AP at 850 + 1000k, VP 3 ms early at 997 + 1000k
    lim = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, pav_ms=150)
    s = [ev(0, MarkerKind.VP)]
    for k in range(6):
        s += [ev(850 + 1000 * k, MarkerKind.AP), ev(997 + 1000 * k, MarkerKind.VP)]
    r = run_monitors(s, lim)
    v = r.verdict("av_delay.max_paced_av_error_ms")
    assert v.passed and v.value == 3.0  # the value stays the largest absolute error
    assert v.signed_error is not None
    assert (v.signed_error.n, v.signed_error.median_us) == (6, -3000.0)
    tight = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, pav_ms=150, tolerance_us=2999)
    assert run_monitors(s, tight).verdict("av_delay.max_paced_av_error_ms").failed


def test_upper_rate_signed_error_over_paces_held_at_the_uri() -> None:
    # VP at 0 then three VPs flagged UPPER_RATE 502 ms apart, and one plain escape at LRI
    s = [ev(0, MarkerKind.VP), ev(502, MarkerKind.VP, PaceFlag.UPPER_RATE),
         ev(1004, MarkerKind.VP, PaceFlag.UPPER_RATE), ev(1506, MarkerKind.VP, PaceFlag.UPPER_RATE),
         ev(2506, MarkerKind.VP)]
    r = run_monitors(s, TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500))
    v = r.verdict("upper_rate.min_interval_ms")
    assert v.passed and v.value == 502.0
    st = v.signed_error
    assert st is not None and st.reference == "URI 500 ms"
    assert (st.n, st.median_us, st.max_abs_us) == (3, 2000.0, 2000.0)  # the escape is not in it


# not applicable --------------------------------------------------------------------------------

def test_nothing_to_judge_is_not_applicable_and_does_not_fail_the_report() -> None:
    r = run_monitors(vvi_escapes(1_000_000), VVI)
    av = r.verdict("av_delay.max_paced_av_error_ms")  # VVI has no AV delay
    assert av.status is VerdictStatus.NOT_APPLICABLE and av.value is None
    assert not av.passed and not av.failed
    assert av.signed_error is None
    statuses = {v.status for v in r.verdicts}
    assert VerdictStatus.NOT_APPLICABLE in statuses and VerdictStatus.FAIL not in statuses
    assert r.passed
    # a hazard whose measurements are all not applicable was not evaluated
    assert not r.hazards[next(h for h in r.hazards if h.value == "pmt")].evaluated
    d = json.loads(json.dumps(r.to_dict()))
    na = next(x for x in d["verdicts"] if x["name"] == "av_delay.max_paced_av_error_ms")
    assert na["status"] == "not_applicable" and na["passed"] is False
