"""The heart: tissue kernel + pacemaker sites + AV path + leads, behind one validating API.

Time runs in kernel steps of :data:`DT_US` microseconds. Everything that is not the excitable
tissue itself happens at exact steps through a queue of actions (a sinus firing, an AV-path
exit, a pace, a scheduled condition change, a capture deadline), and the kernel stops after
every step in which a sentinel cell crossed threshold. Because each action's step is fixed by
the state alone, advancing in 1 ms chunks or in one call gives the same output bit for bit.

Automaticity (sinus node, His-Purkinje escape focus, flutter and fibrillation drivers, ectopic
foci) is phenomenological: a site fires a brief stimulus into its cells when its clock runs out,
and a site whose cells are depolarised by a passing wave is reset (sinus reset after a PAC,
escape-focus suppression by conducted beats). Whether a firing becomes a heartbeat is decided by
the tissue: a refractory site does not fire.

The AV node is a path element in the style of the Penn Virtual Heart Model (Jiang et al.,
2012): its conduction delay grows as it is entered earlier in its recovery
(``delay = node + av_decrement * exp(-(R - ERP) / av_recovery)``, R: time since its last exit,
``node``: its own share of ``av_delay_ms``), it blocks inside its refractory period, it
conducts retrogradely when enabled and recovered, and impulses meeting inside it annihilate.
Wenckebach periodicity, 2:1 block and the filtering of flutter and fibrillation follow from that
recovery state and from the atrial tissue.

The condition's AV and VA times are *at the leads* (see
:class:`~devicetwin.heart.conditions.Condition` and :mod:`devicetwin.heart.lead_timing`):
``va_conduction_ms`` runs from a captured RV pace, or else from the activation of the RV lead's
site, to the activation of the RA lead's site; ``av_delay_ms`` from an RA pace to the activation
of the RV lead's site. The path's exits are scheduled with the conduction times between the lead
sites and the path's ends, measured once on the heart's own tissue, subtracted.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from devicetwin.heart.anatomy import Anatomy, build_heart
from devicetwin.heart.conditions import Condition, get_condition
from devicetwin.heart.errors import HeartError, bad
from devicetwin.heart.events import Activation, Origin
from devicetwin.heart.ionic import IonicModel
from devicetwin.heart.lead_timing import LeadTiming, measure_lead_timing
from devicetwin.heart.pacing import (
    CAPTURE_CURRENT_MS,
    CAPTURE_CURRENT_PER_MS,
    SITES,
    Pace,
    threshold_v,
)
from devicetwin.heart.signals import (
    ECG_LEADS,
    activity_block,
    artefact_coupling,
    block_rng,
    lead_rows,
    noise_block,
)
from devicetwin.heart.tissue import heart_advance, make_fast_window, make_tissue
from devicetwin.pacemaker.markers import Chamber

FloatArray = npt.NDArray[np.float64]

#: Kernel time step (microseconds).
DT_US = 200
STEPS_PER_MS = 1000 // DT_US
#: Stimulus of an automatic site: current (1/ms) and duration.
SITE_CURRENT_PER_MS = 0.8
SITE_STIM_STEPS = STEPS_PER_MS
#: A pace captures if its electrode cell fires within this time (ms) of the pulse.
CAPTURE_WINDOW_MS = 15
#: Minimum spacing (ms) between two activations of one chamber (one wave, one event).
LOCKOUT_MS = {Chamber.A: 150, Chamber.V: 200}
BLOCK_MS = 1000
#: A step later than any action (the fast path's gate when no action is pending).
_NO_ACTION_STEP = 2**62
#: Sympathetic tone (0 at rest, 1 at full exercise) shortens the AV node's delay, decrement and
#: refractory period by these fractions, so that it conducts 1:1 up to the maximal sinus rate.
SYMPATHETIC_AV_DELAY = 0.4
SYMPATHETIC_AV_DECREMENT = 0.5
SYMPATHETIC_AV_ERP = 0.45

_AF_FOCI = ("af_1", "af_2", "af_3", "af_4", "af_5")
#: The lead timing of the default anatomy, per ionic model (measured once per process).
_DEFAULT_LEAD_TIMING: dict[IonicModel, LeadTiming] = {}
# (first sample, condition, exercise time base ms, EMI time base ms, condition version)
_Segment = tuple[int, Condition, float, float, int]
_Piece = tuple[int, int, Condition, float, float, int]
#: Features whose times count from the moment their parameters were last changed.
_TIME_BASES = {
    "exercise": ("exercise_profile",),
    "block": ("av_conduction", "block_period_s", "block_fraction"),
    "threshold": ("threshold_rise_per_min", "threshold_max_factor"),
    "emi": ("emi_bursts",),
}
_CLOCK_STREAMS = {
    "sinus": 1,
    "escape": 2,
    "flutter": 3,
    "pac": 4,
    "pvc": 5,
    **{n: 20 + i for i, n in enumerate(_AF_FOCI)},
}


#: Condition fields that are lists of events counted from the change that sets them.
_FIRE_WHEN_GIVEN = frozenset({"pac_times_ms", "pvc_times_ms", "emi_bursts"})


@dataclass(frozen=True, slots=True)
class HeartOutput:
    """What one :meth:`Heart.advance` produced.

    Attributes
    ----------
    t0_us:
        Time of the first sample (the window's start).
    samples_mv:
        float64 mV, one row per channel and one column per sample period: the bipolar
        electrograms of ``egm_sites`` in that order, then the surface ECG leads of
        ``ecg_leads`` (channels x samples, the layout of MNE and of most acquisition systems).
    egm_sites:
        The lead sites of the electrogram rows (``Heart.leads``).
    ecg_leads:
        The ECG leads of the rows after them (``Heart.ecg_leads``).
    activity_milli_g:
        Accelerometer signal (int16, milli-g), one value per sample (may be a read-only view).
    events:
        Ground truth decided in this window, in the order decided (a pace is decided when its
        capture is known, up to 15 ms after it, so its ``t_us`` may precede ``t0_us``).
    """

    t0_us: int
    samples_mv: FloatArray
    egm_sites: tuple[str, ...]
    ecg_leads: tuple[str, ...]
    activity_milli_g: npt.NDArray[np.int16]
    events: list[Activation]

    @property
    def egm_mv(self) -> dict[str, FloatArray]:
        """The electrogram of each lead site (mV): row views of ``samples_mv``, in a new dict
        on every access."""
        return {site: self.samples_mv[i] for i, site in enumerate(self.egm_sites)}

    @property
    def ecg_mv(self) -> dict[str, FloatArray]:
        """Each surface ECG lead (mV): row views of ``samples_mv``, in a new dict on every
        access."""
        n = len(self.egm_sites)
        return {lead: self.samples_mv[n + i] for i, lead in enumerate(self.ecg_leads)}


@dataclass
class _PendingPace:
    pace: Pace
    on_step: int
    delivered: bool
    decided: bool = False


@dataclass
class _State:
    """Everything that changes with time, apart from the tissue (copied by snapshot)."""

    cond: Condition
    t0_ms: dict[str, float] = field(default_factory=dict)
    cond_version: int = 0
    seq: int = 0
    actions: list[tuple[int, int, str, Any]] = field(default_factory=list)
    gens: dict[str, int] = field(default_factory=dict)
    last_fire: dict[str, int] = field(default_factory=dict)
    stims: list[tuple[str, int, int, float]] = field(default_factory=list)
    stims_dirty: bool = True
    last_event: dict[Chamber, int] = field(default_factory=dict)
    his_origin: Origin = Origin.CONDUCTED
    his_step: int = -(10**12)
    tone: float = 0.0
    tone_step: int = 0
    av_last_exit: int | None = None
    av_last_ante_exit: int = -(10**12)
    av_last_retro_entry: int = -(10**12)
    av_inflight: tuple[str, int] | None = None
    av_exit_step: int = -(10**12)
    retro_exit_step: int = -(10**12)
    paces: list[_PendingPace] = field(default_factory=list)
    artefacts: list[tuple[int, int, str, float]] = field(default_factory=list)
    changes: list[tuple[Condition | None, dict[str, Any]]] = field(default_factory=list)

    def copy(self) -> _State:
        """An independent copy (conditions and tuples are immutable and shared)."""
        new = copy.copy(self)
        new.actions = list(self.actions)
        new.gens = dict(self.gens)
        new.last_fire = dict(self.last_fire)
        new.stims = list(self.stims)
        new.last_event = dict(self.last_event)
        new.paces = [copy.copy(p) for p in self.paces]
        new.artefacts = list(self.artefacts)
        new.changes = list(self.changes)
        return new


@dataclass(frozen=True)
class HeartSnapshot:
    """An opaque copy of the heart's full state (see :meth:`Heart.snapshot`)."""

    tissue: tuple[FloatArray, FloatArray, int]
    state: _State


class Heart:
    """A simulated heart that conducts, blocks, takes paces and writes electrograms.

    Parameters
    ----------
    condition:
        A :class:`Condition` or the name of a preset (see ``list_conditions()``).
    seed:
        Seed of every random process (sinus variability, ectopy, fibrillation, noise).
    sample_rate_hz:
        Output sample rate; the sample period must be a whole number of kernel steps
        (200 us), e.g. 250, 500, 1000, 1250, 2500 or 5000 Hz.
    leads:
        Bipolar electrogram sites, a subset of ("RA", "RV", "LV").
    ecg:
        True for ECG lead II, False for none, or a sequence of lead names ("I", "II", "III").
    noise:
        False disables the condition's noise sources (mains, myopotentials, EMI).
    model:
        The ionic model (Mitchell-Schaeffer by default).
    """

    def __init__(
        self,
        condition: Condition | str = "normal_sinus",
        seed: int = 0,
        *,
        sample_rate_hz: int = 1000,
        leads: Sequence[str] = ("RA", "RV"),
        ecg: bool | Sequence[str] = True,
        noise: bool = True,
        model: IonicModel = IonicModel.MITCHELL_SCHAEFFER,
        anatomy: Anatomy | None = None,
    ) -> None:
        cond = self._resolve(condition)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise bad("seed", seed, "an integer >= 0")
        if (
            not isinstance(sample_rate_hz, int)
            or sample_rate_hz <= 0
            or 1_000_000 % sample_rate_hz
            or (1_000_000 // sample_rate_hz) % DT_US
        ):
            raise bad(
                "sample_rate_hz",
                sample_rate_hz,
                f"a rate whose period is a multiple of {DT_US} us (e.g. 250, 500, 1000, 5000)",
            )
        leads = tuple(leads)
        for site in leads:
            if site not in SITES:
                raise bad("leads", site, f"a subset of {SITES}")
        if len(set(leads)) != len(leads):
            raise bad("leads", leads, "distinct sites")
        if ecg is True:
            ecg_leads: tuple[str, ...] = ("II",)
        elif ecg is False:
            ecg_leads = ()
        else:
            ecg_leads = tuple(ecg)
            for lead in ecg_leads:
                if lead not in ECG_LEADS:
                    raise bad("ecg", lead, f"a subset of {tuple(ECG_LEADS)}")
        if not isinstance(model, IonicModel):
            raise bad("model", model, f"one of {[m.name for m in IonicModel]}")
        self.seed = seed
        self.sample_rate_hz = sample_rate_hz
        self.leads = leads
        self.ecg_leads = ecg_leads
        self.model = model
        self._noise = bool(noise)
        self._sample_us = 1_000_000 // sample_rate_hz
        self._sps = self._sample_us // DT_US
        self._samples_per_block = BLOCK_MS * 1000 // self._sample_us
        self.anatomy = anatomy if anatomy is not None else build_heart()
        if anatomy is None and model in _DEFAULT_LEAD_TIMING:
            timing = _DEFAULT_LEAD_TIMING[model]
        else:
            timing = measure_lead_timing(
                self.anatomy,
                model,
                dt_us=DT_US,
                site_current_per_ms=SITE_CURRENT_PER_MS,
                site_stim_steps=SITE_STIM_STEPS,
            )
            if anatomy is None:
                _DEFAULT_LEAD_TIMING[model] = timing
        self._lead_timing = timing
        lm = self.anatomy.landmarks
        self._cells = {k: np.array(v, dtype=np.intp) for k, v in lm.items()}
        self._sentinel_names: list[str] = []
        sentinels: list[int] = []
        for name in (
            "sinus",
            "av_entry",
            "his_entry",
            "escape",
            "pac",
            "flutter",
            *_AF_FOCI,
            "pvc",
            "RA",
            "RV",
            "LV",
        ):
            self._sentinel_names.append(name)
            sentinels.append(lm[name][0])
        for k, cell in enumerate(lm["pmj_first"]):
            self._sentinel_names.append(f"pmj_{k}")
            sentinels.append(cell)
        self._lead = lead_rows(self.anatomy, leads, ecg_leads)
        self._nrows = self._lead.shape[0]
        self._coupling = artefact_coupling(self.anatomy, leads, ecg_leads)
        self._tissue = make_tissue(self.anatomy, model, DT_US / 1000.0, self._lead, sentinels)
        self._empty_i = np.zeros(0, dtype=np.intp)
        # condition versions key the signal caches; never reused, even after restore()
        self._versions = itertools.count(1)
        self._s = _State(cond=cond)
        self._activity_cache: dict[tuple[int, int], npt.NDArray[np.int16]] = {}
        self._noise_cache: dict[tuple[int, int], FloatArray] = {}
        self._start_condition(0, None)
        self._fast = make_fast_window(
            self._tissue,
            HeartOutput,
            weakref.ref(self),
            Heart._fast_crossings,
            Heart._run_window,
            leads,
            ecg_leads,
            DT_US,
            self._sample_us,
        )
        self._gate_key: tuple[int, int] | None = None
        self._gate_act = np.zeros(0, dtype=np.int16)
        self._sync_fast()

    # ------------------------------------------------------------------ public API

    @property
    def now_us(self) -> int:
        """Current simulated time (microseconds)."""
        return int(self._tissue.step) * DT_US

    @property
    def condition(self) -> Condition:
        """The condition in force now."""
        return self._s.cond

    @property
    def lead_timing(self) -> LeadTiming:
        """Conduction times between this heart's sites and its lead sites (see
        :mod:`devicetwin.heart.lead_timing`), which the AV path's exits are scheduled with."""
        return self._lead_timing

    @property
    def n_cells(self) -> int:
        """Number of cells of the tissue."""
        return self.anatomy.n

    def potentials(self) -> FloatArray:
        """A copy of every cell's membrane potential now (dimensionless, 0 rest, ~1 peak)."""
        return np.asarray(self._tissue.v)

    def apply(self, condition: Condition | str | None = None, **changes: Any) -> None:
        """Change the condition now: a new preset/condition and/or some fields.

        Explicit PAC/PVC times, the exercise profile, EMI bursts, the intermittent-block phase
        and the threshold rise count from the moment they are changed; a change that leaves
        them alone leaves their clocks running.
        """
        old = self._s.cond
        self._s.cond = self._changed(condition, changes)
        self._s.cond_version = next(self._versions)
        self._start_condition(self._tissue.step, old, frozenset(changes))
        self._sync_fast()

    def schedule(self, t_us: int, condition: Condition | str | None = None, **changes: Any) -> None:
        """Apply a change at a future time ``t_us`` (a whole millisecond, not in the past).

        The change is made at that time to the condition then in force (so changes scheduled
        one after another accumulate); it is validated now against the current condition.
        """
        if not isinstance(t_us, int) or isinstance(t_us, bool) or t_us % 1000 or t_us < self.now_us:
            raise bad("t_us", t_us, f"a whole millisecond >= now ({self.now_us} us)")
        self._changed(condition, changes)  # validate now
        preset = self._resolve(condition) if condition is not None else None
        self._s.changes.append((preset, dict(changes)))
        self._push(t_us // DT_US, "change", len(self._s.changes) - 1)
        self._sync_fast()

    def set_condition_param(self, name: str, value: Any) -> None:
        """Set one condition parameter now (same as ``apply(**{name: value})``)."""
        self.apply(**{name: value})

    def snapshot(self) -> HeartSnapshot:
        """A copy of the full state (tissue, clocks, queues; random draws are keyed by time)."""
        return HeartSnapshot(self._tissue.get_state(), self._s.copy())

    def restore(self, snap: HeartSnapshot) -> None:
        """Return to a state made by :meth:`snapshot` of this heart."""
        if not isinstance(snap, HeartSnapshot):
            raise bad("snapshot", type(snap).__name__, "a HeartSnapshot")
        v, h, step = snap.tissue
        self._tissue.set_state(v, h, step)
        self._s = snap.state.copy()
        self._s.stims_dirty = True
        self._sync_fast()

    def threshold_v(self, site: str, width_us: int) -> float:
        """The capture threshold (V) at a site now, for a pulse of ``width_us``."""
        if site not in SITES:
            raise bad("site", site, f"one of {SITES}")
        c = self._s.cond
        return threshold_v(c.rheobase(site), c.chronaxie(site), width_us) * self._threshold_factor(
            int(self._tissue.step)
        )

    if TYPE_CHECKING:

        def advance(self, duration_us: int, paces: Sequence[Pace] = ()) -> HeartOutput:
            """Simulate ``duration_us`` (a whole number of samples) with the given paces."""

    else:
        # compiled (heart_advance in _tissue_body.pxi, which holds its docstring): the common
        # case (FastWindow) runs without a Python frame; the rest is _advance_general
        advance = heart_advance

    def _advance_general(self, duration_us: int, paces: Sequence[Pace]) -> HeartOutput:
        """:meth:`advance` for the windows the fast path does not take."""
        if duration_us.__class__ is not int or duration_us <= 0 or duration_us % self._sample_us:
            raise bad("duration_us", duration_us, f"a positive multiple of {self._sample_us} us")
        step0 = int(self._tissue.step)
        if paces:
            self._add_paces(paces, step0 * DT_US, step0 * DT_US + duration_us)
        out = np.empty((self._nrows, duration_us // self._sample_us))
        activity, events = self._run_window(step0, duration_us, out, 0, [])
        return HeartOutput(step0 * DT_US, out, self.leads, self.ecg_leads, activity, events)

    def _run_window(
        self, step0: int, duration_us: int, buf: FloatArray, col0: int, events: list[Activation]
    ) -> tuple[npt.NDArray[np.int16], list[Activation]]:
        """The general path of :meth:`advance`: the window that started at ``step0`` goes on
        from the tissue's step, its samples go into the columns of ``buf`` from ``col0`` on;
        returns the window's activity and ``events`` with this part's ground truth appended.

        The compiled fast path hands the rest of a window over this way, with its buffer and
        the events it found, and builds the output record itself.
        """
        s = self._s
        tissue = self._tissue
        t0 = step0 * DT_US
        end = step0 + duration_us // DT_US
        n_samples = duration_us // self._sample_us
        buf_step0 = step0 - col0 * self._sps
        segments = [(0, s.cond, s.t0_ms["exercise"], s.t0_ms["emi"], s.cond_version)]
        actions = s.actions
        while True:
            step = tissue.step
            if step >= end:
                break
            if actions and actions[0][0] <= step:
                version = s.cond_version
                self._run_actions(step, events)
                if s.cond_version != version:
                    segments.append(
                        (
                            (step - step0) // self._sps,
                            s.cond,
                            s.t0_ms["exercise"],
                            s.t0_ms["emi"],
                            s.cond_version,
                        )
                    )
                continue
            if s.stims_dirty:
                self._install_stimuli(step)
            target = actions[0][0] if actions and actions[0][0] < end else end
            tissue.run(target - step, buf, buf_step0, self._sps)
            if tissue.n_crossings:
                self._crossings(events)
        if s.artefacts:
            self._add_artefacts(buf[:, col0 : col0 + n_samples], t0, t0 + duration_us)
        first = step0 // self._sps
        if len(segments) == 1:
            spb = self._samples_per_block
            block = first // spb
            arr = self._activity_cache.get((block, s.cond_version))
            i = first - block * spb
            if arr is not None and i + n_samples <= spb:
                activity = arr[i : i + n_samples]  # a read-only view of the cached block
            else:
                activity = self._activity(first, n_samples, segments)
            if self._noise and _has_noise(s.cond):
                self._add_noise(buf[:, col0 : col0 + n_samples], first, n_samples, segments)
        else:
            activity = self._activity(first, n_samples, segments)
            if self._noise:
                self._add_noise(buf[:, col0 : col0 + n_samples], first, n_samples, segments)
        self._sync_fast()
        return activity, events

    def _crossings(self, events: list[Activation]) -> None:
        """Handle the crossings at which the kernel stopped (ground truth goes to ``events``)."""
        names = self._sentinel_names
        for k, cstep in self._tissue.crossings():
            self._on_crossing(names[k], cstep, events)

    def _fast_crossings(self, events: list[Activation]) -> None:
        """The fast path's crossings: handled, then the gate opened for the state now."""
        self._crossings(events)
        self._sync_fast()

    def _sync_fast(self) -> None:
        """Open the fast path's gate for the state now (after every change of state).

        The fast path may run a window that ends at or before the first pending action, with
        the stimuli installed, no artefact pending and no noise; it uses the activity block of
        the present sample (computed here if not cached yet).
        """
        s = self._s
        step = self._tissue.step
        if s.stims_dirty:
            self._install_stimuli(step)
        if s.artefacts or (self._noise and _has_noise(s.cond)):
            self._fast.gate(-1, None, 0)
            return
        spb = self._samples_per_block
        block = step // self._sps // spb
        key = (block, s.cond_version)
        if key != self._gate_key:  # a new block or condition: (block, version) fixes the samples
            self._gate_act = self._activity_block(block, s.cond, s.t0_ms["exercise"], key[1])
            self._gate_key = key
        until = s.actions[0][0] if s.actions else _NO_ACTION_STEP
        self._fast.gate(until, self._gate_act, block * spb)

    # ------------------------------------------------------------------ conditions

    @staticmethod
    def _resolve(condition: Condition | str) -> Condition:
        if isinstance(condition, Condition):
            return condition
        if isinstance(condition, str):
            return get_condition(condition)
        raise bad("condition", condition, "a Condition or a preset name")

    def _changed(self, condition: Condition | str | None, changes: dict[str, Any]) -> Condition:
        base = self._s.cond if condition is None else self._resolve(condition)
        return base.with_changes(**changes) if changes else base

    def _start_condition(self, step: int, old: Condition | None,
                         given: frozenset[str] = frozenset()) -> None:
        """Start what a condition change starts. Event lists named in the change (``given``:
        PAC/PVC times, EMI bursts) fire again even when equal to the ones in force: a second
        identical "one PVC now" is a second PVC."""
        s = self._s
        c = s.cond
        again = given & _FIRE_WHEN_GIVEN

        def changed(*names: str) -> bool:
            return old is None or any(n in again or getattr(old, n) != getattr(c, n)
                                      for n in names)

        t_ms = step * DT_US / 1000.0
        for feature, names in _TIME_BASES.items():
            if changed(*names):
                s.t0_ms[feature] = t_ms
        if "sinus" not in s.gens:
            self._clock("sinus", step + 1 * STEPS_PER_MS)
        if "escape" not in s.gens:
            self._clock("escape", step + int(60000.0 / c.escape_rate_bpm) * STEPS_PER_MS)
        if changed("atrial_rhythm", "flutter_cycle_ms", "af_mean_cycle_ms"):
            if c.atrial_rhythm == "flutter":
                self._clock("flutter", step + STEPS_PER_MS)
            else:
                self._stop_clock("flutter")
            for k, name in enumerate(_AF_FOCI):
                if c.atrial_rhythm == "fibrillation":
                    self._clock(name, step + (1 + 37 * k) * STEPS_PER_MS)
                else:
                    self._stop_clock(name)
        for kind in ("pac", "pvc"):
            rate = c.pac_rate_per_min if kind == "pac" else c.pvc_rate_per_min
            if changed(f"{kind}_rate_per_min"):
                if rate > 0:
                    self._clock(kind, step + self._ectopic_interval_steps(kind, step))
                else:
                    self._stop_clock(kind)
            if not changed(f"{kind}_times_ms"):
                continue
            times = c.pac_times_ms if kind == "pac" else c.pvc_times_ms
            gen = s.gens.setdefault(f"{kind}_times", 0) + 1
            s.gens[f"{kind}_times"] = gen
            for t_ms in times:
                at = step + round(t_ms * STEPS_PER_MS)
                self._push(at, "ectopic", (kind, gen))

    # ------------------------------------------------------------------ actions

    def _push(self, step: int, kind: str, payload: Any) -> None:
        s = self._s
        s.seq += 1
        heapq.heappush(s.actions, (step, s.seq, kind, payload))

    def _clock(self, name: str, at_step: int) -> None:
        gen = self._s.gens.get(name, 0) + 1
        self._s.gens[name] = gen
        self._push(at_step, "clock", (name, gen))

    def _stop_clock(self, name: str) -> None:
        self._s.gens[name] = self._s.gens.get(name, 0) + 1

    def _run_actions(self, step: int, events: list[Activation]) -> None:
        s = self._s
        while s.actions and s.actions[0][0] <= step:
            _, _, kind, payload = heapq.heappop(s.actions)
            if kind == "clock":
                name, gen = payload
                if s.gens.get(name) == gen:
                    self._fire(name, step)
            elif kind == "ectopic":
                name, gen = payload
                if s.gens.get(f"{name}_times") == gen:
                    self._stimulate(name, step, SITE_CURRENT_PER_MS, SITE_STIM_STEPS)
                    s.last_fire[name] = step
            elif kind == "av_exit":
                self._av_exit(step, payload)
            elif kind == "pace_deadline":
                pending = s.paces[payload]
                if not pending.decided:
                    pending.decided = True
                    p = pending.pace
                    events.append(
                        Activation(p.t_us, _site_chamber(p.site), Origin.PACED, False, p.site)
                    )
                self._prune_paces()
            elif kind == "change":
                preset, fields = s.changes[payload]
                new = (preset if preset is not None else s.cond).with_changes(**fields)
                old = s.cond
                s.cond = new
                s.cond_version = next(self._versions)
                self._start_condition(step, old, frozenset(fields))

    def _prune_paces(self) -> None:
        s = self._s
        if s.paces and all(p.decided for p in s.paces):
            s.paces.clear()
            # deadlines refer to indices; none is pending once all are decided
            s.actions[:] = [a for a in s.actions if a[2] != "pace_deadline"]
            heapq.heapify(s.actions)

    def _stimulate(self, cells: str, step: int, current: float, n_steps: int) -> None:
        self._s.stims.append((cells, step, step + n_steps, current))
        self._s.stims_dirty = True

    def _install_stimuli(self, step: int) -> None:
        s = self._s
        s.stims = [st for st in s.stims if st[2] > step]
        ptr = [0]
        cells: list[npt.NDArray[np.intp]] = []
        for name, _, _, _ in s.stims:
            cells.append(self._cells[name])
            ptr.append(ptr[-1] + len(self._cells[name]))
        self._tissue.set_stimuli(
            np.array(ptr, dtype=np.intp),
            np.concatenate(cells) if cells else self._empty_i,
            np.array([st[1] for st in s.stims], dtype=np.int64),
            np.array([st[2] for st in s.stims], dtype=np.int64),
            np.array([st[3] for st in s.stims], dtype=np.float64),
        )
        s.stims_dirty = False

    # ------------------------------------------------------------------ automatic sites

    def _uniform(self, stream: int, step: int, n: int = 1) -> npt.NDArray[np.float64]:
        return block_rng(self.seed, stream, step).random(n)

    def _workload(self, step: int) -> float:
        prof = self._s.cond.exercise_profile
        if not prof:
            return 0.0
        t_s = (step * DT_US / 1000.0 - self._s.t0_ms["exercise"]) / 1000.0
        return float(np.interp(t_s, [p[0] for p in prof], [p[1] for p in prof]))

    def _update_tone(self, step: int) -> float:
        s = self._s
        dt_s = (step - s.tone_step) * DT_US / 1e6
        tau = s.cond.exercise_time_constant_s
        s.tone += (self._workload(step) - s.tone) * (1.0 - math.exp(-dt_s / tau))
        s.tone_step = step
        return s.tone

    def _fire(self, name: str, step: int) -> None:
        s = self._s
        c = s.cond
        s.last_fire[name] = step
        self._stimulate(name, step, SITE_CURRENT_PER_MS, SITE_STIM_STEPS)
        stream = _CLOCK_STREAMS[name]
        if name == "sinus":
            tone = self._update_tone(step)
            rate = (
                c.sinus_rate_bpm
                + (max(c.max_sinus_rate_bpm, c.sinus_rate_bpm) - c.sinus_rate_bpm) * tone
            )
            u = self._uniform(stream, step, 2)
            cycle = 60000.0 / rate * (1.0 + c.sinus_jitter * (2.0 * u[0] - 1.0))
            if u[1] < c.sinus_pause_probability:
                cycle += c.sinus_pause_ms
        elif name == "escape":
            u = self._uniform(stream, step, 1)
            cycle = 60000.0 / c.escape_rate_bpm * (1.0 + 0.03 * (2.0 * u[0] - 1.0))
        elif name == "flutter":
            cycle = c.flutter_cycle_ms
        elif name in ("pac", "pvc"):
            self._clock(name, step + self._ectopic_interval_steps(name, step))
            return
        else:  # fibrillation foci
            u = self._uniform(stream, step, 1)
            cycle = c.af_mean_cycle_ms * (0.6 + 0.8 * u[0])
        self._clock(name, step + max(1, round(cycle * STEPS_PER_MS)))

    def _ectopic_interval_steps(self, name: str, step: int) -> int:
        c = self._s.cond
        rate = c.pac_rate_per_min if name == "pac" else c.pvc_rate_per_min
        u = float(self._uniform(_CLOCK_STREAMS[name], step, 1)[0])
        mean_ms = 60000.0 / rate
        interval = max(300.0, -mean_ms * math.log(max(u, 1e-12)))
        return round(interval * STEPS_PER_MS)

    # ------------------------------------------------------------------ AV path

    def _av_block_now(self, step: int) -> bool:
        c = self._s.cond
        if c.av_conduction == "blocked":
            return True
        if c.av_conduction == "intermittent":
            t_s = (step * DT_US / 1000.0 - self._s.t0_ms["block"]) / 1000.0
            phase = (t_s % c.block_period_s) / c.block_period_s
            return phase >= 1.0 - c.block_fraction
        return False

    def _av_erp_ms(self) -> float:
        return self._s.cond.av_erp_ms * (1.0 - SYMPATHETIC_AV_ERP * self._s.tone)

    def _av_antegrade(self, step: int) -> None:
        s = self._s
        c = s.cond
        if s.av_inflight is not None:
            if s.av_inflight[0] == "retro":  # collision inside the node
                s.av_inflight = None
                s.av_last_exit = step
            return
        if self._av_block_now(step):
            return
        erp = self._av_erp_ms()
        # av_delay_ms is at the leads (RA pace to RV lead activation): the node's own delay is
        # what the conduction from the RA lead to here and from the His to the RV lead leaves
        node_ms = max(0.0, c.av_delay_ms - self._lead_timing.av_offset_us / 1000.0)
        delay = node_ms * (1.0 - SYMPATHETIC_AV_DELAY * s.tone)
        if s.av_last_exit is not None:
            r_ms = (step - s.av_last_exit) * DT_US / 1000.0
            if r_ms < erp:
                if r_ms >= c.av_concealment_fraction * erp:
                    s.av_last_exit = step  # concealed conduction: the node is re-excited
                return
            decrement = c.av_decrement_ms * (1.0 - SYMPATHETIC_AV_DECREMENT * s.tone)
            delay += decrement * math.exp(-(r_ms - erp) / c.av_recovery_ms)
        exit_step = step + max(1, round(delay * STEPS_PER_MS))
        s.av_inflight = ("ante", exit_step)
        self._push(exit_step, "av_exit", ("ante", exit_step))

    def _av_retrograde(self, step: int, from_us: int) -> None:
        """A ventricular activation reached the RV lead at ``step``; ``from_us`` is when the
        VA time counts from (the onset of the RV pace that captured, else the activation)."""
        s = self._s
        c = s.cond
        if not c.retrograde:
            return
        if s.av_inflight is not None:
            if s.av_inflight[0] == "ante":
                s.av_inflight = None
                s.av_last_exit = step
            return
        if step < s.av_last_ante_exit + self._av_erp_ms() * STEPS_PER_MS:
            return
        if step < s.av_last_retro_entry + c.va_erp_ms * STEPS_PER_MS:
            return
        s.av_last_retro_entry = step
        # va_conduction_ms is at the leads: the exit comes early by the conduction from the
        # AV-nodal entry to the RA lead, so that the RA lead activates va_conduction_ms after
        # from_us (at the earliest one step from now)
        at_ra_lead = round((from_us + c.va_conduction_ms * 1000.0) / DT_US)
        exit_step = max(step + 1, at_ra_lead - self._lead_timing.av_entry_to_ra_lead_us // DT_US)
        s.av_inflight = ("retro", exit_step)
        self._push(exit_step, "av_exit", ("retro", exit_step))

    def _av_exit(self, step: int, payload: tuple[str, int]) -> None:
        s = self._s
        if s.av_inflight != payload:
            return  # annihilated
        s.av_inflight = None
        s.av_last_exit = step
        if payload[0] == "ante":
            s.av_last_ante_exit = step
            p_block = s.cond.his_block_probability
            if p_block > 0 and self._uniform(9, step, 1)[0] < p_block:
                return  # infranodal (Mobitz II) block
            s.av_exit_step = step
            self._stimulate("his_entry", step, SITE_CURRENT_PER_MS, SITE_STIM_STEPS)
        else:
            s.retro_exit_step = step
            self._stimulate("av_entry", step, SITE_CURRENT_PER_MS, SITE_STIM_STEPS)

    # ------------------------------------------------------------------ crossings and events

    def _on_crossing(self, name: str, step: int, events: list[Activation]) -> None:
        s = self._s
        recent = 10 * STEPS_PER_MS
        if name == "sinus":
            if step - s.last_fire.get("sinus", -(10**12)) > recent:
                self._clock("sinus", step + self._sinus_reset_steps(step))
            self._chamber(Chamber.A, Origin.SINUS, step, events)
        elif name == "av_entry":
            retro = step - s.retro_exit_step <= recent
            self._chamber(Chamber.A, Origin.RETROGRADE if retro else Origin.SINUS, step, events)
            self._av_antegrade(step)
        elif name in ("pac", "flutter", *_AF_FOCI):
            self._chamber(Chamber.A, Origin.ECTOPIC, step, events)
        elif name == "pvc":
            self._chamber(Chamber.V, Origin.ECTOPIC, step, events)
        elif name == "his_entry":
            if step - s.av_exit_step <= recent:
                s.his_origin = Origin.CONDUCTED
                s.his_step = step
        elif name == "escape":
            if step - s.last_fire.get("escape", -(10**12)) <= recent:
                s.his_origin = Origin.ESCAPE
                s.his_step = step
            else:
                c = s.cond
                self._clock("escape", step + int(60000.0 / c.escape_rate_bpm * STEPS_PER_MS))
        elif name in SITES:
            paced_us = self._capture(name, step, events)
            if name == "RV":  # the reference of the VA time at the leads
                self._av_retrograde(step, step * DT_US if paced_us is None else paced_us)
        else:  # a Purkinje-muscle junction
            origin = s.his_origin if step - s.his_step <= 150 * STEPS_PER_MS else Origin.CONDUCTED
            self._chamber(Chamber.V, origin, step, events)

    def _sinus_reset_steps(self, step: int) -> int:
        c = self._s.cond
        rate = (
            c.sinus_rate_bpm
            + (max(c.max_sinus_rate_bpm, c.sinus_rate_bpm) - c.sinus_rate_bpm) * self._s.tone
        )
        return round(60000.0 / rate * STEPS_PER_MS)

    def _chamber(
        self, chamber: Chamber, origin: Origin, step: int, events: list[Activation]
    ) -> None:
        s = self._s
        last = s.last_event.get(chamber)
        if last is not None and step - last < LOCKOUT_MS[chamber] * STEPS_PER_MS:
            return
        s.last_event[chamber] = step
        events.append(Activation(step * DT_US, chamber, origin))

    def _capture(self, site: str, step: int, events: list[Activation]) -> int | None:
        """The cells of the lead at ``site`` activated at ``step``: a pending pace there
        captured, or a wave from elsewhere reached them. Returns the captured pace's onset
        (microseconds), else None."""
        s = self._s
        chamber = _site_chamber(site)
        for pending in s.paces:
            if (
                pending.pace.site == site
                and pending.delivered
                and not pending.decided
                and pending.on_step <= step <= pending.on_step + CAPTURE_WINDOW_MS * STEPS_PER_MS
            ):
                pending.decided = True
                p = pending.pace
                events.append(Activation(p.t_us, chamber, Origin.PACED, True, site))
                last = s.last_event.get(chamber)
                if last is None or step - last >= LOCKOUT_MS[chamber] * STEPS_PER_MS:
                    s.last_event[chamber] = step
                self._prune_paces()
                return p.t_us
        # the electrode's cell activated by a wave that started elsewhere
        self._chamber(chamber, Origin.ECTOPIC, step, events)
        return None

    def _threshold_factor(self, step: int) -> float:
        c = self._s.cond
        minutes = (step * DT_US / 1000.0 - self._s.t0_ms["threshold"]) / 60000.0
        return min(c.threshold_max_factor, 1.0 + c.threshold_rise_per_min * max(0.0, minutes))

    def _add_paces(self, paces: Sequence[Pace], t0: int, t1: int) -> None:
        s = self._s
        for p in paces:
            if not isinstance(p, Pace):
                raise bad("paces", p, "Pace records")
            if not (t0 <= p.t_us < t1):
                raise bad("Pace.t_us", p.t_us, f"inside the window [{t0}, {t1}) us")
        for p in sorted(paces, key=lambda q: (q.t_us, q.site)):
            on = -(-p.t_us // DT_US)
            thr = threshold_v(
                s.cond.rheobase(p.site), s.cond.chronaxie(p.site), p.width_us
            ) * self._threshold_factor(on)
            delivered = p.amplitude_v >= thr
            s.paces.append(_PendingPace(p, on, delivered))
            idx = len(s.paces) - 1
            if delivered:
                n = round(CAPTURE_CURRENT_MS * STEPS_PER_MS)
                s.stims.append((p.site, on, on + n, CAPTURE_CURRENT_PER_MS))
                s.stims_dirty = True
            self._push(on + CAPTURE_WINDOW_MS * STEPS_PER_MS, "pace_deadline", idx)
            s.artefacts.append((p.t_us, p.t_us + p.width_us, p.site, p.amplitude_v * 1000.0))

    # ------------------------------------------------------------------ signals

    def _add_artefacts(self, out: FloatArray, t0: int, t1: int) -> None:
        s = self._s
        period = self._sample_us
        keep = []
        for start, stop, site, amp_mv in s.artefacts:
            lo, hi = max(start, t0), min(stop, t1)
            k = (lo - t0) // period
            while lo < hi:
                seg_end = min(hi, t0 + (k + 1) * period)
                out[:, k] += self._coupling[site] * (amp_mv * (seg_end - lo) / period)
                lo = seg_end
                k += 1
            if stop > t1:
                keep.append((start, stop, site, amp_mv))
        s.artefacts = keep

    def _pieces(self, first: int, n: int, segments: list[_Segment]) -> list[_Piece]:
        """Split samples [first, first + n) by block and by condition segment."""
        out = []
        bounds = [seg[0] for seg in segments[1:]] + [n]
        for (i0, cond, ex_t0, emi_t0, ver), i1 in zip(segments, bounds, strict=True):
            i = i0
            while i < i1:
                block = (first + i) // self._samples_per_block
                j = min(i1, (block + 1) * self._samples_per_block - first)
                out.append((i, j, cond, ex_t0, emi_t0, ver))
                i = j
        return out

    def _activity(self, first: int, n: int, segments: list[_Segment]) -> npt.NDArray[np.int16]:
        spb = self._samples_per_block
        if len(segments) == 1 and (first % spb) + n <= spb:
            _, cond, ex_t0, _, ver = segments[0]
            return self._activity_slice(first, n, cond, ex_t0, ver)
        parts = [
            self._activity_slice(first + i, j - i, cond, ex_t0, ver)
            for i, j, cond, ex_t0, _, ver in self._pieces(first, n, segments)
        ]
        return np.concatenate(parts)

    def _activity_slice(
        self, sample: int, n: int, cond: Condition, t0_ms: float, ver: int
    ) -> npt.NDArray[np.int16]:
        block = sample // self._samples_per_block
        arr = self._activity_block(block, cond, t0_ms, ver)
        i = sample - block * self._samples_per_block
        return arr[i : i + n]

    def _activity_block(
        self, block: int, cond: Condition, t0_ms: float, ver: int
    ) -> npt.NDArray[np.int16]:
        """The activity samples of one block (read-only, cached by block and version)."""
        spb = self._samples_per_block
        key = (block, ver)
        arr = self._activity_cache.get(key)
        if arr is None:
            t_s = ((block * spb + np.arange(spb)) * self._sample_us / 1000.0 - t0_ms) / 1000.0
            prof = cond.exercise_profile
            if prof:
                load = np.interp(t_s, [p[0] for p in prof], [p[1] for p in prof])
            else:
                load = np.zeros(spb)
            arr = activity_block(
                self.seed,
                block,
                spb,
                self.sample_rate_hz,
                load,
                cond.activity_rest_milli_g,
                cond.activity_max_milli_g,
            )
            arr.flags.writeable = False
            if len(self._activity_cache) > 8:
                self._activity_cache.clear()
            self._activity_cache[key] = arr
        return arr

    def _add_noise(self, out: FloatArray, first: int, n: int, segments: list[_Segment]) -> None:
        for i, j, cond, _, t0_ms, ver in self._pieces(first, n, segments):
            if not _has_noise(cond):
                continue
            spb = self._samples_per_block
            block = (first + i) // spb
            key = (block, ver)
            arr = self._noise_cache.get(key)
            if arr is None:
                arr = noise_block(
                    self.seed,
                    block,
                    spb,
                    self.sample_rate_hz,
                    self._nrows,
                    cond.mains_mv,
                    cond.mains_hz,
                    cond.myopotential_mv,
                    cond.emi_bursts,
                    t0_ms,
                )
                if len(self._noise_cache) > 8:
                    self._noise_cache.clear()
                self._noise_cache[key] = arr
            b0 = first + i - block * spb
            out[:, i:j] += arr[:, b0 : b0 + (j - i)]


def _has_noise(cond: Condition) -> bool:
    return cond.mains_mv > 0 or cond.myopotential_mv > 0 or bool(cond.emi_bursts)


def _site_chamber(site: str) -> Chamber:
    return Chamber.A if site == "RA" else Chamber.V


__all__ = ["DT_US", "Heart", "HeartError", "HeartOutput", "HeartSnapshot"]
