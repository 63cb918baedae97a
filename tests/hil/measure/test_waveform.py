"""Waveform measurements on synthetic pulses whose values are derived by hand here."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from hil.instruments.interfaces import Waveform
from hil.measure.errors import BadSignalError, NoPulseError
from hil.measure.waveform import (
    PulseSettings,
    av_intervals_ms,
    find_pulses,
    first_pulse,
    intervals_ms,
    mean_interval_ms,
    rate_ppm,
)

R = 500.0
C = 10e-6
TAU = R * C  # 5 ms
V0 = 3.5
W = 0.4e-3


def droop_pulses(edges_s: list[float], *, dt: float = 1e-6, n: int = 3000, v0: float = V0,
                 width: float = W, noise_v: float = 0.0, seed: int = 0,
                 q: float = 0.0, polarity: int = -1) -> Waveform:
    """Rectangular pulses with exponential droop ``V0 exp(-t / RC)``, starting at ``edges_s``."""
    t = np.arange(n) * dt
    v = np.zeros(n)
    for te in edges_s:
        on = (t >= te) & (t < te + width)
        v[on] = polarity * v0 * np.exp(-(t[on] - te) / TAU)
    v += np.random.default_rng(seed).normal(0.0, noise_v, n)
    if q > 0:
        v = np.round(v / q) * q
    return Waveform(0.0, dt, v, 2, q)


def test_closed_form_droop_pulse() -> None:
    p = first_pulse(droop_pulses([1000.3e-6]))
    trailing = V0 * math.exp(-W / TAU)
    mean = V0 * TAU / W * (1 - math.exp(-W / TAU))
    energy_uj = V0**2 * R * C / (2 * R) * (1 - math.exp(-2 * W / TAU)) * 1e6
    charge_uc = V0 * TAU / R * (1 - math.exp(-W / TAU)) * 1e6
    # By hand: 3.2309 V, 3.3637 V, 9.0562 uJ, 2.6909 uC.
    assert trailing == pytest.approx(3.2309, abs=1e-4)
    assert p.polarity == -1
    for est, truth in ((p.leading_edge_v, V0), (p.trailing_edge_v, trailing),
                       (p.mean_v, mean), (p.width_ms, W * 1e3), (p.energy_uj, energy_uj),
                       (p.charge_uc, charge_uc)):
        assert est.contains(truth), (est, truth)
        assert est.value == pytest.approx(truth, rel=3e-3)
    assert p.droop_tau_ms == pytest.approx(5.0, rel=1e-6)
    assert p.t_lead_s == pytest.approx(1000.3e-6, abs=0.5e-6)


@pytest.mark.parametrize("seed", range(8))
def test_noisy_quantised_pulse_uncertainty_holds_the_truth(seed: int) -> None:
    q = 10.0 / 2**12
    p = first_pulse(droop_pulses([1200.7e-6], noise_v=0.01, seed=seed, q=q, polarity=1))
    assert p.polarity == 1
    assert p.leading_edge_v.contains(V0)
    assert p.trailing_edge_v.contains(V0 * math.exp(-W / TAU))
    assert p.width_ms.contains(0.4)
    assert p.charge_uc.contains(V0 * TAU / R * (1 - math.exp(-W / TAU)) * 1e6)
    assert p.energy_uj.contains(V0**2 * TAU / (2 * R) * (1 - math.exp(-2 * W / TAU)) * 1e6)
    # The bound is not vacuous: well under the +-12 % amplitude tolerance.
    assert p.leading_edge_v.uncertainty < 0.01 * V0


def test_width_is_taken_at_half_the_leading_edge_on_sloped_edges() -> None:
    # Trapezoid: 20 us linear rise to 2 V, flat 300 us, 20 us linear fall. At 50 % the width is
    # 10 + 300 + 10 = 320 us.
    dt = 1e-6
    t = np.arange(2000) * dt
    v = np.interp(t, [500e-6, 520e-6, 820e-6, 840e-6], [0.0, 2.0, 2.0, 0.0], left=0, right=0)
    p = first_pulse(Waveform(0.0, dt, v, 1, 0.0))
    assert p.width_ms.value == pytest.approx(0.320, abs=1e-6)
    assert p.leading_edge_v.value == pytest.approx(2.0, abs=1e-9)
    assert p.t_lead_s == pytest.approx(510e-6, abs=1e-9)
    wide = first_pulse(Waveform(0.0, dt, v, 1, 0.0), PulseSettings(width_fraction=0.25))
    assert wide.width_ms.value == pytest.approx(0.330, abs=1e-6)


def test_intervals_rate_and_av() -> None:
    dt = 10e-6
    n = 140_000
    v_edges = [0.15, 0.75, 1.35]
    a_edges = [0.0, 0.6, 1.2]
    vent = droop_pulses(v_edges, dt=dt, n=n)
    # Atrial pulse at 0 s is cut by the capture start: shift the atrial ones by 10 ms.
    atr = droop_pulses([e + 0.01 for e in a_edges], dt=dt, n=n)
    vp, ap = find_pulses(vent), find_pulses(atr)
    assert len(vp) == 3 and len(ap) == 3
    ivs = intervals_ms(vp)
    assert [round(i.value, 3) for i in ivs] == [600.0, 600.0]
    mean = mean_interval_ms(vp)
    # (first, last edge +- dt/2 each) over 2 intervals: +-dt/2 = 5 us.
    assert mean.contains(600.0) and mean.uncertainty == pytest.approx(0.005)
    rate = rate_ppm(mean)
    assert rate.value == pytest.approx(100.0, rel=1e-5) and rate.contains(100.0)
    avs = av_intervals_ms(ap, vp)
    assert [round(a.value, 3) for a in avs] == [140.0, 140.0, 140.0]
    assert all(a.contains(140.0) for a in avs)


def test_pulses_cut_by_the_capture_are_left_out() -> None:
    wf = droop_pulses([0.0, 1000e-6, 2800e-6])
    pulses = find_pulses(wf)
    assert len(pulses) == 1 and pulses[0].t_lead_s == pytest.approx(1000e-6, abs=1e-6)


def test_no_pulse_and_bad_settings_are_named() -> None:
    flat = Waveform(0.0, 1e-6, np.zeros(100), 1, 0.0)
    with pytest.raises(NoPulseError, match=re.escape("no pulse above 0.2 V")):
        first_pulse(flat)
    with pytest.raises(NoPulseError, match="holds 0"):
        mean_interval_ms([])
    with pytest.raises(BadSignalError, match=re.escape("1.5")):
        PulseSettings(width_fraction=1.5)
    with pytest.raises(BadSignalError, match=re.escape("-1")):
        find_pulses(Waveform(0.0, -1.0, np.zeros(4), 1, 0.0))
