"""The check: the device's paces against the expected ones, every failure with a signed error.

Times here count from the vector's time zero (the anchor, or the session start), after any
re-anchoring (``hil.vectors.play``). Per chamber, each judged expected pace (``t_us <=
judge_until``) is matched to the nearest unmatched device pace within its own tolerance; one left
over is paired with the nearest unmatched device pace within ``PAIR_WINDOW_US`` (a timing
failure, signed: device minus expected) or is missing. The device runs on past the judge-until
time by the widest tolerance, so an expected pace at the very end is always judged. A device pace
left over is extra unless it is after judge-until, or within the widest tolerance before it (its
partner may be an expectation just after judge-until that the file does not list), or before
time zero.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from devicetwin.pacemaker import Chamber, PaceFlag
from hil.vectors.format import ExpectedPace, VectorFile

PAIR_WINDOW_US = 300_000


class Finding(enum.Enum):
    """What went wrong with one entry."""

    TIMING = "timing"
    MISSING = "missing"
    EXTRA = "extra"


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed entry: ``index`` into ``expected`` (None for an extra device pace); times
    from time zero (us)."""

    finding: Finding
    chamber: Chamber
    index: int | None
    line: int
    expected_us: int | None
    device_us: int | None
    tolerance_us: int
    flags: PaceFlag = PaceFlag.NONE
    rule: str = ""

    @property
    def error_us(self) -> int | None:
        """Device minus expected (us) for a timing failure, else None."""
        if self.expected_us is None or self.device_us is None:
            return None
        return self.device_us - self.expected_us

    @property
    def t_us(self) -> int:
        """When it happened: the expected time, else the device's."""
        return self.expected_us if self.expected_us is not None else self.device_us or 0

    def describe(self) -> str:
        """One line for the report."""
        where = (f"expected[{self.index}]" + (f" (line {self.line})" if self.line else "")
                 if self.index is not None else "device")
        ch = f"{self.chamber.name}P"
        tag = ""
        if self.flags:
            tag = " [" + "|".join(f.name.lower() for f in PaceFlag
                                  if f and f.name and f in self.flags) + "]"
        if self.rule:
            tag += f" ({self.rule})"
        if self.finding is Finding.TIMING:
            assert self.expected_us is not None and self.device_us is not None
            d = (self.device_us - self.expected_us) / 1000
            return (f"{where}: {ch}{tag} expected at {self.expected_us / 1000:.3f} ms, device "
                    f"paced at {self.device_us / 1000:.3f} ms ({d:+.3f} ms, "
                    f"{'late' if d > 0 else 'early'}; tolerance +-{self.tolerance_us / 1000:g} "
                    "ms)")
        if self.finding is Finding.MISSING:
            return (f"{where}: {ch}{tag} expected at {(self.expected_us or 0) / 1000:.3f} ms, "
                    "none delivered")
        return f"{where}: extra {ch} at {(self.device_us or 0) / 1000:.3f} ms, none expected"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"finding": self.finding.value, "chamber": self.chamber.name,
                "index": self.index, "line": self.line or None,
                "expected_us": self.expected_us, "device_us": self.device_us,
                "error_us": self.error_us, "tolerance_us": self.tolerance_us,
                "flags": [f.name.lower() for f in PaceFlag if f and f.name and f in self.flags],
                "rule": self.rule or None, "text": self.describe()}


@dataclass(frozen=True, slots=True)
class Judgement:
    """The check's outcome: matched pairs (expected index, signed error us), failures in time
    order, how many expected paces were judged and how many device paces."""

    matched: tuple[tuple[int, int], ...]
    failures: tuple[Failure, ...]
    judged: int
    device_paces: int

    @property
    def passed(self) -> bool:
        """Every judged expected pace in time and nothing extra."""
        return not self.failures


def compare(vectors: VectorFile, device_paces: Sequence[tuple[int, Chamber]],
            tolerance_us: int | None = None) -> Judgement:
    """Match ``device_paces`` (times from time zero) to the expected ones (module docstring);
    ``tolerance_us`` overrides every window (the run-time override)."""
    failures: list[Failure] = []
    matched: list[tuple[int, int]] = []
    until = vectors.judged_until_us

    def window(e: ExpectedPace) -> int:
        return vectors.window_of(e) if tolerance_us is None else tolerance_us

    widest = max([window(e) for e in vectors.expected]
                 + [tolerance_us if tolerance_us is not None else vectors.tolerance_for(c)
                    for c in (Chamber.A, Chamber.V)])
    judged = 0
    for ch in (Chamber.A, Chamber.V):
        exp = [(i, e) for i, e in enumerate(vectors.expected)
               if e.chamber is ch and e.t_us <= until]
        judged += len(exp)
        dev = sorted(t for t, c in device_paces if c is ch and t >= 0)
        used = [False] * len(dev)

        def nearest(t: int, win: int) -> int | None:
            best: int | None = None
            for j, d in enumerate(dev):  # noqa: B023 - called within this iteration only
                if used[j] or abs(d - t) > win:  # noqa: B023
                    continue
                if best is None or abs(d - t) < abs(dev[best] - t):  # noqa: B023
                    best = j
            return best

        late: list[tuple[int, ExpectedPace]] = []
        for i, e in exp:
            j = nearest(e.t_us, window(e))
            if j is None:
                late.append((i, e))
                continue
            used[j] = True
            matched.append((i, dev[j] - e.t_us))
        for i, e in late:
            j = nearest(e.t_us, PAIR_WINDOW_US)
            if j is not None:
                used[j] = True
            failures.append(Failure(Finding.TIMING if j is not None else Finding.MISSING, ch,
                                    i, e.line, e.t_us, dev[j] if j is not None else None,
                                    window(e), e.flags, e.rule))
        for j, d in enumerate(dev):
            if not used[j] and d <= until - widest:
                failures.append(Failure(Finding.EXTRA, ch, None, 0, None, d,
                                        tolerance_us if tolerance_us is not None else
                                        vectors.tolerance_for(ch)))
    failures.sort(key=lambda f: (f.t_us, f.chamber.value))
    matched.sort()
    return Judgement(tuple(matched), tuple(failures), judged,
                     sum(1 for t, _ in device_paces if 0 <= t <= until))


__all__ = ["PAIR_WINDOW_US", "Failure", "Finding", "Judgement", "compare"]
