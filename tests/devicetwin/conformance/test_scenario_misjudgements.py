"""Correct behaviour the monitors used to misjudge (found by the scenario library), next to the
violations they must still catch."""

from __future__ import annotations

from marker_streams import ev, srt

from devicetwin.conformance import (
    Activation,
    ActivationOrigin,
    Hazard,
    TimingLimits,
    run_monitors,
)
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag


def act(t_ms: int, chamber: Chamber, origin: ActivationOrigin = ActivationOrigin.INTRINSIC,
        captured: bool = True) -> Activation:
    return Activation(t_ms * 1000, chamber, origin, captured)


# 1. loss of capture ------------------------------------------------------------------------

def test_triggered_pace_into_refractory_ventricle_is_not_loss_of_capture() -> None:
    lim = TimingLimits(mode="VVT", lri_ms=1000, uri_ms=500)
    # a PVC depolarises the ventricle at 380, sensed at 400, triggered VP at 401: not captured,
    # 21 ms after the depolarisation (inside the 250 ms refractory window)
    s = [ev(0, MarkerKind.VP), ev(400, MarkerKind.VS), ev(401, MarkerKind.VP, PaceFlag.TRIGGERED),
         ev(1401, MarkerKind.VP)]
    truth = [act(0, Chamber.V, ActivationOrigin.PACED),
             act(380, Chamber.V, ActivationOrigin.ECTOPIC),
             act(401, Chamber.V, ActivationOrigin.PACED, False),
             act(1401, Chamber.V, ActivationOrigin.PACED)]
    r = run_monitors(s, lim, activations=truth)
    assert r.verdict("loss_of_capture.non_captured_paces").value == 0
    assert r.verdict("loss_of_capture.refractory_non_captured_paces").value == 1
    assert not r.hazards[Hazard.LOSS_OF_CAPTURE].detected
    # the escape pace at 1401 failing to capture is a real loss of capture: 1021 ms after the
    # last depolarisation
    lost = [*truth[:3], act(1401, Chamber.V, ActivationOrigin.PACED, False)]
    r2 = run_monitors(s, lim, activations=lost)
    assert r2.verdict("loss_of_capture.non_captured_paces").evidence_t_us == (1_401_000,)
    assert r2.hazards[Hazard.LOSS_OF_CAPTURE].detected


def test_atrial_refractory_window_is_200_ms() -> None:
    lim = TimingLimits(mode="AAT", lri_ms=1000, uri_ms=500)
    s = [ev(0, MarkerKind.AP), ev(450, MarkerKind.AP, PaceFlag.TRIGGERED),
         ev(1000, MarkerKind.AP, PaceFlag.TRIGGERED)]
    # a PAC at 260 (190 ms before the pace at 450: refractory); 210 ms before the pace at 1000
    # an intrinsic P at 790 (outside 200 ms: that non-capture counts)
    truth = [act(0, Chamber.A, ActivationOrigin.PACED),
             act(260, Chamber.A, ActivationOrigin.ECTOPIC),
             act(450, Chamber.A, ActivationOrigin.PACED, False), act(790, Chamber.A),
             act(1000, Chamber.A, ActivationOrigin.PACED, False)]
    r = run_monitors(s, lim, activations=truth)
    assert r.verdict("loss_of_capture.non_captured_paces").evidence_t_us == (1_000_000,)


# 2. lower rate: VP after a hysteresis AP ---------------------------------------------------

def _ddd_hyst(ap_flags: PaceFlag, vp_ms: int) -> list[MarkerEvent]:
    # AS at 0 and 800 tracked (SAV 150); then the sinus stops: the escape after the last AS is
    # HRI 1200, AP at 950 + 1200 - 150 = 2000, VP at 2000 + PAV 150 = 2150 (V-V 1200)
    return [ev(0, MarkerKind.AS), ev(150, MarkerKind.VP), ev(800, MarkerKind.AS),
            ev(950, MarkerKind.VP), ev(2000, MarkerKind.AP, ap_flags), ev(vp_ms, MarkerKind.VP)]


def test_ddd_vp_after_hysteresis_ap_is_judged_against_hri() -> None:
    lim = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, hysteresis_interval_ms=1200)
    r = run_monitors(_ddd_hyst(PaceFlag.HYSTERESIS, 2150), lim)
    assert r.verdict("lower_rate.longest_interval_ms").passed
    assert r.verdict("lower_rate.longest_hysteresis_interval_ms").value == 1200
    assert not any(v.failed for v in r.verdicts if v.name.startswith("lower_rate"))
    # without the flag the same AP broke LRI; with it a VP later than HRI + tol still fails
    assert not run_monitors(_ddd_hyst(PaceFlag.NONE, 2150), lim).verdict(
        "lower_rate.longest_interval_ms").passed
    late = run_monitors(_ddd_hyst(PaceFlag.HYSTERESIS, 2170), lim)
    v = late.verdict("lower_rate.longest_hysteresis_interval_ms")
    assert not v.passed and v.value == 1220


# 3. VDD escape during the sensed AV delay --------------------------------------------------

