"""Programmed timing the monitors check against, and the matcher's tolerances.

The bench fills :class:`TimingLimits` from the device programming (all intervals in whole
milliseconds, as ``docs/assumptions.md`` A-1 makes them) and :class:`MatchTolerance` from the
scenario. Tolerances are whole microseconds (a scenario's 2.5 ms is 2500 us, never rounded to a
millisecond). Both validate once in their constructor; monitors and the matcher trust them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from devicetwin.conformance.errors import ConformanceError
from devicetwin.pacemaker.markers import MarkerKind

#: Mode codes the monitors understand (pacing.md section 1, with the R variants).
KNOWN_MODES = frozenset(
    {"OFF", "AOO", "AAI", "VOO", "VVI", "AAT", "VVT", "DOO", "DDI", "VDD", "DDD",
     "AOOR", "AAIR", "VOOR", "VVIR", "DOOR", "DDIR", "VDDR", "DDDR",
     "OAO", "OVO", "ODO", "OOO"}
)


class LowerRateTiming(enum.Enum):
    """Lower-rate timing convention (A-2, setting ``lower_rate_timing``)."""

    VENTRICULAR = "ventricular"
    ATRIAL = "atrial"


def _check_positive(name: str, value: int | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        unit = "microseconds" if name.endswith("_us") else "milliseconds"
        raise ConformanceError(
            f"{name} = {value!r} is not a positive whole number of {unit}",
            name=name, value=value, expected="an int > 0",
        )


def _check_tolerance_us(name: str, value: object) -> None:
    """A tolerance is a whole, non-negative number of microseconds."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConformanceError(
            f"{name} = {value!r} is not a non-negative whole number of microseconds",
            name=name, value=value, expected="an int >= 0 (us)",
        )


