"""Numeric codes of protocol v1 (``docs/protocol.md``): one enum per closed set on the wire.

These mirror ``firmware_bridge/c/fb_protocol.h`` value for value. The marker vocabulary repeats
``devicetwin.pacemaker.markers`` by *name* (the packages are independent; ``hil`` maps between them
with ``WireKind[kind.name]`` and friends).
"""

from __future__ import annotations

import enum

PROTOCOL_VERSION = 1
HEADER_LEN = 5
CRC_LEN = 4
COUNTER_LEN = 4
TAG_LEN = 16
AUTH_TRAILER_LEN = COUNTER_LEN + TAG_LEN
KEY_LEN = 32
MIN_FRAME = HEADER_LEN + CRC_LEN
MAX_FRAME = 1024
MAX_ENCODED = 1029
MAX_WINDOW_SAMPLES = 100
MAX_EVENTS = 48
EVENT_WIRE_LEN = 15
MAX_PARAMS = 44
MAX_STR = 32
MAX_ERROR_TEXT = 64
SAMPLE_PERIOD_US = 1000
FLAG_AUTH = 0x01


class MessageType(enum.IntEnum):
    """Header ``type`` byte."""

    HELLO_REQ = 0x01
    HELLO = 0x02
    PROGRAM = 0x10
    SET_STATE = 0x11
    SET_BATTERY = 0x12
    RESET = 0x13
    ACK = 0x20
    NACK = 0x21
    INTERROGATE = 0x30
    INTERROGATION = 0x31
    TICK = 0x40
    EVENTS = 0x41
    STREAM = 0x42
    TELEMETRY_REQ = 0x50
    TELEMETRY = 0x51
    ERROR = 0x60

    @property
    def requires_auth(self) -> bool:
        """True for the therapy-changing commands (PROGRAM, SET_STATE, SET_BATTERY, RESET)."""
        return self in _AUTH_TYPES


_AUTH_TYPES = frozenset(
    {MessageType.PROGRAM, MessageType.SET_STATE, MessageType.SET_BATTERY, MessageType.RESET}
)


class NackReason(enum.IntEnum):
    """NACK ``reason`` byte."""

    BAD_FRAME = 1
    UNKNOWN_MESSAGE = 2
    VERSION_MISMATCH = 3
    NOT_AUTHENTICATED = 4
    BAD_COUNTER = 5
    PARAM_OUT_OF_RANGE = 6
    PARAM_NOT_APPLICABLE = 7
    CROSS_PARAM_RULE = 8
    BUSY = 9
    UNKNOWN_PARAMETER = 10


class Rule(enum.IntEnum):
    """Cross-parameter rules of assumptions A-18 (NACK ``rule`` byte)."""

    NONE = 0
    URL_GE_LRL = 1
    MSR_GE_LRL = 2
    HYSTERESIS_LT_LRL = 3
    TARP_LE_URI = 4
    VA_ROOM_AFTER_PVAB = 5
    VRP_LT_LRI = 6
    ARP_LT_LRI = 7
    PVARP_LT_LRI = 8
    VBLANK_LT_AVD = 9


class WireChamber(enum.IntEnum):
    """Marker channel: atrium, ventricle, device-level."""

    A = 0
    V = 1
    X = 2


class WireKind(enum.IntEnum):
    """Marker kinds, named as ``devicetwin.pacemaker.markers.MarkerKind``."""

    AS = 1
    AP = 2
    AR = 3
    AT = 4
    VS = 5
    VP = 6
    VR = 7
    PVC = 8
    TN = 9
    ATR_DUR = 10
    ATR_FB = 11
    ATR_END = 12
    PVARP_EXT = 13


class WirePaceFlag(enum.IntFlag):
    """Pace flags, the same bits as ``devicetwin.pacemaker.markers.PaceFlag``."""

    NONE = 0
    TRIGGERED = 1
    SAFETY = 2
    HYSTERESIS = 4
    SMOOTHING = 8
    SENSOR = 16
    UPPER_RATE = 32
    NOISE = 64
    MAGNET = 128


