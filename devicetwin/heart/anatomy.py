"""The conduction graph: cells with 3D positions (mm), tissue kinds, and coupling conductances.

Layout in index space (global row width :data:`WIDTH` = 40 cells, row-major), so that most edges
join cells ``i`` and ``i+1`` or ``i`` and ``i+WIDTH`` and fall on the kernel's two diagonals:

- rows 0-15: the atria, a curved sheet; columns 0-19 right atrium, 20-39 left atrium. The sinus
  node sits high in the lateral right atrium, the AV-nodal entry low in the septal right atrium.
- row 16: His bundle (columns 0-9) then right bundle branch (10-39).
- row 17: left bundle branch and left Purkinje trunk (0-39), fed from the distal His (a CSR edge).
- rows 18-50: the ventricles, a cone-shaped shell (base at the top, apex at the bottom); columns
  wrap around the circumference (the wrap edges are in the CSR remainder); columns 0-12 are the
  right ventricle, 13-39 the left ventricle and septum.
- Purkinje-muscle junctions join distal bundle-branch cells to the endocardial ventricular cells
  (CSR remainder).

The AV node is not made of cells: it is a path element (see :mod:`devicetwin.heart.avnode`)
between the AV-nodal entry cell of the atria and the proximal His cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]

WIDTH = 40
ATRIAL_ROWS = 16
HIS_ROW = 16
LBB_ROW = 17
VENT_ROW0 = 18
VENT_ROWS = 33
N_CELLS = (VENT_ROW0 + VENT_ROWS) * WIDTH
RV_COLUMNS = 13

# Coupling conductances (1/ms); the time step must keep dt * (row sum) well below 1.
G_ATRIUM = 0.2
G_INTERATRIAL = 0.2
G_CONDUCTION = 1.6
G_VENTRICLE_CIRC = 0.06
G_VENTRICLE_AXIAL = 0.06
G_PMJ = 0.5

# Volume (source strength) of one cell relative to a ventricular cell.
SOURCE_ATRIUM = 0.1
SOURCE_CONDUCTION = 0.05
SOURCE_VENTRICLE = 1.0


def atrial_cell(col: int, row: int) -> int:
    """Index of the atrial cell at (column, row)."""
    return row * WIDTH + col


def his_cell(k: int) -> int:
    """Index of His/right-bundle cell k (0-39)."""
    return HIS_ROW * WIDTH + k


def lbb_cell(k: int) -> int:
    """Index of left-bundle cell k (0-39)."""
    return LBB_ROW * WIDTH + k


def vent_cell(col: int, row: int) -> int:
    """Index of the ventricular cell at (column around, row from base)."""
    return (VENT_ROW0 + row) * WIDTH + (col % WIDTH)


@dataclass(frozen=True)
class Segment:
    """A contiguous run of cells sharing one parameter set."""

    start: int
    stop: int
    kind: str


@dataclass
class Anatomy:
    """The graph and its landmarks (all positions in mm)."""

    positions: FloatArray
    source_weight: FloatArray
    gr: FloatArray
    gd: FloatArray
    segments: list[Segment]
    extra_edges: list[tuple[int, int, float]]
    landmarks: dict[str, list[int]] = field(default_factory=dict)
    electrodes: dict[str, tuple[FloatArray, FloatArray]] = field(default_factory=dict)
    width: int = WIDTH

    @property
    def n(self) -> int:
        """Number of cells."""
        return int(self.positions.shape[0])

    @property
    def pad(self) -> int:
        """Padding of the kernel's potential and conductance arrays."""
        return self.width if self.width > 1 else 1

    def laplacian_rows(self) -> list[dict[int, float]]:
        """Every edge as a per-row neighbour map (diagonal and remainder alike)."""
        rows: list[dict[int, float]] = [{} for _ in range(self.n)]
        pad, w = self.pad, self.width
        for i in range(self.n):
            g = self.gr[pad + i]
            if g != 0.0:
                rows[i][i + 1] = g
                rows[i + 1][i] = g
            g = self.gd[pad + i]
            if g != 0.0 and w > 0:
                rows[i][i + w] = g
                rows[i + w][i] = g
        for a, b, g in self.extra_edges:
            rows[a][b] = rows[a].get(b, 0.0) + g
            rows[b][a] = rows[b].get(a, 0.0) + g
        return rows

    def laplacian_dense(self) -> FloatArray:
        """The full Laplacian L (n x n) with (L v)_i = sum_j g_ij (v_j - v_i)."""
        n = self.n
        lap = np.zeros((n, n))
        for i, row in enumerate(self.laplacian_rows()):
            for j, g in row.items():
                lap[i, j] += g
                lap[i, i] -= g
        return lap

    def remainder_csr(self) -> tuple[IndexArray, IndexArray, IndexArray, FloatArray]:
        """The extra edges as the kernel's CSR remainder (rows, ptr, idx, w)."""
        rows: dict[int, list[tuple[int, float]]] = {}
        for a, b, g in self.extra_edges:
            rows.setdefault(a, []).append((b, g))
            rows.setdefault(b, []).append((a, g))
        keys = sorted(rows)
        ptr = [0]
        idx: list[int] = []
        w: list[float] = []
        for r in keys:
            for j, g in sorted(rows[r]):
                idx.append(j)
                w.append(g)
            ptr.append(len(idx))
        return (
            np.array(keys, dtype=np.intp),
            np.array(ptr, dtype=np.intp),
            np.array(idx, dtype=np.intp),
            np.array(w, dtype=np.float64),
        )

    def max_row_sum(self) -> float:
        """Largest total conductance at one cell (1/ms), for the explicit stability bound."""
        return max(sum(r.values()) for r in self.laplacian_rows())


