"""Reading a population file (TOML) into a :class:`Population`.

The file::

    name = "snd_intact_av"
    description = "..."
    references = ["Sweeney MO et al. N Engl J Med 2007;357:1000-8", ...]

    [[indications]]
    name = "sinus_node_dysfunction"
    base = "sick_sinus"                 # a condition preset; unlisted fields keep its values
    weight = 1.0                        # share of the population (normalised over indications)
    source = "why these patients"

    [indications.parameters]
    sinus_rate_bpm = { dist = "normal", mean = 50, sd = 7, low = 35, high = 70, source = "..." }
    retrograde = { dist = "bernoulli", p = 0.67, source = "..." }

    [[indications.correlations]]
    between = ["av_erp_ms", "retrograde"]
    rho = -0.5
    source = "..."

Distributions: ``normal`` (mean, sd), ``lognormal`` (median, gsd), ``uniform`` (low, high),
``bernoulli`` (p), ``choice`` (values, weights), ``constant`` (value). Continuous ones are
truncated to ``low``/``high``, by default the condition field's allowed range. Every parameter and
correlation must carry a ``source``. Errors name the file, the indication and the field.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devicetwin.errors import did_you_mean
from devicetwin.heart.conditions import Condition
from devicetwin.population.distributions import (
    DISTRIBUTION_KEYS,
    Bernoulli,
    Choice,
    Constant,
    Distribution,
    LogNormal,
    Normal,
    Uniform,
)
from devicetwin.population.errors import PopulationError
from devicetwin.population.model import Correlation, Indication, Parameter, Population

_TOP = ("name", "description", "references", "indications")
_INDICATION = ("name", "base", "weight", "description", "source", "parameters", "correlations")
_CORRELATION = ("between", "rho", "source")
_RANGES = {f.name: f.metadata["range"] for f in dataclasses.fields(Condition)
           if "range" in f.metadata}


def load_population(path: str | Path) -> Population:
    """The population in the TOML file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise PopulationError(f"cannot read population file {str(p)!r}: {err.strerror}",
                              name="path", value=str(p), expected="a readable .toml file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PopulationError(f"{p}: not valid TOML: {err}", name="path", value=str(p),
                              expected="a TOML document") from None
    return population_from_mapping(data, source=str(p))


