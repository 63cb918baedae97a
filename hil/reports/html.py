"""The self-contained HTML report of a run: one file that opens offline.

Top to bottom: the verdict; the audit header (scenario and hash, programming table, device
identity, firmware hash, tool version, seeds, date and time, station); the criteria; an overview
of the patient's rate with every episode marked (click to jump); the whole record as strips at a
fixed paper speed and gain with the marker channel, its intervals and flags, scrolled in the page
(the images are pre-rendered, embedded as data URIs, and a few lines of inline script scroll
them); a Lewis ladder diagram for every episode (hazards, discrepancies, failed criteria); the
patient's outcome, conformance and the signed timing statistics.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devicetwin.conformance import VerdictStatus
from hil.recording.reader import Record, read_record
from hil.reports.episodes import Episode, failure_episodes, run_episodes
from hil.reports.header import criteria_count, header_html
from hil.reports.ladder import LADDER_PAPER, ladder_png
from hil.reports.overview import overview_svg
from hil.reports.plots import intervals_png
from hil.reports.strips import (
    EPISODE_COLOUR,
    FLAG_TEXT,
    Paper,
    StripLayout,
    key_figure,
    page_png,
    png_bytes,
)
from hil.reports.tables import STATUS_TEXT, format_value, outcome_rows, timing_rows
from hil.results import RunResult

#: CSS pixels per millimetre (CSS fixes 96 px to the inch): the strips are shown in millimetres.
CSS_PX_PER_MM = 96 / 25.4
#: Ladders drawn at most (the strips still mark every episode).
MAX_LADDERS = 60
#: A ladder shows this much before an episode's start and after its end (us) ...
_LADDER_MARGIN_US = 1_500_000
#: ... and at most this long a stretch; a longer episode gets one at its start and one at its end.
_LADDER_SPAN_US = 4_500_000

_CSS = """
body{font-family:system-ui,sans-serif;margin:20px;color:#222}
main{max-width:1180px}
h1{font-size:22px}
h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ccc;padding:2px 7px;text-align:left;vertical-align:top}
th{background:#f2f2f2;font-weight:600}
table.audit th{width:260px} table.prog{font-size:12px}
tr.changed td{font-weight:bold} tr.inert td{color:#999}
code{font-size:12px;word-break:break-all}
.pass{color:#1e7b34;font-weight:bold} .fail{color:#b03a2e;font-weight:bold}
.na{color:#777;font-weight:bold} .small{color:#666;font-size:12px}
img.fig{max-width:100%;border:1px solid #eee;margin:6px 0}
.stripwrap{display:flex;border:1px solid #bbb;background:#fff}
.stripwrap img.key{flex:none;border-right:1px solid #bbb}
#strips{overflow-x:auto;overflow-y:hidden;display:flex;flex-wrap:nowrap}
#strips img{flex:none;display:block;max-width:none}
.controls{margin:6px 0;font-size:13px} .controls input{width:70px}
.ladder img{max-width:none;border:1px solid #eee}
.ladder{overflow-x:auto;margin-bottom:14px}
svg .episode{cursor:pointer} svg{cursor:crosshair}
.swatch{display:inline-block;width:10px;height:10px;margin:0 3px 0 10px}
@page{size:A4 landscape;margin:10mm}
@media print{main{max-width:none} .controls{display:none} #strips{flex-wrap:wrap;overflow:visible}
  .stripwrap{display:block} .stripwrap img.key{display:none} #strips img{margin-bottom:3mm}}
"""

_SCRIPT = """
var PX_PER_MS = %(px_per_ms)s, SPAN_MS = %(span_ms)s;
function go(ms){
  var s = document.getElementById('strips'); if(!s) return;
  ms = Math.max(0, Math.min(SPAN_MS, ms));
  s.scrollLeft = Math.max(0, ms * PX_PER_MS - s.clientWidth * 0.25);
  document.getElementById('now').textContent = (ms / 1000).toFixed(2) + ' s';
  document.getElementById('strip-section').scrollIntoView({block: 'start'});
}
function shift(pages){
  var s = document.getElementById('strips'); s.scrollLeft += pages * s.clientWidth * 0.9;
}
(function(){
  var o = document.getElementById('overview');
  if(o) o.addEventListener('click', function(ev){
    var p = o.createSVGPoint(); p.x = ev.clientX; p.y = ev.clientY;
    var q = p.matrixTransform(o.getScreenCTM().inverse());
    var ms = (q.x - o.dataset.left) / o.dataset.width * o.dataset.spanMs;
    if(ms >= 0 && ms <= SPAN_MS) go(ms);
  });
  var s = document.getElementById('strips');
  if(s) s.addEventListener('scroll', function(){
    document.getElementById('now').textContent =
      ((s.scrollLeft + s.clientWidth * 0.25) / PX_PER_MS / 1000).toFixed(2) + ' s';
  });
  // report.html#t=12.5 opens the strips at 12.5 s: a moment can be linked
  var m = /^#t=([0-9.]+)$/.exec(location.hash);
  if(m) window.addEventListener('load', function(){ go(parseFloat(m[1]) * 1000); });
})();
"""


def _img(png: bytes, alt: str, cls: str = "fig", size: tuple[int, int] | None = None,
         px_per_mm: float | None = None) -> str:
    """An embedded PNG; with ``px_per_mm`` it is shown at its true size in CSS millimetres, so
    the strips are at their paper speed and gain on screen (at 100 % zoom) and in print."""
    data = base64.b64encode(png).decode("ascii")
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    if size and px_per_mm:
        dims += (f' style="width:{size[0] / px_per_mm:.3f}mm;'
                 f'height:{size[1] / px_per_mm:.3f}mm"')
    return f'<img class="{cls}" alt="{html.escape(alt)}"{dims} src="data:image/png;base64,{data}">'


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


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


def _criteria_table(result: RunResult) -> str:
    return _table([[html.escape(c.name), _status(c.status),
                    "" if c.status is VerdictStatus.NOT_APPLICABLE
                    else html.escape(f"{format_value(c.value)} {c.unit}".strip()),
                    html.escape(c.required), html.escape(c.requirement_id)]
                   for c in result.criteria],
                  ["criterion", "result", "measured", "required", "requirement"])


def episodes_of(result: RunResult) -> list[Episode]:
    """Every episode of the run: hazards, discrepancies, and failed criteria with evidence."""
    eps = run_episodes(pmt=result.outcomes.pmt.episodes, device=result.loop.device_events,
                       heart=result.loop.heart_events, findings=result.hazards,
                       discrepancies=result.conformance.discrepancies,
                       end_us=result.loop.end_us)
    eps += failure_episodes(result.criteria)
    return sorted(eps, key=lambda e: (e.start_us, e.kind.value))


@dataclass(frozen=True, slots=True)
class LadderWindow:
    """One ladder: the span it draws, the episodes it shows, and which part of them (``start``
    or ``end`` of a long one, else empty)."""

    episodes: tuple[Episode, ...]
    lo_us: int
    hi_us: int
    part: str


def ladder_windows(episodes: Sequence[Episode], end_us: int) -> list[LadderWindow]:
    """The ladders to draw: each episode with a margin; one longer than the span allows gets a
    ladder at its start and one at its end. Episodes that need the same span share a ladder."""
    spans: dict[tuple[int, int, str], list[Episode]] = {}
    for ep in episodes:
        lo = max(0, ep.start_us - _LADDER_MARGIN_US)
        hi = min(end_us, ep.end_us + _LADDER_MARGIN_US)
        if hi - lo <= _LADDER_SPAN_US + _LADDER_MARGIN_US:
            spans.setdefault((lo, hi, ""), []).append(ep)
            continue
        spans.setdefault((lo, lo + _LADDER_SPAN_US, "start"), []).append(ep)
        spans.setdefault((max(lo, hi - _LADDER_SPAN_US), hi, "end"), []).append(ep)
    return [LadderWindow(tuple(eps), lo, hi, part)
            for (lo, hi, part), eps in sorted(spans.items(), key=lambda kv: kv[0][:2])]


def _fmt_s(t_us: int) -> str:
    return f"{t_us / 1e6:.2f} s"


def _episode_table(episodes: Sequence[Episode], laddered: set[str]) -> str:
    if not episodes:
        return "<p class='small'>nothing happened worth a ladder: no hazard episode, " \
               "discrepancy or failed criterion.</p>"
    rows = []
    for ep in episodes:
        swatch = f"<span class='swatch' style='background:{EPISODE_COLOUR[ep.kind]}'></span>"
        links = f"<a href='javascript:go({ep.start_us // 1000})'>strip</a>"
        if ep.anchor in laddered:
            links += f" · <a href='#{ep.anchor}'>ladder</a>"
        rows.append([swatch + html.escape(ep.kind.value), _fmt_s(ep.start_us),
                     _fmt_s(ep.end_us), html.escape(ep.text), links])
    return _table(rows, ["episode", "from", "to", "what", "see"])


def _strips_html(result: RunResult, rec: Record, layout: StripLayout) -> str:
    signals = {name: rec.signals[:, i] for i, name in enumerate(rec.names)}
    p = layout.paper
    step = round(p.page_s * 1e6)
    pages = []
    for start in layout.page_starts_us():
        stop = min(start + step, result.loop.end_us)
        png = page_png(layout, start, stop, signals, rec.fs_hz)
        pages.append(_img(png, f"record {_fmt_s(start)} to {_fmt_s(stop)}", "page",
                          _png_size(png), p.px_per_mm))
    key = png_bytes(key_figure(layout))
    flags = ", ".join(f"{short} {flag.name.lower().replace('_', ' ')}"
                      for flag, short in FLAG_TEXT.items() if flag.name)
    return (
        f"<p class='small'>The whole record at {p.speed_mm_per_s:g} mm/s (a small square is "
        f"1 mm, {1000 / p.speed_mm_per_s:g} ms; a large one 5 mm), each signal at its fixed "
        "gain beside it (the calibration pulse is 1 mV); traces are cut at their band's edge as "
        "on paper. Marker channel: paces red, senses blue, device markers purple; atrial and "
        "device markers above the line, ventricular below; refractory senses in brackets; pace "
        f"flags in square brackets ({html.escape(flags)}). AV and VA intervals, then V-V, in "
        "ms. Pale yellow bands are discrepancies.</p>"
        "<div class='controls'>at <b id='now'>0.00 s</b> · go to "
        "<input id='goto' type='number' min='0' step='0.1' value='0'> s "
        "<button onclick=\"go(document.getElementById('goto').value*1000)\">go</button> "
        "<button onclick='shift(-1)'>&larr; back</button> "
        "<button onclick='shift(1)'>forward &rarr;</button></div>"
        f"<div class='stripwrap'>{_img(key, 'key', 'key', _png_size(key), p.px_per_mm)}"
        f"<div id='strips'>{''.join(pages)}</div></div>"
    )


def _ladders_html(result: RunResult, windows: Sequence[LadderWindow]) -> str:
    loop = result.loop
    disc = [d.t_us for d in result.conformance.discrepancies]
    parts = []
    seen: set[str] = set()
    for w in windows:
        heads = [f"{ep.kind.value} {_fmt_s(ep.start_us)} to {_fmt_s(ep.end_us)}: {ep.text}"
                 for ep in w.episodes]
        title = f"{_fmt_s(w.lo_us)} to {_fmt_s(w.hi_us)}" + (f" ({w.part} of a long episode)"
                                                             if w.part else "")
        anchors = "".join(f"<span id='{ep.anchor}'></span>" for ep in w.episodes
                          if ep.anchor not in seen)
        seen.update(ep.anchor for ep in w.episodes)
        png = ladder_png(loop.heart_events, loop.device_events, loop.twin_events, w.lo_us,
                         w.hi_us, highlight_us=[t for t in disc if w.lo_us <= t <= w.hi_us])
        items = "".join(f"<li>{html.escape(h)}</li>" for h in heads)
        parts.append(
            f"<div class='ladder'>{anchors}<p><b>{html.escape(title)}</b> · "
            f"<a href='javascript:go({w.lo_us // 1000})'>show in the strip</a></p>"
            f"<ul class='small'>{items}</ul>"
            f"{_img(png, title, 'lad', _png_size(png), LADDER_PAPER.px_per_mm)}</div>")
    return "".join(parts)


def render_report(result: RunResult) -> str:
    """The report's HTML text."""
    sc = result.scenario
    conf = result.conformance
    end = result.loop.end_us
    rec: Record | None = None
    if result.out_dir is not None and (result.out_dir / "run.hea").exists():
        rec = read_record(result.out_dir, "run")
    started = rec.start if rec is not None else None
    episodes = episodes_of(result)
    windows = ladder_windows(episodes, end)
    shown = windows[:MAX_LADDERS]
    paper = Paper()
    count = criteria_count(result)
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(sc.name)}: {result.verdict}</title><style>{_CSS}</style></head>"
        "<body><main>",
        f"<h1>{html.escape(sc.name)}: {_mark(result.passed)} "
        f"<span class='small'>{html.escape(count.text())}</span></h1>",
        f"<p>{html.escape(sc.description)}</p>",
        "<h2>Run</h2>",
        header_html(result, started),
        "<h2>Verdicts</h2>",
        _criteria_table(result),
        "<h2>Overview</h2>",
        "<p class='small'>The patient's rate beat to beat (heart ground truth) with the "
        "programmed lower and upper rate; shaded spans are episodes. Click anywhere to see "
        "that moment in the strips below.</p>",
        overview_svg(result.loop.heart_events, episodes, end,
                     lower_rate_ppm=result.programming.lower_rate_ppm,
                     upper_rate_ppm=result.programming.upper_rate_ppm),
        _episode_table(episodes, {ep.anchor for w in shown for ep in w.episodes}),
    ]
    if rec is not None and len(rec.signals):
        layout = StripLayout.build(paper, rec.names, end, result.loop.device_events,
                                   result.loop.twin_events, episodes,
                                   [d.t_us for d in conf.discrepancies])
        parts += ["<h2 id='strip-section'>Electrograms, ECG and marker channel</h2>",
                  _strips_html(result, rec, layout)]
    else:
        parts.append("<p class='small' id='strip-section'>no record: no strips</p>")
    if windows:
        parts.append(f"<h2>Ladder diagrams ({len(shown)}"
                     + (f" of {len(windows)}; the rest are marked in the strips" if
                        len(shown) < len(windows) else "") + ")</h2>")
        parts.append(
            "<p class='small'>Lewis ladders: atrium (A), AV node (AV) and ventricle (V) from the "
            "heart's ground truth (black sinus or conducted, orange ectopic, green escape, "
            "purple retrograde with dashed upward conduction, red paced; a cross is a pace "
            "that did not capture); red arrows are the device's paces; under the ladder the "
            "device's markers and the twin's predictions. Yellow bands are discrepancies.</p>")
        parts.append(_ladders_html(result, shown))
    parts += [
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
    if result.loop.device_events:
        parts.append("<h2>Intervals</h2>")
        limits = {"LRI": float(result.programming.lri_ms),
                  "URI": float(result.programming.uri_ms)}
        parts.append(_img(intervals_png(result.loop.device_events, limits_ms=limits,
                                        title="device intervals"), "intervals"))
    parts.append("<p class='small'>devicetwin report; record <code>run</code> (WFDB) "
                 "beside this file.</p></main>")
    parts.append("<script>" + _SCRIPT % {
        "px_per_ms": f"{CSS_PX_PER_MM * paper.speed_mm_per_s / 1000:.6f}",
        "span_ms": f"{end / 1000:g}"} + "</script></body></html>")
    return "\n".join(parts)


def write_report(result: RunResult, path: Path) -> Path:
    """Write the HTML report."""
    path.write_text(render_report(result), encoding="utf-8")
    return path


__all__ = ["MAX_LADDERS", "LadderWindow", "episodes_of", "ladder_windows", "render_report",
           "write_report"]
