"""A virtual population: indications, each a base condition plus parameter distributions.

A population is plain validated data. Each :class:`Indication` names a condition preset
(:data:`devicetwin.heart.conditions.PRESETS`) as its base and the :class:`Parameter`
distributions that vary around it, each with its published source; :class:`Correlation` ties two
parameters of one indication through a Gaussian copula, where physiology ties them. Validation
happens here, once: every parameter is a scalar field of :class:`Condition`, every distribution's
support lies inside that field's allowed range, and every indication's correlation matrix is
positive definite.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.errors import did_you_mean
from devicetwin.heart.conditions import PRESETS, Condition
from devicetwin.population.distributions import Distribution, is_numeric
from devicetwin.population.errors import PopulationError

_FIELDS = {f.name: f for f in dataclasses.fields(Condition)}
#: Condition fields a population may vary: scalar numbers, switches and named choices.
SCALAR_FIELDS: tuple[str, ...] = tuple(
    n for n, f in _FIELDS.items()
    if "range" in f.metadata or "choices" in f.metadata or f.type in ("bool", bool))


@dataclass(frozen=True)
class Parameter:
    """One condition field's distribution in an indication, and where its numbers come from."""

    name: str
    distribution: Distribution
    source: str


@dataclass(frozen=True)
class Correlation:
    """Correlation ``rho`` (-1..1) between two parameters' normal scores (Gaussian copula)."""

    first: str
    second: str
    rho: float
    source: str


@dataclass(frozen=True)
class Indication:
    """A pacing indication: a base condition preset, its share of the population, and the
    distributions of the parameters that vary (the others keep the preset's values)."""

    name: str
    base: str
    weight: float
    parameters: tuple[Parameter, ...]
    correlations: tuple[Correlation, ...] = ()
    description: str = ""
    source: str = ""

    def parameter_names(self) -> tuple[str, ...]:
        """The varied parameters, in file order."""
        return tuple(p.name for p in self.parameters)

    def correlation_matrix(self) -> npt.NDArray[np.float64]:
        """The copula's correlation matrix over :meth:`parameter_names`."""
        names = self.parameter_names()
        matrix = np.eye(len(names))
        for c in self.correlations:
            i, j = names.index(c.first), names.index(c.second)
            matrix[i, j] = matrix[j, i] = c.rho
        return np.asarray(matrix, dtype=np.float64)


@dataclass(frozen=True)
class Population:
    """Indications with their weights; ``source`` names the file it came from (for messages)."""

    name: str
    indications: tuple[Indication, ...]
    description: str = ""
    source: str = "<population>"
    references: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.indications:
            raise PopulationError(f"{self.source}: a population needs at least one indication",
                                  name="indications", value=(), expected="one or more")
        seen: set[str] = set()
        for ind in self.indications:
            if ind.name in seen:
                raise PopulationError(f"{self.source}: indication {ind.name!r} appears twice",
                                      name="indication", value=ind.name,
                                      expected="unique indication names")
            seen.add(ind.name)
            _check_indication(ind, self.source)

    def indication(self, name: str) -> Indication:
        """The indication called ``name``."""
        for ind in self.indications:
            if ind.name == name:
                return ind
        names = [i.name for i in self.indications]
        raise PopulationError(f"{self.source}: no indication {name!r}{did_you_mean(name, names)}",
                              name="indication", value=name, expected=f"one of {names}")

    def parameter_names(self) -> tuple[str, ...]:
        """Every parameter varied in any indication, in first-seen order."""
        out: dict[str, None] = {}
        for ind in self.indications:
            out.update(dict.fromkeys(ind.parameter_names()))
        return tuple(out)

    def weights(self) -> npt.NDArray[np.float64]:
        """Indication shares, normalised to sum to 1."""
        w = np.asarray([i.weight for i in self.indications], dtype=np.float64)
        return np.asarray(w / w.sum(), dtype=np.float64)


def _fail(where: str, message: str, name: str, value: Any, expected: str) -> PopulationError:
    return PopulationError(f"{where}: {message}", name=name, value=value, expected=expected)