def population_from_mapping(data: Mapping[str, Any], source: str = "<population>") -> Population:
    """A population from plain data shaped like the file (see the module docstring)."""
    _keys(data, _TOP, source)
    indications = data.get("indications")
    if not isinstance(indications, list) or not indications:
        raise PopulationError(f"{source}: needs at least one [[indications]] table",
                              name="indications", value=indications,
                              expected="an array of tables")
    refs = data.get("references", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise PopulationError(f"{source}: references must be a list of strings",
                              name="references", value=refs, expected="a list of strings")
    return Population(
        name=_str(data, "name", source, Path(source).stem),
        description=_str(data, "description", source, ""),
        indications=tuple(_indication(ind, source, i) for i, ind in enumerate(indications)),
        source=source,
        references=tuple(refs),
    )


def _keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise PopulationError(f"{where}: unknown field {key!r}{did_you_mean(key, allowed)}",
                                  name=key, value=key, expected=f"one of {list(allowed)}")


def _str(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise PopulationError(f"{where}: field {key!r} = {value!r} must be a "
                              f"{'non-empty ' if default is None else ''}string",
                              name=key, value=value, expected="a string")
    return value


def _number(table: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PopulationError(f"{where}: field {key!r} = {value!r} must be a number",
                              name=key, value=value, expected="a number")
    return float(value)


def _indication(data: Any, source: str, index: int) -> Indication:
    if not isinstance(data, Mapping):
        raise PopulationError(f"{source}: indications[{index}] must be a table",
                              name="indications", value=data, expected="a table")
    where = f"{source}: indications[{index}]"
    name = _str(data, "name", where)
    where = f"{source}: indication {name!r}"
    _keys(data, _INDICATION, where)
    params = data.get("parameters", {})
    if not isinstance(params, Mapping):
        raise PopulationError(f"{where}: parameters must be a table", name="parameters",
                              value=params, expected="a table of distributions")
    corrs = data.get("correlations", [])
    if not isinstance(corrs, list):
        raise PopulationError(f"{where}: correlations must be an array of tables",
                              name="correlations", value=corrs, expected="[[...correlations]]")
    return Indication(
        name=name,
        base=_str(data, "base", where),
        weight=_number(data, "weight", where, 1.0),
        description=_str(data, "description", where, ""),
        source=_str(data, "source", where, ""),
        parameters=tuple(_parameter(k, v, where) for k, v in params.items()),
        correlations=tuple(_correlation(c, where) for c in corrs),
    )


def _parameter(name: str, spec: Any, where: str) -> Parameter:
    where = f"{where} parameter {name!r}"
    if not isinstance(spec, Mapping):
        raise PopulationError(f"{where}: must be a table like {{ dist = \"normal\", mean = ..., "
                              "sd = ..., source = \"...\" }", name=name, value=spec,
                              expected="a distribution table")
    kind = spec.get("dist")
    if kind not in DISTRIBUTION_KEYS:
        raise PopulationError(f"{where}: dist {kind!r} is not a distribution"
                              f"{did_you_mean(kind, DISTRIBUTION_KEYS)}", name="dist",
                              value=kind, expected=f"one of {list(DISTRIBUTION_KEYS)}")
    _keys(spec, ("dist", "source", *DISTRIBUTION_KEYS[kind]), where)
    source = spec.get("source")
    if not isinstance(source, str) or not source.strip():
        raise PopulationError(f"{where}: needs a source (where its numbers come from)",
                              name="source", value=source, expected="a citation string")
    return Parameter(name, _distribution(kind, spec, where, name), source)


def _distribution(kind: str, spec: Mapping[str, Any], where: str, name: str) -> Distribution:
    lo, hi = _RANGES.get(name, (float("-inf"), float("inf")))
    low = _number(spec, "low", where, lo) if kind != "uniform" else _number(spec, "low", where)
    high = _number(spec, "high", where, hi) if kind != "uniform" else _number(spec, "high", where)
    if kind == "normal":
        return Normal(_number(spec, "mean", where), _number(spec, "sd", where), low, high)
    if kind == "lognormal":
        return LogNormal(_number(spec, "median", where), _number(spec, "gsd", where), low, high)
    if kind == "uniform":
        return Uniform(low, high)
    if kind == "bernoulli":
        return Bernoulli(_number(spec, "p", where))
    if kind == "choice":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise PopulationError(f"{where}: choice needs a non-empty list of values",
                                  name="values", value=values, expected="a list")
        weights = spec.get("weights", [1.0] * len(values))
        if not isinstance(weights, list) or not all(
                isinstance(w, int | float) and not isinstance(w, bool) for w in weights):
            raise PopulationError(f"{where}: weights {weights!r} must be a list of numbers",
                                  name="weights", value=weights, expected="a list of numbers")
        return Choice(tuple(values), tuple(float(w) for w in weights))
    if "value" not in spec:
        raise PopulationError(f"{where}: constant needs a value", name="value", value=None,
                              expected="value = ...")
    return Constant(spec["value"])


def _correlation(data: Any, where: str) -> Correlation:
    if not isinstance(data, Mapping):
        raise PopulationError(f"{where}: a correlation must be a table", name="correlations",
                              value=data, expected="between = [a, b], rho = x, source = ...")
    _keys(data, _CORRELATION, f"{where} correlation")
    between = data.get("between")
    if not (isinstance(between, list) and len(between) == 2
            and all(isinstance(b, str) for b in between)):
        raise PopulationError(f"{where}: correlation between = {between!r} must name two "
                              "parameters", name="between", value=between,
                              expected="[\"param_a\", \"param_b\"]")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise PopulationError(f"{where}: correlation {between!r} needs a source",
                              name="source", value=source, expected="a citation string")
    return Correlation(between[0], between[1], _number(data, "rho", where), source)