#: The cell under each lead's tip (the electrode sits 1.5 mm off it): the lead site.
LEAD_TIP_CELLS = {"RA": atrial_cell(8, 3), "RV": vent_cell(5, 30), "LV": vent_cell(27, 14)}


def _tip_first(cells: list[int], tip: int) -> list[int]:
    """``cells`` reordered with ``tip`` first (the sentinel of a landmark is its first cell)."""
    return [tip, *(c for c in cells if c != tip)]


def _set_r(gr: FloatArray, i: int, g: float) -> None:
    gr[WIDTH + i] = g


def _set_d(gd: FloatArray, i: int, g: float) -> None:
    gd[WIDTH + i] = g


def build_heart() -> Anatomy:
    """The default heart: 2,040 cells."""
    n = N_CELLS
    pos = np.zeros((n, 3))
    weight = np.zeros(n)
    gr = np.zeros(n + 2 * WIDTH)
    gd = np.zeros(n + 2 * WIDTH)
    extra: list[tuple[int, int, float]] = []

    # Atria: a dome above the ventricles, 2.2 mm between columns, 2.6 mm between rows.
    for row in range(ATRIAL_ROWS):
        for col in range(WIDTH):
            i = atrial_cell(col, row)
            x = -43.0 + col * 2.2
            y = -20.0 + row * 2.6
            z = 48.0 - 0.004 * (x * x + y * y) - row * 0.8
            pos[i] = (x, y, z)
            weight[i] = SOURCE_ATRIUM
            if col < WIDTH - 1:
                _set_r(gr, i, G_INTERATRIAL if col == 19 else G_ATRIUM)
            if row < ATRIAL_ROWS - 1:
                _set_d(gd, i, G_ATRIUM)

    # His bundle and right bundle branch (row 16): His down the septum, RBB to the RV apex.
    for k in range(WIDTH):
        i = his_cell(k)
        if k < 10:
            pos[i] = (-2.0, 0.0, 22.0 - 1.5 * k)
        else:
            t = (k - 10) / 29.0
            pos[i] = (-6.0 - 10.0 * t, 0.0, 8.0 - 62.0 * t)
        weight[i] = SOURCE_CONDUCTION
        if k < WIDTH - 1:
            _set_r(gr, i, G_CONDUCTION)
    # Left bundle branch (row 17), fed from His cell 9 by a remainder edge.
    for k in range(WIDTH):
        i = lbb_cell(k)
        t = k / 39.0
        pos[i] = (4.0 + 14.0 * t, 2.0 * t, 8.0 - 60.0 * t)
        weight[i] = SOURCE_CONDUCTION
        if k < WIDTH - 1:
            _set_r(gr, i, G_CONDUCTION)
    extra.append((his_cell(9), lbb_cell(0), G_CONDUCTION))

    # Ventricles: a cone, base (row 0) at z = 15 mm, apex (row 32) at z = -65 mm.
    for row in range(VENT_ROWS):
        frac = row / (VENT_ROWS - 1)
        radius = 5.0 + 19.0 * math.sqrt(max(0.0, 1.0 - frac * frac))
        z = 15.0 - 80.0 * frac
        for col in range(WIDTH):
            i = vent_cell(col, row)
            theta = math.pi * (1.0 - 2.0 * (col + 0.5) / WIDTH) + math.pi / 2.0
            # columns 0-12 (right ventricle) face the patient's right (negative x)
            pos[i] = (radius * math.cos(theta) + 8.0, radius * math.sin(theta), z)
            weight[i] = SOURCE_VENTRICLE
            if col < WIDTH - 1:
                _set_r(gr, i, G_VENTRICLE_CIRC)
            else:
                extra.append((i, vent_cell(0, row), G_VENTRICLE_CIRC))
            if row < VENT_ROWS - 1:
                _set_d(gd, i, G_VENTRICLE_AXIAL)

    # Purkinje-muscle junctions: distal right bundle to the right ventricle, distal left bundle
    # and left Purkinje trunk to the septum and left ventricle.
    pmj: list[int] = []
    for j, k in enumerate(range(24, WIDTH, 2)):
        row = 8 + (j * 3) % 24
        col = 2 + (j * 5) % 10
        cell = vent_cell(col, row)
        extra.append((his_cell(k), cell, G_PMJ))
        pmj.append(cell)
    n_rbb_pmj = len(pmj)
    for j, k in enumerate(range(10, WIDTH, 2)):
        row = 6 + (j * 7) % 26
        col = 14 + (j * 11) % 26
        cell = vent_cell(col, row)
        extra.append((lbb_cell(k), cell, G_PMJ))
        pmj.append(cell)

    segments = [
        Segment(0, ATRIAL_ROWS * WIDTH, "atrium"),
        Segment(ATRIAL_ROWS * WIDTH, VENT_ROW0 * WIDTH, "conduction"),
        Segment(VENT_ROW0 * WIDTH, n, "ventricle"),
    ]

    def disc(c: int, r: int, area: str) -> list[int]:
        cells = []
        for dc in (-1, 0, 1):
            for dr in (-1, 0, 1):
                if abs(dc) + abs(dr) > 1:
                    continue
                if area == "A":
                    cc, rr = c + dc, r + dr
                    if 0 <= cc < WIDTH and 0 <= rr < ATRIAL_ROWS:
                        cells.append(atrial_cell(cc, rr))
                else:
                    rr = r + dr
                    if 0 <= rr < VENT_ROWS:
                        cells.append(vent_cell(c + dc, rr))
        return cells

    landmarks = {
        "sinus": disc(3, 1, "A"),
        "av_entry": disc(18, 14, "A"),
        "his_entry": [his_cell(0), his_cell(1)],
        "escape": [lbb_cell(3)],
        "pac": disc(30, 8, "A"),
        "flutter": disc(10, 12, "A"),
        "af_1": disc(26, 3, "A"),
        "af_2": disc(34, 12, "A"),
        "af_3": disc(12, 6, "A"),
        "af_4": disc(22, 14, "A"),
        "af_5": disc(5, 10, "A"),
        "pvc": disc(24, 18, "V"),
        # a lead's cells start with the cell under its tip: the lead site, whose activation
        # time defines the condition's times at the leads (see lead_timing.py)
        "RA": _tip_first(disc(8, 3, "A"), LEAD_TIP_CELLS["RA"]),
        "RV": _tip_first(disc(5, 30, "V"), LEAD_TIP_CELLS["RV"]),
        "LV": _tip_first(disc(27, 14, "V"), LEAD_TIP_CELLS["LV"]),
        "pmj": pmj,
        # the junctions a wave coming down the bundles reaches first (proximal on each branch)
        "pmj_first": pmj[:3] + pmj[n_rbb_pmj : n_rbb_pmj + 3],
    }

    electrodes: dict[str, tuple[FloatArray, FloatArray]] = {}
    for site, ring_dir in {
        "RA": (0.0, 0.0, 1.0),
        "RV": (0.0, 0.0, 1.0),
        "LV": (1.0, 0.0, 0.3),
    }.items():
        p = pos[LEAD_TIP_CELLS[site]]
        outward = p - np.array([8.0, 0.0, p[2]]) if site != "RA" else np.array([0.0, 0.0, 1.0])
        outward = outward / max(1e-9, float(np.linalg.norm(outward)))
        tip = p + 1.5 * outward
        d = np.array(ring_dir) / float(np.linalg.norm(ring_dir))
        ring = tip + 10.0 * d + 2.0 * outward
        electrodes[site] = (tip, ring)

    return Anatomy(pos, weight, gr, gd, segments, extra, landmarks, electrodes)


def build_cable(n: int, spacing_mm: float = 0.25, g_per_ms: float = 1.0) -> Anatomy:
    """A straight cable of ``n`` ventricular cells (the benchmark's and the tests' tissue)."""
    pos = np.zeros((n, 3))
    pos[:, 0] = np.arange(n) * spacing_mm
    pad = 1
    gr = np.zeros(n + 2 * pad)
    gr[pad : pad + n - 1] = g_per_ms
    gd = np.zeros(n + 2 * pad)
    return Anatomy(
        pos,
        np.ones(n),
        gr,
        gd,
        [Segment(0, n, "ventricle")],
        [],
        {"stim": list(range(3))},
        {},
        width=0,
    )
