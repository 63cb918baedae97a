"""Whatever a scenario file holds, loading gives a valid Scenario or a ScenarioError naming it.

The documents are the built-in library files, mutated: keys renamed (typos and names from other
tables), values replaced (wrong types, out of range, off the grid, not finite, dates), tables and
keys deleted or added, and lines of the text rewritten. No TypeError, KeyError, ValueError or any
other exception may come out of ``parse_scenario``.
"""

from __future__ import annotations

import json
import math
import pickle
import tomllib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devicetwin.heart import PRESETS, HeartError
from devicetwin.pacemaker import PARAMETERS, Mode
from hil.errors import ConfigError
from hil.scenarios import HAZARDS, LIBRARY_DIR, ScenarioError, library_names, parse_scenario
from hil.scenarios.model import TIMELINE_ACTIONS
from hil.session.mapping import programming_from
from hil.session.runner import build_heart
from hil.session.timeline import heart_changes

FILE = "mutant.toml"
TEXTS = {n: (LIBRARY_DIR / f"{n}.toml").read_text(encoding="utf-8") for n in library_names()}
DOCS = {n: tomllib.loads(t) for n, t in TEXTS.items()}

Node = tuple[Any, ...]


def _paths(node: Any, prefix: Node = ()) -> list[Node]:
    """Every key and list index in ``node``, as paths from the root."""
    out: list[Node] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*prefix, k))
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((*prefix, i))
            out += _paths(v, (*prefix, i))
    return out


def _keys_in(docs: dict[str, Any]) -> set[str]:
    return {p[-1] for d in docs.values() for p in _paths(d) if isinstance(p[-1], str)}


#: Names a mutation may write: every key the library uses, and every name of the closed sets.
NAMES = sorted(_keys_in(DOCS) | set(PARAMETERS) | set(Mode.__members__) | set(PRESETS)
               | set(HAZARDS) | set(TIMELINE_ACTIONS)
               | {"VOOO", "ddd", "atrial", "ATRIAL", "off", "lower_rate_pmm", "Med-High"})

SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.sampled_from([0, -1, 7, 33, 60.5, 1e308, -1e308, 0.125, 2**70]),
    st.text(max_size=12),
    st.sampled_from(NAMES),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(NAMES), inner, max_size=3)),
    max_leaves=6,
)

#: Raw TOML values only text can write: dates, a number past int()'s 4300-digit limit, deep
#: nesting, hex, multi-line strings.
TOKENS = ["1979-05-27T07:32:00Z", "07:32:00", "1979-05-27", "1" + "0" * 4400, "nan", "-inf",
          "[" * 2000 + "]" * 2000, "0x1F", '"""a\nb"""', "{}", "[]", "[[1], {a = 1}]", "true",
          '"VOOO"', "1e400", "-0.0"]


