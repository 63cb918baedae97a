"""Strips like a programmer's printout: the whole record at a fixed paper speed and gain.

The record is drawn on millimetre paper (1 mm and 5 mm grid) at ``speed_mm_per_s`` (25 mm/s by
default: a 5 mm square is 200 ms) with a fixed gain per signal in mm/mV, cut into pages of
``page_s`` seconds that abut without a seam. Under the signals run the device's marker channel
(atrial and device-level markers above the line, ventricular below, pace flags in brackets), its
intervals (AV and VA on one row, V-V on the next, in ms) and the twin's predictions. Labels are
placed in lanes so that none overlaps another; the layout (lanes per row) is computed once for the
whole record so every page has the same height. A narrow key (signal names, gains, a 1 mV
calibration pulse, row titles) is drawn apart and stays in view while the pages scroll.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from PIL import Image

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, PaceFlag
from hil.errors import ConfigError
from hil.reports.episodes import Episode, EpisodeKind

MM_PER_PT = 25.4 / 72.0
MM_PER_IN = 25.4

#: Gain per recorded signal (mm/mV): the ECG at the standard 10 mm/mV, the atrial electrogram at
#: 5 mm/mV (a 2 mV P wave is 10 mm), the ventricular at 2.5 mm/mV (a 12 mV R wave is 30 mm).
DEFAULT_GAIN_MM_PER_MV = {"EGM_A": 5.0, "EGM_V": 2.5, "ECG_II": 10.0}
#: Height of each signal's band (mm); the trace is cut at the band's edge, as on paper.
DEFAULT_BAND_MM = {"EGM_A": 24.0, "EGM_V": 40.0, "ECG_II": 24.0}
_OTHER_GAIN_MM_PER_MV = 10.0
_OTHER_BAND_MM = 24.0

#: Short names of pace flags, as printed in brackets after a pace marker (``VP[UR]``).
FLAG_TEXT = {
    PaceFlag.TRIGGERED: "TR", PaceFlag.SAFETY: "SAFE", PaceFlag.HYSTERESIS: "HYST",
    PaceFlag.SMOOTHING: "SMTH", PaceFlag.SENSOR: "SENS", PaceFlag.UPPER_RATE: "UR",
    PaceFlag.NOISE: "NOISE", PaceFlag.MAGNET: "MAG",
}

PACE_COLOUR = "#c0392b"
SENSE_COLOUR = "#1f4e79"
DEVICE_COLOUR = "#6c3483"
TWIN_COLOUR = "#7f8c8d"
EPISODE_COLOUR = {
    EpisodeKind.PMT: "#e74c3c", EpisodeKind.MODE_SWITCH: "#8e44ad",
    EpisodeKind.NOISE: "#95a5a6", EpisodeKind.LOSS_OF_CAPTURE: "#d35400",
    EpisodeKind.HAZARD: "#a04000", EpisodeKind.DISCREPANCY: "#d4ac0d",
    EpisodeKind.FAILURE: "#b03a2e",
}

_A_BEATS = frozenset({MarkerKind.AS, MarkerKind.AP})
_V_BEATS = frozenset({MarkerKind.VS, MarkerKind.VP, MarkerKind.PVC})


@dataclass(frozen=True, slots=True)
class Paper:
    """How the record is printed.

    Parameters
    ----------
    speed_mm_per_s:
        Paper speed, 25 or 50 mm/s.
    gain_mm_per_mv:
        Gain per signal name (mm/mV); others get 10 mm/mV.
    band_mm:
        Band height per signal name (mm); others get 24 mm.
    px_per_mm:
        Image resolution (4 px/mm is about 100 dpi).
    page_s:
        Seconds of record per image.
    font_pt:
        Size of the marker labels (points).
    """

    speed_mm_per_s: float = 25.0
    gain_mm_per_mv: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_GAIN_MM_PER_MV))
    band_mm: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_BAND_MM))
    px_per_mm: float = 4.0
    page_s: float = 10.0
    font_pt: float = 6.5

    def __post_init__(self) -> None:
        if self.speed_mm_per_s not in (25.0, 50.0):
            raise ConfigError(f"paper speed {self.speed_mm_per_s!r} mm/s; expected 25 or 50",
                              name="speed_mm_per_s", value=self.speed_mm_per_s,
                              expected="25 or 50 mm/s", source="report paper")
        for what, table in (("gain_mm_per_mv", self.gain_mm_per_mv), ("band_mm", self.band_mm)):
            for name, value in table.items():
                if not value > 0:
                    raise ConfigError(f"{what} of {name!r} is {value!r}; expected > 0",
                                      name=what, value=value, expected="> 0",
                                      source="report paper")
        for what, value in (("px_per_mm", self.px_per_mm), ("page_s", self.page_s),
                            ("font_pt", self.font_pt)):
            if not value > 0:
                raise ConfigError(f"{what} {value!r}; expected > 0", name=what, value=value,
                                  expected="> 0", source="report paper")

    def gain(self, name: str) -> float:
        """Gain of a signal (mm/mV)."""
        return self.gain_mm_per_mv.get(name, _OTHER_GAIN_MM_PER_MV)

    def band(self, name: str) -> float:
        """Band height of a signal (mm)."""
        return self.band_mm.get(name, _OTHER_BAND_MM)

    def x_mm(self, t_us: float) -> float:
        """Distance along the paper (mm) of a time since the record's start."""
        return t_us * self.speed_mm_per_s / 1e6

    @property
    def lane_mm(self) -> float:
        """Height of one row of labels (mm)."""
        return self.font_pt * MM_PER_PT * 1.3


