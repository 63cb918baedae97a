"""Sampling: reproducible by seed, patient i independent of n, weights and copula as specified."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from devicetwin.population import (
    Population,
    PopulationError,
    population_from_mapping,
    sample_patients,
)

SRC = {"source": "test"}


def _two_indications() -> Population:
    return population_from_mapping({"name": "mix", "indications": [
        {"name": "snd", "base": "sick_sinus", "weight": 3.0, "parameters": {
            "av_delay_ms": {"dist": "normal", "mean": 200.0, "sd": 30.0, **SRC},
            "av_erp_ms": {"dist": "normal", "mean": 320.0, "sd": 50.0, **SRC},
            "retrograde": {"dist": "bernoulli", "p": 0.67, **SRC}},
         "correlations": [{"between": ["av_delay_ms", "av_erp_ms"], "rho": 0.6, **SRC},
                          {"between": ["av_erp_ms", "retrograde"], "rho": -0.5, **SRC}]},
        {"name": "chb", "base": "complete_av_block", "weight": 1.0, "parameters": {
            "escape_rate_bpm": {"dist": "uniform", "low": 25.0, "high": 50.0, **SRC}}},
    ]})


def test_same_seed_same_patients_and_patient_i_does_not_depend_on_n() -> None:
    pop = _two_indications()
    a = sample_patients(pop, 50, 3)
    assert a == sample_patients(pop, 50, 3)
    assert sample_patients(pop, 20, 3) == a[:20]
    assert sample_patients(pop, 50, 4) != a


def test_indication_shares_follow_the_weights() -> None:
    n = 4000
    patients = sample_patients(_two_indications(), n, 1)
    k = sum(p.indication == "snd" for p in patients)
    # binomial(n, 3/4): within 4 standard deviations
    assert abs(k - 0.75 * n) < 4 * math.sqrt(n * 0.75 * 0.25)


def test_unvaried_parameters_keep_the_base_preset_values() -> None:
    patients = sample_patients(_two_indications(), 200, 2)
    for p in patients:
        if p.indication == "chb":
            # complete_av_block's own values; the snd parameters are not drawn for it
            assert p.parameters["av_delay_ms"] == 176.0 and p.parameters["retrograde"] is False
            assert p.condition().av_conduction == "blocked"
        else:
            assert p.parameters["escape_rate_bpm"] == 35.0
            assert p.condition().sinus_pause_probability == 0.08  # sick_sinus


def test_gaussian_copula_gives_the_closed_form_rank_correlation() -> None:
    # for a Gaussian copula with correlation rho, Spearman's rank correlation is
    # (6 / pi) asin(rho / 2): 0.582 for rho = 0.6
    snd = [p for p in sample_patients(_two_indications(), 6000, 5)
           if p.indication == "snd"]
    av = np.array([p.parameters["av_delay_ms"] for p in snd])
    erp = np.array([p.parameters["av_erp_ms"] for p in snd])
    expected = 6 / math.pi * math.asin(0.6 / 2)
    assert stats.spearmanr(av, erp).statistic == pytest.approx(expected, abs=0.04)
    # a negative correlation with a Bernoulli: patients with retrograde conduction have the
    # shorter AV-nodal refractory periods; the mean difference of the normal scores is
    # rho * (phi(z_p) / (p (1 - p))) sd units (a point-biserial closed form)
    retro = np.array([p.parameters["retrograde"] for p in snd])
    p_true = 0.67
    z = stats.norm.ppf(1 - p_true)
    gap_sd = -0.5 * stats.norm.pdf(z) / (p_true * (1 - p_true))
    gap = (erp[retro].mean() - erp[~retro].mean()) / 50.0
    assert gap == pytest.approx(gap_sd, abs=0.08)
    assert retro.mean() == pytest.approx(p_true, abs=0.03)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 40))
def test_every_patient_is_valid_and_within_its_bounds(seed: int, n: int) -> None:
    patients = sample_patients(_two_indications(), n, seed)
    assert [p.patient_id for p in patients] == list(range(n))
    for p in patients:
        cond = p.condition()
        assert 120.0 <= cond.av_delay_ms <= 480.0
        assert 25.0 <= p.parameters["escape_rate_bpm"] <= 50.0 or p.indication == "snd"
        assert 0 <= p.seed < 2**31


def test_bad_requests() -> None:
    with pytest.raises(PopulationError, match="n = 0"):
        sample_patients(_two_indications(), 0, 1)
    with pytest.raises(PopulationError, match="seed = -1"):
        sample_patients(_two_indications(), 3, -1)
