"""Benchmark of the reference pacemaker: timing-engine throughput and sensing real-time factor.

Run ``.venv/bin/python benchmarks/pacemaker.py [hours] [repeats]``. It prints the median figures
of repeated runs and, as its last line, one JSON object with

- ``events_per_s``: (detections fed + markers emitted) per wall-clock second of the event-driven
  engine (``PacemakerModel.detect`` / ``advance_to``) on a long scripted DDD run (sinus rhythm
  with variability, 1 in 5 beats not conducted, PVCs, a noise burst every 10 min);
- ``holter_24h_s``: the engine's time for 24 h at the run's beat rate (about 100k beats);
- ``sensing_realtime_factor``: the colleague's front end (``SensingFrontEnd``) on two 1 kHz
  channels, taken from ``benchmarks/sensing.py`` (one block per call);
- ``model_realtime_factor``: ``PacemakerModel.process_samples`` (front end + engine) on the same
  synthetic electrograms in 1 s blocks.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

from devicetwin.pacemaker import Chamber, Mode, PacemakerModel, Programming

sys.path.insert(0, str(Path(__file__).resolve().parent))


def scripted_detections(hours: float, seed: int = 3) -> list[tuple[int, Chamber]]:
    """Open-loop detections of a Holter-like day: P waves 650-1100 ms apart, R 120-180 ms after
    (80 % conducted), a PVC every ~40 beats, a 2 s noise burst on V every 10 minutes."""
    rng = random.Random(seed)
    end_ms = int(hours * 3_600_000)
    out: list[tuple[int, Chamber]] = []
    t = 300
    next_noise = 600_000
    while t < end_ms:
        out.append((t * 1000, Chamber.A))
        if rng.random() < 0.8:
            out.append(((t + rng.randint(120, 180)) * 1000, Chamber.V))
        if rng.random() < 0.025:
            out.append(((t + 520) * 1000, Chamber.V))
        step = rng.randint(650, 1100)
        if t + step > next_noise:
            out.extend(((next_noise + 60 * k) * 1000, Chamber.V) for k in range(34))
            t = next_noise + 2100
            next_noise += 600_000
            continue
        t += step
    out.sort(key=lambda d: d[0])
    return out


def time_engine(dets: list[tuple[int, Chamber]], end_us: int) -> tuple[float, int]:
    """Wall time of one engine run and the number of markers it produced."""
    model = PacemakerModel(Programming.nominal(Mode.DDD, pvarp_extension_ms=100))
    detect = model.detect
    start = time.perf_counter()
    for t, ch in dets:
        detect(t, ch)
    markers = model.advance_to(end_us)
    return time.perf_counter() - start, len(markers)


def time_model_samples(seconds: float) -> float | None:
    """Real-time factor of ``process_samples`` in 1 s blocks, or None without the front end."""
    try:
        from sensing import synthetic_egm  # benchmarks/sensing.py
    except ImportError:
        return None
    atrial, ventricular = synthetic_egm(seconds)
    model = PacemakerModel(Programming.nominal(Mode.DDD))
    start = time.perf_counter()
    for first in range(0, atrial.shape[0], 1000):
        model.process_samples(first * 1000, atrial[first:first + 1000],
                              ventricular[first:first + 1000])
    return seconds / (time.perf_counter() - start)


def sensing_factor(seconds: float, repeats: int) -> float | None:
    """The front end's real-time factor from the colleague's benchmark, if it is there."""
    try:
        from sensing import measure_sensing_realtime_factor  # benchmarks/sensing.py
    except ImportError:
        return None
    return float(measure_sensing_realtime_factor(seconds, repeats))


def main(argv: list[str]) -> None:
    hours = float(argv[0]) if argv else 2.0
    repeats = int(argv[1]) if len(argv) > 1 else 5
    dets = scripted_detections(hours)
    end_us = max(int(hours * 3_600_000_000), dets[-1][0])
    beats = sum(1 for _, ch in dets if ch is Chamber.A)
    runs = [time_engine(dets, end_us) for _ in range(repeats)]
    wall = statistics.median(r[0] for r in runs)
    events = len(dets) + runs[0][1]
    events_per_s = events / wall
    holter_s = wall * 100_000 / beats
    print(f"engine: {hours:g} h scripted DDD, {beats} beats, {len(dets)} detections, "
          f"{runs[0][1]} markers")
    print(f"engine: median {wall:.3f} s over {repeats} runs -> {events_per_s:,.0f} events/s, "
          f"{hours * 3600 / wall:,.0f}x real time")
    print(f"engine: 24 h Holter (100k beats) estimate {holter_s:.1f} s")
    figures: dict[str, float | str | None] = {
        "events_per_s": round(events_per_s),
        "holter_24h_s": round(holter_s, 2),
    }
    sensing = sensing_factor(120.0, repeats)
    if sensing is None:
        print("sensing: front end not available (benchmarks/sensing.py missing)")
    else:
        print(f"sensing: front end median {sensing:,.0f}x real time (two 1 kHz channels)")
    figures["sensing_realtime_factor"] = None if sensing is None else round(sensing, 1)
    model_rt = [time_model_samples(60.0) for _ in range(max(1, repeats // 2))]
    if model_rt[0] is not None:
        factor = statistics.median(x for x in model_rt if x is not None)
        print(f"model: process_samples (front end + engine, 1 s blocks) median {factor:,.0f}x "
              "real time")
        figures["model_realtime_factor"] = round(factor, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
