"""The HTML twin report: the recording, what it tells, the twin's posteriors, observed against
predicted behaviour, the recommendation with its predicted outcomes and longevity, provenance.

It is built only from de-identified inputs (a twin file, an imported session), so it cannot show
what the importer dropped; every value is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.longevity import Battery, Longevity, LongevityError, programming_longevity
from devicetwin.pacemaker import Mode, Programming
from devicetwin.pacemaker.programming import value_to_plain
from devicetwin.twin import (
    BEHAVIOUR_UNITS,
    BeatLabelAnalysis,
    Estimate,
    RecordedSession,
    Twin,
    analyse_beat_labels,
    observed_behaviour,
)
from devicetwin.twin.provenance import Provenance
from hil.twin.plots import front_png, posterior_png, strip_png

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px} h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left} th{background:#f2f2f2}
img{max-width:100%;border:1px solid #eee;margin:6px 0} .small{color:#666;font-size:12px}
"""
#: Output assumed for the longevity when the recording does not state the programming.
ASSUMED_OUTPUT = "nominal output (3.5 V, 0.4 ms) into a 500 ohm lead"


@dataclass(frozen=True)
class LongevityRow:
    """One longevity figure of the report and what it assumes."""

    label: str
    longevity: Longevity
    assumption: str


def _e(value: object) -> str:
    return html.escape(str(value))


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
    return "".join(out) + "</table>"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _est(e: Estimate | None, digits: int = 1, scale: float = 1.0, unit: str | None = None) -> str:
    if e is None:
        return "not enough labels"
    u = e.unit if unit is None else unit
    return (f"{e.value * scale:.{digits}f} {u} (95 % CI {e.low * scale:.{digits}f}-"
            f"{e.high * scale:.{digits}f}; n = {e.n})")


def _programming(plain: Mapping[str, Any]) -> Programming:
    return Programming.from_plain(plain["mode"], dict(plain.get("parameters", {})))


def longevity_rows(twin: Twin | None, session: RecordedSession | None,
                   observed: Mapping[str, float | None],
                   analysis: BeatLabelAnalysis | None) -> list[LongevityRow]:
    """Longevity of the current programming at the observed burden, and of the current and
    recommended programmings at the burdens the twin predicts; with a labelled ECG and no
    programming, of a VVI device at the implied lower rate with :data:`ASSUMED_OUTPUT`."""
    battery = twin.battery if twin is not None else Battery()
    impedance = twin.lead_impedance_ohm if twin is not None else 500.0
    rows: list[LongevityRow] = []

    def add(label: str, prog: Programming, a_pct: float | None, v_pct: float | None,
            rate: float | None, assumption: str) -> None:
        try:
            lon = programming_longevity(
                battery, prog, atrial_paced_fraction=(a_pct or 0.0) / 100.0,
                ventricular_paced_fraction=(v_pct or 0.0) / 100.0, rate_ppm=rate,
                atrial_impedance_ohm=impedance, ventricular_impedance_ohm=impedance)
        except LongevityError as err:
            rows.append(LongevityRow(label, Longevity(float("nan"), 0, 0, ()), str(err)))
            return
        rows.append(LongevityRow(label, lon, assumption))

    plain = (twin.programming if twin is not None and twin.programming is not None
             else session.programming if session is not None else None)
    rate = observed.get("ventricular_rate_bpm")
    if plain is not None:
        add("current programming, observed pacing", _programming(plain),
            observed.get("atrial_paced_pct"), observed.get("ventricular_paced_pct"), rate,
            f"battery {battery.capacity_ah:g} Ah x {battery.usable_fraction:g} usable, "
            f"{battery.static_current_ua:g} uA static, {impedance:g} ohm leads")
    elif analysis is not None and analysis.implied_lower_rate_ppm is not None:
        paced = analysis.paced_fraction.value * 100 if analysis.paced_fraction else 100.0
        prog = Programming.nominal(Mode.VVI, lower_rate_ppm=analysis.implied_lower_rate_ppm)
        paced_rate = analysis.paced_rate_ppm.value if analysis.paced_rate_ppm else None
        add("VVI at the implied lower rate, observed pacing", prog, 0.0, paced, paced_rate,
            f"{ASSUMED_OUTPUT}; the recording does not show the output; battery "
            f"{battery.capacity_ah:g} Ah x {battery.usable_fraction:g}, "
            f"{battery.static_current_ua:g} uA static")
    rec = twin.recommendation if twin is not None else None
    if rec is not None:
        for label, prog_plain, pred in (("current programming, predicted", rec.current,
                                         rec.predicted_current),
                                        ("recommended programming, predicted", rec.recommended,
                                         rec.predicted_recommended)):
            add(label, _programming(prog_plain), pred.get("atrial_paced_percent"),
                pred.get("ventricular_paced_percent"), pred.get("ventricular_rate_mean_bpm"),
                "the twin's predicted pacing burden")
    return rows


