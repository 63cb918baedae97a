"""Closed-form upper-rate and PMT arithmetic (pacing.md section 2; docs/timing.md).

Nominal DDD: SAV = PAV = 150 ms, PVARP 250 ms, URL 120 ppm (URI 500 ms), so TARP = 400 ms.
Every expected number here is derived by hand in the comments, not read back from the model.
"""

from __future__ import annotations

import heapq
import itertools

import pytest

from devicetwin.pacemaker import (
    Chamber,
    MarkerEvent,
    MarkerKind,
    Mode,
    PaceFlag,
    PacemakerModel,
    Programming,
)

K = MarkerKind


def _atrial_train(pp_ms: int, n: int, start_ms: int = 100) -> list[tuple[int, Chamber]]:
    return [((start_ms + i * pp_ms) * 1000, Chamber.A) for i in range(n)]


def _v_per_a(pp_ms: int, n: int = 400) -> tuple[float, list[MarkerEvent]]:
    """Complete AV block heart with a sinus train at ``pp_ms``: ratio of VP to atrial markers."""
    model = PacemakerModel(Programming.nominal(Mode.DDD))
    dets = _atrial_train(pp_ms, n)
    out = model.run_detections(dets, dets[-1][0])
    late = [m for m in out if m.t_us >= dets[min(20, n - 1)][0]]  # skip the first cycles
    atrial = [m for m in late if m.kind in (K.AS, K.AR)]
    vp = [m for m in late if m.kind is K.VP]
    return len(vp) / len(atrial), out


