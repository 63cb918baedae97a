"""Patient conditions: named presets of plain, validated parameters.

A :class:`Condition` is a frozen dataclass; every numeric field carries its allowed range in
its metadata and is checked on construction. Presets live in :data:`PRESETS`; a file (TOML or
JSON) can define new ones on top of a preset (``base = "normal_sinus"``) and any field can be
overridden with :meth:`Condition.with_changes`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devicetwin.heart.errors import HeartError, bad


def _rng(lo: float, hi: float, unit: str) -> dict[str, Any]:
    return {"range": (lo, hi), "unit": unit}


ATRIAL_RHYTHMS = ("sinus", "flutter", "fibrillation")
AV_CONDUCTION = ("normal", "blocked", "intermittent")


@dataclass(frozen=True)
class Condition:
    """All parameters of a simulated patient (units in the field names).

    **Times at the leads.** The two conduction times a user compares with a device's timing
    are defined where the device's leads see them, not inside the model, so that they can be
    set against PVARP or an AV delay directly:

    - ``va_conduction_ms``: from a captured RV pace (its onset), or else from the activation of
      the RV lead's site, to the activation of the RA lead's site by the retrograde wave.
    - ``av_delay_ms``: from an RA pace (its onset) to the activation of the RV lead's site, when
      the AV node is fully recovered and at rest; ``av_decrement_ms`` adds to it as the node is
      entered earlier, and sympathetic tone shortens the node's share of it.

    A lead site's activation is the time the cell under the lead's tip activates. That, not the
    moment the electrogram crosses some sensitivity, is the definition because it belongs to the
    heart alone: the same for every device and programming, and the local activation time an
    electrophysiologist reads off the bipolar electrogram. A sense amplifier reports it a little
    earlier or later depending on its filter, its sensitivity and the signal (the reference front
    end at nominal sensitivity: 2 ms after it on the atrial channel, up to 5 ms before it on the
    ventricular one; docs/heart.md tabulates the figures). The heart schedules its AV path's
    exits with the conduction times outside the path subtracted, measured on its own tissue
    (:mod:`devicetwin.heart.lead_timing`), so on rested tissue the configured time is what the
    leads see; at short cycle lengths the tissue conducts more slowly and the leads see more
    (restitution, tabulated); a time shorter than the conduction itself (possible only with the
    slower Aliev-Panfilov tissue) gives the shortest the tissue can do.

    Other beats than the defining one take other routes to and from the AV node, so their
    intervals at the leads differ from these by a fixed amount each (a sinus beat's PR, a PAC's,
    a PVC's onset): docs/heart.md tabulates them and ``Heart.lead_timing`` gives them for a
    heart. Every other time is either an interval between beats that take the same route (rates,
    cycle lengths, pauses: the same at the leads), an internal state of the AV node
    (``av_erp_ms``, ``av_recovery_ms``, counted from the node's last exit), or the onset of an
    ectopic focus (``pac_times_ms``, ``pvc_times_ms``: when the focus fires; its lead sees it a
    fixed conduction time later).
    """

    name: str = "custom"
    description: str = ""
    # sinus node
    sinus_rate_bpm: float = field(default=70.0, metadata=_rng(20.0, 200.0, "bpm"))
    sinus_jitter: float = field(default=0.02, metadata=_rng(0.0, 0.2, "fraction of cycle"))
    sinus_pause_probability: float = field(default=0.0, metadata=_rng(0.0, 0.5, "per beat"))
    sinus_pause_ms: float = field(default=2500.0, metadata=_rng(1000.0, 6000.0, "ms"))
    max_sinus_rate_bpm: float = field(default=175.0, metadata=_rng(40.0, 220.0, "bpm"))
    # atrial rhythm
    atrial_rhythm: str = field(default="sinus", metadata={"choices": ATRIAL_RHYTHMS})
    flutter_cycle_ms: float = field(default=200.0, metadata=_rng(160.0, 350.0, "ms"))
    af_mean_cycle_ms: float = field(default=170.0, metadata=_rng(110.0, 300.0, "ms"))
    # AV node (path element) and His-Purkinje
    av_conduction: str = field(default="normal", metadata={"choices": AV_CONDUCTION})
    # at the leads (RA pace to RV lead activation); the node's own share is this minus the
    # conduction outside it (82.4 ms on the default heart), so 120 ms leaves the node ~38 ms
    av_delay_ms: float = field(default=176.0, metadata=_rng(120.0, 480.0, "ms"))
    av_decrement_ms: float = field(default=150.0, metadata=_rng(0.0, 500.0, "ms"))
    av_recovery_ms: float = field(default=80.0, metadata=_rng(10.0, 500.0, "ms"))
    av_erp_ms: float = field(default=250.0, metadata=_rng(150.0, 900.0, "ms"))
    av_concealment_fraction: float = field(default=0.65, metadata=_rng(0.3, 1.0, "of ERP"))
    block_period_s: float = field(default=30.0, metadata=_rng(2.0, 3600.0, "s"))
    block_fraction: float = field(default=0.5, metadata=_rng(0.0, 1.0, "fraction"))
    his_block_probability: float = field(default=0.0, metadata=_rng(0.0, 0.9, "per beat"))
    escape_rate_bpm: float = field(default=35.0, metadata=_rng(15.0, 60.0, "bpm"))
    # retrograde (VA) conduction through the AV path
    retrograde: bool = False
    # at the leads: RV pace (or RV lead activation) to RA lead activation
    va_conduction_ms: float = field(default=250.0, metadata=_rng(80.0, 500.0, "ms"))
    va_erp_ms: float = field(default=300.0, metadata=_rng(150.0, 900.0, "ms"))
    # ectopy
    pac_times_ms: tuple[float, ...] = ()
    pvc_times_ms: tuple[float, ...] = ()
    pac_rate_per_min: float = field(default=0.0, metadata=_rng(0.0, 30.0, "per min"))
    pvc_rate_per_min: float = field(default=0.0, metadata=_rng(0.0, 30.0, "per min"))
    # exercise: workload (0 rest .. 1 maximal) against time since the condition took effect
    exercise_profile: tuple[tuple[float, float], ...] = ()
    exercise_time_constant_s: float = field(default=30.0, metadata=_rng(1.0, 600.0, "s"))
    activity_rest_milli_g: float = field(default=8.0, metadata=_rng(0.0, 100.0, "milli-g"))
    activity_max_milli_g: float = field(default=400.0, metadata=_rng(10.0, 4000.0, "milli-g"))
    # pacing thresholds (Weiss/Lapicque): V_th = rheobase * (1 + chronaxie / width)
    rheobase_v: tuple[tuple[str, float], ...] = (("RA", 0.35), ("RV", 0.30), ("LV", 0.45))
    chronaxie_ms: tuple[tuple[str, float], ...] = (("RA", 0.40), ("RV", 0.50), ("LV", 0.50))
    threshold_rise_per_min: float = field(default=0.0, metadata=_rng(0.0, 10.0, "x per min"))
    threshold_max_factor: float = field(default=1.0, metadata=_rng(1.0, 20.0, "x"))
    # noise on the electrograms
    mains_mv: float = field(default=0.0, metadata=_rng(0.0, 20.0, "mV"))
    mains_hz: float = field(default=50.0, metadata={"choices": (50.0, 60.0)})
    myopotential_mv: float = field(default=0.0, metadata=_rng(0.0, 10.0, "mV"))
    emi_bursts: tuple[tuple[float, float, float], ...] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            if "range" in meta:
                lo, hi = meta["range"]
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise bad(f.name, value, f"a number in [{lo}, {hi}] {meta['unit']}")
                if not (math.isfinite(value) and lo <= value <= hi):
                    raise bad(f.name, value, f"[{lo}, {hi}] {meta['unit']}")
            if "choices" in meta and value not in meta["choices"]:
                raise bad(f.name, value, f"one of {meta['choices']}")
        if self.sinus_rate_bpm > self.max_sinus_rate_bpm:
            raise bad(
                "sinus_rate_bpm",
                self.sinus_rate_bpm,
                f"<= max_sinus_rate_bpm ({self.max_sinus_rate_bpm})",
            )
        for name in ("pac_times_ms", "pvc_times_ms"):
            for t in getattr(self, name):
                if not (isinstance(t, (int, float)) and math.isfinite(t) and t >= 0):
                    raise bad(name, t, "times >= 0 ms")
        last = -1.0
        for point in self.exercise_profile:
            if len(point) != 2:
                raise bad("exercise_profile", point, "(time_s, workload) pairs")
            t_s, load = point
            if not (t_s > last and 0.0 <= load <= 1.0):
                raise bad("exercise_profile", point, "increasing time_s and workload in [0, 1]")
            last = t_s
        for name in ("rheobase_v", "chronaxie_ms"):
            sites = dict(getattr(self, name))
            if set(sites) != {"RA", "RV", "LV"}:
                raise bad(name, getattr(self, name), "one entry for each of RA, RV, LV")
            hi = 5.0 if name == "rheobase_v" else 3.0
            for site, val in sites.items():
                if not (isinstance(val, (int, float)) and 0.05 <= val <= hi):
                    raise bad(f"{name}[{site}]", val, f"[0.05, {hi}]")
        for burst in self.emi_bursts:
            if len(burst) != 3 or burst[0] < 0 or not (0 < burst[1] <= 60000) or burst[2] < 0:
                raise bad(
                    "emi_bursts",
                    burst,
                    "(start_ms >= 0, duration_ms in (0, 60000], amplitude_mv >= 0)",
                )

    def with_changes(self, **changes: Any) -> Condition:
        """A copy with some fields replaced (validated)."""
        known = {f.name for f in dataclasses.fields(self)}
        for key in changes:
            if key not in known:
                raise bad("condition parameter", key, f"one of {sorted(known)}")
        return dataclasses.replace(self, **{k: _freeze(v) for k, v in changes.items()})

    def rheobase(self, site: str) -> float:
        """Rheobase of a lead site in volts."""
        return dict(self.rheobase_v)[site]

    def chronaxie(self, site: str) -> float:
        """Chronaxie of a lead site in milliseconds."""
        return dict(self.chronaxie_ms)[site]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-compatible)."""
        return dataclasses.asdict(self)


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return tuple((k, _freeze(v)) for k, v in value.items())
    return value


_BASE = Condition()

PRESETS: dict[str, Condition] = {
    c.name: c
    for c in (
        _BASE.with_changes(name="normal_sinus", description="Normal sinus rhythm at 70 bpm"),
        _BASE.with_changes(
            name="sinus_bradycardia", description="Sinus bradycardia at 45 bpm", sinus_rate_bpm=45.0
        ),
        _BASE.with_changes(
            name="sick_sinus",
            description="Sick sinus: 55 bpm, sinus pauses of ~3 s, chronotropic incompetence",
            sinus_rate_bpm=55.0,
            sinus_pause_probability=0.08,
            sinus_pause_ms=3000.0,
            max_sinus_rate_bpm=90.0,
        ),
        _BASE.with_changes(
            name="av_block_1",
            description="First-degree AV block: slow AV-nodal conduction (PR ~ 280 ms)",
            av_delay_ms=296.0,
        ),
        _BASE.with_changes(
            name="mobitz_1",
            description="Mobitz I (Wenckebach): decremental AV-nodal conduction at 85 bpm",
            sinus_rate_bpm=85.0,
            av_delay_ms=201.0,
            av_decrement_ms=250.0,
            av_recovery_ms=150.0,
            av_erp_ms=420.0,
        ),
        _BASE.with_changes(
            name="mobitz_2",
            description="Mobitz II: sudden infranodal block without PR prolongation",
            sinus_rate_bpm=75.0,
            his_block_probability=0.25,
        ),
        _BASE.with_changes(
            name="av_block_2_1",
            description="2:1 AV block: AV-nodal refractoriness longer than the sinus cycle",
            sinus_rate_bpm=90.0,
            av_erp_ms=900.0,
        ),
        _BASE.with_changes(
            name="complete_av_block",
            description="Complete AV block with a 35 bpm ventricular escape rhythm",
            av_conduction="blocked",
            escape_rate_bpm=35.0,
        ),
        _BASE.with_changes(
            name="atrial_flutter",
            description="Atrial flutter, 300/min, with variable (3:1 to 4:1) AV conduction",
            atrial_rhythm="flutter",
            flutter_cycle_ms=200.0,
        ),
        _BASE.with_changes(
            name="atrial_fibrillation",
            description="Atrial fibrillation: irregular atrial activity filtered by the AV node",
            atrial_rhythm="fibrillation",
        ),
        _BASE.with_changes(
            name="pacs",
            description="Sinus rhythm with premature atrial contractions, 6/min",
            pac_rate_per_min=6.0,
        ),
        _BASE.with_changes(
            name="pvcs",
            description="Sinus rhythm with premature ventricular contractions, 6/min",
            pvc_rate_per_min=6.0,
        ),
        _BASE.with_changes(
            name="retrograde_va",
            description="Complete AV block with retrograde VA conduction of 250 ms",
            av_conduction="blocked",
            retrograde=True,
            va_conduction_ms=250.0,
        ),
        _BASE.with_changes(
            name="exercise",
            description="Exercise: workload ramps 0 -> 0.8 over 2 min from t = 10 s, then rests",
            exercise_profile=((0.0, 0.0), (10.0, 0.0), (130.0, 0.8), (300.0, 0.8), (420.0, 0.0)),
        ),
        _BASE.with_changes(
            name="rising_threshold",
            description="Capture threshold rising 50 %/min up to 4x (exit block developing)",
            threshold_rise_per_min=0.5,
            threshold_max_factor=4.0,
        ),
        _BASE.with_changes(
            name="bench_patient",
            description="Bench patient: intermittent AV block with retrograde VA conduction",
            av_conduction="intermittent",
            block_period_s=20.0,
            block_fraction=0.5,
            retrograde=True,
            va_conduction_ms=280.0,
        ),
    )
}


def list_conditions() -> list[tuple[str, str]]:
    """(name, one-line description) for every preset."""
    return [(c.name, c.description) for c in PRESETS.values()]


def get_condition(name: str) -> Condition:
    """The preset called ``name``."""
    try:
        return PRESETS[name]
    except KeyError:
        raise bad("condition", name, f"one of {sorted(PRESETS)}") from None


def condition_from_mapping(data: Mapping[str, Any]) -> Condition:
    """A condition from plain data: ``base`` (a preset name, default normal_sinus) + fields."""
    data = dict(data)
    base = get_condition(str(data.pop("base", "normal_sinus")))
    return base.with_changes(**data)


def load_condition(path: str | Path) -> Condition:
    """A condition from a ``.toml`` or ``.json`` file (see :func:`condition_from_mapping`)."""
    p = Path(path)
    if p.suffix == ".toml":
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    elif p.suffix == ".json":
        data = json.loads(p.read_text())
    else:
        raise bad("condition file", str(p), "a .toml or .json file")
    if not isinstance(data, dict):
        raise HeartError(f"condition file {str(p)!r} must hold a table", name="path", value=str(p))
    return condition_from_mapping(data)