def _vdd(vp_ms: int) -> list[MarkerEvent]:
    # AS at 0, VP at 150; AS at 1100: SAV ends at 1250 but the escape 150 + 1000 = 1150 first
    return [ev(0, MarkerKind.AS), ev(150, MarkerKind.VP), ev(1100, MarkerKind.AS),
            ev(vp_ms, MarkerKind.VP)]


def test_vdd_escape_during_sensed_av_delay() -> None:
    lim = TimingLimits(mode="VDD", lri_ms=1000, uri_ms=500)
    v = run_monitors(_vdd(1150), lim).verdict("av_delay.max_sensed_av_error_ms")
    assert v.passed and v.value == 0
    # a VP at AS + SAV = 1250 is now 100 ms late against the escape
    bad = run_monitors(_vdd(1250), lim).verdict("av_delay.max_sensed_av_error_ms")
    assert not bad.passed and bad.value == 100
    # DDD has no such escape: the VP at 1150 is 100 ms early against SAV
    ddd = run_monitors(_vdd(1150), TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500))
    assert not ddd.verdict("av_delay.max_sensed_av_error_ms").passed


# 4. VS in the same millisecond as an AS ----------------------------------------------------

def test_vs_at_the_instant_of_an_as_is_not_a_pvc() -> None:
    lim = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500)
    s = srt([ev(0, MarkerKind.AS), ev(150, MarkerKind.VP), ev(900, MarkerKind.AS),
             ev(900, MarkerKind.VS), ev(1800, MarkerKind.AS), ev(1950, MarkerKind.VP)])
    r = run_monitors(s, lim)
    assert r.verdict("pvc_response.misclassified_v_senses").value == 0
    # a VS with no atrial event since the last V event is still a misclassified PVC
    pvc = srt([*s, ev(2500, MarkerKind.VS)])
    assert run_monitors(pvc, lim).verdict(
        "pvc_response.misclassified_v_senses").evidence_t_us == (2_500_000,)
    # and a PVC marker at the instant of an AS (handled first) is misclassified
    as_pvc = srt([e for e in s if not (e.t_us == 900_000 and e.kind is MarkerKind.VS)]
                 + [ev(900, MarkerKind.PVC)])
    assert run_monitors(as_pvc, lim).verdict(
        "pvc_response.misclassified_v_senses").evidence_t_us == (900_000,)


# 5. crosstalk at the end of the run --------------------------------------------------------

def test_ap_whose_av_delay_runs_past_the_end_is_not_judged() -> None:
    lim = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500)
    s = [ev(0, MarkerKind.AP), ev(150, MarkerKind.VP), ev(1000, MarkerKind.AP),
         ev(1150, MarkerKind.VP), ev(2000, MarkerKind.AP)]
    # deadline of the last AP: max(2000 + 150, 1150 + 500) + 8 = 2158
    r = run_monitors(s, lim, end_us=2_100_000)
    assert r.verdict("crosstalk.ap_without_v_event").value == 0
    late = run_monitors(s, lim, end_us=2_200_000)
    assert late.verdict("crosstalk.ap_without_v_event").evidence_t_us == (2_000_000,)


# 6. far field in atrial fibrillation -------------------------------------------------------

def test_far_field_not_judged_in_fibrillation() -> None:
    lim = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500)
    # detections 127 ms after a stamped activation and 23 ms before the next one: outside
    # [t - 120, t + 20] of both
    s = []
    for k in range(1, 4):
        s += [ev(900 * k + 127, MarkerKind.AS), ev(900 * k + 277, MarkerKind.VP)]
    fib = [act(150 * i, Chamber.A) for i in range(30)]  # 150 ms intervals: fibrillation
    r = run_monitors(s, lim, activations=fib)
    assert r.verdict("far_field_oversensing.tracked_oversensed").value == 0
    assert r.verdict("far_field_oversensing.oversensed_atrial_detections").value == 0
    # with organised activations (every 300 ms, same offsets) the detections are unexplained
    org = [act(300 * i, Chamber.A) for i in range(15)]
    r2 = run_monitors(s, lim, activations=org)
    assert r2.verdict("far_field_oversensing.tracked_oversensed").value == 3
    assert r2.hazards[Hazard.FAR_FIELD_OVERSENSING].detected


# 7. lower rate across a magnet change ------------------------------------------------------

def test_lower_rate_skips_intervals_spanning_a_magnet_change() -> None:
    lim = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=500)
    # magnet on at 2500 (asynchronous 600 ms), off at 4500: escape restarts there (VP at 5500)
    s = [ev(0, MarkerKind.VP), ev(1000, MarkerKind.VP), ev(2000, MarkerKind.VP),
         *(ev(t, MarkerKind.VP, PaceFlag.MAGNET) for t in (3100, 3700, 4300)),
         ev(5500, MarkerKind.VP), ev(6500, MarkerKind.VP)]
    v = run_monitors(s, lim).verdict("lower_rate.longest_interval_ms")
    assert v.passed and v.value == 1000
    # an interval of 1200 after the magnet period is still judged
    late = [*s, ev(7700, MarkerKind.VP)]
    bad = run_monitors(late, lim).verdict("lower_rate.longest_interval_ms")
    assert not bad.passed and bad.evidence_t_us == (7_700_000,)
