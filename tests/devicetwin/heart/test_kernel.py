"""The Cython kernel against the plain NumPy implementation of the same arithmetic (1e-9)."""

from __future__ import annotations

import numpy as np
import pytest

from devicetwin.heart.anatomy import build_cable, build_heart
from devicetwin.heart.ionic import IonicModel
from devicetwin.heart.tissue import make_reference, make_tissue, stimulate

DT_MS = 0.2


def _stimulate_both(tissue, ref, cells: list[int], on: int, off: int, cur: float) -> None:
    stimulate(tissue, cells, on, off, cur)
    ref.stimuli = [(np.array(cells, dtype=np.intp), on, off, cur)]


@pytest.mark.parametrize("build", ["portable", "avx2"])
@pytest.mark.parametrize("model", list(IonicModel))
def test_heart_graph_matches_numpy(model: IonicModel, build: str) -> None:
    from devicetwin.heart.tissue import KERNEL_BUILD

    if build == "avx2" and KERNEL_BUILD != "avx2":
        pytest.skip("this CPU has no AVX2 + FMA")
    anatomy = build_heart()
    rng = np.random.default_rng(3)
    lead = rng.normal(size=(3, anatomy.n))
    tissue = make_tissue(anatomy, model, DT_MS, lead, [], build=build)
    ref = make_reference(anatomy, model, DT_MS, lead)
    cells = anatomy.landmarks["sinus"] + anatomy.landmarks["his_entry"]
    _stimulate_both(tissue, ref, cells, 0, 5, 0.8)
    n_steps = 600  # 120 ms: atrial and His-Purkinje waves, remainder edges, stimuli
    out = np.zeros((3, n_steps // 5))
    done = tissue.run(n_steps, out, 0, 5, False)
    expected = ref.run(n_steps, 5)
    assert done == n_steps
    assert np.max(np.abs(tissue.v - ref.v)) < 1e-9
    assert np.max(np.abs(tissue.h - ref.h)) < 1e-9
    assert np.max(np.abs(out - expected)) < 1e-9 * max(1.0, float(np.max(np.abs(expected))))
    assert np.max(tissue.v) > 0.5  # something actually propagated


def test_cable_matches_numpy() -> None:
    cable = build_cable(200)
    lead = np.zeros((0, 200))
    tissue = make_tissue(cable, IonicModel.MITCHELL_SCHAEFFER, 0.01, lead, [])
    ref = make_reference(cable, IonicModel.MITCHELL_SCHAEFFER, 0.01, lead)
    _stimulate_both(tissue, ref, [0, 1, 2], 0, 100, 0.8)
    tissue.run(3000, np.zeros((0, 3000)), 0, 1, False)
    ref.run(3000, 1)
    assert np.max(np.abs(tissue.v - ref.v)) < 1e-9
    assert np.max(np.abs(tissue.h - ref.h)) < 1e-9


def test_sentinel_crossing_stops_the_run() -> None:
    cable = build_cable(50)
    tissue = make_tissue(cable, IonicModel.MITCHELL_SCHAEFFER, 0.1, np.zeros((0, 50)), [25])
    stimulate(tissue, [0, 1, 2], 0, 10, 0.8)
    out = np.zeros((0, 10000))
    done = tissue.run(5000, out, 0, 10)
    assert 0 < done < 5000
    assert tissue.crossings() == [(0, done)]
    assert tissue.v[25] >= 0.5


def test_kernel_rejects_inconsistent_tables() -> None:
    cable = build_cable(10)
    tissue = make_tissue(cable, IonicModel.MITCHELL_SCHAEFFER, 0.1, np.zeros((0, 10)), [])
    with pytest.raises(ValueError, match="stimulus cell"):
        tissue.set_stimuli(
            np.array([0, 1], dtype=np.intp),
            np.array([10], dtype=np.intp),
            np.array([0], dtype=np.int64),
            np.array([1], dtype=np.int64),
            np.array([1.0]),
        )
    with pytest.raises(ValueError):
        tissue.run(-1, np.zeros((0, 1)), 0, 10)
