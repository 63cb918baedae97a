"""ATR, noise reversion, loss of capture and far-field monitors."""

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

ATR = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, atr_enabled=True, atr_duration_cycles=10)


def atr_stream(dur: int | None = 9600, fb: int | None = 16200,
               end: int | None = 29150) -> list[MarkerEvent]:
    """Sinus 800 ms (AS, VP +150) to 7200; flutter detections every 300 ms from 7500 to 25200
    with VP every 600 ms from 7800; sinus again from 25800.

    By hand (A-13, URI 500): every flutter interval is short, so the 8th short one of the last
    10 is at detection 7 of the flutter: 7500 + 7 * 300 = 9600 (onset). The first V event after
    9600 is 10200 (9600 itself is not after it); 10 V events later, at 10200 + 10 * 600 = 16200,
    ATR_FB. After the flutter the short count falls by one per sinus detection: 25800 (9),
    26600 (8), 27400 (7), 28200 (6), 29000 (5 < 6, lapse); the next V event is 29150: ATR_END.
    """
    s = []
    for k in range(10):
        s += [ev(800 * k, MarkerKind.AS), ev(800 * k + 150, MarkerKind.VP)]
    s += [ev(7500 + 300 * i, MarkerKind.AR) for i in range(60)]
    s += [ev(7800 + 600 * j, MarkerKind.VP) for j in range(30)]
    for k in range(12):
        s += [ev(25800 + 800 * k, MarkerKind.AS), ev(25950 + 800 * k, MarkerKind.VP)]
    for t, kind in ((dur, MarkerKind.ATR_DUR), (fb, MarkerKind.ATR_FB), (end, MarkerKind.ATR_END)):
        if t is not None:
            s.append(ev(t, kind))
    return srt(s)


def test_atr_onset_fallback_end_pass() -> None:
    r = run_monitors(atr_stream(), ATR)
    assert r.verdict("atr.missed_markers").value == 0, r.results["atr"].details
    assert r.verdict("atr.unexpected_markers").value == 0
    assert r.verdict("atr.episodes").value == 1
    assert r.results["atr"].details["expected_fallback_t_us"] == [16_200_000]
    assert not r.hazards[Hazard.ATRIAL_TACHYARRHYTHMIA_HANDLING].detected


def test_atr_fallback_one_cycle_late_is_within_one_cc() -> None:
    r = run_monitors(atr_stream(fb=16800), ATR)
    assert r.verdict("atr.missed_markers").value == 0


def test_atr_violations() -> None:
    late_fb = run_monitors(atr_stream(fb=17400), ATR)  # two cycles late
    assert late_fb.verdict("atr.missed_markers").evidence_t_us == (16_200_000,)
    assert late_fb.verdict("atr.unexpected_markers").evidence_t_us == (17_400_000,)
    no_end = run_monitors(atr_stream(end=None), ATR)
    assert no_end.verdict("atr.missed_markers").evidence_t_us == (29_150_000,)
    assert no_end.hazards[Hazard.ATRIAL_TACHYARRHYTHMIA_HANDLING].detected
    late_dur = run_monitors(atr_stream(dur=9900), ATR)
    assert late_dur.verdict("atr.missed_markers").evidence_t_us == (9_600_000,)
    no_switch = run_monitors(atr_stream(None, None, None), ATR)
    assert no_switch.verdict("atr.missed_markers").value == 3
    off = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500)
    assert run_monitors(atr_stream(), off).verdict("atr.unexpected_markers").value == 3


def test_noise_reversion() -> None:
    lim = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=500)
    tn = [ev(2000 + 50 * i, MarkerKind.TN, chamber=Chamber.V) for i in range(41)]  # to 4000
    paced = srt([ev(1000 * k, MarkerKind.VP) for k in range(7)] + tn)
    r = run_monitors(paced, lim)
    v = r.verdict("noise_reversion.longest_gap_ms")
    assert v.passed and v.value == 1000
    assert r.verdict("noise_reversion.episodes").value == 1
    inhibited = srt([ev(0, MarkerKind.VP), ev(1000, MarkerKind.VP), ev(5000, MarkerKind.VP),
                     *tn])
    r2 = run_monitors(inhibited, lim)
    v2 = r2.verdict("noise_reversion.longest_gap_ms")
    # from the last VP before the noise (1000) to the end of the episode (4000 + 100)
    assert not v2.passed and v2.value == 3100
    assert r2.hazards[Hazard.NOISE_REVERSION].detected


