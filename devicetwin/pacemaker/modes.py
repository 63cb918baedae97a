"""Pacing modes, device states and battery states (PACEMAKER spec; ``docs/assumptions.md`` A-15).

A mode is its NBG code: I chamber paced, II chamber sensed, III response (O none, I inhibited,
T triggered, D tracked and inhibited), IV ``R`` for rate modulation. The properties below are
what the timing engine asks of a mode; they are derived from the code letters, once.
"""

from __future__ import annotations

import enum


class Mode(enum.Enum):
    """Every mode of the specification. The declaration order is the wire code (``wire_code``)."""

    OFF = "OFF"
    AOO = "AOO"
    AAI = "AAI"
    VOO = "VOO"
    VVI = "VVI"
    AAT = "AAT"
    VVT = "VVT"
    DOO = "DOO"
    DDI = "DDI"
    VDD = "VDD"
    DDD = "DDD"
    AOOR = "AOOR"
    AAIR = "AAIR"
    VOOR = "VOOR"
    VVIR = "VVIR"
    DOOR = "DOOR"
    DDIR = "DDIR"
    VDDR = "VDDR"
    DDDR = "DDDR"
    OAO = "OAO"
    OVO = "OVO"
    ODO = "ODO"
    OOO = "OOO"

    @property
    def _code(self) -> str:
        return "OOO" if self is Mode.OFF else self.value

    @property
    def paces_atrium(self) -> bool:
        """True when the mode can deliver atrial paces."""
        return self._code[0] in "AD"

    @property
    def paces_ventricle(self) -> bool:
        """True when the mode can deliver ventricular paces."""
        return self._code[0] in "VD"

    @property
    def senses_atrium(self) -> bool:
        """True when atrial detections are classified (and reported as markers)."""
        return self._code[1] in "AD"

    @property
    def senses_ventricle(self) -> bool:
        """True when ventricular detections are classified (and reported as markers)."""
        return self._code[1] in "VD"

    @property
    def response(self) -> str:
        """The third letter: ``"O"``, ``"I"``, ``"T"`` or ``"D"``."""
        return self._code[2]

    @property
    def triggered(self) -> bool:
        """True for AAT and VVT (A-8)."""
        return self.response == "T"

    @property
    def inhibited(self) -> bool:
        """True when a non-refractory sense inhibits a pace (I and D responses)."""
        return self.response in "ID"

    @property
    def tracking(self) -> bool:
        """True for VDD and DDD (+R): an atrial sense starts a sensed AV delay (A-3)."""
        return self.response == "D" and self.paces_ventricle and self.senses_atrium

    @property
    def dual_chamber(self) -> bool:
        """True for modes that pace both chambers (DOO, DDI, DDD and their R variants)."""
        return self.paces_atrium and self.paces_ventricle

    @property
    def rate_adaptive(self) -> bool:
        """True for the R modes (A-12)."""
        return len(self.value) == 4 and self.value.endswith("R")

    @property
    def temporary_only(self) -> bool:
        """True for OAO, OVO, ODO and OOO: allowed only in the Temporary state (A-15)."""
        return self in _TEMPORARY_ONLY

    @property
    def base(self) -> Mode:
        """The mode without rate modulation (DDDR -> DDD; others unchanged)."""
        return Mode(self.value[:3]) if self.rate_adaptive else self

    @property
    def asynchronous(self) -> Mode:
        """The asynchronous mode pacing the same chambers, used by the Magnet state (A-15).

        Modes that pace nothing (Off and the O modes) map to ``OFF``.
        """
        if self.dual_chamber:
            return Mode.DOO
        if self.paces_ventricle:
            return Mode.VOO
        if self.paces_atrium:
            return Mode.AOO
        return Mode.OFF

    @property
    def wire_code(self) -> int:
        """The integer sent on the wire for this mode (declaration order, OFF = 0)."""
        return _WIRE_CODES[self]

    @classmethod
    def from_wire_code(cls, code: int) -> Mode:
        """The mode whose ``wire_code`` is ``code``."""
        return _MODES_BY_CODE[code]


_TEMPORARY_ONLY = frozenset({Mode.OAO, Mode.OVO, Mode.ODO, Mode.OOO})
_WIRE_CODES = {mode: i for i, mode in enumerate(Mode)}
_MODES_BY_CODE = dict(enumerate(Mode))

PERMANENT_MODES: tuple[Mode, ...] = tuple(m for m in Mode if not m.temporary_only)
"""Modes that may be programmed permanently (Off included)."""

RATE_ADAPTIVE_MODES: frozenset[Mode] = frozenset(m for m in Mode if m.rate_adaptive)


class DeviceState(enum.Enum):
    """The mutually exclusive device states of A-15."""

    PERMANENT = "permanent"
    TEMPORARY = "temporary"
    PACE_NOW = "pace_now"
    MAGNET = "magnet"
    POWER_ON_RESET = "power_on_reset"


class BatteryState(enum.Enum):
    """Battery state; it sets the magnet rate (A-15)."""

    BOL = "BOL"
    ERN = "ERN"
    ERT = "ERT"

    @property
    def magnet_rate_ppm(self) -> int:
        """Asynchronous rate in the Magnet state: 100, 90 or 85 ppm."""
        return {"BOL": 100, "ERN": 90, "ERT": 85}[self.value]


class LowerRateTiming(enum.Enum):
    """Lower-rate timing convention of dual-chamber modes (A-2)."""

    VENTRICULAR = "ventricular"
    ATRIAL = "atrial"


class ActivityThreshold(enum.Enum):
    """Accelerometer activity threshold (A-12); ``milli_g`` is the mean |a| it stands for."""

    V_LOW = "V-Low"
    LOW = "Low"
    MED_LOW = "Med-Low"
    MED = "Med"
    MED_HIGH = "Med-High"
    HIGH = "High"
    V_HIGH = "V-High"

    @property
    def milli_g(self) -> int:
        """Threshold in milli-g: V-Low 20, Low 40, ... V-High 140 (A-12)."""
        return 20 * (list(ActivityThreshold).index(self) + 1)
