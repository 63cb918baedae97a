"""The event-level heart: the cell-network heart's rules on a table of conduction times.

:class:`FastHeart` takes the same :class:`~devicetwin.heart.conditions.Condition` as
:class:`devicetwin.heart.Heart`, takes paces through the same capture rule and writes the same
ground truth (:class:`~devicetwin.heart.events.Activation` records, with the same origins and
lockouts), about five orders of magnitude faster. It is a network of sites and paths with
timers, in the style of the timed-automata heart models used to verify pacemakers (Jiang et al.,
"Modeling and verification of a dual chamber implantable pacemaker", TACAS 2012; the Penn
Virtual Heart Model):

- **Automatic sites** (sinus node, His-Purkinje escape focus, PAC and PVC foci, the flutter
  driver and the five fibrillation drivers) fire on the cell heart's clocks: the same cycle
  lengths, jitter, pauses, Poisson ectopy, exercise tone and resets by passing waves. Draws are
  keyed by (seed, stream, time) like the cell heart's, but from a counter-based hash instead of
  NumPy's generator: the same statistics, not the same numbers.
- **Conduction** is a table (:mod:`devicetwin.fastheart.timing`): when a wave starts at a
  source, every target site of its chamber is reached the measured time later, unless an
  earlier wave gets there first (collision) or the site is still refractory (block).
- **Refractoriness and restitution**, measured on the cell heart's tissue by S1-S2
  (:func:`~devicetwin.fastheart.timing.restitution`): a stimulus (automatic site, AV-path
  exit, pace) activates its own cells only if they are past their local refractory period; its
  wave reaches a target only if the coupling (time since the source's cells last activated)
  is at least the one measured to reach it, and conducts more slowly the shorter the coupling
  (the measured curve); a site activated less than its local refractory period before a wave
  arrives blocks it. After a short cycle the tissue recovers sooner (APD restitution): every
  wave into it counts as coupled later by the measured shortening.
- **The AV node** is the cell heart's path element, rule for rule (decremental delay, ERP,
  concealed conduction, intermittent block, infranodal block, retrograde conduction and
  annihilation), entered when the wave reaches the AV-nodal entry or the RV lead's site.
- **Paces** follow Weiss/Lapicque with the condition's threshold rise
  (:mod:`devicetwin.heart.pacing`); a pulse at threshold captures when the lead's cells are
  excitable, and a wave reaching them within 15 ms counts as capture, as in the cell heart.

What the device senses: the lead site's activation plus the reference front end's offset at
nominal sensitivity (docs/heart.md, "Times at the leads": +2 ms atrial, -5 ms for a ventricular
wave from the bundles, 0 for one from the myocardium). docs/heart.md says where the two hearts
differ.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.fastheart._fastheart import ORIGINS, Kernel
from devicetwin.fastheart.timing import (
    SHIFT_PROBES,
    SOURCES,
    TARGET_TISSUE,
    TARGETS,
    conduction_table,
    restitution,
)
from devicetwin.heart.conditions import Condition, get_condition
from devicetwin.heart.errors import bad
from devicetwin.heart.events import Activation, Origin
from devicetwin.heart.signals import block_rng
from devicetwin.pacemaker.markers import Chamber

#: The source whose own cells each target is (or lies next to): a target's local refractory
#: period is that source's (the escape focus' single cell lies in the His-Purkinje system).
TARGET_ERP_SOURCE: dict[str, str] = {
    "sinus": "sinus", "pac": "pac", **{f: f for f in SOURCES[2:8]}, "av_entry": "retro_exit",
    "ra": "ra_pace", "his": "ante_exit", "escape": "ante_exit", "pmj": "ante_exit",
    "rv": "rv_pace", "pvc": "pvc",
}
#: The reference front end's detection against the lead site's activation at nominal
#: sensitivity (us): atrial; ventricular wave from the bundles; ventricular wave from the
#: myocardium (docs/heart.md, "Times at the leads").
SENSE_OFFSET_US = (2_000, -5_000, 0)

_RHYTHM = {"sinus": 0, "flutter": 1, "fibrillation": 2}
_AV_MODE = {"normal": 0, "blocked": 1, "intermittent": 2}
_ORIGIN = tuple(Origin(name) for name in ORIGINS)
_CHAMBER = (Chamber.A, Chamber.V)
_SITES = ("RA", "RV")
PACE_SITES = _SITES


@dataclass(frozen=True, slots=True)
class Sense:
    """What the device's sense amplifier reports: a detection at ``t_us`` on ``chamber``."""

    t_us: int
    chamber: Chamber


