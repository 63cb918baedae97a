"""Lewis ladder diagrams: what the heart did (ground truth) beside what the device said.

Three tiers, as in an electrophysiology textbook: atrium (A), AV node (AV) and ventricle (V).
Each atrial and ventricular activation of the heart is a stroke in its tier; a conducted
ventricular beat is joined to the atrial activation before it across the AV tier, and a
retrograde atrial activation to the ventricular one before it (dashed, upward). Paces the heart
did not capture are crosses. Under the ladder, the device's markers and the twin's predictions
(labels placed without overlap); discrepancies are shaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox, TransformedBbox

from devicetwin.heart import Activation, Origin
from devicetwin.pacemaker import Chamber, MarkerEvent
from hil.reports.strips import (
    MM_PER_IN,
    PACE_COLOUR,
    TWIN_COLOUR,
    Paper,
    marker_colour,
    marker_text,
    place_labels,
    png_bytes,
)

#: Origin colours: sinus and conducted black, ectopic orange, escape green, retrograde purple,
#: paced red.
ORIGIN_COLOUR = {
    Origin.SINUS: "#111111", Origin.CONDUCTED: "#111111", Origin.ECTOPIC: "#d35400",
    Origin.ESCAPE: "#1e8449", Origin.RETROGRADE: "#7d3c98", Origin.PACED: PACE_COLOUR,
}
#: Ladders are drawn at 50 mm/s: a 200 ms step is 10 mm.
LADDER_PAPER = Paper(speed_mm_per_s=50.0)
#: How far back (us) a conducted or retrograde activation looks for the one that caused it.
LINK_WINDOW_US = 700_000

# tier edges (y, in tier units; device rows below)
_A_TOP, _A_BOTTOM = 9.0, 8.0
_AV_BOTTOM = 6.0
_V_BOTTOM = 5.0


@dataclass(frozen=True, slots=True)
class Link:
    """A conduction across the AV tier: from ``from_us`` to ``to_us``; ``retrograde`` upward."""

    from_us: int
    to_us: int
    retrograde: bool


def conduction_links(heart: Sequence[Activation]) -> list[Link]:
    """Join each conducted ventricular activation to the last atrial activation before it, and
    each retrograde atrial activation to the last ventricular one before it (within
    ``LINK_WINDOW_US``; a retrograde atrial beat is never the cause of a conducted one)."""
    out = []
    last: dict[Chamber, Activation] = {}
    for e in sorted(heart, key=lambda a: a.t_us):
        if e.origin is Origin.PACED and not e.captured:
            continue
        if e.chamber is Chamber.V and e.origin is Origin.CONDUCTED:
            a = last.get(Chamber.A)
            if a is not None and a.origin is not Origin.RETROGRADE \
                    and e.t_us - a.t_us <= LINK_WINDOW_US:
                out.append(Link(a.t_us, e.t_us, False))
        if e.chamber is Chamber.A and e.origin is Origin.RETROGRADE:
            v = last.get(Chamber.V)
            if v is not None and e.t_us - v.t_us <= LINK_WINDOW_US:
                out.append(Link(v.t_us, e.t_us, True))
        last[e.chamber] = e
    return out


def ladder_figure(heart: Sequence[Activation], device: Sequence[MarkerEvent],
                  twin: Sequence[MarkerEvent], lo_us: int, hi_us: int, *, title: str = "",
                  highlight_us: Sequence[int] = (), paper: Paper | None = None) -> Figure:
    """The ladder of ``lo_us`` to ``hi_us`` at the paper's speed (50 mm/s by default)."""
    paper = paper or LADDER_PAPER
    fs = paper.font_pt
    width_mm = max(60.0, paper.x_mm(hi_us - lo_us)) + 14.0
    inside = [e for e in heart if lo_us <= e.t_us <= hi_us]
    dev = [e for e in device if lo_us <= e.t_us <= hi_us]
    tw = [e for e in twin if lo_us <= e.t_us <= hi_us]

    def x(t_us: int) -> float:
        return 14.0 + paper.x_mm(t_us - lo_us)

    rows = {}
    for name, events in (("device", dev), ("twin", tw)):
        col = TWIN_COLOUR if name == "twin" else None
        items = [(x(e.t_us), marker_text(e), col or marker_colour(e.kind)) for e in events]
        rows[name] = place_labels(items, fs)
    lane_mm = paper.lane_mm
    n_dev = 1 + max((lb.lane for lb in rows["device"]), default=0)
    n_twin = 1 + max((lb.lane for lb in rows["twin"]), default=0)
    tier_mm = 8.0
    marker_mm = (n_dev + n_twin) * lane_mm + 6.0
    height_mm = marker_mm + 4.0 + 4 * tier_mm + 13.0
    fig = Figure(figsize=(width_mm / MM_PER_IN, height_mm / MM_PER_IN),
                 dpi=paper.px_per_mm * MM_PER_IN)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(0, width_mm)
    ax.set_ylim(0, height_mm)

    def y(tier: float) -> float:  # tier units (0..9) to mm, tiers above the marker rows
        return marker_mm + (tier - 5.0) * tier_mm + 4.0

    for name, top, bottom in (("A", _A_TOP, _A_BOTTOM), ("AV", _A_BOTTOM, _AV_BOTTOM),
                              ("V", _AV_BOTTOM, _V_BOTTOM)):
        ax.hlines([y(top), y(bottom)], 14.0, width_mm, color="#888", lw=0.5)
        ax.text(2.0, (y(top) + y(bottom)) / 2, name, fontsize=fs + 1, va="center",
                weight="bold")
    for t_us in highlight_us:
        if lo_us <= t_us <= hi_us:
            ax.axvspan(x(t_us) - 2.0, x(t_us) + 2.0, color="#f9e79f", alpha=0.7, lw=0)
    strokes, colours, lost = [], [], []
    for e in inside:
        top, bottom = (_A_TOP, _A_BOTTOM) if e.chamber is Chamber.A else (_AV_BOTTOM, _V_BOTTOM)
        if e.origin is Origin.PACED and not e.captured:
            lost.append((x(e.t_us), (y(top) + y(bottom)) / 2))
        else:
            strokes.append(((x(e.t_us), y(top)), (x(e.t_us), y(bottom))))
            colours.append(ORIGIN_COLOUR[e.origin])
    ax.add_collection(LineCollection(strokes, colors=colours, linewidths=1.4,
                                     gid="activations"))
    if lost:
        ax.plot(*zip(*lost, strict=True), ls="none", marker="x", ms=6,
                color=ORIGIN_COLOUR[Origin.PACED], mew=1.2)
    links = [k for k in conduction_links(heart) if k.to_us >= lo_us and k.from_us <= hi_us]
    # a conduction that began before the window is cut at the ladder's left edge
    window = TransformedBbox(Bbox([[14.0, 0.0], [width_mm, height_mm]]), ax.transData)
    for retro, colour, style, (y0, y1) in (
            (False, "#111111", "-", (y(_A_BOTTOM), y(_AV_BOTTOM))),
            (True, ORIGIN_COLOUR[Origin.RETROGRADE], "--", (y(_AV_BOTTOM), y(_A_BOTTOM)))):
        lines = LineCollection([((x(k.from_us), y0), (x(k.to_us), y1)) for k in links
                                if k.retrograde is retro],
                               colors=colour, linewidths=1.0, linestyles=style)
        lines.set_clip_box(window)
        ax.add_collection(lines)
    # the device's and the twin's markers: one lane per label row, A and V alike
    base = marker_mm
    for name, labels, n in (("device", rows["device"], n_dev), ("twin", rows["twin"], n_twin)):
        ax.text(2.0, base - lane_mm, name, fontsize=fs, va="bottom", weight="bold")
        for lb in labels:
            ax.text(lb.x_mm, base - (lb.lane + 1) * lane_mm, lb.text, fontsize=fs,
                    color=lb.colour, ha="center", va="bottom")
        base -= n * lane_mm + 2.0
    for m in dev:
        if m.kind.is_pace:
            _pace_arrow(ax, x(m.t_us), y(_A_TOP) if m.chamber is Chamber.A else y(_V_BOTTOM),
                        m.chamber is Chamber.A)
    # a time scale: a tick every 200 ms, labelled each second
    t = (lo_us // 200_000 + 1) * 200_000
    while t <= hi_us:
        whole = t % 1_000_000 == 0
        ax.vlines(x(t), y(_A_TOP) + 3.5, y(_A_TOP) + (5.5 if whole else 4.5), color="#555",
                  lw=0.5)
        if whole or t == (lo_us // 200_000 + 1) * 200_000:
            ax.text(x(t), y(_A_TOP) + 5.7, f"{t / 1e6:g} s", fontsize=fs, ha="center",
                    va="bottom", color="#333")
        t += 200_000
    if title:
        ax.text(14.0, height_mm - 0.5, title, fontsize=fs + 0.5, va="top", ha="left")
    return fig


def _pace_arrow(ax: Axes, x_mm: float, y_mm: float, atrial: bool) -> None:
    """A pace: a red arrow into the tier from outside (above the atrium, below the ventricle)."""
    d = 2.5 if atrial else -2.5
    ax.annotate("", xy=(x_mm, y_mm), xytext=(x_mm, y_mm + d),
                arrowprops={"arrowstyle": "-|>", "color": PACE_COLOUR, "lw": 0.8,
                            "mutation_scale": 6})


def ladder_png(heart: Sequence[Activation], device: Sequence[MarkerEvent],
               twin: Sequence[MarkerEvent], lo_us: int, hi_us: int, *, title: str = "",
               highlight_us: Sequence[int] = ()) -> bytes:
    """The ladder as PNG bytes (see :func:`ladder_figure`)."""
    return png_bytes(ladder_figure(heart, device, twin, lo_us, hi_us, title=title,
                                   highlight_us=highlight_us))
