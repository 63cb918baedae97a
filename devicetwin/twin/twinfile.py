"""The twin file: a calibrated patient that any scenario can use (``[patient] twin = "..."``).

A twin file (JSON, ``*.twin.json``) holds:

- ``condition``: every parameter of a :class:`devicetwin.heart.Condition`, the twin's point
  estimate; a scenario that names the twin runs this heart;
- ``posterior`` (optional): samples of the calibrated parameters (one row per sample, one
  column per name; booleans such as ``retrograde`` as 0/1), and the method that drew them;
- ``observed``: the behaviour measured in the recording (:mod:`devicetwin.twin.observed`) and
  ``predicted``: the same measures predicted by the twin (posterior predictive);
- ``analysis`` (optional): what the recording alone tells (e.g. a beat-label analysis);
- ``programming``: the device's programming during the recording when known, and
  ``recommendation`` (optional): a recommended programming with predicted outcomes;
- ``battery`` and ``lead_impedance_ohm`` for the longevity shown in the report;
- ``provenance``: source hashes, device pseudonym, de-identification steps.

Free text never enters: the condition's name is the twin's id and its description is fixed.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.errors import DeviceTwinError
from devicetwin.heart import PRESETS, Condition
from devicetwin.longevity import Battery
from devicetwin.twin.errors import TwinError, check_file_format
from devicetwin.twin.provenance import Provenance

TWIN_FORMAT = "devicetwin-twin"
TWIN_VERSION = 1
#: The preset a twin's condition is expressed against when a scenario runs it.
TWIN_BASE_PRESET = "normal_sinus"
_DESCRIPTION = "patient twin"
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_CONDITION_FIELDS = tuple(f.name for f in dataclasses.fields(Condition))
_BOOL_FIELDS = tuple(f.name for f in dataclasses.fields(Condition) if f.type in ("bool", bool))


@dataclass(frozen=True)
class Posterior:
    """Posterior samples of condition parameters: ``samples[i, j]`` is sample i of ``names[j]``.

    ``method`` says how they were drawn (library and algorithm), for the report.
    """

    names: tuple[str, ...]
    samples: npt.NDArray[np.float64]
    method: str

    def __post_init__(self) -> None:
        for name in self.names:
            if name not in _CONDITION_FIELDS:
                raise TwinError(f"posterior parameter {name!r} is not a condition field",
                                name="posterior", value=name,
                                expected=f"one of {_CONDITION_FIELDS}")
        arr = np.asarray(self.samples, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(self.names) or arr.shape[0] < 1:
            raise TwinError(f"posterior samples of shape {arr.shape} do not fit "
                            f"{len(self.names)} names", name="posterior", value=arr.shape,
                            expected=f"(n >= 1, {len(self.names)})")
        if not np.all(np.isfinite(arr)):
            raise TwinError("posterior samples hold a non-finite value", name="posterior",
                            value="nan/inf", expected="finite numbers")
        object.__setattr__(self, "samples", arr)

    def quantiles(self, q: Sequence[float]) -> dict[str, list[float]]:
        """Each parameter's quantiles ``q`` (fractions)."""
        return {n: [float(v) for v in np.quantile(self.samples[:, j], q)]
                for j, n in enumerate(self.names)}

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"names": list(self.names), "samples": self.samples.tolist(),
                "method": self.method}


