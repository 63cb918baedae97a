"""Built-in stimulus patterns: timed atrial and ventricular detections for test vectors.

Every pattern gives detections on whole milliseconds (the sample grid) and at least
``MIN_SPACING_US`` apart in each chamber, so a sampled front end (A-16, 50 ms dead time) can
detect every one of them. Options are given as ``NAME:key=value,key=value``.

Besides rhythms (``sinus``, ``wenckebach``, ``pvcs``, ``random``) there are the patterns that
separate devices (``hil.vectors.probes``): retrograde conduction (PMT), a ventricular sense in the
safety window, a PVC with a retrograde P, constant P-P sweeps and boundary probes at the end of
PVARP, VRP, ARP, blanking and the safety window.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from devicetwin.errors import did_you_mean
from devicetwin.pacemaker import Chamber, Programming
from hil.vectors import probes
from hil.vectors.format import Stimulus
from hil.vectors.probes import PATTERN_SOURCE, PatternError

MIN_SPACING_US = 60_000  # > the front end's 50 ms dead time


@dataclass(frozen=True, slots=True)
class PatternOption:
    """One option of a pattern: its default and the values it takes (inclusive bounds)."""

    default: float
    low: float
    high: float
    unit: str
    integer: bool = False

    @property
    def allowed(self) -> str:
        """The values in words (``"an integer 1 to 1000"``, ``"1 to 1000 bpm"``)."""
        kind = "an integer " if self.integer else ""
        return f"{kind}{self.low:.10g} to {self.high:.10g}" + (f" {self.unit}" if self.unit else "")


@dataclass(frozen=True, slots=True)
class PatternSpec:
    """A pattern: what it makes, its options with defaults and units."""

    name: str
    description: str
    options: Mapping[str, PatternOption]
    make: Callable[[Mapping[str, float], int, Programming], list[Stimulus]]
    requirements: tuple[str, ...] = ()
    """The rules (docs/assumptions.md) the pattern's vectors check."""

    @property
    def defaults(self) -> dict[str, float]:
        """Every option's default."""
        return {k: o.default for k, o in self.options.items()}


def _ms(t_ms: float) -> int:
    return round(t_ms) * 1000


def _sinus(o: Mapping[str, float], duration_us: int, _: Programming) -> list[Stimulus]:
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


def _wenckebach(o: Mapping[str, float], duration_us: int, _: Programming) -> list[Stimulus]:
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


def _pvcs(o: Mapping[str, float], duration_us: int, _: Programming) -> list[Stimulus]:
    """Sinus with conducted beats; every ``every``-th beat the A is replaced by a PVC: a V
    detection ``coupling_ms`` after the previous V with no A before it."""
    return probes.sinus_with_pvcs(o, duration_us)


def _random(o: Mapping[str, float], duration_us: int, _: Programming) -> list[Stimulus]:
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


#: Bounds shared by the patterns: rates up to 1000 bpm keep cycles above the 60 ms spacing.
_RATE = (1.0, 1000.0, "bpm")
_MS = (0.0, 3_600_000.0, "ms")
_START = PatternOption(100.0, *_MS)
_DELTA = PatternOption(0.0, -50.0, 50.0, "ms", integer=True)

