"""What a device that did not answer as expected seems to speak, from the first bytes it sent.

A bench pointed at the wrong kind of device should say so at once, with the bytes: "answers
look like event-level A/V traffic: try an events+ URL or a device profile", not only "no answer
to HELLO_REQ".
"""

from __future__ import annotations

import re

_EVENT_LINE = re.compile(rb"^(P [AV] \d{1,20}( \d+ \d+)?|\.|I( \w+=\S+)*|[AVT] \d{1,20})\r?$")


def shown(data: bytes, limit: int = 48) -> str:
    """The bytes as a person reads them: text when it is text, else hex."""
    head = bytes(data[:limit])
    more = "..." if len(data) > limit else ""
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return repr(head.decode("ascii")) + more
    return head.hex(" ") + more


def what_it_speaks(data: bytes) -> str:
    """A sentence on the protocol ``data`` (the first bytes a device sent) looks like."""
    if not data:
        return ("the device sent no bytes at all: check the port or address, the baud rate, "
                "the cable and that the device is powered and running")
    lines = [ln for ln in bytes(data).split(b"\n") if ln.strip()]
    if lines and all(_EVENT_LINE.match(ln) for ln in lines[:-1] or lines):
        return (f"its answers look like event-level traffic ({shown(data)}): try an events+ URL "
                "or a device profile (docs/devices.md)")
    if set(bytes(data)) <= set(b"AVav\r\n "):
        return (f"its answers look like bare A/V bytes ({shown(data)}): the real-time byte mode "
                "of the event protocol (docs/protocol.md section 7)")
    if 0 in data:
        return (f"its answers look like 0x00-delimited frames ({shown(data)}): the binary "
                "protocol, perhaps another version or key")
    return f"it answered {shown(data)}, which is no protocol the bench knows"
