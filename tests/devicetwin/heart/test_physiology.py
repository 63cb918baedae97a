"""Tissue-level physiology in clinical ranges, each range with its source.

Sources:
- Ventricular APD90 200-320 ms at 1 Hz: human ventricular monophasic action potentials,
  Franz et al., Circulation 1988 (~250-300 ms), and ten Tusscher & Panfilov 2006 (~270 ms).
- Atrial APD90 120-300 ms: human atrial myocytes / MAPs, Courtemanche et al. 1998; Franz 1988.
- Conduction velocity: ventricular myocardium 0.3-1.0 m/s, atrium 0.5-1.3 m/s
  (Kleber & Rudy, Physiol Rev 2004; Harrild & Henriquez, Circ Res 2000).
- Refractory periods (S1-S2): ventricular ERP 170-290 ms, atrial ERP 150-360 ms
  (Josephson, Clinical Cardiac Electrophysiology, table of normal refractory periods).
- PR interval 120-200 ms and QRS duration < 120 ms: AHA/ACCF/HRS recommendations for the
  standardization and interpretation of the ECG (Surawicz et al., 2009).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from devicetwin.heart import Heart, Origin, Pace
from devicetwin.heart.anatomy import (
    G_ATRIUM,
    G_VENTRICLE_AXIAL,
    VENT_ROW0,
    WIDTH,
    atrial_cell,
    build_cable,
)
from devicetwin.heart.ionic import IonicModel
from devicetwin.heart.tissue import make_tissue, stimulate
from devicetwin.pacemaker.markers import Chamber


def _apd90_ms(trace: np.ndarray) -> int:
    up = int(np.argmax(trace > 0.5))
    peak = float(trace.max())
    return int(np.argmax(trace[up:] < 0.1 * peak))


def test_action_potential_durations(quiet_heart: Callable[..., Heart]) -> None:
    heart = quiet_heart()
    heart.advance(400_000)
    v_cell = heart.anatomy.landmarks["RV"][0]
    a_cell = heart.anatomy.landmarks["RA"][0]
    heart.advance(1000, [Pace(400_000, "RV", 2.0, 400), Pace(400_000, "RA", 2.0, 400)])
    trace = []
    for _ in range(450):
        heart.advance(1000)
        trace.append(heart.potentials()[[v_cell, a_cell]])
    arr = np.array(trace)
    assert 200 <= _apd90_ms(arr[:, 0]) <= 320
    assert 120 <= _apd90_ms(arr[:, 1]) <= 300


def _cable_cv_m_per_s(spacing_mm: float, g_per_ms: float) -> float:
    n = 80
    cable = build_cable(n, spacing_mm=spacing_mm, g_per_ms=g_per_ms)
    tissue = make_tissue(cable, IonicModel.MITCHELL_SCHAEFFER, 0.2, np.zeros((0, n)), [20, 60])
    stimulate(tissue, [0, 1, 2], 0, 5, 0.8)
    out = np.zeros((0, 100000))
    times: dict[int, int] = {}
    while len(times) < 2 and tissue.step < 10000:
        tissue.run(10000 - tissue.step, out, 0, 5)
        for k, step in tissue.crossings():
            times[k] = step
    dt_ms = (times[1] - times[0]) * 0.2
    return 40 * spacing_mm / dt_ms  # mm/ms == m/s


def test_conduction_velocities_in_the_heart_tissue() -> None:
    # the ventricular sheet's axial spacing is 2.5 mm, the atrial sheet's column spacing 2.2 mm
    assert 0.3 <= _cable_cv_m_per_s(2.5, G_VENTRICLE_AXIAL) <= 1.0
    assert 0.5 <= _cable_cv_m_per_s(2.2, G_ATRIUM) <= 1.3


def test_atrial_conduction_velocity_measured_on_the_heart() -> None:
    heart = Heart("normal_sinus", seed=0)
    a, b = atrial_cell(24, 8), atrial_cell(34, 8)
    seen: dict[int, int] = {}
    for ms in range(150):
        heart.advance(1000)
        v = heart.potentials()
        for cell in (a, b):
            if cell not in seen and v[cell] >= 0.5:
                seen[cell] = ms
    dist = float(np.linalg.norm(heart.anatomy.positions[a] - heart.anatomy.positions[b]))
    cv = dist / (seen[b] - seen[a])
    assert 0.5 <= cv <= 1.3


def _erp_ms(site: str, heart_factory: Callable[..., Heart]) -> int:
    """Shortest S1-S2 interval (5 ms steps) at which S2 (2x threshold) captures."""
    s1_us = 400_000
    for coupling_ms in range(120, 420, 5):
        heart = heart_factory()
        heart.advance(s1_us)
        amp = 2.0 * heart.threshold_v(site, 400)
        first = heart.advance(1000, [Pace(s1_us, site, amp, 400)]).events
        heart.advance(coupling_ms * 1000 - 1000)
        s2 = s1_us + coupling_ms * 1000
        second = heart.advance(20_000, [Pace(s2, site, amp, 400)]).events
        paces = [e for e in first + second if e.origin is Origin.PACED]
        assert paces[0].captured
        if paces[-1].captured:
            return coupling_ms
    raise AssertionError("S2 never captured")


def test_refractory_periods(quiet_heart: Callable[..., Heart]) -> None:
    assert 170 <= _erp_ms("RV", quiet_heart) <= 290
    assert 150 <= _erp_ms("RA", quiet_heart) <= 360


def test_pr_interval_and_qrs_duration_in_sinus_rhythm() -> None:
    heart = Heart("normal_sinus", seed=4)
    n_vent = heart.anatomy.n - VENT_ROW0 * WIDTH
    first_act = np.full(n_vent, np.nan)
    prev = heart.potentials()[VENT_ROW0 * WIDTH :]
    events = []
    for ms in range(1, 1800):
        events += heart.advance(1000).events
        v = heart.potentials()[VENT_ROW0 * WIDTH :]
        if ms > 860:  # second beat: activation times of every ventricular cell
            new = (prev < 0.5) & (v >= 0.5) & np.isnan(first_act)
            first_act[new] = ms
        prev = v
    a = [e.t_us for e in events if e.chamber is Chamber.A and e.origin is Origin.SINUS]
    v_ev = [e.t_us for e in events if e.chamber is Chamber.V and e.origin is Origin.CONDUCTED]
    assert len(a) >= 2 and len(v_ev) == 2
    for ta, tv in zip(a[:2], v_ev, strict=True):
        assert 120_000 <= tv - ta <= 200_000
    assert not np.isnan(first_act).any()  # every ventricular cell activated
    assert np.nanmax(first_act) - np.nanmin(first_act) < 120


def _s2_apd_ms(quiet_heart: Callable[..., Heart], coupling_ms: int) -> int:
    heart = quiet_heart()
    heart.advance(400_000)
    cell = heart.anatomy.landmarks["RV"][0]
    heart.advance(coupling_ms * 1000, [Pace(400_000, "RV", 3.0, 400)])
    s2 = 400_000 + coupling_ms * 1000
    heart.advance(1000, [Pace(s2, "RV", 3.0, 400)])
    trace = []
    for _ in range(400):
        heart.advance(1000)
        trace.append(heart.potentials()[cell])
    return _apd90_ms(np.array(trace))


def test_apd_restitution(quiet_heart: Callable[..., Heart]) -> None:
    # APD shortens at short coupling intervals (restitution; Franz et al. 1988): by tens of ms
    # between 320 and 800 ms coupling in human ventricle.
    short = _s2_apd_ms(quiet_heart, 320)
    long = _s2_apd_ms(quiet_heart, 800)
    assert 10 <= long - short <= 150


def test_colliding_wavefronts_annihilate(quiet_heart: Callable[..., Heart]) -> None:
    heart = quiet_heart()
    heart.advance(400_000)
    events = heart.advance(
        1_200_000, [Pace(400_000, "RV", 3.0, 400), Pace(400_000, "LV", 3.0, 400)]
    ).events
    paced = [e for e in events if e.origin is Origin.PACED]
    assert [e.captured for e in paced] == [True, True]
    # the two waves meet and die: no further ventricular activation in the next second
    later = [e for e in events if e.chamber is Chamber.V and e.t_us > 420_000]
    assert later == []
    assert float(np.max(heart.potentials()[VENT_ROW0 * WIDTH :])) < 0.1