PATTERNS: Mapping[str, PatternSpec] = {
    p.name: p for p in (
        PatternSpec("sinus", "sinus rhythm: A at rate_bpm, V av_ms later (0: no V, AV block)",
                    {"rate_bpm": PatternOption(70.0, *_RATE),
                     "av_ms": PatternOption(0.0, *_MS), "start_ms": _START}, _sinus),
        PatternSpec("wenckebach", "atrial rate ramp start_bpm -> end_bpm, no V (upper rate)",
                    {"start_bpm": PatternOption(80.0, *_RATE),
                     "end_bpm": PatternOption(160.0, *_RATE), "start_ms": _START},
                    _wenckebach),
        PatternSpec("pvcs", "conducted sinus with a PVC every `every` beats",
                    {"rate_bpm": PatternOption(70.0, *_RATE),
                     "av_ms": PatternOption(140.0, *_MS),
                     "every": PatternOption(4.0, 1.0, 1000.0, "beats", integer=True),
                     "coupling_ms": PatternOption(450.0, 1.0, _MS[1], "ms"),
                     "start_ms": _START}, _pvcs),
        PatternSpec("random", "random A and V detections (seed, mean_ms gap above 60 ms)",
                    {"seed": PatternOption(1.0, 0.0, 2.0**32 - 1, "", integer=True),
                     "mean_ms": PatternOption(600.0, 1.0, _MS[1], "ms"),
                     "start_ms": PatternOption(50.0, *_MS)}, _random),
        PatternSpec("retrograde", "an A va_ms after every ventricular event (PMT when va_ms > "
                    "PVARP)", {"va_ms": PatternOption(260.0, 1.0, 1000.0, "ms", integer=True)},
                    probes.retrograde, ("A-3", "A-14")),
        PatternSpec("safety", "a V offset_ms after every atrial pace (safety window)",
                    {"offset_ms": PatternOption(60.0, 1.0, 300.0, "ms", integer=True)},
                    probes.safety, ("A-7",)),
        PatternSpec("pvc_retro", "conducted sinus; every `every` beats a PVC and a retrograde P "
                    "va_ms after it",
                    {"rate_bpm": PatternOption(70.0, *_RATE),
                     "av_ms": PatternOption(140.0, *_MS),
                     "every": PatternOption(4.0, 1.0, 1000.0, "beats", integer=True),
                     "coupling_ms": PatternOption(450.0, 1.0, _MS[1], "ms"),
                     "va_ms": PatternOption(260.0, 60.0, 1000.0, "ms", integer=True),
                     "start_ms": _START}, probes.pvc_retro, ("A-6",)),
        PatternSpec("pp_sweep", "A every pp_ms, no V: 1:1, Wenckebach or 2:1 (the description "
                    "states the closed-form ratio)",
                    {"pp_ms": PatternOption(470.0, 60.0, 3000.0, "ms", integer=True),
                     "start_ms": _START}, probes.pp_sweep, ("A-3",)),
        *(PatternSpec(f"boundary_{w}", f"a detection at the end of {what} + delta_ms",
                      {"delta_ms": _DELTA}, make, rules)
          for w, what, make, rules in (
              ("pvarp", "PVARP after a VS", probes.boundary_pvarp, ("A-5", "A-21")),
              ("vrp", "VRP after a VS", probes.boundary_vrp, ("A-5", "A-21")),
              ("arp", "ARP after an AS", probes.boundary_arp, ("A-5", "A-21")),
              ("blank", "post-atrial ventricular blanking after the first AP",
               probes.boundary_blank, ("A-5", "A-7", "A-21")),
              ("vsp", "the safety window after the first AP", probes.boundary_vsp,
               ("A-7", "A-21")))),
    )
}
#: The patterns that need the twin's closed form or that probe a boundary (docs/vectors.md).
SEPARATING = ("retrograde", "safety", "pvc_retro", "pp_sweep", "boundary_pvarp", "boundary_vrp",
              "boundary_arp", "boundary_blank", "boundary_vsp")


def _fail(message: str, name: str, value: object, expected: str) -> PatternError:
    return PatternError(message, name=name, value=value, expected=expected,
                        source=PATTERN_SOURCE)


def parse_pattern(spec: str) -> tuple[str, dict[str, float]]:
    """``NAME`` or ``NAME:key=value,...`` -> (name, options with defaults filled in).

    Raises
    ------
    PatternError
        For an unknown pattern or option (with the closest names), a value that is not a
        number, not whole where it must be, or outside the option's bounds.
    """
    name, _, rest = spec.partition(":")
    if name not in PATTERNS:
        known = sorted(PATTERNS)
        raise _fail(f"unknown pattern {name!r}{did_you_mean(name, known)}; expected one of "
                    f"{', '.join(known)}", "pattern", name, f"one of {known}")
    pattern = PATTERNS[name]
    options = pattern.defaults
    for item in filter(None, rest.split(",")):
        key, eq, text = (part.strip() for part in item.partition("="))
        if not eq or key not in options:
            known = sorted(options)
            raise _fail(f"pattern {name!r}: bad option {item!r}{did_you_mean(key, known)}; "
                        f"expected key=value with key one of {', '.join(known)}", key or "option",
                        item, f"key=value with key in {known}")
        option = pattern.options[key]
        try:
            value = float(text)
        except ValueError:
            raise _fail(f"pattern {name!r}: {key} = {text!r} is not a number; expected "
                        f"{option.allowed}", key, text, option.allowed) from None
        if (not math.isfinite(value) or not option.low <= value <= option.high
                or (option.integer and not value.is_integer())):
            raise _fail(f"pattern {name!r}: {key} = {text} is not allowed; expected "
                        f"{option.allowed}", key, value, option.allowed)
        options[key] = value
    return name, options


def make_stimuli(spec: str, duration_us: int, programming: Programming | None = None
                 ) -> tuple[str, dict[str, float], list[Stimulus]]:
    """The detections of pattern ``spec`` over ``duration_us`` for ``programming`` (nominal
    DDD when None), in time order (A first on ties), with the per-chamber spacing the sampled
    front end needs."""
    name, options = parse_pattern(spec)
    prog = programming if programming is not None else Programming.nominal()
    stimuli = sorted(PATTERNS[name].make(options, duration_us, prog),
                     key=lambda s: (s.t_us, s.chamber.value))
    last: dict[Chamber, int] = {}
    kept = []
    for s in stimuli:
        if s.chamber in last and s.t_us - last[s.chamber] < MIN_SPACING_US:
            continue  # too close for the front end's dead time: drop it
        last[s.chamber] = s.t_us
        kept.append(s)
    return name, options, kept


__all__ = [
    "MIN_SPACING_US",
    "PATTERNS",
    "PATTERN_SOURCE",
    "SEPARATING",
    "PatternError",
    "PatternOption",
    "PatternSpec",
    "make_stimuli",
    "parse_pattern",
]
