"""A trial's self-contained HTML report: the main result against the published one, the arms
and their upper-rate arithmetic, each endpoint per arm and stratum, the distributions per arm and
a forest plot of the paired differences (matplotlib SVG inline; no external files)."""

from __future__ import annotations

import html
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from devicetwin.outcomes import UNITS
from devicetwin.population import Population
from hil.trials.spec import TrialSpec
from hil.trials.summary import ALL, ComparisonResult, Estimate, TrialSummary

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
.pass{color:#176d2c;font-weight:600}.fail{color:#a1141c;font-weight:600}
.note{color:#555;font-size:.92em}code{background:#f5f5f5;padding:0 3px}"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _num(v: float | None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:.0f}"


def _ci(e: Estimate) -> str:
    if math.isnan(e.low):
        return _num(e.value)
    return f"{_num(e.value)} [{_num(e.low)}, {_num(e.high)}]"


def _unit(endpoint: str) -> str:
    u = UNITS.get(endpoint, "")
    return f" ({u})" if u else ""


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.find("<svg"):]


def _distributions(summary: TrialSummary, endpoints: Sequence[str],
                   columns: Mapping[str, Sequence[Any]]) -> str:
    arms = summary.arms
    fig = Figure(figsize=(3.2 * min(3, len(endpoints)), 2.6 * math.ceil(len(endpoints) / 3)))
    rng = np.random.default_rng(0)
    for k, e in enumerate(endpoints):
        ax = fig.add_subplot(math.ceil(len(endpoints) / 3), min(3, len(endpoints)), k + 1)
        data = []
        for a in arms:
            vals = np.asarray([v for v, arm in zip(columns[e], columns["arm"], strict=True)
                               if arm == a and v is not None], dtype=float)
            data.append(vals[~np.isnan(vals)])
        ax.boxplot([d if d.size else np.asarray([np.nan]) for d in data], showfliers=False)
        ax.set_xticks(range(1, len(arms) + 1), list(arms))
        for i, d in enumerate(data):
            ax.plot(i + 1 + rng.uniform(-0.18, 0.18, d.size), d, ".", ms=2.5, alpha=0.35)
        ax.set_title(f"{e}{_unit(e)}", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _svg(fig)


def _forest(summary: TrialSummary, endpoints: Sequence[str]) -> str:
    fig = Figure(figsize=(7.5, 0.9 * len(endpoints) + 0.28 * len(summary.differences)))
    rows = [d for e in endpoints for d in summary.differences if d.endpoint == e]
    axes = fig.subplots(len(endpoints), 1, squeeze=False)[:, 0]
    for ax, e in zip(axes, endpoints, strict=True):
        mine = [d for d in rows if d.endpoint == e]
        ys = np.arange(len(mine))[::-1]
        for y, d in zip(ys, mine, strict=True):
            if not math.isnan(d.low):
                ax.plot([d.low, d.high], [y, y], "-", color="#333")
            ax.plot([d.value], [y], "s", color="#1f5fa8" if d.stratum == ALL else "#888")
        ax.axvline(0.0, color="#a1141c", lw=0.8)
        ax.set_yticks(ys, [f"{d.arm} - {d.baseline} [{d.stratum}]" for d in mine], fontsize=7)
        ax.set_title(f"{e}{_unit(e)}: {summary.endpoint_statistics[e]} difference, "
                     f"{summary.confidence:.0%} CI", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    return _svg(fig)


def _comparison(c: ComparisonResult) -> str:
    cmp = c.comparison
    arms = list(cmp.published)
    trial = ", ".join(f"{_e(a)} {_ci(c.trial[a])}" for a in arms if a in c.trial)
    published = " → ".join(f"{_e(a)} {cmp.published[a]:g}" for a in arms)
    bounds = [f"{_e(a)} ≥ {v:g}" for a, v in cmp.expect_min.items()]
    bounds += [f"{_e(a)} ≤ {v:g}" for a, v in cmp.expect_max.items()]
    verdict = ("<span class=pass>reproduced</span>" if c.passed
               else "<span class=fail>not reproduced</span>")
    direction = {True: "same", False: "opposite", None: "n/a"}[c.direction_reproduced]
    lines = [
        f"<p><b>{_e(cmp.statistic)} {_e(cmp.endpoint)}{_e(_unit(cmp.endpoint))}</b>: {verdict}."
        f"<br>This trial: {trial}.<br>Published: {published} ({_e(cmp.source)})."
        f"<br>Direction: {direction}; bounds {'; '.join(bounds) or '(none)'}: "
        f"{'met' if c.within_bounds else 'not met'}.</p>"]
    if c.failures:
        lines.append("<ul>" + "".join(f"<li>{_e(f)}</li>" for f in c.failures) + "</ul>")
    if cmp.note:
        lines.append(f"<p class=note>{_e(cmp.note)}</p>")
    return "\n".join(lines)


#: Endpoints whose paired differences the "costs" paragraph names, per stratum.
_EXPOSURES: tuple[str, ...] = ("pmt_burden", "pmt_episodes", "upper_rate_fraction")


def _costs(summary: TrialSummary) -> str:
    """A table: per non-baseline arm, its 2:1 point against the baseline's and its paired
    differences in PMT and upper-rate exposure in every stratum (where the risk sits)."""
    timing = {t.arm: t for t in summary.timing}
    base = timing[summary.baseline]
    exposures = [e for e in _EXPOSURES if e in summary.endpoint_statistics]
    strata = sorted({d.stratum for d in summary.differences}, key=lambda s: (s != ALL, s))
    head = ("<tr><th>arm</th><th>2:1 point bpm (baseline "
            f"{_num(base.two_to_one_bpm)})</th><th>stratum</th>"
            + "".join(f"<th>{_e(summary.endpoint_statistics[e])} {_e(e)}{_e(_unit(e))} "
                      f"&minus; baseline</th>" for e in exposures) + "</tr>")
    rows = []
    for arm in summary.arms:
        if arm == summary.baseline:
            continue
        for k, stratum in enumerate(strata):
            first = (f"<td rowspan={len(strata)}>{_e(arm)}</td><td rowspan={len(strata)}>"
                     f"{_num(timing[arm].two_to_one_bpm)}</td>") if k == 0 else ""
            cells = "".join(f"<td>{_ci(summary.difference(e, arm, stratum))}</td>"
                            for e in exposures)
            rows.append(f"<tr>{first}<td>{_e(stratum)}</td>{cells}</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _arms(spec: TrialSpec, summary: TrialSummary) -> str:
    head = ("<tr><th>arm</th><th>device</th><th>mode</th><th>programming</th><th>AV ms</th>"
            "<th>PVARP ms</th><th>upper rate ppm</th><th>TARP ms</th><th>2:1 point bpm</th>"
            "<th>Wenckebach before 2:1</th></tr>")
    rows = []
    for arm, t in zip(spec.arms, summary.timing, strict=True):
        params = ", ".join(f"{k} = {v}" for k, v in arm.parameters.items()) or "nominal"
        wb = {True: "yes", False: "no (sudden 2:1)", None: "-"}[t.wenckebach]
        rows.append(f"<tr><td>{_e(arm.name)}{' (baseline)' if arm.name == spec.baseline else ''}"
                    f"</td><td>{_e(arm.device_label)}</td><td>{_e(t.mode)}</td><td>{_e(params)}</td>"
                    f"<td>{t.av_delay_ms}</td><td>{t.pvarp_ms}</td><td>{t.upper_rate_ppm}</td>"
                    f"<td>{t.tarp_ms if t.tarp_ms is not None else '-'}</td>"
                    f"<td>{_num(t.two_to_one_bpm)}</td><td>{wb}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _estimates(summary: TrialSummary, endpoints: Sequence[str]) -> str:
    strata = sorted({e.stratum for e in summary.estimates}, key=lambda s: (s != ALL, s))
    head = ("<tr><th>endpoint</th><th>stratum</th><th>n</th>"
            + "".join(f"<th>{_e(a)}</th>" for a in summary.arms)
            + "".join(f"<th>{_e(a)} &minus; {_e(summary.baseline)}</th>" for a in summary.arms
                      if a != summary.baseline) + "</tr>")
    rows = []
    for e in endpoints:
        for s in strata:
            est = [summary.estimate(e, a, s) for a in summary.arms]
            diffs = [summary.difference(e, a, s) for a in summary.arms if a != summary.baseline]
            rows.append(f"<tr><td>{_e(summary.endpoint_statistics[e])} {_e(e)}{_e(_unit(e))}"
                        f"</td><td>{_e(s)}</td>"
                        f"<td>{max(x.n for x in est)}</td>"
                        + "".join(f"<td>{_ci(x)}</td>" for x in est)
                        + "".join(f"<td>{_ci(d)}</td>" for d in diffs) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _population(population: Population) -> str:
    rows = []
    for ind in population.indications:
        for p in ind.parameters:
            d = p.distribution
            desc = ", ".join(f"{k} = {v}" for k, v in vars(d).items())
            rows.append(f"<tr><td>{_e(ind.name)}</td><td>{_e(p.name)}</td>"
                        f"<td>{_e(type(d).__name__.lower())}({_e(desc)})</td>"
                        f"<td>{_e(p.source)}</td></tr>")
        for c in ind.correlations:
            rows.append(f"<tr><td>{_e(ind.name)}</td><td>{_e(c.first)} ~ {_e(c.second)}</td>"
                        f"<td>rho = {c.rho:g}</td><td>{_e(c.source)}</td></tr>")
    refs = "".join(f"<li>{_e(r)}</li>" for r in population.references)
    return ("<table><tr><th>indication</th><th>parameter</th><th>distribution</th>"
            f"<th>source</th></tr>{''.join(rows)}</table>"
            + (f"<p>References:</p><ul class=note>{refs}</ul>" if refs else ""))


def render_report(spec: TrialSpec, population: Population, summary: TrialSummary,
                  columns: Mapping[str, Sequence[Any]], *, executor: str = "",
                  wall_s: float | None = None) -> str:
    """The report's HTML text."""
    endpoints = list(dict.fromkeys([*spec.endpoints]))
    main = "".join(_comparison(c) for c in summary.comparisons) or \
        "<p>No published result is named for comparison.</p>"
    facts = (f"{summary.patients} virtual patients of population <code>{_e(population.name)}"
             f"</code> (seed {spec.seed}), each in every arm (paired); {spec.duration_s:g} s "
             f"simulated per patient and arm on the <code>{_e(spec.heart)}</code> heart with the "
             "reference pacemaker model.")
    if wall_s is not None:
        facts += f" Wall time {wall_s:.1f} s. {_e(executor)}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>trial {_e(spec.name)}</title>
<style>{_CSS}</style></head><body>
<h1>Trial <code>{_e(spec.name)}</code></h1>
<p>{_e(spec.description)}</p><p class=note>{facts}</p>
<h2>Main result against the published one</h2>
{main}
<h2>What each arm costs against the baseline</h2>
<p class=note>The upper-rate arithmetic of its programming and its paired differences in PMT and
upper-rate exposure, per stratum ({summary.confidence:.0%} CI).</p>
{_costs(summary)}
<h2>Arms</h2>
<p class=note>TARP = sensed AV delay + PVARP; 2:1 block begins when the sinus rate passes
60000 / TARP bpm: a longer AV delay lowers it unless PVARP or the upper rate gives way.</p>
{_arms(spec, summary)}
<h2>Endpoints ({summary.confidence:.0%} bootstrap CI; differences paired)</h2>
{_estimates(summary, endpoints)}
<h2>Forest plot of paired differences</h2>
{_forest(summary, endpoints)}
<h2>Distributions per arm</h2>
{_distributions(summary, endpoints, columns)}
<h2>Population and sources</h2>
<p>{_e(population.description)}</p>
{_population(population)}
</body></html>
"""


def write_report(path: Path, spec: TrialSpec, population: Population, summary: TrialSummary,
                 columns: Mapping[str, Sequence[Any]], *, executor: str = "",
                 wall_s: float | None = None) -> Path:
    """Write the report to ``path``."""
    path.write_text(render_report(spec, population, summary, columns, executor=executor,
                                  wall_s=wall_s), encoding="utf-8")
    return path