def marker_text(event: MarkerEvent) -> str:
    """A marker as printed: refractory senses in brackets (``(AS)``), flags after (``VP[UR]``)."""
    text = event.kind.value
    if event.kind in (MarkerKind.AR, MarkerKind.VR):
        text = f"({event.kind.value[0]}S)"
    flags = [short for flag, short in FLAG_TEXT.items() if flag in event.flags]
    return text + (f"[{','.join(flags)}]" if flags else "")


@dataclass(frozen=True, slots=True)
class Interval:
    """An interval of the marker channel: ``AV``, ``VA`` or ``VV``, between two times (us)."""

    kind: str
    start_us: int
    end_us: int

    @property
    def ms(self) -> int:
        """Length in whole milliseconds."""
        return round((self.end_us - self.start_us) / 1000)


def marker_intervals(events: Iterable[MarkerEvent]) -> list[Interval]:
    """AV (atrial beat to the next ventricular one), VA (ventricular to the next atrial) and V-V
    intervals of a marker stream. Atrial beats are AS and AP, ventricular VS, VP and PVC;
    refractory senses, AT, noise and device markers start and end no interval."""
    out = []
    last_a: int | None = None
    last_v: int | None = None
    last_chamber: Chamber | None = None
    for e in sorted(events, key=lambda ev: ev.t_us):
        if e.kind in _A_BEATS:
            if last_chamber is Chamber.V and last_v is not None:
                out.append(Interval("VA", last_v, e.t_us))
            last_a, last_chamber = e.t_us, Chamber.A
        elif e.kind in _V_BEATS:
            if last_chamber is Chamber.A and last_a is not None:
                out.append(Interval("AV", last_a, e.t_us))
            if last_v is not None:
                out.append(Interval("VV", last_v, e.t_us))
            last_v, last_chamber = e.t_us, Chamber.V
    return out


def assign_lanes(spans: Sequence[tuple[float, float]], gap: float = 0.0) -> list[int]:
    """A lane for each ``(left, right)`` span so that spans of one lane are at least ``gap``
    apart; lanes are filled lowest first, in order of the left edges (interval colouring)."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], spans[i][1]))
    right_edge: list[float] = []
    lanes = [0] * len(spans)
    for i in order:
        left, right = spans[i]
        for lane, edge in enumerate(right_edge):
            if edge + gap <= left:
                right_edge[lane] = right
                lanes[i] = lane
                break
        else:
            lanes[i] = len(right_edge)
            right_edge.append(right)
    return lanes


_TEXT_PATH = TextToPath()


@lru_cache(maxsize=1024)
def text_width_mm(text: str, font_pt: float) -> float:
    """Width of ``text`` (mm) in the default font at ``font_pt`` points."""
    width_pt = _TEXT_PATH.get_text_width_height_descent(
        text, FontProperties(size=font_pt), ismath=False)[0]
    return float(width_pt) * MM_PER_PT


@dataclass(frozen=True, slots=True)
class Label:
    """A label on the paper: centred on ``x_mm`` in ``lane`` of its row."""

    x_mm: float
    text: str
    lane: int
    colour: str
    left_mm: float
    right_mm: float


@dataclass(frozen=True, slots=True)
class Tick:
    """A marker's tick on a marker row: up (atrial, device), down (ventricular)."""

    x_mm: float
    up: bool
    colour: str


