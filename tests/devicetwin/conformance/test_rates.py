"""Lower- and upper-rate monitors on hand-derived streams."""

from __future__ import annotations

from marker_streams import ev

from devicetwin.conformance import TimingLimits, run_monitors
from devicetwin.conformance.hazards import Hazard
from devicetwin.pacemaker.markers import MarkerEvent, MarkerKind, PaceFlag

DDD = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, pav_ms=150, sav_ms=150, pvarp_ms=250)


def ddd_at_lrl(n: int) -> list[MarkerEvent]:
    # ventricular timing: VA = 1000 - 150 = 850; AP at 850 + 1000k, VP at 1000 + 1000k
    out = [ev(0, MarkerKind.VP)]
    for k in range(n):
        out += [ev(850 + 1000 * k, MarkerKind.AP), ev(1000 + 1000 * k, MarkerKind.VP)]
    return out


def test_lower_rate_passes_at_lri_and_fails_when_late() -> None:
    good = run_monitors(ddd_at_lrl(10), DDD)
    v = good.verdict("lower_rate.longest_interval_ms")
    assert v.passed and v.value == 1000
    assert good.verdict("lower_rate.shortest_escape_interval_ms").value == 1000
    assert good.verdict("av_delay.max_paced_av_error_ms").value == 0.0
    assert good.passed, [x.sentence for x in good.verdicts if not x.passed]
    # cycle 5 escapes late: AP at 5850 + 20, VP at 6000 + 20 -> V-V 1020 > 1008
    bad_events = [e if e.t_us < 5_800_000 or e.t_us > 6_100_000 else
                  MarkerEvent(e.t_us + 20_000, e.chamber, e.kind, 3500, 400)
                  for e in ddd_at_lrl(10)]
    bad = run_monitors(bad_events, DDD)
    v = bad.verdict("lower_rate.longest_interval_ms")
    assert not v.passed and v.value == 1020 and v.evidence_t_us == (6_020_000,)
    assert v.limits.high == 1008


def test_lower_rate_silence_to_end_of_run() -> None:
    r = run_monitors(ddd_at_lrl(3), DDD, end_us=6_000_000)  # last VP at 3000 ms
    v = r.verdict("lower_rate.longest_interval_ms")
    assert not v.passed and v.value == 3000


def test_lower_rate_hysteresis_allows_hri_after_sense() -> None:
    # VVI, LRI 1000, HRI 1200 (50 ppm): VS at 0, 800; VP at 2000 flagged hysteresis (1200 later)
    lim = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=500, hysteresis_interval_ms=1200)
    s = [ev(0, MarkerKind.VS), ev(800, MarkerKind.VS), ev(2000, MarkerKind.VP, PaceFlag.HYSTERESIS),
         ev(3000, MarkerKind.VP)]
    r = run_monitors(s, lim)
    assert r.verdict("lower_rate.longest_hysteresis_interval_ms").value == 1200
    assert r.verdict("lower_rate.longest_hysteresis_interval_ms").passed
    assert r.verdict("lower_rate.longest_interval_ms").value == 1000
    assert r.passed
    # the same pace without the flag is late for the LRI
    s2 = [*s[:2], ev(2000, MarkerKind.VP), s[3]]
    r2 = run_monitors(s2, lim)
    assert not r2.verdict("lower_rate.longest_interval_ms").passed


def test_escape_pace_too_early_fails() -> None:
    lim = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=500)
    s = [ev(0, MarkerKind.VP), ev(1000, MarkerKind.VP), ev(1950, MarkerKind.VP)]
    r = run_monitors(s, lim)
    v = r.verdict("lower_rate.shortest_escape_interval_ms")
    assert not v.passed and v.value == 950 and v.evidence_t_us == (1_950_000,)
    # flagged sensor-driven: a reason to be early, exempt
    s2 = [*s[:2], ev(1950, MarkerKind.VP, PaceFlag.SENSOR)]
    assert run_monitors(s2, lim).verdict("lower_rate.shortest_escape_interval_ms").value == 1000


def test_atrial_mode_times_a_a() -> None:
    lim = TimingLimits(mode="AAI", lri_ms=800, uri_ms=500)
    s = [ev(800 * k, MarkerKind.AP) for k in range(6)]
    s += [ev(4000 + 830, MarkerKind.AP)]
    r = run_monitors(s, lim)
    v = r.verdict("lower_rate.longest_interval_ms")
    assert v.value == 830 and not v.passed


