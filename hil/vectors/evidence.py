"""Evidence of a vector run: the JSON summary (every failure), JUnit XML (a test case per
vector) and a self-contained HTML page. Reads reports; decides nothing."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devicetwin import __version__
from hil.reports.junit import JUnitCase, JUnitSuite
from hil.reports.junit import write_junit as write_junit_file
from hil.vectors.play import VectorReport

JUNIT_FILE = "vectors-junit.xml"
HTML_FILE = "vectors.html"
JSON_FILE = "vectors.json"


def summary(reports: Sequence[VectorReport]) -> dict[str, Any]:
    """The whole run as JSON-ready data."""
    passed = sum(1 for r in reports if r.passed)
    return {"tool": f"devicetwin {__version__}", "vectors": len(reports), "passed": passed,
            "failed": len(reports) - passed, "results": [r.to_dict() for r in reports]}


def write_json(reports: Sequence[VectorReport], path: Path | str) -> Path:
    """The JSON summary with the full list of failures of every vector."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(summary(reports), indent=1) + "\n", encoding="utf-8")
    return p


def write_junit(reports: Sequence[VectorReport], path: Path | str) -> Path:
    """JUnit XML (:mod:`hil.reports.junit`, the bench's writer and property names): one test
    suite, one test case per vector (a failure when it failed, its message the first
    divergence, its text every failure)."""
    cases = [JUnitCase(
        f"vectors.{r.device}", r.vectors.name, 0.0, tuple(r.vectors.requirements),
        (*(("divergence_rule", rule) for rule in r.divergence_rules),
         ("matched", f"{r.matched}/{r.judgement.judged}")),
        failure=None if r.passed else (r.explanation or "failed"),
        details="" if r.passed else r.text(), stdout=r.text()) for r in reports]
    return write_junit_file(path, [JUnitSuite("devicetwin-vectors", cases)])


def write_html(reports: Sequence[VectorReport], path: Path | str) -> Path:
    """A self-contained page: one row per vector, its failures below it."""
    passed = sum(1 for r in reports if r.passed)
    rows = []
    for r in reports:
        colour = "#2e7d32" if r.passed else "#c62828"
        rows.append(
            f"<tr><td>{html.escape(r.vectors.name)}</td>"
            f"<td style='color:{colour};font-weight:bold'>{'PASS' if r.passed else 'FAIL'}</td>"
            f"<td>{r.matched}/{r.judgement.judged}</td><td>{len(r.failures)}</td>"
            f"<td>{html.escape(', '.join(r.vectors.requirements))}</td>"
            f"<td>{html.escape(r.timing_summary())}</td></tr>")
        if not r.passed:
            items = "".join(f"<li>{html.escape(f.describe())}</li>" for f in r.failures)
            notes = "".join(f"<p>{html.escape(n)}</p>" for n in r.notes)
            rows.append(f"<tr><td colspan='6'>{notes}<p><b>first divergence:</b> "
                        f"{html.escape(r.explanation)}</p><ul>{items}</ul></td></tr>")
    device = html.escape(", ".join(sorted({r.device for r in reports})))
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>devicetwin vectors</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}</style></head>
<body><h1>Test vectors: {passed}/{len(reports)} passed</h1>
<p>device {device}; devicetwin {html.escape(__version__)}</p>
<table><tr><th>vector</th><th>verdict</th><th>matched</th><th>failures</th>
<th>requirements</th><th>timing</th></tr>
{''.join(rows)}
</table></body></html>
"""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(page, encoding="utf-8")
    return p


def write_evidence(reports: Sequence[VectorReport], out_dir: Path | str) -> list[Path]:
    """JSON, JUnit and HTML into ``out_dir``."""
    d = Path(out_dir)
    return [write_json(reports, d / JSON_FILE), write_junit(reports, d / JUNIT_FILE),
            write_html(reports, d / HTML_FILE)]


__all__ = ["HTML_FILE", "JSON_FILE", "JUNIT_FILE", "summary", "write_evidence", "write_html",
           "write_json", "write_junit"]
