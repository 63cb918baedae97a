"""Judgement that explains: the end of the run, messages when nothing matched, every failure,
signed errors, re-anchoring, run-time tolerance, the first divergence named by its rule, and the
evidence files. Expectations are hand arithmetic on nominal programmings (VVI 60: a pace every
1000 ms; DDD: AP at 850 ms, safety pace at AP + 110 ms)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import JUnitXml

from devicetwin.pacemaker import Chamber, Mode, PaceFlag, Programming
from hil.cli import main
from hil.devices.profile import DeviceProfile
from hil.vectors import (
    ExpectedPace,
    Stimulus,
    VectorFile,
    generate_vectors,
    run_vectors,
    write_vectors,
)
from hil.vectors.judge import Finding

VVI = Programming.nominal(Mode.VVI)


def _vvi(times_ms: list[int], duration_ms: int, **kw: object) -> VectorFile:
    return VectorFile("vvi", "VVI", duration_ms * 1000, (),
                      tuple(ExpectedPace(t * 1000, Chamber.V) for t in times_ms), **kw)  # type: ignore[arg-type]


def test_a_missing_final_pace_fails_even_just_before_the_end() -> None:
    # VVI 60 paces at 1000, 2000, 3000 ms; a V sense at 3500 ms restarts the escape, so the
    # device's next VP is at 4500 ms. The file expects a VP at 4000 ms and ends 2 ms later:
    # the old check excused an unpartnered pace within the tolerance of the end and passed
    # "3/4 expected paces matched"; the device runs on past the end by the tolerance now, and
    # the expected pace is judged: missing
    v = VectorFile("vvi", "VVI", 4_002_000, (Stimulus(3_500_000, Chamber.V),),
                   tuple(ExpectedPace(t * 1000, Chamber.V) for t in (1000, 2000, 3000, 4000)))
    r = run_vectors(v, "twin")
    assert not r.passed and r.matched == 3
    assert [(f.finding, f.expected_us) for f in r.failures] == [(Finding.MISSING, 4_000_000)]
    # the device's VP at 4500 ms is after the end: not judged as extra
    assert r.judgement.device_paces == 3


def test_extending_the_run_does_not_turn_later_paces_into_extras() -> None:
    # judge until 3000 ms, run 10 s: paces after 3000 ms are not judged
    v = _vvi([1000, 2000, 3000], 10_000, judge_until_us=3_000_000)
    r = run_vectors(v, "twin")
    assert r.passed and r.judgement.device_paces == 3


def test_a_fail_with_nothing_matched_does_not_claim_zero_error() -> None:
    v = _vvi([500, 1500, 2500], 3000)  # every one 500 ms off: nothing pairs within 300 ms
    r = run_vectors(v, "twin")
    assert not r.passed and r.matched == 0
    assert "0.000 ms" not in r.text().splitlines()[0]
    assert "no expected pace matched" in r.text()


def test_every_failure_is_listed_with_signed_errors(tmp_path: Path) -> None:
    # 30 expectations, each 20 ms early of the device: 30 timing failures, all listed
    v = _vvi([t - 20 for t in range(1000, 31_000, 1000)], 31_000)
    r = run_vectors(v, "twin")
    assert len(r.failures) == 30
    assert all(f.error_us == 20_000 for f in r.failures)
    assert r.text().count("(+20.000 ms, late") == 30
    out = tmp_path / "r.json"
    assert main(["vectors", "run", str(write_vectors(v, tmp_path / "v.json")), "--device",
                 "twin", "--json", str(out)]) == 1
    doc = json.loads(out.read_text())
    assert doc["failed"] == 1 and len(doc["results"][0]["failures"]) == 30
    assert doc["results"][0]["failures"][0]["error_us"] == 20_000


def test_re_anchoring_counts_one_difference_once() -> None:
    # the file's author saw one VP 20 ms late at 3020 ms and every later one 20 ms later too;
    # VVI 60 paces at 3000, 4000, ...: without re-anchoring every later expectation fails
    times = [1000, 2000] + [t + 20 for t in range(3000, 11_000, 1000)]
    v = _vvi(times, 11_000)
    plain = run_vectors(v, "twin")
    assert plain.matched == 2 and len(plain.failures) == 8
    again = run_vectors(v, "twin", resync=True)
    assert again.matched == 9 and len(again.failures) == 1
    (f,) = again.failures
    assert (f.finding, f.expected_us, f.device_us) == (Finding.TIMING, 3_020_000, 3_000_000)
    assert [(s.at_us, s.by_us) for s in again.playback.shifts] == [(3_000_000, -20_000)]


def test_tolerance_override_at_run_time(tmp_path: Path) -> None:
    v = _vvi([1005, 2005], 2500)  # 5 ms from the device
    assert run_vectors(v, "twin").passed
    r = run_vectors(v, "twin", tolerance_us=4000)
    assert not r.passed and [f.error_us for f in r.failures] == [-5000, -5000]
    p = write_vectors(v, tmp_path / "v.json")
    assert main(["vectors", "run", str(p), "--device", "twin", "--tolerance-ms", "4"]) == 1
    assert main(["vectors", "run", str(p), "--device", "twin", "--tolerance-ms", "-1"]) == 2
    # a per-expectation window is the file's; the override replaces it too
    tight = VectorFile("t", "VVI", 2_500_000, (), (ExpectedPace(1_005_000, Chamber.V,
                                                                tolerance_us=2000),))
    assert not run_vectors(tight, "twin").passed


def test_a_missing_safety_pace_is_named_with_its_rule() -> None:
    v = generate_vectors("DDD", {}, "safety", 3_000_000)
    first = v.expected[1]
    # DDD: AP at 850 ms, the V detection 60 ms later is in the safety window: VP at 960 ms
    assert (first.t_us, first.flags, first.rule) == (960_000, PaceFlag.SAFETY, "A-7")
    r = run_vectors(v, "emulated", fault="NO_SAFETY_PACING")
    assert not r.passed
    assert r.explanation.startswith(
        "device did not pace V at 960.000 ms: ventricular safety pace expected, A-7")
    assert "in the safety window: does not inhibit" in r.explanation
    assert r.divergence_rules == ["A-7"]
    assert "VP [safety] (A-7) expected at 960.000 ms, none delivered" in r.text()


def test_a_device_profile_runs_its_own_programming() -> None:
    # the vector expects safety pacing; a profile says the device runs without it
    v = generate_vectors("DDD", {}, "safety", 3_000_000)
    profile = DeviceProfile(name="no-vsp", url="twin",
                            programming=Programming(mode=Mode.DDD, safety_pacing=False,
                                                    device_defined=True))
    r = run_vectors(v, "emulated", profile=profile)
    assert r.device == "twin" and not r.passed
    assert "device-defined" in r.notes[0]
    assert "ventricular safety pace expected, A-7" in r.explanation


def test_evidence_folder_has_json_junit_and_html(tmp_path: Path) -> None:
    good = write_vectors(_vvi([1000, 2000], 2500), tmp_path / "in" / "good.json")
    bad = _vvi([1000, 2100], 2500)
    write_vectors(VectorFile("bad", bad.mode, bad.duration_us, (), bad.expected,
                             requirements=("SRS-9", "A-1")), tmp_path / "in" / "bad.json")
    out = tmp_path / "out"
    assert main(["vectors", "run", str(good.parent), "--device", "twin", "--out",
                 str(out)]) == 1
    xml = JUnitXml.fromfile(str(out / "vectors-junit.xml"))
    cases = {c.name: c for suite in xml for c in suite}
    assert set(cases) == {"bad", "vvi"}
    assert cases["vvi"].is_passed and not cases["bad"].is_passed
    assert "device paced V at 2000.000 ms, -100.000 ms from the ventricular escape pace" in (
        cases["bad"].result[0].message or "")
    # the bench's property names: a project requirement and a specification rule apart
    props = {(p.get("name"), p.get("value")) for p in cases["bad"]._elem.iter("property")}
    assert {("requirement", "SRS-9"), ("spec_rule", "A-1")} <= props
    page = (out / "vectors.html").read_text()
    assert "1/2 passed" in page and "SRS-9" in page
    assert json.loads((out / "vectors.json").read_text())["passed"] == 1


@settings(max_examples=30, deadline=None)
@given(k=st.integers(0, 7), shift_ms=st.integers(9, 299), sign=st.sampled_from([-1, 1]))
def test_re_anchoring_turns_any_one_shift_into_one_failure(k: int, shift_ms: int,
                                                           sign: int) -> None:
    # VVI 60 paces every 1000 ms; the file moves expectation k and every later one by s
    # (outside the 8 ms tolerance, inside the 300 ms pairing window)
    s = sign * shift_ms
    times = [t if i < k else t + s for i, t in enumerate(range(1000, 9000, 1000))]
    v = _vvi(times, 8500)  # ends between two paces, whatever the shift
    plain = run_vectors(v, "twin")
    assert len(plain.failures) == 8 - k and plain.matched == k
    again = run_vectors(v, "twin", resync=True)
    assert [(f.finding, f.index, f.error_us) for f in again.failures] == [
        (Finding.TIMING, k, -s * 1000)]
    assert again.matched == 7
