"""The evidence of many runs (``devicetwin suite`` and ``devicetwin mutants`` with ``--out``).

Next to the runs' own folders (``<out>/<variant>/<scenario>/``, the variant being the seeded fault
or ``clean``), :func:`write_suite_evidence` writes:

- ``junit.xml``: one test suite per firmware variant, one test case per scenario run, with the
  scenario's IDs (``spec_rule``, ``hazard``, ``requirement``: :func:`hil.reports.junit.id_kind`),
  the device and firmware identity (``device.*``), the verdict and the run's report as
  properties. For a seeded-fault variant a run that fails is the fault *caught*: the run's case
  passes with ``caught`` = ``true``, and one more case, ``detected``, fails when no scenario
  caught the fault.
- ``summary.json``: the counts, the exit code and every run's entry (``SuiteEntry.to_dict()``).
- ``index.html``: one table row per run, linking its ``report.html`` (or its ``summary.json``
  when it never reached its loop).

See ``docs/junit.md``.
"""

from __future__ import annotations

import html
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hil.reports.junit import JUnitCase, JUnitSuite, device_properties, write_junit
from hil.results import SuiteEntry

#: The verdicts a run can end with, in the order the summary counts them.
VERDICTS = ("pass", "fail", "error", "interrupted", "n/a")

#: The kinds of many-run command.
KINDS = ("suite", "mutants")


def _link(entry: SuiteEntry, root: Path) -> str | None:
    """The run's report (or summary) relative to ``root``, when it was written."""
    if entry.out_dir is None:
        return None
    folder = Path(entry.out_dir)
    for name in ("report.html", "summary.json"):
        if (folder / name).is_file():
            return Path(os.path.relpath(folder.resolve() / name, root.resolve())).as_posix()
    return None


def _case(entry: SuiteEntry, root: Path, mutant: bool) -> JUnitCase:
    props: list[tuple[str, str]] = [("verdict", entry.verdict), ("variant", entry.variant)]
    props += device_properties(dict(entry.device))
    if mutant:
        props.append(("caught", str(entry.verdict not in ("pass", "n/a")).lower()))
    props += [("failed", name) for name in entry.failed]
    link = _link(entry, root)
    if link is not None:
        props.append(("report", link))
    failure = error = skipped = None
    details = "\n".join(entry.failures)
    if entry.verdict == "n/a":
        skipped = entry.error or "not applicable to this device"
    elif mutant:
        pass  # a seeded fault's run passes or fails the fault, not the test: see ``detected``
    elif entry.verdict == "fail":
        n = len(entry.failed)
        failure = (f"{n} {'criterion' if n == 1 else 'criteria'} failed: "
                   f"{', '.join(entry.failed)}"
                   if entry.failed else f"run failed: {entry.error or 'cut short'}")
    elif entry.verdict in ("error", "interrupted"):
        error = entry.error or entry.verdict
    return JUnitCase(f"devicetwin.{entry.variant}", entry.scenario, entry.wall_s,
                     entry.requirements, tuple(props), failure=failure, error=error,
                     skipped=skipped, details=details)