def place_labels(items: Sequence[tuple[float, str, str]], font_pt: float) -> list[Label]:
    """Labels ``(x_mm, text, colour)`` placed in lanes without overlap (0.6 mm apart)."""
    spans = []
    for x, text, _ in items:
        half = text_width_mm(text, font_pt) / 2
        spans.append((x - half, x + half))
    lanes = assign_lanes(spans, gap=0.6)
    return [Label(x, text, lane, colour, left, right)
            for (x, text, colour), lane, (left, right) in zip(items, lanes, spans, strict=True)]


def marker_colour(kind: MarkerKind) -> str:
    if kind.is_pace:
        return PACE_COLOUR
    return SENSE_COLOUR if kind.is_sense else DEVICE_COLOUR


@dataclass
class MarkerRow:
    """One stream's marker channel: ticks, labels above (A, X) and below (V)."""

    title: str
    ticks: list[Tick]
    above: list[Label]
    below: list[Label]

    @classmethod
    def build(cls, title: str, events: Sequence[MarkerEvent], paper: Paper,
              colour: str | None = None) -> MarkerRow:
        up_items: list[tuple[float, str, str]] = []
        down_items: list[tuple[float, str, str]] = []
        ticks: list[Tick] = []
        for e in events:
            x = paper.x_mm(e.t_us)
            c = colour or marker_colour(e.kind)
            up = e.chamber is not Chamber.V
            ticks.append(Tick(x, up, c))
            (up_items if up else down_items).append((x, marker_text(e), c))
        return cls(title, ticks, place_labels(up_items, paper.font_pt),
                   place_labels(down_items, paper.font_pt))

    @property
    def lanes_above(self) -> int:
        return 1 + max((lb.lane for lb in self.above), default=0)

    @property
    def lanes_below(self) -> int:
        return 1 + max((lb.lane for lb in self.below), default=0)


@dataclass(frozen=True, slots=True)
class Row:
    """A horizontal band of the page: ``bottom_mm`` to ``bottom_mm + height_mm``."""

    title: str
    bottom_mm: float
    height_mm: float

    @property
    def top_mm(self) -> float:
        return self.bottom_mm + self.height_mm

    @property
    def middle_mm(self) -> float:
        return self.bottom_mm + self.height_mm / 2


_RULER_MM = 5.0
_TICK_ZONE_MM = 6.0


