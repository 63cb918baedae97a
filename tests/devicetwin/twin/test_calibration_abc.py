"""ABC-SMC held to models whose posterior is known in closed form."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from devicetwin.twin.calibration_abc import (
    AbcSettings,
    BernoulliPrior,
    UniformPrior,
    abc_smc,
)
from devicetwin.twin.errors import TwinError

SIGMA = 2.0
N_DRAWS = 25


def _normal_mean(x: npt.NDArray[np.float64], b: npt.NDArray[np.bool_],
                 seeds: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Summary: the mean of 25 draws from N(theta, 2^2), i.e. N(theta, 0.4^2)."""
    out = np.empty((len(x), 1))
    for i, (theta, seed) in enumerate(zip(x[:, 0], seeds, strict=True)):
        out[i, 0] = np.random.default_rng(int(seed)).normal(theta, SIGMA, N_DRAWS).mean()
    return out


def test_normal_mean_posterior_matches_the_conjugate_result() -> None:
    # flat prior on [-20, 20] and data mean 3.1: the posterior is N(3.1, (2/5)^2) (truncation
    # negligible), so its mean is 3.1 and its 5-95 % interval 3.1 -+ 1.645 * 0.4.
    observed = [3.1]
    post = abc_smc(observed, _normal_mean, [UniformPrior("theta", -20.0, 20.0)],
                   settings=AbcSettings(population=300, first_batch=1500, batch=1200,
                                        generations=4), seed=1)
    sd = SIGMA / math.sqrt(N_DRAWS)
    assert post.mean("theta") == pytest.approx(3.1, abs=0.12)
    lo, hi = post.quantiles("theta", [0.05, 0.95])
    z = stats.norm.ppf(0.95)
    assert lo == pytest.approx(3.1 - z * sd, abs=0.2)
    assert hi == pytest.approx(3.1 + z * sd, abs=0.2)
    assert len(post.tolerances) == 4
    assert post.weights.sum() == pytest.approx(1.0)


def _switch(x: npt.NDArray[np.float64], b: npt.NDArray[np.bool_],
            seeds: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Summary: 5 + noise when the switch is off, theta + noise when on (noise sd 0.3)."""
    out = np.empty((len(x), 1))
    for i in range(len(x)):
        noise = np.random.default_rng(int(seeds[i])).normal(0.0, 0.3)
        out[i, 0] = (x[i, 0] if b[i, 0] else 5.0) + noise
    return out


def test_binary_parameter_is_selected_and_its_dependent_estimated() -> None:
    # data 12: the off model (5 +- 0.3) is 23 sd away, so P(on) must be ~1 and theta ~12.
    post = abc_smc([12.0], _switch, [UniformPrior("theta", 0.0, 20.0, requires="on")],
                   [BernoulliPrior("on", 0.5)],
                   settings=AbcSettings(population=200, first_batch=800, batch=600,
                                        generations=3), seed=2)
    assert post.probability("on") > 0.97
    assert post.mean("theta") == pytest.approx(12.0, abs=0.25)
    # and data 5 selects the off model
    post = abc_smc([5.0], _switch, [UniformPrior("theta", 0.0, 20.0, requires="on")],
                   [BernoulliPrior("on", 0.5)],
                   settings=AbcSettings(population=200, first_batch=800, batch=600,
                                        generations=3), seed=3)
    assert post.probability("on") < 0.5


def test_same_seed_same_posterior() -> None:
    cfg = AbcSettings(population=50, first_batch=200, batch=100, generations=2)
    prior = [UniformPrior("theta", -5.0, 5.0)]
    a = abc_smc([1.0], _normal_mean, prior, settings=cfg, seed=7)
    b = abc_smc([1.0], _normal_mean, prior, settings=cfg, seed=7)
    np.testing.assert_array_equal(a.continuous, b.continuous)


def test_bad_settings_and_priors_name_the_value() -> None:
    with pytest.raises(TwinError, match="population 500 exceeds"):
        AbcSettings(population=500, first_batch=100)
    with pytest.raises(TwinError, match=r"\[3.0, 1.0\]"):
        UniformPrior("x", 3.0, 1.0)
    with pytest.raises(TwinError, match="finite"):
        abc_smc([math.nan], _normal_mean, [UniformPrior("theta", 0.0, 1.0)])
