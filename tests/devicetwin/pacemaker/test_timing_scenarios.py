"""Scenario tests of the timing engine, one per rule of docs/assumptions.md.

Each expected time is derived by hand in the comments (A-n cited); times in ms.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from devicetwin.pacemaker import (
    ActivityThreshold,
    BatteryState,
    Chamber,
    DeviceState,
    LowerRateTiming,
    MarkerEvent,
    MarkerKind,
    Mode,
    ModelError,
    PaceFlag,
    PacemakerModel,
    Programming,
    ProgrammingError,
)

K = MarkerKind
F = PaceFlag
A, V = Chamber.A, Chamber.V


def run(
    mode: Mode,
    dets: list[tuple[int, Chamber]],
    end_ms: int,
    state: DeviceState = DeviceState.PERMANENT,
    battery: BatteryState = BatteryState.BOL,
    **changes: Any,
) -> list[MarkerEvent]:
    model = PacemakerModel(Programming.nominal(mode, **changes), state, battery=battery)
    return model.run_detections([(t * 1000, ch) for t, ch in dets], end_ms * 1000)


def ms(out: list[MarkerEvent], *kinds: MarkerKind) -> list[int]:
    return [m.t_us // 1000 for m in out if not kinds or m.kind in kinds]


def seq(out: list[MarkerEvent], lo_ms: int = 0, hi_ms: int = 10**9) -> list[tuple[int, str]]:
    return [(m.t_us // 1000, m.kind.value) for m in out if lo_ms <= m.t_us // 1000 <= hi_ms]


# ---------------------------------------------------------------- lower rate
def test_vvi_escape_and_inhibition() -> None:
    # Start at 0 is a timing reference: VP at 1000, 2000. VS at 2600 -> next VP 3600.
    # VS at 2900 is inside VRP (2600 + 320 = 2920): VR, no effect.
    out = run(Mode.VVI, [(2600, V), (2900, V)], 5000)
    assert seq(out) == [(1000, "VP"), (2000, "VP"), (2600, "VS"), (2900, "VR"), (3600, "VP"),
                        (4600, "VP")]
    vp = next(m for m in out if m.kind is K.VP)
    assert (vp.amplitude_mv, vp.width_us) == (3500, 400)


def test_ddd_ventricular_based_timing() -> None:
    # VA = 1000 - 150 = 850: AP 850, VP 1000, AP 1850 ... A VS at 2400 restarts VA: AP 3250.
    out = run(Mode.DDD, [(2400, V)], 3500)
    assert seq(out) == [(850, "AP"), (1000, "VP"), (1850, "AP"), (2000, "VP"), (2400, "PVC"),
                        (3250, "AP"), (3400, "VP")]


def test_ddd_atrial_based_timing_with_sensed_offset() -> None:
    # Atrial timing: AP at 1000 (A-A = LRI), VP 1150. AS at 1800 -> SAV 150 - 50 = 100 -> VP 1900;
    # next AP at 1800 + 1000 = 2800 (ventricular timing would give 1900 + 850 = 2750).
    common = {"sensed_av_offset_ms": -50}
    atrial = run(Mode.DDD, [(1800, A)], 3000, lower_rate_timing=LowerRateTiming.ATRIAL, **common)
    assert seq(atrial) == [(1000, "AP"), (1150, "VP"), (1800, "AS"), (1900, "VP"), (2800, "AP"),
                           (2950, "VP")]
    ventricular = run(Mode.DDD, [(1800, A)], 3000, **common)
    assert seq(ventricular) == [(850, "AP"), (1000, "VP"), (1800, "AS"), (1900, "VP"),
                                (2750, "AP"), (2900, "VP")]


def test_aai_and_arp() -> None:
    # AP 1000; AS 1500 -> AP 2500. AS at 2700 is in ARP (2500 + 250): AR.
    out = run(Mode.AAI, [(1500, A), (2700, A)], 3600)
    assert seq(out) == [(1000, "AP"), (1500, "AS"), (2500, "AP"), (2700, "AR"), (3500, "AP")]


def test_ddi_does_not_track() -> None:
    # AS at 400 inhibits the AP (due 850) but starts no AV delay: VP at 0 + 1000.
    out = run(Mode.DDI, [(400, A)], 1900)
    assert seq(out) == [(400, "AS"), (1000, "VP"), (1850, "AP")]


def test_vdd_tracks_and_escapes() -> None:
    # VDD: VP at 1000 (ventricular escape). AS 1600 -> VP 1750 (SAV). No AS: VP at 2750.
    # AS at 3000: max(3150, 2750 + URI 500 = 3250) -> 3250 [UPPER_RATE].
    out = run(Mode.VDD, [(1600, A), (3000, A)], 3300)
    assert seq(out) == [(1000, "VP"), (1600, "AS"), (1750, "VP"), (2750, "VP"), (3000, "AS"),
                        (3250, "VP")]
    assert out[-1].flags == F.UPPER_RATE


def test_sense_at_pace_instant_inhibits() -> None:
    # VS exactly at the due 1000 ms inhibits the VP.
    out = run(Mode.VVI, [(1000, V)], 2100)
    assert seq(out) == [(1000, "VS"), (2000, "VP")]


def test_off_and_async_modes_ignore_detections() -> None:
    assert run(Mode.OFF, [(500, A), (600, V)], 5000) == []
    out = run(Mode.VOO, [(500, V)], 2100)
    assert seq(out) == [(1000, "VP"), (2000, "VP")]
    out = run(Mode.DOO, [(500, V), (900, A)], 2100)
    assert seq(out) == [(850, "AP"), (1000, "VP"), (1850, "AP"), (2000, "VP")]


# ---------------------------------------------------------------- blanking
def test_blanking_drops_without_marker() -> None:
    # DDD: AP 850 blanks V for 40 ms (-> a V detection at 870 is dropped) and A for 100 ms.
    # VP 1000 blanks A (PVAB 100) and V (100): detections at 1050 (A) and 1080 (V) dropped.
    out = run(Mode.DDD, [(870, V), (900, A), (1050, A), (1080, V)], 1500)
    assert seq(out) == [(850, "AP"), (1000, "VP")]


def test_pvarp_after_pvab() -> None:
    # VP 1000: A detection at 1200 (after PVAB, inside PVARP 1250) -> AR, no tracking.
    out = run(Mode.DDD, [(1200, A)], 2000)
    assert seq(out) == [(850, "AP"), (1000, "VP"), (1200, "AR"), (1850, "AP"), (2000, "VP")]


# ---------------------------------------------------------------- PVC + extension
def test_pvc_extends_pvarp() -> None:
    # PVC at 1400 (no atrial event since VP 1000): PVARP 250 + 150 = 400 -> until 1800:
    # an A detection at 1700 is AR (it would be AS with the plain 250 ms PVARP). AP 2250.
    out = run(Mode.DDD, [(1400, V), (1700, A)], 2250, pvarp_extension_ms=150)
    assert seq(out) == [(850, "AP"), (1000, "VP"), (1400, "PVC"), (1400, "PVARP_EXT"),
                        (1700, "AR"), (2250, "AP")]
    # Plain PVARP: AS at 1700 tracked, VP at max(1700 + 150, 1400 + 500) = 1900.
    plain = run(Mode.DDD, [(1400, V), (1700, A)], 1900)
    assert seq(plain) == [(850, "AP"), (1000, "VP"), (1400, "PVC"), (1700, "AS"), (1900, "VP")]


def test_pvc_extension_at_most_once_every_two_cycles() -> None:
    # PVCs at 1400, 2000, 2600: extension at 1400; not at 2000 (the previous V event had one);
    # again at 2600. AP 2600 + 850 = 3450.
    out = run(Mode.DDD, [(1400, V), (2000, V), (2600, V)], 3450, pvarp_extension_ms=150)
    assert seq(out) == [(850, "AP"), (1000, "VP"), (1400, "PVC"), (1400, "PVARP_EXT"),
                        (2000, "PVC"), (2600, "PVC"), (2600, "PVARP_EXT"), (3450, "AP")]


def test_ar_counts_as_atrial_event_for_pvc() -> None:
    # VP 1000, AR at 1200 (PVARP), V sense at 1500: an atrial event happened -> VS, not PVC.
    out = run(Mode.DDD, [(1200, A), (1500, V)], 1600)
    assert seq(out) == [(850, "AP"), (1000, "VP"), (1200, "AR"), (1500, "VS")]


# ---------------------------------------------------------------- safety pacing
def test_safety_pace_at_110_ms_after_crosstalk() -> None:
    # AP 850; V detection at 910 is in [850 + 40, 850 + 110): VS, safety VP at
    # min(850 + 110, 850 + 150) = 960; next AP 960 + 850 = 1810.
    out = run(Mode.DDD, [(910, V)], 1900)
    assert seq(out) == [(850, "AP"), (910, "VS"), (960, "VP"), (1810, "AP")]
    assert [m.flags for m in out if m.kind is K.VP] == [F.SAFETY]


def test_safety_pace_obeys_uri() -> None:
    # LRL = URL = 120 ppm: LRI = URI = 500, VA 350. PVC at 850 (after VRP 500 + 320) -> AP
    # 1200; crosstalk at 1250 -> safety at max(min(1310, 1350), 850 + 500 = 1350) = 1350.
    out = run(Mode.DDD, [(850, V), (1250, V)], 1360, lower_rate_ppm=120, upper_rate_ppm=120)
    assert seq(out) == [(350, "AP"), (500, "VP"), (850, "PVC"), (1200, "AP"), (1250, "VS"),
                        (1350, "VP")]
    assert out[-1].flags == F.SAFETY


def test_no_safety_pacing_when_off() -> None:
    # Without safety pacing the V detection at 910 is a plain VS that inhibits the VP.
    out = run(Mode.DDD, [(910, V)], 1800, safety_pacing=False)
    assert seq(out) == [(850, "AP"), (910, "VS"), (1760, "AP")]


# ---------------------------------------------------------------- triggered
def test_vvt_triggers_except_within_uri() -> None:
    # VS 300 -> VP[TRIGGERED] at 300. V sense at 700: 400 ms after the pace (< URI 500) -> VS,
    # no trigger, restarts the escape: VP 1700 (escape). Sense at 2300 (600 after the VP) ->
    # triggered VP at 2300; escape 3300.
    out = run(Mode.VVT, [(300, V), (700, V), (2300, V)], 3300)
    assert seq(out) == [(300, "VP"), (700, "VS"), (1700, "VP"), (2300, "VP"), (3300, "VP")]
    assert [m.flags for m in out] == [F.TRIGGERED, F.NONE, F.NONE, F.TRIGGERED, F.NONE]


def test_aat_triggers() -> None:
    out = run(Mode.AAT, [(400, A)], 1400)
    assert seq(out) == [(400, "AP"), (1400, "AP")]
    assert out[0].flags == F.TRIGGERED


# ---------------------------------------------------------------- hysteresis
def test_vvi_hysteresis() -> None:
    # HRI = interval(50) = 1200. VP 1000 (LRI). VS 1800 -> VP at 3000 [HYSTERESIS];
    # after a pace LRI again: 4000.
    out = run(Mode.VVI, [(1800, V)], 4000, hysteresis_rate_ppm=50)
    assert seq(out) == [(1000, "VP"), (1800, "VS"), (3000, "VP"), (4000, "VP")]
    assert [m.flags for m in out if m.kind is K.VP] == [F.NONE, F.HYSTERESIS, F.NONE]


def test_ddd_hysteresis_after_sensed_atrium() -> None:
    # AS 500 -> VP 650; last atrial event a sense -> AP at 650 + 1200 - 150 = 1700 [HYST],
    # VP 1850; then LRI: AP 1850 + 850 = 2700.
    out = run(Mode.DDD, [(500, A)], 2700, hysteresis_rate_ppm=50)
    assert seq(out) == [(500, "AS"), (650, "VP"), (1700, "AP"), (1850, "VP"), (2700, "AP")]
    assert out[2].flags == F.HYSTERESIS


def test_aai_hysteresis() -> None:
    out = run(Mode.AAI, [(600, A)], 2800, hysteresis_rate_ppm=50)
    assert seq(out) == [(600, "AS"), (1800, "AP"), (2800, "AP")]


# ---------------------------------------------------------------- rate smoothing
def test_vvi_smoothing_down() -> None:
    # VS at 400, 1000, 1600, 2200 (RR 600). 9 %: next pace no later than last + RR + floor(RR*9%)
    # 2200 + 600 + 54 = 2854; then RR 654 -> +712 = 3566; 712 -> +776 = 4342; 776 -> +845 =
    # 5187; 845 -> +921 = 6108; 921 -> 1003 > LRI -> 7108 (no flag), 8108.
    dets = [(400, V), (1000, V), (1600, V), (2200, V)]
    out = run(Mode.VVI, dets, 8200, rate_smoothing_pct=9)
    vp = [m for m in out if m.kind is K.VP]
    assert [m.t_us // 1000 for m in vp] == [2854, 3566, 4342, 5187, 6108, 7108, 8108]
    assert [m.flags for m in vp] == [F.SMOOTHING] * 5 + [F.NONE] * 2


def test_ddd_smoothing_up_delays_tracking() -> None:
    # AS 500 -> VP 650; AS 1500 -> VP 1650; AS 2450 -> VP 2600 (RR 950).
    # AS 3050 -> natural 3200, but not earlier than 2600 + 950 - floor(950*9%) = 3465 [SMOOTHING].
    dets = [(500, A), (1500, A), (2450, A), (3050, A)]
    out = run(Mode.DDD, dets, 3470, rate_smoothing_pct=9)
    assert ms(out, K.VP) == [650, 1650, 2600, 3465]
    assert out[-1].flags == F.SMOOTHING


# ---------------------------------------------------------------- AV delays
def test_dynamic_av_delay() -> None:
    # fixed 150, min 50, LRI 1000, URI 500. VP 250 (first: fixed). AS 850 -> VP 1000 (SAV still
    # 150: one V event only). VV 750 -> AVD = 50 + 100 * 250 // 500 = 100: AS 1600 -> VP 1700.
    # VV 700 -> 50 + 100 * 200 // 500 = 90: AS 2350 -> VP 2440.
    dets = [(100, A), (850, A), (1600, A), (2350, A)]
    out = run(Mode.DDD, dets, 2450, dynamic_av_delay=True)
    assert ms(out, K.VP) == [250, 1000, 1700, 2440]


def test_sensed_av_offset() -> None:
    out = run(Mode.DDD, [(100, A)], 300, sensed_av_offset_ms=-30)
    assert seq(out) == [(100, "AS"), (220, "VP")]


# ---------------------------------------------------------------- noise
def test_noise_reversion_vvi() -> None:
    # Noise every 60 ms from 1500 to 4980 ms on V. VP 1000. 1500: VS (first, gap long) -> VP due
    # 2500. 1560, 1620: VR (VRP to 1820), counts 1, 2; 1680: count 3 -> noisy: TN from here.
    # Paces run asynchronously from the last real event: 2500, 3500, 4500 [NOISE] (pace blanking
    # drops 2520/2580, 3540; the noise state lapses and comes back inside VRP, so the detections
    # after blanking are VR, VR, then TN). Noise ends: 5500, 6500 without flag.
    dets = [(1500 + 60 * k, V) for k in range(59)]
    out = run(Mode.VVI, dets, 6500)
    vp = [m for m in out if m.kind is K.VP]
    assert [m.t_us // 1000 for m in vp] == [1000, 2500, 3500, 4500, 5500, 6500]
    assert [m.flags for m in vp] == [F.NONE, F.NOISE, F.NOISE, F.NOISE, F.NONE, F.NONE]
    assert ms(out, K.VS) == [1500]
    assert seq(out, 1500, 1740) == [(1500, "VS"), (1560, "VR"), (1620, "VR"), (1680, "TN"),
                                    (1740, "TN")]
    assert 4500 not in ms(out, K.TN)  # the pace wins its millisecond


def test_noise_ddd_atrium_becomes_asynchronous() -> None:
    # Noise interval 200 ms; atrial noise every 60 ms from 100 to 1240. 100 AS (tracked -> VP
    # 250), 160/220 AR (AV interval; counts 1, 2), 280/340 blanked (PVAB), 400: 3rd short
    # interval (180 < 200) -> TN, and TN from then on. VA from VP 250: AP 1100 [NOISE], VP 1250.
    dets = [(100 + 60 * k, A) for k in range(20)]
    out = run(Mode.DDD, dets, 1260, noise_interval_ms=200)
    assert ms(out, K.AP, K.VP, K.AS) == [100, 250, 1100, 1250]
    assert ms(out, K.TN)[0] == 400
    ap = next(m for m in out if m.kind is K.AP)
    assert ap.flags == F.NOISE


# ---------------------------------------------------------------- ATR
def test_atr_onset_fallback_and_end() -> None:
    # Atrial tachycardia: detections every 300 ms from 100 to 19900 (URI 500: all fast).
    # 100 AS -> VP 250; 400 AR; 700 AS -> VP max(850, 750) = 850; 1000 AR; 1300 AS -> VP 1450;
    # 1600 AR; 1900 AS -> 2050; 2200 AR; 2500: the 8th interval, all 8 fast -> ATR_DUR, and
    # from then on fast senses are AT. VPs every 600 ms from 2650: the 11th V event after
    # onset (2650 + 10 * 600 = 8650) switches (duration 10): ATR_FB. Fallback VVI starts at
    # VV 600 and lengthens by (1000 - 600) * elapsed / 60 s: VP 9250, then 9250 + 604 = 9854.
    fast = [(100 + 300 * k, A) for k in range(67)]  # last at 19900
    slow = [(19900 + 800 * j, A) for j in range(1, 20)]
    out = run(Mode.DDD, fast + slow, 36000, atr_mode=True, atr_duration_cycles=10)
    assert seq(out, 0, 2650) == [
        (100, "AS"), (250, "VP"), (400, "AR"), (700, "AS"), (850, "VP"), (1000, "AR"),
        (1300, "AS"), (1450, "VP"), (1600, "AR"), (1900, "AS"), (2050, "VP"), (2200, "AR"),
        (2500, "ATR_DUR"), (2500, "AT"), (2650, "VP")]
    assert ms(out, K.ATR_FB) == [8650]
    vp_after = [t for t in ms(out, K.VP) if t > 8650]
    assert vp_after[:2] == [9250, 9854]
    # In fallback no atrial pace until ATR ends, and V-V grows monotonically.
    end = ms(out, K.ATR_END)
    assert len(end) == 1
    fb_vp = [t for t in ms(out, K.VP) if 8650 <= t <= end[0]]
    gaps = [b - a for a, b in itertools.pairwise(fb_vp)]
    assert gaps == sorted(gaps) and max(gaps) <= 1000
    assert not [t for t in ms(out, K.AP) if 8650 < t < end[0]]
    # End: recompute the criterion from the counted atrial detections (every AS/AR/AT marker;
    # blanked ones have none): the first one after the switch that leaves fewer than 6 of the
    # last 10 intervals below URI 500 ms; ATR_END comes at the next ventricular event.
    counted = ms(out, K.AS, K.AR, K.AT)
    intervals = [b - a for a, b in itertools.pairwise(counted)]
    lapse = next(counted[i + 1] for i in range(len(intervals))
                 if counted[i + 1] > 8650 and sum(x < 500 for x in intervals[i - 9:i + 1]) < 6)
    assert lapse > 19900
    next_v = min(t for t in ms(out, K.VP, K.VS) if t > lapse)
    assert end == [next_v]
    # Afterwards DDD tracks again: an AS outside PVARP is followed by a VP at +150.
    later_as = [t for t in ms(out, K.AS) if t > end[0] + 300]
    assert later_as and later_as[0] + 150 in ms(out, K.VP)


def test_atr_lapse_during_duration_ends_without_switch() -> None:
    # Onset at 2500 as above; the fast train stops at 2800 and slow P waves (every 800 ms)
    # follow. Intervals recorded up to 2800: 9, all fast. 3600 -> 9 of 10 fast; 4400 -> 8;
    # 5200 -> 7; 6000 -> 6; 6800 -> 5 < 6: ATR_END at that atrial detection (none is blanked:
    # each VP comes 150 ms after its AS), no ATR_FB.
    fast = [(100 + 300 * k, A) for k in range(10)]  # last 2800
    slow = [(2800 + 800 * j, A) for j in range(1, 15)]
    out = run(Mode.DDD, fast + slow, 14000, atr_mode=True, atr_duration_cycles=20)
    assert ms(out, K.ATR_DUR) == [2500]
    assert ms(out, K.ATR_FB) == []
    assert ms(out, K.ATR_END) == [6800]


# ---------------------------------------------------------------- rate adaptation
def test_rate_adaptation_reaction_and_recovery() -> None:
    # LRL 60, MSR 120, reaction 30 s, recovery 5 min, response 8, threshold Med (80 mg).
    # 200 mg: target min(120, 60 + 8 * 120 // 4) = 120. Up step (120-60)*1000 // 30 = 2000
    # milli-ppm per epoch: 62, 64, ... 120 after 30 epochs. Down: 60000 // 300 = 200 per epoch:
    # 150 epochs at rest -> 90 ppm, 300 -> 60 ppm.
    model = PacemakerModel(Programming.nominal(Mode.VVIR))
    for k in range(1, 31):
        model.activity_epoch(k * 1_000_000, 200)
        assert model.sensor_rate_ppm == 60 + 2 * k
    model.activity_epoch(31_000_000, 200)
    assert model.sensor_rate_ppm == 120
    for k in range(1, 301):
        model.activity_epoch((31 + k) * 1_000_000, 0)
        if k == 150:
            assert model.sensor_rate_ppm == 90
    assert model.sensor_rate_ppm == 60


def test_rate_adaptation_target_and_sensor_paces() -> None:
    # 90 mg: target 60 + 8 * 10 // 4 = 80 ppm, reached after 10 epochs (2 ppm each).
    # Sensor interval interval_ms(80) = 750 ms: paces flagged SENSOR.
    model = PacemakerModel(
        Programming.nominal(Mode.VVIR, activity_threshold=ActivityThreshold.MED)
    )
    for k in range(1, 16):
        model.activity_epoch(k * 1_000_000, 90)
    assert model.sensor_rate_ppm == 80
    out = model.advance_to(20_000_000)
    vp = [m for m in out if m.kind is K.VP]
    late = [m for m in vp if m.t_us > 16_000_000]
    assert all(b.t_us - a.t_us == 750_000 for a, b in itertools.pairwise(late))
    assert all(m.flags == F.SENSOR for m in late)


def test_activity_ignored_outside_r_modes() -> None:
    model = PacemakerModel(Programming.nominal(Mode.VVI))
    model.activity_epoch(1_000_000, 500)
    assert model.sensor_rate_ppm == 60


# ---------------------------------------------------------------- device states
@pytest.mark.parametrize(("battery", "interval"), [(BatteryState.BOL, 600),
                                                   (BatteryState.ERN, 667),
                                                   (BatteryState.ERT, 706)])
def test_magnet_rates(battery: BatteryState, interval: int) -> None:
    # 100 / 90 / 85 ppm -> 600 / 667 / 706 ms; DDD -> DOO, detections ignored.
    out = run(Mode.DDD, [(300, V), (400, A)], 3 * interval, DeviceState.MAGNET, battery)
    av = interval - 150
    assert seq(out) == [(av, "AP"), (interval, "VP"), (interval + av, "AP"),
                        (2 * interval, "VP"), (2 * interval + av, "AP"), (3 * interval, "VP")]
    assert all(m.flags == F.MAGNET for m in out)


def test_magnet_vvi_is_voo() -> None:
    out = run(Mode.VVI, [(300, V)], 1300, DeviceState.MAGNET)
    assert seq(out) == [(600, "VP"), (1200, "VP")]


@pytest.mark.parametrize(("state", "width_us"), [(DeviceState.PACE_NOW, 1000),
                                                 (DeviceState.POWER_ON_RESET, 500)])
def test_pace_now_and_power_on_reset(state: DeviceState, width_us: int) -> None:
    # VVI 65 ppm -> 923 ms, 5.0 V; first pace 923 ms after entry (<= 2 * 923 + 500).
    # VS at 2300 (after VRP 320 from VP 1846) inhibits: next VP at 3223.
    out = run(Mode.DDD, [(2300, V)], 3300, state)
    assert seq(out) == [(923, "VP"), (1846, "VP"), (2300, "VS"), (3223, "VP")]
    assert {(m.amplitude_mv, m.width_us) for m in out if m.kind is K.VP} == {(5000, width_us)}


def test_enter_and_leave_states() -> None:
    model = PacemakerModel(Programming.nominal(Mode.VVI))
    model.advance_to(1500_000)  # VP 1000
    model.enter_state(1500_000, DeviceState.MAGNET)  # VOO 600 from 1500
    out = model.advance_to(2800_000)
    assert [m.t_us // 1000 for m in out] == [2100, 2700]
    model.enter_state(2800_000, DeviceState.PERMANENT)
    assert [m.t_us // 1000 for m in model.advance_to(3800_000)] == [3800]
    temp = Programming.nominal(Mode.OVO, allow_temporary_modes=True)
    model.enter_state(3900_000, DeviceState.TEMPORARY, temporary=temp)
    model.detect(4500_000, V)
    out = model.advance_to(9000_000)
    assert [(m.t_us // 1000, m.kind) for m in out] == [(4500, K.VS)]


def test_reprogram_takes_effect_immediately() -> None:
    model = PacemakerModel(Programming.nominal(Mode.VVI))
    model.advance_to(1200_000)
    model.reprogram(1200_000, Programming.nominal(Mode.VVI, lower_rate_ppm=120))
    assert [m.t_us // 1000 for m in model.advance_to(2300_000)] == [1700, 2200]


def test_permanent_state_rejects_temporary_mode_and_time_must_not_go_back() -> None:
    temp = Programming.nominal(Mode.OOO, allow_temporary_modes=True)
    with pytest.raises(ProgrammingError, match="temporary-only"):
        PacemakerModel(temp)
    model = PacemakerModel(Programming.nominal(Mode.VVI))
    model.advance_to(5000)
    with pytest.raises(ModelError, match="t_us=10"):
        model.detect(10, V)
    with pytest.raises(ModelError, match="chamber"):
        model.detect(6000, 7)


def test_snapshot_restore_reproduces_the_future() -> None:
    model = PacemakerModel(Programming.nominal(Mode.DDD))
    model.detect(500_000, A)
    first = model.advance_to(700_000)
    snap = model.snapshot()
    a = model.run_detections([(1_900_000, A)], 4_000_000)
    model.restore(snap)
    b = model.run_detections([(1_900_000, A)], 4_000_000)
    assert a == b and a
    model.restore(snap)
    c = model.advance_to(4_000_000)
    assert c != a
    assert [m.t_us // 1000 for m in first] == [500, 650]


def test_next_pace_due() -> None:
    model = PacemakerModel(Programming.nominal(Mode.DDD))
    assert model.next_pace_due_us() == 850_000
    model.advance_to(850_000)
    assert model.next_pace_due_us() == 1_000_000
    assert PacemakerModel(Programming.nominal(Mode.OFF)).next_pace_due_us() is None


def test_output_off_and_unregulated_amplitudes() -> None:
    # Output Off: the pace is still timed and reported, with amplitude 0 mV.
    out = run(Mode.DDD, [], 1000, atrial_amplitude_v=None, ventricular_amplitude_v=3.75,
              ventricular_pulse_width_ms=0.05)
    assert [(m.kind, m.amplitude_mv, m.width_us) for m in out] == [
        (K.AP, 0, 400), (K.VP, 3750, 50)]


def test_temporary_sense_only_modes() -> None:
    # ODO: markers only, no pacing. A at 100 -> AS; V at 220 -> VS (atrial event before it);
    # PVAB covers [220, 320): the A detection at 300 is dropped; V at 400 -> VR (VRP 320 from
    # 220); A at 600 -> AS (ODO does not pace the ventricle, so it has no PVARP).
    temp = Programming.nominal(Mode.ODO, allow_temporary_modes=True)
    model = PacemakerModel(Programming.nominal(Mode.DDD), DeviceState.TEMPORARY, temporary=temp)
    out = model.run_detections([(100_000, A), (220_000, V), (300_000, A), (400_000, V),
                                (600_000, A)], 5_000_000)
    assert [(m.t_us // 1000, m.kind) for m in out] == [
        (100, K.AS), (220, K.VS), (400, K.VR), (600, K.AS)]


def test_timer_set_in_the_past_fires_at_once() -> None:
    # Smoothing 3 % after a fast V-V: VS 3033 then PVC 3308 (RR 275 ms): escape min(LRI,
    # 275 + 8) = 283 < PAV 290, so VA = 283 - 290 < 0: the AP is due 7 ms before the PVC and fires
    # at the PVC's millisecond (flag SMOOTHING), as a tick-based device does; VP at max(AP + 290,
    # PVC + URI 800) = 4108.
    out = run(Mode.DDD, [(2691, A), (3033, V), (3308, V)], 4108, lower_rate_ppm=50,
              upper_rate_ppm=75, fixed_av_delay_ms=290, pvarp_ms=200, rate_smoothing_pct=3,
              vrp_ms=190)
    assert seq(out, 3000) == [(3033, "VS"), (3308, "PVC"), (3308, "AP"), (4108, "VP")]
    assert [m.flags for m in out if m.t_us == 3_308_000 and m.kind is K.AP] == [F.SMOOTHING]
