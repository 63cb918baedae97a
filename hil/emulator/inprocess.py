"""The in-process emulated device: the reference firmware's C code linked into the bench's process.

The host target runs the firmware as a process behind a pseudo-terminal, one TICK round trip per
window of at most 100 samples; that round trip, not the firmware, bounds a lock-step loop. Here
the same sources (``fw_device.c``, ``fw_pacing.c``, ... with ``hal/inprocess``) are compiled into
``hil.emulator._inprocess``:

- control requests (HELLO, PROGRAM, SET_STATE, INTERROGATE, TELEMETRY, RESET) still travel as
  protocol frames, through the bench's own :class:`~firmware_bridge.DeviceClient` over an
  in-memory :class:`InProcessLink`, so programming is checked by the firmware's own code and a
  refusal comes back as its NACK;
- lock-step windows skip the wire: :meth:`InProcessDevice.tick` runs any number of samples
  through the firmware's sample function exactly as its TICK handler does (early stop at a pace,
  a stop when its event buffer is nearly full), without the GIL.

Usage::

    with InProcessDevice() as dev:
        dev.program(Programming.nominal(Mode.DDD))
        markers, consumed = dev.tick(0, atrial_uv, ventricular_uv, activity_milli_g)

The device kind is ``inprocess`` (``open_device``); it runs lock-step only. The clean firmware is
linked when the project is built; a seeded fault (``fault=``, ``--fault``) runs its own copy of
the extension, built on first use (:mod:`hil.emulator.variants`). The process-wide UART buffer
of the in-process HAL serves every instance of one variant: use each device from one thread at
a time.
"""

from __future__ import annotations

import time
from types import ModuleType, TracebackType

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, PaceFlag
from firmware_bridge import DeviceClient
from firmware_bridge.auth import DEV_KEY
from firmware_bridge.errors import BridgeError
from firmware_bridge.links import Link
from firmware_bridge.messages import Hello
from firmware_bridge.wire import WireChamber, WireKind
from hil.devices.binary import (
    ProtocolControl,
    hello_keeping_boot_reports,
    identity_from_hello,
)
from hil.devices.contract import (
    Capabilities,
    DeviceError,
    RealtimeLink,
    not_capable,
)
from hil.devices.registry import DeviceOptions
from hil.emulator import _inprocess
from hil.emulator.faults import fault_names
from hil.emulator.variants import firmware_module
from hil.errors import ConfigError, HilError

#: The device spec and link URL of the in-process device.
SPEC = "inprocess"
URL = "inprocess://"

#: The most markers one ``tick`` call returns (the firmware's EVENTS capacity); a window stops
#: early, with fewer samples consumed, as soon as it holds more than ``FULL_EVENTS``.
MAX_EVENTS_PER_TICK = int(_inprocess.MAX_EVENTS)
FULL_EVENTS = int(_inprocess.MAX_EVENTS) - int(_inprocess.EVENT_HEADROOM)

_CHAMBERS = {int(c): Chamber[c.name] for c in WireChamber}
_KINDS = {int(k): MarkerKind[k.name] for k in WireKind}
_FLAGS = [PaceFlag(i) for i in range(256)]

#: A raw event of the firmware: (t_us, chamber code, kind code, flags, amplitude_mv, width_us).
RawEvent = tuple[int, int, int, int, int, int]


def marker_from_raw(event: RawEvent) -> MarkerEvent:
    """A firmware event in the wire's codes as a marker (amplitude and width for paces only)."""
    t_us, chamber, kind_code, flags, amplitude_mv, width_us = event
    kind = _KINDS[kind_code]
    if kind.is_pace:
        return MarkerEvent(t_us, _CHAMBERS[chamber], kind, amplitude_mv, width_us, _FLAGS[flags])
    return MarkerEvent(t_us, _CHAMBERS[chamber], kind)


class InProcessLink(Link):
    """A byte link to a :class:`~hil.emulator._inprocess.FirmwareCore`: a write runs the
    firmware on the bytes at once; a read returns what it answered (``b""`` when nothing)."""

    def __init__(self, core: _inprocess.FirmwareCore, timeout_s: float = 1.0,
                 firmware: ModuleType = _inprocess) -> None:
        self.core = core
        self._firmware = firmware  # the extension ``core`` comes from (its UART buffer)
        self._pending = bytearray()
        super().__init__(URL, timeout_s)  # opens the link

    def _open(self) -> None:
        self._pending.clear()

    def _close(self) -> None:
        self._pending.clear()

    def _write(self, data: bytes) -> None:
        self.core.rx(bytes(data))
        self._pending += self._firmware.take_output()

    def _read(self, timeout_s: float, max_bytes: int) -> bytes:
        if not self._pending:
            # Nothing more will come: the firmware answers within the write. Wait the timeout
            # out only as a device that stays silent would (the client's clock decides).
            time.sleep(min(timeout_s, 0.001))
            return b""
        out = bytes(self._pending[:max_bytes])
        del self._pending[:max_bytes]
        return out


