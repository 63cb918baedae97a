"""The messages of protocol v1 as frozen dataclasses, validated once in their constructors.

Each message knows its ``TYPE``; the codec (``firmware_bridge.protocol``) turns them into frames.
Samples are tuples of ints (int16 microvolts or milli-g), events carry integer microseconds.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Self, TypeVar

from firmware_bridge import framing
from firmware_bridge.errors import EncodeError
from firmware_bridge.wire import (
    MAX_ERROR_TEXT,
    MAX_EVENTS,
    MAX_PARAMS,
    MAX_STR,
    MAX_WINDOW_SAMPLES,
    SAMPLE_PERIOD_US,
    Battery,
    Capability,
    DeviceState,
    MessageType,
    Mode,
    NackReason,
    ResetKind,
    Rule,
    StateCommand,
    WireChamber,
    WireKind,
    WirePaceFlag,
)

INT16_MIN = -32768
INT16_MAX = 32767
U16_MAX = 0xFFFF
U32_MAX = 0xFFFF_FFFF
U64_MAX = 0xFFFF_FFFF_FFFF_FFFF
I32_MIN = -(2**31)
I32_MAX = 2**31 - 1


def _check_int(name: str, value: int, lo: int, hi: int) -> None:
    if not isinstance(value, int) or not lo <= value <= hi:
        raise EncodeError(f"{name} = {value!r} is not an integer in [{lo}, {hi}]",
                          expected=f"{name} in [{lo}, {hi}]")


def _check_text(name: str, value: str, max_len: int) -> None:
    if len(value) > max_len or any(not 0x20 <= ord(c) <= 0x7E for c in value):
        raise EncodeError(f"{name} = {value!r} is not printable ASCII of at most {max_len} chars",
                          expected=f"printable ASCII, <= {max_len} characters")


_E = TypeVar("_E", bound=enum.Enum)


def _enum(name: str, cls: type[_E], value: object) -> _E:
    try:
        return cls(value)
    except ValueError:
        raise EncodeError(f"{name} = {value!r} is not a {cls.__name__}",
                          expected=f"one of {[m.name for m in cls]}") from None


def _params(name: str, pairs: Iterable[tuple[int, int]], min_count: int
            ) -> tuple[tuple[int, int], ...]:
    out = tuple((int(pid), int(value)) for pid, value in pairs)
    if not min_count <= len(out) <= MAX_PARAMS:
        raise EncodeError(f"{name} has {len(out)} parameters",
                          expected=f"{min_count}..{MAX_PARAMS} parameters")
    seen: set[int] = set()
    for pid, value in out:
        _check_int(f"{name} parameter id", pid, 1, MAX_PARAMS)
        _check_int(f"{name} parameter {pid} value", value, I32_MIN, I32_MAX)
        if pid in seen:
            raise EncodeError(f"{name} repeats parameter id {pid}", expected="distinct ids")
        seen.add(pid)
    return out


@dataclass(frozen=True, slots=True)
class HelloRequest:
    """Ask the device who it is (answered by Hello, whatever the protocol version)."""

    TYPE: ClassVar[MessageType] = MessageType.HELLO_REQ


@dataclass(frozen=True, slots=True)
class Hello:
    """Device identity, capabilities and the last accepted authentication counter."""

    TYPE: ClassVar[MessageType] = MessageType.HELLO
    protocol_version: int
    capabilities: Capability
    max_window_samples: int
    sample_rate_hz: int
    auth_counter: int
    firmware_hash: bytes
    model: str
    serial: str
    firmware_version: str

    def __post_init__(self) -> None:
        _check_int("protocol_version", self.protocol_version, 0, 255)
        _check_int("capabilities", int(self.capabilities), 0, U32_MAX)
        _check_int("max_window_samples", self.max_window_samples, 0, MAX_WINDOW_SAMPLES)
        _check_int("sample_rate_hz", self.sample_rate_hz, 0, U16_MAX)
        _check_int("auth_counter", self.auth_counter, 0, U32_MAX)
        if len(self.firmware_hash) != 32:
            raise EncodeError(f"firmware_hash has {len(self.firmware_hash)} bytes",
                              expected="32 bytes")
        _check_text("model", self.model, MAX_STR)
        _check_text("serial", self.serial, MAX_STR)
        _check_text("firmware_version", self.firmware_version, MAX_STR)
        object.__setattr__(self, "capabilities", Capability(int(self.capabilities)))


@dataclass(frozen=True, slots=True)
class Program:
    """Program parameters: ``(parameter id, value in wire units)`` pairs, 1..44 of them."""

    TYPE: ClassVar[MessageType] = MessageType.PROGRAM
    params: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _params("PROGRAM", self.params, 1))

    @classmethod
    def from_names(cls, values: dict[str, int]) -> Program:
        """Build from model names, e.g. ``{"mode": Mode.DDD, "lower_rate_ppm": 60}``."""
        from firmware_bridge.wire import ParamId

        return cls(tuple((int(ParamId.by_name(k)), int(v)) for k, v in values.items()))


@dataclass(frozen=True, slots=True)
class SetState:
    """Change the device state; ``mode`` only for ``StateCommand.TEMPORARY``."""

    TYPE: ClassVar[MessageType] = MessageType.SET_STATE
    command: StateCommand
    mode: Mode = Mode.OFF

    def __post_init__(self) -> None:
        command = _enum("command", StateCommand, self.command)
        mode = _enum("mode", Mode, self.mode)
        if command is not StateCommand.TEMPORARY and mode is not Mode.OFF:
            raise EncodeError(f"SET_STATE {command.name} with mode {mode.name}",
                              expected="mode OFF unless the command is TEMPORARY")
        object.__setattr__(self, "command", command)
        object.__setattr__(self, "mode", mode)


@dataclass(frozen=True, slots=True)
class SetBattery:
    """Force the battery state (testing)."""

    TYPE: ClassVar[MessageType] = MessageType.SET_BATTERY
    state: Battery

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", _enum("state", Battery, self.state))


@dataclass(frozen=True, slots=True)
class Reset:
    """Reset the session (time to zero) or reboot the device."""

    TYPE: ClassVar[MessageType] = MessageType.RESET
    kind: ResetKind = ResetKind.SESSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _enum("kind", ResetKind, self.kind))


@dataclass(frozen=True, slots=True)
class Ack:
    """The request of type ``acked_type`` (and the header's seq) was accepted."""

    TYPE: ClassVar[MessageType] = MessageType.ACK
    acked_type: int

    def __post_init__(self) -> None:
        _check_int("acked_type", self.acked_type, 0, 255)


@dataclass(frozen=True, slots=True)
class Nack:
    """The request was refused, with a reason, the parameter concerned and the A-18 rule."""

    TYPE: ClassVar[MessageType] = MessageType.NACK
    acked_type: int
    reason: NackReason
    param_id: int = 0
    rule: Rule = Rule.NONE

    def __post_init__(self) -> None:
        _check_int("acked_type", self.acked_type, 0, 255)
        _check_int("param_id", self.param_id, 0, MAX_PARAMS)
        object.__setattr__(self, "reason", _enum("reason", NackReason, self.reason))
        object.__setattr__(self, "rule", _enum("rule", Rule, self.rule))


@dataclass(frozen=True, slots=True)
class Interrogate:
    """Ask for the current programming and state."""

    TYPE: ClassVar[MessageType] = MessageType.INTERROGATE


@dataclass(frozen=True, slots=True)
class Interrogation:
    """The device's permanent programming, state, active mode and session time."""

    TYPE: ClassVar[MessageType] = MessageType.INTERROGATION
    state: DeviceState
    magnet: bool
    active_mode: Mode
    battery: Battery
    time_us: int
    params: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", _enum("state", DeviceState, self.state))
        object.__setattr__(self, "magnet", bool(self.magnet))
        object.__setattr__(self, "active_mode", _enum("active_mode", Mode, self.active_mode))
        object.__setattr__(self, "battery", _enum("battery", Battery, self.battery))
        _check_int("time_us", self.time_us, 0, U64_MAX)
        object.__setattr__(self, "params", _params("INTERROGATION", self.params, 0))

    def as_dict(self) -> dict[int, int]:
        """Parameters by id."""
        return dict(self.params)


def _samples(name: str, values: Sequence[int]) -> tuple[int, ...]:
    try:
        return framing.samples_check(values.tolist() if hasattr(values, "tolist") else values)
    except (ValueError, TypeError, OverflowError) as exc:
        raise EncodeError(f"{name}: {exc}",
                          expected=f"integers in [{INT16_MIN}, {INT16_MAX}]") from None


@dataclass(frozen=True, slots=True)
class Tick:
    """A lock-step window: sample k of each channel is at ``t0_us + 1000 * k``.

    Parameters
    ----------
    t0_us:
        Time of the first sample, microseconds since session start.
    atrial_uv, ventricular_uv:
        Electrogram samples, int16 microvolts, 1..100 of them, all channels the same length.
    activity_mg:
        Activity (accelerometer) samples, int16 milli-g.
    early_stop:
        The device may stop right after the sample at which it paced.
    """

    TYPE: ClassVar[MessageType] = MessageType.TICK
    t0_us: int
    atrial_uv: tuple[int, ...]
    ventricular_uv: tuple[int, ...]
    activity_mg: tuple[int, ...]
    early_stop: bool = True

    def __post_init__(self) -> None:
        _check_int("t0_us", self.t0_us, 0, U64_MAX)
        a = _samples("atrial_uv", self.atrial_uv)
        v = _samples("ventricular_uv", self.ventricular_uv)
        x = _samples("activity_mg", self.activity_mg)
        n = len(a)
        if not 1 <= n <= MAX_WINDOW_SAMPLES or len(v) != n or len(x) != n:
            raise EncodeError(
                f"window of {len(a)}/{len(v)}/{len(x)} samples (atrial/ventricular/activity)",
                expected=f"equal lengths of 1..{MAX_WINDOW_SAMPLES}")
        object.__setattr__(self, "atrial_uv", a)
        object.__setattr__(self, "ventricular_uv", v)
        object.__setattr__(self, "activity_mg", x)
        object.__setattr__(self, "early_stop", bool(self.early_stop))

    @classmethod
    def _trusted(cls, t0_us: int, atrial_uv: tuple[int, ...], ventricular_uv: tuple[int, ...],
                 activity_mg: tuple[int, ...], early_stop: bool) -> Self:
        """Build without validation: for the decoder, whose output is already checked."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "t0_us", t0_us)
        object.__setattr__(obj, "atrial_uv", atrial_uv)
        object.__setattr__(obj, "ventricular_uv", ventricular_uv)
        object.__setattr__(obj, "activity_mg", activity_mg)
        object.__setattr__(obj, "early_stop", early_stop)
        return obj

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return len(self.atrial_uv)

    @property
    def end_us(self) -> int:
        """Time just after the window: ``t0_us + 1000 * n_samples``."""
        return self.t0_us + SAMPLE_PERIOD_US * len(self.atrial_uv)


@dataclass(frozen=True, slots=True)
class Stream(Tick):
    """A real-time window (same layout as Tick; not answered, events come unsolicited)."""

    TYPE: ClassVar[MessageType] = MessageType.STREAM


@dataclass(frozen=True, slots=True)
class Event:
    """One marker on the wire; ``amplitude_mv``/``width_us`` are 0 for non-pace markers."""

    t_us: int
    chamber: WireChamber
    kind: WireKind
    flags: WirePaceFlag = WirePaceFlag.NONE
    amplitude_mv: int = 0
    width_us: int = 0

    def __post_init__(self) -> None:
        _check_int("t_us", self.t_us, 0, U64_MAX)
        object.__setattr__(self, "chamber", _enum("chamber", WireChamber, self.chamber))
        object.__setattr__(self, "kind", _enum("kind", WireKind, self.kind))
        _check_int("flags", int(self.flags), 0, 255)
        object.__setattr__(self, "flags", WirePaceFlag(int(self.flags)))
        _check_int("amplitude_mv", self.amplitude_mv, 0, U16_MAX)
        _check_int("width_us", self.width_us, 0, U16_MAX)


@dataclass(frozen=True, slots=True)
class Events:
    """The device's markers for a TICK window (or streamed), in time order."""

    TYPE: ClassVar[MessageType] = MessageType.EVENTS
    t0_us: int
    consumed: int
    events: tuple[Event, ...] = ()
    stopped_at_pace: bool = False
    streamed: bool = False

    def __post_init__(self) -> None:
        _check_int("t0_us", self.t0_us, 0, U64_MAX)
        _check_int("consumed", self.consumed, 0, MAX_WINDOW_SAMPLES)
        events = tuple(self.events)
        if len(events) > MAX_EVENTS:
            raise EncodeError(f"{len(events)} events in one frame",
                              expected=f"at most {MAX_EVENTS}")
        if any(b.t_us < a.t_us for a, b in itertools.pairwise(events)):
            raise EncodeError(f"events out of time order: {[e.t_us for e in events]}",
                              expected="non-decreasing t_us")
        object.__setattr__(self, "events", events)
        object.__setattr__(self, "stopped_at_pace", bool(self.stopped_at_pace))
        object.__setattr__(self, "streamed", bool(self.streamed))


@dataclass(frozen=True, slots=True)
class TelemetryRequest:
    """Ask for telemetry."""

    TYPE: ClassVar[MessageType] = MessageType.TELEMETRY_REQ


TELEMETRY_COUNTERS = ("ap_count", "as_count", "ar_count", "vp_count", "vs_count", "vr_count",
                      "pvc_count", "frames_ok", "frames_bad", "nacks_sent", "auth_failures")


@dataclass(frozen=True, slots=True)
class Telemetry:
    """Battery, lead impedances and counters."""

    TYPE: ClassVar[MessageType] = MessageType.TELEMETRY
    time_us: int
    battery_mv: int
    battery_state: Battery
    atrial_impedance_ohm: int
    ventricular_impedance_ohm: int
    ap_count: int = 0
    as_count: int = 0
    ar_count: int = 0
    vp_count: int = 0
    vs_count: int = 0
    vr_count: int = 0
    pvc_count: int = 0
    frames_ok: int = 0
    frames_bad: int = 0
    nacks_sent: int = 0
    auth_failures: int = 0

    def __post_init__(self) -> None:
        _check_int("time_us", self.time_us, 0, U64_MAX)
        _check_int("battery_mv", self.battery_mv, 0, U16_MAX)
        battery = _enum("battery_state", Battery, self.battery_state)
        object.__setattr__(self, "battery_state", battery)
        _check_int("atrial_impedance_ohm", self.atrial_impedance_ohm, 0, U16_MAX)
        _check_int("ventricular_impedance_ohm", self.ventricular_impedance_ohm, 0, U16_MAX)
        for name in TELEMETRY_COUNTERS:
            _check_int(name, getattr(self, name), 0, U32_MAX)


@dataclass(frozen=True, slots=True)
class DeviceError:
    """An unsolicited error report from the device (ERROR frame)."""

    TYPE: ClassVar[MessageType] = MessageType.ERROR
    code: int
    detail: int = 0
    text: str = field(default="")

    def __post_init__(self) -> None:
        _check_int("code", self.code, 0, 255)
        _check_int("detail", self.detail, 0, U32_MAX)
        _check_text("text", self.text, MAX_ERROR_TEXT)


Message = (HelloRequest | Hello | Program | SetState | SetBattery | Reset | Ack | Nack
           | Interrogate | Interrogation | Tick | Stream | Events | TelemetryRequest | Telemetry
           | DeviceError)
"""Any protocol v1 message."""

MESSAGE_CLASSES: dict[MessageType, type] = {
    cls.TYPE: cls
    for cls in (HelloRequest, Hello, Program, SetState, SetBattery, Reset, Ack, Nack, Interrogate,
                Interrogation, Tick, Stream, Events, TelemetryRequest, Telemetry, DeviceError)
}
