"""Distributions against closed-form quantiles and moments (scipy-free expectations)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.population import Bernoulli, Choice, Constant, LogNormal, Normal, Uniform

GRID = (np.arange(200_000) + 0.5) / 200_000  # a fine uniform grid: sample moments ~ exact


def _phi(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_truncated_normal_mean_is_the_closed_form() -> None:
    # mean of N(mu, sd) truncated to [a, b]:
    #   mu + sd (phi(alpha) - phi(beta)) / (Phi(beta) - Phi(alpha))
    mu, sd, lo, hi = 258.0, 65.0, 150.0, 450.0
    alpha, beta = (lo - mu) / sd, (hi - mu) / sd
    expected = mu + sd * (_phi(alpha) - _phi(beta)) / (_cdf(beta) - _cdf(alpha))
    x = Normal(mu, sd, lo, hi).quantile(GRID)
    assert x.min() >= lo and x.max() <= hi
    assert x.mean() == pytest.approx(expected, abs=0.05)


def test_untruncated_normal_quartiles() -> None:
    q = Normal(200.0, 30.0, -1e9, 1e9).quantile(np.array([0.25, 0.5, 0.75]))
    # the quartiles of a normal lie 0.6745 sd from the mean
    assert q == pytest.approx([200 - 0.67449 * 30, 200.0, 200 + 0.67449 * 30], abs=1e-3)


def test_lognormal_median_and_geometric_sd() -> None:
    d = LogNormal(0.3, 4.0, 0.0, 1e12)
    q = d.quantile(np.array([_cdf(-1.0), 0.5, _cdf(1.0)]))
    # one geometric sd either side of the median
    assert q == pytest.approx([0.3 / 4.0, 0.3, 0.3 * 4.0], rel=1e-6)


def test_uniform_is_linear() -> None:
    assert Uniform(80.0, 130.0).quantile(np.array([0.0, 0.5, 1.0])) == pytest.approx(
        [80.0, 105.0, 130.0])


@given(st.floats(0.0, 1.0))
def test_bernoulli_share_is_p(p: float) -> None:
    share = Bernoulli(p).quantile(GRID).mean()
    assert share == pytest.approx(p, abs=1.0 / GRID.size + 1e-12)


def test_choice_shares_follow_normalised_weights_in_order() -> None:
    d = Choice(("a", "b", "c"), (1.0, 2.0, 1.0))
    x = d.quantile(GRID)
    assert [np.mean(x == v) for v in "abc"] == pytest.approx([0.25, 0.5, 0.25], abs=1e-5)
    # a larger uniform gives a later outcome (the direction a correlation refers to)
    assert list(d.quantile(np.array([0.1, 0.5, 0.9]))) == ["a", "b", "c"]


def test_constant() -> None:
    assert list(Constant(True).quantile(np.array([0.1, 0.9]))) == [True, True]
