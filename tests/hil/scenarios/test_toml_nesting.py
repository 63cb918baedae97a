"""Deeply nested TOML is refused before tomllib recurses, with the same message at any stack
depth; the nesting count agrees with the depth of what tomllib builds."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hil.scenarios import parse_scenario
from hil.scenarios.toml_reader import MAX_NESTING, ScenarioError, nesting_depth


def _depth(value: Any) -> int:
    """Nesting of arrays and tables in a parsed value (the top-level table is not counted)."""
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _toml(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"k{i} = {_toml(v)}" for i, v in enumerate(value.values())) + "}"
    return value  # a string literal, quotes included


LEAF = st.sampled_from(['1', '"a [ b"', "'x { y'", '"q \\" ["'])
VALUES = st.recursive(LEAF, lambda inner: st.lists(inner, min_size=1, max_size=3)
                      | st.dictionaries(st.text("ab", min_size=1, max_size=2), inner,
                                        min_size=1, max_size=3), max_leaves=20)


@given(VALUES)
def test_the_count_is_the_depth_tomllib_builds(value: Any) -> None:
    text = f"v = {_toml(value)}  # a comment with [[[ brackets\n"
    assert nesting_depth(text) == _depth(tomllib.loads(text)["v"])


@pytest.mark.parametrize("n", [MAX_NESTING + 1, 400, 5000])
def test_deep_nesting_is_a_configuration_error_naming_the_limit(n: int) -> None:
    text = 'name = "x"\nv = ' + "[" * n + "]" * n + "\n"
    with pytest.raises(ScenarioError, match=f"more than {MAX_NESTING} deep") as info:
        parse_scenario(text, "deep.toml")
    assert info.value.file == "deep.toml"


def test_nesting_at_the_limit_still_parses_as_toml() -> None:
    text = "v = " + "[" * MAX_NESTING + "]" * MAX_NESTING + "\n"
    assert nesting_depth(text) == MAX_NESTING
    assert _depth(tomllib.loads(text)["v"]) == MAX_NESTING
