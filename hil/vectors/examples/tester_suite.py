"""Build a small suite in the Penn pacemaker tester's format (``.mat``) covering the patterns
that separate devices, for trying ``devicetwin vectors import tester`` end to end::

    python -m hil.vectors.examples.tester_suite /tmp/suite.mat
    devicetwin vectors import tester /tmp/suite.mat --initializer init \\
        --programming hil/vectors/examples/tester_suite.toml --out /tmp/suite
    devicetwin vectors run /tmp/suite --device twin

The expected rows are what the tester's session gives with the twin as the device: the
initializer's inputs before 2000 ms, t = 0 on the first AP followed by a VP after that, inputs at
t0 + t, codes 3/4 for the paces, code 5 for an atrial pace with a ventricular input 1 ms after it
(as ``hil.vectors.importers`` reads it). Programming: ``tester_suite.toml`` (nominal DDD).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.io

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, Mode, PacemakerModel, Programming
from hil.vectors.importers import (
    ATRIAL_INPUT,
    ATRIAL_PACE,
    COMBINED_INPUT_DELAY_US,
    PRELUDE_UNTIL_MS,
    VENTRICULAR_INPUT,
    VENTRICULAR_PACE,
)
from hil.vectors.probes import tracking_ratio

#: The initializer: a conducted beat twice, then nothing (the device paces after it).
INITIALIZER_MS = ((300, ATRIAL_INPUT), (450, VENTRICULAR_INPUT), (1100, ATRIAL_INPUT),
                  (1250, VENTRICULAR_INPUT))
#: How long each test runs after t = 0 (ms).
TEST_MS = 6000

React = Callable[[MarkerEvent, int], list[tuple[int, Chamber]]]


def session(programming: Programming, inputs_ms: list[tuple[int, Chamber]],
            react: React | None = None, length_ms: int = TEST_MS) -> npt.NDArray[np.float64]:
    """One tester session with the twin as the device; the test's rows (t_ms from t0, code).

    ``inputs_ms`` are relative to t0; ``react(marker, t0_us)`` may add inputs (relative ms)
    in answer to the device's own events.
    """
    model = PacemakerModel(programming)
    for t_ms, code in INITIALIZER_MS:
        if t_ms < PRELUDE_UNTIL_MS:
            model.detect(t_ms * 1000, Chamber.A if code == ATRIAL_INPUT else Chamber.V)
    kinds: list[MarkerKind] = []
    t0 = None
    now = PRELUDE_UNTIL_MS * 1000 - 1
    model.advance_to(now)
    while t0 is None:
        now += 1000
        for m in model.advance_to(now):
            if m.kind.is_pace:
                kinds.append(m.kind)
                if kinds[-2:] == [MarkerKind.AP, MarkerKind.VP]:
                    t0 = m.t_us
    pending = sorted((t * 1000 + t0, c) for t, c in inputs_ms)
    rows: list[tuple[float, int]] = []
    end = t0 + length_ms * 1000
    while now < end:
        target = min(end, now + 1000)
        if pending and pending[0][0] <= target:
            target = pending[0][0] - 1
        for m in model.advance_to(max(target, model.now_us)):
            if m.kind.is_pace and m.t_us > t0:
                rows.append(((m.t_us - t0) / 1000,
                             ATRIAL_PACE if m.chamber is Chamber.A else VENTRICULAR_PACE))
            if react is not None:
                pending += [(t * 1000 + t0, c) for t, c in react(m, t0)]
                pending.sort()
        now = target
        while pending and pending[0][0] <= now + 1:
            t, c = pending.pop(0)
            model.detect(t, c)
            rows.append(((t - t0) / 1000, ATRIAL_INPUT if c is Chamber.A else VENTRICULAR_INPUT))
            now = max(now, t)
    rows.sort()
    return np.asarray(rows, dtype=float).reshape(-1, 2)


def _combine(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """An AP row with a V input 1 ms after it -> one code 5 row."""
    out: list[list[float]] = []
    skip = False
    for i, (t, code) in enumerate(rows.tolist()):
        if skip:
            skip = False
            continue
        nxt = rows[i + 1].tolist() if i + 1 < len(rows) else None
        if (code == ATRIAL_PACE and nxt is not None and nxt[1] == VENTRICULAR_INPUT
                and round((nxt[0] - t) * 1000) == COMBINED_INPUT_DELAY_US):
            out.append([t, 5])
            skip = True
        else:
            out.append([t, code])
    return np.asarray(out, dtype=float)


def build_suite() -> dict[str, npt.NDArray[np.float64]]:
    """The suite's arrays: ``init`` and one array per test."""
    p = Programming.nominal(Mode.DDD)
    arrays: dict[str, npt.NDArray[np.float64]] = {
        "init": np.asarray(INITIALIZER_MS, dtype=float)}
    a, v = Chamber.A, Chamber.V
    arrays["t01_bradycardia"] = session(p, [])
    arrays["t02_sinus_conducted"] = session(p, [(x, a) for x in range(700, TEST_MS, 800)]
                                            + [(x + 140, v) for x in range(700, TEST_MS, 800)])
    arrays["t03_av_block_tracking"] = session(p, [(x, a) for x in range(500, TEST_MS, 750)])

    def retro(m: MarkerEvent, t0: int) -> list[tuple[int, Chamber]]:
        if m.kind in (MarkerKind.VP, MarkerKind.VS) and m.t_us >= t0:
            return [((m.t_us - t0) // 1000 + 260, a)]
        return []
    arrays["t04_retrograde_pmt"] = session(p, [], retro, 8000)

    def crosstalk(m: MarkerEvent, t0: int) -> list[tuple[int, Chamber]]:
        return [((m.t_us - t0) // 1000 + 60, v)] if m.kind is MarkerKind.AP else []
    arrays["t05_safety_window"] = session(p, [], crosstalk)

    def ap_with_v(m: MarkerEvent, t0: int) -> list[tuple[int, Chamber]]:
        return [((m.t_us - t0) // 1000 + 1, v)] if m.kind is MarkerKind.AP else []
    arrays["t06_ap_with_v_input"] = _combine(session(p, [], ap_with_v))
    arrays["t07_pvc_retrograde_p"] = session(p, [(700, a), (840, v), (1290, v), (1550, a),
                                                 (2300, a), (2440, v)])
    for pp in (470, 440, 390):
        n_a, n_v = tracking_ratio(pp, p)
        arrays[f"t08_pp{pp}_{n_a}to{n_v}"] = session(p, [(x, a) for x in range(300, 8000, pp)],
                                                     length_ms=8000)
    probes: dict[str, Callable[[int], list[tuple[int, Chamber]]]] = {
        # after a conducted VS at 840 ms: A at the end of PVARP
        "pvarp": lambda d: [(700, a), (840, v), (840 + int(p.pvarp_ms) + d, a)],
        # after a VS at 500 ms: V at the end of VRP
        "vrp": lambda d: [(500, v), (500 + int(p.vrp_ms) + d, v)],
    }
    for name, make in probes.items():
        for d in (-1, 0, 1):
            arrays[f"t09_{name}_{'m' if d < 0 else 'p'}{abs(d)}"] = session(p, make(d))
    # the next AP after t0 comes at 1000 - PAV = 850 ms (ventricular-based timing, A-2)
    ap = 1000 - int(p.fixed_av_delay_ms)
    for name, edge in (("blank", int(p.ventricular_blanking_ms)), ("vsp", int(p.vsp_window_ms))):
        for d in (-1, 0, 1):
            arrays[f"t10_{name}_{'m' if d < 0 else 'p'}{abs(d)}"] = session(
                p, [(ap + edge + d, v)])
    return arrays


def main(argv: list[str]) -> int:
    """Write the suite to the path given (default ``tester_suite.mat``)."""
    path = Path(argv[0] if argv else "tester_suite.mat")
    scipy.io.savemat(str(path), build_suite())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
