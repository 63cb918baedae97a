"""Behaviour measured from a marker channel, against a hand-made stream."""

from __future__ import annotations

import pytest

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind
from devicetwin.twin import observed_behaviour

A, V = Chamber.A, Chamber.V


def _m(t_ms: int, chamber: Chamber, kind: MarkerKind) -> MarkerEvent:
    return MarkerEvent(t_ms * 1000, chamber, kind)


def test_hand_made_stream() -> None:
    # one minute: 30 cycles AS -(180 ms)- VS, then 30 cycles AP -(150)- VP -(300)- AR
    markers = []
    for i in range(30):
        t = i * 1000
        markers += [_m(t, A, MarkerKind.AS), _m(t + 180, V, MarkerKind.VS)]
    for i in range(30):
        t = 30000 + i * 1000
        markers += [_m(t, A, MarkerKind.AP), _m(t + 150, V, MarkerKind.VP),
                    _m(t + 450, A, MarkerKind.AR)]
    out = observed_behaviour(markers, 60_000_000)
    assert out["atrial_rate_bpm"] == pytest.approx(90.0)  # 30 AS + 30 AP + 30 AR
    assert out["ventricular_rate_bpm"] == pytest.approx(60.0)
    assert out["atrial_paced_pct"] == pytest.approx(50.0)
    assert out["ventricular_paced_pct"] == pytest.approx(50.0)
    assert out["av_conduction_ms"] == pytest.approx(180.0)
    assert out["va_after_vp_ms"] == pytest.approx(300.0)
    assert out["pvc_per_min"] == 0.0


def test_empty_stream() -> None:
    out = observed_behaviour([], 10_000_000)
    assert out["av_conduction_ms"] is None and out["ventricular_paced_pct"] is None
