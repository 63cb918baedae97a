"""Calibration on the fast heart: a patient whose parameters are known is found again.

The recordings here come from the fast heart itself (the model is right, only the seed
differs), so the posterior must put the truth inside its 90 % intervals and tell retrograde
conduction apart; the cell-heart validation is ``devicetwin twin validate`` (docs/twin.md).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from devicetwin.heart.conditions import Condition
from devicetwin.twin.calibration import (
    BINARY_PRIORS,
    CONTINUOUS_PRIORS,
    HEADLINE,
    calibrate,
    draw_patients,
    fast_segment,
    patient_condition,
    prior_table,
    refine_marginals,
    simulate_recording,
    truth_of,
)
from devicetwin.twin.calibration_abc import AbcPosterior, AbcSettings, PriorSample
from devicetwin.twin.calibration_protocol import recording_protocol
from devicetwin.twin.calibration_summaries import MISSING, summary_names
from devicetwin.twin.errors import TwinError

SCALE = 0.5
SETTINGS = AbcSettings(population=200, first_batch=2000, batch=500, generations=3)


@functools.cache
def _table() -> PriorSample:
    return prior_table(SETTINGS.first_batch, fast_segment, scale=SCALE, seed=5)


def _patient(**changes: float | bool) -> Condition:
    return Condition().with_changes(sinus_rate_bpm=64.0, av_delay_ms=210.0,
                                    av_decrement_ms=120.0, av_erp_ms=300.0, **changes)


@pytest.mark.parametrize("retrograde", [True, False])
def test_known_patient_is_recovered(retrograde: bool) -> None:
    truth = _patient(retrograde=retrograde, va_conduction_ms=280.0)
    rec = simulate_recording(truth, recording_protocol(), 41, fast_segment)
    cal = calibrate(rec, fast_segment, settings=SETTINGS, scale=SCALE, seed=2, check_draws=6,
                    prior_sample=_table())
    p_retro = cal.probabilities["retrograde"]
    assert (p_retro > 0.9) if retrograde else (p_retro < 0.1)
    assert cal.probabilities["complete_block"] < 0.1
    rate = cal.estimate("sinus_rate_bpm")
    assert rate.covers(64.0) and abs(rate.median - 64.0) < 64.0 * 0.03
    av = cal.estimate("av_delay_ms")
    assert av.covers(210.0) and abs(av.median - 210.0) < 20.0
    if retrograde:
        va = cal.estimate("va_conduction_ms")
        assert va.covers(280.0) and abs(va.median - 280.0) < 20.0
    assert cal.condition.retrograde is retrograde
    # the predictive check reruns the protocol for posterior draws: the data must look typical
    # of the twin for the headline behaviour
    checks = {c.name: c for c in cal.checks}
    for name in ("sinus_cycle_ms", "retro_fraction"):
        assert checks[name].consistent, checks[name]
    # the PR interval has no beat-to-beat noise on the fast heart, so the check places the data
    # outside the predictions as soon as the AV estimate is off by a few ms; at this small budget
    # the predicted PR must still lie within the AV tolerance above
    assert abs(checks["pr_ms"].predicted_median - checks["pr_ms"].observed) < 20.0
    assert set(HEADLINE) <= {e.name for e in cal.estimates}


def test_draws_follow_the_priors_and_truth_round_trips() -> None:
    patients = draw_patients(40, seed=3)
    assert len({p.sinus_rate_bpm for p in patients}) == 40
    for p in patients:
        t = truth_of(p)
        assert 40.0 <= float(t["sinus_rate_bpm"]) <= 100.0
        assert 130.0 <= float(t["av_delay_ms"]) <= 300.0
        again = patient_condition(Condition(), {k: float(v) for k, v in t.items()
                                                if k not in ("retrograde", "complete_block")},
                                  {"retrograde": bool(t["retrograde"]),
                                   "complete_block": bool(t["complete_block"])})
        assert truth_of(again) == t
    # roughly half retrograde, a fifth blocked (binomial, 40 draws: wide but failing bands)
    assert 8 <= sum(p.retrograde for p in patients) <= 32
    assert sum(p.av_conduction == "blocked" for p in patients) <= 18


def test_a_recording_without_the_protocol_is_refused() -> None:
    rec = simulate_recording(_patient(), recording_protocol()[:2], 1, fast_segment)
    with pytest.raises(TwinError, match="not the calibration protocol"):
        calibrate(rec, fast_segment, settings=SETTINGS, scale=SCALE, prior_sample=_table())


def test_marginal_refinement_reads_the_va_time_off_its_own_summaries() -> None:
    # A prior table where the retrograde test measures the VA time exactly (median interval =
    # VA + 4 ms, IQR 0, every pace followed) and a joint posterior spread over 250-450 ms: the
    # refined marginal must sit on the VA time the data imply (304 - 4 = 300 ms), as wide as the
    # rejection's neighbourhood (100 of ~1000 retrograde draws over 330 ms: about +-17 ms at
    # most), and keep every particle's rank; particles without retrograde conduction and every
    # other parameter are untouched.
    rng = np.random.default_rng(4)
    names = summary_names()
    va_j = [p.name for p in CONTINUOUS_PRIORS].index("va_conduction_ms")
    retro_j = [p.name for p in BINARY_PRIORS].index("retrograde")
    n = 2000
    x = np.column_stack([rng.uniform(p.low, p.high, n) for p in CONTINUOUS_PRIORS])
    b = np.column_stack([rng.random(n) < p.p_true for p in BINARY_PRIORS])
    s = rng.normal(0.0, 50.0, (n, len(names)))
    retro = b[:, retro_j]
    s[:, names.index("retro_fraction")] = np.where(retro, 1.0, 0.0)
    s[:, names.index("retro_va_ms")] = np.where(retro, x[:, va_j] + 4.0, MISSING)
    s[:, names.index("retro_iqr_ms")] = np.where(retro, 0.0, MISSING)
    table = PriorSample(x, b, s)
    observed = np.zeros(len(names))
    observed[names.index("retro_fraction")] = 1.0
    observed[names.index("retro_va_ms")] = 304.0
    m = 300
    px = np.column_stack([rng.uniform(p.low, p.high, m) for p in CONTINUOUS_PRIORS])
    px[:, va_j] = rng.uniform(250.0, 450.0, m)  # centred on 350 ms, not 300
    pb = np.column_stack([rng.random(m) < 0.7, np.zeros(m, dtype=bool)])
    post = AbcPosterior(CONTINUOUS_PRIORS, BINARY_PRIORS, px, px.copy(), pb,
                        np.full(m, 1.0 / m), np.zeros(m), np.zeros((m, len(names))), (1.0,),
                        np.ones(len(names)))
    refined = refine_marginals(post, table, observed)
    lo, med, hi = refined.quantiles("va_conduction_ms", [0.05, 0.5, 0.95])
    assert abs(med - 300.0) < 3.0
    assert 283.0 < lo < 300.0 < hi < 317.0
    r = pb[:, retro_j]
    before, after = px[r, va_j], refined.continuous[r, va_j]
    assert np.array_equal(np.argsort(before, kind="stable"), np.argsort(after, kind="stable"))
    np.testing.assert_array_equal(refined.continuous[~r, va_j], px[~r, va_j])
    others = [j for j in range(px.shape[1]) if j != va_j]
    np.testing.assert_array_equal(refined.continuous[:, others], px[:, others])
