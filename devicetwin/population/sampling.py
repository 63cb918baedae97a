"""Sampling virtual patients from a population, reproducibly by seed.

Patient ``i`` of seed ``s`` is drawn from its own generator, ``numpy.random.default_rng([s, i])``,
so it is the same patient whatever ``n`` is (a cohort of 1,000 extends one of 100). Its first
uniform picks the indication by weight; then a vector of independent standard normals, multiplied
by the Cholesky factor of the indication's correlation matrix (a Gaussian copula), becomes one
uniform per parameter through the normal CDF, and each parameter's quantile function turns its
uniform into a value. Every patient also gets a simulation seed of its own, which every arm of a
trial uses (paired arms see the same heart).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from devicetwin.heart.conditions import Condition, get_condition
from devicetwin.population.errors import PopulationError
from devicetwin.population.model import Population

#: The columns every patient row has before its parameters.
ID_COLUMNS: tuple[str, ...] = ("patient_id", "indication", "base", "seed")
_SEED_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class Patient:
    """One virtual patient: an id, an indication, a simulation seed and the varied parameters
    (every parameter the population varies; those its indication does not vary hold the base
    preset's value)."""

    patient_id: int
    indication: str
    base: str
    seed: int
    parameters: Mapping[str, Any]

    def condition(self) -> Condition:
        """The patient's condition: the base preset with the parameters applied (validated)."""
        return get_condition(self.base).with_changes(
            name=f"patient_{self.patient_id}", **dict(self.parameters))

    def row(self) -> dict[str, Any]:
        """A flat row: :data:`ID_COLUMNS` then the parameters."""
        return {"patient_id": self.patient_id, "indication": self.indication,
                "base": self.base, "seed": self.seed, **dict(self.parameters)}


def patient_from_row(row: Mapping[str, Any], parameter_names: Sequence[str]) -> Patient:
    """The patient a :meth:`Patient.row` (or a table row read back) describes."""
    params = {k: _plain(row[k]) for k in parameter_names}
    return Patient(int(str(row["patient_id"])), str(row["indication"]), str(row["base"]),
                   int(str(row["seed"])), params)


def _plain(value: Any) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def sample_patients(population: Population, n: int, seed: int) -> list[Patient]:
    """``n`` patients of ``population`` drawn with ``seed`` (see the module docstring)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise PopulationError(f"number of patients n = {n!r} must be a positive integer",
                              name="n", value=n, expected="an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise PopulationError(f"seed = {seed!r} must be a non-negative integer", name="seed",
                              value=seed, expected="an integer >= 0")
    weights = np.cumsum(population.weights())
    names = population.parameter_names()
    inds = population.indications
    widths = [len(ind.parameters) for ind in inds]
    choice = np.empty(n, dtype=np.int64)
    sim_seed = np.empty(n, dtype=np.int64)
    normals = [np.empty((0, w)) for w in widths]
    rows_of: list[list[int]] = [[] for _ in inds]
    draws: list[list[np.ndarray]] = [[] for _ in inds]
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        k = min(int(np.searchsorted(weights, rng.random(), side="right")), len(inds) - 1)
        choice[i] = k
        sim_seed[i] = int(rng.integers(0, _SEED_LIMIT))
        rows_of[k].append(i)
        draws[k].append(rng.standard_normal(widths[k]))
    values: dict[int, dict[str, Any]] = {i: {} for i in range(n)}
    for k, ind in enumerate(inds):
        if not rows_of[k]:
            continue
        normals[k] = np.asarray(draws[k]).reshape(len(rows_of[k]), widths[k])
        if ind.correlations:
            normals[k] = normals[k] @ np.linalg.cholesky(ind.correlation_matrix()).T
        uniforms = np.clip(special.ndtr(normals[k]), 1e-12, 1 - 1e-12)
        base = get_condition(ind.base)
        for j, p in enumerate(ind.parameters):
            column = p.distribution.quantile(uniforms[:, j])
            for row, v in zip(rows_of[k], column, strict=True):
                values[row][p.name] = _plain(v)
        for row in rows_of[k]:
            for name in names:
                values[row].setdefault(name, getattr(base, name))
    return [Patient(i, inds[choice[i]].name, inds[choice[i]].base, int(sim_seed[i]),
                    {name: values[i][name] for name in names}) for i in range(n)]
