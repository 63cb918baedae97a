"""Device profiles: a file that says what a device is, how to reach it, what it shows and what it
runs, for devices the bench cannot program or that report less than full markers.

::

    name = "student-ddd"
    description = "Team 7's DDD state machine, host build"
    url = "events+exec:./build/pacer"
    reports = "paces"              # paces | paces_and_senses | markers (default: the kind's)
    programmed = false             # the bench sends PROGRAM (default: what the kind can do)

    [programming]                  # what the device runs when it is not programmed
    mode = "DDD"
    upper_rate_ppm = 67            # off the PACEMAKER grid: device-defined
    ventricular_pulse_width_ms = 5.0

    [events]                       # settings of the device's kind
    early_stop = true

A programming given here is *device-defined*: held to physical sense rather than to the
PACEMAKER grid (``Programming.device_defined``), and marked so in every piece of evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devicetwin.errors import DeviceTwinError
from devicetwin.pacemaker import MarkerKind, Programming
from devicetwin.pacemaker.programming import parse_mode, values_from_plain
from hil.devices.contract import ALL_KINDS, PACE_KINDS
from hil.devices.registry import KINDS, split_url
from hil.errors import ConfigError
from hil.scenarios.toml_reader import ScenarioError, TomlReader, read_toml

#: What a device reports, by the name a profile uses.
REPORTS: dict[str, frozenset[MarkerKind]] = {
    "paces": PACE_KINDS,
    "paces_and_senses": PACE_KINDS | {MarkerKind.AS, MarkerKind.VS},
    "markers": ALL_KINDS,
}
_TOP_KEYS = ("name", "description", "url", "reports", "programmed", "programming", *KINDS)


@dataclass(frozen=True)
class DeviceProfile:
    """A device as its profile describes it (module docstring)."""

    name: str
    url: str
    description: str = ""
    reports: frozenset[MarkerKind] | None = None
    programmed: bool | None = None
    programming: Programming | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<string>"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the summary and the manifest."""
        return {
            "name": self.name, "url": self.url, "source": self.source,
            "reports": sorted(k.name for k in self.reports) if self.reports else None,
            "programmed": self.programmed,
            "programming": ("device-defined" if self.programming is not None else None),
            "settings": dict(self.settings),
        }


def parse_profile(text: str, file: str = "<string>") -> DeviceProfile:
    """Parse a profile's TOML text.

    Raises
    ------
    ScenarioError
        A ``ConfigError`` naming the file, the line and the field.
    """
    doc = read_toml(text, file)
    r = TomlReader(file, text)
    r.keys(doc, (), _TOP_KEYS)
    url = r.get(doc, ("url",), str, "a device URL", required=True)
    try:
        kind, _ = split_url(url)
    except ConfigError as err:
        raise r.fail(("url",), err.message, url, err.expected) from err
    reports_name = r.get(doc, ("reports",), str, "paces, paces_and_senses or markers", None)
    if reports_name is not None:
        r.choice(("reports",), reports_name, "report set", REPORTS)
    programmed = r.get(doc, ("programmed",), bool, "true or false", None)
    programming = _programming(r, doc)
    if programmed is False and programming is None:
        raise r.fail(("programming",), "a device that is not programmed needs the [programming] "
                     "it runs", None, "a [programming] table with mode and parameters")
    settings = r.get(doc, (kind,), dict, f"a [{kind}] table of settings", {})
    return DeviceProfile(
        name=r.get(doc, ("name",), str, "a name", required=True), url=url,
        description=r.get(doc, ("description",), str, "a sentence", ""),
        reports=REPORTS[reports_name] if reports_name is not None else None,
        programmed=programmed, programming=programming, settings=dict(settings), source=file)


def _programming(r: TomlReader, doc: Mapping[str, Any]) -> Programming | None:
    table = r.get(doc, ("programming",), dict, "a [programming] table", None)
    if table is None:
        return None
    values = {k: v for k, v in table.items() if k != "mode"}
    names = {k: ("programming", k) for k in table}
    try:
        mode = parse_mode(r.get(table, ("programming", "mode"), str, "a pacing mode",
                                required=True))
        return Programming(mode=mode, device_defined=True, **values_from_plain(values))
    except (DeviceTwinError, TypeError, ValueError) as err:
        raise r.twin_error(err, ("programming",), names) from err


def load_profile(path: Path | str) -> DeviceProfile:
    """Read a profile file (``ScenarioError`` with file and line on any fault)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(f"cannot read device profile: {err}", file=str(p), line=None,
                            field="", value=str(p), expected="a readable UTF-8 TOML file"
                            ) from err
    return parse_profile(text, str(p))