@dataclass
class StripLayout:
    """Everything placed for the whole record, and the rows every page shares."""

    paper: Paper
    names: tuple[str, ...]
    duration_us: int
    episodes: list[Label]
    episode_spans: list[tuple[float, float, int, str]]  # x0, x1, lane, colour
    device: MarkerRow
    twin: MarkerRow
    av_va: list[Label]
    vv: list[Label]
    highlights_mm: list[float]
    rows: dict[str, Row] = field(default_factory=dict)
    height_mm: float = 0.0

    @classmethod
    def build(cls, paper: Paper, names: Sequence[str], duration_us: int,
              device: Sequence[MarkerEvent], twin: Sequence[MarkerEvent],
              episodes: Sequence[Episode] = (), highlight_us: Sequence[int] = ()
              ) -> StripLayout:
        """Place every label of the record and stack the rows (top to bottom: ruler, episodes,
        signals, device markers, AV/VA, V-V, twin markers); ``highlight_us`` are the times of
        discrepancies, shaded through the page."""
        ivs = marker_intervals(device)
        av_va = place_labels([((paper.x_mm(i.start_us) + paper.x_mm(i.end_us)) / 2,
                         f"{i.kind} {i.ms}", "#444444") for i in ivs if i.kind != "VV"],
                       paper.font_pt)
        vv = place_labels([((paper.x_mm(i.start_us) + paper.x_mm(i.end_us)) / 2, f"{i.ms}",
                      "#444444") for i in ivs if i.kind == "VV"], paper.font_pt)
        ep_items = []
        for ep in episodes:
            x0, x1 = paper.x_mm(ep.start_us), paper.x_mm(ep.end_us)
            ep_items.append((ep, x0, max(x1, x0 + 1.0)))
        # an episode takes the room of its bar and of its text, whichever is wider
        spans = [(x0, max(x1, x0 + text_width_mm(ep.text, paper.font_pt) + 1.0))
                 for ep, x0, x1 in ep_items]
        lanes = assign_lanes(spans, gap=0.6)
        ep_labels = [Label(x0 + 0.5, ep.text, lane, EPISODE_COLOUR[ep.kind], x0, right)
                     for (ep, x0, _), lane, (_, right) in zip(ep_items, lanes, spans,
                                                               strict=True)]
        ep_spans = [(x0, x1, lane, EPISODE_COLOUR[ep.kind])
                    for (ep, x0, x1), lane in zip(ep_items, lanes, strict=True)]
        highlights = sorted({paper.x_mm(t) for t in highlight_us})
        layout = cls(paper, tuple(names), duration_us, ep_labels, ep_spans,
                     MarkerRow.build("device", device, paper),
                     MarkerRow.build("twin", twin, paper, TWIN_COLOUR), av_va, vv, highlights)
        layout._stack()
        return layout

    def _stack(self) -> None:
        p = self.paper
        lane = p.lane_mm
        n_ep = 1 + max((lb.lane for lb in self.episodes), default=0) if self.episodes else 1
        heights: list[tuple[str, float]] = [("ruler", _RULER_MM), ("episodes", n_ep * lane + 1)]
        heights += [(f"signal:{n}", p.band(n)) for n in self.names]
        for mrow in (self.device, None, self.twin):
            if mrow is None:
                n_av = 1 + max((lb.lane for lb in self.av_va), default=0)
                n_vv = 1 + max((lb.lane for lb in self.vv), default=0)
                heights += [("AV/VA ms", n_av * lane + 1), ("V-V ms", n_vv * lane + 1)]
                continue
            heights += [(f"{mrow.title}:above", mrow.lanes_above * lane),
                        (f"{mrow.title}:ticks", _TICK_ZONE_MM),
                        (f"{mrow.title}:below", mrow.lanes_below * lane + 1)]
        top = sum(h for _, h in heights)
        self.height_mm = top
        for name, h in heights:
            top -= h
            self.rows[name] = Row(name, top, h)

    @property
    def width_mm(self) -> float:
        """Length of the whole record on paper (mm)."""
        return self.paper.x_mm(self.duration_us)

    def page_starts_us(self) -> list[int]:
        """Start time of each page (us)."""
        step = round(self.paper.page_s * 1e6)
        return list(range(0, max(self.duration_us, 1), step))


def _in_view(labels: Iterable[Label], x0: float, x1: float) -> list[Label]:
    return [lb for lb in labels if lb.right_mm >= x0 and lb.left_mm <= x1]


def _figure(width_mm: float, height_mm: float, paper: Paper) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width_mm / MM_PER_IN, height_mm / MM_PER_IN),
                 dpi=paper.px_per_mm * MM_PER_IN)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_ylim(0, height_mm)
    return fig, ax