def _kernel_parameters(cond: Condition, av_offset_us: int) -> dict[str, object]:
    """The kernel's numbers of a condition (the AV node's own share of ``av_delay_ms``)."""
    p: dict[str, object] = {
        name: float(getattr(cond, name)) for name in (
            "sinus_rate_bpm", "sinus_jitter", "sinus_pause_probability", "sinus_pause_ms",
            "max_sinus_rate_bpm", "flutter_cycle_ms", "af_mean_cycle_ms", "av_decrement_ms",
            "av_recovery_ms", "av_erp_ms", "av_concealment_fraction", "block_period_s",
            "block_fraction", "his_block_probability", "escape_rate_bpm", "va_conduction_ms",
            "va_erp_ms", "pac_rate_per_min", "pvc_rate_per_min", "exercise_time_constant_s",
            "threshold_rise_per_min", "threshold_max_factor")
    }
    p["rhythm"] = _RHYTHM[cond.atrial_rhythm]
    p["av_mode"] = _AV_MODE[cond.av_conduction]
    p["node_ms"] = max(0.0, cond.av_delay_ms - av_offset_us / 1000.0)
    p["retrograde"] = bool(cond.retrograde)
    p["rheobase_ra_v"] = cond.rheobase("RA")
    p["rheobase_rv_v"] = cond.rheobase("RV")
    p["chronaxie_ra_ms"] = cond.chronaxie("RA")
    p["chronaxie_rv_ms"] = cond.chronaxie("RV")
    return p


class FastHeart:
    """An event-level heart for one patient (see the module docstring).

    Parameters
    ----------
    condition:
        A :class:`Condition` or the name of a preset. Noise and EMI fields do not apply
        (there are no samples); everything else does.
    seed:
        Seed of every random process (sinus variability, pauses, ectopy, fibrillation,
        infranodal block), an integer >= 0.
    draws:
        ``"hash"`` (default): draws from a counter-based hash of (seed, stream, time), fast;
        ``"cells"``: the cell heart's own draws (NumPy, keyed the same way), slow, so that a
        run can be compared with :class:`devicetwin.heart.Heart` beat by beat.
    """

    def __init__(self, condition: Condition | str = "normal_sinus", seed: int = 0, *,
                 draws: str = "hash") -> None:
        if isinstance(condition, str):
            condition = get_condition(condition)
        if not isinstance(condition, Condition):
            raise bad("condition", condition, "a Condition or a preset name")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise bad("seed", seed, "an integer >= 0")
        if draws not in ("hash", "cells"):
            raise bad("draws", draws, "'hash' or 'cells'")
        self.condition = condition
        self.seed = seed
        src = {s: i for i, s in enumerate(SOURCES)}
        tgt = {t: j for j, t in enumerate(TARGETS)}
        table, erp_t, erp_s, prop, coup, extra, tissue, cycles, shifts, offsets = (
            _tissue_arrays())
        av_offset = int(table[src["ra_pace"], tgt["av_entry"]] + table[src["ante_exit"], tgt["rv"]])
        self._av_offset = av_offset
        self._k = Kernel(
            table, erp_t, erp_s, prop, coup, extra, tissue, cycles, shifts, offsets,
            seed,
            _kernel_parameters(condition, av_offset),
            _times_us(condition.pac_times_ms),
            _times_us(condition.pvc_times_ms),
            np.array([pt[0] for pt in condition.exercise_profile], dtype=np.float64),
            np.array([pt[1] for pt in condition.exercise_profile], dtype=np.float64),
            _cell_draws(seed) if draws == "cells" else None,
        )

    def apply(self, t_us: int, **changes: Any) -> None:
        """Change the condition at ``t_us`` (run the heart to just before it first), as
        :meth:`devicetwin.heart.Heart.schedule` does: the fields given replace those in force;
        the exercise profile, the intermittent-block phase, the threshold rise and explicit
        PAC/PVC times count from ``t_us`` when their fields change (explicit times whenever
        given), a new atrial rhythm starts its drivers, a changed ectopic rate draws anew."""
        old = self.condition
        new = old.with_changes(**changes)
        if not (isinstance(t_us, int) and t_us >= self.now_us):
            raise bad("change t_us", t_us, f"an integer >= the heart's time {self.now_us} us")
        if self._k.next_due() < t_us:
            raise bad("change t_us", t_us, f"no later than the heart's next event "
                      f"({self._k.next_due()} us): run it there first")
        again = set(changes) & {"pac_times_ms", "pvc_times_ms"}

        def changed(*names: str) -> bool:
            return any(n in again or getattr(old, n) != getattr(new, n) for n in names)

        self._k.change(
            t_us, _kernel_parameters(new, self._av_offset), changed("exercise_profile"),
            changed("av_conduction", "block_period_s", "block_fraction"),
            changed("threshold_rise_per_min", "threshold_max_factor"),
            changed("atrial_rhythm", "flutter_cycle_ms", "af_mean_cycle_ms"),
            changed("pac_rate_per_min"), changed("pvc_rate_per_min"),
            _times_us(new.pac_times_ms) if changed("pac_times_ms") else None,
            _times_us(new.pvc_times_ms) if changed("pvc_times_ms") else None,
            np.array([pt[0] for pt in new.exercise_profile], dtype=np.float64),
            np.array([pt[1] for pt in new.exercise_profile], dtype=np.float64))
        self.condition = new

    @property
    def now_us(self) -> int:
        """The time up to which the heart has run (microseconds)."""
        return int(self._k.now)

    @property
    def kernel(self) -> Kernel:
        """The compiled kernel (the closed loop drives it directly)."""
        return self._k

    def next_sense(self, limit_us: int) -> Sense | None:
        """Run until the next sense at or before ``limit_us`` (returned), else to ``limit_us``."""
        ch = self._k.run(limit_us)
        return None if ch < 0 else Sense(int(self._k.sense_t), _CHAMBER[ch])

    def pace(self, t_us: int, site: str, amplitude_v: float, width_us: int) -> bool:
        """A pace at ``t_us`` (not before :attr:`now_us`; run the heart to it first) at ``site``
        ("RA" or "RV"). Returns whether the pulse reached the capture threshold."""
        if site not in _SITES:
            raise bad("pace site", site, f"one of {_SITES} (the fast heart has no LV lead)")
        if not (isinstance(t_us, int) and t_us >= self.now_us):
            raise bad("pace t_us", t_us, f"an integer >= the heart's time {self.now_us} us")
        if self._k.next_due() < t_us:
            raise bad("pace t_us", t_us, f"no later than the heart's next event "
                      f"({self._k.next_due()} us): run it to the pace first (next_sense)")
        if not (math.isfinite(amplitude_v) and amplitude_v > 0):
            raise bad("pace amplitude_v", amplitude_v, "a positive number of volts")
        if not (isinstance(width_us, int) and width_us > 0):
            raise bad("pace width_us", width_us, "a positive integer of microseconds")
        return bool(self._k.pace(t_us, _SITES.index(site), float(amplitude_v), width_us))

    def run_open_loop(self, duration_us: int) -> tuple[Activation, ...]:
        """Run without a device to ``duration_us`` and return every activation (senses are
        dropped)."""
        if not (isinstance(duration_us, int) and duration_us > 0):
            raise bad("duration_us", duration_us, "a positive integer of microseconds")
        while self._k.run(duration_us) >= 0:
            pass
        return self.activations()

    def activations(self) -> tuple[Activation, ...]:
        """Every activation and pace record so far, in time order."""
        t, rec = self._k.records()
        return records_to_activations(t, rec)


