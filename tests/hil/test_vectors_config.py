"""Configuration errors in vector files and ``vectors generate`` arguments are messages.

Whatever a vector file holds, reading it gives a valid VectorFile or a VectorFileError naming the
file (property tests on mutated generated files); ``--param``, ``--mode`` and ``--pattern``
mistakes are ConfigErrors naming the option, with the closest valid names.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devicetwin.pacemaker import PARAMETERS, LowerRateTiming, Mode
from hil.cli import main
from hil.errors import ConfigError
from hil.session.mapping import programming_from
from hil.vectors import VectorFileError, generate_vectors, parse_vectors, read_vectors
from hil.vectors.command import VectorArgumentError, parse_params
from hil.vectors.patterns import PatternError, parse_pattern

FILE = "mutant.json"
BASES = {
    "ddd": generate_vectors("DDD", {"lower_rate_ppm": 70, "lower_rate_timing": "atrial"},
                            "pvcs", 3_000_000).to_json(),
    "vvi": generate_vectors("VVI", {"hysteresis_rate_ppm": 50}, "random:seed=3",
                            3_000_000).to_json(),
}
DOCS = {n: json.loads(t) for n, t in BASES.items()}

Node = tuple[Any, ...]


def _paths(node: Any, prefix: Node = ()) -> list[Node]:
    """Every key and list index in ``node``, as paths from the root."""
    out: list[Node] = []
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for k, v in items:
        out.append((*prefix, k))
        out += _paths(v, (*prefix, k))
    return out


NAMES = sorted({p[-1] for d in DOCS.values() for p in _paths(d) if isinstance(p[-1], str)}
               | set(PARAMETERS) | set(Mode.__members__)
               | {"VOOO", "atrial", "ATRIAL", "off", "lower_rate_pmm", "A", "V", "B", "kind"})
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
    st.sampled_from(NAMES),
    st.sampled_from([0, -1, 999, 7, 60.5, 1e308, 2**70, 3_000_001, "1000000"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(NAMES), inner, max_size=3)),
    max_leaves=6,
)
#: Raw JSON only text can write: a number past int()'s 4300-digit limit, deep nesting, NaN.
TOKENS = ["1" + "0" * 4400, "[" * 3000 + "]" * 3000, "NaN", "-Infinity", "1e400", "{}", "[]",
          '"\\ud800"', "null", "true", "-0"]


def _mutate(data: st.DataObject, doc: dict[str, Any]) -> None:
    # deepest first: hypothesis leans to the first choices, the header is the last
    path = data.draw(st.sampled_from(sorted(_paths(doc), key=len, reverse=True)))
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    op = data.draw(st.sampled_from(["rename", "replace", "nudge", "delete", "insert"]))
    if op == "rename" and isinstance(parent, dict):
        new = data.draw(st.one_of(st.sampled_from(NAMES), st.text(max_size=8),
                                  st.just(str(key).upper()), st.just(str(key)[:-1])))
        parent[new] = parent.pop(key)
    elif op == "replace":
        parent[key] = data.draw(VALUES)
    elif op == "nudge" and isinstance(parent[key], int | float):
        parent[key] = parent[key] + data.draw(st.sampled_from([1, -1, 0.5, -1000, 10**7]))
    elif op == "delete":
        del parent[key]
    else:
        target = parent[key] if isinstance(parent[key], dict) else doc
        target[data.draw(st.sampled_from(NAMES))] = data.draw(VALUES)


def _read(text: str) -> None:
    """Reads, or raises the structured error naming the file; anything else fails the test.

    What reads is trusted downstream: its programming is valid, and it writes and reads back
    unchanged.
    """
    try:
        v = parse_vectors(text, FILE)
    except VectorFileError as err:
        assert isinstance(err, ConfigError)
        assert err.source == FILE and err.file == FILE
        assert str(err).startswith(f"{FILE}:"), str(err)
        assert err.line is None or 1 <= err.line <= text.count("\n") + 1, (err.line, str(err))
        back = pickle.loads(pickle.dumps(err))
        assert (str(back), back.line, back.entry) == (str(err), err.line, err.entry)
        return
    programming_from(v.mode, v.parameters)
    again = parse_vectors(v.to_json(), FILE)
    assert (again.mode, dict(again.parameters), again.stimuli, again.expected[:0]) == (
        v.mode, dict(v.parameters), v.stimuli, ())
    assert [(e.t_us, e.chamber) for e in again.expected] == [(e.t_us, e.chamber)
                                                            for e in v.expected]


FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(st.sampled_from(sorted(DOCS)), st.data(), st.sampled_from([None, 1]))
def test_mutated_files_read_or_raise_a_vector_file_error(name: str, data: st.DataObject,
                                                         indent: int | None) -> None:
    doc = json.loads(BASES[name])
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(data, doc)
    _read(json.dumps(doc, indent=indent))


@FUZZ
@given(st.sampled_from(sorted(BASES)), st.data())
def test_rewritten_lines_read_or_raise_a_vector_file_error(name: str, data: st.DataObject
                                                           ) -> None:
    lines = BASES[name].splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    line = lines[i]
    if ": " in line and data.draw(st.booleans()):
        token = data.draw(st.one_of(st.sampled_from(TOKENS), VALUES.map(json.dumps)))
        lines[i] = line.split(": ", 1)[0] + ": " + token + ("," if line.endswith(",") else "")
    else:
        at = data.draw(st.integers(0, len(line)))
        lines[i] = line[:at] + data.draw(st.text(max_size=3)) + line[at + 1:]
    _read("\n".join(lines) + "\n")


def test_the_generated_bases_are_valid_and_write_enums_by_name() -> None:
    assert '"lower_rate_timing": "ATRIAL"' in BASES["ddd"]
    assert parse_vectors(BASES["ddd"]).parameters["lower_rate_timing"] is LowerRateTiming.ATRIAL


# --- examples -------------------------------------------------------------------------------

def _header(**changes: Any) -> str:
    doc: dict[str, Any] = {"format": "devicetwin-vectors", "version": 1, "mode": "VVI",
                           "parameters": {"lower_rate_ppm": 60}, "duration_us": 2_000_000,
                           "stimuli": [], "expected": []}
    doc.update(changes)
    return "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in doc.items()) \
        + "\n}\n"


def _error(text: str) -> VectorFileError:
    with pytest.raises(VectorFileError) as info:
        parse_vectors(text, "v.json")
    return info.value


def test_a_misspelt_parameter_names_its_line_and_the_closest_name() -> None:
    err = _error(_header(parameters={"lower_rate_pmm": 60}))
    assert str(err).startswith("v.json:5: parameters.lower_rate_pmm: ")
    assert "did you mean lower_rate_ppm?" in str(err)


def test_an_unknown_mode_names_the_allowed_modes() -> None:
    err = _error(_header(mode="VOOO"))
    assert str(err).startswith("v.json:4: mode: ")
    assert "did you mean VOO?" in str(err)
    assert all(m in str(err) for m in ("AAI", "VVI", "DDDR"))


def test_a_programming_rule_names_the_file_and_line() -> None:
    err = _error(_header(parameters={"lower_rate_ppm": 7}))
    assert str(err).startswith("v.json:5: parameters.lower_rate_ppm: ")
    assert "lower_rate_ppm=7 is not allowed" in str(err)
    # a rule broken by a parameter the file leaves nominal: the parameters line
    err = _error(_header(mode="DDD", parameters={"pvarp_ms": 400}))
    assert str(err).startswith("v.json:5: parameters: ") and "TARP" in str(err)


def test_enum_values_by_name_in_any_case_and_off_as_null() -> None:
    v = parse_vectors(_header(mode="ddd", parameters={"lower_rate_timing": "atrial",
                                                      "hysteresis_rate_ppm": None}))
    assert v.mode == "DDD"
    assert dict(v.parameters) == {"lower_rate_timing": LowerRateTiming.ATRIAL,
                                  "hysteresis_rate_ppm": None}
    assert '"parameters": {"lower_rate_timing": "ATRIAL", "hysteresis_rate_ppm": null}' \
        in v.to_json()
    err = _error(_header(mode="DDD", parameters={"lower_rate_timing": "atrail"}))
    assert "did you mean ATRIAL?" in str(err) and "VENTRICULAR or ATRIAL" in str(err)


@pytest.mark.parametrize(("changes", "words"), [
    ({"stimuli": [{"t_us": 0, "chamber": ["A"]}]}, "stimuli[0].chamber: chamber ['A'] is not"),
    ({"version": True}, "version: version True is not supported"),
    ({"generator": {"tool": "x", "patern": "sinus"}}, "did you mean pattern?"),
    ({"name": 5}, "name: 5 is not a string"),
    ({"tolerance_us": {"A": 8000, "v": 8000}}, "did you mean V?"),
])
def test_wrong_types_and_unknown_keys_are_named(changes: dict[str, Any], words: str) -> None:
    assert words in str(_error(_header(**changes)))


def test_a_file_that_is_not_utf8_is_a_vector_file_error(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(VectorFileError, match="not UTF-8") as info:
        read_vectors(path)
    assert info.value.source == str(path)


def test_error_classes_are_config_errors_and_pickle() -> None:
    for cls in (VectorFileError, VectorArgumentError, PatternError):
        assert issubclass(cls, ConfigError)
    errors: list[ConfigError] = [
        _error(_header(mode="VOOO")),
        VectorArgumentError("bad", name="x", value=1, expected="y", source="--param"),
        PatternError("bad", name="x", value=1, expected="y", source="--pattern"),
    ]
    for err in errors:
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert str(back) == str(err) and back.__dict__ == err.__dict__


# --- the command line -----------------------------------------------------------------------

def test_param_typo_names_the_option_and_the_closest_name() -> None:
    with pytest.raises(VectorArgumentError) as info:
        parse_params(["lower_rate_pmm=60"])
    err = info.value
    assert (err.source, err.line) == ("--param", None)
    assert str(err).startswith("--param: 'lower_rate_pmm=60': ")
    assert "did you mean lower_rate_ppm?" in str(err)


@pytest.mark.parametrize(("items", "words"), [
    (["lower_rate_ppm"], "is not key=value"),
    (["lower_rate_ppm=fast"], "is not a number"),
    (["lower_rate_ppm=nan"], "is not a finite number"),
    (["atr_mode=2"], "is not a switch"),
    (["lower_rate_ppm=60", "lower_rate_ppm=70"], "given twice"),
    (["mode=DDD"], "'mode' is given on its own"),
])
def test_bad_params_are_argument_errors(items: list[str], words: str) -> None:
    with pytest.raises(VectorArgumentError, match=words):
        parse_params(items)


def test_params_read_as_their_specs_take_them() -> None:
    assert parse_params(["lower_rate_timing=Atrial", "hysteresis_rate_ppm=off", "atr_mode=on",
                         "atrial_amplitude_v=2.5", "activity_threshold=med-high"]) == {
        "lower_rate_timing": LowerRateTiming.ATRIAL, "hysteresis_rate_ppm": None,
        "atr_mode": True, "atrial_amplitude_v": 2.5,
        "activity_threshold": PARAMETERS["activity_threshold"].values[4]}


@pytest.mark.parametrize(("spec", "words"), [
    ("sinu", "did you mean sinus?"),
    ("sinus:rate=70", "did you mean rate_bpm?"),
    ("pvcs:every=0.5", "every = 0.5 is not allowed; expected an integer 1 to 1000"),
    ("sinus:rate_bpm=nan", "is not allowed"),
    ("sinus:rate_bpm=fast", "is not a number"),
])
def test_bad_patterns_name_the_option(spec: str, words: str) -> None:
    with pytest.raises(PatternError, match=words) as info:
        parse_pattern(spec)
    assert info.value.source == "--pattern" and str(info.value).startswith("--pattern: ")


@pytest.mark.parametrize(("args", "words"), [
    (["--param", "lower_rate_pmm=60"], "--param: 'lower_rate_pmm=60'"),
    (["--param", "lower_rate_ppm=7"], "--param: lower_rate_ppm=7 is not allowed"),
    (["--param", "pvarp_ms=400"], "--param: fixed_av_delay_ms=150 breaks"),
    (["--mode", "VOOO"], "--mode: mode='VOOO' is not a pacing mode (did you mean VOO?)"),
    (["--duration-s", "nan"], "--duration-s: nan is not allowed"),
    (["--tolerance-ms", "-1"], "--tolerance-ms: -1.0 is not allowed"),
    (["--pattern", "sinu"], "--pattern: unknown pattern 'sinu'"),
])
def test_generate_reports_bad_arguments_as_config_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str) -> None:
    base = {"--mode": "DDD", "--pattern": "sinus", "--duration-s": "2",
            "--out": str(tmp_path / "v.json")}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = ["vectors", "generate", *[x for kv in base.items() for x in kv]]
    assert main(argv) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "v.json").exists()


def test_generate_accepts_enum_names_and_writes_them_by_name(tmp_path: Path) -> None:
    out = tmp_path / "v.json"
    assert main(["vectors", "generate", "--mode", "ddd", "--param", "lower_rate_timing=atrial",
                 "--pattern", "sinus", "--duration-s", "2", "--out", str(out)]) == 0
    text = out.read_text()
    assert '"mode": "DDD"' in text and '"lower_rate_timing": "ATRIAL"' in text
    assert parse_vectors(text).parameters["lower_rate_timing"] is LowerRateTiming.ATRIAL
