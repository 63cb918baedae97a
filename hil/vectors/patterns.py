"""Built-in stimulus patterns: timed atrial and ventricular detections for test vectors.

Every pattern gives detections on whole milliseconds (the sample grid) and at least
``MIN_SPACING_US`` apart in each chamber, so a sampled front end (A-16, 50 ms dead time) can
detect every one of them. Options are given as ``NAME:key=value,key=value``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from devicetwin.pacemaker import Chamber
from hil.errors import HilError
from hil.vectors.format import Stimulus

MIN_SPACING_US = 60_000  # > the front end's 50 ms dead time


class PatternError(HilError):
    """An unknown pattern or a bad pattern option."""


@dataclass(frozen=True, slots=True)
class PatternSpec:
    """A pattern: what it makes, its options with defaults and units."""

    name: str
    description: str
    defaults: Mapping[str, float]
    make: Callable[[Mapping[str, float], int], list[Stimulus]]


def _ms(t_ms: float) -> int:
    return round(t_ms) * 1000


def _sinus(o: Mapping[str, float], duration_us: int) -> list[Stimulus]:
    """A at ``rate_bpm`` from ``start_ms``; V ``av_ms`` after each A when av_ms > 0."""
    out: list[Stimulus] = []
    cycle = 60_000.0 / o["rate_bpm"]
    t = o["start_ms"]
    while _ms(t) <= duration_us:
        out.append(Stimulus(_ms(t), Chamber.A))
        if o["av_ms"] > 0 and _ms(t + o["av_ms"]) <= duration_us:
            out.append(Stimulus(_ms(t + o["av_ms"]), Chamber.V))
        t += cycle
    return out


def _wenckebach(o: Mapping[str, float], duration_us: int) -> list[Stimulus]:
    """Atrial rate ramping linearly from ``start_bpm`` to ``end_bpm`` over the run, no V: a
    tracking mode meets its upper rate and shows Wenckebach behaviour."""
    out: list[Stimulus] = []
    t = o["start_ms"]
    end_ms = duration_us / 1000
    while _ms(t) <= duration_us:
        out.append(Stimulus(_ms(t), Chamber.A))
        frac = min(1.0, t / end_ms)
        rate = o["start_bpm"] + (o["end_bpm"] - o["start_bpm"]) * frac
        t += 60_000.0 / rate
    return out


def _pvcs(o: Mapping[str, float], duration_us: int) -> list[Stimulus]:
    """Sinus with conducted beats; every ``every``-th beat the A is replaced by a PVC: a V
    detection ``coupling_ms`` after the previous V with no A before it."""
    out: list[Stimulus] = []
    cycle = 60_000.0 / o["rate_bpm"]
    t = o["start_ms"]
    beat = 0
    last_v: float | None = None
    while _ms(t) <= duration_us:
        beat += 1
        if beat % int(o["every"]) == 0 and last_v is not None:
            pvc = last_v + o["coupling_ms"]
            if _ms(pvc) <= duration_us:
                out.append(Stimulus(_ms(pvc), Chamber.V))
            last_v = pvc
            t = pvc + cycle  # compensatory pause
            continue
        out.append(Stimulus(_ms(t), Chamber.A))
        if _ms(t + o["av_ms"]) <= duration_us:
            out.append(Stimulus(_ms(t + o["av_ms"]), Chamber.V))
        last_v = t + o["av_ms"]
        t += cycle
    return out


def _random(o: Mapping[str, float], duration_us: int) -> list[Stimulus]:
    """Independent random detections per chamber (exponential gaps of mean ``mean_ms`` above
    the minimum spacing), reproducible by ``seed``."""
    rng = random.Random(int(o["seed"]))
    out: list[Stimulus] = []
    for chamber in (Chamber.A, Chamber.V):
        t = o["start_ms"] + rng.uniform(0, o["mean_ms"])
        while _ms(t) <= duration_us:
            out.append(Stimulus(_ms(t), chamber))
            t += MIN_SPACING_US / 1000 + rng.expovariate(1.0 / o["mean_ms"])
    return out


PATTERNS: Mapping[str, PatternSpec] = {
    p.name: p for p in (
        PatternSpec("sinus", "sinus rhythm: A at rate_bpm, V av_ms later (0: no V, AV block)",
                    {"rate_bpm": 70.0, "av_ms": 0.0, "start_ms": 100.0}, _sinus),
        PatternSpec("wenckebach", "atrial rate ramp start_bpm -> end_bpm, no V (upper rate)",
                    {"start_bpm": 80.0, "end_bpm": 160.0, "start_ms": 100.0}, _wenckebach),
        PatternSpec("pvcs", "conducted sinus with a PVC every `every` beats",
                    {"rate_bpm": 70.0, "av_ms": 140.0, "every": 4.0, "coupling_ms": 450.0,
                     "start_ms": 100.0}, _pvcs),
        PatternSpec("random", "random A and V detections (seed, mean_ms gap above 60 ms)",
                    {"seed": 1.0, "mean_ms": 600.0, "start_ms": 50.0}, _random),
    )
}


def parse_pattern(spec: str) -> tuple[str, dict[str, float]]:
    """``NAME`` or ``NAME:key=value,...`` -> (name, options with defaults filled in)."""
    name, _, rest = spec.partition(":")
    if name not in PATTERNS:
        raise PatternError(f"unknown pattern {name!r}", name="pattern", value=name,
                           expected=f"one of {sorted(PATTERNS)}")
    options = dict(PATTERNS[name].defaults)
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq or key not in options:
            raise PatternError(f"pattern {name!r}: bad option {item!r}", name=key, value=item,
                               expected=f"key=value with key in {sorted(options)}")
        try:
            options[key] = float(value)
        except ValueError:
            raise PatternError(f"pattern {name!r}: {key} = {value!r} is not a number",
                               name=key, value=value, expected="a number") from None
    for key in ("rate_bpm", "start_bpm", "end_bpm", "mean_ms", "every"):
        if key in options and options[key] <= 0:
            raise PatternError(f"pattern {name!r}: {key} = {options[key]} must be positive",
                               name=key, value=options[key], expected="> 0")
    return name, options


def make_stimuli(spec: str, duration_us: int) -> tuple[str, dict[str, float], list[Stimulus]]:
    """The detections of pattern ``spec`` over ``duration_us``, in time order (A first on ties),
    with the per-chamber spacing the sampled front end needs."""
    name, options = parse_pattern(spec)
    stimuli = sorted(PATTERNS[name].make(options, duration_us),
                     key=lambda s: (s.t_us, s.chamber.value))
    last: dict[Chamber, int] = {}
    kept = []
    for s in stimuli:
        if s.chamber in last and s.t_us - last[s.chamber] < MIN_SPACING_US:
            continue  # too close for the front end's dead time: drop it
        last[s.chamber] = s.t_us
        kept.append(s)
    return name, options, kept


__all__ = ["MIN_SPACING_US", "PATTERNS", "PatternError", "PatternSpec", "make_stimuli",
           "parse_pattern"]
