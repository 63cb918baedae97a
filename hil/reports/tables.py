"""The rows every report shows, built once: the console, JUnit and HTML only format them.

- :func:`outcome_rows`: the patient's outcome (name, value, unit, limit, verdict), the limit and
  verdict from the run's ``outcome.<name>`` criterion when the scenario sets one.
- :func:`timing_rows`: the signed timing statistics, per marker kind (device minus twin) and
  per interval monitor (measured minus expected).
- :func:`stats_properties`: the same statistics as name/value pairs (JUnit properties).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from devicetwin.conformance import SignedStats, VerdictStatus
from devicetwin.outcomes import UNITS
from hil.results import Criterion, RunResult

#: How each status reads in a report.
STATUS_TEXT: dict[VerdictStatus, str] = {
    VerdictStatus.PASS: "PASS", VerdictStatus.FAIL: "FAIL", VerdictStatus.NOT_APPLICABLE: "N/A",
}

#: Prefix of the criteria that hold an outcome to a scenario limit.
OUTCOME_CRITERION = "outcome."


def format_value(value: object) -> str:
    """A measured value rounded for a table: integers as they are, fractions to three
    significant digits, larger numbers to 0.1 (under 100) or to the unit; ``-`` for none."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    size = abs(value)
    if size >= 100:
        return f"{value:.0f}"
    if size >= 1:
        return f"{value:.1f}"
    return f"{value:.3g}"


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """One outcome: its value as text, its unit, and the scenario's limit and verdict on it
    (both empty when the scenario sets no limit)."""

    name: str
    value: str
    unit: str
    limit: str
    verdict: str


def outcome_rows(result: RunResult) -> list[OutcomeRow]:
    """The outcome table of a run, in the order of ``Outcomes.values()``."""
    by_name: dict[str, Criterion] = {
        c.name[len(OUTCOME_CRITERION):]: c for c in result.criteria
        if c.name.startswith(OUTCOME_CRITERION)}
    rows = []
    for name, value in result.outcomes.values().items():
        crit = by_name.get(name)
        rows.append(OutcomeRow(
            name, format_value(value), UNITS.get(name, ""),
            crit.limits.describe("") if crit is not None else "",
            STATUS_TEXT[crit.status].lower() if crit is not None else ""))
    return rows


def _ms(us: float) -> str:
    """Microseconds as milliseconds to 0.1 ms, without a negative zero."""
    ms = round(us / 1000.0, 1)
    return f"{ms + 0.0:.1f}"


class TimingGroup(enum.Enum):
    """Where a signed timing statistic comes from."""

    #: a marker kind, device minus twin
    KIND = "kind"
    #: an interval measurement of a monitor, measured minus expected
    INTERVAL = "interval"


@dataclass(frozen=True, slots=True)
class TimingRow:
    """One signed timing statistic: ``label`` is a marker kind (group ``KIND``, against the twin)
    or an interval measurement's name (group ``INTERVAL``, against ``stats.reference``)."""

    group: TimingGroup
    label: str
    stats: SignedStats

    @property
    def against(self) -> str:
        """What the errors are measured against."""
        return self.stats.reference

    def cells_ms(self) -> tuple[str, str, str, str, str, str]:
        """n, median, mean, p5, p95 and max |error| as text, in ms to 0.1 ms."""
        st = self.stats
        return (str(st.n), _ms(st.median_us), _ms(st.mean_us), _ms(st.p5_us), _ms(st.p95_us),
                _ms(st.max_abs_us))

    def line(self, label_width: int = 0, n_width: int = 0) -> str:
        """``VP  n=52  bias -3.0 ms (mean -3.0)  p5..p95 -3.0..-3.0  max 3.0``."""
        n, median, mean, p5, p95, top = self.cells_ms()
        text = (f"{self.label.ljust(label_width)}  {('n=' + n).ljust(n_width + 2)}  "
                f"bias {median} ms (mean {mean})  p5..p95 {p5}..{p95}  max {top}")
        if self.group is TimingGroup.INTERVAL and self.against:
            text += f"  vs {self.against}"
        return text


def timing_rows(result: RunResult) -> list[TimingRow]:
    """Per marker kind (device minus twin), then per interval measurement of the monitors
    (measured minus expected), each with at least one error."""
    rows = [TimingRow(TimingGroup.KIND, k.value, st)
            for k, st in result.conformance.timing_by_kind.items()]
    rows += [TimingRow(TimingGroup.INTERVAL, name, st)
             for name, st in result.monitors.timing_statistics().items()]
    return rows


def timing_lines(rows: list[TimingRow]) -> list[str]:
    """The rows as console lines, aligned within each group."""
    out: list[str] = []
    for group in TimingGroup:
        mine = [r for r in rows if r.group is group]
        if mine:
            lw = max(len(r.label) for r in mine)
            nw = max(len(str(r.stats.n)) for r in mine)
            out += [r.line(lw, nw) for r in mine]
    return out


def stats_properties(label: str, stats: SignedStats) -> list[tuple[str, str]]:
    """The statistics as ``signed_error_us[.label].<field>`` = value pairs (microseconds), the
    form JUnit properties take."""
    prefix = f"signed_error_us.{label}" if label else "signed_error_us"
    pairs = [("n", str(stats.n)), ("median", format_us(stats.median_us)),
             ("mean", format_us(stats.mean_us)), ("p5", format_us(stats.p5_us)),
             ("p95", format_us(stats.p95_us)), ("max_abs", format_us(stats.max_abs_us))]
    if stats.reference:
        pairs.append(("reference", stats.reference))
    return [(f"{prefix}.{key}", value) for key, value in pairs]


def format_us(us: float) -> str:
    """Microseconds as text, whole when whole (``-3000``), else to the nanosecond."""
    value = round(float(us), 3)
    if value.is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0")
