"""The run at a glance: the patient's atrial and ventricular rate over time (heart ground truth)
with the lower and upper rate and every episode marked, as inline SVG.

Clicking the overview anywhere, or an episode, calls the page's ``go(ms)`` script function, which
scrolls the strips to that moment (see ``hil.reports.html``).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence

from devicetwin.heart import Activation, Origin
from devicetwin.pacemaker import Chamber
from hil.reports.episodes import Episode
from hil.reports.strips import EPISODE_COLOUR

_W, _H = 1000.0, 190.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 44.0, 8.0, 10.0, 22.0
_RATE_COLOUR = {Chamber.A: "#2471a3", Chamber.V: "#111111"}


def beat_rates(heart: Sequence[Activation], chamber: Chamber) -> list[tuple[int, float]]:
    """``(t_us, rate_bpm)`` at each activation of ``chamber`` after the first: 60 000 over the
    interval (ms) since the previous one. Paces that did not capture are not beats."""
    times = [e.t_us for e in heart if e.chamber is chamber
             and not (e.origin is Origin.PACED and not e.captured)]
    times.sort()
    return [(b, 60e6 / (b - a)) for a, b in itertools.pairwise(times) if b > a]


def overview_svg(heart: Sequence[Activation], episodes: Sequence[Episode], duration_us: int,
                 *, lower_rate_ppm: float, upper_rate_ppm: float) -> str:
    """The overview as an ``<svg>`` element (scales to the page's width)."""
    span_us = max(duration_us, 1)
    rates = {c: beat_rates(heart, c) for c in (Chamber.A, Chamber.V)}
    top_bpm = max([200.0, upper_rate_ppm + 20] + [r for rs in rates.values() for _, r in rs])
    top_bpm = min(top_bpm, 400.0)
    low_bpm = 20.0
    plot_w = _W - _LEFT - _RIGHT
    plot_h = _H - _TOP - _BOTTOM

    def x(t_us: float) -> float:
        return _LEFT + plot_w * t_us / span_us

    def y(bpm: float) -> float:
        b = min(max(bpm, low_bpm), top_bpm)
        return _TOP + plot_h * (1 - (b - low_bpm) / (top_bpm - low_bpm))

    parts = [f'<svg id="overview" viewBox="0 0 {_W:g} {_H:g}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="10" '
             f'data-left="{_LEFT:g}" data-width="{plot_w:g}" data-span-ms="{span_us / 1000:g}">',
             f'<rect x="{_LEFT:g}" y="{_TOP:g}" width="{plot_w:g}" height="{plot_h:g}" '
             'fill="#fafafa" stroke="#ccc"/>']
    for ep in episodes:
        x0, x1 = x(ep.start_us), x(ep.end_us)
        colour = EPISODE_COLOUR[ep.kind]
        title = html.escape(f"{ep.text} at {ep.start_us / 1e6:.2f} s")
        parts.append(
            f'<rect class="episode" x="{x0:.1f}" y="{_TOP:g}" width="{max(x1 - x0, 2.0):.1f}" '
            f'height="{plot_h:g}" fill="{colour}" fill-opacity="0.22" '
            f'onclick="go({ep.start_us // 1000});event.stopPropagation()">'
            f'<title>{title}</title></rect>')
    for bpm in range(int(low_bpm) // 20 * 20 + 20, int(top_bpm) + 1, 20):
        parts.append(f'<line x1="{_LEFT:g}" x2="{_W - _RIGHT:g}" y1="{y(bpm):.1f}" '
                     f'y2="{y(bpm):.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{_LEFT - 4:g}" y="{y(bpm) + 3:.1f}" text-anchor="end" '
                     f'fill="#666">{bpm}</text>')
    for name, limit in (("LR", lower_rate_ppm), ("UR", upper_rate_ppm)):
        parts.append(f'<line x1="{_LEFT:g}" x2="{_W - _RIGHT:g}" y1="{y(limit):.1f}" '
                     f'y2="{y(limit):.1f}" stroke="#999" stroke-dasharray="4 3"/>'
                     f'<text x="{_W - _RIGHT - 2:g}" y="{y(limit) - 2:.1f}" text-anchor="end" '
                     f'fill="#777">{name} {limit:g}</text>')
    for chamber, points in rates.items():
        if points:
            path = " ".join(f"{x(t):.1f},{y(r):.1f}" for t, r in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke-width="1.2" '
                         f'stroke="{_RATE_COLOUR[chamber]}"/>')
    step_s = max(1, round(span_us / 1e6 / 15))
    for s in range(0, int(span_us // 1_000_000) + 1, step_s):
        parts.append(f'<text x="{x(s * 1e6):.1f}" y="{_H - 8:g}" text-anchor="middle" '
                     f'fill="#444">{s} s</text>')
    parts.append(f'<text x="10" y="{_TOP + plot_h / 2:.1f}" fill="#444" '
                 f'transform="rotate(-90 10 {_TOP + plot_h / 2:.1f})" text-anchor="middle">'
                 'bpm</text>')
    parts.append(f'<text x="{_LEFT + 4:g}" y="{_TOP + 11:g}"><tspan fill="#2471a3">'
                 'atrial rate</tspan> <tspan fill="#111">ventricular rate</tspan>'
                 ' <tspan fill="#777">(heart, beat to beat)</tspan></text>')
    parts.append("</svg>")
    return "".join(parts)
