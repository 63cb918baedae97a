"""The byte mode in real time: A/V bytes on a UART, no time marks; the bench writes each sense
at its wall-clock time and stamps paces on receipt (docs/protocol.md section 7.8)."""

from __future__ import annotations

from devicetwin.pacemaker import MarkerKind
from hil.scenarios import parse_scenario
from hil.session.runner import run_scenario

DDD = """
name = "bytes_ddd"
description = "DDD in complete AV block over the byte mode: sinus P waves tracked at the AV delay."
requirements = ["A-3", "A-4"]
duration_s = 6
seed = 7
[patient]
condition = "complete_av_block"
[device]
mode = "{mode}"
"""


def test_vvi_over_bytes_paces_at_the_lower_rate() -> None:
    result = run_scenario(parse_scenario(DDD.format(mode="VVI")), "bytes+emulated")
    assert result.passed, result.explain()
    assert result.realtime is not None  # a byte-mode device always runs on the wall clock
    vps = [e.t_us for e in result.loop.device_events if e.kind is MarkerKind.VP]
    assert len(vps) >= 4


def test_ddd_over_bytes_tracks_the_senses_the_bench_writes() -> None:
    """The device only knows the atrium from the bench's A bytes: its ventricular paces follow
    them at the AV delay, within the milliseconds a byte and a 1 ms tick take."""
    result = run_scenario(parse_scenario(DDD.format(mode="DDD")), "bytes+emulated")
    assert result.passed, result.explain()
    vp = dict(result.conformance.timing_by_kind)[MarkerKind.VP]
    assert vp.n >= 4 and abs(vp.median_us) < 3000
    assert result.summary()["judged_kinds"] == ["AP", "VP"]
