"""Benchmark of the sensing front end (A-16): real-time factor on two 1 kHz electrogram channels.

Run ``.venv/bin/python benchmarks/sensing.py [seconds] [repeats]``. It prints the median figures
and, as its last line, one JSON object::

    {"sensing_realtime_factor": ..., "sensing_realtime_factor_1s_chunks": ...}

The real-time factor is simulated seconds / wall-clock seconds of ``SensingFrontEnd.process``
(signal synthesis and quantisation are not timed), the median over the repeats. The goal of issue 2
is >= 1500x (a 24 h Holter in under a minute).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker.sensing import SensingFrontEnd, quantize_uv

SAMPLE_RATE_HZ = 1000


def synthetic_egm(
    seconds: float, seed: int = 2
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """Atrial and ventricular electrograms in uV at 1 kHz: sinus rhythm 60-100 bpm.

    Atrial lead: P wave (biphasic, 1.5-3 mV, ~30 ms), far-field R (0.3-0.6 mV). Ventricular lead:
    R wave (biphasic, 6-14 mV, ~25 ms), T wave (1-2 mV, ~150 ms), baseline wander, noise.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE_HZ)
    t_ms = np.arange(n, dtype=np.float64)
    atrial_mv = rng.normal(0.0, 0.02, n)
    ventricular_mv = rng.normal(0.0, 0.04, n) + 0.4 * np.sin(2 * np.pi * 0.2 * t_ms / 1000.0)
    span = np.arange(-200, 201, dtype=np.float64)

    def biphasic(width_ms: float) -> npt.NDArray[np.float64]:
        u = span / width_ms
        return np.asarray(-u * np.exp(0.5 - 0.5 * u * u), dtype=np.float64)  # peak +-1

    p_shape, r_shape = biphasic(6.0), biphasic(4.0)
    t_shape = np.exp(-0.5 * (span / 45.0) ** 2)
    beat_ms = 100.0
    while beat_ms < n - 600:
        p = int(beat_ms)
        r = p + int(rng.integers(140, 200))
        for centre, amplitude, shape, lead in (
            (p, rng.uniform(1.5, 3.0), p_shape, atrial_mv),
            (r, rng.uniform(0.3, 0.6), r_shape, atrial_mv),
            (r, rng.uniform(6.0, 14.0), r_shape, ventricular_mv),
            (r + 300, rng.uniform(1.0, 2.0), t_shape, ventricular_mv),
        ):
            lo, hi = max(0, centre - 200), min(n, centre + 201)
            lead[lo:hi] += amplitude * shape[lo - centre + 200 : hi - centre + 200]
        beat_ms += rng.uniform(600.0, 1000.0)
    return quantize_uv(atrial_mv), quantize_uv(ventricular_mv)


def _time_once(
    atrial: npt.NDArray[np.int16], ventricular: npt.NDArray[np.int16], chunk: int
) -> tuple[float, int]:
    front_end = SensingFrontEnd(750, 2500)
    found = 0
    start = time.perf_counter()
    for first in range(0, atrial.shape[0], chunk):
        found += len(
            front_end.process(
                atrial[first : first + chunk], ventricular[first : first + chunk], first * 1000
            )
        )
    return time.perf_counter() - start, found


def measure_sensing_realtime_factor(
    seconds: float = 600.0, repeats: int = 5, chunk_s: float | None = None
) -> float:
    """Median real-time factor of the front end on a synthetic two-channel 1 kHz EGM.

    Parameters
    ----------
    seconds:
        Simulated duration of the recording.
    repeats:
        Timed runs; the median is returned.
    chunk_s:
        Block length in seconds fed to each ``process`` call; ``None`` processes the whole
        recording in one call.
    """
    atrial, ventricular = synthetic_egm(seconds)
    n = atrial.shape[0]
    chunk = n if chunk_s is None else max(1, round(chunk_s * SAMPLE_RATE_HZ))
    factors = [seconds / _time_once(atrial, ventricular, chunk)[0] for _ in range(repeats)]
    return statistics.median(factors)


def main(argv: list[str]) -> None:
    seconds = float(argv[0]) if argv else 600.0
    repeats = int(argv[1]) if len(argv) > 1 else 5
    atrial, ventricular = synthetic_egm(seconds)
    _, count = _time_once(atrial, ventricular, atrial.shape[0])
    print(f"synthetic EGM: {seconds:g} s at 1 kHz, two channels, {count} detections")
    whole = measure_sensing_realtime_factor(seconds, repeats)
    chunked = measure_sensing_realtime_factor(seconds, repeats, chunk_s=1.0)
    print(f"one block:      median {whole:12.0f}x real time over {repeats} runs")
    print(f"1 s blocks:     median {chunked:12.0f}x real time over {repeats} runs")
    print(
        f"24 h Holter:    {86400 / whole:.2f} s in one block, {86400 / chunked:.2f} s in 1 s blocks"
    )
    print(
        json.dumps(
            {
                "sensing_realtime_factor": round(whole, 1),
                "sensing_realtime_factor_1s_chunks": round(chunked, 1),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
