"""Import a plain CSV marker log as a de-identified session.

The log::

    # comment lines are dropped, whatever they say; a serial number given as
    # "# serial: PM1234567" (or "serial number", "device serial", "sn") becomes a salted hash
    t_ms,marker
    0,AS
    152,VS
    1000,AP

One time column: ``t_us`` or ``t_ms`` (numbers), or ``time`` (ISO 8601 date-times); times are
made relative to the first row, so neither a date nor a clock time survives. A ``marker``
column with the marker codes of the bench (``AS AP AR AT VS VP VR PVC TN ATR_DUR ATR_FB ATR_END
PVARP_EXT``, pace flags in brackets: ``VP[HYSTERESIS]``; ``(AS)`` and ``(VS)`` stand for AR and
VR); an optional ``chamber`` column (A, V, X; needed only for TN on the ventricular channel); an
optional ``serial`` column. Any other column is ignored and never copied.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind
from devicetwin.twin import RecordedSession
from devicetwin.twin.deidentify import marker_note, pseudonym
from hil.errors import ConfigError
from hil.twin.sources import hash_sources, new_salt, provenance, session_id
from hil.twin.wfdb_import import ImportedSession

TIME_COLUMNS = ("t_us", "t_ms", "time")
SERIAL_KEYS = ("serial", "serial number", "device serial", "sn")
_MARKER_CODES = " ".join(k.value for k in MarkerKind)
_BRACKETED = {"(AS)": "AR", "(VS)": "VR"}
_A_KINDS = (MarkerKind.AS, MarkerKind.AP, MarkerKind.AR, MarkerKind.AT)
_X_KINDS = (MarkerKind.ATR_DUR, MarkerKind.ATR_FB, MarkerKind.ATR_END, MarkerKind.PVARP_EXT)


def _comment_serial(line: str) -> str | None:
    body = line.lstrip("#").strip()
    for sep in (":", "="):
        key, found, value = body.partition(sep)
        if found and key.strip().casefold() in SERIAL_KEYS and value.strip():
            return value.strip()
    return None


def _time_us(column: str, raw: str, src: str, line: int) -> int | datetime:
    text = raw.strip()
    try:
        if column == "time":
            return datetime.fromisoformat(text)
        value = float(text)
    except ValueError:
        words = "an ISO 8601 date-time" if column == "time" else "a number"
        raise ConfigError(f"{column} {raw!r} is not {words}", name=column, value=raw,
                          expected=words, source=src, line=line) from None
    if not math.isfinite(value):
        raise ConfigError(f"{column} {raw!r} is not finite", name=column, value=raw,
                          expected="a finite number", source=src, line=line)
    return round(value * (1000.0 if column == "t_ms" else 1.0))


def import_marker_csv(path: Path | str, *, salt: bytes | None = None) -> ImportedSession:
    """Import the CSV marker log at ``path`` (see the module docstring for its columns)."""
    p = Path(path)
    src = str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the marker log: {err}", name="csv", value=src,
                          expected="a readable UTF-8 CSV file", source=src) from None
    serials: set[str] = set()
    removed: list[str] = []
    rows: list[tuple[int, str]] = []
    n_comments = 0
    # lines end at \n, \r\n or \r only (str.splitlines would also split at form feeds)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("#"):
            n_comments += 1
            serial = _comment_serial(line)
            if serial:
                serials.add(serial)
        elif line.strip():
            rows.append((number, line))
    if n_comments:
        removed.append(f"{n_comments} comment line(s)")
    if not rows:
        raise ConfigError("the marker log has no header row", name="csv", value=src,
                          expected="a header row naming t_us, t_ms or time, and marker",
                          source=src)
    # one record per line: a quote never joins lines (a stray one stays in its own row)
    table = [next(csv.reader([line])) for _, line in rows]
    header = [h.strip().casefold() for h in table[0]]
    time_cols = [c for c in TIME_COLUMNS if c in header]
    if len(time_cols) != 1 or "marker" not in header:
        raise ConfigError(f"header columns {table[0]!r} need exactly one of "
                          f"{', '.join(TIME_COLUMNS)} and a 'marker' column", name="header",
                          value=table[0], expected="t_us|t_ms|time and marker",
                          source=src, line=rows[0][0])
    t_col, m_col = header.index(time_cols[0]), header.index("marker")
    c_col = header.index("chamber") if "chamber" in header else None
    s_col = header.index("serial") if "serial" in header else None
    ignored = [h for h in header if h not in (*TIME_COLUMNS, "marker", "chamber", "serial")]
    if ignored:
        removed.append(f"{len(ignored)} other column(s)")
    raw_events: list[tuple[int | datetime, MarkerEvent]] = []
    for (line_no, _), cells in zip(rows[1:], table[1:], strict=True):
        if len(cells) < len(header):
            raise ConfigError(f"row has {len(cells)} cells, the header {len(header)}",
                              name="row", value=cells, expected=f"{len(header)} cells",
                              source=src, line=line_no)
        if s_col is not None and cells[s_col].strip():
            serials.add(cells[s_col].strip())
        when = _time_us(time_cols[0], cells[t_col], src, line_no)
        code = cells[m_col].strip()
        parsed = marker_note(_BRACKETED.get(code, code))
        if parsed is None:
            raise ConfigError(f"marker {code!r} is not a marker code", name="marker",
                              value=code, expected=_MARKER_CODES + " (flags in brackets)",
                              source=src, line=line_no)
        kind, flags = parsed
        chamber = Chamber.A if kind in _A_KINDS else Chamber.X if kind in _X_KINDS else Chamber.V
        if c_col is not None and kind is MarkerKind.TN:
            try:
                chamber = Chamber(cells[c_col].strip().upper())
            except ValueError:
                raise ConfigError(f"chamber {cells[c_col]!r} is not A, V or X", name="chamber",
                                  value=cells[c_col], expected="A, V or X", source=src,
                                  line=line_no) from None
        raw_events.append((when, MarkerEvent(0, chamber, kind, flags=flags)))
    if not raw_events:
        raise ConfigError("the marker log has no markers", name="csv", value=src,
                          expected="at least one marker row", source=src)
    if len(serials) > 1:
        raise ConfigError(f"the marker log names {len(serials)} different device serial "
                          "numbers", name="serial", value=f"{len(serials)} serials",
                          expected="one device per log", source=src)
    first = raw_events[0][0]
    events = []
    for when, ev in raw_events:
        if isinstance(when, datetime) and isinstance(first, datetime):
            try:
                rel = (when - first).total_seconds()
            except TypeError:
                raise ConfigError("time mixes date-times with and without a time zone",
                                  name="time", value="(date-time)", expected="one kind",
                                  source=src) from None
            t_us = round(rel * 1e6)
        else:
            assert isinstance(when, int) and isinstance(first, int)
            t_us = when - first
        if t_us < 0:
            raise ConfigError("marker times go backwards (a row earlier than the first)",
                              name=time_cols[0], value=f"{t_us} us relative",
                              expected="non-decreasing times", source=src)
        events.append(MarkerEvent(t_us, ev.chamber, ev.kind, flags=ev.flags))
    if isinstance(first, datetime):
        removed.append("dates and clock times (made relative to the first marker)")
    else:
        removed.append("time offset of the first marker (times made relative to it)")
    events.sort(key=lambda e: e.t_us)
    device = None
    if serials:
        device = pseudonym(serials.pop(), salt or new_salt())
        removed.append("device serial number (replaced by a salted hash)")
    hashes = hash_sources({"csv": p})
    duration_us = max(1_000_000, -(-(events[-1].t_us + 1) // 1_000_000) * 1_000_000)
    session = RecordedSession(
        session_id=session_id(hashes), duration_us=duration_us, fs_hz=None, signals=(),
        markers=tuple(events), beats=(), rhythms=(),
        provenance=provenance("csv", hashes, device, salt is not None, removed))
    return ImportedSession(session, None)