def _check_indication(ind: Indication, source: str) -> None:
    where = f"{source}: indication {ind.name!r}"
    if ind.base not in PRESETS:
        raise _fail(where, f"base {ind.base!r} is not a condition preset"
                    f"{did_you_mean(ind.base, PRESETS)}", "base", ind.base,
                    f"one of {sorted(PRESETS)}")
    if not (ind.weight > 0):
        raise _fail(where, f"weight {ind.weight!r} must be positive", "weight", ind.weight, "> 0")
    names: set[str] = set()
    for p in ind.parameters:
        if p.name in names:
            raise _fail(where, f"parameter {p.name!r} appears twice", p.name, p.name,
                        "each parameter once")
        names.add(p.name)
        _check_parameter(p, f"{where} parameter {p.name!r}")
    pairs: set[frozenset[str]] = set()
    for c in ind.correlations:
        for n in (c.first, c.second):
            if n not in names:
                raise _fail(where, f"correlation names {n!r}, which the indication does not "
                            f"vary{did_you_mean(n, names)}", "correlation", n,
                            f"one of {sorted(names)}")
        pair = frozenset((c.first, c.second))
        if len(pair) != 2 or pair in pairs:
            raise _fail(where, f"correlation {c.first!r} ~ {c.second!r} repeats a pair or a "
                        "parameter", "correlation", (c.first, c.second),
                        "two different parameters, each pair once")
        pairs.add(pair)
        if not (-1.0 < c.rho < 1.0):
            raise _fail(where, f"correlation rho {c.rho!r} between {c.first!r} and "
                        f"{c.second!r} is outside (-1, 1)", "rho", c.rho, "-1 < rho < 1")
    if ind.correlations:
        eig = np.linalg.eigvalsh(ind.correlation_matrix())
        if eig.min() <= 1e-9:
            raise _fail(where, "its correlations do not form a valid (positive definite) "
                        f"correlation matrix (smallest eigenvalue {eig.min():.3g})",
                        "correlations", [(c.first, c.second, c.rho) for c in ind.correlations],
                        "correlations that can hold together")


def _check_parameter(p: Parameter, where: str) -> None:
    if p.name not in SCALAR_FIELDS:
        raise _fail(where, f"{p.name!r} is not a condition parameter a population can vary"
                    f"{did_you_mean(p.name, SCALAR_FIELDS)}", "parameter", p.name,
                    f"one of {list(SCALAR_FIELDS)}")
    meta = _FIELDS[p.name].metadata
    dist = p.distribution
    if "range" in meta:
        lo, hi = meta["range"]
        if not is_numeric(dist) and not all(isinstance(v, int | float) and not isinstance(v, bool)
                                            for v in dist.support()):
            raise _fail(where, f"{type(dist).__name__.lower()} gives non-numbers "
                        f"{dist.support()!r} for a numeric field", p.name, dist.support(),
                        f"numbers in [{lo}, {hi}] {meta['unit']}")
        low, high = min(dist.support()), max(dist.support())
        if low < lo or high > hi or low > high:
            raise _fail(where, f"values reach [{low}, {high}], outside the allowed "
                        f"[{lo}, {hi}] {meta['unit']}", p.name, (low, high),
                        f"within [{lo}, {hi}] {meta['unit']}")
    elif "choices" in meta:
        bad_values = [v for v in dist.support() if v not in meta["choices"]]
        if bad_values or is_numeric(dist):
            raise _fail(where, f"values {dist.support()!r} are not among the field's choices",
                        p.name, dist.support(), f"values from {meta['choices']}")
    elif not all(isinstance(v, bool) for v in dist.support()) or is_numeric(dist):
        raise _fail(where, f"values {dist.support()!r} are not true/false", p.name,
                    dist.support(), "a bernoulli distribution or a true/false constant")
    _check_shape(dist, where, p.name)


_SHAPE_RULES: tuple[tuple[str, float, float, str], ...] = (
    ("sd", 0.0, np.inf, "> 0"), ("gsd", 1.0, np.inf, "> 1"), ("median", 0.0, np.inf, "> 0"))


def _check_shape(dist: Distribution, where: str, name: str) -> None:
    for attr, above, below, expected in _SHAPE_RULES:
        value = getattr(dist, attr, None)
        if value is not None and not (above < value < below):
            raise _fail(where, f"{attr} {value!r} must be {expected}", name, value, expected)
    p = getattr(dist, "p", None)
    if p is not None and not (0.0 <= p <= 1.0):
        raise _fail(where, f"p {p!r} must be in [0, 1]", name, p, "in [0, 1]")
    weights = getattr(dist, "weights", None)
    if weights is not None:
        values = getattr(dist, "values", ())
        if len(weights) != len(values) or not values or any(w < 0 for w in weights) \
                or sum(weights) <= 0:
            raise _fail(where, f"weights {list(weights)!r} do not fit values {list(values)!r}",
                        name, weights, "one non-negative weight per value, not all zero")
