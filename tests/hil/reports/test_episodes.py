"""Episodes: the spans of a run the report draws a ladder for and marks on the strips."""

from __future__ import annotations

from devicetwin.conformance import Limits, Verdict, VerdictStatus
from devicetwin.heart import Activation, Origin
from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind
from hil.reports.episodes import (
    EpisodeKind,
    capture_episodes,
    failure_episodes,
    join_times,
    mode_switch_episodes,
    noise_episodes,
)


def test_join_times() -> None:
    assert join_times([5_000_000, 0, 1_000_000, 2_500_000, 9_000_000], gap_us=1_500_000) == [
        (0, 2_500_000, 3), (5_000_000, 5_000_000, 1), (9_000_000, 9_000_000, 1)]
    assert join_times([]) == []


def test_mode_switch_from_atr_markers() -> None:
    ev = [MarkerEvent(1_000_000, Chamber.X, MarkerKind.ATR_DUR),
          MarkerEvent(3_000_000, Chamber.X, MarkerKind.ATR_FB),
          MarkerEvent(8_000_000, Chamber.X, MarkerKind.ATR_END),
          MarkerEvent(9_000_000, Chamber.X, MarkerKind.ATR_FB)]
    got = [(e.start_us, e.end_us) for e in mode_switch_episodes(ev, 12_000_000)]
    assert got == [(1_000_000, 8_000_000), (9_000_000, 12_000_000)]


def test_noise_and_capture_episodes() -> None:
    tn = [MarkerEvent(t, Chamber.X, MarkerKind.TN) for t in (100_000, 200_000, 5_000_000)]
    assert [(e.start_us, e.end_us) for e in noise_episodes(tn)] == [
        (100_000, 200_000), (5_000_000, 5_000_000)]
    heart = [Activation(1_000_000, Chamber.V, Origin.PACED, False, "RV"),
             Activation(2_000_000, Chamber.V, Origin.PACED, True, "RV"),
             Activation(2_200_000, Chamber.V, Origin.PACED, False, "RV")]
    eps = capture_episodes(heart)
    assert [(e.start_us, e.end_us, e.kind) for e in eps] == [
        (1_000_000, 2_200_000, EpisodeKind.LOSS_OF_CAPTURE)]
    assert eps[0].text == "loss of capture: 2 paces"


def test_failed_criteria_with_evidence_are_episodes() -> None:
    failed = Verdict("monitor.lower_rate.longest_interval_ms", "A-2", 1300.0, "ms",
                     Limits(high=1208.0), VerdictStatus.FAIL, "too long",
                     evidence_t_us=(7_000_000, 7_900_000, 20_000_000))
    passed = Verdict("monitor.x", "A-2", 1.0, "ms", Limits(high=2.0), VerdictStatus.PASS, "ok",
                     evidence_t_us=(1_000_000,))
    eps = failure_episodes([failed, passed])
    assert [(e.start_us, e.end_us) for e in eps] == [(7_000_000, 7_900_000),
                                                     (20_000_000, 20_000_000)]
    assert all(e.kind is EpisodeKind.FAILURE for e in eps)
