"""The fast heart's measured tables against independent measurements of the cell heart.

The conduction table is measured by :mod:`devicetwin.fastheart.timing`'s own probe; the cell
heart measures its lead timing with :func:`devicetwin.heart.lead_timing.measure_lead_timing`
(another probe, written for the cell heart): the entries they share must agree exactly. The
stored refractory and restitution figures are measured again here (a few of them) and compared.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from devicetwin.fastheart import SOURCES, TARGETS, conduction_table, restitution
from devicetwin.fastheart.timing import (
    COUPLING_OFFSETS_US,
    OWN_TARGET,
    UNREACHED,
    _bisect,
    _probe,
    measure_conduction_table,
)
from devicetwin.heart import Heart


def _d(source: str, target: str) -> int:
    return int(conduction_table()[SOURCES.index(source), TARGETS.index(target)])


def test_conduction_table_agrees_with_the_cell_heart_lead_timing() -> None:
    lt = Heart("normal_sinus", leads=(), ecg=False).lead_timing
    assert _d("retro_exit", "ra") == lt.av_entry_to_ra_lead_us
    assert _d("ra_pace", "av_entry") == lt.ra_pace_to_av_entry_us
    assert _d("ante_exit", "rv") == lt.his_to_rv_lead_us
    assert _d("ra_pace", "ra") == lt.ra_pace_to_ra_lead_us
    assert _d("rv_pace", "rv") == lt.rv_pace_to_rv_lead_us
    assert _d("sinus", "ra") == lt.sinus_to_ra_lead_us
    assert _d("sinus", "av_entry") == lt.sinus_to_av_entry_us
    assert _d("pac", "ra") == lt.pac_to_ra_lead_us
    assert _d("pac", "av_entry") == lt.pac_to_av_entry_us
    assert _d("pvc", "rv") == lt.pvc_to_rv_lead_us


def test_stored_conduction_table_is_what_the_tissue_shows() -> None:
    assert np.array_equal(conduction_table(), measure_conduction_table())


def test_conduction_table_matches_the_documented_figures() -> None:
    # docs/heart.md, "Times at the leads" (ms): 36.2, 34.8, 47.6, 13.2 / 46.2, 61.6
    assert _d("retro_exit", "ra") == 36_200
    assert _d("ra_pace", "av_entry") == 34_800
    assert _d("ante_exit", "rv") == 47_600
    assert (_d("sinus", "ra"), _d("sinus", "av_entry")) == (13_200, 46_200)
    assert _d("pvc", "rv") == 61_600


def test_atria_and_ventricles_join_only_at_the_av_path() -> None:
    table = conduction_table()
    atrial_t = [TARGETS.index(t) for t in TARGETS[:10]]
    vent_t = [TARGETS.index(t) for t in TARGETS[10:]]
    for i, s in enumerate(SOURCES):
        atrial = i < SOURCES.index("ante_exit")
        assert all(table[i, j] == UNREACHED for j in (vent_t if atrial else atrial_t)), s
        assert all(table[i, j] > 0 for j in (atrial_t if atrial else vent_t)), s


def test_stored_refractoriness_is_what_the_tissue_shows() -> None:
    rest = restitution()
    probe = _probe()
    def reaches_twice(source: str, target: str) -> Callable[[int], bool]:
        def ok(d: int) -> bool:
            return len(probe.run([(source, 0), (source, d)], d + 200_000).get(target, [])) >= 2
        return ok

    for source in ("ra_pace", "rv_pace"):
        erp = _bisect(reaches_twice(source, OWN_TARGET[source]), source)
        assert erp == rest.source_erp_us[source]
    # the shortest coupling at which an RA pace's second wave reaches the AV-nodal entry
    prop = _bisect(reaches_twice("ra_pace", "av_entry"), "ra")
    stored = rest.propagation_us["ra_pace"]["av_entry"]
    grid = rest.coupling_us["ra_pace"]
    assert stored in grid
    k = grid.index(stored)
    assert (grid[k - 1] if k else 0) < prop <= stored


def test_restitution_curves_slow_conduction_at_short_couplings() -> None:
    rest = restitution()
    extra = rest.extra_us["ra_pace"]["av_entry"]
    reached = [x for x in extra if x != UNREACHED]
    assert len(reached) >= len(COUPLING_OFFSETS_US) // 2
    # slower the earlier (allow one step of noise), back near rested at the longest coupling
    assert all(b <= a + 200 for a, b in itertools.pairwise(reached))
    assert reached[0] > 20_000 and reached[-1] <= 2_000
    # the refractory shortening after short cycles decreases with the cycle to 0
    for tissue, shifts in rest.shift_us.items():
        assert shifts[-1] <= 400, tissue
        assert shifts[0] > 20_000, tissue


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_has_curves_on_its_grid(source: str) -> None:
    rest = restitution()
    assert len(rest.coupling_us[source]) == len(COUPLING_OFFSETS_US)
    assert np.all(np.diff(rest.coupling_us[source]) > 0)
    assert rest.coupling_us[source][0] == rest.source_erp_us[source]
