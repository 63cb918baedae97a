"""Signed timing statistics: how early or late, not only how far.

An absolute error distribution hides the sign: a device whose escape interval is systematically
3 ms short shows only "max 3 ms" under an 8 ms tolerance. :class:`SignedStats` keeps it: the
median and mean of signed errors (device minus twin, or measured minus expected) are the *bias*,
the 5th and 95th percentiles its spread, and the largest absolute error what a tolerance holds.
Everything is in microseconds, the unit of marker times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class SignedStats:
    """Distribution of signed errors, in microseconds.

    Parameters
    ----------
    n:
        How many errors were summarised (at least one).
    median_us, mean_us:
        The bias: median and mean of the signed errors (negative: early or short).
    p5_us, p95_us:
        5th and 95th percentiles (linear interpolation, NumPy's default).
    max_abs_us:
        The largest absolute error.
    reference:
        What the errors are measured against, as the reports label them (``"twin"``,
        ``"LRI 1000 ms"``).
    """

    n: int
    median_us: float
    mean_us: float
    p5_us: float
    p95_us: float
    max_abs_us: float
    reference: str = ""

    @classmethod
    def of(cls, errors_us: npt.ArrayLike, reference: str = "") -> SignedStats | None:
        """The statistics of ``errors_us`` (signed, microseconds); None when there are none."""
        e = np.asarray(errors_us, dtype=np.float64).ravel()
        if e.size == 0:
            return None
        p5, p50, p95 = np.percentile(e, [5.0, 50.0, 95.0])
        return cls(int(e.size), float(p50), float(e.mean()), float(p5), float(p95),
                   float(np.abs(e).max()), reference)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in microseconds (rounded to the nanosecond)."""
        return {
            "n": self.n,
            "median_us": round(self.median_us, 3),
            "mean_us": round(self.mean_us, 3),
            "p5_us": round(self.p5_us, 3),
            "p95_us": round(self.p95_us, 3),
            "max_abs_us": round(self.max_abs_us, 3),
            "reference": self.reference,
        }
