"""The Penn tester's ``.mat`` vectors and CSV: the tester's semantics, checked with numbers
worked out by hand for nominal DDD (LRI 1000 ms, AV 150 ms, PVARP 250 ms, URI 500 ms)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st

from devicetwin.pacemaker import Chamber, LowerRateTiming, MarkerKind
from hil.cli import main
from hil.vectors import read_vectors, run_vectors
from hil.vectors.importers import (
    ImportSettings,
    VectorImportError,
    import_csv,
    import_tester,
)
from hil.vectors.judge import Finding

SCHEMA = json.loads((Path(__file__).parents[3] / "hil" / "vectors" / "schema"
                     / "vectors-v2.schema.json").read_text())

#: Two conducted beats, then an A at exactly 2000 ms (not sent: only t < 2000 ms is) and an
#: expected-pace row (dropped: the prelude is not judged).
INIT = np.array([[300, 1], [450, 2], [1100, 1], [1250, 2], [2000, 1], [2100, 3]], dtype=float)
#: After the anchor VP (t = 0) nothing is sensed: VA = 1000 - 150 -> AP at 850, VP at 1000.
PACED = np.array([[850, 3], [1000, 4], [1850, 3], [2000, 4]], dtype=float)


def _mat(tmp_path: Path, **arrays: np.ndarray) -> Path:
    p = tmp_path / "suite.mat"
    scipy.io.savemat(str(p), arrays)
    return p


def test_the_initializer_is_cut_at_2000_ms_and_t0_is_the_vp_after_it(tmp_path: Path) -> None:
    (v,) = import_tester(_mat(tmp_path, init=INIT, paced=PACED), ImportSettings(),
                         initializer="init")
    jsonschema.validate(json.loads(v.to_json()), SCHEMA)
    assert [(s.t_us, s.chamber) for s in v.prelude] == [
        (300_000, Chamber.A), (450_000, Chamber.V), (1_100_000, Chamber.A),
        (1_250_000, Chamber.V)]
    assert v.anchor is not None and v.anchor.events == (MarkerKind.AP, MarkerKind.VP)
    assert v.anchor.after_us == 2_000_000
    assert v.judge_until_us == 2_000_000 and v.name == "suite_paced"
    report = run_vectors(v, "twin")
    # VS at 1250 ms starts VA 850 ms: AP at 2100, VP at 2250 ms = t0
    assert report.playback.t0_us == 2_250_000
    assert report.passed and report.matched == 4, report.text()
    # with the cut at 2001 ms the A at 2000 ms is sent: tracked (VP at 2150), then AP at
    # 2150 + 850 = 3000 and VP at 3150 ms = t0
    (late,) = import_tester(_mat(tmp_path, init=INIT, paced=PACED),
                            ImportSettings(prelude_until_ms=2001), initializer="init")
    assert run_vectors(late, "twin").playback.t0_us == 3_150_000


def test_judging_stops_at_the_last_row_and_includes_it(tmp_path: Path) -> None:
    # the device paces AP at 2850 ms after the last row: not judged
    (v,) = import_tester(_mat(tmp_path, init=INIT, t=PACED), ImportSettings(),
                         initializer="init")
    r = run_vectors(v, "twin")
    assert r.passed and r.judgement.device_paces == 4
    # a last row the device does not deliver (VP at 2600 ms) fails: the last row is judged
    last = np.vstack([PACED, [[2600, 4]]])
    (w,) = import_tester(_mat(tmp_path, init=INIT, t=last), ImportSettings(),
                         initializer="init")
    r = run_vectors(w, "twin")
    assert not r.passed
    assert [(f.finding, f.expected_us) for f in r.failures] == [(Finding.MISSING, 2_600_000)]
    assert "device did not pace V at 2600.000 ms" in r.explanation


def test_codes_5_and_6_put_the_input_1_ms_after_the_pace(tmp_path: Path) -> None:
    rows = np.array([[850, 5], [1000, 6], [1850, 3]], dtype=float)
    (v,) = import_tester(_mat(tmp_path, init=INIT, t=rows), ImportSettings(),
                         initializer="init")
    assert [(s.t_us, s.chamber) for s in v.stimuli] == [(851_000, Chamber.V),
                                                        (1_001_000, Chamber.A)]
    assert [(e.t_us, e.chamber) for e in v.expected] == [
        (850_000, Chamber.A), (1_000_000, Chamber.V), (1_850_000, Chamber.A)]
    # the V input 1 ms after the AP is blanked (40 ms, A-5) and the A after the VP falls in
    # PVAB: the device paces as if nothing came
    assert run_vectors(v, "twin").passed


def test_the_initializer_from_another_file_and_tests_by_name(tmp_path: Path) -> None:
    other = tmp_path / "init.mat"
    scipy.io.savemat(str(other), {"warmup": INIT})
    p = _mat(tmp_path, a=PACED, b=PACED, notes=np.array([1.0, 2.0, 3.0]))
    got = import_tester(p, ImportSettings(), initializer=f"{other}:warmup")
    assert [v.name for v in got] == ["suite_a", "suite_b"]  # a 1 x 3 array is not a test
    assert len(got[0].prelude) == 4
    assert [v.name for v in import_tester(p, ImportSettings(), initializer=str(other),
                                          tests=["b"])] == ["suite_b"]


@pytest.mark.parametrize("arrays,kw,words", [
    ({"t": np.array([[100, 7]])}, {}, "t row 1: code 7 is not a tester code"),
    ({"t": np.array([[100, 1], [50, 2]])}, {}, "t row 2: t = 50 ms is before"),
    ({"t": np.array([[-5, 1]])}, {}, "time -5 ms is not a time"),
    ({"t": PACED}, {"initializer": "int"}, "no array 'int' (did you mean init?)"),
    ({"t": PACED}, {"tests": ["t", "u"]}, "no array 'u'"),
])
def test_bad_tester_files_name_the_array_and_row(
        tmp_path: Path, arrays: dict[str, np.ndarray], kw: dict[str, object], words: str) -> None:
    p = _mat(tmp_path, init=INIT, **arrays)
    with pytest.raises(VectorImportError, match=re.escape(words)):
        import_tester(p, ImportSettings(), initializer=str(kw.get("initializer", "init")),
                      tests=list(kw.get("tests", ["t"])))  # type: ignore[call-overload]


def test_one_command_imports_and_the_folder_runs(tmp_path: Path) -> None:
    p = _mat(tmp_path, init=INIT, paced=PACED)
    prog = tmp_path / "prog.toml"
    prog.write_text('mode = "DDD"\nlower_rate_ppm = 60\n')
    out = tmp_path / "out"
    assert main(["vectors", "import", "tester", str(p), "--initializer", "init",
                 "--programming", str(prog), "--requirement", "SRS-1", "--out", str(out)]) == 0
    (f,) = sorted(out.glob("*.json"))
    assert read_vectors(f).requirements == ("SRS-1",)
    assert main(["vectors", "run", str(out), "--device", "twin"]) == 0
    # a bad file is a configuration error, exit 2
    assert main(["vectors", "import", "tester", str(tmp_path / "none.mat"), "--out",
                 str(out)]) == 2
    assert main(["vectors", "import", "tester", str(p), "--param", "lower_rate_pmm=60",
                 "--out", str(out)]) == 2


def test_programming_file_with_enums_as_strings(tmp_path: Path) -> None:
    prog = tmp_path / "prog.toml"
    prog.write_text('[programming]\nmode = "ddd"\nlower_rate_timing = "atrial"\n')
    p = _mat(tmp_path, init=INIT, t=PACED)
    out = tmp_path / "v.json"
    assert main(["vectors", "import", "tester", str(p), "--initializer", "init",
                 "--programming", str(prog), "--out", str(out)]) == 0
    assert read_vectors(out).parameters["lower_rate_timing"] is LowerRateTiming.ATRIAL


def test_csv_rows_with_names_or_codes(tmp_path: Path) -> None:
    csv = tmp_path / "brady.csv"
    csv.write_text("t_ms,event\n850,AP\n1000,4\n# a comment\n1850,ap\n2000,VP\n")
    v = import_csv(csv, ImportSettings(anchor=None))
    assert v.anchor is None and v.prelude == ()
    # no anchor: t = 0 is the session start; DDD alone paces AP at 850 ms, VP 150 later
    assert [(e.t_us, e.chamber) for e in v.expected] == [
        (850_000, Chamber.A), (1_000_000, Chamber.V), (1_850_000, Chamber.A),
        (2_000_000, Chamber.V)]
    assert run_vectors(v, "twin").passed
    bad = tmp_path / "bad.csv"
    bad.write_text("100,VS\n")
    with pytest.raises(VectorImportError, match="event 'VS' is not known"):
        import_csv(bad, ImportSettings(anchor=None))
    out = tmp_path / "c.json"
    assert main(["vectors", "import", "csv", str(csv), "--out", str(out)]) == 0
    assert main(["vectors", "run", str(out), "--device", "twin"]) == 0


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.one_of(st.floats(-10, 5000), st.just(float("nan"))),
                               st.integers(0, 8)), max_size=12))
def test_any_rows_import_or_raise_an_import_error(tmp_path_factory: pytest.TempPathFactory,
                                                  rows: list[tuple[float, int]]) -> None:
    p = tmp_path_factory.mktemp("h") / "h.mat"
    scipy.io.savemat(str(p), {"init": INIT, "t": np.array(rows, dtype=float).reshape(-1, 2)})
    try:
        (v,) = import_tester(p, ImportSettings(), initializer="init", tests=["t"])
    except VectorImportError:
        return
    # what imports keeps every row: inputs (codes 1, 2, 5, 6) and expected paces (3 to 6)
    assert len(v.stimuli) == sum(1 for _, c in rows if c in (1, 2, 5, 6))
    assert len(v.expected) == sum(1 for _, c in rows if c in (3, 4, 5, 6))
    assert v.judge_until_us == round(rows[-1][0] * 1000)
    jsonschema.validate(json.loads(v.to_json()), SCHEMA)
