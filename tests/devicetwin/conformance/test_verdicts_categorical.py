"""Categorical measurements (a word held to the words allowed, as OpenHTF's ``equals``), labelled
signed errors, and what the bench reads off a verdict (``required``, ``requirement_ids``)."""

from __future__ import annotations

import json
import pickle

import pytest

from devicetwin.conformance import (
    ConformanceError,
    Limits,
    Measurement,
    SignedStats,
    VerdictStatus,
    judge,
)


def test_a_word_is_judged_against_the_words_allowed() -> None:
    lim = Limits.one_of("NACK")
    assert lim.contains("NACK") and not lim.contains("ACK") and not lim.contains("nack")
    # a number is never one of the words, a word never within numeric bounds
    assert not lim.contains(0.0)
    assert not Limits(low=0).contains("1")
    assert lim.describe("") == "NACK"
    assert Limits.one_of("detected", "suspected").describe("") == "detected or suspected"


def test_categorical_limits_are_words_or_bounds_not_both() -> None:
    with pytest.raises(ConformanceError, match=r"allow words .* and bound numbers"):
        Limits(low=1, allowed=("x",))
    with pytest.raises(ConformanceError, match="allows no word"):
        Limits.one_of()


def test_judge_a_categorical_measurement() -> None:
    m = Measurement("programming.refused[lrl=10]", "A-18", "ACK", "", Limits.one_of("NACK"),
                    "the device's answer to an invalid programming")
    v = judge(m)
    assert v.status is VerdictStatus.FAIL and v.failed and not v.passed
    assert v.sentence == ("the device's answer to an invalid programming was ACK, OUTSIDE the "
                          "limit NACK (A-18).")
    ok = judge(Measurement("hazard.pmt", "HAZ-pmt", "detected", "", Limits.one_of("detected"),
                           "hazard pmt"))
    assert ok.passed and ok.required == "detected"
    doc = json.loads(json.dumps(v.to_dict()))
    assert doc["value"] == "ACK" and doc["limits"]["allowed"] == ["NACK"]


def test_required_and_requirement_ids_and_statistics() -> None:
    vp = SignedStats(3, -3000.0, -2333.3, -2800.0, -1200.0, 3000.0, "twin")
    m = Measurement("conformance.timing_error_max_ms", "A-2, A-5", 3.0, "ms", Limits(high=8),
                    "largest timing error", signed_errors=(("VP", vp),))
    v = judge(m)
    assert v.passed and v.required == "<= 8 ms"
    assert v.requirement_ids == ("A-2", "A-5")
    assert v.statistics == (("VP", vp),)
    interval = SignedStats(1, 500.0, 500.0, 500.0, 500.0, 500.0, "lri")
    v2 = judge(Measurement("lower_rate.x", "A-2", 1000.5, "ms", Limits(high=1008), "x",
                           signed_error=interval, signed_errors=(("VP", vp),)))
    assert v2.statistics == (("", interval), ("VP", vp))
    assert v2.to_dict()["signed_errors_us"]["VP"]["n"] == 3
    renamed = v.renamed("monitor.x")
    assert renamed.name == "monitor.x" and renamed.sentence == v.sentence
    assert pickle.loads(pickle.dumps(v)) == v
