"""The demo's closed loop against the scripted heart's known schedule."""

from __future__ import annotations

import pytest

from devicetwin.pacemaker import MarkerKind
from hil.demo import HeartScript, run_demo, simulate
from hil.errors import HilError


def expected_schedule(script: HeartScript, end_ms: int) -> dict[str, list[int]]:
    """The heart's schedule and the nominal-DDD response, derived by hand.

    P waves every 800 ms from 400 ms. The pause beat q has no P wave: the device paces the
    atrium at VA = 1000 - 150 = 850 ms after the previous conducted R (P + 120), i.e. at
    P(q-1) + 970 ms; the AP conducts (R 120 ms later, sensed before the 150 ms PAV ends) and
    resets the sinus node, so later P waves come 800 ms apart from the AP. A conducted P wave gives
    a VS 120 ms later (before SAV 150 ends); a blocked one a VP 150 ms after the AS. The PVC
    comes 520 ms after the P wave of its beat.
    """
    q = script.pause_beat
    ap = 400 + 800 * (q - 1) + 120 + 850
    p_waves = []
    n = 0
    while True:
        t = 400 + 800 * n if n < q else ap + 800 * (n - q)
        if t > end_ms:
            break
        if n != q:
            p_waves.append((n, t))
        n += 1
    return {
        "AS": [t for _, t in p_waves],
        "VP": [t + 150 for n, t in p_waves if script.blocked(n) and t + 150 <= end_ms],
        "VS": sorted([t + 120 for n, t in p_waves if not script.blocked(n) and t + 120 <= end_ms]
                     + [ap + 120]),
        "AP": [ap],
        "PVC": [t + 520 for n, t in p_waves if n == script.pvc_after_beat],
    }


@pytest.mark.parametrize("seed", [1, 2, 3, 7])
def test_demo_matches_the_scripted_schedule(seed: int) -> None:
    result = simulate(20.0, seed)
    expected = expected_schedule(result.script, result.duration_ms)
    for kind, times in expected.items():
        got = [m.t_us // 1000 for m in result.markers if m.kind.value == kind]
        assert got == times, kind
        assert result.counts.get(kind, 0) == len(times)
    assert result.blocked_beats == len(expected["VP"])
    assert result.sinus_beats == len(expected["AS"])
    assert not any(m.kind in (MarkerKind.AR, MarkerKind.VR, MarkerKind.TN)
                   for m in result.markers)
    n_v = len(expected["VP"]) + len(expected["VS"]) + 1
    assert result.ventricular_paced_pct == pytest.approx(100 * len(expected["VP"]) / n_v)


def test_run_demo_prints_markers_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(20.0, 1) == 0
    out = capsys.readouterr().out.splitlines()
    result = simulate(20.0, 1)
    first = str(result.markers[0])
    assert first in out[3]
    assert sum(1 for line in out if line.startswith("  ") and " ms " in line) == 40
    summary = [line for line in out if line.startswith("summary:")]
    assert summary[0] == (f"summary: AP 1, AS {result.counts['AS']}, VP {result.counts['VP']}, "
                          f"VS {result.counts['VS']}, PVC 1")
    assert "V paced" in summary[1] and "bpm" in summary[1]


def test_demo_rejects_bad_duration() -> None:
    with pytest.raises(HilError, match=r"duration_s=0\.5"):
        simulate(0.5, 1)
