"""Electrogram and ECG amplitudes, noise and the activity signal.

Clinical ranges: intrinsic R waves on a ventricular bipolar lead 5-25 mV, P waves on an atrial
bipolar lead 1-5 mV, far-field R on the atrial lead smaller than the P wave (Ellenbogen et al.,
Clinical Cardiac Pacing, Defibrillation and Resynchronization Therapy, sensing chapter; the
PACEMAKER specification's sensitivity ranges 0.25-10 mV are built around them). ECG lead II:
QRS 0.5-3 mV, P wave < 0.3 mV (Surawicz et al., 2009).
"""

from __future__ import annotations

import numpy as np
import pytest

from devicetwin.heart import Heart, Origin
from devicetwin.pacemaker.markers import Chamber


def _beats(seconds: int = 4, **changes: object) -> tuple[Heart, object]:
    heart = Heart("normal_sinus", seed=2, leads=("RA", "RV", "LV"))
    if changes:
        heart.apply(**changes)
    return heart, heart.advance(seconds * 1_000_000)


def _ptp(x: np.ndarray, t_us: int, ms: int) -> float:
    k = t_us // 1000
    return float(np.ptp(x[k : k + ms]))


def test_electrogram_amplitudes_in_clinical_ranges() -> None:
    _, out = _beats()
    a = [e.t_us for e in out.events if e.chamber is Chamber.A and e.origin is Origin.SINUS]
    v = [e.t_us for e in out.events if e.chamber is Chamber.V]
    assert len(a) >= 4 and len(v) >= 4
    ra, rv, lv = out.egm_mv["RA"], out.egm_mv["RV"], out.egm_mv["LV"]
    for ta, tv in zip(a, v, strict=False):
        p_wave = _ptp(ra, ta, 100)
        far_r = _ptp(ra, tv, 100)
        assert 1.0 <= p_wave <= 5.0
        assert 5.0 <= _ptp(rv, tv, 100) <= 25.0
        assert 5.0 <= _ptp(lv, tv, 100) <= 25.0
        assert far_r < p_wave
        assert _ptp(rv, ta, 100) < 1.0  # the atria are far from the RV lead


def test_ecg_lead_ii_amplitudes() -> None:
    _, out = _beats()
    ii = out.ecg_mv["II"]
    a = [e.t_us for e in out.events if e.chamber is Chamber.A]
    v = [e.t_us for e in out.events if e.chamber is Chamber.V]
    assert 0.5 <= _ptp(ii, v[1], 100) <= 3.0
    assert 0.02 <= _ptp(ii, a[1], 100) <= 0.3


def test_mains_noise_at_50_hz() -> None:
    _, out = _beats(seconds=2, mains_mv=1.0, mains_hz=50.0)
    _, clean = _beats(seconds=2)
    diff = out.egm_mv["RA"] - clean.egm_mv["RA"]
    spectrum = np.abs(np.fft.rfft(diff)) * 2 / diff.size
    freqs = np.fft.rfftfreq(diff.size, 1e-3)
    assert freqs[np.argmax(spectrum)] == pytest.approx(50.0)
    assert spectrum.max() == pytest.approx(1.0, rel=0.02)


def test_noise_can_be_disabled_and_emi_bursts_are_timed() -> None:
    heart = Heart("normal_sinus", seed=2, noise=False)
    heart.apply(mains_mv=1.0, myopotential_mv=1.0)
    quiet = Heart("normal_sinus", seed=2)
    assert np.array_equal(heart.advance(500_000).egm_mv["RV"], quiet.advance(500_000).egm_mv["RV"])
    noisy = Heart("normal_sinus", seed=2)
    noisy.apply(emi_bursts=((300.0, 100.0, 5.0),))
    clean = Heart("normal_sinus", seed=2)
    d = noisy.advance(600_000).egm_mv["RA"] - clean.advance(600_000).egm_mv["RA"]
    assert np.all(d[:300] == 0) and np.all(d[400:] == 0)
    assert np.allclose(np.abs(d[300:400]), 5.0)


def test_myopotentials_have_the_requested_size() -> None:
    heart = Heart("normal_sinus", seed=2)
    heart.apply(myopotential_mv=0.5)
    clean = Heart("normal_sinus", seed=2)
    d = heart.advance(2_000_000).egm_mv["RA"] - clean.advance(2_000_000).egm_mv["RA"]
    assert 0.1 <= float(np.std(d)) <= 1.0


def test_activity_follows_the_workload() -> None:
    # A-12 activity thresholds: rest must stay below V-Low (20 milli-g), moderate exercise must
    # exceed V-High (140 milli-g)
    heart = Heart("normal_sinus", seed=0)
    heart.apply(exercise_profile=((0.0, 0.0), (10.0, 0.0), (10.001, 0.8)))
    rest = heart.advance(10_000_000).activity_milli_g
    work = heart.advance(5_000_000).activity_milli_g
    assert rest.dtype == np.int16 and rest.size == 10_000
    assert float(np.mean(np.abs(rest.astype(np.int64)))) < 20
    assert float(np.mean(np.abs(work.astype(np.int64)))) > 140
