"""The patterns that separate devices, held to published figures and hand arithmetic (nominal
DDD: LRI 1000, PAV = SAV 150, PVARP 250, VRP 320, URI 500, ventricular blanking 40 ms, safety
window 110 ms; the first AP at 1000 - 150 = 850 ms, A-21)."""

from __future__ import annotations

import itertools

import pytest

from devicetwin.pacemaker import Chamber, Mode, PaceFlag, Programming
from hil.vectors import generate_vectors, run_vectors
from hil.vectors.patterns import PatternError, make_stimuli
from hil.vectors.probes import tracking_ratio

DDD = Programming.nominal(Mode.DDD)


def _paces(pattern: str, mode: str = "DDD", ms: int = 3000) -> list[tuple[int, str, PaceFlag]]:
    v = generate_vectors(mode, {}, pattern, ms * 1000)
    return [(e.t_us // 1000, e.chamber.name, e.flags) for e in v.expected]


@pytest.mark.parametrize("pp_ms,ratio", [(520, (1, 1)), (470, (5, 4)), (440, (3, 2)),
                                         (390, (2, 1))])
def test_pp_sweep_ratios_match_the_published_figures(pp_ms: int, ratio: tuple[int, int]) -> None:
    # docs/pacing.md section 2: P-P 470 ms -> 5:4, 440 ms -> 3:2, 390 ms -> 2:1 (nominal)
    assert tracking_ratio(pp_ms, DDD) == ratio
    # PMT termination off: at 115/min a sinus VP->AS of 370 ms looks like PMT to A-14 and the
    # twin would extend PVARP once in a while (the closed form has no PVARP extension)
    v = generate_vectors("DDD", {"pmt_termination": False},
                         f"pp_sweep:pp_ms={pp_ms},start_ms=100", 30_000_000)
    a = [s.t_us for s in v.stimuli]
    vp = [e.t_us for e in v.expected]
    assert all(e.chamber is Chamber.V for e in v.expected)
    # steady state: the pattern repeats every ratio[0] P-P intervals, so any window of whole
    # periods holds ratio[0] P waves and ratio[1] paces per period
    period = ratio[0] * pp_ms * 1000
    start, end = 10_000_000, 10_000_000 + 4 * period
    assert sum(start <= t < end for t in a) == 4 * ratio[0]
    assert sum(start <= t < end for t in vp) == 4 * ratio[1]
    if ratio not in ((1, 1), (2, 1)):
        # Wenckebach: the tracked paces come at the upper rate, V-V = URI = 500 ms inside a group
        assert 500_000 in {b - a for a, b in itertools.pairwise(vp)}


def test_retrograde_sustains_pmt_above_pvarp_and_not_below() -> None:
    # docs/pacing.md: retrograde 260 ms sustains PMT at 500 ms cycles (max(URI, 260 + 150));
    # 240 ms (inside PVARP 250) does not start it
    pmt = _paces("retrograde:va_ms=260", ms=5000)
    vs = [t for t, c, _ in pmt if c == "V"]
    assert vs[:5] == [1000, 1500, 2000, 2500, 3000]
    assert all(PaceFlag.UPPER_RATE in f for t, c, f in pmt if c == "V" and 1000 < t <= 5000)
    none = _paces("retrograde:va_ms=240", ms=5000)
    assert [t for t, c, _ in none if c == "V"] == [1000, 2000, 3000, 4000, 5000]


def test_pmt_termination_extends_pvarp_after_8_cycles() -> None:
    # 8 tracked VP->AS cycles at a stable VA; the next VP starts a 500 ms PVARP, the
    # retrograde P 260 ms later is refractory and the loop breaks: AP at VP + 850 ms
    p = _paces("retrograde:va_ms=260", ms=8000)
    vs = [t for t, c, _ in p if c == "V"]
    first_ap = next(t for t, c, _ in p if c == "A" and t > 1000)
    assert first_ap in {v + 850 for v in vs}
    assert [t for t in vs if t < first_ap][-1] == first_ap - 850


def test_safety_window_pattern_gives_safety_paces() -> None:
    p = _paces("safety:offset_ms=60")
    assert p[:2] == [(850, "A", PaceFlag.NONE), (960, "V", PaceFlag.SAFETY)]
    with pytest.raises(PatternError, match="needs a mode with ventricular safety pacing"):
        generate_vectors("VVI", {}, "safety", 2_000_000)


def test_pvc_with_retrograde_p() -> None:
    _, _, st = make_stimuli("pvc_retro:every=3,va_ms=260", 5_000_000)
    pvcs = [i for i, s in enumerate(st) if s.chamber is Chamber.V and st[i - 1].chamber is
            Chamber.V]
    assert pvcs
    i = pvcs[0]
    assert st[i + 1].chamber is Chamber.A and st[i + 1].t_us - st[i].t_us == 260_000


@pytest.mark.parametrize("probe,by_delta", [
    # A at 300, VS at 430; A at 430 + 250 + d: -1 refractory (AP at 430 + 850), else tracked,
    # held to the URI (430 + 500)
    ("boundary_pvarp", {-1: (1280, "A"), 0: (930, "V"), 1: (930, "V")}),
    # VS at 300; V at 300 + 320 + d: -1 refractory (AP at 300 + 850), else a sense (+ 850)
    ("boundary_vrp", {-1: (1150, "A"), 0: (1470, "A"), 1: (1471, "A")}),
    # AP at 850; V at 850 + 40 + d: -1 blanked (VP at 850 + 150), else safety pace at 960
    ("boundary_blank", {-1: (1000, "V"), 0: (960, "V"), 1: (960, "V")}),
    # V at 850 + 110 + d: -1 in the window (safety pace at 960), else an inhibiting sense
    # (next pace the AP at 960 + d + 850)
    ("boundary_vsp", {-1: (960, "V"), 0: (1810, "A"), 1: (1811, "A")}),
])
def test_boundary_probes_at_minus_one_zero_plus_one(probe: str,
                                                    by_delta: dict[int, tuple[int, str]]) -> None:
    for delta, first in by_delta.items():
        paces = [(t, c) for t, c, _ in _paces(f"{probe}:delta_ms={delta}")]
        after = [(t, c) for t, c in paces if t > 850 or probe in ("boundary_pvarp",
                                                                  "boundary_vrp")]
        assert after[0] == first, (probe, delta, paces)


def test_arp_boundary_in_aai() -> None:
    # AAI: AS at 300; A at 300 + 250 + d: -1 refractory (AP at 1300), else a sense (+ 1000)
    assert _paces("boundary_arp:delta_ms=-1", "AAI")[0][:2] == (1300, "A")
    assert _paces("boundary_arp:delta_ms=0", "AAI")[0][:2] == (1550, "A")
    with pytest.raises(PatternError, match="needs a mode with ARP"):
        generate_vectors("DDD", {}, "boundary_arp", 2_000_000)


def test_separating_patterns_pass_on_the_emulated_firmware() -> None:
    # the firmware is written apart from the twin (docs/assumptions.md): a second implementation
    for spec in ("retrograde", "safety", "pvc_retro", "pp_sweep:pp_ms=440",
                 "boundary_pvarp:delta_ms=-1", "boundary_pvarp", "boundary_vsp:delta_ms=-1",
                 "boundary_blank:delta_ms=-1"):
        v = generate_vectors("DDD", {}, spec, 6_000_000)
        r = run_vectors(v, "emulated")
        assert r.passed, r.text()