def wenckebach_5_4(n_a: int) -> list[MarkerEvent]:
    """DDD, SAV 150, URI 500, PVARP 250; AS every 470 ms from 0 (docs/timing.md by hand).

    VP = max(AS + 150, last V + 500) for an AS outside PVARP (last V + 250): AS 0 -> VP 150;
    AS 470 -> VP 650; AS 940 -> VP 1150; AS 1410 (> 1400) -> VP 1650; AS 1880 (< 1900): AR;
    AS 2350 -> VP 2500 (= 2350 + 150), and the cycle repeats every 2350 ms.
    """
    out = []
    for k in range(n_a):
        t = 470 * k
        period, ph = divmod(k, 5)
        base = 2350 * period
        if ph == 4:
            out.append(ev(t, MarkerKind.AR))
            continue
        out.append(ev(t, MarkerKind.AS))
        vp = base + 150 + 500 * ph
        out.append(ev(vp, MarkerKind.VP, PaceFlag.UPPER_RATE if ph else PaceFlag.NONE))
    return sorted(out, key=lambda e: e.t_us)


def test_wenckebach_5_4_passes_and_is_reported() -> None:
    s = wenckebach_5_4(50)  # 10 periods
    r = run_monitors(s, DDD)
    v = r.verdict("upper_rate.min_interval_ms")
    assert v.passed and v.value == 500
    assert r.results["upper_rate"].details["patterns"] == {"5:4": 9}
    assert r.verdict("upper_rate.wenckebach_groups").value == 9
    assert r.verdict("upper_rate.two_to_one_groups").value == 0
    assert not r.hazards[Hazard.UPPER_RATE].detected
    assert r.verdict("av_delay.max_sensed_av_error_ms").value == 0.0
    assert r.verdict("refractory.a_senses_in_pvarp").value == 0
    assert r.passed, [x.sentence for x in r.verdicts if not x.passed]


def test_two_to_one_block_reported() -> None:
    # P-P 390 < TARP 400: AS at 0 -> VP 150, PVARP to 400, AS 390 is AR, AS 780 -> VP 930 ...
    s = []
    for k in range(20):
        t = 390 * k
        if k % 2:
            s.append(ev(t, MarkerKind.AR))
        else:
            s += [ev(t, MarkerKind.AS), ev(t + 150, MarkerKind.VP)]
    r = run_monitors(sorted(s, key=lambda e: e.t_us), DDD)
    assert r.results["upper_rate"].details["patterns"] == {"2:1": 9}
    assert r.verdict("upper_rate.min_interval_ms").value == 780


def test_vv_below_uri_violates_url() -> None:
    # V-V at URI - 20 ms = 480 ms before a tracked VP
    s = [ev(0, MarkerKind.AS), ev(150, MarkerKind.VP), ev(480, MarkerKind.AS),
         ev(630, MarkerKind.VP), ev(1200, MarkerKind.AS), ev(1350, MarkerKind.VP)]
    r = run_monitors(s, DDD)
    v = r.verdict("upper_rate.min_interval_ms")
    assert not v.passed and v.value == 480 and v.evidence_t_us == (630_000,)
    assert v.limits.low == 492
    assert r.hazards[Hazard.UPPER_RATE].detected
    assert r.hazards[Hazard.UPPER_RATE].evidence_t_us == (630_000,)
    # URI - 8 exactly is within the tolerance
    s2 = [*s[:3], ev(642, MarkerKind.VP), *s[4:]]
    assert run_monitors(s2, DDD).verdict("upper_rate.min_interval_ms").passed


def test_sensor_paces_held_to_msri_and_magnet_exempt() -> None:
    lim = TimingLimits(mode="VVIR", lri_ms=1000, uri_ms=500, msri_ms=400)
    s = [ev(0, MarkerKind.VP), ev(420, MarkerKind.VP, PaceFlag.SENSOR),
         ev(840, MarkerKind.VP, PaceFlag.SENSOR)]
    r = run_monitors(s, lim)
    assert r.verdict("upper_rate.min_sensor_interval_ms").passed
    s2 = [*s, ev(1220, MarkerKind.VP, PaceFlag.SENSOR)]
    assert not run_monitors(s2, lim).verdict("upper_rate.min_sensor_interval_ms").passed
    mag = [ev(600 * k, MarkerKind.VP, PaceFlag.MAGNET) for k in range(5)]
    lim2 = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=1000)
    assert run_monitors(mag, lim2).verdict("upper_rate.min_interval_ms").value is None


def test_triggered_mode_upper_rate_is_pace_to_pace() -> None:
    # VVT, URI 500: VP(triggered) at 0; VS at 300 (< URI after the pace: triggers nothing);
    # VP(triggered) at 600 is 600 after the last pace (300 after the VS): within the URL
    lim = TimingLimits(mode="VVT", lri_ms=1000, uri_ms=500)
    s = [ev(0, MarkerKind.VP, PaceFlag.TRIGGERED), ev(300, MarkerKind.VS),
         ev(600, MarkerKind.VP, PaceFlag.TRIGGERED)]
    v = run_monitors(s, lim).verdict("upper_rate.min_interval_ms")
    assert v.passed and v.value == 600
    s2 = [*s, ev(1050, MarkerKind.VP, PaceFlag.TRIGGERED)]
    v2 = run_monitors(s2, lim).verdict("upper_rate.min_interval_ms")
    assert not v2.passed and v2.value == 450
