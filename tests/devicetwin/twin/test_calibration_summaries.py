"""Summary statistics read off hand-built marker streams whose values follow by arithmetic."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind
from devicetwin.pacemaker.programming import Programming
from devicetwin.twin.calibration_protocol import (
    PACING_RATES_PPM,
    Recording,
    SegmentRecord,
    recording_from_dict,
    recording_protocol,
    recording_to_dict,
)
from devicetwin.twin.calibration_summaries import (
    MISSING,
    intrinsic_summaries,
    pacing_summaries,
    retrograde_summaries,
    sinus_cycles_ms,
    summaries,
    summary_names,
    summary_resolution,
)
from devicetwin.twin.errors import TwinError

A, V = Chamber.A, Chamber.V


def _m(t_ms: float, chamber: Chamber, kind: MarkerKind) -> MarkerEvent:
    return MarkerEvent(round(t_ms * 1000), chamber, kind)


def _sinus(cycle_ms: float, pr_ms: float | None, n: int, start_ms: float = 100.0
           ) -> list[MarkerEvent]:
    out = []
    for k in range(n):
        t = start_ms + k * cycle_ms
        out.append(_m(t, A, MarkerKind.AS))
        out.append(_m(t + (pr_ms if pr_ms is not None else 300.0), V,
                      MarkerKind.VS if pr_ms is not None else MarkerKind.VP))
    return out


def test_regular_sinus_with_conduction() -> None:
    # 60 beats at 800 ms (75 bpm) with PR 180 ms over one minute: cycle 800, no spread,
    # everything conducted, no ectopy.
    cycle, cv, pr, pr_iqr, conducted, pacs, pvcs = intrinsic_summaries(
        _sinus(800.0, 180.0, 60), 60_000_000)
    assert (cycle, cv, pr, pr_iqr, conducted, pacs, pvcs) == (800.0, 0.0, 180.0, 0.0, 1.0,
                                                              0.0, 0.0)


def test_complete_block_shows_no_conduction() -> None:
    # DDI at 30 ppm: P waves every 1000 ms, none conducted, the ventricle paced every 2000 ms
    # dissociated from them (650 ms after every other P). The cycles spanning a pace are left
    # out (a pace may conduct back); the others are 1000 ms.
    markers = [_m(100.0 + k * 1000.0, A, MarkerKind.AS) for k in range(30)]
    markers += [_m(750.0 + k * 2000.0, V, MarkerKind.VP) for k in range(15)]
    s = intrinsic_summaries(sorted(markers, key=lambda m: m.t_us), 30_000_000)
    assert s[0] == 1000.0
    assert s[2] == MISSING and s[3] == MISSING
    assert s[4] == 0.0


def test_sinus_cycles_end_at_atrial_senses_and_skip_paced_ventricles() -> None:
    # a P wave at 0, 1000, a ventricular pace at 1500 conducting back 200 ms later (AR at 1700,
    # which resets the sinus node), the next P 1000 ms after it: the cycles are 1000 and 1000
    # (1000 -> 1700 spans the pace and is not a cycle)
    markers = [_m(0.0, A, MarkerKind.AS), _m(1000.0, A, MarkerKind.AS),
               _m(1500.0, V, MarkerKind.VP), _m(1700.0, A, MarkerKind.AR),
               _m(2700.0, A, MarkerKind.AS)]
    assert sinus_cycles_ms(markers).tolist() == [1000.0, 1000.0]
    # an atrial pace starts a cycle but does not end one; a P wave in the PVARP (AR) ends one
    markers = [_m(0.0, A, MarkerKind.AP), _m(900.0, A, MarkerKind.AR),
               _m(1800.0, A, MarkerKind.AS), _m(3800.0, A, MarkerKind.AP)]
    assert sinus_cycles_ms(markers).tolist() == [900.0, 900.0]
    assert sinus_cycles_ms(markers[:1]).tolist() == []


def test_retrograde_p_waves_after_escape_paces_do_not_shift_the_sinus_cycle() -> None:
    # complete block with retrograde conduction (VA 190 ms) under DDI 30 ppm: the ventricle is
    # paced every 2000 ms, each pace is followed by a retrograde P that resets the sinus node,
    # and the sinus node (cycle 1250 ms) fires 1250 ms after every atrial depolarisation. An
    # AS-to-AS reading gives the pacing interval (2000 ms); the cycle read is the sinus node's.
    markers: list[MarkerEvent] = []
    t_a, t_v = 0.0, 400.0
    while t_v < 120_000.0:
        while t_a + 1250.0 < t_v:
            t_a += 1250.0
            markers.append(_m(t_a, A, MarkerKind.AS))
        markers += [_m(t_v, V, MarkerKind.VP), _m(t_v + 190.0, A, MarkerKind.AR)]
        t_a = t_v + 190.0
        t_v += 2000.0
    s = intrinsic_summaries(sorted(markers, key=lambda m: m.t_us), 120_000_000)
    assert s[0] == 1250.0
    assert s[1] == 0.0


def test_premature_atrial_beats_and_pvcs_are_counted_per_minute() -> None:
    # every 10th cycle comes at 60 % of the cycle (a PAC), and 3 PVCs over 2 minutes
    markers = []
    t = 0.0
    for k in range(120):
        t += 600.0 if k % 10 == 9 else 1000.0
        markers += [_m(t, A, MarkerKind.AS), _m(t + 150.0, V, MarkerKind.VS)]
    markers += [_m(t_ms, V, MarkerKind.PVC) for t_ms in (20_500.0, 50_500.0, 80_500.0)]
    markers.sort(key=lambda m: m.t_us)
    s = intrinsic_summaries(markers, 120_000_000)
    n_premature = sum(1 for k in range(1, 120) if k % 10 == 9)
    assert s[5] == pytest.approx(n_premature / 2.0)
    assert s[6] == pytest.approx(1.5)


def test_pacing_segment_median_delay_and_wenckebach_share() -> None:
    # 130 ppm, a repeating group of four: AP -> VS after 200, 260 and 240 ms, then a drop
    # paced at the 250 ms AV delay; median 240 ms, 3 of every 4 conducted.
    markers = []
    for k in range(40):
        t = k * 461.0
        markers.append(_m(t, A, MarkerKind.AP))
        phase = k % 4
        if phase == 3:
            markers.append(_m(t + 250.0, V, MarkerKind.VP))
        else:
            markers.append(_m(t + (200.0, 260.0, 240.0)[phase], V, MarkerKind.VS))
    delay, share = pacing_summaries(markers)
    assert delay == 240.0
    assert share == pytest.approx(30 / 40)


def test_retrograde_fixed_interval_against_scattered_sinus() -> None:
    # retrograde: an AR/AS 260 ms after every VP; dissociated sinus: atrial senses drift
    vp = [_m(k * 545.0, V, MarkerKind.VP) for k in range(100)]
    retro = [_m(k * 545.0 + 260.0, A, MarkerKind.AR if k % 2 else MarkerKind.AS)
             for k in range(100)]
    frac, va, iqr = retrograde_summaries(sorted(vp + retro, key=lambda m: m.t_us))
    assert (frac, va, iqr) == (1.0, 260.0, 0.0)
    drift = [_m(100.0 + k * 857.0, A, MarkerKind.AS) for k in range(64)]
    frac, va, iqr = retrograde_summaries(sorted(vp + drift, key=lambda m: m.t_us))
    assert iqr > 100.0
    assert frac < 0.8


def test_no_paces_in_the_retrograde_segment() -> None:
    assert retrograde_summaries(_sinus(800.0, 150.0, 10)) == [0.0, MISSING, MISSING]


@settings(max_examples=40, deadline=None)
@given(cycle=st.integers(400, 1500), pr=st.integers(100, 290), n=st.integers(5, 80))
def test_sinus_cycle_and_pr_for_any_regular_rhythm(cycle: int, pr: int, n: int) -> None:
    s = intrinsic_summaries(_sinus(float(cycle), float(pr), n), n * cycle * 1000)
    assert s[0] == pytest.approx(cycle, abs=0.002)
    assert s[2] == pytest.approx(pr, abs=0.002)
    assert s[4] == 1.0


def _recording(markers: list[MarkerEvent]) -> Recording:
    return Recording(tuple(SegmentRecord(seg, tuple(markers)) for seg in recording_protocol()))


def test_vector_layout_and_round_trip() -> None:
    names = summary_names()
    assert len(names) == 7 + 2 * len(PACING_RATES_PPM) + 3 == len(summary_resolution())
    rec = _recording(_sinus(800.0, 180.0, 20))
    vec = summaries(rec)
    assert vec.shape == (len(names),)
    back = recording_from_dict(json.loads(json.dumps(recording_to_dict(rec))))
    np.testing.assert_array_equal(summaries(back), vec)
    assert [s.segment.programming for s in back.segments] == [
        s.programming for s in recording_protocol()]


def test_protocol_is_ten_minutes_on_the_grid() -> None:
    segs = recording_protocol()
    assert sum(s.duration_us for s in segs) == 600_000_000
    assert all(isinstance(s.programming, Programming) for s in segs)
    # the intrinsic segment cannot track a P wave (no endless loop can hide the sinus rhythm)
    # and paces at the grid's lowest rate
    intrinsic = segs[0].programming
    assert segs[0].name == "intrinsic"
    assert not intrinsic.mode.tracking and intrinsic.mode.senses_atrium
    assert intrinsic.lower_rate_ppm == 30
    with pytest.raises(TwinError, match="scale 0"):
        recording_protocol(0.0)
    with pytest.raises(TwinError, match="no segment 'nope'"):
        _recording([]).segment("nope")
    with pytest.raises(TwinError, match="not a protocol recording"):
        recording_from_dict({"format": "x"})
