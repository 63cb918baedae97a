"""Reading TOML files for people: every value's line, and errors that name the file, the line and
the field, with the closest valid names. Scenario files and device profiles are read with it.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from devicetwin.errors import DeviceTwinError, did_you_mean
from hil.errors import ConfigError

FieldPath = tuple[str, ...]
"""Where a value sits in the document: table and key names, array indices as strings."""


class ScenarioError(ConfigError):
    """A scenario file is invalid; the message names the file, line and field.

    ``file`` and ``field`` name where; ``line`` is the line in the file (None when unknown);
    ``source`` (the file) and ``line`` are the :class:`ConfigError` attributes every
    configuration error has.
    """

    def __init__(self, message: str, *, file: str, line: int | None, field: str,
                 value: Any = None, expected: str | None = None) -> None:
        super().__init__(f"field '{field}': {message}", name=field, value=value,
                         expected=expected, source=file, line=line or None)
        self.file = file
        self.field = field


# --- where each key is written ---------------------------------------------------------------

_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
                  r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
_KEY_PART = re.compile(r"[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'")


def _key_parts(dotted: str) -> FieldPath:
    return tuple(p.strip("\"'") for p in _KEY_PART.findall(dotted))


class _Frame:
    """An open inline array or table while scanning a value."""

    def __init__(self, path: FieldPath, is_array: bool) -> None:
        self.path = path
        self.is_array = is_array
        self.index = -1
        self.want = True  # an array waits for a value, a table for a key


class TomlLocator:
    """Finds the line of a field in TOML text (tomllib keeps no positions).

    Records the line of every table header, every key (dotted keys included) and every element
    and key inside inline arrays and tables, so an entry of a multi-line ``must_refuse = [...]``
    has its own line. The text has already parsed.
    """

    def __init__(self, text: str) -> None:
        self.lines: dict[FieldPath, int] = {}
        self._table: FieldPath = ()
        self._counts: dict[FieldPath, int] = {}
        self._stack: list[_Frame] = []
        self._string = ""  # the closing quotes of a multi-line string being read, if any
        for number, line in enumerate(text.splitlines(), start=1):
            self._line(line, number)

    def _record(self, path: FieldPath, number: int) -> None:
        self.lines.setdefault(path, number)

    def _line(self, line: str, number: int) -> None:
        pos = 0
        if not self._stack and not self._string:
            header = _HEADER.match(line)
            if header:
                parts = _key_parts(header.group(2))
                if header.group(1) == "[[":
                    index = self._counts.get(parts, 0)
                    self._counts[parts] = index + 1
                    parts = (*parts, str(index))
                self._table = parts
                self._record(parts, number)
                return
            key = _KEY.match(line)
            if not key:
                return
            path = (*self._table, *_key_parts(key.group(1)))
            self._record(path, number)
            pos = key.end()
            self._scan(line, pos, number, path)
            return
        self._scan(line, pos, number, ())

    def _scan(self, line: str, pos: int, number: int, value_path: FieldPath) -> None:
        """Track strings, inline arrays and inline tables in ``line`` from ``pos``."""
        while pos < len(line):
            if self._string:
                end = line.find(self._string, pos)
                if end < 0:
                    return
                pos, self._string = end + len(self._string), ""
                continue
            ch = line[pos]
            if ch == "#":
                return
            top = self._stack[-1] if self._stack else None
            if top is not None and not top.is_array and top.want:
                key = _KEY.match(line, pos)
                if key:
                    path = (*top.path, *_key_parts(key.group(1)))
                    self._record(path, number)
                    top.want, value_path, pos = False, path, key.end()
                    continue
            if top is not None and top.is_array and top.want and ch not in " \t,]":
                top.index += 1
                top.want = False
                value_path = (*top.path, str(top.index))
                self._record(value_path, number)
            if ch in "\"'":
                quote = ch * 3 if line.startswith(ch * 3, pos) else ch
                end = self._string_end(line, pos + len(quote), quote)
                if end < 0:
                    self._string = quote
                    return
                pos = end
                continue
            if ch in "[{":
                self._stack.append(_Frame(value_path, ch == "["))
            elif ch in "]}" and self._stack:
                self._stack.pop()
            elif ch == "," and top is not None:
                top.want = True
            pos += 1

    @staticmethod
    def _string_end(line: str, pos: int, quote: str) -> int:
        """The position after the closing ``quote`` in ``line`` from ``pos``, or -1."""
        while pos < len(line):
            if quote[0] == '"' and line[pos] == "\\":
                pos += 2
                continue
            if line.startswith(quote, pos):
                return pos + len(quote)
            pos += 1
        return -1

    def line_of(self, path: FieldPath) -> int:
        """The line where ``path`` (or its nearest enclosing table) is written; 0 if unknown."""
        for depth in range(len(path), 0, -1):
            number = self.lines.get(path[:depth])
            if number is not None:
                return number
        return 0


# --- reading values ----------------------------------------------------------------------------

def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


class TomlReader:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.locator = TomlLocator(text)

    def fail(self, path: FieldPath, message: str, value: Any = None,
             expected: str | None = None) -> ScenarioError:
        return ScenarioError(message, file=self.file, line=self.locator.line_of(path),
                             field=".".join(path), value=value, expected=expected)

    def keys(self, table: Mapping[str, Any], base: FieldPath, known: Iterable[str]) -> None:
        """Every key of ``table`` is one of ``known``, else an error with the closest."""
        allowed = tuple(known)
        for key in table:
            if key not in allowed:
                expected = "one of " + ", ".join(allowed)
                raise self.fail((*base, key), f"unknown field '{key}'"
                                f"{did_you_mean(key, allowed)}; expected {expected}", key,
                                expected)

    def choice(self, path: FieldPath, value: str, what: str, known: Iterable[str]) -> str:
        """``value`` if it is one of ``known``, else an error with the closest."""
        allowed = tuple(known)
        if value not in allowed:
            expected = "one of " + ", ".join(allowed)
            raise self.fail(path, f"unknown {what} {value!r}{did_you_mean(value, allowed)}; "
                            f"expected {expected}", value, expected)
        return value

    def get(self, table: Mapping[str, Any], path: FieldPath, kind: type | tuple[type, ...],
            expected: str, default: Any = ..., *, required: bool = False) -> Any:
        key = path[-1]
        if key not in table:
            if required or default is ...:
                raise self.fail(path[:-1] or path, f"missing required field '{key}'",
                                expected=expected)
            return default
        value = table[key]
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            raise self.fail(path, f"{value!r} is not {expected}", value, expected)
        if not isinstance(value, kind):
            raise self.fail(path, f"{value!r} is not {expected}", value, expected)
        return value

    def number(self, table: Mapping[str, Any], path: FieldPath, expected: str, default: Any = ...,
               *, low: float | None = None, high: float | None = None) -> float:
        value = self.get(table, path, (int, float), expected, default)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(path, f"{value!r} is not a finite number; expected {expected}",
                            value, expected)
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(path, f"{value!r} is out of range; expected {expected}", value,
                            expected)
        return float(value)

    def twin_error(self, err: DeviceTwinError | TypeError | ValueError, at: FieldPath,
                   names: Mapping[str, FieldPath]) -> ScenarioError:
        """A twin's error (ProgrammingError, HeartError) at the line of the value it names
        (``names`` maps a name to its place), else at ``at``."""
        name = getattr(err, "name", None)
        path = names.get(name, at) if isinstance(name, str) else at
        return self.fail(path, str(err), getattr(err, "value", None),
                         getattr(err, "expected", None))


#: The deepest nesting of arrays and inline tables a file may have (a scenario needs 3 or 4).
MAX_NESTING = 64


def nesting_depth(text: str, limit: int = MAX_NESTING) -> int:
    """How deep ``[``/``{`` nest in TOML ``text`` outside strings and comments, counted up to
    one past ``limit`` (then the scan stops).

    tomllib parses nesting by recursion: a file nested a few hundred deep ends in a
    ``RecursionError`` whose depth depends on the caller's stack, so it is refused here, before
    parsing, the same way wherever it is read.
    """
    depth = deepest = 0
    quote = ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest


def read_toml(text: str, file: str) -> dict[str, Any]:
    if nesting_depth(text) > MAX_NESTING:
        raise ScenarioError(f"nests arrays or inline tables more than {MAX_NESTING} deep",
                            file=file, line=None, field="(syntax)", value=None,
                            expected=f"valid TOML nested at most {MAX_NESTING} deep")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = re.search(r"line (\d+)", str(err))
        raise ScenarioError(str(err), file=file, line=int(match.group(1)) if match else None,
                            field="(syntax)", value=None, expected="valid TOML") from None
    except (ValueError, RecursionError) as err:
        # tomllib's int() limit (over 4300 digits) and its recursion on deep nesting
        raise ScenarioError(f"cannot be read as TOML: {err}", file=file, line=None,
                            field="(syntax)", value=None, expected="valid TOML") from None
