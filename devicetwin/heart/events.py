"""Ground-truth records: what the heart did, when, and why."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from devicetwin.pacemaker.markers import Chamber


class Origin(enum.Enum):
    """What started an activation.

    ``CONDUCTED`` is a ventricular activation that came down the AV node and His bundle (in sinus
    rhythm, the normal QRS); the others are as named. A pace record has origin ``PACED`` whether
    it captured or not.
    """

    SINUS = "sinus"
    ECTOPIC = "ectopic"
    PACED = "paced"
    RETROGRADE = "retrograde"
    ESCAPE = "escape"
    CONDUCTED = "conducted"


@dataclass(frozen=True)
class Activation:
    """One atrial or ventricular activation, or one pace.

    Attributes
    ----------
    t_us:
        Time in microseconds: for activations, the first threshold crossing in the chamber; for
        paces, the pulse's start.
    chamber:
        ``Chamber.A`` or ``Chamber.V``.
    origin:
        See :class:`Origin`.
    captured:
        For paces, whether the pulse captured; None for other activations.
    site:
        The lead site of a pace ("RA", "RV", "LV"), else None.
    """

    t_us: int
    chamber: Chamber
    origin: Origin
    captured: bool | None = None
    site: str | None = None
