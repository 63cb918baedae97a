"""The interval plot of the HTML report: A-A and V-V intervals over the run, against the lower
and upper rate intervals. (The strips at paper speed are in ``hil.reports.strips``, the ladder
diagrams in ``hil.reports.ladder``.)"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def intervals_png(
    events: Sequence[MarkerEvent],
    *,
    limits_ms: Mapping[str, float] | None = None,
    title: str = "",
) -> bytes:
    """A-A and V-V intervals (ms) over time, paced and sensed distinguished, with limit lines."""
    fig, ax = plt.subplots(figsize=(11, 3.2), layout="constrained")
    for chamber, marker in ((Chamber.A, "^"), (Chamber.V, "o")):
        evs = [e for e in events if e.chamber == chamber and
               (e.kind.is_pace or e.kind in (MarkerKind.AS, MarkerKind.AT, MarkerKind.VS,
                                             MarkerKind.PVC))]
        if len(evs) < 2:
            continue
        t = np.array([e.t_us for e in evs], dtype=np.float64)
        iv = np.diff(t) / 1000.0
        paced = np.array([e.kind.is_pace for e in evs[1:]])
        for mask, fill, label in ((paced, "full", "paced"), (~paced, "none", "sensed")):
            if mask.any():
                ax.plot(t[1:][mask] / 1e6, iv[mask], marker, ms=3, fillstyle=fill, ls="none",
                        label=f"{chamber.value}-{chamber.value} {label}")
    for name, value in (limits_ms or {}).items():
        ax.axhline(value, ls="--", lw=0.8, color="grey")
        # x in axes coordinates so the label stays inside however few points there are
        ax.text(0.0, value, f" {name} {value:g} ms", fontsize=7, va="bottom", color="grey",
                transform=ax.get_yaxis_transform())
    ax.set_xlabel("time (s)", fontsize=8)
    ax.set_ylabel("interval (ms)", fontsize=8)
    ax.tick_params(labelsize=7)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper right")
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return _png(fig)
