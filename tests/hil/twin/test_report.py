"""The HTML twin report: every section present when its data are, longevity by hand."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest

from devicetwin.heart import PRESETS
from devicetwin.longevity import Battery
from devicetwin.twin import Posterior, Provenance, Recommendation, Twin, save_twin
from hil.cli import main

PROV = Provenance("bench", {"header": "c" * 64}, "sn-00aa11bb22cc33dd", "salt-file",
                  ("record name",), "0.1.0")


def _twin() -> Twin:
    post = Posterior(("va_conduction_ms", "retrograde"),
                     np.column_stack([np.linspace(280.0, 320.0, 50), np.ones(50)]), "ABC-SMC")
    # current: VVI 2.5 V (no multiplier) 50 % paced at 60 ppm; recommended: 2.5 V, 10 % paced
    rec = Recommendation(
        {"mode": "VVI", "parameters": {"ventricular_amplitude_v": 2.5}},
        {"mode": "VVI", "parameters": {"ventricular_amplitude_v": 2.5,
                                       "hysteresis_rate_ppm": 50}},
        {"ventricular_paced_percent": 50.0, "ventricular_rate_mean_bpm": 60.0},
        {"ventricular_paced_percent": 10.0, "ventricular_rate_mean_bpm": 60.0},
        "optuna NSGA-II over the PACEMAKER grid",
        ({"ventricular_paced_percent": 10.0, "pmt_burden": 0.0},
         {"ventricular_paced_percent": 30.0, "pmt_burden": 0.0}),
        {"closed-loop runs": 4})
    return Twin("twin-9", PRESETS["retrograde_va"], PROV,
                observed={"ventricular_paced_pct": 52.0}, predicted={"ventricular_paced_pct": 49.0},
                posterior=post, programming=rec.current, recommendation=rec,
                battery=Battery(capacity_ah=1.0, usable_fraction=0.85, voltage_v=2.8,
                                static_current_ua=6.0))


def _cells(text: str, label: str) -> list[str]:
    row = re.search(rf"<tr><td>{re.escape(label)}</td>(.*?)</tr>", text)
    assert row is not None, label
    return [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row.group(1))]


def test_full_twin_report(tmp_path: Path) -> None:
    save_twin(_twin(), tmp_path / "t.twin.json")
    assert main(["twin", "report", str(tmp_path / "t.twin.json"), "--out",
                 str(tmp_path / "r.html")]) == 0
    text = (tmp_path / "r.html").read_text()
    for heading in ("Posteriors", "Observed against predicted behaviour", "Recommendation",
                    "Battery longevity", "Provenance"):
        assert f"<h2>{heading}</h2>" in text
    # posterior quantiles of va_conduction_ms: linspace(280, 320, 50) -> median 300
    assert _cells(text, "va_conduction_ms")[1] == "300"
    assert _cells(text, "hysteresis_rate_ppm") == ["None", "50"]
    # 2.5 V / 500 ohm x 0.4 ms = 2 uC at 1/s: 50 % -> 1 uA, 10 % -> 0.2 uA; 6 uA static
    years_current = 114.08 * 0.85 / 7.0
    years_recommended = 114.08 * 0.85 / 6.2
    assert float(_cells(text, "current programming, predicted")[0]) == pytest.approx(
        years_current, abs=0.051)
    assert float(_cells(text, "recommended programming, predicted")[0]) == pytest.approx(
        years_recommended, abs=0.051)
    assert "sn-00aa11bb22cc33dd" in text
    assert text.count("data:image/png;base64,") == 2  # posteriors, front


def test_report_of_a_non_twin_is_refused(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.json").write_text('{"format": "something"}')
    assert main(["twin", "report", str(tmp_path / "x.json"), "--out",
                 str(tmp_path / "r.html")]) == 2
    assert "neither a twin file nor a session" in capsys.readouterr().err
