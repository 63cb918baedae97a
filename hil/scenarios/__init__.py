"""Scenarios: declarative bench runs (TOML files) and the built-in library."""

from hil.scenarios.loader import (
    LIBRARY_DIR,
    library_names,
    load_scenario,
    parse_scenario,
    resolve,
)
from hil.scenarios.model import HAZARDS, Expectations, Scenario, TimelineEntry
from hil.scenarios.toml_reader import ScenarioError

__all__ = [
    "HAZARDS",
    "LIBRARY_DIR",
    "Expectations",
    "Scenario",
    "ScenarioError",
    "TimelineEntry",
    "library_names",
    "load_scenario",
    "parse_scenario",
    "resolve",
]
