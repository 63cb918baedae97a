"""Conduction times between the heart's own sites and its lead sites, measured on its tissue.

The condition's device-facing times (``va_conduction_ms``, ``av_delay_ms``) are defined *at the
leads*: between a pace, or the activation of one lead's site, and the activation of the other
lead's site. The model's AV path, however, connects the AV-nodal entry cells of the atrium to the
His bundle; between those and the lead sites the waves cross atrial and ventricular tissue. To
schedule the path's exits so that the configured time is what the leads see, the heart subtracts
these conduction times, which :func:`measure_lead_timing` measures once on a rested copy of the
heart's own tissue (same anatomy, ionic model, time step and kernel build): each probe stimulates
a site as the heart would (a pace's capture current, or an automatic site's stimulus) and records
when the sentinel cells cross threshold. Measured, not fitted: a change to the anatomy, the
conductances or the ionic model changes them with it.

**The activation time at a lead site** is the step in which the cell under the lead's tip crosses
the activation threshold (0.5) upward. It is a property of the heart alone, the same for every
device: it is the local activation time an electrophysiologist reads off the bipolar
electrogram, which on this heart's leads coincides with the atrial electrogram's intrinsic
deflection and with the peak of the R wave. What a device's sense amplifier reports depends on
its filter, its sensitivity and the signal's amplitude, so it is not the definition; the
reference front end's (A-16) detections at nominal sensitivity are tabulated against it in
docs/heart.md.

All times are in microseconds, whole kernel steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devicetwin.heart.anatomy import Anatomy
from devicetwin.heart.errors import HeartError
from devicetwin.heart.ionic import IonicModel
from devicetwin.heart.pacing import CAPTURE_CURRENT_MS, CAPTURE_CURRENT_PER_MS
from devicetwin.heart.tissue import make_tissue

#: How long a probe may run before a site that never activates is reported (ms).
PROBE_LIMIT_MS = 400


@dataclass(frozen=True, slots=True)
class LeadTiming:
    """Conduction times (microseconds) of a rested heart between its sites and its lead sites.

    "Lead" is the cell under the lead's tip (see the module documentation); "pace" is the onset
    of a capturing pace at that lead; the other sites are stimulated as the heart stimulates
    them (the AV path's exits, the sinus node, the ectopic foci).

    Attributes
    ----------
    av_entry_to_ra_lead_us:
        A retrograde exit of the AV path (stimulus onset at the AV-nodal entry cells) to the RA
        lead's activation.
    ra_pace_to_av_entry_us:
        An RA pace to the crossing of the AV-nodal entry cell (where the AV path is entered).
    his_to_rv_lead_us:
        An antegrade exit of the AV path (stimulus onset at the proximal His cells) to the RV
        lead's activation.
    ra_pace_to_ra_lead_us, rv_pace_to_rv_lead_us:
        Capture latency of a pace at its own lead.
    sinus_to_ra_lead_us, sinus_to_av_entry_us:
        A sinus-node firing to the RA lead's activation and to the AV-nodal entry.
    pac_to_ra_lead_us, pac_to_av_entry_us:
        An ectopic atrial focus firing (``pac_times_ms``) to the RA lead and to the AV-nodal entry.
    pvc_to_rv_lead_us:
        An ectopic ventricular focus firing (``pvc_times_ms``) to the RV lead's activation.
    """

    av_entry_to_ra_lead_us: int
    ra_pace_to_av_entry_us: int
    his_to_rv_lead_us: int
    ra_pace_to_ra_lead_us: int
    rv_pace_to_rv_lead_us: int
    sinus_to_ra_lead_us: int
    sinus_to_av_entry_us: int
    pac_to_ra_lead_us: int
    pac_to_av_entry_us: int
    pvc_to_rv_lead_us: int

    @property
    def av_offset_us(self) -> int:
        """What ``av_delay_ms`` adds to the AV node's own delay: RA pace to AV-nodal entry plus
        His to RV lead (the conduction outside the node on the defining beat)."""
        return self.ra_pace_to_av_entry_us + self.his_to_rv_lead_us

    @property
    def sinus_av_offset_us(self) -> int:
        """How much longer a sinus beat's RA-lead-to-RV-lead interval is than ``av_delay_ms``
        (negative: shorter), from the different way into the AV node."""
        sinus_lead_to_entry = self.sinus_to_av_entry_us - self.sinus_to_ra_lead_us
        return sinus_lead_to_entry - self.ra_pace_to_av_entry_us


def measure_lead_timing(
    anatomy: Anatomy,
    model: IonicModel,
    *,
    dt_us: int,
    site_current_per_ms: float,
    site_stim_steps: int,
) -> LeadTiming:
    """Measure the :class:`LeadTiming` of a heart on a rested copy of its tissue.

    Parameters
    ----------
    anatomy, model:
        The heart's anatomy (with the landmarks of :func:`~devicetwin.heart.anatomy.build_heart`;
        the first cell of a lead's landmark is the cell under its tip) and ionic model.
    dt_us:
        The kernel time step in microseconds.
    site_current_per_ms, site_stim_steps:
        The stimulus the heart gives an automatic site or an AV-path exit (1/ms, kernel steps);
        paces use the capture current of :mod:`devicetwin.heart.pacing`.

    Raises
    ------
    HeartError
        If a probed site does not activate within :data:`PROBE_LIMIT_MS`.
    """
    lm = anatomy.landmarks
    probe_sites = ("RA", "RV", "av_entry")
    sentinels = [lm[name][0] for name in probe_sites]
    tissue = make_tissue(anatomy, model, dt_us / 1000.0, np.zeros((0, anatomy.n)), sentinels)
    v0, h0, _ = tissue.get_state()
    pace = (CAPTURE_CURRENT_PER_MS, round(CAPTURE_CURRENT_MS * 1000 / dt_us))
    site = (site_current_per_ms, site_stim_steps)
    limit_steps = PROBE_LIMIT_MS * 1000 // dt_us
    out = np.zeros((0, limit_steps + 1))

    def first_activations(stimuli: dict[str, tuple[float, int]]) -> dict[str, int]:
        """Stimulate the named cell groups at step 0 of a rested tissue; return the first
        crossing (microseconds) of each probed site."""
        tissue.set_state(v0, h0, 0)
        names = list(stimuli)
        ptr = np.cumsum([0] + [len(lm[n]) for n in names]).astype(np.intp)
        tissue.set_stimuli(
            ptr,
            np.array([c for n in names for c in lm[n]], dtype=np.intp),
            np.zeros(len(names), dtype=np.int64),
            np.array([stimuli[n][1] for n in names], dtype=np.int64),
            np.array([stimuli[n][0] for n in names], dtype=np.float64),
        )
        first: dict[str, int] = {}
        while tissue.step < limit_steps and len(first) < len(probe_sites):
            tissue.run(limit_steps - tissue.step, out, 0, 1)
            for k, step in tissue.crossings():
                first.setdefault(probe_sites[k], int(step) * dt_us)
        return first

    def need(first: dict[str, int], site_name: str, source: str) -> int:
        if site_name not in first:
            raise HeartError(
                f"the {site_name} site does not activate within {PROBE_LIMIT_MS} ms of a "
                f"stimulus at {source}: the anatomy cannot time its leads",
                name="anatomy",
                value=source,
                expected=f"{site_name} reached from {source}",
            )
        return first[site_name]

    # Atria and ventricles are joined only through the AV path, which is not tissue: one
    # atrial and one ventricular probe can share a run.
    ra_paced = first_activations({"RA": pace, "his_entry": site})
    retro = first_activations({"av_entry": site, "RV": pace})
    sinus = first_activations({"sinus": site, "pvc": site})
    pac = first_activations({"pac": site})
    return LeadTiming(
        av_entry_to_ra_lead_us=need(retro, "RA", "av_entry"),
        ra_pace_to_av_entry_us=need(ra_paced, "av_entry", "RA"),
        his_to_rv_lead_us=need(ra_paced, "RV", "his_entry"),
        ra_pace_to_ra_lead_us=need(ra_paced, "RA", "RA"),
        rv_pace_to_rv_lead_us=need(retro, "RV", "RV"),
        sinus_to_ra_lead_us=need(sinus, "RA", "sinus"),
        sinus_to_av_entry_us=need(sinus, "av_entry", "sinus"),
        pac_to_ra_lead_us=need(pac, "RA", "pac"),
        pac_to_av_entry_us=need(pac, "av_entry", "pac"),
        pvc_to_rv_lead_us=need(sinus, "RV", "pvc"),
    )
