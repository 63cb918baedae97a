"""The reference model as an event-level device (``--device twin --level events``).

Speaks the event-level codec (docs/protocol.md section 7) behind any byte transport: senses in,
``T`` answered with the paces up to that time and ``.``; ``R`` starts a session (the model back
to its power-on state, time zero) and is answered with its identity and ``.`` (no early stop:
the bench drives it one millisecond at a time). A stand-in for lab devices that take sense
events, and the reference the event-level player is tested against.
"""

from __future__ import annotations

from devicetwin import __version__
from devicetwin.pacemaker import Chamber, PacemakerModel, Programming
from firmware_bridge.eventcodec import (
    EndOfAnswer,
    EventIdentity,
    EventLineCodec,
    Pace,
    Reset,
    Sense,
    TimeMark,
)
from firmware_bridge.wire import WireChamber

_CH = {WireChamber.A: Chamber.A, WireChamber.V: Chamber.V}
_WIRE = {Chamber.A: WireChamber.A, Chamber.V: WireChamber.V}


class TwinEventDevice:
    """A free-running :class:`PacemakerModel` answering event-level lines."""

    def __init__(self, programming: Programming) -> None:
        self.programming = programming
        self.model = PacemakerModel(programming)
        self.codec = EventLineCodec()

    def handle(self, data: bytes) -> bytes:
        """Bytes in, answer bytes out (a ``firmware_bridge.serve`` handler)."""
        out = bytearray()
        for msg in self.codec.feed(data):
            if isinstance(msg, Reset):
                self.model = PacemakerModel(self.programming)
                out += self.codec.encode(EventIdentity("devicetwin-twin", __version__))
                out += self.codec.encode(EndOfAnswer())
            elif isinstance(msg, Sense):
                self.model.detect(max(msg.t_us, self.model.now_us), _CH[msg.chamber])
            elif isinstance(msg, TimeMark):
                for m in self.model.advance_to(max(msg.t_us, self.model.now_us)):
                    if m.kind.is_pace and m.chamber in _WIRE:
                        out += self.codec.encode(Pace(_WIRE[m.chamber], m.t_us))
                out += self.codec.encode(EndOfAnswer())
        return bytes(out)


__all__ = ["TwinEventDevice"]
