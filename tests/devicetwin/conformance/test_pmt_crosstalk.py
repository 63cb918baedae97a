"""PMT and crosstalk monitors on hand-derived streams."""

from __future__ import annotations

from marker_streams import ev, srt

from devicetwin.conformance import Activation, ActivationOrigin, TimingLimits, run_monitors
from devicetwin.conformance.hazards import Hazard
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag

DDD = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, pav_ms=150, sav_ms=150, pvarp_ms=250)


def pmt_stream(cycles: int, terminated: bool) -> list[MarkerEvent]:
    """A PVC at 0 with retrograde P at 260 (VA 260 > PVARP 250), then ``cycles`` PMT cycles.

    The AS at 260 is tracked: VP at max(260 + 150, 0 + 500) = 500 (upper-rate pace). Cycle k
    (k = 1..cycles): VP at 500 k, retrograde AS at 500 k + 260, next VP at
    max(AS + 150, VP + 500) = 500 (k + 1). When terminated (A-14, after 8 cycles), the VP that
    ends the last cycle carries PVARP_EXT (500 ms): its retrograde P at +260 is AR, the VA escape
    (850 ms) brings AP at +850 and VP 150 later; the AP keeps the atrium refractory.
    """
    s = [ev(0, MarkerKind.PVC), ev(260, MarkerKind.AS)]
    for k in range(1, cycles + 1):
        s += [ev(500 * k, MarkerKind.VP, PaceFlag.UPPER_RATE), ev(500 * k + 260, MarkerKind.AS)]
    t = 500 * (cycles + 1)
    s.append(ev(t, MarkerKind.VP, PaceFlag.UPPER_RATE))
    if terminated:
        s += [ev(t, MarkerKind.PVARP_EXT), ev(t + 260, MarkerKind.AR)]
        for j in range(4):
            s += [ev(t + 850 + 1000 * j, MarkerKind.AP), ev(t + 1000 + 1000 * j, MarkerKind.VP)]
    return srt(s)


def test_pmt_run_of_20_detected() -> None:
    # 20 VP->AS cycles at 500 ms (VPs 500 .. 10500), never terminated: longer than 10
    r = run_monitors(pmt_stream(20, False), DDD)
    v = r.verdict("pmt.longest_run_cycles")
    assert v.value == 20 and not v.passed
    assert r.hazards[Hazard.PMT].detected
    assert r.hazards[Hazard.PMT].evidence_t_us == (500_000,)
    (run,) = r.results["pmt"].details["runs"]
    assert (run.start_t_us, run.cycles, run.terminated) == (500_000, 20, False)
    assert run.time_to_termination_ms is None


def test_pmt_terminated_after_8() -> None:
    r = run_monitors(pmt_stream(8, True), DDD)
    (run,) = r.results["pmt"].details["runs"]
    # first PMT VP at 500, terminating VP (with PVARP_EXT) at 500 * 9 = 4500
    assert (run.start_t_us, run.end_t_us, run.cycles) == (500_000, 4_500_000, 8)
    assert run.terminated and run.by_device
    assert run.time_to_termination_ms == 4000.0
    assert r.verdict("pmt.max_time_to_termination_ms").value == 4000.0
    assert r.verdict("pmt.longest_run_cycles").passed
    assert not r.hazards[Hazard.PMT].detected
    assert r.verdict("pvc_response.unexpected_extensions").value == 0
    assert r.verdict("pvc_response.a_senses_in_extended_pvarp").value == 0
    assert r.passed, [x.sentence for x in r.verdicts if not x.passed]


def test_sinus_at_normal_rate_is_not_pmt() -> None:
    s = []
    for k in range(20):
        s += [ev(800 * k, MarkerKind.AS), ev(800 * k + 150, MarkerKind.VP)]
    r = run_monitors(s, DDD)
    assert r.verdict("pmt.longest_run_cycles").value == 0


def chb_ddd(n: int) -> list[MarkerEvent]:
    out = [ev(0, MarkerKind.VP)]
    for k in range(n):
        out += [ev(850 + 1000 * k, MarkerKind.AP), ev(1000 + 1000 * k, MarkerKind.VP)]
    return out


def test_crosstalk_missing_v_pace_after_ap() -> None:
    s = chb_ddd(6)
    r = run_monitors(s, DDD)
    assert r.verdict("crosstalk.ap_without_v_event").value == 0
    assert not r.hazards[Hazard.CROSSTALK].detected
    # the VP after the AP at 3850 never comes (complete block: no V event at all)
    s2 = [e for e in s if e.t_us != 4_000_000]
    r2 = run_monitors(s2, DDD)
    v = r2.verdict("crosstalk.ap_without_v_event")
    assert v.value == 1 and v.evidence_t_us == (3_850_000,)
    assert r2.hazards[Hazard.CROSSTALK].detected


def test_crosstalk_window_sense_needs_safety_pace() -> None:
    s = chb_ddd(6)
    # crosstalk: VS 60 ms after the AP at 2850 (window 40..110); safety pace at AP + 110
    good = srt([e for e in s if e.t_us != 3_000_000]
               + [ev(2910, MarkerKind.VS), ev(2960, MarkerKind.VP, PaceFlag.SAFETY)])
    r = run_monitors(good, DDD)
    assert r.verdict("crosstalk.window_senses_not_paced").value == 0
    assert r.verdict("crosstalk.safety_paces").value == 1
    assert not r.hazards[Hazard.CROSSTALK].detected
    inhibited = srt([e for e in s if e.t_us != 3_000_000] + [ev(2910, MarkerKind.VS)])
    r2 = run_monitors(inhibited, DDD)
    assert r2.verdict("crosstalk.window_senses_not_paced").evidence_t_us == (2_850_000,)
    assert r2.hazards[Hazard.CROSSTALK].detected
    # safety pacing off, but the heart shows a real conducted beat: not a hazard
    lim = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, safety_pacing=False)
    acts = [Activation(2_905_000, Chamber.V, ActivationOrigin.CONDUCTED)]
    r3 = run_monitors(inhibited, lim, activations=acts)
    assert r3.verdict("crosstalk.window_senses_not_paced").value == 0
    assert r3.verdict("crosstalk.window_senses_not_paced").value == 0
    r4 = run_monitors(inhibited, lim, activations=[])
    assert r4.verdict("crosstalk.window_senses_not_paced").value == 1


def test_crosstalk_not_applicable_in_vvi() -> None:
    lim = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=500)
    r = run_monitors([ev(0, MarkerKind.VP), ev(1000, MarkerKind.VP)], lim)
    assert r.verdict("crosstalk.ap_without_v_event").value is None
    assert not r.hazards[Hazard.CROSSTALK].evaluated
