"""Translations between the twin's records and the wire's, in one place.

The packages ``devicetwin`` and ``firmware_bridge`` do not know each other (DESIGN.md); the bench
maps marker events, paces and programmings between them here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from devicetwin.conformance import Activation as ConfActivation
from devicetwin.conformance import ActivationOrigin
from devicetwin.heart import Activation as HeartActivation
from devicetwin.heart import Origin, Pace
from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, PaceFlag, Programming
from firmware_bridge.messages import Event
from firmware_bridge.wire import WireChamber, WireKind, WirePaceFlag

_CHAMBER_FROM_WIRE = {WireChamber.A: Chamber.A, WireChamber.V: Chamber.V, WireChamber.X: Chamber.X}
_KIND_FROM_WIRE = {WireKind[k.name]: k for k in MarkerKind}
_PACE_SITE = {Chamber.A: "RA", Chamber.V: "RV"}

_ORIGIN = {
    Origin.SINUS: ActivationOrigin.INTRINSIC,
    Origin.ECTOPIC: ActivationOrigin.ECTOPIC,
    Origin.PACED: ActivationOrigin.PACED,
    Origin.RETROGRADE: ActivationOrigin.RETROGRADE,
    Origin.ESCAPE: ActivationOrigin.INTRINSIC,
    Origin.CONDUCTED: ActivationOrigin.CONDUCTED,
}


def wire_parameters(programming: Programming) -> dict[str, int]:
    """The programming as PROGRAM parameters: wire names, integer wire units."""
    return programming.to_wire_units()


def marker_from_wire(event: Event) -> MarkerEvent:
    """A device's wire event as a marker (amplitude and width kept for paces only)."""
    kind = _KIND_FROM_WIRE[event.kind]
    if kind.is_pace:
        return MarkerEvent(event.t_us, _CHAMBER_FROM_WIRE[event.chamber], kind,
                           event.amplitude_mv, event.width_us, PaceFlag(int(event.flags)))
    return MarkerEvent(event.t_us, _CHAMBER_FROM_WIRE[event.chamber], kind)


def marker_to_wire(event: MarkerEvent) -> Event:
    """A marker as a wire event (for fake devices and vector files)."""
    return Event(event.t_us, WireChamber[event.chamber.name], WireKind[event.kind.name],
                 WirePaceFlag(int(event.flags)), event.amplitude_mv or 0, event.width_us or 0)


def pace_for_heart(event: MarkerEvent) -> Pace:
    """The stimulus a pace marker delivers to the heart at its lead site."""
    return Pace(event.t_us, _PACE_SITE[event.chamber], (event.amplitude_mv or 0) / 1000.0,
                event.width_us or 0)


def activations_for_monitors(events: Iterable[HeartActivation]) -> list[ConfActivation]:
    """The heart's ground truth in the form the conformance monitors read."""
    out = []
    for e in events:
        captured = True if e.captured is None else bool(e.captured)
        out.append(ConfActivation(e.t_us, e.chamber, _ORIGIN[e.origin], captured))
    return out


def programming_from(mode: object, parameters: Mapping[str, object]) -> Programming:
    """Nominal programming for ``mode`` (a name or a Mode) with ``parameters`` changed.

    ``parameters`` are plain data as scenario and vector files hold them (enum members by name,
    Off as ``None`` or ``"off"``) or already typed values; everything is validated once.

    Raises
    ------
    ProgrammingError
        For an unknown mode or parameter name (with the closest names), a value of the wrong
        type or off its grid, or a broken cross-parameter rule; ``name`` says which.
    """
    return Programming.from_plain(mode, parameters)
