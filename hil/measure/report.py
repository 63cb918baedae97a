"""Evidence of a measurement-suite run: JUnit (one case per measurement) and an HTML section
(a verdict table and a plot of a measured pulse), written with :mod:`hil.reports.junit`."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from devicetwin.conformance import Measurement, Verdict, judge
from hil.instruments.interfaces import Waveform
from hil.measure.waveform import Pulse
from hil.reports.junit import JUnitCase, JUnitSuite, write_junit

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left} th{background:#f2f2f2}
.pass{color:#1e7b34;font-weight:bold} .fail{color:#b03a2e;font-weight:bold}
img{max-width:100%;border:1px solid #eee;margin:6px 0}
"""


def _num(value: float | str | None) -> str:
    if value is None:
        return "not observed"
    if isinstance(value, str):  # a categorical measurement's word
        return value
    if math.isnan(value):
        return "missing"
    return f"{value:.4g}"


def junit_cases(measurements: Sequence[Measurement], classname: str = "measure") -> list[JUnitCase]:
    """One case per measurement: requirement ID, value, unit and limits as properties; the
    verdict's sentence as the failure message when it failed."""
    cases = []
    for m in measurements:
        v = judge(m)
        props = (
            ("measured", _num(m.value)), ("unit", m.unit),
            ("low", "" if m.limits.low is None else f"{m.limits.low:g}"),
            ("high", "" if m.limits.high is None else f"{m.limits.high:g}"),
            ("limits", m.limits.describe(m.unit)), ("description", m.description),
        )
        cases.append(JUnitCase(
            f"{classname}.{m.name.split('.')[0]}", m.name, 0.0, (m.requirement_id,), props,
            failure=v.sentence if v.failed else None, stdout=v.sentence,
            skipped=None if v.applicable else v.sentence,
        ))
    return cases


def pulse_png(wf: Waveform, pulse: Pulse, *, margin_ms: float = 0.3) -> bytes:
    """A measured pulse: the capture, the 50 % level, the edges and the fitted amplitudes."""
    t = wf.times_s()
    lo, hi = pulse.t_lead_s - margin_ms * 1e-3, pulse.t_trail_s + margin_ms * 1e-3
    sel = (t >= lo) & (t <= hi)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    t0 = pulse.t_lead_s
    ax.plot((t[sel] - t0) * 1e3, wf.volts[sel], lw=1, color="#1f4e79", label="capture")
    sign = pulse.polarity
    w_ms = pulse.width_ms.value
    ax.plot([0, w_ms], [sign * pulse.leading_edge_v.value, sign * pulse.trailing_edge_v.value],
            "o", color="#c0392b", label="leading / trailing edge")
    half = sign * 0.5 * pulse.leading_edge_v.value
    ax.axhline(half, ls=":", color="#888", label="50 % of leading edge")
    for x in (0.0, w_ms):
        ax.axvline(x, ls="--", color="#888", lw=0.8)
    ax.set_xlabel("time from leading edge, ms")
    ax.set_ylabel("V across the load")
    ax.set_title(f"{pulse.leading_edge_v} leading, {pulse.width_ms} wide, "
                 f"{pulse.energy_uj}", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def html_section(verdicts: Sequence[Verdict], plot: tuple[Waveform, Pulse] | None = None) -> str:
    """An HTML ``<section>``: the verdict table and, when given, the plot of a measured pulse."""
    rows = []
    for v in verdicts:
        mark = ('<span class="fail">FAIL</span>' if v.failed else
                '<span class="pass">PASS</span>' if v.passed else 'N/A')
        rows.append(
            f"<tr><td>{html.escape(v.name)}</td><td>{html.escape(v.requirement_id)}</td>"
            f"<td>{_num(v.value)} {html.escape(v.unit)}</td>"
            f"<td>{html.escape(v.limits.describe(v.unit))}</td><td>{mark}</td></tr>"
        )
    head = ("<tr><th>measurement</th><th>requirement</th><th>value</th><th>limits</th>"
            "<th>verdict</th></tr>")
    parts = ["<section><h2>Bench measurements (ISO 14708-2 style)</h2>",
             f"<table>{head}{''.join(rows)}</table>"]
    if plot is not None:
        data = base64.b64encode(pulse_png(*plot)).decode("ascii")
        parts.append(f'<img alt="measured pulse" src="data:image/png;base64,{data}">')
    parts.append("</section>")
    return "".join(parts)


def write_measure_report(measurements: Sequence[Measurement], out_dir: Path | str, *,
                         plot: tuple[Waveform, Pulse] | None = None,
                         title: str = "measurement suite") -> dict[str, Path]:
    """Write ``junit.xml``, ``report.html`` and ``measurements.json`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    verdicts = [judge(m) for m in measurements]
    junit = write_junit(out / "junit.xml", [JUnitSuite(title, junit_cases(measurements))])
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"{html_section(verdicts, plot)}</body></html>")
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    data = out / "measurements.json"
    data.write_text(json.dumps([_jsonable(v.to_dict()) for v in verdicts], indent=1))
    return {"junit": junit, "html": report, "json": data}


def _jsonable(d: dict[str, object]) -> dict[str, object]:
    value = d.get("value")
    if isinstance(value, float) and math.isnan(value):
        d["value"] = None
    return d
