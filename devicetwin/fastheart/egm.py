"""Electrograms for the event-level heart, from per-activation templates of the cell heart.

A device that senses from samples needs electrograms, which the event-level heart does not
compute. :func:`render_egm` draws them from its ground truth: every activation adds its beat
kind's template (both leads' rows: the local wave on its own lead, the far field on the other),
every pace its artefact (the cell heart's arithmetic: the pulse's amplitude times the lead's
coupling, over its width) and, when it captured, the paced beat's template.

The templates are measured on the cell-network heart (:func:`templates`, once per sample rate
and process, ~0.3 s): each beat kind is made alone on rested tissue (a slow sinus node, a slow
escape focus) and its bipolar electrograms cut from 60 ms before its activation record to
400 ms after it; a kind that cannot be made alone (a conducted beat comes after its P wave, a
retrograde P after its ventricular pace) is the difference of two runs that differ only by it.
The tissue is linear in what the leads see, so the difference is that beat's signal.

What it does not reproduce: the change of a beat's shape with its coupling (restitution),
fusion of two waves (the templates add), fibrillatory and flutter waves (drawn as PAC beats),
noise. docs/heart.md ("The fast heart") says where the two hearts differ.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devicetwin.heart.anatomy import build_heart
from devicetwin.heart.conditions import Condition, get_condition
from devicetwin.heart.errors import bad
from devicetwin.heart.events import Activation, Origin
from devicetwin.heart.model import DT_US, Heart
from devicetwin.heart.pacing import SITES, Pace
from devicetwin.heart.signals import artefact_coupling
from devicetwin.pacemaker.markers import Chamber

FloatArray = npt.NDArray[np.float64]

#: Template window around the activation record (us).
PRE_US = 60_000
POST_US = 400_000
#: Where the beat of each template is made (us): after the first sinus beat has passed.
_AT_US = 1_000_000
#: Beat kinds: (chamber, origin of the record), the paced ones by chamber.
KINDS: tuple[tuple[Chamber, Origin], ...] = (
    (Chamber.A, Origin.SINUS), (Chamber.A, Origin.RETROGRADE), (Chamber.A, Origin.ECTOPIC),
    (Chamber.A, Origin.PACED), (Chamber.V, Origin.CONDUCTED), (Chamber.V, Origin.ESCAPE),
    (Chamber.V, Origin.ECTOPIC), (Chamber.V, Origin.PACED),
)
_QUIET = {"sinus_rate_bpm": 20.0, "max_sinus_rate_bpm": 40.0, "sinus_jitter": 0.0,
          "escape_rate_bpm": 15.0, "av_conduction": "blocked"}
_PACE_V = 5.0
_PACE_WIDTH_US = 400


@dataclass(frozen=True)
class Templates:
    """Per-kind electrogram templates (mV) at one sample rate, rows in ``leads`` order.

    ``beats[(chamber, origin)]`` is a (leads x samples) array whose column ``pre`` is the
    sample of the activation record.
    """

    fs_hz: int
    leads: tuple[str, ...]
    pre: int
    beats: dict[tuple[Chamber, Origin], FloatArray]
    coupling: dict[str, FloatArray]


def _period_us(fs_hz: int) -> int:
    if (not isinstance(fs_hz, int) or isinstance(fs_hz, bool) or fs_hz <= 0
            or 1_000_000 % fs_hz or (1_000_000 // fs_hz) % DT_US):
        raise bad("fs_hz", fs_hz, f"a rate whose period is a multiple of {DT_US} us "
                  "(250, 500, 1000, 1250, 2500 or 5000 Hz)")
    return 1_000_000 // fs_hz


def _run(cond: Condition, fs_hz: int, paces: Sequence[Pace] = ()
         ) -> tuple[FloatArray, list[Activation]]:
    heart = Heart(cond, 0, sample_rate_hz=fs_hz, leads=SITES, ecg=False, noise=False)
    out = heart.advance(_AT_US + 2 * POST_US, list(paces))
    samples = out.samples_mv.copy()
    for p in paces:  # the artefact is drawn separately
        _add_artefact(samples, 0, p, heart.sample_rate_hz, _coupling(SITES), -1.0)
    return samples, out.events


@functools.cache
def _coupling(leads: tuple[str, ...]) -> dict[str, FloatArray]:
    return artefact_coupling(build_heart(), leads, ())


def _add_artefact(out: FloatArray, t0_us: int, pace: Pace, fs_hz: int,
                  coupling: dict[str, FloatArray], sign: float = 1.0) -> None:
    """Add a pace's artefact to ``out`` (columns from ``t0_us``): its amplitude times the
    coupling of each row, spread over the samples its width overlaps."""
    period = 1_000_000 // fs_hz
    lo, hi = pace.t_us, pace.t_us + pace.width_us
    k = (lo - t0_us) // period
    col = coupling[pace.site] * (pace.amplitude_v * 1000.0) * sign
    while lo < hi and 0 <= k < out.shape[1]:
        seg_end = min(hi, t0_us + (k + 1) * period)
        out[:, k] += col * ((seg_end - lo) / period)
        lo = seg_end
        k += 1


def _cut(samples: FloatArray, t_us: int, period: int) -> FloatArray:
    """The window of a beat at ``t_us`` (before time 0 the tissue was at rest: zeros)."""
    i = round(t_us / period)
    pre, post = PRE_US // period, POST_US // period
    padded = np.concatenate([np.zeros((samples.shape[0], pre)), samples], axis=1)
    return padded[:, i:i + pre + post].copy()


def _record(events: Sequence[Activation], chamber: Chamber, origin: Origin,
            after_us: int) -> Activation:
    for e in sorted(events, key=lambda e: e.t_us):
        if e.chamber is chamber and e.origin is origin and e.t_us >= after_us and (
                origin is not Origin.PACED or e.captured):
            return e
    raise RuntimeError(f"the cell heart made no {chamber.value} {origin.value} beat after "
                       f"{after_us} us for its template")


@functools.cache
def templates(fs_hz: int = 1000) -> Templates:
    """Measure the templates at ``fs_hz`` on the cell heart (cached per rate)."""
    period = _period_us(fs_hz)
    base = get_condition("normal_sinus").with_changes(**_QUIET)
    beats: dict[tuple[Chamber, Origin], FloatArray] = {}
    ra = Pace(_AT_US, "RA", _PACE_V, _PACE_WIDTH_US)
    rv = Pace(_AT_US, "RV", _PACE_V, _PACE_WIDTH_US)

    # atrial beats alone (the AV path blocked, nothing else beating)
    quiet, ev = _run(base, fs_hz)
    sinus = _record(ev, Chamber.A, Origin.SINUS, 0)
    beats[(Chamber.A, Origin.SINUS)] = _cut(quiet, sinus.t_us, period)
    sig, ev = _run(base.with_changes(pac_times_ms=(_AT_US / 1000,)), fs_hz)
    beats[(Chamber.A, Origin.ECTOPIC)] = _cut(sig, _record(ev, Chamber.A, Origin.ECTOPIC,
                                                           _AT_US).t_us, period)
    sig, ev = _run(base, fs_hz, [ra])
    beats[(Chamber.A, Origin.PACED)] = _cut(sig, ra.t_us, period)
    # ventricular beats alone
    sig, ev = _run(base, fs_hz, [rv])
    beats[(Chamber.V, Origin.PACED)] = _cut(sig, rv.t_us, period)
    paced_v = sig
    sig, ev = _run(base.with_changes(pvc_times_ms=(_AT_US / 1000,)), fs_hz)
    beats[(Chamber.V, Origin.ECTOPIC)] = _cut(sig, _record(ev, Chamber.V, Origin.ECTOPIC,
                                                           _AT_US).t_us, period)
    sig, ev = _run(base.with_changes(escape_rate_bpm=35.0), fs_hz)
    beats[(Chamber.V, Origin.ESCAPE)] = _cut(sig, _record(ev, Chamber.V, Origin.ESCAPE,
                                                          0).t_us, period)
    # a conducted beat less its P wave; a retrograde P less its ventricular pace
    sig, ev = _run(base.with_changes(av_conduction="normal"), fs_hz)
    beats[(Chamber.V, Origin.CONDUCTED)] = _cut(
        sig - quiet, _record(ev, Chamber.V, Origin.CONDUCTED, 0).t_us, period)
    sig, ev = _run(base.with_changes(retrograde=True, va_conduction_ms=250.0), fs_hz, [rv])
    beats[(Chamber.A, Origin.RETROGRADE)] = _cut(
        sig - paced_v, _record(ev, Chamber.A, Origin.RETROGRADE, _AT_US).t_us, period)
    return Templates(fs_hz, SITES, PRE_US // period, beats, _coupling(SITES))


def render_egm(activations: Sequence[Activation], paces: Sequence[Pace], fs_hz: int = 1000,
               *, duration_us: int | None = None, leads: Sequence[str] = ("RA", "RV"),
               t0_us: int = 0) -> FloatArray:
    """Bipolar electrograms (mV; rows in ``leads`` order, one column per sample period from
    ``t0_us``) of a run of the event-level heart.

    Parameters
    ----------
    activations:
        The heart's ground truth (:meth:`FastHeart.activations`, ``PatientRun.activations``).
    paces:
        The pulses delivered (amplitude and width draw the artefact; a captured pace's beat
        comes from its activation record).
    fs_hz:
        Sample rate: a period of a whole number of 200 us steps (1000 Hz by default).
    duration_us:
        Length drawn (default: to the last record plus the template's tail).
    leads:
        A subset of ("RA", "RV", "LV").
    t0_us:
        Time of the first sample. To render a long run window by window (lock-step with a
        device), pass each window's ``t0_us`` and ``duration_us`` and only the records from
        :data:`POST_US` before the window to :data:`PRE_US` after it: the windows then join
        exactly, and each costs what its own beats cost.
    """
    period = _period_us(fs_hz)
    tpl = templates(fs_hz)
    leads = tuple(leads)
    for site in leads:
        if site not in SITES:
            raise bad("leads", site, f"a subset of {SITES}")
    rows = [SITES.index(s) for s in leads]
    if duration_us is None:
        last = max([a.t_us for a in activations] + [p.t_us for p in paces] + [t0_us])
        duration_us = last - t0_us + POST_US
    if not isinstance(duration_us, int) or duration_us <= 0:
        raise bad("duration_us", duration_us, "a positive integer of microseconds")
    n = -(-duration_us // period)
    pad = PRE_US // period + POST_US // period
    out = np.zeros((len(SITES), n + 2 * pad))
    origin_col = pad - t0_us // period  # column of t = 0 (before trimming)
    for a in activations:
        if a.origin is Origin.PACED and not a.captured:
            continue
        beat = tpl.beats.get((a.chamber, a.origin))
        if beat is None:
            beat = tpl.beats[(a.chamber, Origin.ECTOPIC)]
        i = origin_col + round(a.t_us / period) - tpl.pre
        if i + beat.shape[1] <= 0 or i >= out.shape[1]:
            continue
        lo, hi = max(0, i), min(out.shape[1], i + beat.shape[1])
        out[:, lo:hi] += beat[:, lo - i:hi - i]
    for p in paces:
        if not isinstance(p, Pace):
            raise bad("paces", p, "Pace records")
        _add_artefact(out, t0_us - pad * period, p, fs_hz, tpl.coupling)
    return out[rows, pad:pad + n]