class Mode(enum.IntEnum):
    """Pacing modes (parameter ``mode`` and SET_STATE temporary mode)."""

    OFF = 0
    AOO = 1
    AAI = 2
    VOO = 3
    VVI = 4
    AAT = 5
    VVT = 6
    DOO = 7
    DDI = 8
    VDD = 9
    DDD = 10
    AOOR = 11
    AAIR = 12
    VOOR = 13
    VVIR = 14
    DOOR = 15
    DDIR = 16
    VDDR = 17
    DDDR = 18
    OAO = 19
    OVO = 20
    ODO = 21
    OOO = 22


class ParamId(enum.IntEnum):
    """Parameter ids; ``param.name.lower()`` is the parameter's name in the reference model."""

    MODE = 1
    LOWER_RATE_PPM = 2
    UPPER_RATE_PPM = 3
    MAX_SENSOR_RATE_PPM = 4
    FIXED_AV_DELAY_MS = 5
    DYNAMIC_AV_DELAY = 6
    MIN_DYNAMIC_AV_DELAY_MS = 7
    SENSED_AV_OFFSET_MS = 8
    ATRIAL_AMPLITUDE_MV = 9
    VENTRICULAR_AMPLITUDE_MV = 10
    ATRIAL_PULSE_WIDTH_US = 11
    VENTRICULAR_PULSE_WIDTH_US = 12
    ATRIAL_SENSITIVITY_UV = 13
    VENTRICULAR_SENSITIVITY_UV = 14
    VRP_MS = 15
    ARP_MS = 16
    PVARP_MS = 17
    PVARP_EXTENSION_MS = 18
    HYSTERESIS_RATE_PPM = 19
    RATE_SMOOTHING_PCT = 20
    ATR_MODE = 21
    ATR_DURATION_CYCLES = 22
    ATR_FALLBACK_TIME_MIN = 23
    VENTRICULAR_BLANKING_MS = 24
    ACTIVITY_THRESHOLD = 25
    REACTION_TIME_S = 26
    RESPONSE_FACTOR = 27
    RECOVERY_TIME_MIN = 28
    LOWER_RATE_TIMING = 29
    PVAB_MS = 30
    PACE_BLANKING_MS = 31
    SAFETY_PACING = 32
    VSP_WINDOW_MS = 33
    NOISE_INTERVAL_MS = 34
    NOISE_COUNT = 35
    PMT_TERMINATION = 36
    PMT_CYCLES = 37
    PMT_VA_MAX_MS = 38
    PMT_VA_STABILITY_MS = 39
    PMT_PVARP_MS = 40
    DETECTION_DEAD_TIME_MS = 41

    @classmethod
    def by_name(cls, name: str) -> ParamId:
        """The id of a parameter given its model name, e.g. ``"lower_rate_ppm"``."""
        try:
            return cls[name.upper()]
        except KeyError:
            from firmware_bridge.errors import EncodeError

            raise EncodeError(
                f"unknown parameter name {name!r}", expected="a name of docs/protocol.md section 5"
            ) from None


class StateCommand(enum.IntEnum):
    """SET_STATE ``command``."""

    PERMANENT = 0
    TEMPORARY = 1
    PACE_NOW = 2
    MAGNET_ON = 3
    MAGNET_OFF = 4
    POWER_ON_RESET = 5


class DeviceState(enum.IntEnum):
    """INTERROGATION ``state``."""

    PERMANENT = 0
    TEMPORARY = 1
    PACE_NOW = 2
    POWER_ON_RESET = 3


class Battery(enum.IntEnum):
    """Battery state: beginning of life, elective replacement near, elective replacement time."""

    BOL = 0
    ERN = 1
    ERT = 2


class ResetKind(enum.IntEnum):
    """RESET ``kind``."""

    SESSION = 0
    REBOOT = 1


class ErrorCode(enum.IntEnum):
    """ERROR ``code`` (other values are carried as plain ints)."""

    INTERNAL = 1
    HARDFAULT = 2
    WATCHDOG = 3
    PARAMS_CORRUPT = 4
    RX_OVERFLOW = 5


class Capability(enum.IntFlag):
    """HELLO ``capabilities`` bits."""

    NONE = 0
    TICK = 0x01
    STREAM = 0x02
    TELEMETRY = 0x04
    EARLY_STOP = 0x08
    AUTH = 0x10
    RATE_ADAPTIVE = 0x20
    DUAL_CHAMBER = 0x40
