"""Why a pace was due, and what the twin would have done: failures named by their rule.

The rules are the project's timing assumptions (docs/assumptions.md, A-1 .. A-21). A pace's rule
comes from its flags (safety A-7, upper rate A-3, ...) or, for an unflagged pace, from the twin's
event before it (an AS: a tracked pace, A-3/A-4; an AP: the paced AV delay, A-4; otherwise the
lower-rate escape, A-2). The twin is the reference model run on exactly the stimuli the device
received (prelude, anchor and any re-anchoring included).
"""

from __future__ import annotations

from dataclasses import dataclass

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, PaceFlag, Programming

#: Pace flags -> (what the pace is, its rule).
FLAG_RULES: dict[PaceFlag, tuple[str, str]] = {
    PaceFlag.SAFETY: ("ventricular safety pace", "A-7"),
    PaceFlag.UPPER_RATE: ("upper-rate-limited ventricular pace", "A-3"),
    PaceFlag.TRIGGERED: ("triggered pace", "A-8"),
    PaceFlag.HYSTERESIS: ("hysteresis escape pace", "A-9"),
    PaceFlag.SMOOTHING: ("rate-smoothing pace", "A-10"),
    PaceFlag.SENSOR: ("sensor-rate pace", "A-12"),
    PaceFlag.NOISE: ("noise reversion pace", "A-11"),
    PaceFlag.MAGNET: ("magnet pace", "A-15"),
}
#: Marker kinds -> (what the twin made of the event, its rule).
MARKER_RULES: dict[MarkerKind, tuple[str, str]] = {
    MarkerKind.AS: ("atrial sense: inhibits the AP, starts the sensed AV delay", "A-3"),
    MarkerKind.AR: ("refractory atrial sense: neither inhibits nor tracks", "A-5"),
    MarkerKind.AT: ("fast atrial sense (ATR)", "A-13"),
    MarkerKind.VS: ("ventricular sense: inhibits the VP, restarts the escape", "A-2"),
    MarkerKind.VR: ("refractory ventricular sense: no effect", "A-5"),
    MarkerKind.PVC: ("PVC: a ventricular sense with no atrial event before it", "A-6"),
    MarkerKind.TN: ("noise: no timing effect", "A-11"),
    MarkerKind.PVARP_EXT: ("PVARP extended", "A-6, A-14"),
    MarkerKind.ATR_DUR: ("ATR onset", "A-13"),
    MarkerKind.ATR_FB: ("ATR fallback", "A-13"),
    MarkerKind.ATR_END: ("ATR end", "A-13"),
    MarkerKind.AP: ("atrial pace", "A-2"),
    MarkerKind.VP: ("ventricular pace", "A-2"),
}
BLANKED = ("blanked: dropped with no marker", "A-5")
SAFETY_SENSE = ("ventricular sense in the safety window: does not inhibit, a safety pace follows",
                "A-7")


def pace_reason(chamber: Chamber, flags: PaceFlag, before: MarkerEvent | None
                ) -> tuple[str, str]:
    """(what the pace is, its rule) from its flags, else from the event before it."""
    for flag, reason in FLAG_RULES.items():
        if flag in flags:
            return reason
    if chamber is Chamber.A:
        return "atrial escape pace (lower rate)", "A-2"
    if before is not None and before.kind in (MarkerKind.AS, MarkerKind.AT):
        return "tracked ventricular pace (sensed AV delay)", "A-3, A-4"
    if before is not None and before.kind is MarkerKind.AP:
        return "ventricular pace at the end of the paced AV delay", "A-4"
    return "ventricular escape pace (lower rate)", "A-2"


