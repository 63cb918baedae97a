"""Hand-written marker streams for the conformance tests (on pytest's ``pythonpath``)."""

from __future__ import annotations

from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag

A_KINDS = {MarkerKind.AS, MarkerKind.AP, MarkerKind.AR, MarkerKind.AT}
V_KINDS = {MarkerKind.VS, MarkerKind.VP, MarkerKind.VR, MarkerKind.PVC}


def ev(
    t_ms: float,
    kind: MarkerKind,
    flags: PaceFlag = PaceFlag.NONE,
    *,
    chamber: Chamber | None = None,
    amp: int = 3500,
    width: int = 400,
) -> MarkerEvent:
    """A marker at ``t_ms`` on its kind's channel (``chamber`` for TN); paces of ``amp`` mV x
    ``width`` us."""
    ch = chamber or (Chamber.A if kind in A_KINDS else Chamber.V if kind in V_KINDS else Chamber.X)
    if kind.is_pace:
        return MarkerEvent(round(t_ms * 1000), ch, kind, amp, width, flags)
    return MarkerEvent(round(t_ms * 1000), ch, kind)


def srt(s: list[MarkerEvent]) -> list[MarkerEvent]:
    """The stream in time order."""
    return sorted(s, key=lambda e: e.t_us)
