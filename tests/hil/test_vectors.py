"""Open-loop test vectors: the file format, the patterns, the player and the check.

The emulated firmware is the second implementation the twin-generated expectations are held
against; hand-written files hold numbers worked out by hand.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from devicetwin.pacemaker import Chamber
from devicetwin.pacemaker.sensing import reference_detections
from hil.cli import main
from hil.devices import DeviceUnderTest
from hil.session.mapping import programming_from
from hil.vectors import (
    ExpectedPace,
    Stimulus,
    VectorFile,
    VectorFileError,
    generate_vectors,
    parse_vectors,
    read_vectors,
    run_vectors,
    write_vectors,
)
from hil.vectors.drivers import SampleDriver
from hil.vectors.judge import Finding, compare
from hil.vectors.patterns import MIN_SPACING_US, PatternError, make_stimuli
from hil.vectors.play import VectorPlayError

VVI_HAND = """{
  "format": "devicetwin-vectors",
  "version": 1,
  "name": "vvi_60_no_stimuli",
  "mode": "VVI",
  "parameters": {"lower_rate_ppm": 60},
  "duration_us": 3500000,
  "tolerance_us": {"A": 8000, "V": 8000},
  "stimuli": [],
  "expected": [
    {"t_us": 1000000, "chamber": "V"},
    {"t_us": 2000000, "chamber": "V"},
    {"t_us": 3000000, "chamber": "V"}
  ]
}
"""


def test_hand_written_vvi_file_passes_on_the_emulated_firmware(tmp_path: Path) -> None:
    path = tmp_path / "vvi.json"
    path.write_text(VVI_HAND)
    v = read_vectors(path)
    # VVI at 60 ppm and no sensing: the escape interval of 1000 ms from the start, then again
    assert [e.t_us for e in v.expected] == [1_000_000, 2_000_000, 3_000_000]
    report = run_vectors(v, "emulated")
    assert report.passed, report.text()
    assert report.device_paces == [(1_000_000, Chamber.V), (2_000_000, Chamber.V),
                                   (3_000_000, Chamber.V)]
    assert main(["vectors", "run", str(path)]) == 0
    assert main(["vectors", "run", str(path), "--device", "twin", "--level", "events"]) == 0


def test_generated_vectors_pass_on_the_emulated_firmware(tmp_path: Path) -> None:
    out = tmp_path / "wb.json"
    assert main(["vectors", "generate", "--mode", "DDD", "--param", "upper_rate_ppm=120",
                 "--pattern", "wenckebach", "--duration-s", "10", "--out", str(out)]) == 0
    v = read_vectors(out)
    assert v.mode == "DDD" and v.parameters == {"upper_rate_ppm": 120}
    assert len(v.expected) > 5 and all(e.chamber is Chamber.V for e in v.expected)
    report = run_vectors(v, "emulated")
    assert report.passed, report.text()
    assert report.matched == len(v.expected)
    # the atrial rate passes 120/min: some A senses go untracked (upper rate behaviour)
    assert len(v.expected) < sum(1 for s in v.stimuli if s.chamber is Chamber.A)


def test_random_vectors_pass_on_both_levels(tmp_path: Path) -> None:
    v = generate_vectors("DDD", {}, "random:seed=7", 8_000_000)
    assert run_vectors(v, "emulated").passed
    assert run_vectors(v, "twin", level="events").passed


def test_one_pace_moved_by_30_ms_fails_at_exactly_that_entry(tmp_path: Path) -> None:
    v = generate_vectors("DDD", {}, "sinus:rate_bpm=70", 6_000_000)
    assert len(v.expected) >= 5
    data = json.loads(v.to_json())
    data["expected"][3]["t_us"] += 30_000
    path = tmp_path / "moved.json"
    path.write_text(json.dumps(data, indent=1))
    moved = read_vectors(path)
    report = run_vectors(moved, "emulated")
    assert not report.passed
    assert len(report.failures) == 1, report.text()
    f = report.failures[0]
    assert (f.finding, f.index, f.chamber) == (Finding.TIMING, 3, v.expected[3].chamber)
    assert f.device_us == v.expected[3].t_us and f.expected_us == v.expected[3].t_us + 30_000
    assert "expected[3]" in report.text() and "(-30.000 ms, early" in report.text()
    assert main(["vectors", "run", str(path)]) == 1


def test_compare_missing_extra_and_the_end() -> None:
    exp = (ExpectedPace(1_000_000, Chamber.V), ExpectedPace(2_000_000, Chamber.V),
           ExpectedPace(2_996_000, Chamber.V))
    v = VectorFile("t", "VVI", 3_000_000, (), exp)
    # first on time within 8 ms, second missing, an extra A pace; the last one, 4 ms before
    # the end, is judged too (the device runs on past the end by the tolerance): missing
    j = compare(v, [(1_007_000, Chamber.V), (1_500_000, Chamber.A)])
    assert j.matched == ((0, 7000),) and j.judged == 3
    assert [(x.finding, x.index) for x in j.failures] == [
        (Finding.EXTRA, None), (Finding.MISSING, 1), (Finding.MISSING, 2)]
    # a device pace within the tolerance before the end with no partner is not judged (its
    # partner may be just after the end); one earlier is extra
    j = compare(v, [(1_000_000, Chamber.V), (2_000_000, Chamber.V), (2_996_000, Chamber.V),
                    (2_995_000, Chamber.A), (2_990_000, Chamber.A)])
    assert [(x.finding, x.device_us) for x in j.failures] == [(Finding.EXTRA, 2_990_000)]


def test_sinus_pattern_by_hand() -> None:
    name, opts, st = make_stimuli("sinus:rate_bpm=60,av_ms=150", 2_500_000)
    assert name == "sinus" and opts["start_ms"] == 100
    assert [(s.t_us, s.chamber.name) for s in st] == [
        (100_000, "A"), (250_000, "V"), (1_100_000, "A"), (1_250_000, "V"),
        (2_100_000, "A"), (2_250_000, "V")]


def test_pvcs_and_random_patterns() -> None:
    _, _, st = make_stimuli("pvcs:every=3", 10_000_000)
    # a PVC is a V with no A since the previous V
    pvcs = [i for i, s in enumerate(st) if s.chamber is Chamber.V and i > 0
            and st[i - 1].chamber is Chamber.V]
    assert pvcs
    a1 = make_stimuli("random:seed=3", 20_000_000)[2]
    assert a1 == make_stimuli("random:seed=3", 20_000_000)[2]
    assert a1 != make_stimuli("random:seed=4", 20_000_000)[2]
    for ch in (Chamber.A, Chamber.V):
        t = [s.t_us for s in a1 if s.chamber is ch]
        assert all(b - a >= MIN_SPACING_US for a, b in itertools.pairwise(t))
        assert all(x % 1000 == 0 for x in t)
    with pytest.raises(PatternError, match="nope"):
        make_stimuli("nope", 1_000_000)
    with pytest.raises(PatternError, match="rate_bpm"):
        make_stimuli("sinus:rate_bpm=0", 1_000_000)


def test_synthesised_pulses_are_detected_at_the_stimulus_times() -> None:
    v = generate_vectors("DDD", {}, "random:seed=2", 5_000_000)
    prog = programming_from("DDD", {})
    drv = SampleDriver(cast(DeviceUnderTest, None), prog, 5000)
    for x in v.stimuli:
        drv.sense(x.t_us, x.chamber)
    drv.check(5001)
    a, vv = drv.stream(5001)
    # the plain NumPy front end (an independent implementation) finds exactly the stimuli
    samples, chans = reference_detections(a, vv, 750, 2500, 50)
    got = [(int(n) * 1000, "A" if int(c) == 0 else "V") for n, c in zip(samples, chans,
                                                                          strict=True)]
    assert got == [(x.t_us, x.chamber.name) for x in v.stimuli]
    assert a.dtype == np.int16 and a.shape == (5001,)


def test_stimuli_too_close_cannot_be_played_as_samples() -> None:
    v = VectorFile("t", "DDD", 1_000_000,
                   (Stimulus(100_000, Chamber.A), Stimulus(130_000, Chamber.A)), ())
    drv = SampleDriver(cast(DeviceUnderTest, None), programming_from("DDD", {}), 1000)
    for x in v.stimuli:
        drv.sense(x.t_us, x.chamber)
    with pytest.raises(VectorPlayError,
                       match="stimulus A at 130 ms: the front end detects A at 150 ms"):
        drv.check(1001)
    with pytest.raises(VectorPlayError, match="senses electrograms"):
        run_vectors(v, "emulated", level="events")


def test_write_read_round_trip(tmp_path: Path) -> None:
    v = generate_vectors("VVI", {"lower_rate_ppm": 50}, "pvcs", 4_000_000)
    p = write_vectors(v, tmp_path / "sub" / "v.json")
    back = read_vectors(p)
    assert (back.stimuli, back.mode, back.duration_us, dict(back.parameters)) == (
        v.stimuli, "VVI", 4_000_000, {"lower_rate_ppm": 50})
    assert [(e.t_us, e.chamber) for e in back.expected] == [(e.t_us, e.chamber)
                                                            for e in v.expected]
    # one entry per line: entry k of "expected" sits on its own line, as the reader reports
    lines = p.read_text().splitlines()
    for e in back.expected:
        assert f'"t_us": {e.t_us}' in lines[e.line - 1]


def _bad(text: str) -> VectorFileError:
    with pytest.raises(VectorFileError) as info:
        parse_vectors(text, "bad.json")
    return info.value


@pytest.mark.parametrize("edit,where,field", [
    (lambda d: d["stimuli"].append({"t_us": 5000, "chamber": "B"}), "bad.json:10",
     "stimuli[0].chamber"),
    (lambda d: d["expected"][1].update(t_us=-1), "bad.json:13", "expected[1].t_us"),
    (lambda d: d["expected"][2].update(t_us=500_000), "bad.json:14", "expected[2].t_us"),
    (lambda d: d["expected"][0].update(t_us=9_000_000), "bad.json:12", "expected[0].t_us"),
    (lambda d: d["expected"][0].pop("chamber"), "bad.json:12", "expected[0].chamber"),
    (lambda d: d["expected"][0].update(kind="VP"), "bad.json:12", "expected[0].kind"),
    (lambda d: d.update(version=3), "bad.json:3", "version"),
    (lambda d: d.update(format="other"), "bad.json:2", "format"),
    (lambda d: d.update(mode="XYZ"), "bad.json:5", "mode"),
    (lambda d: d.update(parameters={"lower_rate_ppm": 7}), "bad.json:6",
     "parameters.lower_rate_ppm"),
    (lambda d: d.update(tolerance_us={"A": 8000}), "bad.json:8", "tolerance_us"),
    (lambda d: d.update(tolerance_us={"A": 8000, "V": -1}), "bad.json:8", "tolerance_us.V"),
    (lambda d: d.update(lower_rate_ppm=60), "bad.json:9", "lower_rate_ppm"),
    (lambda d: d.pop("duration_us"), "bad.json:", "duration_us"),
])
def test_bad_files_name_file_line_entry_and_field(
        edit: Callable[[dict[str, Any]], None], where: str, field: str) -> None:
    data = json.loads(VVI_HAND)
    edit(data)
    # one header field per line (lines 2..8, a field added by the edit after them), then
    # "stimuli" opens and "expected" two lines after the last stimulus: the line numbers in the
    # table above follow from this; a missing field has no line
    body = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v)},"
                    for k, v in data.items() if k not in ("stimuli", "expected")]
    for key in ("stimuli", "expected"):
        body.append(f'  "{key}": [')
        rows = data[key]
        body += ["    " + json.dumps(r) + ("," if i + 1 < len(rows) else "")
                 for i, r in enumerate(rows)]
        body.append("  ]" + ("," if key == "stimuli" else ""))
    body.append("}")
    err = _bad("\n".join(body))
    msg = str(err)
    assert msg.startswith(where + " " if where.endswith(":") else where + ":"), msg
    assert field in msg
    if where.endswith(":"):
        assert err.line is None


def test_not_json_and_unreadable(tmp_path: Path) -> None:
    err = _bad('{\n  "format": "devicetwin-vectors",\n  "version": 1,\n  oops\n}')
    assert err.line == 4 and str(err).startswith("bad.json:4")
    with pytest.raises(VectorFileError, match="cannot read"):
        read_vectors(tmp_path / "missing.json")
    assert main(["vectors", "run", str(tmp_path / "missing.json")]) == 2


def test_simultaneous_stimuli_on_both_levels() -> None:
    from hil.vectors.generate import expected_paces

    stim = (Stimulus(500_000, Chamber.A), Stimulus(500_000, Chamber.V),
            Stimulus(1_400_000, Chamber.A))
    exp = expected_paces("DDD", {}, stim, 3_000_000)
    # DDD nominal (60 ppm, AV 150 ms): the V sense at 500 ms starts the VA interval of
    # 1000 - 150 = 850 ms, so AP is due at 1350 ms, before the A stimulus at 1400 ms
    assert (exp[0].t_us, exp[0].chamber, exp[0].rule) == (1_350_000, Chamber.A, "A-2")
    v = VectorFile("t", "DDD", 3_000_000, stim, exp)
    assert run_vectors(v, "emulated").passed
    assert run_vectors(v, "twin", level="events").passed
