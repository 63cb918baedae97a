"""Figures of the HTML report: electrogram strips with a marker channel, and interval plots.

The strip imitates a programmer's printout: each signal on its own trace, and under them the marker
channel, atrial markers above the line and ventricular markers below, with the device's markers and
the twin's predictions on separate rows so a discrepancy is visible at a glance.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind

_PACE_COLOUR = "#c0392b"
_SENSE_COLOUR = "#1f4e79"
_OTHER_COLOUR = "#6c3483"


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _label(event: MarkerEvent) -> str:
    if event.kind in (MarkerKind.AR, MarkerKind.VR):
        return f"({event.kind.name[0]}S)"
    return event.kind.name


def strip_png(
    t0_us: int,
    fs_hz: float,
    signals: Mapping[str, npt.NDArray[np.float64]],
    marker_rows: Mapping[str, Sequence[MarkerEvent]],
    *,
    title: str = "",
    highlight_us: Sequence[int] = (),
    width_in: float = 11.0,
) -> bytes:
    """A strip of signals (mV) starting at ``t0_us`` with marker rows under it, as PNG bytes.

    ``marker_rows`` maps a row title (``device``, ``twin``) to its markers; only markers inside the
    strip's time span are drawn. ``highlight_us`` marks times of discrepancies.
    """
    n_sig = len(signals)
    n_rows = len(marker_rows)
    n = max((len(v) for v in signals.values()), default=0)
    t_ms = (t0_us / 1000.0) + np.arange(n) * (1000.0 / fs_hz)
    t_end_ms = t_ms[-1] if n else t0_us / 1000.0
    fig, axes = plt.subplots(
        n_sig + n_rows, 1, sharex=True, figsize=(width_in, 1.5 * n_sig + 0.8 * n_rows + 0.6),
        gridspec_kw={"height_ratios": [3] * n_sig + [1.4] * n_rows},
        squeeze=False, layout="constrained",
    )
    axs = axes[:, 0]
    for ax, (name, values) in zip(axs, signals.items(), strict=False):
        ax.plot(t_ms[: len(values)], values, lw=0.8, color="black")
        ax.set_ylabel(f"{name}\nmV", fontsize=8)
        ax.grid(True, which="both", color="#f4c7c3", lw=0.5)
        ax.tick_params(labelsize=7)
    for ax, (row, events) in zip(axs[n_sig:], marker_rows.items(), strict=False):
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_ylim(-1.6, 1.6)
        ax.set_yticks([])
        ax.set_ylabel(row, fontsize=8, rotation=0, ha="right", va="center")
        for ev in events:
            t = ev.t_us / 1000.0
            if n == 0 or not t_ms[0] <= t <= t_end_ms:
                continue
            up = 1.0 if ev.chamber == Chamber.A else (-1.0 if ev.chamber == Chamber.V else 0.0)
            colour = (_PACE_COLOUR if ev.kind.is_pace else
                      _SENSE_COLOUR if ev.kind.is_sense else _OTHER_COLOUR)
            ax.vlines(t, 0, up * 0.6 if up else 0.8, color=colour, lw=1.2)
            ax.text(t, up * 0.75 if up else 0.9, _label(ev), fontsize=7, color=colour,
                    ha="center", va="bottom" if up >= 0 else "top")
    for t_us in highlight_us:
        for ax in axs:
            ax.axvspan(t_us / 1000.0 - 10, t_us / 1000.0 + 10, color="#f9e79f", alpha=0.6, lw=0)
    axs[-1].set_xlabel("time (ms)", fontsize=8)
    span_end = max(t_end_ms, t0_us / 1000.0 + 1.0)  # at least 1 ms wide, even for one sample
    axs[-1].set_xlim(t0_us / 1000.0, span_end)
    if title:
        axs[0].set_title(title, fontsize=9, loc="left")
    return _png(fig)


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