@dataclass(frozen=True, slots=True)
class TwinView:
    """The twin's markers and the stimuli it saw, on the vector's time axis (us from time
    zero)."""

    markers: tuple[MarkerEvent, ...]
    stimuli: tuple[tuple[int, Chamber], ...]
    programming: Programming | None = None

    def edge(self, t_us: int, chamber: Chamber) -> str:
        """`` at the end of PVARP (a window is half-open, A-21)`` when a stimulus falls at, or
        1 ms before, the end of a window the twin started (empty otherwise)."""
        p = self.programming
        if p is None:
            return ""
        before = [m for m in self.markers if m.t_us < t_us]
        last_v = next((m for m in reversed(before) if m.chamber is Chamber.V
                       and (m.kind.is_pace or m.kind in (MarkerKind.VS, MarkerKind.PVC))), None)
        last_a = next((m for m in reversed(before) if m.chamber is Chamber.A
                       and m.kind in (MarkerKind.AP, MarkerKind.AS)), None)
        windows: list[tuple[MarkerEvent | None, float, str]] = []
        if chamber is Chamber.A:
            windows += [(last_v, p.pvarp_ms, "PVARP"), (last_v, p.pvab_ms, "post-ventricular "
                         "atrial blanking"), (last_a, p.arp_ms, "ARP")]
        else:
            windows += [(last_v, p.vrp_ms, "VRP")]
            if last_a is not None and last_a.kind is MarkerKind.AP:
                windows += [(last_a, p.ventricular_blanking_ms, "ventricular blanking"),
                            (last_a, p.vsp_window_ms, "the safety window")]
        for ref, length_ms, name in windows:
            if ref is None:
                continue
            d_us = t_us - ref.t_us - round(length_ms * 1000)
            if d_us == 0:
                return f" at the end of {name} (windows are half-open: outside, A-21)"
            if d_us == -1000:
                return f" 1 ms before the end of {name} (inside, A-21)"
        return ""

    def pace_near(self, t_us: int, chamber: Chamber, window_us: int) -> MarkerEvent | None:
        """The twin's pace in ``chamber`` nearest ``t_us`` within the window."""
        best = None
        for m in self.markers:
            if m.kind.is_pace and m.chamber is chamber and abs(m.t_us - t_us) <= window_us and (
                    best is None or abs(m.t_us - t_us) < abs(best.t_us - t_us)):
                best = m
        return best

    def before(self, t_us: int, *, atrial_or_ventricular_event: bool = True
               ) -> MarkerEvent | None:
        """The twin's last A or V event strictly before ``t_us``."""
        last = None
        for m in self.markers:
            if m.t_us >= t_us:
                break
            if m.chamber in (Chamber.A, Chamber.V) or not atrial_or_ventricular_event:
                last = m
        return last

    def reason(self, pace: MarkerEvent) -> tuple[str, str]:
        """(what the twin's pace is, its rule)."""
        return pace_reason(pace.chamber, pace.flags, self.before(pace.t_us))

    def _safety_after(self, t_us: int) -> bool:
        """A safety pace follows the V sense at ``t_us`` (it fell in the safety window)."""
        nxt = next((m for m in self.markers if m.t_us > t_us and m.chamber is Chamber.V
                    and m.kind.is_pace), None)
        return nxt is not None and PaceFlag.SAFETY in nxt.flags

    def rules(self, start_us: int, end_us: int, limit: int = 4) -> list[str]:
        """The rule IDs of :meth:`account`'s entries, each once, in time order."""
        out: list[str] = []
        for _, rule in self._entries(start_us, end_us, limit):
            for r in rule.split(", "):
                if r not in out:
                    out.append(r)
        return out

    def account(self, start_us: int, end_us: int, limit: int = 4) -> list[str]:
        """How the twin took the stimuli and its own non-pace events in ``[start, end]``, the
        last ``limit`` of them: ``"A at 1250.000 ms: AR (refractory atrial sense ..., A-5)"``."""
        return [text for text, _ in self._entries(start_us, end_us, limit)]

    def _entries(self, start_us: int, end_us: int, limit: int) -> list[tuple[str, str]]:
        out: list[tuple[int, str, str]] = []
        for t, ch in self.stimuli:
            if not start_us <= t <= end_us:
                continue
            seen = [m for m in self.markers if m.t_us == t and m.chamber is ch
                    and m.kind.is_sense]
            what, rule = (MARKER_RULES[seen[0].kind] if seen else BLANKED)
            if seen and seen[0].kind is MarkerKind.VS and self._safety_after(t):
                what, rule = SAFETY_SENSE
            edge = self.edge(t, ch)
            kind = f"{seen[0].kind.value} " if seen else ""
            out.append((t, f"{ch.name} at {t / 1000:.3f} ms{edge}: {kind}({what}, {rule})",
                        rule + (", A-21" if edge else "")))
        for m in self.markers:
            if start_us <= m.t_us <= end_us and m.kind is MarkerKind.PVARP_EXT:
                what, rule = MARKER_RULES[m.kind]
                out.append((m.t_us, f"{m.kind.value} at {m.t_us / 1000:.3f} ms ({what}, {rule})",
                            rule))
        out.sort(key=lambda x: x[0])
        return [(text, rule) for _, text, rule in out[-limit:]]


__all__ = ["BLANKED", "FLAG_RULES", "MARKER_RULES", "SAFETY_SENSE", "TwinView", "pace_reason"]
