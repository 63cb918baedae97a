"""The validation tool's statistics (tools/validate_fastheart.py): the per-beat comparison of
conduction times and the closed-loop standard error, against closed-form expectations."""

from __future__ import annotations

import importlib.util
import math
import statistics
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

TOOL = Path(__file__).resolve().parents[3] / "tools" / "validate_fastheart.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("validate_fastheart", TOOL)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["validate_fastheart"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_bimodal_beats_one_beat_apart_compare_equal(tool: ModuleType) -> None:
    # a Wenckebach-like sample: 51 short PRs and 50 long ones against 50 and 51: the medians
    # are the two modes (270 / 360 ms, 90 ms apart), the beats differ in one beat of 101
    fast = [270.0] * 51 + [360.0] * 50
    cells = [270.0] * 50 + [360.0] * 51
    assert statistics.median(fast) == 270.0 and statistics.median(cells) == 360.0
    assert tool.paired_median_diff_ms(fast, cells) == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(100.0, 500.0), min_size=1, max_size=60),
       st.floats(-30.0, 30.0), st.integers(0, 3))
def test_a_uniform_shift_is_the_difference(tool: ModuleType, beats: list[float], shift: float,
                                           repeat: int) -> None:
    # every beat d ms later: the median per-beat difference is |d| (also when the other heart
    # has each beat several times over: the same distribution)
    other = [b + shift for b in beats] * (repeat + 1)
    assert tool.paired_median_diff_ms(beats, other) == pytest.approx(abs(shift), abs=1e-6)


def test_a_shift_of_half_the_beats_shows(tool: ModuleType) -> None:
    # 60 % of the beats 10 ms later: more than half the rank-paired beats differ by 10 ms
    cells = [200.0 + i for i in range(100)]
    fast = [x + 10.0 if i % 5 < 3 else x for i, x in enumerate(cells)]
    assert tool.paired_median_diff_ms(fast, cells) > 5.0


def test_no_beats(tool: ModuleType) -> None:
    assert tool.paired_median_diff_ms([], [250.0]) is None


def test_row_checks_the_paired_difference(tool: ModuleType) -> None:
    row = tool.Row("x")
    row.check_beats("av_ms", [270.0] * 51 + [360.0] * 50, [270.0] * 50 + [360.0] * 51, 5.0)
    assert row.failures == [] and row.values["av_ms"] == (270.0, 360.0)
    assert row.notes  # the medians in different modes are named
    row.check_beats("va_ms", [250.0] * 9, [256.0] * 9, 5.0)
    assert row.failures == ["va_ms"]
    doc = tool.summary([row], 0.0)
    assert doc["max_diff_av_ms"] == 0.0 and doc["max_diff_va_ms"] == 6.0


def test_outcome_precision_target(tool: ModuleType) -> None:
    # the closed-loop means are compared at a standard error of a third of the 2-point
    # tolerance: a zero true difference shows as more than 2 points with probability
    # 2 (1 - Phi(3)) ~ 0.27 %
    target = tool.OUTCOME_TOL_PP / tool.OUTCOME_SE_FRACTION
    assert target == pytest.approx(2.0 / 3.0)
    assert math.erfc(tool.OUTCOME_TOL_PP / target / math.sqrt(2.0)) < 0.003
