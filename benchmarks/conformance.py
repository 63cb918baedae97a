"""Benchmark: matching + all monitors on a synthetic 24 h DDD stream (about 300k events), and the
patient's outcome measures (devicetwin.outcomes) on a synthetic 24 h heart (about 100k beats per
chamber, with PMT episodes, fusion and pauses); the goal for the outcomes is under 1 s.

The stream is closed-form: sinus at a slowly varying P-P interval (tracked, AS + SAV), stretches
of atrial pacing at the lower rate, a PVC every 50 cycles, and 3 ms of jitter on the device side
(so matching does real work). Prints the median of a few runs and, as the last line, one JSON
object: events, seconds and events per second for matching and for all monitors.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from devicetwin.conformance import Activation, ActivationOrigin, TimingLimits, match, run_monitors
from devicetwin.heart import Activation as HeartActivation
from devicetwin.heart import Origin
from devicetwin.outcomes import OutcomeSettings, compute_outcomes
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag


def synthetic_day(hours: float = 24.0) -> tuple[list[MarkerEvent], list[MarkerEvent],
                                                  list[Activation]]:
    end_us = int(hours * 3600e6)
    pred: list[MarkerEvent] = []
    truth: list[Activation] = []
    t = 0
    k = 0
    while t < end_us:
        if k % 50 == 49:  # PVC, then the VA escape
            pred.append(MarkerEvent(t, Chamber.V, MarkerKind.PVC))
            t += 850_000
        elif (k // 400) % 2:  # paced stretch at 60 ppm
            pred.append(MarkerEvent(t, Chamber.A, MarkerKind.AP, 3500, 400))
            pred.append(MarkerEvent(t + 150_000, Chamber.V, MarkerKind.VP, 3500, 400))
            truth.append(Activation(t, Chamber.A, ActivationOrigin.PACED, True))
            truth.append(Activation(t + 150_000, Chamber.V, ActivationOrigin.PACED, True))
            t += 1_000_000
        else:  # sinus, P-P between 600 and 900 ms
            pp = 600_000 + 1000 * ((k * 37) % 300)
            pred.append(MarkerEvent(t, Chamber.A, MarkerKind.AS))
            pred.append(MarkerEvent(t + 150_000, Chamber.V, MarkerKind.VP, 3500, 400))
            truth.append(Activation(t - 20_000, Chamber.A, ActivationOrigin.INTRINSIC))
            truth.append(Activation(t + 150_000, Chamber.V, ActivationOrigin.PACED, True))
            if k % 50 != 48:  # a retrograde P in PVARP (not before a PVC: A-6)
                pred.append(MarkerEvent(t + 300_000, Chamber.A, MarkerKind.AR))
                truth.append(Activation(t + 280_000, Chamber.A, ActivationOrigin.RETROGRADE))
            t += pp
        k += 1
    # device: paces jittered by -3..+3 ms, every 1000th pace 20 ms late (a discrepancy)
    dev = [MarkerEvent(e.t_us + (1000 * (i % 7) - 3000 + (20_000 if i % 1000 == 999 else 0)
                                 if e.kind.is_pace else 0),
                       e.chamber, e.kind, e.amplitude_mv, e.width_us, PaceFlag.NONE)
           for i, e in enumerate(pred)]
    truth.sort(key=lambda a: a.t_us)
    return dev, pred, truth


def synthetic_heart_day(hours: float = 24.0) -> tuple[list[HeartActivation], list[MarkerEvent]]:
    """A day of a paced heart: sinus tracked at 60-100 bpm, conducted beats, a 10-cycle PMT
    episode every 500 beats, a fused pace every 97 beats, a pause every 1000 beats."""
    end_us = int(hours * 3600e6)
    acts: list[HeartActivation] = []
    pulses: list[MarkerEvent] = []
    a, v = Chamber.A, Chamber.V
    t = 0
    k = 0
    while t < end_us:
        if k % 500 == 499:  # PMT: retrograde P 300 ms after each VP, tracked 200 ms later
            for _ in range(10):
                acts.append(HeartActivation(t + 300_000, a, Origin.RETROGRADE))
                t += 500_000
                acts.append(HeartActivation(t, v, Origin.PACED, True, "RV"))
                pulses.append(MarkerEvent(t, v, MarkerKind.VP, 3500, 400))
            t += 1_000_000
        elif k % 97 == 0:  # a conducted beat with a pace fused 20 ms into it
            acts.append(HeartActivation(t, a, Origin.SINUS))
            acts.append(HeartActivation(t + 130_000, v, Origin.CONDUCTED))
            acts.append(HeartActivation(t + 150_000, v, Origin.PACED, True, "RV"))
            pulses.append(MarkerEvent(t + 150_000, v, MarkerKind.VP, 3500, 400))
            t += 800_000
        else:
            acts.append(HeartActivation(t, a, Origin.SINUS))
            acts.append(HeartActivation(t + 150_000, v, Origin.PACED, True, "RV"))
            pulses.append(MarkerEvent(t + 150_000, v, MarkerKind.VP, 3500, 400))
            t += 600_000 + 1000 * ((k * 37) % 400) + (1_500_000 if k % 1000 == 999 else 0)
        k += 1
    return acts, pulses


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    dev, pred, truth = synthetic_day()
    lim = TimingLimits(mode="DDD", lri_ms=1000, uri_ms=500, pav_ms=150, sav_ms=150)
    t_match: list[float] = []
    t_mon: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        m = match(dev, pred)
        t1 = time.perf_counter()
        r = run_monitors(dev, lim, activations=truth)
        t2 = time.perf_counter()
        t_match.append(t1 - t0)
        t_mon.append(t2 - t1)
    med_m, med_r = statistics.median(t_match), statistics.median(t_mon)
    acts, pulses = synthetic_heart_day()
    settings = OutcomeSettings(24 * 3600 * 1_000_000, 1000, 500, 1008)
    t_out: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        outcomes = compute_outcomes(acts, pulses, settings)
        t_out.append(time.perf_counter() - t0)
    med_o = statistics.median(t_out)
    beats = outcomes.ventricular_rate.beats
    print(f"outcomes: {len(acts)} heart records, {beats} ventricular beats, "
          f"{len(outcomes.pmt.episodes)} PMT episodes; median {med_o:.3f} s over {repeats} runs")
    n = len(dev)
    print(f"events: device {n}, predicted {len(pred)}; matched {m.matched}, "
          f"discrepancies {len(m.discrepancies)}; verdicts {len(r.verdicts)}, "
          f"failed {sum(not v.passed for v in r.verdicts)}")
    print(f"match: median {med_m:.3f} s over {repeats} runs ({n / med_m:,.0f} events/s)")
    print(f"monitors: median {med_r:.3f} s over {repeats} runs ({n / med_r:,.0f} events/s)")
    print(json.dumps({
        "events": n,
        "match_s": round(med_m, 4),
        "monitors_s": round(med_r, 4),
        "match_events_per_s": round(n / med_m),
        "monitors_events_per_s": round(n / med_r),
        "total_events_per_s": round(n / (med_m + med_r)),
        "outcome_records": len(acts),
        "outcome_ventricular_beats": beats,
        "outcomes_s": round(med_o, 4),
        "repeats": repeats,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