def _toml(value: Any) -> str:
    """``value`` as a TOML value (tables inline, so one document is one line per top key)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def _dump(doc: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in doc.items())


def _parent(doc: Any, path: Node) -> Any:
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node


def _typo(data: st.DataObject, word: str) -> str:
    i = data.draw(st.integers(0, len(word)))
    kind = data.draw(st.sampled_from(["drop", "insert", "swap", "case"]))
    if kind == "drop" and word:
        return word[:max(0, i - 1)] + word[i:]
    if kind == "insert":
        return word[:i] + data.draw(st.sampled_from("abmpx_0")) + word[i:]
    if kind == "swap" and len(word) > 1:
        j = min(i, len(word) - 2)
        return word[:j] + word[j + 1] + word[j] + word[j + 2:]
    return word.upper()


def _mutate(data: st.DataObject, doc: dict[str, Any]) -> None:
    # deepest first: hypothesis leans to the first choices, the top-level keys come last
    paths = sorted(_paths(doc), key=len, reverse=True)
    path = data.draw(st.sampled_from(paths)) if paths else ()
    op = data.draw(st.sampled_from(["rename", "replace", "nudge", "delete", "insert"]))
    parent = _parent(doc, path) if path else doc
    key = path[-1] if path else None
    if op == "rename" and isinstance(parent, dict):
        new = data.draw(st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=10),
                                  st.just(_typo(data, str(key)))))
        parent[new] = parent.pop(key)
    elif op == "replace" and key is not None:
        parent[key] = data.draw(VALUES)
    elif op == "nudge" and key is not None and isinstance(parent[key], int | float):
        step = data.draw(st.sampled_from([1, -1, 0.5, 0.05, -0.001, 1000, 10**6]))
        parent[key] = parent[key] + step
    elif op == "delete" and key is not None:
        del parent[key]
    else:
        target = parent[key] if key is not None and isinstance(parent[key], dict) else doc
        target[data.draw(st.sampled_from(NAMES))] = data.draw(VALUES)


def _rewrite_line(data: st.DataObject, text: str) -> str:
    lines = text.splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    line = lines[i]
    op = data.draw(st.sampled_from(["value", "key", "delete", "duplicate"]))
    if op == "value" and "=" in line:
        lines[i] = line.split("=", 1)[0] + "= " + data.draw(
            st.one_of(st.sampled_from(TOKENS), VALUES.map(_toml)))
    elif op == "key" and "=" in line:
        key, rest = line.split("=", 1)
        lines[i] = _typo(data, key.strip()) + " =" + rest
    elif op == "delete":
        del lines[i]
    else:
        lines.insert(i, line)
    return "\n".join(lines) + "\n"


def _load(text: str) -> None:
    """Loads, or raises the structured error naming the file; anything else fails the test.

    What loads is trusted downstream (validated once, at the boundary): its programming, its
    patient and its timeline's condition changes are accepted by the twin, and the changes it
    expects refused can be put on the wire.
    """
    try:
        sc = parse_scenario(text, FILE)
    except ScenarioError as err:
        assert isinstance(err, ConfigError)
        assert err.source == FILE and err.file == FILE
        assert str(err).startswith(f"{FILE}:"), str(err)
        assert err.line is None or 1 <= err.line <= text.count("\n") + 1, (err.line, str(err))
        back = pickle.loads(pickle.dumps(err))
        assert (str(back), back.line, back.field) == (str(err), err.line, err.field)
        return
    programming_from(sc.mode, sc.parameters)
    for changes in sc.must_refuse:
        for name, value in changes.items():
            PARAMETERS[name].to_wire(value)
    heart = build_heart(sc)
    for entry in sc.timeline:
        change = heart_changes(entry, heart)
        if change is None:
            continue
        try:
            heart.schedule(entry.at_us - entry.at_us % 1000, change[0], **change[1])
        except HeartError:
            # the physiological range of a value an action derives (a noise amplitude, an AF
            # cycle) is the heart's to judge when it is scheduled; the fields of heart and
            # condition actions are checked on loading
            assert entry.action not in ("heart", "condition"), entry


FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(st.sampled_from(sorted(DOCS)), st.data())
def test_mutated_documents_load_or_raise_a_scenario_error(name: str, data: st.DataObject
                                                          ) -> None:
    doc = json.loads(json.dumps(DOCS[name]))  # a deep copy (the library holds no dates)
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(data, doc)
    _load(_dump(doc))


@FUZZ
@given(st.sampled_from(sorted(TEXTS)), st.data())
def test_rewritten_lines_load_or_raise_a_scenario_error(name: str, data: st.DataObject) -> None:
    text = TEXTS[name]
    for _ in range(data.draw(st.integers(1, 2))):
        text = _rewrite_line(data, text)
    _load(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_raises_a_scenario_error(text: str) -> None:
    _load(text)


def test_the_library_documents_round_trip_through_the_dumper() -> None:
    """The fuzz starts from valid documents: each library file, dumped again, still loads."""
    for name, doc in DOCS.items():
        assert parse_scenario(_dump(doc), FILE).name == name
