"""The reference pacemaker: an executable form of the PACEMAKER specification."""

from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag

__all__ = ["Chamber", "MarkerEvent", "MarkerKind", "PaceFlag"]
