"""Speed of verification suites: 100 vector files of 60 s each, read and run against the twin.

The suite mixes the built-in patterns (random, sinus, Wenckebach ramp, PVCs, retrograde/PMT,
safety window, P-P sweeps), DDD nominal, written to a temporary folder by ``vectors generate``'s
code; the timed part is what ``devicetwin vectors run FOLDER --device twin`` does per file:
read, validate, play, judge. Goal: under 10 s on one core, so suites run in CI on every
commit. Prints medians; the last line is one JSON object with ``vectors_run_s``.

Usage: ``python benchmarks/vectors.py [repeats]`` (default 5).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hil.vectors import generate_vectors, read_vectors, run_vectors, write_vectors

VECTORS = 100
DURATION_US = 60_000_000
GOAL_S = 10.0
PATTERNS = ("random:seed={i}", "sinus:rate_bpm={r}", "wenckebach", "pvcs:every={e}",
            "retrograde", "safety", "pp_sweep:pp_ms={pp}")


def build(folder: Path) -> list[Path]:
    """Write the suite; returns the files."""
    out = []
    for i in range(VECTORS):
        spec = PATTERNS[i % len(PATTERNS)].format(i=i, r=50 + i % 60, e=2 + i % 5,
                                                  pp=340 + 10 * (i % 20))
        v = generate_vectors("DDD", {}, spec, DURATION_US)
        out.append(write_vectors(v, folder / f"{i:03d}.json"))
    return out


def run_all(files: list[Path]) -> tuple[float, int, int]:
    """Seconds to read and run every file against the twin; (s, passed, expected paces)."""
    t0 = time.perf_counter()
    passed = 0
    paces = 0
    for f in files:
        v = read_vectors(f)
        report = run_vectors(v, "twin")
        passed += report.passed
        paces += report.judgement.judged
    return time.perf_counter() - t0, passed, paces


def main(argv: list[str]) -> None:
    repeats = int(argv[0]) if argv else 5
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        files = build(Path(tmp))
        print(f"built {len(files)} vector files of {DURATION_US / 1e6:g} s in "
              f"{time.perf_counter() - t0:.2f} s")
        runs = [run_all(files) for _ in range(repeats)]
    wall = statistics.median(r[0] for r in runs)
    _, passed, paces = runs[0]
    print(f"vectors run --device twin: median {wall:.3f} s over {repeats} runs for "
          f"{len(files)} files ({passed} passed, {paces} expected paces judged); goal < "
          f"{GOAL_S:g} s")
    print(json.dumps({"vectors_run_s": round(wall, 3), "vectors": len(files),
                      "vector_duration_s": DURATION_US / 1e6, "passed": passed,
                      "expected_paces": paces, "goal_s": GOAL_S}))


if __name__ == "__main__":
    main(sys.argv[1:])
