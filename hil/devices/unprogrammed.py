"""What the kinds of device the bench cannot program share: a link, perhaps a program the bench
started (the emulated firmware or an ``exec:`` target), no programming channel, state report or
magnet, and a bench that senses for them and paces with their outputs (:func:`bench_front_end`,
:func:`pace_output`). ``EventDevice`` and ``ByteDevice`` build on it."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from types import TracebackType
from typing import Self

from devicetwin.pacemaker import Chamber, Programming
from devicetwin.pacemaker.sensing import DEFAULT_DEAD_TIME_MS, SensingFrontEnd
from firmware_bridge.links import Link
from firmware_bridge.messages import Interrogation, Nack
from hil.devices.contract import DeviceError, DeviceIdentity, not_capable
from hil.emulator.device import EmulatedDevice
from hil.errors import HilError


def bench_front_end(programming: Programming) -> SensingFrontEnd:
    """The device's sense amplifier, played by the bench: the reference front end (A-16) at the
    programmed sensitivities."""
    return SensingFrontEnd(round(programming.atrial_sensitivity_mv * 1000),
                           round(programming.ventricular_sensitivity_mv * 1000),
                           DEFAULT_DEAD_TIME_MS)


def pace_output(programming: Programming, chamber: Chamber) -> tuple[int, int]:
    """A chamber's programmed pulse: (amplitude in mV, width in us); Off is 0 mV."""
    p = programming
    if chamber is Chamber.A:
        amp_v, width_ms = p.atrial_amplitude_v, p.atrial_pulse_width_ms
    else:
        amp_v, width_ms = p.ventricular_amplitude_v, p.ventricular_pulse_width_ms
    return round((amp_v or 0.0) * 1000), round(width_ms * 1000)


class UnprogrammedDevice:
    """The shared half of a device driven over a link it cannot be programmed through."""

    spec: str
    identity: DeviceIdentity
    what: str = "device"  # how messages name it: "event-level device", ...

    def __init__(self) -> None:
        self._process: EmulatedDevice | None = None
        self._link: Link | None = None

    def program_raw(self, params: Mapping[str, int]) -> Nack | None:
        """Not possible: the device has no programming channel."""
        raise not_capable(self.identity.spec, "be programmed over the wire")

    def interrogate(self) -> Interrogation:
        """Not possible: the device reports no state."""
        raise not_capable(self.identity.spec, "be interrogated")

    def set_magnet(self, on: bool) -> None:
        """Not possible over its protocol."""
        raise not_capable(self.identity.spec, "take a magnet")

    def explain(self, err: BaseException) -> HilError:
        """A link failure: a crash or hang of a program the bench started, else unreachable."""
        if isinstance(err, HilError):
            return err
        if self._process is not None:
            diagnosed: HilError = self._process.diagnose(err)
            return diagnosed
        return DeviceError(f"{self.what} {self.spec!r}: {err}", name="device", value=self.spec,
                           expected=f"a responsive {self.what}")

    def console_output(self) -> str:
        """The emulated or exec'd program's console (stderr); empty for others."""
        return "" if self._process is None else str(self._process.console_output())

    def close(self) -> None:
        """Close the link and stop the program the bench started."""
        if self._link is not None:
            with contextlib.suppress(Exception):
                self._link.close()
            self._link = None
        if self._process is not None:
            self._process.stop()
            self._process = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
