"""The event-level heart for cohorts: the cell-network heart's rules on measured conduction
times, in Cython (see :mod:`devicetwin.fastheart.heart` and docs/heart.md, "The fast heart")."""

from devicetwin.fastheart.egm import render_egm, templates
from devicetwin.fastheart.heart import (
    SENSE_OFFSET_US,
    TARGET_ERP_SOURCE,
    FastHeart,
    Sense,
)
from devicetwin.fastheart.timing import SOURCES, TARGETS, conduction_table, restitution

__all__ = [
    "SENSE_OFFSET_US",
    "SOURCES",
    "TARGETS",
    "TARGET_ERP_SOURCE",
    "FastHeart",
    "Sense",
    "conduction_table",
    "render_egm",
    "restitution",
    "templates",
]
