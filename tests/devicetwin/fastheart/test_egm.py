"""Rendered electrograms against the cell heart's own, through the reference sensing front end."""

from __future__ import annotations

import numpy as np
import pytest

from devicetwin.fastheart import FastHeart
from devicetwin.fastheart.egm import POST_US, PRE_US, render_egm, templates
from devicetwin.heart import Heart, HeartError, Pace, get_condition
from devicetwin.heart.events import Origin
from devicetwin.pacemaker.markers import Chamber
from devicetwin.pacemaker.sensing import SensingFrontEnd, quantize_uv

DURATION_US = 8_000_000


def _detections(egm_mv: np.ndarray) -> list[tuple[int, int]]:
    """The A-16 front end at nominal sensitivities (0.75 / 2.5 mV) on RA and RV rows."""
    fe = SensingFrontEnd(750, 2500)
    det = fe.process(quantize_uv(egm_mv[0]), quantize_uv(egm_mv[1]), 0)
    return list(zip(det.t_us.tolist(), det.chamber.tolist(), strict=True))


def _rendered_and_cells(cond_name: str, paces: list[Pace], **changes: object
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The cell heart's electrograms, and the ones rendered from its own ground truth (so that
    only the rendering is compared)."""
    cells = Heart(get_condition(cond_name).with_changes(**changes), 2, sample_rate_hz=1000,
                  leads=("RA", "RV"), ecg=False, noise=False)
    out = cells.advance(DURATION_US, paces)
    mine = render_egm(out.events, paces, 1000, duration_us=DURATION_US)
    return mine, out.samples_mv


_RV_PACES = [Pace(t, "RV", 3.0, 400) for t in range(400_000, 8_000_000, 1_200_000)]


@pytest.mark.parametrize(("cond_name", "paces", "changes", "min_r"), [
    ("normal_sinus", [], {}, 0.95),
    ("complete_av_block", [Pace(t, "RV", 3.0, 400) for t in range(500_000, 8_000_000, 900_000)],
     {}, 0.95),
    ("retrograde_va", _RV_PACES, {"sinus_rate_bpm": 20.0}, 0.95),
    # retrograde P waves colliding with sinus ones: fused in the tissue, added in the rendering
    ("retrograde_va", _RV_PACES, {}, 0.7),
    ("pvcs", [], {}, 0.95),
])
def test_rendered_egm_senses_like_the_cell_heart(cond_name: str, paces: list[Pace],
                                                 changes: dict[str, object],
                                                 min_r: float) -> None:
    mine, theirs = _rendered_and_cells(cond_name, paces, **changes)
    assert mine.shape == theirs.shape
    for row in range(2):
        r = np.corrcoef(mine[row], theirs[row])[0, 1]
        assert r > min_r, (row, r)
    if min_r < 0.9:
        return  # fused P waves: the senses differ where waves collided (docs/heart.md)
    got, want = _detections(mine), _detections(theirs)
    assert [c for _, c in got] == [c for _, c in want]
    assert max(abs(a - b) for (a, _), (b, _) in zip(got, want, strict=True)) <= 3000


def test_rendering_a_fast_heart_run_senses_its_own_events() -> None:
    """Rendered from a fast-heart run, the front end senses each beat where the fast heart's
    event-level senses put it (lead activation plus the documented offsets, +-4 ms)."""

    fast = FastHeart("bench_patient", seed=1)
    senses = []
    while (s := fast.next_sense(DURATION_US - 500_000)) is not None:
        senses.append((s.t_us, 0 if s.chamber.value == "A" else 1))
    egm = render_egm(fast.activations(), (), 1000, duration_us=DURATION_US)
    got = _detections(egm)
    assert [c for _, c in got] == [c for _, c in senses]
    assert max(abs(a - b) for (a, _), (b, _) in zip(got, senses, strict=True)) <= 4000


def test_templates_have_the_documented_amplitudes() -> None:
    # docs/heart.md, validation: R on RV 10.2 mV, P on RA 2.1 mV, far-field R on RA < P
    tpl = templates(1000)
    r = tpl.beats[(Chamber.V, Origin.CONDUCTED)]
    p = tpl.beats[(Chamber.A, Origin.SINUS)]
    assert 5.0 < np.abs(r[1]).max() < 25.0
    assert 1.0 < p[0].max() - p[0].min() < 5.0
    assert np.abs(r[0]).max() < np.abs(p[0]).max()


def test_bad_rate_and_leads_are_named() -> None:
    with pytest.raises(HeartError, match="fs_hz"):
        render_egm((), (), 3000)
    with pytest.raises(HeartError, match="leads"):
        render_egm((), (), 1000, duration_us=1000, leads=("RA", "XX"))


def test_windows_join_into_the_whole_rendering() -> None:

    heart = FastHeart("bench_patient", seed=3)
    paces = []
    for t in range(700_000, 6_000_000, 1_100_000):
        while heart.next_sense(t) is not None:
            pass
        heart.pace(t, "RV", 3.0, 400)
        paces.append(Pace(t, "RV", 3.0, 400))
    acts = heart.run_open_loop(6_000_000)
    whole = render_egm(acts, paces, 1000, duration_us=6_000_000)
    parts = []
    for t0 in range(0, 6_000_000, 250_000):
        near = [a for a in acts if t0 - POST_US <= a.t_us < t0 + 250_000 + PRE_US]
        near_p = [p for p in paces if t0 - 5_000 <= p.t_us < t0 + 250_000]
        parts.append(render_egm(near, near_p, 1000, duration_us=250_000, t0_us=t0))
    assert np.allclose(np.concatenate(parts, axis=1), whole)