@dataclass(frozen=True, slots=True)
class TimingLimits:
    """The programmed timing of a session, as the monitors need it: intervals in whole
    milliseconds, the tolerance in whole microseconds.

    Parameters
    ----------
    mode:
        Programmed (permanent) mode code, e.g. ``"DDD"`` or ``"VVIR"``.
    lri_ms, uri_ms:
        Lower- and upper-rate intervals (A-1).
    pav_ms, sav_ms:
        Paced and sensed AV delays with dynamic AV delay off (A-4).
    vrp_ms, arp_ms, pvarp_ms:
        Refractory periods (A-5). ``arp_ms`` applies to single-chamber atrial modes.
    pvarp_extension_ms:
        PVARP extension after a PVC (A-6), ``None`` when Off.
    hysteresis_interval_ms:
        HRI, the interval of the hysteresis rate (A-9), ``None`` when Off.
    msri_ms:
        Maximum sensor rate interval (R modes, A-12), ``None`` otherwise.
    dynamic_av_min_ms:
        Minimum dynamic AV delay when dynamic AV delay is on (A-4), ``None`` when Off.
    sensed_av_offset_ms:
        Sensed AV offset, 0 (Off) or -10 .. -100 (A-4).
    tolerance_us:
        Timing tolerance of every interval check, in microseconds (the specification's
        +-8 ms = 8000 us).
    convention:
        Lower-rate timing convention (A-2).
    ventricular_blanking_ms, vsp_window_ms, safety_pacing:
        Crosstalk handling (A-5, A-7).
    pvab_ms:
        Post-ventricular atrial blanking (A-5).
    noise_interval_ms:
        Noise detection interval (A-11).
    atr_enabled, atr_duration_cycles, atr_fallback_time_min:
        ATR mode switch settings (A-13).
    pmt_termination, pmt_cycles, pmt_va_max_ms, pmt_pvarp_ms:
        PMT termination settings (A-14).
    pmt_hazard_cycles:
        A run of more VP->AS cycles than this, unterminated, is the PMT hazard (default 10:
        termination after 8 cycles per A-14, plus the cycle that delivers it, plus one).
    near_url_pct:
        A VP->AS cycle counts towards a PMT run when its V-V interval is at most
        ``uri_ms * (100 + near_url_pct) / 100`` (at or near the URL).
    """

    mode: str = "DDD"
    lri_ms: int = 1000
    uri_ms: int = 500
    pav_ms: int = 150
    sav_ms: int = 150
    vrp_ms: int = 320
    arp_ms: int = 250
    pvarp_ms: int = 250
    pvarp_extension_ms: int | None = None
    hysteresis_interval_ms: int | None = None
    msri_ms: int | None = None
    dynamic_av_min_ms: int | None = None
    sensed_av_offset_ms: int = 0
    tolerance_us: int = 8000
    convention: LowerRateTiming = LowerRateTiming.VENTRICULAR
    ventricular_blanking_ms: int = 40
    vsp_window_ms: int = 110
    safety_pacing: bool = True
    pvab_ms: int = 100
    noise_interval_ms: int = 100
    atr_enabled: bool = False
    atr_duration_cycles: int = 20
    atr_fallback_time_min: int = 1
    pmt_termination: bool = True
    pmt_cycles: int = 8
    pmt_va_max_ms: int = 400
    pmt_pvarp_ms: int = 500
    pmt_hazard_cycles: int = 10
    near_url_pct: int = 10

    def __post_init__(self) -> None:
        if self.mode not in KNOWN_MODES:
            raise ConformanceError(
                f"mode {self.mode!r} is not a known pacing mode",
                name="mode", value=self.mode, expected=", ".join(sorted(KNOWN_MODES)),
            )
        for name in ("lri_ms", "uri_ms", "pav_ms", "sav_ms", "vrp_ms", "arp_ms", "pvarp_ms",
                     "ventricular_blanking_ms", "vsp_window_ms", "pvab_ms",
                     "noise_interval_ms", "atr_duration_cycles", "atr_fallback_time_min",
                     "pmt_cycles", "pmt_va_max_ms", "pmt_pvarp_ms", "pmt_hazard_cycles"):
            _check_positive(name, getattr(self, name))
        _check_tolerance_us("tolerance_us", self.tolerance_us)
        for name in ("pvarp_extension_ms", "hysteresis_interval_ms", "msri_ms",
                     "dynamic_av_min_ms"):
            _check_positive(name, getattr(self, name), allow_none=True)
        if self.uri_ms > self.lri_ms:
            raise ConformanceError(
                f"uri_ms = {self.uri_ms} is longer than lri_ms = {self.lri_ms}",
                name="uri_ms", value=self.uri_ms, expected=f"<= lri_ms ({self.lri_ms})",
            )
        if self.hysteresis_interval_ms is not None and self.hysteresis_interval_ms <= self.lri_ms:
            raise ConformanceError(
                f"hysteresis_interval_ms = {self.hysteresis_interval_ms} is not longer than "
                f"lri_ms = {self.lri_ms} (the hysteresis rate is below the LRL)",
                name="hysteresis_interval_ms", value=self.hysteresis_interval_ms,
                expected=f"> lri_ms ({self.lri_ms})",
            )
        if not -100 <= self.sensed_av_offset_ms <= 0:
            raise ConformanceError(
                f"sensed_av_offset_ms = {self.sensed_av_offset_ms} is outside -100..0",
                name="sensed_av_offset_ms", value=self.sensed_av_offset_ms,
                expected="0 (Off) or -10 .. -100",
            )
        if self.near_url_pct < 0:
            raise ConformanceError(
                f"near_url_pct = {self.near_url_pct} is negative",
                name="near_url_pct", value=self.near_url_pct, expected=">= 0",
            )

    @property
    def base_mode(self) -> str:
        """The mode without its rate-adaptive ``R``."""
        return self.mode[:3] if len(self.mode) == 4 else self.mode

    @property
    def paces_atrium(self) -> bool:
        """True when the mode paces the atrium (first letter A or D)."""
        return self.base_mode[0] in "AD"

    @property
    def paces_ventricle(self) -> bool:
        """True when the mode paces the ventricle (first letter V or D)."""
        return self.base_mode[0] in "VD"

    @property
    def senses_atrium(self) -> bool:
        """True when the mode senses the atrium (second letter A or D)."""
        return len(self.base_mode) == 3 and self.base_mode[1] in "AD"

    @property
    def tracking(self) -> bool:
        """True in atrial-tracking modes (VDD, DDD and their R variants)."""
        return self.base_mode in ("VDD", "DDD")

    @property
    def dual_paced(self) -> bool:
        """True when the mode paces both chambers (DOO, DDI, DDD + R)."""
        return self.base_mode in ("DOO", "DDI", "DDD")

    @property
    def atrial_only(self) -> bool:
        """True in single-chamber atrial modes, which time from atrial events (A-2)."""
        return self.base_mode in ("AOO", "AAI", "AAT")

    @property
    def lower_rate_on_atrium(self) -> bool:
        """True when the lower rate is timed A-A (atrial modes, or atrial convention with AP)."""
        if self.atrial_only:
            return True
        return self.convention is LowerRateTiming.ATRIAL and self.paces_atrium

    @property
    def max_escape_ms(self) -> int:
        """The longest escape interval the programming allows: HRI when hysteresis is on."""
        return self.hysteresis_interval_ms or self.lri_ms

    @property
    def min_pacing_interval_ms(self) -> int:
        """The shortest interval between a V event and the next V pace: URI, or MSRI if shorter."""
        if self.msri_ms is not None:
            return min(self.uri_ms, self.msri_ms)
        return self.uri_ms

    def av_delay_ms(self, vv_ms: int | None) -> int:
        """The paced AV delay for a previous V-V cycle of ``vv_ms`` (A-4; fixed if static)."""
        fixed = self.pav_ms
        lo = self.dynamic_av_min_ms
        if lo is None or vv_ms is None or vv_ms >= self.lri_ms:
            return fixed
        if vv_ms <= self.uri_ms:
            return lo
        return lo + ((fixed - lo) * (vv_ms - self.uri_ms)) // (self.lri_ms - self.uri_ms)

    def sensed_av_delay_ms(self, vv_ms: int | None) -> int:
        """The sensed AV delay for a previous V-V cycle of ``vv_ms`` (A-4)."""
        if self.dynamic_av_min_ms is None:
            return self.sav_ms
        return max(30, self.av_delay_ms(vv_ms) + self.sensed_av_offset_ms)


