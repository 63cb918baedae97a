"""Matching: hand-built streams with hand-computed expectations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marker_streams import A_KINDS, ev

from devicetwin.conformance import DiscrepancyClass as D
from devicetwin.conformance import MatchTolerance, match
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag


def ddd_paced(n_cycles: int, lri: int = 1000, pav: int = 150) -> list[MarkerEvent]:
    """AP at k*LRI, VP at k*LRI + PAV (DDD at the lower rate, ventricular timing)."""
    out = []
    for k in range(n_cycles):
        out += [ev(k * lri, MarkerKind.AP), ev(k * lri + pav, MarkerKind.VP)]
    return out


def shifted(events: list[MarkerEvent], i: int, dt_ms: float) -> list[MarkerEvent]:
    e = events[i]
    out = list(events)
    out[i] = MarkerEvent(e.t_us + int(dt_ms * 1000), e.chamber, e.kind, e.amplitude_mv,
                         e.width_us, e.flags)
    return out


def test_identical_streams_match_fully() -> None:
    s = [*ddd_paced(20), ev(5200, MarkerKind.AR), ev(7300, MarkerKind.VR)]
    r = match(s, s)
    assert r.matched == len(s) == 42
    assert r.recall == 1.0 and r.precision == 1.0
    assert r.pace_recall == 1.0 and r.pace_precision == 1.0
    assert r.timing_error.max_ms == 0.0 and r.timing_error.p95_ms == 0.0
    assert r.discrepancies == () and r.passed


def test_pace_shifted_5ms_matches_with_error_5() -> None:
    pred = ddd_paced(10)
    dev = shifted(pred, 7, 5)  # VP of cycle 3 at 3155 ms instead of 3150
    r = match(dev, pred)
    assert r.matched == 20 and r.discrepancies == ()
    assert r.timing_error.max_ms == 5.0
    assert r.timing_error.p50_ms == 0.0
    assert int(r.error_us[list(r.device_index).index(7)]) == 5000


@pytest.mark.parametrize(("dt", "cls"), [(20, D.LATE_PACE), (-20, D.EARLY_PACE)])
def test_pace_shifted_20ms_is_late_or_early(dt: int, cls: D) -> None:
    pred = ddd_paced(10)
    dev = shifted(pred, 7, dt)
    r = match(dev, pred)
    assert [d.cls for d in r.discrepancies] == [cls]
    d = r.discrepancies[0]
    assert d.t_us == 3_150_000 + dt * 1000 and d.error_us == dt * 1000
    assert r.matched == 19
    # 19 of 20 on both sides; paces are all 20 events
    assert r.recall == pytest.approx(19 / 20) and r.pace_precision == pytest.approx(19 / 20)
    assert r.counts[cls] == 1 and sum(r.counts.values()) == 1


def test_removed_pace_is_missing_and_added_is_extra() -> None:
    pred = ddd_paced(10)
    dev = pred[:9] + pred[10:]  # AP of cycle 4 (10th event... index 9 is VP of cycle 4)
    r = match(dev, pred)
    assert [d.cls for d in r.discrepancies] == [D.MISSING_PACE]
    assert r.discrepancies[0].t_us == 4_150_000 and r.discrepancies[0].device is None
    assert r.recall == pytest.approx(19 / 20) and r.precision == 1.0

    dev2 = sorted([*pred, ev(4600, MarkerKind.VP)], key=lambda e: e.t_us)
    r2 = match(dev2, pred)
    assert [d.cls for d in r2.discrepancies] == [D.EXTRA_PACE]
    assert r2.discrepancies[0].t_us == 4_600_000
    assert r2.precision == pytest.approx(20 / 21) and r2.recall == 1.0


def test_shift_does_not_cascade() -> None:
    # Device paces one VP 40 ms early; the twin resynchronises, every later event agrees.
    pred = ddd_paced(30)
    dev = shifted(pred, 11, -40)
    r = match(dev, pred)
    assert len(r.discrepancies) == 1 and r.discrepancies[0].cls is D.EARLY_PACE
    assert r.matched == 59


def test_close_events_pair_optimally_not_greedily() -> None:
    # Predicted senses 60 ms apart; the device reports both 30 ms late. Greedy first-come would
    # pair device 30 with predicted 60 (error 0... no: 30), then device 90 with nothing.
    # Optimal keeps two pairs within the window and reports two timing errors.
    pred = [ev(0, MarkerKind.AS), ev(60, MarkerKind.AR)]
    dev = [ev(5, MarkerKind.AS), ev(63, MarkerKind.AR)]
    r = match(dev, pred)
    assert r.matched == 2 and r.timing_error.max_ms == 5.0
    # a device event exactly between two predicted ones goes to the nearer
    r2 = match([ev(50, MarkerKind.AS)], [ev(0, MarkerKind.AS), ev(95, MarkerKind.AS)])
    assert {d.cls for d in r2.discrepancies} == {D.SENSE_TIMING, D.MISSING_SENSE}
    timing = next(d for d in r2.discrepancies if d.cls is D.SENSE_TIMING)
    assert timing.error_us == -45_000


def test_sense_classification_pvc_and_safety() -> None:
    pred = [ev(0, MarkerKind.AS), ev(400, MarkerKind.AR), ev(800, MarkerKind.PVC),
            ev(1000, MarkerKind.AP), ev(1110, MarkerKind.VP, PaceFlag.SAFETY)]
    dev = [ev(0, MarkerKind.AS), ev(400, MarkerKind.AS), ev(800, MarkerKind.VS),
           ev(1000, MarkerKind.AP), ev(1150, MarkerKind.VP)]
    r = match(dev, pred)
    got = [(d.cls, d.t_us) for d in r.discrepancies]
    assert got == [(D.SENSE_CLASSIFICATION, 400_000), (D.PVC_HANDLING, 800_000),
                   (D.SAFETY_PACING, 1_150_000)]
    assert r.matched == 2  # AS at 0 and AP at 1000


def test_flags_output_and_device_channel() -> None:
    pred = [ev(0, MarkerKind.VP, amp=3500, width=400), ev(1000, MarkerKind.VP),
            ev(2000, MarkerKind.VP), ev(3000, MarkerKind.VP),
            ev(3000, MarkerKind.PVARP_EXT), ev(5000, MarkerKind.ATR_DUR)]
    dev = [ev(0, MarkerKind.VP, PaceFlag.HYSTERESIS, amp=3500, width=400),
           ev(1000, MarkerKind.VP, amp=3500 + 420, width=400),  # exactly +12 %: ok
           ev(2000, MarkerKind.VP, amp=3500 + 421, width=601),  # beyond both
           ev(3000, MarkerKind.VP), ev(5300, MarkerKind.ATR_DUR), ev(6000, MarkerKind.ATR_END)]
    r = match(dev, pred)
    got = [(d.cls, d.t_us) for d in r.discrepancies]
    assert (D.PACE_FLAGS, 0) in got
    assert (D.PACE_OUTPUT, 2_000_000) in got
    assert all(t != 1_000_000 for _, t in got)
    assert (D.PVARP_EXTENSION, 3_000_000) in got
    assert (D.MODE_SWITCH_TIMING, 5_300_000) in got  # paired within 2000 ms, 300 ms late
    assert (D.MODE_SWITCH_TIMING, 6_000_000) in got  # extra ATR_END
    assert len(got) == 5


def test_per_kind_tolerance() -> None:
    pred = [ev(0, MarkerKind.AS), ev(1000, MarkerKind.VP)]
    dev = [ev(12, MarkerKind.AS), ev(1012, MarkerKind.VP)]
    tol = MatchTolerance(tolerance_us_by_kind={MarkerKind.AS: 15_000})
    r = match(dev, pred, tol)
    assert [d.cls for d in r.discrepancies] == [D.LATE_PACE]


def test_empty_streams() -> None:
    r = match([], [])
    assert r.matched == 0 and r.precision == 1.0 and r.recall == 1.0
    r2 = match([], ddd_paced(2))
    assert r2.recall == 0.0 and r2.counts[D.MISSING_PACE] == 4


def test_precision_recall_formulas_hand_counts() -> None:
    # predicted: 10 events; device: 8 of them exactly, one 30 ms late, plus 2 extras
    pred = ddd_paced(5)
    dev = [*shifted(pred, 3, 30)[:9], ev(5500, MarkerKind.AP), ev(5650, MarkerKind.VP)]
    r = match(dev, pred)
    # matched: 8 exact (index 3 late, index 9 missing); device 11, predicted 10
    assert r.matched == 8
    assert r.precision == pytest.approx(8 / 11)
    assert r.recall == pytest.approx(8 / 10)
    assert r.counts[D.LATE_PACE] == 1 and r.counts[D.MISSING_PACE] == 1
    assert r.counts[D.EXTRA_PACE] == 2


@given(
    st.lists(st.integers(min_value=120, max_value=1500), min_size=1, max_size=60),
    st.lists(st.integers(min_value=-8000, max_value=8000), min_size=60, max_size=60),
    st.lists(st.sampled_from([MarkerKind.AP, MarkerKind.AS, MarkerKind.VP, MarkerKind.VS]),
             min_size=60, max_size=60),
)
def test_jitter_below_tolerance_always_matches(
    gaps_ms: list[int], jitter_us: list[int], kinds: list[MarkerKind]
) -> None:
    # events of one channel are >= 120 ms apart; jitter within +-8 ms keeps every pair
    t = 200_000
    pred, dev = [], []
    for g, j, k in zip(gaps_ms, jitter_us, kinds, strict=False):
        t += g * 1000
        ch = Chamber.A if k in A_KINDS else Chamber.V
        pred.append(MarkerEvent(t, ch, k))
        dev.append(MarkerEvent(t + j, ch, k))
    r = match(dev, pred)
    assert r.matched == len(pred) and r.discrepancies == ()
    assert r.timing_error.max_ms <= 8.0
    assert r.timing_error.max_ms == pytest.approx(
        max(abs(j) for j in jitter_us[: len(pred)]) / 1000)


def test_unsorted_input_and_original_indices() -> None:
    pred = ddd_paced(3)
    dev = list(reversed(pred))
    r = match(dev, pred)
    assert r.matched == 6
    # pairs refer to positions in the caller's sequences
    for i, j in zip(r.device_index.tolist(), r.predicted_index.tolist(), strict=True):
        assert dev[i] == pred[j]


def test_event_arrays_are_accepted_and_equivalent() -> None:
    from devicetwin.conformance import EventArrays

    pred = ddd_paced(5)
    dev = shifted(pred, 3, 30)
    a = match(dev, pred)
    b = match(EventArrays.from_events(dev), EventArrays.from_events(pred))
    assert [(d.cls, d.t_us) for d in a.discrepancies] == [(d.cls, d.t_us) for d in b.discrepancies]
    assert a.matched == b.matched == 9
