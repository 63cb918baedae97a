"""A change that names an event list fires it, even when the list equals the one in force: two
identical "one PVC now" changes are two PVCs (a scenario with two ``pvc`` actions). This heart's
escape rhythm beats every 1.7 s (first at 1.72 s, then 1.76 s after each PVC): the PVCs at 2.5
and 3.3 s come outside its refractory periods."""

from __future__ import annotations

from devicetwin.heart import Heart, Origin, get_condition


def test_two_identical_pvc_changes_give_two_pvcs() -> None:
    heart = Heart(get_condition("complete_av_block"), seed=3)
    heart.schedule(2_500_000, pvc_times_ms=(0.0,))
    heart.schedule(3_300_000, pvc_times_ms=(0.0,))
    out = heart.advance(7_000_000, [])
    ectopic = [e.t_us for e in out.events if e.origin is Origin.ECTOPIC]
    assert len(ectopic) == 2
    assert 2_500_000 <= ectopic[0] < 2_600_000 and 3_300_000 <= ectopic[1] < 3_400_000


def test_an_unrelated_change_does_not_refire_them() -> None:
    heart = Heart(get_condition("complete_av_block"), seed=3)
    heart.schedule(2_500_000, pvc_times_ms=(0.0,))
    heart.schedule(3_300_000, sinus_rate_bpm=75.0)
    out = heart.advance(7_000_000, [])
    assert len([e for e in out.events if e.origin is Origin.ECTOPIC]) == 1
