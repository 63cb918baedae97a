"""The fast heart's conduction table, measured on the cell-network heart's own tissue.

The event-level heart (:mod:`devicetwin.fastheart`) replaces the tissue by a table: for every
place a wave starts (a source: an automatic site's or an AV-path exit's stimulus, a pace), when
each place that matters to the rest of the model (a target: the sites that record an activation,
reset a clock, enter the AV node or carry a lead) first activates. The table is measured the
way :func:`devicetwin.heart.lead_timing.measure_lead_timing` measures its lead times: each source
is stimulated on a rested copy of the default tissue (same anatomy, ionic model, time step and
kernel build) and every target's first threshold crossing is recorded. Measured, not fitted: a
change to the cell heart's anatomy or conductances changes the fast heart with it. It takes a
few tens of milliseconds and is done once per process (:func:`conduction_table`).

Times are integer microseconds (whole 200 us kernel steps); a target a source never reaches
within :data:`~devicetwin.heart.lead_timing.PROBE_LIMIT_MS` is :data:`UNREACHED`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from devicetwin.heart.anatomy import build_heart
from devicetwin.heart.ionic import IonicModel
from devicetwin.heart.lead_timing import PROBE_LIMIT_MS
from devicetwin.heart.model import DT_US, SITE_CURRENT_PER_MS, SITE_STIM_STEPS
from devicetwin.heart.pacing import CAPTURE_CURRENT_MS, CAPTURE_CURRENT_PER_MS
from devicetwin.heart.tissue import make_tissue

#: Where waves start. ``sinus``, ``pac``, ``pvc``, ``escape``: the automatic site's stimulus;
#: ``retro_exit``: a retrograde AV-path exit (stimulus at the AV-nodal entry cells);
#: ``ante_exit``: an antegrade exit (stimulus at the proximal His cells); ``ra_pace``,
#: ``rv_pace``: a capturing pace at the lead.
SOURCES = ("sinus", "pac", "flutter", "af_1", "af_2", "af_3", "af_4", "af_5", "retro_exit",
           "ra_pace", "ante_exit", "escape", "rv_pace", "pvc")
#: ``flutter`` and ``af_1`` .. ``af_5``: the flutter and fibrillation drivers.
#: Where the model needs to know the wave's arrival: the automatic sites (whose cells, once a
#: wave passes, reset their clock or record an activation), ``av_entry``, ``his`` (the
#: proximal His cell), ``pmj`` (the first Purkinje-muscle junction: the ventricles' first
#: activation on a wave from the bundles), ``ra``, ``rv`` (the cells under the lead tips).
TARGETS = ("sinus", "pac", "flutter", "af_1", "af_2", "af_3", "af_4", "af_5", "av_entry", "ra",
           "his", "escape", "pmj", "rv", "pvc")
UNREACHED = -1

_FOCI = ("flutter", "af_1", "af_2", "af_3", "af_4", "af_5")
_SOURCE_CELLS = {**{f: f for f in _FOCI}, "sinus": "sinus", "pac": "pac",
                 "retro_exit": "av_entry", "ra_pace": "RA", "ante_exit": "his_entry",
                 "escape": "escape", "rv_pace": "RV", "pvc": "pvc"}
_TARGET_CELLS = {**{f: f for f in _FOCI}, "sinus": "sinus", "pac": "pac",
                 "av_entry": "av_entry", "ra": "RA", "his": "his_entry", "escape": "escape",
                 "rv": "RV", "pvc": "pvc"}


#: Crossings of one target closer than this belong to one wave (the Purkinje-muscle junctions
#: of one wave spread over ~40 ms; two waves are at least a refractory period apart).
_SAME_WAVE_US = 100_000


class _Probe:
    """A rested copy of the default tissue with every target's sentinel cells."""

    def __init__(self) -> None:
        anatomy = build_heart()
        self.lm = anatomy.landmarks
        names = [t for t in TARGETS if t != "pmj"]
        sentinels = [self.lm[_TARGET_CELLS[t]][0] for t in names]
        pmj = list(self.lm["pmj_first"])
        self.names = names + ["pmj"] * len(pmj)
        self.tissue = make_tissue(anatomy, IonicModel.MITCHELL_SCHAEFFER, DT_US / 1000.0,
                                  np.zeros((0, anatomy.n)), sentinels + pmj)
        self.v0, self.h0, _ = self.tissue.get_state()

    def run(self, stimuli: list[tuple[str, int]], limit_us: int) -> dict[str, list[int]]:
        """Stimulate sources at times (us, whole steps) on rested tissue; every crossing (us)
        of each target until ``limit_us``."""
        pace = (CAPTURE_CURRENT_PER_MS, round(CAPTURE_CURRENT_MS * 1000 / DT_US))
        site = (SITE_CURRENT_PER_MS, SITE_STIM_STEPS)
        ptr, cells, on, off, cur = [0], [], [], [], []
        for source, t_us in stimuli:
            c = self.lm[_SOURCE_CELLS[source]]
            current, steps = pace if source.endswith("_pace") else site
            cells += c
            ptr.append(ptr[-1] + len(c))
            on.append(t_us // DT_US)
            off.append(t_us // DT_US + steps)
            cur.append(current)
        tissue = self.tissue
        tissue.set_state(self.v0, self.h0, 0)
        tissue.set_stimuli(np.array(ptr, dtype=np.intp), np.array(cells, dtype=np.intp),
                           np.array(on, dtype=np.int64), np.array(off, dtype=np.int64),
                           np.array(cur, dtype=np.float64))
        limit = limit_us // DT_US
        out = np.zeros((0, limit + 1))
        crossings: dict[str, list[int]] = {}
        while tissue.step < limit:
            tissue.run(limit - tissue.step, out, 0, 1)
            for k, step in tissue.crossings():
                times = crossings.setdefault(self.names[k], [])
                if not times or int(step) * DT_US - times[-1] > _SAME_WAVE_US:
                    times.append(int(step) * DT_US)
        return crossings


@functools.cache
def _probe() -> _Probe:
    return _Probe()


@functools.cache
def conduction_table() -> npt.NDArray[np.int64]:
    """``table[source, target]``: microseconds from a source's stimulus onset to the target's
    first crossing on rested default tissue (Mitchell-Schaeffer), :data:`UNREACHED` if never
    (atrial sources do not reach ventricular targets and vice versa). Read-only; as stored
    next to this module by ``python -m devicetwin.fastheart.timing`` (a test measures it again
    with :func:`measure_conduction_table` and compares)."""
    data = json.loads(_STORED.read_text())["conduction_us"]
    table = np.array([[data[s][t] for t in TARGETS] for s in SOURCES], dtype=np.int64)
    table.flags.writeable = False
    return table


def measure_conduction_table() -> npt.NDArray[np.int64]:
    """Measure :func:`conduction_table` on the cell heart's tissue (~0.2 s)."""
    probe = _probe()
    table = np.full((len(SOURCES), len(TARGETS)), UNREACHED, dtype=np.int64)
    for i, source in enumerate(SOURCES):
        first = probe.run([(source, 0)], PROBE_LIMIT_MS * 1000)
        for j, target in enumerate(TARGETS):
            if target in first:
                table[i, j] = first[target][0]
    table.flags.writeable = False
    return table


#: The site whose second activation tells whether a source's second stimulus took.
OWN_TARGET = {"sinus": "sinus", "pac": "pac", **{f: f for f in _FOCI}, "retro_exit": "av_entry",
              "ra_pace": "ra", "ante_exit": "his", "escape": "escape", "rv_pace": "rv",
              "pvc": "pvc"}
#: Couplings of the restitution curves, after the source's local refractory period (us): fine
#: where waves start to spread, coarser where conduction recovers.
COUPLING_OFFSETS_US = (*range(0, 124_000, 4_000), 130_000, 140_000, 160_000, 180_000, 200_000,
                       230_000, 260_000, 300_000, 350_000, 420_000, 500_000, 600_000)
_SEARCH_US = (60_000, 1_200_000)


@dataclass(frozen=True)
class Restitution:
    """How a source's second wave fares against the time since its cells last activated.

    Attributes
    ----------
    source_erp_us:
        By source: the shortest S1-S2 coupling at which its stimulus activates its own cells
        again (the site's local refractory period).
    coupling_us:
        By source: the couplings of the curves (``source_erp_us`` plus
        :data:`COUPLING_OFFSETS_US`).
    propagation_us:
        By source, by target: the shortest coupling from which on (on the curve's couplings)
        the second wave reaches the target (shorter: it dies on the way).
    extra_us:
        By source, by target: the second wave's conduction time at each coupling less the rested
        one (:func:`conduction_table`), :data:`UNREACHED` where the target is not reached.
    cycle_us, shift_us:
        By tissue (:data:`SHIFT_PROBES`): after a previous cycle of ``cycle_us`` (S1-S2), how
        much sooner a third wave gets through than after rest (S1-S2 threshold less S2-S3
        threshold): the refractory period shortens after short cycles (APD restitution). The
        fast heart adds it to the coupling of every wave into that tissue.
    """

    source_erp_us: dict[str, int]
    coupling_us: dict[str, list[int]]
    propagation_us: dict[str, dict[str, int]]
    extra_us: dict[str, dict[str, list[int]]]
    cycle_us: dict[str, list[int]]
    shift_us: dict[str, list[int]]


def _bisect(ok: Callable[[int], bool], what: str) -> int:
    """The shortest coupling (one kernel step) at which ``ok`` holds (monotone)."""
    lo, hi = _SEARCH_US
    if not ok(hi):
        raise ValueError(f"{what} fails even at a {hi} us coupling")
    while hi - lo > DT_US:
        mid = (lo + hi) // 2 // DT_US * DT_US
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _reaches(second: Callable[[str, int], dict[str, int]], source: str, target: str
             ) -> Callable[[int], bool]:
    """Whether a second stimulus of ``source`` at a coupling reaches ``target``."""
    def ok(d: int) -> bool:
        return target in second(source, d)
    return ok


def _reaches_after(probe: _Probe, source: str, target: str, c1: int, limit: int
                   ) -> Callable[[int], bool]:
    """Whether a third stimulus, a coupling after a second one ``c1`` after the first, reaches
    ``target``."""
    def ok(d: int) -> bool:
        times = probe.run([(source, 0), (source, c1), (source, c1 + d)], c1 + d + limit)
        return len(times.get(target, [])) >= 3
    return ok


def measure_restitution() -> Restitution:
    """Measure :class:`Restitution` by S1-S2 on the default tissue (several seconds; the stored
    copy, :func:`restitution`, is what the fast heart reads)."""
    probe = _probe()
    rested = measure_conduction_table()
    limit = PROBE_LIMIT_MS * 1000 // 2

    def second(source: str, d: int) -> dict[str, int]:
        times = probe.run([(source, 0), (source, d)], d + limit)
        return {t: at[1] - d for t, at in times.items() if len(at) >= 2}

    erp: dict[str, int] = {}
    coup: dict[str, list[int]] = {}
    prop: dict[str, dict[str, int]] = {}
    extra: dict[str, dict[str, list[int]]] = {}
    for i, source in enumerate(SOURCES):
        own = OWN_TARGET[source]
        erp[source] = _bisect(_reaches(second, source, own), f"{source} itself")
        coup[source] = [erp[source] + off for off in COUPLING_OFFSETS_US]
        rows: dict[str, list[int]] = {t: [] for t in TARGETS}
        for d in coup[source]:
            got = second(source, d)
            for j, t in enumerate(TARGETS):
                rows[t].append(got[t] - int(rested[i, j]) if t in got else UNREACHED)
        extra[source] = rows
        prop[source] = {}
        for t, row in rows.items():
            k = len(row)
            while k > 0 and row[k - 1] != UNREACHED:
                k -= 1
            prop[source][t] = coup[source][k] if k < len(row) else UNREACHED
    cycles: dict[str, list[int]] = {}
    shifts: dict[str, list[int]] = {}
    for tissue, (source, target, grid) in SHIFT_PROBES.items():
        rested_thr = _bisect(_reaches(second, source, target), f"{source} to {target}")
        cycles[tissue] = list(grid)
        shifts[tissue] = []
        for c1 in grid:
            thr = _bisect(_reaches_after(probe, source, target, c1, limit),
                          f"{source} to {target} after {c1} us")
            shifts[tissue].append(max(0, rested_thr - thr))
    return Restitution(erp, coup, prop, extra, cycles, shifts)


#: The probes of the refractory period's shortening after short cycles, by tissue: (source,
#: target, previous cycles in us). Atrial muscle, His-Purkinje (with the ventricles behind
#: it), ventricular muscle.
SHIFT_PROBES: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "atrium": ("ra_pace", "av_entry", (260_000, 280_000, 300_000, 350_000, 400_000, 500_000,
                                       600_000, 800_000, 1_000_000, 1_500_000)),
    "his_purkinje": ("ante_exit", "pmj", (400_000, 450_000, 500_000, 600_000, 800_000,
                                          1_000_000, 1_500_000)),
    "ventricle": ("rv_pace", "pvc", (350_000, 400_000, 450_000, 500_000, 600_000, 800_000,
                                     1_000_000, 1_500_000)),
}
#: The tissue of each target (which :attr:`Restitution.shift_us` curve applies to it).
TARGET_TISSUE = {**{t: "atrium" for t in TARGETS[:10]}, "his": "his_purkinje",
                 "escape": "his_purkinje", "pmj": "his_purkinje", "rv": "ventricle",
                 "pvc": "ventricle"}

_STORED = Path(__file__).with_name("measured_tissue.json")


@functools.cache
def restitution() -> Restitution:
    """:func:`measure_restitution` as stored in ``measured_tissue.json`` next to this module
    (written by ``python -m devicetwin.fastheart.timing``; a test measures again and
    compares)."""
    data = json.loads(_STORED.read_text())
    return Restitution(**{f.name: data[f.name] for f in dataclasses.fields(Restitution)})


def main() -> None:
    """Measure the restitution and store it next to this module."""
    table = measure_conduction_table()
    r = measure_restitution()
    doc = {"conduction_us": {s: dict(zip(TARGETS, map(int, table[i]), strict=True))
                             for i, s in enumerate(SOURCES)},
           **dataclasses.asdict(r)}
    _STORED.write_text(json.dumps(doc) + "\n")
    print(f"wrote {_STORED}")


if __name__ == "__main__":
    main()
