"""The event-driven timing engine of the reference pacemaker (``docs/assumptions.md`` A-1..A-15).

Times are integer microseconds. The engine holds two pending paces (atrial and ventricular, each a
due time or ``NEVER``) and the ends of every refractory and blanking window; a detection is
classified against those windows, and a pace fires when its due time is reached. Nothing is
polled: the caller feeds detections and activity epochs in time order and asks the engine to
advance; markers come back in time order.

Usage::

    model = PacemakerModel(Programming.nominal(Mode.DDD))
    model.detect(812_000, Chamber.A)       # a raw detection from the front end
    markers = model.advance_to(2_000_000)  # runs timers up to and including 2 s

Ordering (A-1): a detection at time ``t`` is handled after every pace due strictly before ``t``
and before a pace due at ``t`` (a sense at a pace's instant inhibits it). Call ``detect(t)``
before ``advance_to(t)`` for the same instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.errors import DeviceTwinError
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag
from devicetwin.pacemaker.modes import BatteryState, DeviceState, LowerRateTiming, Mode
from devicetwin.pacemaker.parameters import PARAMETERS, interval_ms
from devicetwin.pacemaker.programming import Programming, ProgrammingError

NEVER = 1 << 62
"""Due time of a pace that is not scheduled."""
_NONE = -(1 << 62)
"""Time of an event that has not happened."""

_A, _V = 0, 1
_CH = (Chamber.A, Chamber.V, Chamber.X)
_K = MarkerKind
_F_TRIG = int(PaceFlag.TRIGGERED)
_F_SAFETY = int(PaceFlag.SAFETY)
_F_HYST = int(PaceFlag.HYSTERESIS)
_F_SMOOTH = int(PaceFlag.SMOOTHING)
_F_SENSOR = int(PaceFlag.SENSOR)
_F_UPPER = int(PaceFlag.UPPER_RATE)
_F_NOISE = int(PaceFlag.NOISE)
_F_MAGNET = int(PaceFlag.MAGNET)
_FLAGS = [PaceFlag(i) for i in range(256)]

_ATR_IDLE, _ATR_DURATION, _ATR_FALLBACK = 0, 1, 2
_ATR_WINDOW = 10
_ATR_ONSET = 8
_ATR_KEEP = 6


class ModelError(DeviceTwinError):
    """The model was driven wrongly (time going backwards, an unknown chamber, ...)."""


def state_programming(state: DeviceState) -> Programming | None:
    """The fixed programming of Pace-Now and Power-On Reset (A-15); ``None`` for other states.

    VVI at 65 ppm, 5.0 V, VRP 320 ms, ventricular sensitivity 1.5 mV, pulse width 1.0 ms
    (Pace-Now) or 0.5 ms (Power-On Reset); every other parameter nominal.
    """
    if state is DeviceState.PACE_NOW:
        width = 1.0
    elif state is DeviceState.POWER_ON_RESET:
        width = 0.5
    else:
        return None
    return Programming.nominal(
        Mode.VVI,
        lower_rate_ppm=65,
        ventricular_amplitude_v=5.0,
        ventricular_pulse_width_ms=width,
        vrp_ms=320,
        ventricular_sensitivity_mv=1.5,
    )


def _mv(volts: float | None) -> int:
    return 0 if volts is None else round(volts * 1000)


class _Config:
    """Plain-int view of a programming in one mode, built once per (re)start; times in us."""

    __slots__ = (
        "a_amp",
        "a_sens_uv",
        "a_single",
        "a_width",
        "arp",
        "atr",
        "atr_duration",
        "atr_fallback",
        "atrial_timing",
        "ddi",
        "dead_ms",
        "dual",
        "dyn",
        "fixed_av",
        "hri",
        "hyst_on_v_sense",
        "lri",
        "lri_ms",
        "lrl",
        "magnet",
        "min_av",
        "mode",
        "msr",
        "noise_count",
        "noise_int",
        "offset",
        "pa",
        "pace_blank",
        "pmt",
        "pmt_cycles",
        "pmt_pvarp",
        "pmt_stab",
        "pmt_va_max",
        "pv",
        "pvab",
        "pvarp",
        "pvarp_ext",
        "pvarp_on",
        "pvc_on",
        "rate",
        "react_step",
        "recov_step",
        "response",
        "sa",
        "safety",
        "smooth",
        "sv",
        "thr",
        "track",
        "trig",
        "uri",
        "uri_ms",
        "v_amp",
        "v_sens_uv",
        "v_width",
        "vblank",
        "vrp",
        "vsp",
    )

    def __init__(self, p: Programming, mode: Mode, *, lrl: int | None = None,
                 magnet: bool = False) -> None:
        self.mode = mode
        self.magnet = magnet
        self.pa = mode.paces_atrium
        self.pv = mode.paces_ventricle
        self.sa = mode.senses_atrium
        self.sv = mode.senses_ventricle
        self.trig = mode.triggered
        self.track = mode.tracking
        self.dual = mode.dual_chamber
        self.ddi = self.dual and self.sa and not self.track
        self.a_single = (self.pa or self.sa) and not (self.pv or self.sv)
        self.rate = mode.rate_adaptive and not magnet
        self.lrl = p.lower_rate_ppm if lrl is None else lrl
        self.lri_ms = interval_ms(self.lrl)
        self.lri = 1000 * self.lri_ms
        self.uri_ms = min(interval_ms(p.upper_rate_ppm), self.lri_ms)
        self.uri = 1000 * self.uri_ms
        self.atrial_timing = (
            self.dual and p.lower_rate_timing is LowerRateTiming.ATRIAL
        )
        self.fixed_av = 1000 * p.fixed_av_delay_ms
        applies = {name: spec.applies_to(mode) and not magnet for name, spec in PARAMETERS.items()}
        self.dyn = applies["dynamic_av_delay"] and p.dynamic_av_delay
        self.min_av = 1000 * p.min_dynamic_av_delay_ms
        self.offset = (
            1000 * p.sensed_av_offset_ms
            if applies["sensed_av_offset_ms"] and p.sensed_av_offset_ms is not None else 0
        )
        self.a_amp = _mv(p.atrial_amplitude_v)
        self.v_amp = _mv(p.ventricular_amplitude_v)
        self.a_width = round(p.atrial_pulse_width_ms * 1000)
        self.v_width = round(p.ventricular_pulse_width_ms * 1000)
        self.a_sens_uv = round(p.atrial_sensitivity_mv * 1000)
        self.v_sens_uv = round(p.ventricular_sensitivity_mv * 1000)
        self.dead_ms = p.detection_dead_time_ms
        self.vrp = 1000 * p.vrp_ms
        self.arp = 1000 * p.arp_ms if PARAMETERS["arp_ms"].applies_to(mode) else 0
        self.pvarp_on = PARAMETERS["pvarp_ms"].applies_to(mode)
        self.pvarp = 1000 * p.pvarp_ms
        ext = p.pvarp_extension_ms
        self.pvarp_ext = 1000 * ext if applies["pvarp_extension_ms"] and ext is not None else 0
        self.pvc_on = (self.pa or self.sa) and self.sv
        hyst = p.hysteresis_rate_ppm
        self.hri = 1000 * interval_ms(hyst) if applies["hysteresis_rate_ppm"] and hyst else 0
        self.hyst_on_v_sense = not self.pa  # VVI, VDD: hysteresis after a ventricular sense
        smooth = p.rate_smoothing_pct
        self.smooth = smooth if applies["rate_smoothing_pct"] and smooth else 0
        self.atr = applies["atr_mode"] and p.atr_mode
        self.atr_duration = p.atr_duration_cycles
        self.atr_fallback = p.atr_fallback_time_min * 60_000_000
        self.vblank = 1000 * p.ventricular_blanking_ms if self.dual and self.sv else 0
        self.pvab = 1000 * p.pvab_ms
        self.pace_blank = 1000 * p.pace_blanking_ms
        self.safety = self.dual and self.sv and p.safety_pacing
        self.vsp = 1000 * p.vsp_window_ms
        self.noise_int = 1000 * p.noise_interval_ms
        self.noise_count = p.noise_count
        self.pmt = self.track and p.pmt_termination and not magnet
        self.pmt_cycles = p.pmt_cycles
        self.pmt_va_max = 1000 * p.pmt_va_max_ms
        self.pmt_stab = 1000 * p.pmt_va_stability_ms
        self.pmt_pvarp = 1000 * p.pmt_pvarp_ms
        self.msr = p.max_sensor_rate_ppm
        self.thr = p.activity_threshold.milli_g
        self.response = p.response_factor
        span = max(0, self.msr - self.lrl) * 1000
        self.react_step = span // p.reaction_time_s
        self.recov_step = span // (p.recovery_time_min * 60)

    def fallback(self) -> _Config:
        """The ATR fallback configuration: VVI(R) with atrial detection kept for markers (A-13)."""
        fb = object.__new__(_Config)
        for name in _Config.__slots__:
            setattr(fb, name, getattr(self, name))
        fb.mode = Mode.VVIR if self.rate else Mode.VVI
        fb.pa = fb.sa = fb.trig = fb.track = fb.dual = fb.ddi = fb.a_single = False
        fb.pv = fb.sv = True
        fb.pvc_on = False
        fb.hri = 0
        fb.smooth = 0
        fb.dyn = False
        fb.pvarp_ext = 0
        fb.vblank = 0
        fb.safety = False
        fb.pmt = False
        return fb


_STATE_SLOTS = (
    "_now", "_a_due", "_v_due", "_a_flags", "_v_flags", "_last_a", "_last_v", "_last_ap",
    "_last_vp", "_a_ref_sensed", "_a_blank_end", "_v_blank_end", "_pvab_end", "_vblank_end",
    "_vrp_end", "_arp_end", "_pvarp_end", "_av_pending", "_av_from_ap", "_safety_pending",
    "_atrial_since_v", "_v_tracked", "_last_v_tracked", "_last_ext", "_pmt_pending", "_pmt_vas",
    "_pav", "_sav", "_v_lb", "_v_esc_end", "_v_esc_flags", "_n_last", "_n_count", "_n_noisy",
    "_last_ms", "_atr_state", "_atr_hist", "_atr_fast", "_atr_last_det", "_atr_count",
    "_fb_t0", "_fb_i0", "_sensor_mppm", "_sensor_int", "_c", "_cp", "_cf", "_out", "_pend",
    "_epochs_due",
)

#: In follower mode, how far ahead of a device pace the twin's own expected pace may lie and
#: still count as its prediction of that pace (beyond it the device's pace is simply extra).
FOLLOW_PREDICTION_WINDOW_US = 100_000


class ModelSnapshot:
    """Opaque saved state of a :class:`PacemakerModel` (see ``snapshot``/``restore``)."""

    __slots__ = ("battery", "frontend", "programming", "state", "values")

    def __init__(self, values: tuple[Any, ...], programming: Programming, state: DeviceState,
                 battery: BatteryState, frontend: Any) -> None:
        self.values = values
        self.programming = programming
        self.state = state
        self.battery = battery
        self.frontend = frontend


class PacemakerModel:
    """The reference pacemaker: programming + device state in, marker events out.

    Parameters
    ----------
    programming:
        The permanent programming.
    state:
        Initial device state (A-15). ``TEMPORARY`` needs ``temporary``.
    battery:
        Battery state; sets the magnet rate.
    temporary:
        Programming of the Temporary state (may use OAO, OVO, ODO, OOO, built with
        ``allow_temporary_modes=True``).
    t0_us:
        Session time at which timing starts. Start (and every state change or reprogramming)
        acts as a timing reference without marker, refractory or blanking: the first escape
        interval runs from it (A-15: "first pace within two cycles plus 500 ms").
    """

    __slots__ = (*_STATE_SLOTS, "_prog", "_temp", "_state", "_battery", "_frontend",
                 "_activity", "_follower")
    _now: int
    _a_due: int
    _v_due: int
    _a_flags: int
    _v_flags: int
    _pend: list[bool]

    def __init__(
        self,
        programming: Programming,
        state: DeviceState = DeviceState.PERMANENT,
        *,
        battery: BatteryState = BatteryState.BOL,
        temporary: Programming | None = None,
        t0_us: int = 0,
        follower: bool = False,
    ) -> None:
        _check_programming(programming, DeviceState.PERMANENT)
        self._follower = bool(follower)
        self._prog = programming
        self._temp = temporary
        self._state = state
        self._battery = battery
        self._frontend: Any = None
        self._activity: Any = None
        self._out: list[MarkerEvent] = []
        self._epochs_due: list[tuple[int, int]] = []
        self._last_ms = [_NONE, _NONE, _NONE]
        self._sensor_mppm = 0
        self._start(int(t0_us))

    # ------------------------------------------------------------------ public API
    @property
    def programming(self) -> Programming:
        """The permanent programming."""
        return self._prog

    @property
    def state(self) -> DeviceState:
        """The current device state."""
        return self._state

    @property
    def effective_mode(self) -> Mode:
        """The mode the timing runs in now (ATR fallback and Magnet included)."""
        return self._c.mode

    @property
    def now_us(self) -> int:
        """The time up to which the model has run."""
        return self._now

    @property
    def sensor_rate_ppm(self) -> int:
        """The current sensor-indicated rate (A-12), whole ppm."""
        return self._sensor_mppm // 1000

    def effective_programming(self) -> Programming:
        """The programming in force: Pace-Now/POR fixed, the Temporary one, else permanent."""
        fixed = state_programming(self._state)
        if fixed is not None:
            return fixed
        if self._state is DeviceState.TEMPORARY and self._temp is not None:
            return self._temp
        return self._prog

    def next_pace_due_us(self) -> int | None:
        """When the next pace is due if nothing is sensed before; ``None`` if none is pending."""
        due = min(self._a_due, self._v_due)
        return None if due >= NEVER else due

    @property
    def follower(self) -> bool:
        """True when paces are predicted, not delivered (the bench's shadow twin)."""
        return self._follower

    def device_pace(self, t_us: int, chamber: Chamber | int, flags: PaceFlag | int = 0) -> None:
        """Follower mode: the device delivered a pace at ``t_us``; the twin adopts it.

        The twin's own paces due up to ``t_us`` are predicted first (their markers are the
        prediction, already emitted). If the twin expected this chamber's pace later, within
        ``FOLLOW_PREDICTION_WINDOW_US``, that expected pace is recorded as its prediction. Then
        the pace acts on the twin's timing exactly as its own would (refractory periods,
        blanking, AV delay, escape intervals), so the twin restarts from what the device did.
        ``flags`` are the device's; the twin's timing does not depend on them.
        """
        if not self._follower:
            raise ModelError(
                "device_pace needs a model made with follower=True",
                name="follower", value=False, expected="True",
            )
        ch = _chamber_index(chamber)
        if ch not in (_A, _V):
            raise ModelError(
                f"device pace on chamber {chamber!r}: expected A or V",
                name="chamber", value=chamber, expected="A or V",
            )
        if t_us < self._now:
            raise ModelError(
                f"device pace at t_us={t_us}: expected t_us >= {self._now} (time order)",
                name="t_us", value=t_us, expected=f">= {self._now}",
            )
        self._run(t_us, True)
        self._now = t_us
        due = self._a_due if ch == _A else self._v_due
        if not self._pend[ch] and due < NEVER and due - t_us <= FOLLOW_PREDICTION_WINDOW_US:
            own = self._a_flags if ch == _A else self._v_flags
            self._emit_pace(due, ch, self._pace_flags(ch, due, own))
        self._pend[ch] = False
        if ch == _A:
            self._a_due = NEVER
            self._a_event(t_us, True)
        else:
            self._v_due = NEVER
            self._v_event(t_us, True, False)

    def detect(self, t_us: int, chamber: Chamber | int) -> None:
        """Feed one raw detection (front-end output) at ``t_us`` on ``chamber`` (A/V or 0/1).

        Paces due before ``t_us`` fire first; the detection is then dropped (blanked or not
        sensed in this mode) or classified; its marker, if any, is returned by ``advance_to``.
        """
        if t_us < self._now:
            raise ModelError(
                f"detection at t_us={t_us}: expected t_us >= {self._now} (time order)",
                name="t_us", value=t_us, expected=f">= {self._now}",
            )
        ch = _chamber_index(chamber)
        self._run(t_us, False)
        self._now = t_us
        if ch == _A:
            self._atrial_detection(t_us)
        else:
            self._ventricular_detection(t_us)

    def activity_epoch(self, t_us: int, mean_milli_g: int) -> None:
        """Apply an activity epoch result (A-12) at the epoch's end ``t_us``.

        The sensor rate moves before any event at ``t_us``; the new sensor interval is used from
        the next event that starts an escape interval.
        """
        if t_us < self._now:
            raise ModelError(
                f"activity epoch at t_us={t_us}: expected t_us >= {self._now} (time order)",
                name="t_us", value=t_us, expected=f">= {self._now}",
            )
        self._run(t_us, False)
        self._now = t_us
        c = self._cp
        if not c.rate:
            return
        if mean_milli_g <= c.thr:
            target = c.lrl
        else:
            target = min(c.msr, c.lrl + c.response * (mean_milli_g - c.thr) // 4)
        target *= 1000
        s = self._sensor_mppm
        if s < target:
            s = min(target, s + c.react_step)
        elif s > target:
            s = max(target, s - c.recov_step)
        self._sensor_mppm = s
        self._sensor_int = 1000 * interval_ms(s // 1000)

    def advance_to(self, t_us: int) -> list[MarkerEvent]:
        """Run timers up to and including ``t_us``; return every marker produced since last call."""
        if t_us < self._now:
            raise ModelError(
                f"advance_to t_us={t_us}: expected t_us >= {self._now} (time order)",
                name="t_us", value=t_us, expected=f">= {self._now}",
            )
        while self._epochs_due and self._epochs_due[0][0] <= t_us:
            t_ep, mean = self._epochs_due.pop(0)
            self.activity_epoch(t_ep, mean)
        self._run(t_us, True)
        self._now = t_us
        out = self._out
        self._out = []
        return out

    def enter_state(
        self,
        t_us: int,
        state: DeviceState,
        *,
        temporary: Programming | None = None,
        battery: BatteryState | None = None,
    ) -> None:
        """Change the device state at ``t_us`` (A-15); timing restarts there."""
        self._run(t_us, False)
        self._now = max(self._now, t_us)
        if state is DeviceState.TEMPORARY:
            if temporary is None and self._temp is None:
                raise ModelError(
                    "state TEMPORARY: expected a temporary programming",
                    name="temporary", value=None, expected="a Programming",
                )
            if temporary is not None:
                self._temp = temporary
        if battery is not None:
            self._battery = battery
        self._state = state
        self._start(self._now)

    def reprogram(self, t_us: int, programming: Programming) -> None:
        """Install a new permanent programming at ``t_us``; it takes effect immediately.

        In the Permanent state timing restarts at ``t_us`` as at session start (no marker, no
        refractory); in other states the programming is stored and used on return.
        """
        _check_programming(programming, DeviceState.PERMANENT)
        self._run(t_us, False)
        self._now = max(self._now, t_us)
        self._prog = programming
        if self._state in (DeviceState.PERMANENT, DeviceState.MAGNET):
            self._start(self._now)

    def snapshot(self) -> ModelSnapshot:
        """Save everything (front-end state included) for :meth:`restore` (speculation)."""
        values = tuple(_copy(getattr(self, name)) for name in _STATE_SLOTS)
        fe = None
        if self._frontend is not None:
            fe = (self._frontend.state(), self._activity.state())
        return ModelSnapshot(values, self._prog, self._state, self._battery, fe)

    def restore(self, snap: ModelSnapshot) -> None:
        """Return to a snapshot taken from this model."""
        for name, value in zip(_STATE_SLOTS, snap.values, strict=True):
            setattr(self, name, _copy(value))
        self._prog = snap.programming
        self._state = snap.state
        self._battery = snap.battery
        if snap.frontend is not None and self._frontend is not None:
            self._frontend.restore(snap.frontend[0])
            self._activity.restore(snap.frontend[1])

    def process_samples(
        self,
        t0_us: int,
        atrial_uv: npt.NDArray[np.int16],
        ventricular_uv: npt.NDArray[np.int16],
        activity_milli_g: npt.NDArray[np.int16] | None = None,
    ) -> list[MarkerEvent]:
        """Run the sensing front end (A-16) and the timing over one block of 1 kHz samples.

        Detections and activity epochs are fed in time order (an epoch before a detection at the
        same time); timers run up to and including the block's last sample (or the end of an
        epoch completed by this block, which falls just after it). Blocks must be
        contiguous. The front end is created on first use with the effective programming's
        sensitivities and dead time, and follows sensitivity changes of later states.
        """
        from devicetwin.pacemaker.sensing import ActivityEpochs, SensingFrontEnd

        c = self._c
        if self._frontend is None:
            self._frontend = SensingFrontEnd(c.a_sens_uv, c.v_sens_uv, c.dead_ms)
            self._activity = ActivityEpochs(1000)
        else:
            if self._frontend.atrial_sensitivity_uv != c.a_sens_uv:
                self._frontend.set_sensitivity(Chamber.A, c.a_sens_uv)
            if self._frontend.ventricular_sensitivity_uv != c.v_sens_uv:
                self._frontend.set_sensitivity(Chamber.V, c.v_sens_uv)
        det = self._frontend.process(atrial_uv, ventricular_uv, t0_us)
        epochs: list[tuple[int, int]] = []
        if activity_milli_g is not None:
            epochs = self._activity.process(activity_milli_g, t0_us)
        n = int(np.asarray(atrial_uv).shape[0])
        if self._epochs_due:  # epochs that ended just after the previous block (follower mode)
            epochs = self._epochs_due + epochs
            self._epochs_due = []
        if self._follower:
            # An epoch completed by this block ends 1 ms after its last sample; the device may
            # still pace at that last sample (device_pace), so the twin's clock must not pass it:
            # the epoch is applied when time reaches its end (next block or advance_to).
            last_us = t0_us + 1000 * (n - 1)
            self._epochs_due = [e for e in epochs if e[0] > last_us]
            epochs = [e for e in epochs if e[0] <= last_us]
        times = det.t_us.tolist()
        chambers = det.chamber.tolist()
        k = 0
        for t_ep, mean in epochs:
            while k < len(times) and times[k] < t_ep:
                self.detect(times[k], chambers[k])
                k += 1
            self.activity_epoch(t_ep, mean)
        for i in range(k, len(times)):
            self.detect(times[i], chambers[i])
        return self.advance_to(max(self._now, t0_us + 1000 * (n - 1)))

    def run_detections(
        self, detections: Sequence[tuple[int, Chamber | int]], end_us: int
    ) -> list[MarkerEvent]:
        """Feed ``(t_us, chamber)`` detections in order, then advance to ``end_us``."""
        detect = self.detect
        for t, ch in detections:
            detect(t, ch)
        return self.advance_to(end_us)

    # ------------------------------------------------------------------ (re)start
    def _start(self, t: int) -> None:
        state = self._state
        fixed = state_programming(state)
        if fixed is not None:
            prog = fixed
        elif state is DeviceState.TEMPORARY:
            if self._temp is None:
                raise ModelError(
                    "state TEMPORARY: expected a temporary programming",
                    name="temporary", value=None, expected="a Programming",
                )
            prog = self._temp
        else:
            prog = self._prog
        if state is DeviceState.MAGNET:
            cfg = _Config(prog, prog.mode.asynchronous, lrl=self._battery.magnet_rate_ppm,
                          magnet=True)
        else:
            cfg = _Config(prog, prog.mode)
        self._cp = cfg
        self._cf = cfg.fallback()
        self._c = cfg
        self._now = t
        self._a_due = NEVER
        self._v_due = NEVER
        self._a_flags = 0
        self._v_flags = 0
        self._last_a = _NONE
        self._last_v = _NONE
        self._last_ap = _NONE
        self._last_vp = _NONE
        self._a_ref_sensed = False
        self._a_blank_end = _NONE
        self._v_blank_end = _NONE
        self._pvab_end = _NONE
        self._vblank_end = _NONE
        self._vrp_end = _NONE
        self._arp_end = _NONE
        self._pvarp_end = _NONE
        self._av_pending = False
        self._av_from_ap = False
        self._safety_pending = False
        self._atrial_since_v = False
        self._v_tracked = False
        self._last_v_tracked = False
        self._last_ext = False
        self._pmt_pending = False
        self._pmt_vas: list[int] = []
        self._pav = cfg.fixed_av
        self._sav = max(30_000, cfg.fixed_av + cfg.offset)
        self._v_lb = _NONE
        self._v_esc_end = NEVER
        self._v_esc_flags = 0
        self._n_last = [_NONE, _NONE]
        self._n_count = [0, 0]
        self._n_noisy = [False, False]
        self._atr_state = _ATR_IDLE
        self._atr_hist: list[bool] = []
        self._atr_fast = 0
        self._atr_last_det = _NONE
        self._atr_count = 0
        self._fb_t0 = 0
        self._fb_i0 = 0
        self._sensor_mppm = cfg.lrl * 1000
        self._sensor_int = 1000 * interval_ms(self._sensor_mppm // 1000)
        self._pend = [False, False]
        esc, flags = self._escape(t, False)
        if cfg.a_single:
            if cfg.pa:
                self._a_due, self._a_flags = t + esc, flags
        elif cfg.dual:
            self._a_due = t + esc - (0 if cfg.atrial_timing else self._pav)
            self._a_flags = flags
            self._v_esc_end = t + esc
        elif cfg.pv:
            self._v_due, self._v_flags = t + esc, flags
            self._v_esc_end = t + esc

    # ------------------------------------------------------------------ timers
    def _run(self, limit: int, inclusive: bool) -> None:
        while True:
            a = self._a_due
            v = self._v_due
            nxt = a if a <= v else v
            if nxt > limit or (nxt == limit and not inclusive):
                return
            if nxt < self._now:
                nxt = self._now  # a timer set to expire in the past fires now (tick semantics)
            self._now = nxt
            if a <= v:
                self._a_due = NEVER
                self._a_pace(nxt, self._a_flags)
            else:
                self._v_due = NEVER
                self._v_pace(nxt, self._v_flags)

    def _escape(self, t: int, hyst: bool) -> tuple[int, int]:
        """Escape interval (us) and the flags of a pace that ends it (A-2, A-9, A-12, A-13)."""
        c = self._c
        if self._atr_state == _ATR_FALLBACK:
            target = c.lri
            if c.rate and self._sensor_int < target:
                target = self._sensor_int
            i0 = self._fb_i0
            elapsed = t - self._fb_t0
            if i0 >= target or elapsed >= c.atr_fallback:
                return target, (_F_SENSOR if target < c.lri else 0)
            i0_ms = i0 // 1000
            return 1000 * (i0_ms + (target // 1000 - i0_ms) * elapsed // c.atr_fallback), 0
        esc = c.lri
        flags = 0
        if hyst and c.hri:
            esc = c.hri
            flags = _F_HYST
        if c.rate and self._sensor_int < c.lri:
            esc = self._sensor_int
            flags = _F_SENSOR
        return esc, flags

    def _pace_flags(self, ch: int, t: int, flags: int) -> int:
        if self._n_noisy[ch] and t < self._n_last[ch] + self._c.noise_int:
            flags |= _F_NOISE
        if self._c.magnet:
            flags |= _F_MAGNET
        return flags

    def _vp_time(self, natural: int, flags: int, floor: bool = True) -> tuple[int, int]:
        """A ventricular pace time: never sooner than last V + URI (A-3) nor, for AV-delay and
        tracked paces (``floor``), than the rate-smoothing bound (A-10)."""
        t = natural
        upper = self._last_v + self._c.uri
        if upper > t:
            t = upper
            flags = (flags & ~(_F_HYST | _F_SENSOR | _F_SMOOTH)) | _F_UPPER
        if floor and self._v_lb > t:
            t = self._v_lb
            flags = (flags & ~(_F_HYST | _F_SENSOR | _F_UPPER)) | _F_SMOOTH
        return t, flags

    # ------------------------------------------------------------------ markers
    def _emit_sense(self, t: int, ch: int, kind: MarkerKind, inhibits: bool) -> None:
        ms = t // 1000
        if ms == self._last_ms[ch]:
            return
        if not inhibits:
            due = self._a_due if ch == _A else self._v_due
            if due < NEVER and due // 1000 == ms:
                return  # the pace of this millisecond wins
        self._last_ms[ch] = ms
        self._out.append(MarkerEvent(t, _CH[ch], kind))

    def _emit_pace(self, t: int, ch: int, flags: int) -> None:
        ms = t // 1000
        out = self._out
        if ms == self._last_ms[ch]:
            for i in range(len(out) - 1, -1, -1):
                m = out[i]
                if m.t_us // 1000 != ms:
                    break
                if m.chamber is _CH[ch]:
                    del out[i]
                    break
        self._last_ms[ch] = ms
        c = self._c
        if ch == _A:
            out.append(MarkerEvent(t, Chamber.A, _K.AP, c.a_amp, c.a_width, _FLAGS[flags]))
        else:
            out.append(MarkerEvent(t, Chamber.V, _K.VP, c.v_amp, c.v_width, _FLAGS[flags]))

    def _emit_x(self, t: int, kind: MarkerKind) -> None:
        ms = t // 1000
        if ms == self._last_ms[2]:
            return
        self._last_ms[2] = ms
        self._out.append(MarkerEvent(t, Chamber.X, kind))

    # ------------------------------------------------------------------ paces
    def _a_pace(self, t: int, flags: int) -> None:
        self._emit_pace(t, _A, self._pace_flags(_A, t, flags))
        if self._follower:
            self._pend[_A] = True  # predicted; the device's own pace is applied when it comes
            return
        self._a_event(t, True)

    def _v_pace(self, t: int, flags: int) -> None:
        self._emit_pace(t, _V, self._pace_flags(_V, t, flags))
        if self._follower:
            self._pend[_V] = True
            return
        self._v_event(t, True, False)

    # ------------------------------------------------------------------ atrial events
    def _a_event(self, t: int, paced: bool) -> None:
        """An atrial pace or a non-refractory atrial sense that acts on timing."""
        c = self._c
        self._pend[_A] = False  # an awaited prediction is resolved by any atrial event
        prev = self._last_a
        self._last_a = t
        self._atrial_since_v = True
        self._a_ref_sensed = not paced
        if paced:
            self._last_ap = t
            self._a_blank_end = t + c.pace_blank
        if c.arp:
            self._arp_end = t + c.arp
        if c.a_single:
            if not c.pa:
                return
            hyst = not paced and not c.trig
            esc, flags = self._escape(t, hyst)
            if c.smooth and prev != _NONE:
                esc, flags = self._smooth(esc, flags, t - prev, hyst)
            self._a_due, self._a_flags = t + esc, flags
            return
        if not c.pv:
            return  # ODO, OAO: markers only
        if paced:
            self._vblank_end = t + c.vblank
            self._av_pending = True
            self._av_from_ap = True
            self._v_tracked = False
            natural, flags = t + self._pav, 0
            if c.ddi and not c.atrial_timing and self._v_esc_end >= natural:
                natural, flags = self._v_esc_end, self._v_esc_flags  # DDI: last V + escape
            self._v_due, self._v_flags = self._vp_time(natural, flags)
            if c.atrial_timing:
                esc, flags = self._escape(t, False)
                self._a_due, self._a_flags = t + esc, flags
            return
        # non-refractory atrial sense in a mode that paces the ventricle
        if c.track:
            due, flags = self._vp_time(t + self._sav, 0)
            self._av_pending = True
            self._av_from_ap = False
            if c.pa:
                if c.atrial_timing:
                    esc, aflags = self._escape(t, True)
                    self._a_due, self._a_flags = t + esc, aflags
                else:
                    self._a_due = NEVER
            elif due >= self._v_due:
                return  # VDD: the ventricular escape comes first
            self._v_due, self._v_flags = due, flags
            self._v_tracked = True
        elif c.ddi:
            if c.atrial_timing:
                esc, aflags = self._escape(t, True)
                self._a_due, self._a_flags = t + esc, aflags
            else:
                self._a_due = NEVER
            if self._v_due >= NEVER and self._v_esc_end < NEVER:
                self._v_due, self._v_flags = self._vp_time(self._v_esc_end, self._v_esc_flags)

    def _atrial_detection(self, t: int) -> None:
        c = self._c
        fallback = self._atr_state == _ATR_FALLBACK
        if not (c.sa or fallback):
            return
        if t < self._a_blank_end or t < self._pvab_end:
            return
        if self._noise(_A, t):
            self._emit_sense(t, _A, _K.TN, False)
            return
        cp = self._cp
        first = self._atr_last_det == _NONE
        fast = t - self._atr_last_det < cp.uri
        self._atr_last_det = t
        if cp.atr and not first:
            self._atr_record(t, fast)
            fallback = self._atr_state == _ATR_FALLBACK
        refractory = (
            t < self._pvarp_end or t < self._arp_end or (self._av_pending and not fallback)
        )
        self._atrial_since_v = True
        if refractory:
            self._emit_sense(t, _A, _K.AR, False)
            return
        kind = _K.AT if fast and self._atr_state != _ATR_IDLE else _K.AS
        if fallback:
            self._emit_sense(t, _A, kind, False)
            return
        if c.trig and t - self._last_ap >= c.uri:
            self._emit_pace(t, _A, self._pace_flags(_A, t, _F_TRIG))
            self._a_due = NEVER
            self._a_event(t, True)
            return
        self._emit_sense(t, _A, kind, c.pa)
        if c.pmt:
            self._pmt_check(t)
        if c.pa:
            self._a_due = NEVER
        self._a_event(t, False)

    def _pmt_check(self, t: int) -> None:
        """A-14: count VP->AS cycles at a stable VA interval; arm the long PVARP."""
        c = self._c
        vas = self._pmt_vas
        va = t - self._last_v
        if not (self._last_v_tracked and va < c.pmt_va_max):
            vas.clear()
            return
        vas.append(va)
        if len(vas) > c.pmt_cycles:
            del vas[0]
        if len(vas) == c.pmt_cycles and max(vas) - min(vas) <= c.pmt_stab:
            self._pmt_pending = True
            vas.clear()

    def _atr_record(self, t: int, fast: bool) -> None:
        hist = self._atr_hist
        hist.append(fast)
        self._atr_fast += fast
        if len(hist) > _ATR_WINDOW:
            self._atr_fast -= hist.pop(0)
        if self._atr_state == _ATR_IDLE and self._atr_fast >= _ATR_ONSET:
            self._atr_state = _ATR_DURATION
            self._atr_count = 0
            self._emit_x(t, _K.ATR_DUR)
        elif self._atr_state == _ATR_DURATION and self._atr_fast < _ATR_KEEP:
            self._atr_state = _ATR_IDLE  # lapsed during the duration: no switch
            self._emit_x(t, _K.ATR_END)

    # ------------------------------------------------------------------ ventricular events
    def _ventricular_detection(self, t: int) -> None:
        c = self._c
        if not c.sv:
            return
        if t < self._v_blank_end or t < self._vblank_end:
            return
        if self._noise(_V, t):
            self._emit_sense(t, _V, _K.TN, False)
            return
        if t < self._vrp_end:
            self._emit_sense(t, _V, _K.VR, False)
            return
        if c.safety and self._av_from_ap and self._av_pending and t < self._last_ap + c.vsp:
            self._emit_sense(t, _V, _K.VS, False)
            if not self._safety_pending:
                self._safety_pending = True
                ap = self._last_ap
                natural = min(ap + c.vsp, ap + self._pav)
                upper = self._last_v + c.uri
                self._v_due = natural if natural >= upper else upper
                self._v_flags = _F_SAFETY
            return
        pvc = c.pvc_on and not self._atrial_since_v and self._last_v != _NONE
        if c.trig and t - self._last_vp >= c.uri:
            self._emit_pace(t, _V, self._pace_flags(_V, t, _F_TRIG))
            self._v_due = NEVER
            self._v_event(t, True, False)
            return
        if not c.pv:
            self._emit_sense(t, _V, _K.PVC if pvc else _K.VS, False)
            self._v_event(t, False, pvc)
            return
        self._emit_sense(t, _V, _K.PVC if pvc else _K.VS, True)
        self._v_due = NEVER
        self._v_event(t, False, pvc)

    def _v_event(self, t: int, paced: bool, pvc: bool) -> None:
        """A ventricular pace, sense or PVC: refractory, blanking, ATR, next cycle's timers."""
        self._pend[_V] = False
        prev = self._last_v
        self._last_v = t
        rr = t - prev if prev != _NONE else 0
        cp = self._cp
        if cp.atr and self._atr_state != _ATR_IDLE:
            if self._atr_state == _ATR_DURATION:
                if self._atr_fast < _ATR_KEEP:
                    self._atr_state = _ATR_IDLE
                    self._emit_x(t, _K.ATR_END)
                else:
                    self._atr_count += 1
                    if self._atr_count > cp.atr_duration:
                        self._atr_state = _ATR_FALLBACK
                        self._c = self._cf
                        self._fb_t0 = t
                        self._fb_i0 = rr if rr else cp.lri
                        self._a_due = NEVER
                        self._emit_x(t, _K.ATR_FB)
            elif self._atr_fast < _ATR_KEEP:
                self._atr_state = _ATR_IDLE
                self._c = cp
                self._emit_x(t, _K.ATR_END)
        c = self._c
        self._vrp_end = t + c.vrp
        self._pvab_end = t + c.pvab
        if paced:
            self._last_vp = t
            self._v_blank_end = t + c.pace_blank
        tracked_vp = paced and self._v_tracked
        if c.pvarp_on:
            length = c.pvarp
            ext = False
            if pvc and c.pvarp_ext and not self._last_ext:
                length += c.pvarp_ext
                ext = True
            elif self._pmt_pending and paced:
                if not self._last_ext:
                    length = c.pmt_pvarp
                    ext = True
                self._pmt_pending = False
            self._pvarp_end = t + length
            if ext:
                self._emit_x(t, _K.PVARP_EXT)
            self._last_ext = ext
        if not tracked_vp:
            self._pmt_vas.clear()
        self._last_v_tracked = tracked_vp
        self._v_tracked = False
        self._av_pending = False
        self._av_from_ap = False
        self._safety_pending = False
        self._atrial_since_v = False
        if c.dyn and rr:
            vv = rr // 1000
            fixed, lo = c.fixed_av // 1000, c.min_av // 1000
            if vv >= c.lri_ms:
                avd = fixed
            elif vv <= c.uri_ms:
                avd = lo
            else:
                avd = lo + (fixed - lo) * (vv - c.uri_ms) // (c.lri_ms - c.uri_ms)
            self._pav = 1000 * avd
            self._sav = max(30_000, 1000 * avd + c.offset)
        if c.a_single:
            return
        hyst = self._a_ref_sensed if c.pa else not paced
        hyst = hyst and not c.trig
        esc, flags = self._escape(t, hyst)
        lb = _NONE
        if c.smooth and rr:
            esc, flags = self._smooth(esc, flags, rr, hyst)
            lb = t + rr - 1000 * ((rr // 1000) * c.smooth // 100)
        self._v_lb = lb
        self._v_esc_end = t + esc
        self._v_esc_flags = flags
        if c.dual:
            self._v_due = NEVER
            if not c.atrial_timing or pvc:
                self._a_due, self._a_flags = t + esc - self._pav, flags
        elif c.pv:
            self._v_due, self._v_flags = self._vp_time(t + esc, flags, False)

    def _smooth(self, esc: int, flags: int, rr: int, hyst: bool) -> tuple[int, int]:
        """A-10: keep the next interval within RR -/+ floor(RR * pct / 100) (RR in whole ms);
        the lengthening bound never exceeds the interval the escape would have without it."""
        c = self._c
        x = 1000 * ((rr // 1000) * c.smooth // 100)
        if esc > rr + x:
            return rr + x, _F_SMOOTH
        if esc + x < rr:
            limit = c.hri if hyst and c.hri else c.lri
            lo = min(rr - x, limit)
            return lo, (_F_SMOOTH if lo != esc else flags)
        return esc, flags

    # ------------------------------------------------------------------ noise
    def _noise(self, ch: int, t: int) -> bool:
        """Update channel ``ch``'s noise state with a detection at ``t``; True if it is TN."""
        c = self._c
        last = self._n_last[ch]
        gap = t - last
        if self._n_noisy[ch] and gap >= c.noise_int:
            self._n_noisy[ch] = False
        if last != _NONE and gap < c.noise_int:
            self._n_count[ch] += 1
        else:
            self._n_count[ch] = 0
        self._n_last[ch] = t
        if self._n_count[ch] >= c.noise_count:
            self._n_noisy[ch] = True
        return self._n_noisy[ch]


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _chamber_index(chamber: Chamber | int) -> int:
    if chamber is Chamber.A or chamber == 0:
        return _A
    if chamber is Chamber.V or chamber == 1:
        return _V
    raise ModelError(
        f"chamber {chamber!r}: expected Chamber.A, Chamber.V, 0 (atrium) or 1 (ventricle)",
        name="chamber", value=chamber, expected="Chamber.A, Chamber.V, 0 or 1",
    )


def _check_programming(programming: Programming, state: DeviceState) -> None:
    if not isinstance(programming, Programming):
        raise ProgrammingError(
            f"programming {programming!r}: expected a Programming",
            name="programming", value=programming, expected="a Programming",
        )
    if state is DeviceState.PERMANENT and programming.mode.temporary_only:
        raise ProgrammingError(
            f"mode={programming.mode.value!r} is temporary-only: expected a permanent mode",
            name="mode", value=programming.mode.value, expected="a permanent mode",
        )