_DEFAULT_TOL_US: Mapping[MarkerKind, int] = MappingProxyType({})
_DEFAULT_WINDOWS: Mapping[MarkerKind, int] = MappingProxyType(
    {MarkerKind.ATR_DUR: 2000, MarkerKind.ATR_FB: 2000, MarkerKind.ATR_END: 2000,
     MarkerKind.PVARP_EXT: 500}
)


@dataclass(frozen=True, slots=True)
class MatchTolerance:
    """How far apart a device event and a predicted event may be, per marker kind.

    Parameters
    ----------
    tolerance_us:
        Default timing tolerance in microseconds: a pair within it agrees (the
        specification's +-8 ms = 8000 us).
    window_ms:
        Default search window in milliseconds: a pair further apart than the tolerance but
        within the window is still paired and reported as early/late rather than as a missing
        plus an extra event.
    tolerance_us_by_kind, window_ms_by_kind:
        Overrides per marker kind (us, ms). For a pair of two kinds the larger value of the two
        applies. By default the mode-switch markers (ATR_*) search 2000 ms and PVARP_EXT 500 ms.
    amplitude_pct:
        Pace amplitude tolerance, percent of the predicted amplitude (+-12 %).
    width_us:
        Pace width tolerance (+-0.2 ms).
    """

    tolerance_us: int = 8000
    window_ms: int = 100
    tolerance_us_by_kind: Mapping[MarkerKind, int] = field(
        default_factory=lambda: _DEFAULT_TOL_US)
    window_ms_by_kind: Mapping[MarkerKind, int] = field(default_factory=lambda: _DEFAULT_WINDOWS)
    amplitude_pct: int = 12
    width_us: int = 200

    def __post_init__(self) -> None:
        _check_tolerance_us("tolerance_us", self.tolerance_us)
        for kind, tol_us in self.tolerance_us_by_kind.items():
            _check_tolerance_us(f"tolerance_us_by_kind[{kind.value}]", tol_us)
        for kind in MarkerKind:
            win_ms = self.window_ms_by_kind.get(kind, self.window_ms)
            if win_ms < 0:
                raise ConformanceError(
                    f"for {kind.value} the search window {win_ms} ms is negative",
                    name="window_ms", value=win_ms, expected="window_ms >= 0",
                )
        if self.amplitude_pct < 0 or self.width_us < 0:
            raise ConformanceError(
                f"amplitude_pct = {self.amplitude_pct}, width_us = {self.width_us}: "
                "output tolerances must be non-negative",
                name="amplitude_pct", value=(self.amplitude_pct, self.width_us),
                expected=">= 0",
            )
        object.__setattr__(
            self, "tolerance_us_by_kind", MappingProxyType(dict(self.tolerance_us_by_kind))
        )
        object.__setattr__(
            self, "window_ms_by_kind", MappingProxyType(dict(self.window_ms_by_kind))
        )

    def tolerance_us_for(self, kind: MarkerKind) -> int:
        """Timing tolerance in microseconds for events of ``kind``."""
        return self.tolerance_us_by_kind.get(kind, self.tolerance_us)

    def window_us_for(self, kind: MarkerKind) -> int:
        """Search window in microseconds for events of ``kind`` (never below its tolerance)."""
        return max(1000 * self.window_ms_by_kind.get(kind, self.window_ms),
                   self.tolerance_us_for(kind))