def page_figure(layout: StripLayout, t0_us: int, t1_us: int,
                signals: Mapping[str, npt.NDArray[np.float64]], fs_hz: float) -> Figure:
    """One page, ``t0_us`` to ``t1_us``, as a matplotlib figure (``page_png`` renders it).

    ``signals`` are whole-record columns (mV), sample ``i`` at ``i / fs_hz`` seconds.
    """
    p = layout.paper
    x0 = p.x_mm(t0_us)
    x1 = max(p.x_mm(t1_us), x0 + 2.0)  # a run cut short at once still gets a 2 mm page
    fig, ax = _figure(x1 - x0, layout.height_mm, p)
    ax.set_xlim(x0, x1)
    rows = layout.rows
    fs = p.font_pt
    # the paper: 1 mm and 5 mm grid over the signal bands
    for name in layout.names:
        row = rows[f"signal:{name}"]
        xs = np.arange(np.floor(x0), np.ceil(x1) + 1)
        ys = np.arange(row.bottom_mm, row.top_mm + 1e-9, 1.0)
        minor = [((x, row.bottom_mm), (x, row.top_mm)) for x in xs if round(x) % 5]
        minor += [((x0, y), (x1, y)) for y in ys if round(y - row.bottom_mm) % 5]
        major = [((x, row.bottom_mm), (x, row.top_mm)) for x in xs if not round(x) % 5]
        major += [((x0, y), (x1, y)) for y in ys if not round(y - row.bottom_mm) % 5]
        ax.add_collection(LineCollection(minor, colors="#fbe3e1", linewidths=0.3))
        ax.add_collection(LineCollection(major, colors="#f1a9a0", linewidths=0.5))
        ax.axhline(row.bottom_mm, color="#999999", lw=0.4)
    # the signals at their gain, cut at the band's edge
    first = max(0, int(t0_us * fs_hz // 1_000_000) - 1)
    last = int(-(-t1_us * fs_hz // 1_000_000)) + 2
    for name in layout.names:
        values = signals[name][first:last]
        if len(values) == 0:
            continue
        row = rows[f"signal:{name}"]
        t_s = (first + np.arange(len(values))) / fs_hz
        trace = np.clip(row.middle_mm + values * p.gain(name), row.bottom_mm + 0.2,
                        row.top_mm - 0.2)
        ax.plot(t_s * p.speed_mm_per_s, trace, color="black", lw=0.6)
    # the ruler: a tick every 200 ms, a label every second
    ruler = rows["ruler"]
    t_first = int(t0_us // 200_000) * 200_000
    marks = range(t_first, t1_us + 1, 200_000)
    ax.add_collection(LineCollection(
        [((p.x_mm(t), ruler.bottom_mm),
          (p.x_mm(t), ruler.bottom_mm + (2.0 if t % 1_000_000 == 0 else 1.0))) for t in marks],
        colors="#555555", linewidths=0.5))
    for t in marks:
        x = p.x_mm(t)
        if t % 1_000_000 == 0:
            ax.text(x + 0.5, ruler.bottom_mm + 1.6, f"{t // 1_000_000} s", fontsize=fs,
                    va="bottom", ha="left", color="#333")
    # episodes: a bar over their span, their text above it
    ep_row = rows["episodes"]
    lane = p.lane_mm
    for ex0, ex1, ln, colour in layout.episode_spans:
        if ex1 >= x0 and ex0 <= x1:
            bar_mm = ep_row.bottom_mm + 0.5 + ln * lane
            ax.fill_between([ex0, ex1], bar_mm, bar_mm + 0.8, color=colour, lw=0)
    for lb in _in_view(layout.episodes, x0, x1):
        ax.text(lb.x_mm, ep_row.bottom_mm + 1.4 + lb.lane * lane, lb.text, fontsize=fs,
                color=lb.colour, ha="left", va="bottom")
    # discrepancies: a pale band through the whole page
    for hx in layout.highlights_mm:
        if x0 - 3 <= hx <= x1 + 3:
            ax.axvspan(hx - 2.0, hx + 2.0, color="#f9e79f", alpha=0.5, lw=0)
    for mrow in (layout.device, layout.twin):
        _draw_marker_row(ax, mrow, rows, lane, fs, x0, x1)
    for key, labels in (("AV/VA ms", layout.av_va), ("V-V ms", layout.vv)):
        row = rows[key]
        for lb in _in_view(labels, x0, x1):
            ax.text(lb.x_mm, row.top_mm - (lb.lane + 1) * lane, lb.text, fontsize=fs,
                    color=lb.colour, ha="center", va="bottom")
        ax.axhline(row.bottom_mm, color="#e0e0e0", lw=0.3)
    return fig


def _draw_marker_row(ax: Axes, mrow: MarkerRow, rows: Mapping[str, Row], lane: float,
                     fs: float, x0: float, x1: float) -> None:
    above, ticks, below = (rows[f"{mrow.title}:{part}"] for part in ("above", "ticks", "below"))
    base = ticks.middle_mm
    ax.axhline(base, color="#bbbbbb", lw=0.4)
    shown = [tk for tk in mrow.ticks if x0 - 1 <= tk.x_mm <= x1 + 1]
    ax.add_collection(LineCollection(
        [((tk.x_mm, base), (tk.x_mm, base + (2.6 if tk.up else -2.6))) for tk in shown],
        colors=[tk.colour for tk in shown], linewidths=0.8))
    for lb in _in_view(mrow.above, x0, x1):
        ax.text(lb.x_mm, above.bottom_mm + lb.lane * lane, lb.text,
                fontsize=fs, color=lb.colour, ha="center", va="bottom")
    for lb in _in_view(mrow.below, x0, x1):
        ax.text(lb.x_mm, below.top_mm - (lb.lane + 1) * lane, lb.text,
                fontsize=fs, color=lb.colour, ha="center", va="bottom")


def png_bytes(fig: Figure, colours: int = 48) -> bytes:
    """The figure as a palette PNG (``colours`` colours: a fifth of the RGBA size)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    rgba = np.asarray(canvas.buffer_rgba())  # type: ignore[no-untyped-call]
    img = Image.fromarray(rgba[..., :3])
    small = img.quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, format="PNG")
    return out.getvalue()


def page_png(layout: StripLayout, t0_us: int, t1_us: int,
             signals: Mapping[str, npt.NDArray[np.float64]], fs_hz: float) -> bytes:
    """One page as PNG bytes."""
    return png_bytes(page_figure(layout, t0_us, t1_us, signals, fs_hz))


def key_figure(layout: StripLayout, width_mm: float = 26.0) -> Figure:
    """The key beside the pages: signal names with gain and a 1 mV calibration pulse, paper
    speed, and the marker rows' titles, at the pages' heights."""
    p = layout.paper
    fig, ax = _figure(width_mm, layout.height_mm, p)
    ax.set_xlim(0, width_mm)
    fs = p.font_pt
    ruler = layout.rows["ruler"]
    ax.text(1, ruler.middle_mm, f"{p.speed_mm_per_s:g} mm/s", fontsize=fs, va="center")
    ax.text(1, layout.rows["episodes"].middle_mm, "episodes", fontsize=fs, va="center")
    for name in layout.names:
        row = layout.rows[f"signal:{name}"]
        g = p.gain(name)
        ax.text(1, row.top_mm - 1, name, fontsize=fs + 0.5, va="top", weight="bold")
        ax.text(1, row.top_mm - 1 - p.lane_mm, f"{g:g} mm/mV", fontsize=fs, va="top")
        # the calibration pulse: 1 mV high, 200 ms wide, drawn at the band's gain
        cx = width_mm - 8.0
        w = p.x_mm(200_000)
        h = min(g, row.height_mm / 2 - 0.5)
        ax.plot([cx - 2, cx, cx, cx + w, cx + w, cx + w + 2],
                [row.middle_mm, row.middle_mm, row.middle_mm + h, row.middle_mm + h,
                 row.middle_mm, row.middle_mm], color="black", lw=0.6)
    for title in ("device", "twin"):
        ax.text(1, layout.rows[f"{title}:ticks"].middle_mm, title, fontsize=fs + 0.5,
                va="center", weight="bold")
        ax.text(1, layout.rows[f"{title}:above"].middle_mm, "A, device", fontsize=fs - 1,
                va="center", color="#555")
        ax.text(1, layout.rows[f"{title}:below"].middle_mm, "V", fontsize=fs - 1, va="center",
                color="#555")
    for key in ("AV/VA ms", "V-V ms"):
        ax.text(1, layout.rows[key].middle_mm, key, fontsize=fs, va="center")
    ax.axvline(width_mm - 0.2, color="#888", lw=0.6)
    return fig
