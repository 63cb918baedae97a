"""Invariants over random streams: monitors never crash, verdicts are consistent with limits,
and the hazard summary always names the eight hazards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devicetwin.conformance import (
    Activation,
    ActivationOrigin,
    Hazard,
    TimingLimits,
    VerdictStatus,
    match,
    run_monitors,
)
from devicetwin.conformance.monitors import HAZARD_MONITOR
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag

CHAMBER_OF = {
    MarkerKind.AS: Chamber.A, MarkerKind.AP: Chamber.A, MarkerKind.AR: Chamber.A,
    MarkerKind.AT: Chamber.A, MarkerKind.VS: Chamber.V, MarkerKind.VP: Chamber.V,
    MarkerKind.VR: Chamber.V, MarkerKind.PVC: Chamber.V, MarkerKind.ATR_DUR: Chamber.X,
    MarkerKind.ATR_FB: Chamber.X, MarkerKind.ATR_END: Chamber.X, MarkerKind.PVARP_EXT: Chamber.X,
}

event = st.builds(
    lambda t, k, f, tn: MarkerEvent(
        t * 1000, tn if k is MarkerKind.TN else CHAMBER_OF[k], k,
        3500 if k.is_pace else None, 400 if k.is_pace else None,
        PaceFlag(f) if k.is_pace else PaceFlag.NONE),
    st.integers(0, 20_000), st.sampled_from(list(MarkerKind)), st.integers(0, 255),
    st.sampled_from([Chamber.A, Chamber.V]),
)
modes = st.sampled_from(["DDD", "DDDR", "VVI", "AAI", "VDD", "DDI", "DOO", "VVT", "AAT", "OOO"])


@given(st.lists(event, max_size=80), modes, st.booleans(), st.booleans())
def test_monitors_total_on_random_streams(
    events: list[MarkerEvent], mode: str, atr_on: bool, with_truth: bool
) -> None:
    lim = TimingLimits(mode=mode, lri_ms=1000, uri_ms=500, atr_enabled=atr_on,
                       hysteresis_interval_ms=1200, pvarp_extension_ms=100,
                       msri_ms=400 if mode.endswith("R") else None)
    acts = [Activation(e.t_us, e.chamber, ActivationOrigin.PACED, e.t_us % 2 == 0)
            for e in events if e.kind.is_pace] if with_truth else None
    r = run_monitors(events, lim, activations=acts, end_us=21_000_000)
    assert set(r.hazards) == set(Hazard)
    for v in r.verdicts:
        if v.value is None:
            assert v.status is VerdictStatus.NOT_APPLICABLE and not v.passed and not v.failed
        else:
            assert v.passed == v.limits.contains(v.value) != v.failed
    assert r.passed == (not any(v.failed for v in r.verdicts))
    for h, f in r.hazards.items():
        res = r.results[HAZARD_MONITOR[h]]
        failed = [r.verdict(n) for n in res.hazard_measurements if r.verdict(n).failed]
        assert f.detected == bool(failed)


@given(st.lists(event, max_size=60), st.lists(event, max_size=60))
def test_match_accounts_for_every_event(dev: list[MarkerEvent], pre: list[MarkerEvent]) -> None:
    r = match(dev, pre)
    assert 0 <= r.matched <= min(len(dev), len(pre))
    assert r.paired >= r.matched
    # each unpaired TN-free event yields exactly one missing/extra discrepancy
    unpaired_dev = len(dev) - r.paired
    unpaired_pre = len(pre) - r.paired
    one_sided = [d for d in r.discrepancies if d.error_us is None]
    assert len(one_sided) == unpaired_dev + unpaired_pre
    assert sorted(d.t_us for d in r.discrepancies) == [d.t_us for d in r.discrepancies]