def test_wenckebach_470_is_5_to_4_by_hand() -> None:
    # AS 100 -> VP 250 (SAV). AS 570 -> max(720, 250+500) = 750 (upper rate).
    # AS 1040 -> max(1190, 1250) = 1250. AS 1510 -> max(1660, 1750) = 1750.
    # AS 1980: PVARP from 1750 ends 2000 -> refractory (AR), no VP.
    # AS 2450 -> max(2600, 2250) = 2600: the block pattern repeats every 5 P waves.
    _, out = _v_per_a(470, 12)
    got = [(m.t_us // 1000, m.kind) for m in out if m.t_us <= 2_600_000]
    assert got == [
        (100, K.AS), (250, K.VP), (570, K.AS), (750, K.VP), (1040, K.AS), (1250, K.VP),
        (1510, K.AS), (1750, K.VP), (1980, K.AR), (2450, K.AS), (2600, K.VP),
    ]
    flags = [m.flags for m in out if m.kind is K.VP and m.t_us <= 2_600_000]
    assert flags == [PaceFlag.NONE] + [PaceFlag.UPPER_RATE] * 3 + [PaceFlag.NONE]


@pytest.mark.parametrize(("pp_ms", "ratio"), [(470, 4 / 5), (440, 2 / 3), (390, 1 / 2),
                                              (399, 1 / 2), (600, 1.0), (501, 1.0)])
def test_ventricular_response_ratio(pp_ms: int, ratio: float) -> None:
    # 470 -> 5:4, 440 -> 3:2 (pacing.md); below TARP = 150 + 250 = 400 ms every other P falls in
    # PVARP -> 2:1; slower than the URL (P-P > 500 ms) -> 1:1.
    got, _ = _v_per_a(pp_ms)
    assert got == pytest.approx(ratio, abs=0.01)


def test_wenckebach_between_tarp_and_uri() -> None:
    # 400 < P-P < 500: neither 1:1 nor 2:1.
    for pp in (410, 450, 490):
        got, _ = _v_per_a(pp)
        assert 0.5 + 0.01 < got < 1.0 - 0.01, pp


def test_ventricular_rate_never_exceeds_url_while_tracking() -> None:
    for pp in (300, 390, 440, 470):
        _, out = _v_per_a(pp)
        v = [m.t_us for m in out if m.kind is K.VP]
        assert min(b - a for a, b in itertools.pairwise(v)) >= 500_000


class RetrogradeHeart:
    """Complete AV block, no sinus rhythm, retrograde VA conduction.

    Every ventricular activation (VP or a scripted PVC) reaches the atrium ``retro_ms`` later
    and is detected there, unless the atrium was activated (AP, or a retrograde P) within
    ``block_ms`` before the arrival.
    """

    def __init__(self, retro_ms: int, block_ms: int = 450) -> None:
        self.retro_us = retro_ms * 1000
        self.block_us = block_ms * 1000
        self.last_atrial_us = -(10**12)
        self.queue: list[tuple[int, int]] = []  # (t_us, chamber 0=A 1=V)

    def ventricle(self, t_us: int) -> None:
        heapq.heappush(self.queue, (t_us + self.retro_us, 0))

    def run(self, model: PacemakerModel, pvc_ms: int, end_ms: int) -> list[MarkerEvent]:
        heapq.heappush(self.queue, (pvc_ms * 1000, 1))
        out: list[MarkerEvent] = []
        end = end_ms * 1000
        while True:
            due = model.next_pace_due_us()
            nxt = self.queue[0][0] if self.queue else None
            if nxt is not None and (due is None or nxt <= due) and nxt <= end:
                t, ch = heapq.heappop(self.queue)
                if ch == 1:
                    model.detect(t, Chamber.V)
                    self.ventricle(t)
                elif t - self.last_atrial_us >= self.block_us:
                    self.last_atrial_us = t
                    model.detect(t, Chamber.A)
                new = model.advance_to(t)
            elif due is not None and due <= end:
                new = model.advance_to(due)
            else:
                out += model.advance_to(end)
                return out
            for m in new:
                if m.kind is K.VP:
                    self.ventricle(m.t_us)
                elif m.kind is K.AP:
                    self.last_atrial_us = m.t_us
            out += new


def _pmt_run(retro_ms: int, termination: bool) -> list[MarkerEvent]:
    model = PacemakerModel(Programming.nominal(Mode.DDD, pmt_termination=termination))
    # Baseline AP 850 / VP 1000, AP 1850 / VP 2000 (retrograde after each VP arrives 410 ms
    # after the AP: blocked). A PVC at 2700 ms starts it.
    return RetrogradeHeart(retro_ms).run(model, pvc_ms=2700, end_ms=20_000)


def test_pmt_sustains_at_500_ms_with_retrograde_260_and_termination_off() -> None:
    # PVC 2700 -> retrograde P at 2960, after PVARP (2700 + 250 = 2950): AS, tracked.
    # VP at max(2960 + 150, 2700 + 500) = 3200 (upper rate); P at 3460 > 3200 + 250: AS again...
    # cycle = max(URI, 260 + 150) = 500 ms for ever.
    out = _pmt_run(260, termination=False)
    vp = [m.t_us // 1000 for m in out if m.kind is K.VP and m.t_us >= 3_000_000]
    assert vp == list(range(3200, 20_000, 500))
    assert all(m.flags == PaceFlag.UPPER_RATE for m in out
               if m.kind is K.VP and m.t_us >= 3_000_000)
    asense = [m.t_us // 1000 for m in out if m.kind is K.AS]
    assert asense == list(range(2960, 20_000, 500))
    assert not any(m.kind is K.PVARP_EXT for m in out)


def test_pmt_never_starts_with_retrograde_240() -> None:
    # PVC 2700 -> P at 2940 falls in PVARP (until 2950): AR, not tracked. AP at 2700 + 850 =
    # 3550, VP 3700; its retrograde P (3940) comes 390 ms after the AP: blocked. Back to 1000 ms.
    out = _pmt_run(240, termination=False)
    assert [(m.t_us // 1000, m.kind) for m in out if 2_700_000 <= m.t_us <= 4_600_000] == [
        (2700, K.PVC), (2940, K.AR), (3550, K.AP), (3700, K.VP), (4550, K.AP)]
    assert not any(m.kind is K.AS for m in out)
    vp = [m.t_us // 1000 for m in out if m.kind is K.VP and m.t_us > 3_000_000]
    assert vp == list(range(3700, 20_000, 1000))


def test_pmt_termination_ends_it_after_pmt_cycles() -> None:
    # PMT cycles (VP that tracked an AS, then AS at VA 260 < 400): AS at 3460 (after VP 3200) is
    # cycle 1, ..., AS at 3460 + 7 * 500 = 6960 is cycle 8 (pmt_cycles): stable VA -> the next
    # VP (7200) gets PVARP 500 ms with a PVARP_EXT marker. Its retrograde P (7460) is then AR;
    # AP at 7200 + 850 = 8050, VP 8200; retrograde at 8460 is blocked (410 ms after AP). Over.
    out = _pmt_run(260, termination=True)
    ext = [m.t_us // 1000 for m in out if m.kind is K.PVARP_EXT]
    assert ext == [7200]
    tracked_vp = [m.t_us // 1000 for m in out if m.kind is K.VP and 3_000_000 < m.t_us <= 7_200_000]
    assert len(tracked_vp) == 8 + 1  # documented: ends at the (pmt_cycles + 1)-th tracked VP
    after = [(m.t_us // 1000, m.kind) for m in out if 7_200_000 < m.t_us <= 9_100_000]
    assert after == [(7460, K.AR), (8050, K.AP), (8200, K.VP), (9050, K.AP)]
    assert not any(m.kind is K.AS for m in out if m.t_us > 7_200_000)
