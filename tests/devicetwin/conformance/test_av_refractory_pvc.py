"""AV delay, refractory handling and PVC response monitors."""

from __future__ import annotations

import pytest
from marker_streams import ev, srt

from devicetwin.conformance import TimingLimits, run_monitors
from devicetwin.conformance.hazards import Hazard
from devicetwin.pacemaker.markers import MarkerEvent, MarkerKind, PaceFlag

DDD = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, pav_ms=150, sav_ms=120, pvarp_ms=250,
                   vrp_ms=320)


def sinus(n: int, pp: int = 800, sav: int = 120) -> list[MarkerEvent]:
    s = []
    for k in range(n):
        s += [ev(pp * k, MarkerKind.AS), ev(pp * k + sav, MarkerKind.VP)]
    return s


def test_sensed_av_delay() -> None:
    r = run_monitors(sinus(10), DDD)
    assert r.verdict("av_delay.max_sensed_av_error_ms").value == 0.0
    s = sinus(10)
    s[7] = ev(3 * 800 + 120 + 9, MarkerKind.VP)  # 9 ms late
    v = run_monitors(s, DDD).verdict("av_delay.max_sensed_av_error_ms")
    assert v.value == 9.0 and not v.passed and v.evidence_t_us == (2_529_000,)


@pytest.mark.parametrize(("vv", "expected_pav"), [(1000, 150), (500, 50), (750, 100)])
def test_dynamic_paced_av_delay(vv: int, expected_pav: int) -> None:
    # AVD = min + floor((fixed - min) * (VV - URI) / (LRI - URI)); fixed 150, min 50:
    # VV 750 -> 50 + floor(100 * 250 / 500) = 100
    lim = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, pav_ms=150, dynamic_av_min_ms=50)
    t_ap = vv + 600  # VP at AP + AVD is after last V + URI, so no upper-rate hold
    s = [ev(0, MarkerKind.VS), ev(vv, MarkerKind.VS), ev(t_ap, MarkerKind.AP),
         ev(t_ap + expected_pav, MarkerKind.VP)]
    r = run_monitors(s, lim)
    assert r.verdict("av_delay.max_paced_av_error_ms").value == 0.0
    s[3] = ev(t_ap + expected_pav + 10, MarkerKind.VP)
    assert not run_monitors(s, lim).verdict("av_delay.max_paced_av_error_ms").passed


def test_av_delay_held_to_uri_is_expected() -> None:
    # AS 300 ms after a VP: VP due at max(AS + 120, VP + 500)
    s = [ev(0, MarkerKind.AS), ev(120, MarkerKind.VP), ev(420, MarkerKind.AS),
         ev(620, MarkerKind.VP, PaceFlag.UPPER_RATE)]
    assert run_monitors(s, DDD).verdict("av_delay.max_sensed_av_error_ms").value == 0.0


def test_refractory_checks() -> None:
    base = sinus(6)
    assert all(run_monitors(base, DDD).verdict(f"refractory.{n}").value == 0 for n in
               ("v_senses_in_vrp", "a_senses_in_pvarp", "a_senses_in_av_delay",
                "tracked_refractory_senses"))
    # a VS 200 ms after the VP at 920 (< VRP 320 - 8): should have been VR
    r = run_monitors(srt([*base, ev(1120, MarkerKind.VS)]), DDD)
    assert r.verdict("refractory.v_senses_in_vrp").evidence_t_us == (1_120_000,)
    # as VR it is fine
    assert run_monitors(srt([*base, ev(1120, MarkerKind.VR)]), DDD).passed
    # an AS 100 ms after the VP at 920 (< PVARP 250 - 8): should have been AR
    r = run_monitors(srt([*base, ev(1020, MarkerKind.AS)]), DDD)
    assert r.verdict("refractory.a_senses_in_pvarp").evidence_t_us == (1_020_000,)
    # an AS during the AV delay after the AS at 1600 (VP at 1720)
    r = run_monitors(srt([*base, ev(1650, MarkerKind.AS)]), DDD)
    assert r.verdict("refractory.a_senses_in_av_delay").evidence_t_us == (1_650_000,)


def test_vp_tracking_a_refractory_sense() -> None:
    # VDD: AR at 200 after the VP at 0 (in PVARP); a VP at AR + 120 tracked it: violation
    lim = TimingLimits(mode="VDD", lri_ms=1000, uri_ms=300, sav_ms=120, pvarp_ms=250)
    s = [ev(0, MarkerKind.VP), ev(200, MarkerKind.AR), ev(320, MarkerKind.VP)]
    r = run_monitors(s, lim)
    assert r.verdict("refractory.tracked_refractory_senses").evidence_t_us == (320_000,)
    # the escape VP at LRI is not a response to the AR
    ok = [ev(0, MarkerKind.VP), ev(200, MarkerKind.AR), ev(1000, MarkerKind.VP)]
    assert run_monitors(ok, lim).verdict("refractory.tracked_refractory_senses").value == 0


PVC_LIM = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, sav_ms=150, pvarp_ms=250,
                       pvarp_extension_ms=150)


def test_pvc_extension_present_and_missing() -> None:
    s = srt([*sinus(3, sav=150), ev(2400, MarkerKind.PVC), ev(2400, MarkerKind.PVARP_EXT),
             ev(2750, MarkerKind.AR), ev(3400, MarkerKind.AS), ev(3550, MarkerKind.VP)])
    r = run_monitors(s, PVC_LIM)
    assert r.verdict("pvc_response.missing_extensions").value == 0
    assert r.verdict("pvc_response.misclassified_v_senses").value == 0
    assert not r.hazards[Hazard.PVC_RESPONSE].detected
    no_ext = [e for e in s if e.kind is not MarkerKind.PVARP_EXT]
    r2 = run_monitors(no_ext, PVC_LIM)
    assert r2.verdict("pvc_response.missing_extensions").evidence_t_us == (2_400_000,)
    assert r2.hazards[Hazard.PVC_RESPONSE].detected


def test_pvc_extension_not_twice_in_a_row_and_sense_inside_extension() -> None:
    # two PVCs in a row: the second must not extend again (A-6 once every two cycles)
    s = srt([*sinus(2, sav=150), ev(1600, MarkerKind.PVC), ev(1600, MarkerKind.PVARP_EXT),
             ev(2300, MarkerKind.PVC)])
    r = run_monitors(s, PVC_LIM)
    assert r.verdict("pvc_response.missing_extensions").value == 0
    s2 = srt([*s, ev(2300, MarkerKind.PVARP_EXT)])
    v = run_monitors(s2, PVC_LIM).verdict("pvc_response.unexpected_extensions")
    assert v.evidence_t_us == (2_300_000,)
    # an AS 300 ms after the extended PVC (PVARP 250 + 150 = 400) should have been AR
    s3 = srt([*s, ev(1900, MarkerKind.AS)])
    v3 = run_monitors(s3, PVC_LIM).verdict("pvc_response.a_senses_in_extended_pvarp")
    assert v3.evidence_t_us == (1_900_000,)


def test_pvc_misclassification() -> None:
    # VS with no atrial event since the previous V event should be PVC; PVC after an AS wrong
    s = srt([*sinus(2, sav=150), ev(1500, MarkerKind.VS)])
    v = run_monitors(s, DDD).verdict("pvc_response.misclassified_v_senses")
    assert v.evidence_t_us == (1_500_000,)
    s2 = srt([ev(0, MarkerKind.AS), ev(100, MarkerKind.PVC)])
    v2 = run_monitors(s2, DDD).verdict("pvc_response.misclassified_v_senses")
    assert v2.evidence_t_us == (100_000,)
