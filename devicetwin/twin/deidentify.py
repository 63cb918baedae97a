"""De-identification rules: what of a recording may pass into a twin, and in what form.

Everything is by allow-list, not by a list of things to remove: a free-text field (a WFDB
header comment, a record or file name, a CSV comment, an unrecognised annotation note) never
passes, whatever it says, since no pattern can tell a name or a medication from other text.
What passes: signal names that are lead names, annotation notes that are marker or rhythm
codes, numbers that are times relative to the start of the recording, and the device serial
number as a salted hash (a keyed HMAC-SHA256, so nobody without the salt can test a guessed
serial against it).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from devicetwin.pacemaker import MarkerKind, PaceFlag
from devicetwin.twin.errors import TwinError

#: Bytes of salt a pseudonym needs at least (a salt file is 64 hex digits = 32 bytes).
MIN_SALT_BYTES = 16

_LEAD_RE = re.compile(
    r"^(?:(?:ECG|EKG)[_ ]?)?(?:I|II|III|aVR|aVL|aVF|V[1-6]|MLI|MLII|MLIII|ML5|CM[2-5]|CC5|"
    r"D3|V|ECG|EKG)$|^EGM[_ ]?(?:A|V|RA|RV|LV|CS)$|^(?:RA|RV|LV|A|V)[_ ]?EGM$",
    re.IGNORECASE)
_UNITS = ("mV", "uV", "V", "adu")
#: WFDB rhythm codes (the aux note of a ``+`` annotation, after its ``(``).
RHYTHM_CODES = ("AB", "AFIB", "AFL", "B", "BII", "IVR", "N", "NOD", "P", "PREX", "SBR", "SVTA",
                "T", "VFL", "VT")
_MARKER_RE = re.compile(r"^([A-Z_]+)(?:\[([A-Z_|]+)\])?$")


def pseudonym(serial: str, salt: bytes) -> str:
    """``sn-`` and 16 hex digits of HMAC-SHA256(salt, serial): the same serial and salt give the
    same pseudonym; without the salt a serial cannot be tested against it.

    The serial is compared as the device prints it, ignoring case and surrounding spaces.
    """
    if len(salt) < MIN_SALT_BYTES:
        raise TwinError(f"a salt of {len(salt)} bytes is too short; expected at least "
                        f"{MIN_SALT_BYTES}", name="salt", value=len(salt),
                        expected=f">= {MIN_SALT_BYTES} bytes")
    text = serial.strip().upper()
    if not text:
        raise TwinError("the device serial number is empty", name="serial", value=serial,
                        expected="a non-empty serial number")
    digest = hmac.new(salt, text.encode("utf-8"), hashlib.sha256).hexdigest()
    return "sn-" + digest[:16]


def signal_name(name: str, index: int) -> str:
    """``name`` when it is a lead name (``V5``, ``MLII``, ``EGM_A``), else ``signal<index>``."""
    clean = name.strip()
    return clean if _LEAD_RE.match(clean) else f"signal{index}"


def signal_units(units: str) -> str:
    """``units`` when one of mV, uV, V, adu; else ``unknown``."""
    clean = units.strip()
    return clean if clean in _UNITS else "unknown"


def rhythm_code(note: str) -> str | None:
    """The rhythm code of a WFDB rhythm note (``(AFIB`` -> ``AFIB``), or None for other text."""
    clean = note.strip().rstrip("\x00")
    if clean.startswith("(") and clean[1:] in RHYTHM_CODES:
        return clean[1:]
    return None


def marker_note(note: str) -> tuple[MarkerKind, PaceFlag] | None:
    """The marker kind and flags of a device-marker note (``VP``, ``VP[HYSTERESIS]``), or None
    for any other text."""
    m = _MARKER_RE.match(note.strip().rstrip("\x00"))
    if m is None:
        return None
    try:
        kind = MarkerKind[m.group(1)]
    except KeyError:
        return None
    flags = PaceFlag.NONE
    for name in (m.group(2) or "").split("|"):
        if not name:
            continue
        try:
            flags |= PaceFlag[name]
        except KeyError:
            return None
    return kind, flags
