"""An independent implementation: Myokit's Simulation1d (forward Euler, its own C code) on the
same Mitchell-Schaeffer cable must activate the cells at the same times as our kernel.

Myokit is an optional (bench) dependency; without it the test is skipped.
"""

from __future__ import annotations

import numpy as np
import pytest

from devicetwin.heart.anatomy import build_cable
from devicetwin.heart.ionic import MS_SETS, IonicModel
from devicetwin.heart.tissue import make_tissue, stimulate

myokit = pytest.importorskip("myokit", reason="myokit (the bench extra) is not installed")

N = 200
DT_MS = 0.01
CELLS = (0, 50, 90, 150)


def _myokit_crossings_ms() -> list[int]:
    model = myokit.parse_model(MS_SETS["ventricle"].myokit_mmt(0.8))
    protocol = myokit.Protocol()
    protocol.schedule(1.0, 0.0, 1.0)
    sim = myokit.Simulation1d(model, protocol, ncells=N)
    sim.set_step_size(DT_MS)
    sim.set_conductance(1.0)
    sim.set_paced_cells(3)
    log = sim.run(200.0, log=["membrane.V"], log_interval=0.1)
    out = []
    for k in CELLS:
        v = np.array(log[f"{k}.membrane.V"])
        out.append(int(np.argmax(v > 0.5)))
    return out


@pytest.mark.slow
def test_activation_times_agree_with_myokit() -> None:
    tissue = make_tissue(
        build_cable(N), IonicModel.MITCHELL_SCHAEFFER, DT_MS, np.zeros((0, N)), list(CELLS)
    )
    stimulate(tissue, [0, 1, 2], 0, 100, 0.8)
    ours: dict[int, float] = {}
    while tissue.step < 20_000:
        tissue.run(20_000 - tissue.step, np.zeros((0, 1)), 0, 20_000)
        for k, step in tissue.crossings():
            ours[k] = step * DT_MS
    theirs = [i * 0.1 for i in _myokit_crossings_ms()]
    for k in range(1, len(CELLS)):
        # Myokit steps h by forward Euler, we by Rush-Larsen: within 1.5 ms after 150 cells
        assert abs(ours[k] - theirs[k]) <= 1.5, (k, ours[k], theirs[k])
