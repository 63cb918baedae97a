"""The condition's AV and VA times are what a device sees at its leads.

Measured as a device measures them: the heart is paced through :meth:`Heart.advance` with a
:class:`Pace` at the lead site, its RA and RV electrograms are quantised (``quantize_uv``) and fed,
one millisecond at a time and stamped at the end of the millisecond they integrate (as
``hil.session.lockstep`` feeds the device and the twin), to the reference model's sensing front
end (A-16) at its nominal sensitivities; the interval is taken from the pace to the first
detection on the other channel after that channel's nominal blanking. Alongside, the activation
of the lead sites (the cells under the tips, where the times are defined) is read from the
heart's potentials at the end of every millisecond.

What is measured, with its limits (docs/heart.md, "Times at the leads"):

| measurement | limit |
| --- | --- |
| VP -> first atrial sense, retrograde | ``va_conduction_ms`` +- 5 ms (the task's requirement) |
| VS -> first atrial sense, PVC | ``va_conduction_ms`` +- 5 ms |
| AP -> first ventricular sense | ``av_delay_ms`` +- 5 ms |
| pace or lead activation -> other lead's activation | the configured time +- 1 ms (sampling) |
| sinus, PAC and PVC beats at the lead sites | the tabulated offsets +- 1 ms |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devicetwin.heart import Heart, Pace
from devicetwin.heart.anatomy import LEAD_TIP_CELLS
from devicetwin.pacemaker import Programming
from devicetwin.pacemaker.modes import Mode
from devicetwin.pacemaker.sensing import SenseChannel, SensingFrontEnd, quantize_uv

#: Device-side interval against the configured time (microseconds).
DEVICE_TOLERANCE_US = 5_000
#: Lead-site activation against the configured time: the potentials are read once per ms.
LEAD_SITE_TOLERANCE_US = 1_000
SAMPLE_US = 1000
#: The nominal programming: sensitivities, blanking, pace amplitude and width.
NOMINAL = Programming.nominal(Mode.DDD)
#: Offsets tabulated in docs/heart.md ("Times at the leads"), microseconds: a sinus beat's
#: RA-lead-to-RV-lead interval minus av_delay_ms, and ectopic onsets to their lead's activation.
SINUS_PR_OFFSET_US = -1_800
PAC_TO_RA_LEAD_US = 55_200
PVC_TO_RV_LEAD_US = 61_600


@dataclass(frozen=True)
class DeviceView:
    """What the sense amplifier detected and when the lead sites activated (microseconds)."""

    atrial_senses_us: list[int]
    ventricular_senses_us: list[int]
    ra_site_us: list[int]
    rv_site_us: list[int]

    def first_atrial_sense_after(self, t_us: int) -> int:
        """The first atrial detection at or after ``t_us``."""
        return min(t for t in self.atrial_senses_us if t >= t_us)

    def first_ventricular_sense_after(self, t_us: int) -> int:
        """The first ventricular detection at or after ``t_us``."""
        return min(t for t in self.ventricular_senses_us if t >= t_us)


def _nominal_pace(t_us: int, site: str) -> Pace:
    if site == "RA":
        amplitude_v, width_ms = NOMINAL.atrial_amplitude_v, NOMINAL.atrial_pulse_width_ms
    else:
        amplitude_v, width_ms = NOMINAL.ventricular_amplitude_v, NOMINAL.ventricular_pulse_width_ms
    assert amplitude_v is not None and width_ms is not None  # nominal DDD paces both chambers
    return Pace(t_us, site, float(amplitude_v), round(width_ms * 1000))


def _record(heart: Heart, duration_ms: int, paces: Sequence[Pace] = ()) -> DeviceView:
    """Run ``heart`` for ``duration_ms`` in 1 ms windows, as the lock-step loop does."""
    front_end = SensingFrontEnd(
        round(NOMINAL.atrial_sensitivity_mv * 1000),
        round(NOMINAL.ventricular_sensitivity_mv * 1000),
        NOMINAL.detection_dead_time_ms,
    )
    view = DeviceView([], [], [], [])
    sites = {"RA": view.ra_site_us, "RV": view.rv_site_us}
    previous = {site: float(heart.potentials()[LEAD_TIP_CELLS[site]]) for site in sites}
    for _ in range(duration_ms):
        t_us = heart.now_us
        due = [p for p in paces if t_us <= p.t_us < t_us + SAMPLE_US]
        out = heart.advance(SAMPLE_US, due)
        egm = out.egm_mv
        # the device's sample at T integrates [T - 1 ms, T): stamped at the window's end
        detections = front_end.process(
            quantize_uv(egm["RA"]), quantize_uv(egm["RV"]), t_us + SAMPLE_US
        )
        for t_det, channel in detections.events():
            if channel is SenseChannel.ATRIUM:
                view.atrial_senses_us.append(t_det)
            else:
                view.ventricular_senses_us.append(t_det)
        v = heart.potentials()
        for site, times in sites.items():
            now = float(v[LEAD_TIP_CELLS[site]])
            if previous[site] < 0.5 <= now:  # activated inside this millisecond
                times.append(heart.now_us)
            previous[site] = now
    return view


def _retrograde_heart(va_ms: float) -> Heart:
    """Complete AV block with retrograde conduction; sinus and escape so slow that the paced
    and ectopic beats meet rested tissue (the heart tests' quiet heart)."""
    heart = Heart("complete_av_block", seed=0)
    heart.apply(escape_rate_bpm=15.0, sinus_rate_bpm=20.0, retrograde=True, va_conduction_ms=va_ms)
    return heart


def _after(times: list[int], t_us: int) -> int:
    return min(t for t in times if t >= t_us)


def _va_after_ventricular_pace(va_ms: float) -> None:
    heart = _retrograde_heart(va_ms)
    vp_us = 1_000_000
    view = _record(heart, 1000 + int(va_ms) + 150, [_nominal_pace(vp_us, "RV")])
    expected_us = round(va_ms * 1000)
    as_us = view.first_atrial_sense_after(vp_us + NOMINAL.pvab_ms * 1000)
    assert abs((as_us - vp_us) - expected_us) <= DEVICE_TOLERANCE_US, (as_us - vp_us, va_ms)
    ra_us = _after(view.ra_site_us, vp_us)
    assert abs((ra_us - vp_us) - expected_us) <= LEAD_SITE_TOLERANCE_US, (ra_us - vp_us, va_ms)


@pytest.mark.parametrize("va_ms", [200, 250, 290, 330])
def test_vp_to_atrial_sense_is_the_configured_va_time(va_ms: int) -> None:
    _va_after_ventricular_pace(float(va_ms))


@settings(max_examples=12, deadline=None)
@given(va_ms=st.floats(min_value=120.0, max_value=500.0))
def test_vp_to_atrial_sense_is_the_configured_va_time_over_its_range(va_ms: float) -> None:
    # from 120 ms: a retrograde P within the nominal PVAB (100 ms) is seen by no device
    _va_after_ventricular_pace(va_ms)


@pytest.mark.parametrize("va_ms", [250, 330])
def test_sensed_ventricular_beat_to_atrial_sense_is_the_configured_va_time(va_ms: int) -> None:
    # a PVC far from the RV lead: the VA time counts from the activation of the RV lead's site
    heart = _retrograde_heart(float(va_ms))
    heart.apply(pvc_times_ms=(1000.0,))
    view = _record(heart, 1100 + va_ms + 150)
    vs_us = view.first_ventricular_sense_after(1_000_000)
    as_us = view.first_atrial_sense_after(vs_us + NOMINAL.pvab_ms * 1000)
    assert abs((as_us - vs_us) - va_ms * 1000) <= DEVICE_TOLERANCE_US, (as_us - vs_us, va_ms)
    rv_us = _after(view.rv_site_us, 1_000_000)
    ra_us = _after(view.ra_site_us, rv_us)
    assert abs((ra_us - rv_us) - va_ms * 1000) <= LEAD_SITE_TOLERANCE_US, (ra_us - rv_us, va_ms)


def _conducting_heart(av_ms: float) -> Heart:
    # one sinus beat at t = 0, the next at 3 s: an atrial pace at 1.8 s meets a recovered node
    # (and the ventricular escape, 4 s after the first beat, comes after both)
    heart = Heart("normal_sinus", seed=0)
    heart.apply(sinus_rate_bpm=20.0, sinus_jitter=0.0, escape_rate_bpm=15.0, av_delay_ms=av_ms)
    return heart


@pytest.mark.parametrize("av_ms", [130, 176, 250, 300, 480])
def test_ap_to_ventricular_sense_is_the_configured_av_time(av_ms: int) -> None:
    heart = _conducting_heart(float(av_ms))
    ap_us = 1_800_000
    view = _record(heart, 1800 + av_ms + 100, [_nominal_pace(ap_us, "RA")])
    vs_us = view.first_ventricular_sense_after(ap_us + NOMINAL.ventricular_blanking_ms * 1000)
    assert abs((vs_us - ap_us) - av_ms * 1000) <= DEVICE_TOLERANCE_US, (vs_us - ap_us, av_ms)
    rv_us = _after(view.rv_site_us, ap_us)
    assert abs((rv_us - ap_us) - av_ms * 1000) <= LEAD_SITE_TOLERANCE_US, (rv_us - ap_us, av_ms)


@pytest.mark.parametrize("av_ms", [176, 296])
def test_sinus_pr_at_the_leads_is_av_delay_plus_the_tabulated_offset(av_ms: int) -> None:
    heart = _conducting_heart(float(av_ms))
    view = _record(heart, 3000 + av_ms + 100)
    ra_us = _after(view.ra_site_us, 2_900_000)  # the second sinus beat (3 s)
    rv_us = _after(view.rv_site_us, ra_us)
    expected_us = av_ms * 1000 + SINUS_PR_OFFSET_US
    assert abs((rv_us - ra_us) - expected_us) <= LEAD_SITE_TOLERANCE_US, (rv_us - ra_us, av_ms)


def test_ectopic_onsets_reach_their_leads_after_the_tabulated_conduction() -> None:
    heart = Heart("complete_av_block", seed=0)
    heart.apply(
        escape_rate_bpm=15.0, sinus_rate_bpm=20.0, pac_times_ms=(1000.0,), pvc_times_ms=(1500.0,)
    )
    view = _record(heart, 1700)
    ra_us = _after(view.ra_site_us, 1_000_000)
    rv_us = _after(view.rv_site_us, 1_500_000)
    assert abs((ra_us - 1_000_000) - PAC_TO_RA_LEAD_US) <= LEAD_SITE_TOLERANCE_US
    assert abs((rv_us - 1_500_000) - PVC_TO_RV_LEAD_US) <= LEAD_SITE_TOLERANCE_US
    assert heart.lead_timing.pac_to_ra_lead_us == PAC_TO_RA_LEAD_US
    assert heart.lead_timing.pvc_to_rv_lead_us == PVC_TO_RV_LEAD_US


def test_lead_timing_is_measured_on_the_hearts_own_tissue() -> None:
    # the offsets come from the anatomy: slowing the atrium lengthens the retrograde route
    from devicetwin.heart import anatomy as anatomy_module

    default = Heart("normal_sinus", seed=0).lead_timing
    slow = anatomy_module.build_heart()
    atrium = slice(slow.pad, slow.pad + anatomy_module.ATRIAL_ROWS * anatomy_module.WIDTH)
    slow.gr[atrium] *= 0.5
    slow.gd[atrium] *= 0.5
    timing = Heart("normal_sinus", seed=0, anatomy=slow).lead_timing
    assert timing.av_entry_to_ra_lead_us > 1.2 * default.av_entry_to_ra_lead_us
    assert timing.his_to_rv_lead_us == default.his_to_rv_lead_us
