"""What a labelled surface ECG tells: checked on synthetic labels with known truth, against
closed-form statistics, and on MIT-BIH record 102 against its published description."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import wfdb
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.twin import BeatLabel, analyse_beat_labels
from devicetwin.twin.label_analysis import median_interval, proportion
from devicetwin.twin.session import BEAT_SYMBOLS

MITDB = Path("/work/shared/data/mitdb")


def _paced_stream(interval_ms: float, n: int, jitter_ms: float, seed: int,
                  fs_hz: float = 360.0) -> list[BeatLabel]:
    """Paced beats every ``interval_ms`` with white fiducial jitter, quantised to ``fs_hz``."""
    rng = np.random.default_rng(seed)
    t_ms = np.arange(n) * interval_ms + 1000.0 + rng.normal(0.0, jitter_ms, n)
    samples = np.round(t_ms / 1000.0 * fs_hz)
    return [BeatLabel(round(s * 1e6 / fs_hz), "/") for s in samples]


def test_known_interval_is_covered_by_its_interval() -> None:
    # 60 independent recordings at LRL 72 (833.33 ms) with 15 ms fiducial jitter: a 95 %
    # interval misses the truth in about 3 of them; 8 or more misses has probability < 0.1 %
    truth = 60000.0 / 72
    misses = 0
    for seed in range(60):
        result = analyse_beat_labels(_paced_stream(truth, 300, 15.0, seed))
        assert result.pacing_interval_ms is not None
        est = result.pacing_interval_ms
        misses += not (est.low <= truth <= est.high)
        assert 72 in result.lower_rate_candidates_ppm
        assert result.implied_lower_rate_ppm == 72
    assert misses < 8


def test_fiducial_jitter_shows_negative_autocorrelation() -> None:
    result = analyse_beat_labels(_paced_stream(800.0, 2000, 20.0, 1))
    # each fiducial error enters two successive intervals with opposite signs: r = -0.5
    assert result.interval_lag1_autocorrelation == pytest.approx(-0.5, abs=0.06)
    assert result.interval_sd_ms == pytest.approx(20.0 * math.sqrt(2), rel=0.08)


def test_wilson_interval_closed_form() -> None:
    k, n, z = 56, 2187, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    est = proportion(k, n, "fusion")
    assert est is not None
    assert est.low == pytest.approx(centre - half, rel=1e-9)
    assert est.high == pytest.approx(centre + half, rel=1e-9)


@given(st.lists(st.floats(300.0, 2000.0), min_size=3, max_size=200))
def test_median_interval_brackets_the_median(values: list[float]) -> None:
    est = median_interval(values, "x")
    assert est is not None
    assert est.low <= float(np.median(values)) <= est.high
    assert min(values) <= est.low and est.high <= max(values)


def test_too_few_labels_tell_nothing() -> None:
    result = analyse_beat_labels([BeatLabel(0, "N"), BeatLabel(800_000, "N")])
    assert result.paced_rate_ppm is None
    assert result.intrinsic_rate_bpm is None
    assert result.implied_lower_rate_ppm is None
    assert result.lower_rate_candidates_ppm == ()


def test_record_102() -> None:
    ann = wfdb.rdann(str(MITDB / "102"), "atr")
    beats = [BeatLabel(round(int(s) * 1e6 / ann.fs), y) for s, y in
             zip(ann.sample, ann.symbol, strict=True) if y in BEAT_SYMBOLS]
    result = analyse_beat_labels(beats)
    # the database's README: paced 2028, normal 99, fusion 56, PVC 4; "paced rate about 72 ppm"
    assert result.counts == {"/": 2028, "N": 99, "f": 56, "V": 4}
    assert result.paced_rate_ppm is not None and result.intrinsic_rate_bpm is not None
    assert 71.0 <= result.paced_rate_ppm.value <= 74.0
    assert result.paced_rate_ppm.low < result.paced_rate_ppm.value < result.paced_rate_ppm.high
    assert 72 in result.lower_rate_candidates_ppm
    # demand pacing: the heart beats on its own only when it is faster than the pacer
    assert result.intrinsic_rate_bpm.value > result.paced_rate_ppm.value
    # sensed (N, V) followed by a pace (/, f), counted here straight from the labels
    symbols = [b.symbol for b in beats]
    pairs = sum(a in "NV" and b in "/f" for a, b in itertools.pairwise(symbols))
    assert result.escape_interval_ms is not None and result.escape_interval_ms.n == pairs == 8
    assert result.pacing_interval_ms is not None
    assert (result.escape_interval_ms.low <= result.pacing_interval_ms.value
            <= result.escape_interval_ms.high)
    assert result.fusion_fraction is not None
    assert result.fusion_fraction.value == pytest.approx(56 / 2187)
    assert result.fusion_fraction.low < 56 / 2187 < result.fusion_fraction.high
