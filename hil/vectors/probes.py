"""Stimulus patterns that separate devices: where implementations of one specification differ.

* ``retrograde``: retrograde conduction after every ventricular event: an atrial detection
  ``va_ms`` after each VP (or VS). With VA above PVARP a tracking mode enters a pacemaker-mediated
  tachycardia at the upper rate; PMT termination (A-14) breaks it.
* ``safety``: a ventricular detection ``offset_ms`` after every atrial pace, inside the safety
  window ``[AP + ventricular blanking, AP + vsp_window)``: a safety pace (A-7), never inhibition.
* ``pvc_retro``: conducted sinus; every ``every`` beats a PVC followed by a retrograde P
  ``va_ms`` later (A-6: PVC and PVARP extension).
* ``pp_sweep``: constant P-P interval, no ventricular activity: 1:1 tracking, pacemaker
  Wenckebach or 2:1 block (A-3). :func:`tracking_ratio` gives the expected ratio in closed form.
* ``boundary_pvarp``, ``boundary_vrp``, ``boundary_arp``, ``boundary_blank``,
  ``boundary_vsp``: one detection at exactly the end of a window plus ``delta_ms`` (-1, 0, +1):
  windows are half-open (A-21), so -1 is inside and 0 outside.

The stimuli of ``retrograde`` and ``safety`` follow the device's own paces; they are computed by
running the twin on its programming (the vector stays open-loop: a device that paces elsewhere
meets stimuli at the twin's times).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, Mode, PacemakerModel, Programming
from hil.errors import ConfigError
from hil.vectors.format import Stimulus

PATTERN_SOURCE = "--pattern"
"""Where pattern specs come from (the ``source`` of a PatternError)."""

#: Where a boundary probe puts its first events (ms from the session start).
PROBE_START_MS = 300
#: Modes with PVARP (A-5): they sense the atrium and pace the ventricle.
PVARP_MODES = frozenset({Mode.VDD, Mode.DDI, Mode.DDD, Mode.VDDR, Mode.DDIR, Mode.DDDR})
#: Modes with ARP (A-5).
ARP_MODES = frozenset({Mode.AAI, Mode.AAT, Mode.AAIR})
#: Modes with a ventricular refractory period that sense the ventricle.
VRP_MODES = frozenset({Mode.VVI, Mode.VVT, Mode.VVIR, Mode.DDI, Mode.DDD, Mode.VDD, Mode.DDIR,
                       Mode.DDDR, Mode.VDDR})
#: Modes with ventricular safety pacing (A-7): pace both chambers and sense the ventricle.
SAFETY_MODES = frozenset({Mode.DDI, Mode.DDD, Mode.DDIR, Mode.DDDR})


class PatternError(ConfigError):
    """An unknown pattern, a bad pattern option, or a pattern the mode cannot show (``source``
    is ``--pattern``)."""


def _ms(t_ms: float) -> int:
    return round(t_ms) * 1000


def _needs(name: str, p: Programming, modes: frozenset[Mode], what: str) -> None:
    if p.mode not in modes:
        allowed = ", ".join(sorted(m.name for m in modes))
        raise PatternError(f"pattern {name!r} needs a mode with {what}; mode {p.mode.name} has "
                           f"none: expected one of {allowed}", name="mode", value=p.mode.name,
                           expected=f"one of {allowed}", source=PATTERN_SOURCE)


def follow(programming: Programming, duration_us: int, step_us: int,
           react: Callable[[MarkerEvent], list[Stimulus]]) -> list[Stimulus]:
    """Stimuli that answer the twin's own events: ``react`` maps each marker to detections
    (each at least ``step_us`` after it), fed back to the model in time order."""
    model = PacemakerModel(programming)
    pending: list[Stimulus] = []
    out: list[Stimulus] = []
    now = 0
    while now < duration_us:
        pending.sort(key=lambda s: (s.t_us, s.chamber.value))
        target = min(duration_us, now + step_us)
        if pending and pending[0].t_us - 1 < target:
            target = pending[0].t_us - 1
        for m in model.advance_to(max(target, model.now_us)):
            pending += [s for s in react(m) if s.t_us <= duration_us]
        now = max(target, now)
        while pending and pending[0].t_us <= now + 1:
            s = pending.pop(0)
            model.detect(s.t_us, s.chamber)
            out.append(s)
            now = max(now, s.t_us)
    return out


def retrograde(o: Mapping[str, float], duration_us: int, p: Programming) -> list[Stimulus]:
    """An atrial detection ``va_ms`` after every ventricular pace or sense."""
    va = _ms(o["va_ms"])

    def react(m: MarkerEvent) -> list[Stimulus]:
        if m.chamber is Chamber.V and m.kind in (MarkerKind.VP, MarkerKind.VS, MarkerKind.PVC):
            return [Stimulus(m.t_us + va, Chamber.A)]
        return []
    return follow(p, duration_us, va, react)


def safety(o: Mapping[str, float], duration_us: int, p: Programming) -> list[Stimulus]:
    """A ventricular detection ``offset_ms`` after every atrial pace."""
    _needs("safety", p, SAFETY_MODES, "ventricular safety pacing")
    off = _ms(o["offset_ms"])

    def react(m: MarkerEvent) -> list[Stimulus]:
        return [Stimulus(m.t_us + off, Chamber.V)] if m.kind is MarkerKind.AP else []
    return follow(p, duration_us, off, react)


def sinus_with_pvcs(o: Mapping[str, float], duration_us: int,
                    va_ms: float | None = None) -> list[Stimulus]:
    """Conducted sinus (A, then V ``av_ms`` later, at ``rate_bpm`` from ``start_ms``); every
    ``every``-th beat the A is replaced by a PVC ``coupling_ms`` after the previous V, followed by
    a retrograde P ``va_ms`` after it when ``va_ms`` is given; the sinus resumes a cycle after
    the PVC (compensatory pause). The ``pvcs`` rhythm and the ``pvc_retro`` probe."""
    out: list[Stimulus] = []
    cycle = 60_000.0 / o["rate_bpm"]
    t = o["start_ms"]
    beat = 0
    last_v: float | None = None
    while _ms(t) <= duration_us:
        beat += 1
        if beat % int(o["every"]) == 0 and last_v is not None:
            pvc = last_v + o["coupling_ms"]
            out.append(Stimulus(_ms(pvc), Chamber.V))
            if va_ms is not None:
                out.append(Stimulus(_ms(pvc + va_ms), Chamber.A))
            last_v = pvc
            t = pvc + cycle
            continue
        out += [Stimulus(_ms(t), Chamber.A), Stimulus(_ms(t + o["av_ms"]), Chamber.V)]
        last_v = t + o["av_ms"]
        t += cycle
    return [s for s in out if s.t_us <= duration_us]


def pvc_retro(o: Mapping[str, float], duration_us: int, _: Programming) -> list[Stimulus]:
    """Conducted sinus; every ``every``-th beat a PVC ``coupling_ms`` after the previous V and a
    retrograde P ``va_ms`` after the PVC, then the sinus resumes a cycle after the PVC."""
    return sinus_with_pvcs(o, duration_us, o["va_ms"])


def pp_sweep(o: Mapping[str, float], duration_us: int, _: Programming) -> list[Stimulus]:
    """Atrial detections every ``pp_ms`` from ``start_ms``, nothing in the ventricle."""
    out = []
    t = o["start_ms"]
    while _ms(t) <= duration_us:
        out.append(Stimulus(_ms(t), Chamber.A))
        t += o["pp_ms"]
    return out


def tracking_ratio(pp_ms: int, programming: Programming) -> tuple[int, int]:
    """(P waves, ventricular paces) per repeating group at a constant P-P interval, closed form
    (docs/pacing.md section 2; fixed AV delay, no offset, no PVARP extension):

    * ``pp >= URI``: 1:1;
    * ``TARP <= pp < URI`` (TARP = SAV + PVARP): Wenckebach. Tracked beat k is paced at
      ``V1 + (k-1) URI``, so the next P falls ``pp - SAV - (k-1)(URI - pp)`` after it; it is
      blocked (in PVARP) once that is below PVARP: ``n = floor((pp - TARP) / (URI - pp)) + 2``
      tracked beats, ratio (n + 1):n;
    * ``pp < TARP``: 2:1.
    """
    uri = programming.uri_ms
    tarp = int(programming.fixed_av_delay_ms) + int(programming.pvarp_ms)
    if pp_ms >= uri:
        return 1, 1
    if pp_ms < tarp:
        return 2, 1
    n = (pp_ms - tarp) // (uri - pp_ms) + 2
    return n + 1, n


def _delta(o: Mapping[str, float]) -> int:
    return _ms(o["delta_ms"])


def boundary_pvarp(o: Mapping[str, float], duration_us: int, p: Programming) -> list[Stimulus]:
    """A, then a conducted V 130 ms later (a VS), then an A at the end of PVARP + delta."""
    _needs("boundary_pvarp", p, PVARP_MODES, "PVARP")
    a0 = _ms(PROBE_START_MS)
    v0 = a0 + _ms(min(130, int(p.fixed_av_delay_ms) - 20))
    return [Stimulus(a0, Chamber.A), Stimulus(v0, Chamber.V),
            Stimulus(v0 + _ms(int(p.pvarp_ms)) + _delta(o), Chamber.A)]


def boundary_vrp(o: Mapping[str, float], duration_us: int, p: Programming) -> list[Stimulus]:
    """A ventricular sense, then another at the end of VRP + delta."""
    _needs("boundary_vrp", p, VRP_MODES, "a ventricular refractory period")
    v0 = _ms(PROBE_START_MS)
    return [Stimulus(v0, Chamber.V), Stimulus(v0 + _ms(int(p.vrp_ms)) + _delta(o), Chamber.V)]


def boundary_arp(o: Mapping[str, float], duration_us: int, p: Programming) -> list[Stimulus]:
    """An atrial sense, then another at the end of ARP + delta."""
    _needs("boundary_arp", p, ARP_MODES, "ARP")
    a0 = _ms(PROBE_START_MS)
    return [Stimulus(a0, Chamber.A), Stimulus(a0 + _ms(int(p.arp_ms)) + _delta(o), Chamber.A)]


def first_atrial_pace_us(p: Programming, duration_us: int) -> int:
    """When the twin, left alone, paces the atrium first (A-21: escape minus PAV)."""
    for m in PacemakerModel(p).advance_to(duration_us):
        if m.kind is MarkerKind.AP:
            return m.t_us
    raise PatternError(f"mode {p.mode.name} does not pace the atrium within "
                       f"{duration_us / 1e6:g} s", name="duration", value=duration_us,
                       expected="a longer run", source=PATTERN_SOURCE)


def boundary_blank(o: Mapping[str, float], duration_us: int, p: Programming) -> list[Stimulus]:
    """A ventricular detection at the end of post-atrial ventricular blanking + delta after
    the first AP: blanked (dropped) before, in the safety window from it (A-5, A-7)."""
    _needs("boundary_blank", p, SAFETY_MODES, "post-atrial ventricular blanking")
    ap = first_atrial_pace_us(p, duration_us)
    return [Stimulus(ap + _ms(int(p.ventricular_blanking_ms)) + _delta(o), Chamber.V)]


def boundary_vsp(o: Mapping[str, float], duration_us: int, p: Programming) -> list[Stimulus]:
    """A ventricular detection at the end of the safety window + delta after the first AP:
    a safety pace before, an ordinary inhibiting sense from it (A-7)."""
    _needs("boundary_vsp", p, SAFETY_MODES, "ventricular safety pacing")
    ap = first_atrial_pace_us(p, duration_us)
    return [Stimulus(ap + _ms(int(p.vsp_window_ms)) + _delta(o), Chamber.V)]


__all__ = [
    "ARP_MODES",
    "PATTERN_SOURCE",
    "PROBE_START_MS",
    "PVARP_MODES",
    "SAFETY_MODES",
    "VRP_MODES",
    "PatternError",
    "boundary_arp",
    "boundary_blank",
    "boundary_pvarp",
    "boundary_vrp",
    "boundary_vsp",
    "first_atrial_pace_us",
    "follow",
    "pp_sweep",
    "pvc_retro",
    "retrograde",
    "safety",
    "tracking_ratio",
]