def _provenance(p: Provenance) -> str:
    rows: list[list[object]] = [["source format", p.source_format],
                                ["device", p.device_pseudonym or "no serial number in the source"],
                                ["pseudonym salt", p.salt], ["imported by", f"devicetwin "
                                                             f"{p.tool_version}"]]
    rows += [[f"SHA-256 of {role}", digest] for role, digest in sorted(p.source_sha256.items())]
    rows += [["removed", what] for what in p.removed]
    return _table(["", ""], rows)


def _changed(current: Mapping[str, Any], recommended: Mapping[str, Any]) -> list[list[object]]:
    cur = _programming(current)
    new = _programming(recommended)
    rows: list[list[object]] = []
    if cur.mode is not new.mode:
        rows.append(["mode", cur.mode.name, new.mode.name])
    for name in type(cur).__dataclass_fields__:
        if name in ("mode", "allow_temporary_modes", "device_defined"):
            continue
        a, b = getattr(cur, name), getattr(new, name)
        if a != b:
            rows.append([name, value_to_plain(a), value_to_plain(b)])
    return rows


def render_twin_report(twin: Twin | None, session: RecordedSession | None,
                       signals: npt.NDArray[np.float64] | None = None) -> str:
    """The report's HTML for a twin, an imported session, or both."""
    if twin is None and session is None:
        raise ValueError("a twin report needs a twin or a session")
    title = f"Twin {twin.twin_id}" if twin is not None else f"Recording {session.session_id}" \
        if session is not None else ""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>"]
    observed: Mapping[str, float | None] = twin.observed if twin is not None else {}
    analysis: BeatLabelAnalysis | None = None
    if session is not None:
        if session.markers:
            observed = observed or observed_behaviour(session.markers, session.duration_us)
        if session.beats:
            analysis = analyse_beat_labels(session.beats)
        parts.append("<h2>Recording</h2>")
        parts.append(_table(["", ""], [
            ["session", session.session_id], ["duration", f"{session.duration_s:.1f} s"],
            ["waveforms", ", ".join(f"{s.name} ({s.units})" for s in session.signals) or "none"],
            ["sampling", f"{session.fs_hz:g} Hz" if session.fs_hz else "-"],
            ["device markers", len(session.markers)], ["beat labels", len(session.beats)],
            ["rhythm notes", ", ".join(f"{r.t_us / 1e6:.1f} s: {r.code}"
                                       for r in session.rhythms) or "none"]]))
        parts.append(_img(strip_png(session, signals), "the first 10 s of the recording"))
    if analysis is not None:
        parts.append("<h2>What the labelled ECG tells</h2>")
        a = analysis
        rows = [
            ["paced rate", _est(a.paced_rate_ppm)],
            ["pacing interval (mean)", _est(a.pacing_interval_ms)],
            ["pacing interval (median)", _est(a.pacing_interval_median_ms)],
            ["beat-to-beat scatter of paced intervals", f"{_num(a.interval_sd_ms)} ms SD, "
             f"lag-1 autocorrelation {_num(a.interval_lag1_autocorrelation, 2)}"],
            ["programmed lower rate it implies",
             f"{a.implied_lower_rate_ppm} ppm (grid values within +-8 ms of the interval: "
             f"{', '.join(str(v) for v in a.lower_rate_candidates_ppm) or 'none'})"
             if a.implied_lower_rate_ppm is not None else "not enough paced beats"],
            ["intrinsic rate", _est(a.intrinsic_rate_bpm)],
            ["paced beats", _est(a.paced_fraction, 1, 100.0, "%")],
            ["fusion beats", _est(a.fusion_fraction, 1, 100.0, "%")],
            ["escape interval after a sensed beat", _est(a.escape_interval_ms)],
            ["beat counts", ", ".join(f"{k}: {v}" for k, v in sorted(a.counts.items()))]]
        parts.append(_table(["", "estimate"], rows))
        parts.append("<p class='small'>Not observable from a surface ECG with beat labels: "
                     + "; ".join(_e(c) for c in a.cannot_tell) + ".</p>")
    if twin is not None and twin.posterior is not None:
        post = twin.posterior
        parts.append("<h2>Posteriors</h2>")
        q = post.quantiles([0.05, 0.5, 0.95])
        parts.append(_table(["parameter", "5 %", "median", "95 %"],
                            [[n, *(f"{v:.3g}" for v in q[n])] for n in post.names]))
        parts.append(f"<p class='small'>{_e(post.method)}; {len(post.samples)} samples.</p>")
        parts.append(_img(posterior_png(post), "posterior histograms"))
    if observed:
        parts.append("<h2>Observed against predicted behaviour</h2>")
        predicted = twin.predicted if twin is not None else {}
        rows = []
        for name, unit in BEHAVIOUR_UNITS.items():
            o, p = observed.get(name), predicted.get(name)
            diff = None if o is None or p is None else p - o
            rows.append([name, unit, _num(o), _num(p), _num(diff)])
        parts.append(_table(["measure", "unit", "observed", "predicted", "predicted - observed"],
                            rows))
    rec = twin.recommendation if twin is not None else None
    if rec is not None:
        parts.append("<h2>Recommendation</h2>")
        parts.append(f"<p class='small'>{_e(rec.method)}</p>")
        parts.append(_table(["parameter", "current", "recommended"],
                            _changed(rec.current, rec.recommended)))
        names = sorted(set(rec.predicted_current) | set(rec.predicted_recommended))
        parts.append(_table(["predicted outcome", "current", "recommended"],
                            [[n, _num(rec.predicted_current.get(n), 2),
                              _num(rec.predicted_recommended.get(n), 2)] for n in names]))
        objectives = sorted({k for p in rec.front for k in p})
        if len(rec.front) >= 2 and len(objectives) >= 2:
            parts.append(_img(front_png(rec.front, objectives[0], objectives[1],
                                        {"current": rec.predicted_current,
                                         "recommended": rec.predicted_recommended}),
                              "trade-off front"))
        if rec.evidence:
            parts.append(_table(["closed-loop evidence", ""],
                                [[k, v] for k, v in rec.evidence.items()]))
    lon = longevity_rows(twin, session, observed, analysis)
    parts.append("<h2>Battery longevity</h2>")
    if lon:
        parts.append(_table(["", "years", "static uA", "pacing uA", "multiplier", "assumes"],
                            [[r.label, _num(r.longevity.years), _num(r.longevity.static_current_ua),
                              _num(r.longevity.pacing_current_ua, 2),
                              ", ".join(f"{m:g}x" for m in r.longevity.multipliers) or "-",
                              r.assumption] for r in lon]))
        parts.append("<p class='small'>114 x usable capacity (Ah) / mean current drain (uA); "
                     "docs/twin.md.</p>")
    else:
        parts.append("<p>No programming and no labelled pacing: nothing to base it on.</p>")
    prov = twin.provenance if twin is not None else session.provenance if session else None
    if prov is not None:
        parts.append("<h2>Provenance</h2>" + _provenance(prov))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_twin_report(path: Path | str, twin: Twin | None, session: RecordedSession | None,
                      signals: npt.NDArray[np.float64] | None = None) -> Path:
    """Write the report to ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_twin_report(twin, session, signals), encoding="utf-8")
    return p