_I64 = npt.NDArray[np.int64]
_TissueArrays = tuple[_I64, _I64, _I64, _I64, _I64, _I64, _I64, _I64, _I64, _I64]


@functools.cache
def _tissue_arrays() -> _TissueArrays:
    """The kernel's measured tables, as arrays in its order (built once per process)."""
    table = conduction_table()
    rest = restitution()
    tissues = list(SHIFT_PROBES)
    arrays: _TissueArrays = (
        table,
        np.array([rest.source_erp_us[TARGET_ERP_SOURCE[t]] for t in TARGETS], dtype=np.int64),
        np.array([rest.source_erp_us[s] for s in SOURCES], dtype=np.int64),
        np.array([[rest.propagation_us[s][t] for t in TARGETS] for s in SOURCES],
                 dtype=np.int64),
        np.array([rest.coupling_us[s] for s in SOURCES], dtype=np.int64),
        np.array([[rest.extra_us[s][t] for t in TARGETS] for s in SOURCES], dtype=np.int64),
        np.array([tissues.index(TARGET_TISSUE[t]) for t in TARGETS], dtype=np.int64),
        _padded(rest.cycle_us, tissues, N_CYCLES, 10_000_000),
        _padded(rest.shift_us, tissues, N_CYCLES, 0),
        np.array(SENSE_OFFSET_US, dtype=np.int64),
    )
    for a in arrays:
        a.flags.writeable = False
    return arrays


def records_to_activations(t: npt.NDArray[np.int64], rec: npt.NDArray[np.int8]
                           ) -> tuple[Activation, ...]:
    """Activation records (the kernel's arrays) as :class:`Activation`, in time order."""
    order = np.argsort(t, kind="stable")
    times = t[order].tolist()
    rows = rec[order].tolist()
    captured = (None, False, True)
    sites = (None, *_SITES)
    return tuple(Activation(ti, _CHAMBER[ch], _ORIGIN[origin], captured[cap + 1],
                            sites[site + 1])
                 for ti, (ch, origin, cap, site) in zip(times, rows, strict=True))


#: Length of the kernel's refractory-shortening curves (shorter measured curves are padded).
N_CYCLES = 10


def _padded(curves: dict[str, list[int]], names: list[str], n: int, fill: int
            ) -> npt.NDArray[np.int64]:
    """Curves by name as rows of ``n``, each padded with ``fill`` (a cycle past any measured
    one; no shortening)."""
    out = np.full((len(names), n), fill, dtype=np.int64)
    for i, name in enumerate(names):
        out[i, :len(curves[name])] = curves[name]
    return out


def _times_us(times_ms: tuple[float, ...]) -> npt.NDArray[np.int64]:
    """Explicit focus times on the cell heart's 200 us steps."""
    return np.array(sorted(round(t * 5) * 200 for t in times_ms), dtype=np.int64)


def _cell_draws(seed: int) -> Callable[[int, int, int], float]:
    """The cell heart's draw ``k`` of (stream, step) (``Heart._uniform``)."""

    def draw(stream: int, step: int, k: int) -> float:
        return float(block_rng(seed, stream, step).random(k + 1)[k])

    return draw
