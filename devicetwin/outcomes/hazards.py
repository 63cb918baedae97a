"""Hazards read off the patient's outcome, and how they join the monitors' findings.

A monitor judges the device's marker stream (and, on some paths, labels the twin lends it); a
device that lacks a feature, or reports less, can slip past it. The outcome cannot: a PMT
episode (``devicetwin.outcomes.pmt``) is the PMT hazard whatever the markers say. A run's
hazard finding is detected when either side detects it.
"""

from __future__ import annotations

from collections.abc import Mapping

from devicetwin.conformance.hazards import Hazard, HazardFinding
from devicetwin.outcomes.measures import Outcomes


def outcome_hazards(outcomes: Outcomes) -> dict[Hazard, HazardFinding]:
    """The hazards the outcome shows, with the times that show them."""
    pmt = outcomes.pmt
    onsets = tuple(e.onset_us for e in pmt.episodes)
    if pmt.episodes:
        sentence = (f"pmt detected in the patient: {len(pmt.episodes)} episode(s), "
                    f"{pmt.burden:.0%} of the run, longest {pmt.longest_episode_us / 1e6:.1f} s, "
                    f"{pmt.ended_by_device} ended by the device.")
    else:
        sentence = "pmt not detected in the patient (no run of retrograde-tracked paces)."
    return {Hazard.PMT: HazardFinding(Hazard.PMT, bool(pmt.episodes), onsets, True, sentence)}


def merge_findings(*sides: Mapping[Hazard, HazardFinding]) -> dict[Hazard, HazardFinding]:
    """One finding per hazard: detected if any side detected it, evidence and sentences joined
    (detecting sides first)."""
    out: dict[Hazard, HazardFinding] = {}
    for hazard in Hazard:
        found = [side[hazard] for side in sides if hazard in side]
        if not found:
            continue
        found.sort(key=lambda f: not f.detected)
        detected = any(f.detected for f in found)
        evidence = tuple(sorted({t for f in found if f.detected for t in f.evidence_t_us}))
        sentence = " ".join(f.sentence for f in found if f.detected or not detected)
        out[hazard] = HazardFinding(hazard, detected, evidence,
                                    any(f.evaluated for f in found), sentence)
    return out
