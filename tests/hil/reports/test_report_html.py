"""The HTML report of a real run: one self-contained file with the audit header, the whole record
as strips at fixed speed, and a ladder for every episode, even after the first seconds."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import re
from pathlib import Path

import pytest

from devicetwin import __version__
from devicetwin.pacemaker import PARAMETERS
from hil.recording.provenance import programming_sha256
from hil.reports.episodes import EpisodeKind
from hil.reports.evidence import write_evidence
from hil.reports.html import episodes_of, ladder_windows, render_report
from hil.results import RunResult
from hil.scenarios import load_scenario, resolve
from hil.session.runner import run_scenario

DURATION_S = 13


@pytest.fixture(scope="module")
def pmt_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, str]:
    scenario = load_scenario(resolve("ddd_pmt_recurrent"))
    scenario = dataclasses.replace(scenario, duration_us=DURATION_S * 1_000_000)
    out = tmp_path_factory.mktemp("pmt")
    result = run_scenario(scenario, out_dir=out, evidence=write_evidence)
    return result, (out / "report.html").read_text(encoding="utf-8")


def _pngs(page: str, cls: str) -> list[bytes]:
    return [base64.b64decode(m) for m in
            re.findall(rf'<img class="{cls}"[^>]*src="data:image/png;base64,([^"]+)"', page)]


def test_report_is_self_contained(pmt_run: tuple[RunResult, str]) -> None:
    _, page = pmt_run
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)
    assert "<link" not in page and "<script src" not in page
    assert len(page.encode()) < 3_000_000


def test_header_has_what_an_audit_needs(pmt_run: tuple[RunResult, str]) -> None:
    result, page = pmt_run
    sc = result.scenario
    assert sc.source is not None
    assert hashlib.sha256(Path(sc.source).read_bytes()).hexdigest() in page
    assert result.device.firmware_hash in page
    assert programming_sha256(result.programming) in page
    assert f"devicetwin {__version__}" in page
    assert f"heart {sc.seed}" in page
    for name in PARAMETERS:
        assert f"<td>{name}</td>" in page
    summary = json.loads((result.out_dir / "summary.json").read_text())  # type: ignore[operator]
    statuses = [c["status"] for c in summary["criteria"]]
    assert f"{statuses.count('pass')} of {len(statuses)} criteria passed" in page
    started = re.search(r"run started</th><td>(\S+) UTC", page)
    assert started is not None and started.group(1).startswith("20")


def test_whole_record_in_strips_at_25_mm_per_s(pmt_run: tuple[RunResult, str]) -> None:
    _, page = pmt_run
    pages = _pngs(page, "page")
    assert len(pages) == math.ceil(DURATION_S / 10)
    widths = [int.from_bytes(p[16:20], "big") for p in pages]
    # 25 mm/s at 4 px/mm: 100 px per second of record, the last page as long as what is left
    assert widths == [1000, (DURATION_S - 10) * 100]
    # shown in CSS millimetres (96 px to 25.4 mm): 250 mm per 10 s page, on screen and in print
    assert re.search(r'style="width:250\.000mm;', page)
    assert f"var PX_PER_MS = {96 / 25.4 * 25 / 1000:.6f}" in page


def test_every_episode_has_a_ladder_even_after_six_seconds(
        pmt_run: tuple[RunResult, str]) -> None:
    result, page = pmt_run
    pmt = result.outcomes.pmt.episodes
    assert len(pmt) >= 3 and pmt[-1].onset_us > 6_000_000
    episodes = episodes_of(result)
    assert [e.start_us for e in episodes if e.kind is EpisodeKind.PMT] == [
        e.onset_us for e in pmt]
    for ep in episodes:
        assert f"<span id='{ep.anchor}'></span>" in page
        assert f"href='#{ep.anchor}'" in page
        assert f"go({ep.start_us // 1000})" in page
    assert len(_pngs(page, "lad")) == len(ladder_windows(episodes, result.loop.end_us))


def test_report_without_record_still_renders(pmt_run: tuple[RunResult, str]) -> None:

    result, _ = pmt_run
    page = render_report(dataclasses.replace(result, out_dir=None))
    assert "no record: no strips" in page
    assert "Ladder diagrams" in page


@pytest.mark.parametrize("end_us", [0, 1_000])
def test_run_cut_short_at_once_still_renders(pmt_run: tuple[RunResult, str], end_us: int) -> None:

    result, _ = pmt_run
    loop = dataclasses.replace(
        result.loop, end_us=end_us,
        device_events=[e for e in result.loop.device_events if e.t_us <= end_us],
        twin_events=[e for e in result.loop.twin_events if e.t_us <= end_us],
        heart_events=[e for e in result.loop.heart_events if e.t_us <= end_us])
    page = render_report(dataclasses.replace(result, loop=loop))
    assert len(_pngs(page, "page")) == 1
