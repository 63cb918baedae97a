"""Validate the event-level heart against the cell-network heart, condition by condition.

For every preset and ``--random`` random conditions (seeded), both hearts run the same
condition with the same seed and the measures below are compared (each heart's own measure,
so the comparison is between two independent implementations of the same rules). The fast
heart takes the cell heart's random draws (``draws="cells"``), so that sinus variability,
ectopy and infranodal block fall on the same beats and short runs compare beat by beat:

- **AV**: per-beat time from an atrial activation to the conducted ventricular activation it
  causes (open loop): the median per-beat difference within 5 ms, each beat of one heart
  paired with the beat of the same rank in the other (:func:`paired_median_diff_ms`; the
  table shows the two medians);
- **VA**: likewise, per-beat time from a ventricular activation to the retrograde atrial
  activation it causes (conditions with retrograde conduction, closed loop in VVI at a rate
  above the escape rate), within 5 ms;
- **Wenckebach onset**: the lowest atrial pacing rate (open loop, RA paces at a fixed rate,
  bisection to 1 bpm) at which a beat fails to conduct, within 5 bpm;
- **escape rate**: the median escape interval (from the ventricular beat before an escape
  beat to it) as a rate, within 2 bpm; where escape beats are rare, further seeds until each
  heart has at least 3 escape intervals (:func:`_escape_runs`);
- **block ratio**: conducted ventricular beats per atrial beat, within 0.05 (e.g. 1, 0.8
  for 5:4 Wenckebach, 0.5 for 2:1);
- **closed loop**: every library scenario that runs at event level (its timeline's heart
  actions as condition changes; none with device actions such as a magnet, noise or a start-up
  state) and every condition with DDD nominal: ventricular pacing % and PMT burden (in %)
  within 2 percentage points; a stochastic condition's are means over seeds, seeds added
  until the standard error of the difference is a third of the tolerance
  (:func:`_closed_loop`).

A condition with random beats (ectopy, pauses, infranodal block, fibrillation) is run with 6
seeds for twice as long and its measures pooled: two draws keyed by time one kernel step apart
make the two runs different realisations from there on (fibrillation, chaotic in both hearts,
runs 3 times as long in closed loop). Such measures are compared as distributions or means,
never beat by beat: a median that falls between two modes of the beats, an escape rate read
from one escape beat, a PMT burden moved 1.7 points by one episode more or less would compare
sampling, not the hearts.

Usage: ``.venv/bin/python tools/validate_fastheart.py [--seconds 20] [--random 50] [--seed 0]
[--only NAMES] [--no-scenarios] [--jobs 2]``. Prints the table and notes (seeds added), the
last line is one JSON object (``max_diff_av_ms``, ``max_diff_va_ms``: the largest median
per-beat difference). Exit status 0 when every check passes, 1 otherwise. About 6 minutes of
CPU per core with the default 2 processes (16 minutes wall with other sessions loading the
2-core machine to 5-7); the cell heart takes nearly all of it.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devicetwin.cohort import simulate_patient
from devicetwin.fastheart import FastHeart
from devicetwin.heart import PRESETS, Condition, Heart, Pace
from devicetwin.heart.events import Activation, Origin
from devicetwin.pacemaker import Mode, Programming
from devicetwin.pacemaker.markers import Chamber
from hil.scenarios.loader import LIBRARY_DIR, load_scenario
from hil.session.mapping import programming_from
from hil.session.timeline import heart_changes

AV_TOL_MS = 5.0
VA_TOL_MS = 5.0
WENCKEBACH_TOL_BPM = 5.0
ESCAPE_TOL_BPM = 2.0
RATIO_TOL = 0.05
OUTCOME_TOL_PP = 2.0
PACE_AMPLITUDE_V = 5.0
PACE_WIDTH_US = 400


# ---------------------------------------------------------------------- running both hearts

def open_loop(cond: Condition, seed: int, duration_us: int, heart: str,
              ra_paces_us: Sequence[int] = ()) -> list[Activation]:
    """Every activation of ``duration_us`` without a device (optionally with RA paces)."""
    if heart == "fast":
        fast = FastHeart(cond, seed, draws="cells")
        for t in ra_paces_us:
            while fast.next_sense(t - 1) is not None:
                pass
            fast.pace(t, "RA", PACE_AMPLITUDE_V, PACE_WIDTH_US)
        fast.run_open_loop(duration_us)
        return list(fast.activations())
    cells = Heart(cond, seed, sample_rate_hz=5000, leads=(), ecg=False, noise=False)
    paces = [Pace(t, "RA", PACE_AMPLITUDE_V, PACE_WIDTH_US) for t in ra_paces_us]
    events = cells.advance(duration_us + 20_000, paces).events
    return sorted((e for e in events if e.t_us < duration_us), key=lambda e: e.t_us)


def _atrial(acts: Sequence[Activation]) -> list[Activation]:
    return [a for a in acts if a.chamber is Chamber.A and a.origin is not Origin.RETROGRADE
            and (a.origin is not Origin.PACED or a.captured)]


def av_times_ms(acts: Sequence[Activation]) -> list[float]:
    """Per conducted ventricular beat: the time since the atrial activation before it."""
    out = []
    last_a: Activation | None = None
    for a in acts:
        if a.chamber is Chamber.A and a.origin is not Origin.RETROGRADE and (
                a.origin is not Origin.PACED or a.captured):
            last_a = a
        elif a.chamber is Chamber.V and a.origin is Origin.CONDUCTED and last_a is not None:
            if a.t_us - last_a.t_us < 1_500_000:
                out.append((a.t_us - last_a.t_us) / 1000.0)
            last_a = None
    return out


def va_times_ms(acts: Sequence[Activation]) -> list[float]:
    """Per retrograde atrial activation: the time since the ventricular activation before it
    (a captured pace's onset, else the activation)."""
    out = []
    last_v: Activation | None = None
    for a in acts:
        if a.chamber is Chamber.V and (a.origin is not Origin.PACED or a.captured):
            last_v = a
        elif a.chamber is Chamber.A and a.origin is Origin.RETROGRADE and last_v is not None:
            out.append((a.t_us - last_v.t_us) / 1000.0)
            last_v = None
    return out


def escape_gaps_us(acts: Sequence[Activation]) -> list[int]:
    """Escape intervals: from the ventricular activation before each escape beat (the escape
    focus' clock restarts at every wave that passes it) to the escape beat."""
    v = [a for a in acts if a.chamber is Chamber.V and (a.origin is not Origin.PACED
                                                         or a.captured)]
    return [b.t_us - a.t_us for a, b in itertools.pairwise(v) if b.origin is Origin.ESCAPE]


def escape_bpm(runs: Sequence[Sequence[Activation]]) -> float | None:
    """The escape rate: 60 s over the median escape interval (pooled over runs)."""
    gaps = [g for acts in runs for g in escape_gaps_us(acts)]
    return 60e6 / statistics.median(gaps) if len(gaps) >= 2 else None


def block_ratio(runs: Sequence[Sequence[Activation]]) -> float | None:
    """Conducted ventricular beats per atrial beat (from 2 s on; pooled over runs)."""
    a = sum(1 for acts in runs for x in _atrial(acts) if x.t_us >= 2_000_000)
    v = sum(1 for acts in runs for x in acts if x.chamber is Chamber.V
            and x.origin is Origin.CONDUCTED and x.t_us >= 2_000_000)
    return v / a if a >= 4 else None


def conducts_1to1(cond: Condition, seed: int, rate_bpm: float, heart: str) -> bool:
    """True when RA pacing at ``rate_bpm`` for 6 s conducts every pace after the first 2 s."""
    period = round(60e6 / rate_bpm)
    paces = list(range(200_000, 6_000_000, period))
    acts = open_loop(cond, seed, 6_300_000, heart, paces)
    after = [t for t in paces if t >= 2_000_000]
    v = [x.t_us for x in acts if x.chamber is Chamber.V and x.origin is Origin.CONDUCTED]
    conducted = sum(1 for t in after if any(t < tv <= t + period for tv in v))
    return conducted == len(after)


def wenckebach_onset_bpm(cond: Condition, seed: int, heart: str) -> float | None:
    """The lowest RA pacing rate (1 bpm resolution, 40-240 bpm) that does not conduct 1:1
    (``cond``'s sinus node slower than 40 bpm)."""
    lo, hi = 40.0, 240.0
    if not conducts_1to1(cond, seed, lo, heart):
        return None
    if conducts_1to1(cond, seed, hi, heart):
        return None
    while hi - lo > 1.0:
        mid = round((lo + hi) / 2)
        if conducts_1to1(cond, seed, mid, heart):
            lo = mid
        else:
            hi = mid
    return hi


# ---------------------------------------------------------------------- conditions

def random_conditions(n: int, seed: int) -> list[Condition]:
    """``n`` seeded random conditions over the physiological ranges."""
    rng = np.random.default_rng(seed)
    base = PRESETS["normal_sinus"]
    out = []
    for i in range(n):
        av_mode = str(rng.choice(["normal", "normal", "normal", "blocked", "intermittent"]))
        rate = float(rng.uniform(45, 120))
        out.append(base.with_changes(
            name=f"random_{i:02d}",
            sinus_rate_bpm=round(rate, 1),
            max_sinus_rate_bpm=max(round(rate, 1), 175.0),
            sinus_jitter=round(float(rng.uniform(0.0, 0.05)), 3),
            av_conduction=av_mode,
            av_delay_ms=round(float(rng.uniform(130, 320)), 1),
            av_decrement_ms=round(float(rng.uniform(0, 300)), 1),
            av_recovery_ms=round(float(rng.uniform(40, 250)), 1),
            av_erp_ms=round(float(rng.uniform(200, 550)), 1),
            his_block_probability=round(float(rng.choice([0.0, 0.0, 0.0, 0.15])), 2),
            escape_rate_bpm=round(float(rng.uniform(25, 50)), 1),
            retrograde=bool(rng.random() < 0.4),
            va_conduction_ms=round(float(rng.uniform(150, 400)), 1),
            pac_rate_per_min=round(float(rng.choice([0.0, 0.0, 3.0])), 1),
            pvc_rate_per_min=round(float(rng.choice([0.0, 0.0, 3.0])), 1),
        ))
    return out


Change = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class _ConditionHolder:
    """What ``hil.session.timeline.heart_changes`` reads of a heart: its condition."""

    condition: Condition


def event_level_scenarios() -> list[tuple[str, Condition, Programming, int, int, list[Change]]]:
    """The library scenarios an event-level loop can run: (name, condition, programming,
    duration us, seed, condition changes). Heart actions of the timeline become condition
    changes (``hil.session.timeline.heart_changes``); scenarios with device actions, noise or
    start-up states are left out."""
    out = []
    for path in sorted(LIBRARY_DIR.glob("*.toml")):
        sc = load_scenario(path)
        if sc.device_start != "normal" or sc.must_refuse:
            continue
        cond = PRESETS[sc.condition]
        if sc.condition_overrides:
            cond = cond.with_changes(**dict(sc.condition_overrides))
        duration = min(sc.duration_us, 30_000_000)
        changes: list[Change] = []
        now = cond
        ok = True
        for entry in sc.timeline:
            change = heart_changes(entry, _ConditionHolder(now))  # type: ignore[arg-type]
            if change is None:
                ok = False
                break
            if entry.at_us >= duration:
                continue
            preset, fields = change
            if preset is not None:
                whole = PRESETS[preset]
                fields = {**{f.name: getattr(whole, f.name) for f in dataclasses.fields(whole)
                             if f.name not in ("name", "description")}, **fields}
            now = now.with_changes(**fields)
            changes.append((entry.at_us - entry.at_us % 1000, dict(fields)))
        noisy = any(k in f for _, f in changes for k in ("mains_mv", "myopotential_mv",
                                                          "emi_bursts"))
        if not ok or noisy or cond.mains_mv or cond.myopotential_mv or cond.emi_bursts:
            continue  # no samples at event level: noise is the cell heart's
        try:
            prog = programming_from(sc.mode, sc.parameters)
        except Exception:  # a scenario the plain loop cannot program
            continue
        out.append((sc.name, cond, prog, duration, sc.seed, changes))
    return out


# ---------------------------------------------------------------------- comparison

@dataclass
class Row:
    """One condition's or scenario's comparison."""

    name: str
    values: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    #: The checked difference where it is not that of the two values shown (the per-beat
    #: conduction times: :func:`paired_median_diff_ms`).
    diffs: dict[str, float] = field(default_factory=dict)
    #: Notes printed under the table (how a measure was made sound: seeds added ...).
    notes: list[str] = field(default_factory=list)

    def check(self, what: str, fast: float | None, cells: float | None, tol: float) -> None:
        self.values[what] = (fast, cells)
        if fast is None and cells is None:
            return
        if fast is None or cells is None or abs(fast - cells) > tol:
            self.failures.append(what)

    def check_beats(self, what: str, fast: Sequence[float], cells: Sequence[float],
                    tol: float) -> None:
        """Per-beat times: the two medians shown, the median per-beat difference checked."""
        self.values[what] = (_median(list(fast)), _median(list(cells)))
        diff = paired_median_diff_ms(fast, cells)
        if not fast and not cells:
            return
        if diff is None or diff > tol:
            self.failures.append(what)
        if diff is not None:
            self.diffs[what] = diff
            mf, mc = self.values[what]
            if mf is not None and mc is not None and abs(mf - mc) > tol:
                self.notes.append(f"{what}: medians {mf:.1f} / {mc:.1f} ms in different modes "
                                  f"of the beats; median per-beat difference {diff:.1f} ms")


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def paired_median_diff_ms(fast: Sequence[float], cells: Sequence[float]) -> float | None:
    """The median per-beat difference (ms) between two hearts' conduction times, each beat of
    one paired with the beat of the same rank in the other (the pairing that makes the
    differences smallest; with unequal counts, both at the same quantiles).

    Two runs of a condition with random beats are different realisations, so their beats
    cannot be paired by time; pairing by rank compares the distributions beat by beat. A
    difference of the two medians would not do: a Wenckebach cycle's conduction times are
    multimodal (its short and long PRs), and the median of such a sample falls in one mode or
    the next on a single beat more or less (random_09: medians 332 / 358 ms and 75th centiles
    383 / 409 ms, while the 10th, 25th, 40th, 60th and 90th agree within 1 ms). A uniform
    shift of d ms gives d here, as it gives d between the medians."""
    m = min(len(fast), len(cells))
    if m == 0:
        return None
    q = (np.arange(m) + 0.5) / m
    return float(np.median(np.abs(np.quantile(fast, q, method="inverted_cdf")
                                  - np.quantile(cells, q, method="inverted_cdf"))))


def stochastic(cond: Condition) -> bool:
    """A condition whose beats depend on random draws at times that may differ by a kernel
    step between the two hearts (ectopy, pauses, infranodal block, fibrillation): one draw
    apart, the runs are different realisations, so they are compared pooled over seeds."""
    return bool(cond.pac_rate_per_min or cond.pvc_rate_per_min or cond.sinus_pause_probability
                or cond.his_block_probability or cond.atrial_rhythm == "fibrillation")


def compare_condition(cond: Condition, seed: int, duration_us: int) -> Row:
    """Open-loop and closed-loop measures of one condition on both hearts."""
    row = Row(cond.name)
    seeds = [seed + k * 1000 for k in range(POOLED_SEEDS if stochastic(cond) else 1)]
    length = duration_us * (POOLED_LENGTH if stochastic(cond) else 1)
    runs = {h: [open_loop(cond, sd, length, h) for sd in seeds] for h in ("fast", "cells")}
    if cond.atrial_rhythm == "sinus":  # (in flutter and fibrillation "the P before" is moot)
        row.check_beats("av_ms", [x for r in runs["fast"] for x in av_times_ms(r)],
                        [x for r in runs["cells"] for x in av_times_ms(r)], AV_TOL_MS)
    esc = _escape_runs(cond, seeds, length, runs, row)
    row.check("escape_bpm", escape_bpm(esc["fast"]), escape_bpm(esc["cells"]), ESCAPE_TOL_BPM)
    row.check("block_ratio", block_ratio(runs["fast"]), block_ratio(runs["cells"]), RATIO_TOL)
    if cond.retrograde:
        # VA from ventricular pacing faster than the escape and sinus rates (VVI)
        lrl = int(min(120, max(cond.sinus_rate_bpm, cond.escape_rate_bpm) + 20))
        prog = Programming.nominal(Mode.VVI, lower_rate_ppm=lrl - lrl % 5)
        va = {h: [x for sd in seeds for x in va_times_ms(
            simulate_patient(cond, prog, length, sd, h, draws="cells").activations)]
            for h in ("fast", "cells")}
        row.check_beats("va_ms", va["fast"], va["cells"], VA_TOL_MS)
    if (cond.av_conduction == "normal" and cond.atrial_rhythm == "sinus"
            and cond.his_block_probability == 0 and not cond.exercise_profile):
        # the sinus node slower than any pacing rate tried, no ectopy
        plain = cond.with_changes(pac_rate_per_min=0.0, pvc_rate_per_min=0.0,
                                  sinus_pause_probability=0.0, sinus_rate_bpm=30.0,
                                  max_sinus_rate_bpm=40.0)
        row.check("wenckebach_bpm", wenckebach_onset_bpm(plain, seed, "fast"),
                  wenckebach_onset_bpm(plain, seed, "cells"), WENCKEBACH_TOL_BPM)
    if not cond.exercise_profile:
        _closed_loop(row, cond, Programming.nominal(Mode.DDD), duration_us, seed)
    return row


#: Escape intervals each heart needs for its escape rate; a condition whose escape beats are
#: rarer (escape beats only in the longest pauses, e.g. fibrillation's) runs further seeds,
#: :data:`POOLED_SEEDS` at a time, up to :data:`ESCAPE_MAX_SEEDS` in all.
MIN_ESCAPE_GAPS = 3
ESCAPE_MAX_SEEDS = 36


def _escape_runs(cond: Condition, seeds: list[int], length_us: int,
                 runs: dict[str, list[list[Activation]]], row: Row
                 ) -> dict[str, list[list[Activation]]]:
    """The open-loop runs the escape rate is read from: ``runs``, and further seeds while a
    heart has escape beats but either has fewer than :data:`MIN_ESCAPE_GAPS` intervals.

    The escape rate is the escape focus' own, read from escape beats only; how often a pause
    is long enough for one is another matter (the tail of the RR intervals). Where escape
    beats are rare, one beat more or less in one heart made the rate "none" against a
    rate (atrial_fibrillation: one escape beat in 240 s against four, each 1716 ms after the
    beat before it); with more seeds both hearts have enough escape beats to read a rate
    from, and a heart that has none at all still fails."""
    out = {h: list(r) for h, r in runs.items()}

    def gaps(h: str) -> int:
        return sum(len(escape_gaps_us(acts)) for acts in out[h])

    k = len(seeds)
    while (k < ESCAPE_MAX_SEEDS and (gaps("fast") or gaps("cells"))
           and min(gaps("fast"), gaps("cells")) < MIN_ESCAPE_GAPS):
        batch = [seeds[0] + j * 1000 for j in range(k, k + POOLED_SEEDS)]
        for h in out:
            out[h] += [open_loop(cond, sd, length_us, h) for sd in batch]
        k += len(batch)
    if k > len(seeds):
        row.notes.append(f"escape_bpm from {k} seeds of {length_us / 1e6:g} s (escape "
                         f"intervals: fast {gaps('fast')}, cells {gaps('cells')})")
    return out


#: Seeds pooled for a stochastic condition (see :func:`stochastic`); fibrillation, chaotic in
#: both hearts (colliding wavefronts), also runs this many times longer in closed loop.
POOLED_SEEDS = 6
POOLED_LENGTH = 2
CHAOTIC_LENGTH = 3


#: A stochastic condition's closed-loop outcomes are means over seeds, compared when the
#: standard error of their difference is at most the tolerance over this (a true difference
#: of 0 then shows as more than the tolerance with probability ~0.3 %) ...
OUTCOME_SE_FRACTION = 3.0
#: ... adding :data:`POOLED_SEEDS` cell-heart seeds at a time, up to this much simulated time
#: on the cell heart (s) ...
OUTCOME_MAX_CELL_S = 3840.0
#: ... and this many fast-heart seeds per cell-heart seed (the fast heart's mean costs
#: next to nothing, so the difference's error is the cell heart's alone).
FAST_SEEDS_PER_CELL_SEED = 8
_OUTCOMES = (("vp_pct", "ventricular_paced_percent", 1.0), ("pmt_pct", "pmt_burden", 100.0))


def _closed_loop(row: Row, cond: Condition, prog: Programming, duration_us: int,
                 seed: int, changes: Sequence[Change] = ()) -> None:
    """Ventricular pacing % and PMT burden (%) of ``prog`` on both hearts.

    A deterministic condition is one run each, beat by beat the same. A stochastic one
    (:func:`stochastic`) gives different realisations on the two hearts after the first
    draw keyed a step apart, and its outcomes vary from seed to seed by far more than the
    tolerance (random_20, intermittent block with 15 % infranodal block and PVCs: pacing
    sd 7 points per 40 s run; random_11, PAC-started PMT: each 4 s episode is 10 points of
    a 40 s run): the check compares the means over seeds, with seeds added until the
    standard error of the difference is within :data:`OUTCOME_SE_FRACTION` of the
    tolerance (at most :data:`OUTCOME_MAX_CELL_S` simulated on the cell heart). Six seeds
    were not enough: one PMT episode more or less moved the burden by 1.7 points."""
    stoch = stochastic(cond)
    if cond.atrial_rhythm == "fibrillation":
        duration_us *= CHAOTIC_LENGTH
    elif stoch:
        duration_us *= POOLED_LENGTH
    got: dict[str, dict[str, list[float]]] = {"fast": {}, "cells": {}}
    n = {"fast": 0, "cells": 0}

    def more(h: str, count: int) -> None:
        for k in range(n[h], n[h] + count):
            v = simulate_patient(cond, prog, duration_us, seed + k * 1000, h, draws="cells",
                                 changes=changes).outcomes.values()
            for name, key, scale in _OUTCOMES:
                x = v[key]
                if x is not None:
                    got[h].setdefault(name, []).append(float(x) * scale)
        n[h] += count

    def se(name: str) -> float:
        out = 0.0
        for h in got:
            xs = got[h].get(name, [])
            if len(xs) >= 2:
                out += statistics.variance(xs) / len(xs)
        return math.sqrt(out)

    more("cells", POOLED_SEEDS if stoch else 1)
    more("fast", POOLED_SEEDS * FAST_SEEDS_PER_CELL_SEED if stoch else 1)
    max_cells = max(POOLED_SEEDS, int(OUTCOME_MAX_CELL_S * 1e6 // duration_us))
    target = OUTCOME_TOL_PP / OUTCOME_SE_FRACTION
    while (stoch and n["cells"] + POOLED_SEEDS <= max_cells
           and max(se(m) for m, _, _ in _OUTCOMES) > target):
        more("cells", POOLED_SEEDS)
        more("fast", POOLED_SEEDS * FAST_SEEDS_PER_CELL_SEED)
    for name, _, _ in _OUTCOMES:
        f = got["fast"].get(name)
        c = got["cells"].get(name)
        row.check(name, None if not f else statistics.mean(f),
                  None if not c else statistics.mean(c), OUTCOME_TOL_PP)
    if stoch and n["cells"] > POOLED_SEEDS:
        row.notes.append(
            f"vp_pct, pmt_pct from {n['cells']} cell / {n['fast']} fast seeds of "
            f"{duration_us / 1e6:g} s (standard error of the difference: "
            + ", ".join(f"{m} {se(m):.2f}" for m, _, _ in _OUTCOMES) + " points)")


def compare_scenario(name: str, cond: Condition, prog: Programming, duration_us: int,
                     seed: int, changes: Sequence[Change]) -> Row:
    """Closed-loop outcomes of one library scenario on both hearts."""
    row = Row(f"scenario:{name}")
    _closed_loop(row, cond, prog, duration_us, seed, changes)
    return row


# ---------------------------------------------------------------------- report

COLUMNS = ("av_ms", "va_ms", "wenckebach_bpm", "escape_bpm", "block_ratio", "vp_pct", "pmt_pct")


def _cell(pair: tuple[float | None, float | None] | None) -> str:
    if pair is None or (pair[0] is None and pair[1] is None):
        return "-"

    def fmt(x: float | None) -> str:
        if x is None:
            return "none"
        return f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"

    return f"{fmt(pair[0])}/{fmt(pair[1])}"


def print_table(rows: Sequence[Row], out: Callable[[str], None] = print) -> None:
    """The validation table: fast/cells per measure, failures marked."""
    out(f"{'condition':34s} " + " ".join(f"{c:>15s}" for c in COLUMNS) + "  result")
    for r in rows:
        cells = []
        for c in COLUMNS:
            text = _cell(r.values.get(c))
            cells.append(f"{text + ('!' if c in r.failures else ''):>15s}")
        out(f"{r.name[:34]:34s} " + " ".join(cells) + ("  ok" if not r.failures else "  FAIL"))


def summary(rows: Sequence[Row], wall_s: float) -> dict[str, Any]:
    """The JSON summary (the last line)."""
    def worst(what: str) -> float | None:
        diffs = [r.diffs[what] if what in r.diffs else abs(f - c)
                 for r in rows if (v := r.values.get(what)) is not None
                 for f, c in [v] if f is not None and c is not None]
        return round(max(diffs), 3) if diffs else None

    checks = sum(1 for r in rows for v in r.values.values() if v != (None, None))
    failed = sum(len(r.failures) for r in rows)
    return {
        "conditions": sum(1 for r in rows if not r.name.startswith("scenario:")),
        "scenarios": sum(1 for r in rows if r.name.startswith("scenario:")),
        "checks": checks,
        "failed_checks": failed,
        "failed": [f"{r.name}:{w}" for r in rows for w in r.failures],
        **{f"max_diff_{c}": worst(c) for c in COLUMNS},
        "wall_s": round(wall_s, 1),
        "passed": failed == 0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the validation; print the table and the JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="simulated s per run")
    ap.add_argument("--random", type=int, default=50, help="number of random conditions")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random conditions")
    ap.add_argument("--only", default="", help="comma-separated condition names to run")
    ap.add_argument("--no-scenarios", action="store_true", help="skip the library scenarios")
    ap.add_argument("--jobs", type=int, default=2,
                    help="processes running conditions side by side (default 2)")
    args = ap.parse_args(argv)
    if not (args.seconds > 0 and math.isfinite(args.seconds)):
        ap.error(f"--seconds {args.seconds}: expected a positive number")
    if args.random < 0:
        ap.error(f"--random {args.random}: expected an integer >= 0")
    if args.jobs < 1:
        ap.error(f"--jobs {args.jobs}: expected an integer >= 1")
    t0 = time.perf_counter()
    duration = round(args.seconds * 1e6)
    conds = [*PRESETS.values(), *random_conditions(args.random, args.seed)]
    only = {n for n in args.only.split(",") if n}
    unknown = only - {c.name for c in conds}
    if unknown:
        ap.error(f"--only {','.join(sorted(unknown))}: no such condition (presets, "
                 f"random_00 .. random_{max(args.random - 1, 0):02d})")
    tasks: list[tuple[str, Callable[..., Row], tuple[Any, ...]]] = [
        (cond.name, compare_condition, (cond, i, duration))
        for i, cond in enumerate(conds) if not only or cond.name in only]
    if not args.no_scenarios and not only:
        tasks += [(name, compare_scenario, (name, cond, prog, dur, seed, changes))
                  for name, cond, prog, dur, seed, changes in event_level_scenarios()]
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(fn, *fn_args) for _, fn, fn_args in tasks]
        for (name, _, _), fut in zip(tasks, futures, strict=True):
            rows.append(fut.result())
            print(f"  [{len(rows)}/{len(tasks)}] {name} {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr)
    print("fast/cells per measure (! outside tolerance: AV, VA 5 ms; Wenckebach 5 bpm; escape "
          "2 bpm; block ratio 0.05; pacing and PMT 2 percentage points)")
    print_table(rows)
    for r in rows:
        for note in r.notes:
            print(f"  {r.name}: {note}")
    doc = summary(rows, time.perf_counter() - t0)
    print(json.dumps(doc))
    return 0 if doc["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
