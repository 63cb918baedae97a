"""Parameter distributions of a virtual population, each a quantile function (inverse CDF).

Every distribution maps uniform numbers ``u`` in (0, 1) to values through its quantile function,
so one mechanism serves independent and correlated sampling: a Gaussian copula
(:mod:`devicetwin.population.sampling`) draws correlated normals, turns them into uniforms and
hands each parameter its column. A continuous distribution is truncated to ``[low, high]`` by
mapping ``u`` into ``[F(low), F(high)]`` before the quantile function, which keeps the shape
inside the bounds (no pile-up at a clipped edge). Discrete ones order their outcomes so that a
larger ``u`` gives the later outcome (``True`` for a Bernoulli), the direction a positive
correlation refers to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]


class Distribution(Protocol):
    """What the sampler needs of a distribution."""

    def quantile(self, u: FloatArray) -> npt.NDArray[Any]:
        """Values at the uniform quantiles ``u`` (each in (0, 1))."""
        ...

    def support(self) -> tuple[Any, ...]:
        """(low, high) of a numeric distribution, or the outcomes of a discrete one."""
        ...


def _truncated(frozen: Any, low: float, high: float, u: FloatArray) -> FloatArray:
    lo_p, hi_p = frozen.cdf(low), frozen.cdf(high)
    x = frozen.ppf(lo_p + u * (hi_p - lo_p))
    return np.clip(np.asarray(x, dtype=np.float64), low, high)


@dataclass(frozen=True)
class Normal:
    """Normal(mean, sd) truncated to [low, high] (units of the parameter)."""

    mean: float
    sd: float
    low: float
    high: float

    def quantile(self, u: FloatArray) -> FloatArray:
        return _truncated(stats.norm(self.mean, self.sd), self.low, self.high, u)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class LogNormal:
    """Log-normal with a median and a geometric standard deviation (> 1), truncated."""

    median: float
    gsd: float
    low: float
    high: float

    def quantile(self, u: FloatArray) -> FloatArray:
        frozen = stats.lognorm(s=math.log(self.gsd), scale=self.median)
        return _truncated(frozen, self.low, self.high, u)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high]."""

    low: float
    high: float

    def quantile(self, u: FloatArray) -> FloatArray:
        return self.low + np.asarray(u, dtype=np.float64) * (self.high - self.low)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class Bernoulli:
    """True with probability ``p`` (True for the largest ``u``: 1 - p <= u)."""

    p: float

    def quantile(self, u: FloatArray) -> npt.NDArray[np.bool_]:
        return np.asarray(u, dtype=np.float64) >= 1.0 - self.p

    def support(self) -> tuple[bool, bool]:
        return (False, True)


@dataclass(frozen=True)
class Choice:
    """One of ``values`` with the given ``weights`` (normalised), in the order listed."""

    values: tuple[Any, ...]
    weights: tuple[float, ...]

    def quantile(self, u: FloatArray) -> npt.NDArray[Any]:
        edges = np.cumsum(np.asarray(self.weights, dtype=np.float64))
        edges /= edges[-1]
        index = np.searchsorted(edges, np.asarray(u, dtype=np.float64), side="right")
        index = np.minimum(index, len(self.values) - 1)
        return np.asarray(self.values, dtype=object)[index]

    def support(self) -> tuple[Any, ...]:
        return self.values


@dataclass(frozen=True)
class Constant:
    """Always ``value`` (a fixed parameter, stated with its source like the others)."""

    value: Any

    def quantile(self, u: FloatArray) -> npt.NDArray[Any]:
        return np.full(np.shape(u), self.value, dtype=object)

    def support(self) -> tuple[Any, ...]:
        return (self.value,)


#: The ``dist`` names a population file may use, and the keys each takes besides ``source``.
DISTRIBUTION_KEYS: dict[str, tuple[str, ...]] = {
    "normal": ("mean", "sd", "low", "high"),
    "lognormal": ("median", "gsd", "low", "high"),
    "uniform": ("low", "high"),
    "bernoulli": ("p",),
    "choice": ("values", "weights"),
    "constant": ("value",),
}


def is_numeric(dist: Distribution) -> bool:
    """True for the continuous distributions (their support is an interval)."""
    return isinstance(dist, Normal | LogNormal | Uniform)

