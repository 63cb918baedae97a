"""The device under test as every part of the bench sees it: one contract, whatever the kind.

The lock-step and real-time loops, the runner, the CLI and the pytest plugin use only what is
here. A kind of device (binary protocol, event level, analog through instruments, ...) is one
module under ``hil.devices`` that implements :class:`DeviceUnderTest` and is named in the
registry (``hil.devices.registry``), as pyserial's URL handlers each implement ``Serial``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import MarkerEvent, MarkerKind, Programming
from firmware_bridge.messages import Events, Interrogation, Nack, Stream, Telemetry
from firmware_bridge.wire import ResetKind
from hil.errors import ConfigError, DeviceUnavailableError, HilError, NotApplicableError

#: Every marker kind: what a device reporting full markers shows.
ALL_KINDS: frozenset[MarkerKind] = frozenset(MarkerKind)
#: What a device reporting paces only shows (an analog bench's scope, simple event firmware).
PACE_KINDS: frozenset[MarkerKind] = frozenset(k for k in MarkerKind if k.is_pace)


#: Device features a scenario may need and a device may lack (a closed set: scenario files name
#: them under ``[device] needs``, kinds of device in ``Capabilities.lacks``).
DEVICE_FEATURES: tuple[str, ...] = (
    "pmt_termination", "noise_reversion", "atr", "hysteresis", "rate_smoothing",
    "pvarp_extension", "rate_adaptation", "dynamic_av_delay", "sensed_av_offset",
)


class DeviceError(DeviceUnavailableError):
    """The device could not be reached, refused the programming, or crashed."""


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """What the device said of itself, and how the bench reached it."""

    spec: str
    url: str
    model: str
    serial: str
    firmware_version: str
    firmware_hash: str
    protocol_version: int
    max_window_samples: int
    fault: str | None = None
    kind: str = "binary"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the manifest and summary."""
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a device can do and what it shows; the bench judges and drives accordingly.

    Attributes
    ----------
    reports:
        The marker kinds the device reports. Conformance and the monitors judge only these
        (a device that reports paces only is never blamed for senses it does not show).
    programmable:
        The bench programs it over the wire (else it runs the programming it was built with,
        given by a device profile).
    refusal_probes:
        It answers invalid programmings with a NACK (A-18 scenarios).
    interrogate:
        It reports its state (A-15 scenarios).
    magnet:
        The bench can apply a magnet.
    realtime:
        It can run in wall-clock real time.
    lockstep:
        It can run in lock-step virtual time.
    """

    reports: frozenset[MarkerKind] = ALL_KINDS
    programmable: bool = True
    refusal_probes: bool = True
    interrogate: bool = True
    magnet: bool = True
    realtime: bool = True
    lockstep: bool = True
    lacks: frozenset[str] = field(default=frozenset())
    """Features of ``DEVICE_FEATURES`` the device does not have: a scenario that needs one of
    them does not apply to it."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (marker kinds by name)."""
        return {"reports": sorted(k.name for k in self.reports),
                "programmable": self.programmable, "refusal_probes": self.refusal_probes,
                "interrogate": self.interrogate, "magnet": self.magnet,
                "realtime": self.realtime, "lockstep": self.lockstep,
                "lacks": sorted(self.lacks)}


class RealtimeLink(Protocol):
    """The wall-clock streaming side of a device (``hil.session.realtime``): windows of samples
    out, the device's own time-stamped events back, its clock for the latency fit."""

    def stream(self, window: Stream) -> None:
        """Queue one window of samples (the device plays them on its own clock)."""

    def poll_events(self, timeout_s: float = 0.0) -> list[Events]:
        """The event frames that arrived, waiting up to ``timeout_s`` for the first."""

    def telemetry(self) -> Telemetry:
        """The device's clock (and battery), for clock probes."""

    def reset(self, kind: ResetKind = ResetKind.SESSION) -> None:
        """End the streaming session."""


@runtime_checkable
class DeviceUnderTest(Protocol):
    """What the loops, the runner, the CLI and the pytest plugin see of any device."""

    spec: str
    identity: DeviceIdentity
    capabilities: Capabilities

    def program(self, programming: Programming) -> Programming:
        """Send the whole programming (raises if the device refuses it); a device that is not
        programmed over the wire takes it as the programming it runs (the bench senses at its
        sensitivities and paces the heart with its outputs). Returns the programming the device
        runs, which the twin runs too: the same, or with the features the device does not
        have switched off (``NotApplicableError`` when the programming needs one of them)."""

    def program_raw(self, params: dict[str, int]) -> Nack | None:
        """Send wire values as given: None when accepted, else the device's NACK."""

    def interrogate(self) -> Interrogation:
        """The device's state, active mode and permanent programming."""

    def set_magnet(self, on: bool) -> None:
        """Apply or remove the magnet."""

    def tick(self, t0_us: int, atrial_uv: npt.NDArray[np.int16],
             ventricular_uv: npt.NDArray[np.int16], activity_milli_g: npt.NDArray[np.int16]
             ) -> tuple[list[MarkerEvent], int]:
        """One lock-step window from ``t0_us`` (the time of its first sample): the device's
        events and how many samples it consumed (fewer when it paced early: the bench rolls
        the heart back to there)."""

    def realtime_link(self) -> RealtimeLink:
        """The streaming side, for real-time runs."""

    def explain(self, err: BaseException) -> HilError:
        """Turn a link failure into the bench's error (a crash, a hang, unreachable)."""

    def console_output(self) -> str:
        """What an emulated device printed on its console (empty for others)."""

    def close(self) -> None:
        """Release the link and stop anything the bench started."""

    def __enter__(self) -> DeviceUnderTest: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


def not_capable(spec: str, what: str) -> NotApplicableError:
    """The error for asking a device for what its kind cannot do."""
    return NotApplicableError(f"device {spec!r} cannot {what}", name="device", value=spec,
                              expected=f"a device that can {what}")


def read_key_file(path: Path | str) -> bytes:
    """A device key file: 64 hex digits (docs/protocol.md section 6)."""
    p = Path(path)
    try:
        text = "".join(p.read_text().split())
        if os.stat(p).st_mode & 0o004:
            raise ConfigError(f"key file {str(p)!r} is world readable; expected mode 600",
                              name="key_file", value=str(p), expected="not world readable")
        key = bytes.fromhex(text)
    except OSError as err:
        raise ConfigError(f"cannot read key file {str(p)!r}: {err.strerror}", name="key_file",
                          value=str(p), expected="a readable key file") from err
    except ValueError as err:
        raise ConfigError(f"key file {str(p)!r} does not hold hex digits", name="key_file",
                          value=str(p), expected="64 hex digits") from err
    if len(key) != 32:
        raise ConfigError(f"key file {str(p)!r} holds {len(key)} bytes", name="key_file",
                          value=len(key), expected="32 bytes (64 hex digits)")
    return key
