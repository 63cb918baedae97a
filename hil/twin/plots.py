"""Figures of the twin report: a strip of the recording with its labels, posterior histograms,
and the trade-off front of a recommendation (PNG bytes, drawn without pyplot's global state)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from devicetwin.twin import Posterior, RecordedSession

_DPI = 90


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def strip_png(session: RecordedSession, signals: npt.NDArray[np.float64] | None,
              start_us: int = 0, length_us: int = 10_000_000) -> bytes:
    """The recording from ``start_us`` for ``length_us``: each waveform on its own trace, then
    the beat labels and device markers at their times."""
    stop_us = start_us + length_us
    n_traces = 0 if signals is None or session.fs_hz is None else signals.shape[1]
    fig = Figure(figsize=(11, 1.2 * n_traces + 1.0))
    axes = fig.subplots(n_traces + 1, 1, sharex=True, squeeze=False)[:, 0]
    if signals is not None and session.fs_hz is not None:
        first = int(start_us * session.fs_hz // 1_000_000)
        last = min(len(signals), int(stop_us * session.fs_hz // 1_000_000))
        t_s = (np.arange(first, last) / session.fs_hz)
        for i in range(n_traces):
            ax = axes[i]
            ax.plot(t_s, signals[first:last, i], lw=0.7, color="#222")
            info = session.signals[i]
            ax.set_ylabel(f"{info.name}\n{info.units}", fontsize=8)
            ax.tick_params(labelsize=7)
    lab = axes[-1]
    for b in session.beats:
        if start_us <= b.t_us < stop_us:
            lab.text(b.t_us / 1e6, 0.3, b.symbol, ha="center", fontsize=8, color="#1f4e79")
    for m in session.markers:
        if start_us <= m.t_us < stop_us:
            y = 0.75 if m.chamber.value == "A" else 0.0
            colour = "#c0392b" if m.kind.is_pace else "#1f4e79"
            lab.text(m.t_us / 1e6, y, m.kind.value, ha="center", fontsize=7, color=colour)
    lab.set_ylim(-0.2, 1.1)
    lab.set_yticks([])
    lab.set_ylabel("labels", fontsize=8)
    lab.set_xlim(start_us / 1e6, stop_us / 1e6)
    lab.set_xlabel("time from the start of the recording (s)", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def posterior_png(posterior: Posterior) -> bytes:
    """One histogram per calibrated parameter."""
    n = len(posterior.names)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = Figure(figsize=(2.8 * cols, 2.1 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for j, name in enumerate(posterior.names):
        ax = axes[j // cols][j % cols]
        ax.hist(posterior.samples[:, j], bins=30, color="#5d8aa8")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def front_png(front: Sequence[Mapping[str, float]], x: str, y: str,
              marks: Mapping[str, Mapping[str, float | None]]) -> bytes:
    """The trade-off front on objectives ``x`` and ``y``, with named points (current,
    recommended) marked."""
    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    xs = [p[x] for p in front if x in p and y in p]
    ys = [p[y] for p in front if x in p and y in p]
    ax.scatter(xs, ys, s=14, color="#5d8aa8", label="front")
    for (label, point), colour in zip(marks.items(), ("#c0392b", "#1e7b34", "#6c3483"),
                                      strict=False):
        px, py = point.get(x), point.get(y)
        if px is not None and py is not None:
            ax.scatter([px], [py], s=60, marker="*", color=colour, label=label)
    ax.set_xlabel(x, fontsize=8)
    ax.set_ylabel(y, fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)