def test_loss_of_capture_from_ground_truth() -> None:
    lim = TimingLimits(mode="VVI", lri_ms=1000, uri_ms=500)
    s = [ev(1000 * k, MarkerKind.VP) for k in range(4)]
    truth = [Activation(1000_000 * k + 2000, Chamber.V, ActivationOrigin.PACED, k != 2)
             for k in range(4)]
    r = run_monitors(s, lim, activations=truth)
    v = r.verdict("loss_of_capture.non_captured_paces")
    assert v.value == 1 and v.evidence_t_us == (2_000_000,)
    assert r.hazards[Hazard.LOSS_OF_CAPTURE].detected
    ok = [Activation(1000_000 * k, Chamber.V, ActivationOrigin.PACED, True) for k in range(4)]
    assert not run_monitors(s, lim, activations=ok).hazards[Hazard.LOSS_OF_CAPTURE].detected
    without = run_monitors(s, lim)
    assert not without.hazards[Hazard.LOSS_OF_CAPTURE].evaluated


def test_far_field_tracking_and_false_mode_switch() -> None:
    lim = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, pvarp_ms=150, atr_enabled=True)
    # sinus at 900 ms: true P at 900 k, VP at +150; an R wave sensed on the atrial lead 170 ms
    # after the VP (outside PVARP 150): AS at 900 k + 320 with no atrial activation there.
    s, truth = [], []
    for k in range(6):
        t = 900 * k
        s += [ev(t, MarkerKind.AS), ev(t + 150, MarkerKind.VP)]
        truth += [Activation(t * 1000 - 30_000, Chamber.A, ActivationOrigin.INTRINSIC),
                  Activation((t + 150) * 1000, Chamber.V, ActivationOrigin.PACED, True)]
    clean = run_monitors(srt(s), lim, activations=truth)
    assert clean.verdict("far_field_oversensing.oversensed_atrial_detections").value == 0
    assert not clean.hazards[Hazard.FAR_FIELD_OVERSENSING].detected
    # after the VP at 1950 the R wave is sensed at 2120 and tracked: VP at
    # max(2120 + 150, 1950 + 500) = 2450; the true P at 2700 is then tracked at
    # max(2850, 2450 + 500) = 2950 instead of 2850
    ff = [e for e in s if e.t_us != 2_850_000]
    ff = srt([*ff, ev(2120, MarkerKind.AS), ev(2450, MarkerKind.VP, PaceFlag.UPPER_RATE),
              ev(2950, MarkerKind.VP, PaceFlag.UPPER_RATE)])
    r = run_monitors(ff, lim, activations=truth)
    assert r.verdict("far_field_oversensing.tracked_oversensed").evidence_t_us == (2_120_000,)
    assert r.verdict("far_field_oversensing.oversensed_atrial_detections").value == 1
    assert r.hazards[Hazard.FAR_FIELD_OVERSENSING].detected
    # a mode switch while the true atrial rate is 900 ms is false
    sw = srt([*s, ev(3000, MarkerKind.ATR_DUR)])
    r2 = run_monitors(sw, lim, activations=truth)
    assert r2.verdict("far_field_oversensing.false_mode_switches").evidence_t_us == (3_000_000,)


def test_fallback_paces_are_not_held_to_av_or_escape_timing() -> None:
    # In VVI fallback atrial senses are not tracked; the VP carrying ATR_END at 4533 is
    # still timed by the fallback mode, 133 ms after an AS (SAV 150 would say 4550)
    s = srt([ev(0, MarkerKind.VP), ev(0, MarkerKind.ATR_FB), ev(3600, MarkerKind.AS),
             ev(3645, MarkerKind.VP), ev(4400, MarkerKind.AS), ev(4533, MarkerKind.VP),
             ev(4533, MarkerKind.ATR_END)])
    off = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500)
    r = run_monitors(s, off)
    assert r.verdict("av_delay.max_sensed_av_error_ms").value is None
    # without the fallback markers the same AV delays are violations
    plain = [e for e in s if e.chamber is not Chamber.X]
    assert not run_monitors(plain, off).verdict("av_delay.max_sensed_av_error_ms").passed


def test_at_marking_while_atr_is_on() -> None:
    # flutter detections outside PVARP are AT while ATR is on (from 9600, its onset included)
    # and AS before it; the first sinus P after the flutter (600 ms later) is AS again
    base = atr_stream()

    def relabel(s: list[MarkerEvent], times: dict[int, MarkerKind]) -> list[MarkerEvent]:
        return [ev(e.t_us // 1000, times[e.t_us // 1000])
                if e.chamber is Chamber.A and e.t_us // 1000 in times else e for e in s]

    good = relabel(base, {9000: MarkerKind.AS, 9600: MarkerKind.AT, 12000: MarkerKind.AT})
    r = run_monitors(good, ATR)
    assert r.verdict("atr.misclassified_atrial_senses").value == 0
    bad = relabel(base, {9000: MarkerKind.AT, 12000: MarkerKind.AS})
    v = run_monitors(bad, ATR).verdict("atr.misclassified_atrial_senses")
    assert v.evidence_t_us == (9_000_000, 12_000_000)
    assert not run_monitors(bad, ATR).hazards[Hazard.ATRIAL_TACHYARRHYTHMIA_HANDLING].detected