class InProcessDevice(ProtocolControl):
    """The reference firmware as an in-process device (:class:`~hil.devices.DeviceUnderTest`).

    Parameters
    ----------
    corrupt_store:
        Damage the emulated parameter store before boot: the firmware reports it (kept in
        ``boot_reports``) and runs its power-on-reset settings (A-15).
    timeout_s:
        How long the client waits for an answer to a control request (the firmware answers
        within the request; a timeout means it did not answer at all).
    fault:
        A seeded fault (:func:`hil.emulator.faults.fault_names`): run that variant of the
        firmware instead of the clean one.
    """

    capabilities = Capabilities(realtime=False)

    def __init__(self, *, corrupt_store: bool = False, timeout_s: float = 1.0,
                 fault: str | None = None) -> None:
        self.spec = SPEC
        self.fault = fault
        self.firmware = firmware_module(fault)
        self.core = self.firmware.FirmwareCore(corrupt_store)
        self.link = InProcessLink(self.core, timeout_s, self.firmware)
        self.client = DeviceClient(self.link, key=DEV_KEY, timeout_s=timeout_s, retries=0,
                                   auto_reconnect=False)
        #: ERROR frames the firmware sent at boot, as "code: text".
        self.boot_reports: list[str] = []
        self.hello = self._hello()
        self.identity = identity_from_hello(self.hello, spec=SPEC, url=URL, kind=SPEC,
                                            fault=fault)

    def _hello(self) -> Hello:
        try:
            return hello_keeping_boot_reports(self.client, self.boot_reports)
        except BridgeError as err:
            raise self.explain(err) from err

    @property
    def time_us(self) -> int:
        """The device's lock-step time: the time of the next sample it expects (us)."""
        return int(self.core.time_us)

    # -- control (protocol frames through the firmware's own handlers)
    # -- lock-step samples (no wire)
    def tick_raw(self, t0_us: int, atrial_uv: npt.NDArray[np.int16],
                 ventricular_uv: npt.NDArray[np.int16],
                 activity_milli_g: npt.NDArray[np.int16], early_stop: bool = True
                 ) -> tuple[list[RawEvent], int]:
        """:meth:`tick` with the firmware's events as raw tuples (for loops that count)."""
        status, consumed, events = self.core.tick(
            t0_us, _samples(atrial_uv, "atrial_uv"), _samples(ventricular_uv, "ventricular_uv"),
            _samples(activity_milli_g, "activity_milli_g"), early_stop)
        if status == _inprocess.TICK_WRONG_TIME:
            raise DeviceError(
                f"window at t0_us={t0_us}: the device's time is {self.time_us} us (lock-step "
                "windows continue exactly where the last one stopped)", name="t0_us",
                value=t0_us, expected=f"{self.time_us}")
        if status == _inprocess.TICK_STREAMING:
            raise DeviceError("the in-process device was put in real-time streaming",
                              name="device", value=SPEC, expected="lock-step windows only")
        return events, int(consumed)

    def tick(self, t0_us: int, atrial_uv: npt.NDArray[np.int16],
             ventricular_uv: npt.NDArray[np.int16], activity_milli_g: npt.NDArray[np.int16]
             ) -> tuple[list[MarkerEvent], int]:
        """One lock-step window of any length from ``t0_us`` with early stop: the firmware's
        markers and how many samples it consumed (up to and including a pace's sample, or fewer
        when its event buffer filled)."""
        events, consumed = self.tick_raw(t0_us, atrial_uv, ventricular_uv, activity_milli_g)
        return [marker_from_raw(e) for e in events], consumed

    def realtime_link(self) -> RealtimeLink:
        """The in-process device has no clock of its own: lock-step only."""
        raise not_capable(SPEC, "run in wall-clock real time")

    def explain(self, err: BaseException) -> HilError:
        """A control request that failed, as the bench's error (with the firmware's console)."""
        if isinstance(err, HilError):
            return err
        console = self.firmware.console_output().strip()
        tail = f"; console: {console[-300:]}" if console else ""
        return DeviceError(f"in-process device: {err}{tail}", name="device", value=SPEC,
                           expected="a responsive device")

    def console_output(self) -> str:
        """What the firmware printed (shared by every in-process device of this process)."""
        return str(self.firmware.console_output())

    def close(self) -> None:
        """Nothing to stop: the firmware's state goes with this object."""
        self.link.close()

    def __enter__(self) -> InProcessDevice:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _samples(x: npt.NDArray[np.int16], name: str) -> npt.NDArray[np.int16]:
    arr = np.asarray(x)
    if arr.dtype != np.int16 or arr.ndim != 1:
        raise ConfigError(f"{name}: an array of dtype {arr.dtype} and shape {arr.shape}",
                          name=name, value=str(arr.dtype), expected="a 1-D int16 array")
    return np.ascontiguousarray(arr)


def open_device(target: str, options: DeviceOptions) -> InProcessDevice:
    """The device registry's entry for ``inprocess+emulated`` (target ``emulated`` or empty)."""
    if target not in ("", "emulated", SPEC):
        raise ConfigError(f"in-process device target {target!r}", name="device", value=target,
                          expected="inprocess+emulated", source="--device")
    return InProcessDevice(corrupt_store=options.corrupt_store,
                           timeout_s=min(options.timeout_s, 1.0), fault=options.fault)


def seeded_faults() -> list[str]:
    """The seeded-fault variants the in-process device can run (``--fault``)."""
    return list(fault_names())