@dataclass(frozen=True)
class Recommendation:
    """A recommended programming against the current one, with the twin's predictions.

    ``current`` and ``recommended`` are ``{"mode": ..., "parameters": {...}}`` in plain units;
    ``predicted_current`` / ``predicted_recommended`` map outcome names to predicted values;
    ``front`` lists the trade-off front's points (objective name -> value); ``evidence`` holds
    the closed-loop runs that prove the recommendation.
    """

    current: Mapping[str, Any]
    recommended: Mapping[str, Any]
    predicted_current: Mapping[str, float | None]
    predicted_recommended: Mapping[str, float | None]
    method: str
    front: tuple[Mapping[str, float], ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"current": dict(self.current), "recommended": dict(self.recommended),
                "predicted_current": dict(self.predicted_current),
                "predicted_recommended": dict(self.predicted_recommended),
                "method": self.method, "front": [dict(p) for p in self.front],
                "evidence": dict(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recommendation:
        """The inverse of :meth:`to_dict`."""
        return cls(dict(data["current"]), dict(data["recommended"]),
                   dict(data["predicted_current"]), dict(data["predicted_recommended"]),
                   str(data["method"]), tuple(dict(p) for p in data.get("front", ())),
                   dict(data.get("evidence", {})))


@dataclass(frozen=True)
class Twin:
    """A patient's twin (see the module docstring for the file's content)."""

    twin_id: str
    condition: Condition
    provenance: Provenance
    observed: Mapping[str, float | None] = field(default_factory=dict)
    predicted: Mapping[str, float | None] = field(default_factory=dict)
    posterior: Posterior | None = None
    programming: Mapping[str, Any] | None = None
    analysis: Mapping[str, Any] | None = None
    recommendation: Recommendation | None = None
    battery: Battery = field(default_factory=Battery)
    lead_impedance_ohm: float = 500.0

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.twin_id):
            raise TwinError(f"twin id {self.twin_id!r} is not 1-64 ASCII letters, digits and "
                            "dashes", name="twin_id", value=self.twin_id,
                            expected="1-64 ASCII letters, digits and dashes")
        object.__setattr__(self, "condition", self.condition.with_changes(
            name=self.twin_id, description=_DESCRIPTION))

    def sample_conditions(self, n: int, seed: int = 0) -> list[Condition]:
        """``n`` conditions drawn from the posterior samples (with replacement); the point
        estimate ``n`` times when there is no posterior."""
        if self.posterior is None:
            return [self.condition] * n
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, len(self.posterior.samples), size=n)
        out = []
        for i in rows:
            changes: dict[str, Any] = {}
            for j, name in enumerate(self.posterior.names):
                v = float(self.posterior.samples[i, j])
                changes[name] = v >= 0.5 if name in _BOOL_FIELDS else v
            out.append(self.condition.with_changes(**changes))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return {
            "format": TWIN_FORMAT, "version": TWIN_VERSION, "twin_id": self.twin_id,
            "condition": self.condition.to_dict(),
            "posterior": None if self.posterior is None else self.posterior.to_dict(),
            "observed": dict(self.observed), "predicted": dict(self.predicted),
            "analysis": None if self.analysis is None else dict(self.analysis),
            "programming": None if self.programming is None else dict(self.programming),
            "recommendation": (None if self.recommendation is None
                               else self.recommendation.to_dict()),
            "battery": dataclasses.asdict(self.battery),
            "lead_impedance_ohm": self.lead_impedance_ohm,
            "provenance": self.provenance.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<twin>") -> Twin:
        """The inverse of :meth:`to_dict`, validated; errors name ``source``."""
        check_file_format(data, TWIN_FORMAT, TWIN_VERSION, "twin", source)
        try:
            cond = data["condition"]
            if not isinstance(cond, Mapping):
                raise TypeError("condition is not a table")
            condition = Condition().with_changes(**dict(cond))
            post = data.get("posterior")
            posterior = None if post is None else Posterior(
                tuple(post["names"]), np.asarray(post["samples"], dtype=np.float64),
                str(post["method"]))
            rec = data.get("recommendation")
            battery = data.get("battery") or {}
            return cls(
                twin_id=str(data["twin_id"]), condition=condition,
                provenance=Provenance.from_dict(data["provenance"]),
                observed=dict(data.get("observed") or {}),
                predicted=dict(data.get("predicted") or {}),
                posterior=posterior, programming=data.get("programming"),
                analysis=data.get("analysis"),
                recommendation=None if rec is None else Recommendation.from_dict(rec),
                battery=Battery(**{**battery, "multipliers": tuple(battery.get(
                    "multipliers", Battery().multipliers))}),
                lead_impedance_ohm=float(data.get("lead_impedance_ohm", 500.0)),
            )
        except DeviceTwinError as err:
            raise TwinError(f"{source}: {err}", name=err.name, value=err.value,
                            expected=err.expected) from None
        except (KeyError, TypeError, ValueError) as err:
            raise TwinError(f"{source}: malformed twin file ({type(err).__name__}: {err})",
                            name="twin", value=source,
                            expected="a file written by devicetwin's twin commands") from None


def save_twin(twin: Twin, path: str | Path) -> Path:
    """Write ``twin`` as JSON at ``path`` (atomically); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(twin.to_dict(), indent=1, allow_nan=False) + "\n",
                   encoding="utf-8")
    tmp.replace(p)
    return p


def load_twin(path: str | Path) -> Twin:
    """Read a twin file; :class:`TwinError` names the file and what is wrong."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise TwinError(f"cannot read twin file {str(p)!r}: {err.strerror}", name="twin",
                        value=str(p), expected="a readable twin file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TwinError(f"{p}: not a JSON twin file ({err})", name="twin", value=str(p),
                        expected="a JSON file written by devicetwin") from None
    if not isinstance(data, dict):
        raise TwinError(f"{p}: a twin file holds a JSON object", name="twin", value=str(p),
                        expected="a JSON object")
    return Twin.from_dict(data, str(p))


def condition_changes(condition: Condition,
                      base: str = TWIN_BASE_PRESET) -> dict[str, Any]:
    """The fields of ``condition`` that differ from the preset ``base`` (what a scenario sets
    as overrides to run it)."""
    ref = PRESETS[base]
    out: dict[str, Any] = {}
    for name in _CONDITION_FIELDS:
        value = getattr(condition, name)
        if value != getattr(ref, name):
            out[name] = value
    return out