def junit_suites(entries: Sequence[SuiteEntry], root: Path, kind: str = "suite"
                 ) -> list[JUnitSuite]:
    """The combined JUnit: one suite per firmware variant (in order of first appearance), one
    case per run; for ``mutants``, each seeded fault's suite ends with its ``detected`` case."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {', '.join(KINDS)}")
    variants = list(dict.fromkeys(e.variant for e in entries))
    suites = []
    for variant in variants:
        mine = [e for e in entries if e.variant == variant]
        mutant = kind == "mutants" and variant != "clean"
        cases = [_case(e, root, mutant) for e in mine]
        if mutant:
            caught = [e.scenario for e in mine if e.verdict not in ("pass", "n/a")]
            cases.append(JUnitCase(
                f"devicetwin.{variant}", "detected", 0.0,
                properties=tuple(("caught_by", name) for name in caught),
                failure=(None if caught else
                         f"seeded fault {variant} was caught by none of {len(mine)} scenarios")))
        suites.append(JUnitSuite(f"{kind}.{variant}", cases))
    return suites


def suite_summary_doc(entries: Sequence[SuiteEntry], root: Path, *, kind: str, device: str,
                      exit_code: int, extra: Mapping[str, Any] | None = None
                      ) -> dict[str, Any]:
    """The combined ``summary.json``: counts by verdict, the exit code, every run."""
    counts = Counter(e.verdict for e in entries)
    runs = []
    for e in entries:
        doc = e.to_dict()
        doc["report"] = _link(e, root)
        runs.append(doc)
    return {
        "kind": kind,
        "device": device,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": len(entries),
        "counts": {v: counts.get(v, 0) for v in VERDICTS},
        "exit_code": int(exit_code),
        "wall_s": round(sum(e.wall_s for e in entries), 3),
        "junit": "junit.xml",
        "index": "index.html",
        **(dict(extra) if extra else {}),
        "entries": runs,
    }


_STYLE = """body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}
.pass{background:#d8f0d8}.fail{background:#f6d0d0}.error,.interrupted{background:#f4e0b0}
.na{background:#e8e8e8}"""


def render_index(entries: Sequence[SuiteEntry], root: Path, *, kind: str, device: str,
                 exit_code: int) -> str:
    """``index.html``: who ran what against which device, one row per run linking its report."""
    counts = Counter(e.verdict for e in entries)
    esc = html.escape
    rows = []
    for e in entries:
        link = _link(e, root)
        name = (f'<a href="{esc(link, quote=True)}">{esc(e.scenario)}</a>' if link
                else esc(e.scenario))
        why = ", ".join(e.failed) or (e.error or "")
        css = "na" if e.verdict == "n/a" else e.verdict
        dev = dict(e.device)
        firmware = " ".join(x for x in (dev.get("firmware_version", ""),
                                        dev.get("firmware_hash", "")[:12]) if x)
        rows.append(f'<tr class="{esc(css)}"><td>{name}</td><td>{esc(e.variant)}</td>'
                    f"<td>{esc(e.verdict)}</td><td>{esc(firmware)}</td>"
                    f"<td>{e.wall_s:.1f}</td><td>{esc(why)}</td></tr>")
    tally = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS if counts.get(v, 0))
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>devicetwin {esc(kind)}: {esc(device)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>devicetwin {esc(kind)}</h1>",
        f"<p>device <code>{esc(device)}</code>; {len(entries)} runs: {esc(tally or 'none')}; "
        f"exit code {int(exit_code)}.</p>",
        '<p><a href="junit.xml">junit.xml</a> &middot; <a href="summary.json">summary.json</a>'
        "</p>",
        "<table><tr><th>scenario</th><th>firmware variant</th><th>verdict</th>"
        "<th>firmware</th><th>wall s</th><th>failed criteria or error</th></tr>",
        *rows, "</table>", "</body></html>", ""])


def write_suite_evidence(out_dir: Path, entries: Sequence[SuiteEntry], *, kind: str,
                         device: str, exit_code: int,
                         extra: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Write ``junit.xml``, ``summary.json`` and ``index.html`` into ``out_dir``; ``extra`` adds
    top-level keys to the summary (the mutant table). Returns the paths by file name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    junit = write_junit(out_dir / "junit.xml", junit_suites(entries, out_dir, kind))
    summary = out_dir / "summary.json"
    summary.write_text(json.dumps(
        suite_summary_doc(entries, out_dir, kind=kind, device=device, exit_code=exit_code,
                          extra=extra), indent=2) + "\n")
    index = out_dir / "index.html"
    index.write_text(render_index(entries, out_dir, kind=kind, device=device,
                                  exit_code=exit_code))
    return {p.name: p for p in (junit, summary, index)}


__all__ = ["junit_suites", "render_index", "suite_summary_doc", "write_suite_evidence"]
