"""The self-contained HTML report of a run: verdicts, strips like a programmer's printout, a zoom
on every discrepancy, and interval plots (PNG images embedded as data URIs)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devicetwin.conformance import VerdictStatus
from devicetwin.pacemaker import MarkerEvent
from hil.recording.reader import read_record
from hil.reports.plots import intervals_png, strip_png
from hil.reports.tables import STATUS_TEXT, outcome_rows, timing_rows

if TYPE_CHECKING:
    from hil.session.runner import RunResult

_STRIP_MS = 6000
_ZOOM_MS = 1200
_MAX_ZOOMS = 12

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px} h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left} th{background:#f2f2f2}
.pass{color:#1e7b34;font-weight:bold} .fail{color:#b03a2e;font-weight:bold}
.na{color:#777;font-weight:bold}
img{max-width:100%;border:1px solid #eee;margin:6px 0} .small{color:#666;font-size:12px}
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _in(events: Sequence[MarkerEvent], lo_us: int, hi_us: int) -> list[MarkerEvent]:
    return [e for e in events if lo_us <= e.t_us <= hi_us]


def _strip(result: RunResult, lo_us: int, hi_us: int, title: str,
           highlight: Sequence[int] = ()) -> str:
    assert result.out_dir is not None
    rec = read_record(result.out_dir, "run")
    first, rows = rec.window(lo_us, hi_us)
    if len(rows) == 0:
        return ""
    signals = {name: rows[:, i] for i, name in enumerate(rec.names)}
    png = strip_png(
        first * 1000, rec.fs_hz, signals,
        {"device": _in(result.loop.device_events, lo_us, hi_us),
         "twin": _in(result.loop.twin_events, lo_us, hi_us)},
        title=title, highlight_us=highlight,
    )
    return _img(png, title)


def _table(rows: list[list[Any]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _mark(passed: bool) -> str:
    return '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'


_STATUS_CLASS = {VerdictStatus.PASS: "pass", VerdictStatus.FAIL: "fail",
                 VerdictStatus.NOT_APPLICABLE: "na"}


def _status(status: VerdictStatus) -> str:
    return f'<span class="{_STATUS_CLASS[status]}">{STATUS_TEXT[status]}</span>'


def _timing_table(result: RunResult) -> str:
    """The signed timing statistics (tables.timing_rows), in ms to 0.1 ms."""
    rows = timing_rows(result)
    if not rows:
        return "<p class='small'>nothing to compare</p>"
    return _table([[html.escape(r.label), *r.cells_ms(), html.escape(r.against)] for r in rows],
                  ["kind / measurement", "n", "median (bias) ms", "mean ms", "p5 ms", "p95 ms",
                   "max |error| ms", "against"])


def _outcome_table(result: RunResult) -> str:
    """The patient's outcome (tables.outcome_rows), with the scenario's limits."""
    rows = outcome_rows(result)
    if not rows:
        return "<p class='small'>no outcome measures</p>"
    return _table([[html.escape(r.name), html.escape(r.value), html.escape(r.unit),
                    html.escape(r.limit), _verdict_cell(r.verdict)] for r in rows],
                  ["outcome", "value", "unit", "limit", "verdict"])


def _verdict_cell(verdict: str) -> str:
    """An outcome row's verdict (``pass``, ``fail``, ``n/a`` or blank) as a coloured mark."""
    for status, text in STATUS_TEXT.items():
        if verdict == text.lower():
            return _status(status)
    return html.escape(verdict)


def render_report(result: RunResult) -> str:
    """The report's HTML text."""
    sc = result.scenario
    conf = result.conformance
    end = result.loop.end_us
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(sc.name)}"
        f"</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(sc.name)}: {_mark(result.passed)}</h1>",
        f"<p>{html.escape(sc.description)}</p>",
        _table(
            [["device", html.escape(f"{result.device.model} {result.device.firmware_version} "
                                    f"({result.device.spec})")],
             ["firmware SHA-256", f"<code>{result.device.firmware_hash}</code>"],
             ["seeded fault", html.escape(str(result.device.fault))],
             ["mode", result.programming.mode.name],
             ["patient", html.escape(sc.condition)],
             ["simulated", f"{end / 1e6:.1f} s"
              + (f" (cut short: {html.escape(result.loop.interrupted)})"
                 if result.loop.interrupted else "")],
             ["real-time factor", f"{result.realtime_factor:.1f}x"],
             ["requirements", html.escape(", ".join(sc.requirements))]],
            ["", ""],
        ),
        "<h2>Verdicts</h2>",
        _table([[html.escape(c.name), _status(c.status),
                 "" if c.status is VerdictStatus.NOT_APPLICABLE
                 else html.escape(str(c.measured)),
                 html.escape(c.required), html.escape(c.requirement)]
                for c in result.criteria],
               ["criterion", "result", "measured", "required", "requirement"]),
        "<h2>Patient outcome</h2>",
        _outcome_table(result),
        "<h2>Conformance (device vs twin)</h2>",
        _table([[conf.device_events, conf.predicted_events, conf.matched,
                 f"{conf.precision:.4f}", f"{conf.recall:.4f}",
                 f"{conf.timing_error.p50_ms:.1f} / {conf.timing_error.p95_ms:.1f} / "
                 f"{conf.timing_error.max_ms:.1f}"]],
               ["device events", "predicted", "matched", "precision", "recall",
                "|timing error| p50 / p95 / max (ms)"]),
        "<h3>Signed timing</h3>",
        "<p class='small'>Per marker kind: device minus twin over every pair of one kind; per "
        "interval measurement: measured minus expected. Negative is early or short; the median "
        "is the bias.</p>",
        _timing_table(result),
    ]
    if conf.counts:
        parts.append(_table([[html.escape(c.value), n] for c, n in conf.counts.items() if n],
                            ["discrepancy", "count"]))
    flags = result.hazard_flags()
    parts.append("<h2>Hazards</h2>")
    parts.append(_table([[html.escape(h), "detected" if d else "not detected",
                          html.escape(str(sc.expect.hazards.get(h, "")))]
                         for h, d in flags.items()], ["hazard", "found", "expected"]))
    if result.out_dir is not None:
        parts.append("<h2>Electrograms and marker channel</h2>")
        parts.append(_strip(result, 0, min(end, _STRIP_MS * 1000), "first seconds"))
        if conf.discrepancies:
            parts.append(f"<h2>Discrepancies ({len(conf.discrepancies)}; first "
                         f"{min(_MAX_ZOOMS, len(conf.discrepancies))} shown)</h2>")
            for d in conf.discrepancies[:_MAX_ZOOMS]:
                lo = max(0, d.t_us - _ZOOM_MS * 500)
                title = f"{d.cls.value} at {d.t_us / 1e6:.3f} s: {d.detail}"
                parts.append(f"<p class='small'>{html.escape(title)}</p>")
                parts.append(_strip(result, lo, lo + _ZOOM_MS * 1000, title, [d.t_us]))
        parts.append("<h2>Intervals</h2>")
        limits = {"LRI": float(result.programming.lri_ms), "URI": float(result.programming.uri_ms)}
        parts.append(_img(intervals_png(result.loop.device_events, limits_ms=limits,
                                        title="device intervals"), "intervals"))
    parts.append("<p class='small'>devicetwin report; record <code>run</code> (WFDB) "
                 "beside this file.</p></body></html>")
    return "\n".join(parts)


def write_report(result: RunResult, path: Path) -> Path:
    """Write the HTML report."""
    path.write_text(render_report(result), encoding="utf-8")
    return path
