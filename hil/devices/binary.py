"""The binary-protocol kind of device: the reference firmware (host process or QEMU) or anything
that speaks ``docs/protocol.md`` over a firmware_bridge URL (serial port, pty, socket, rfc2217,
VISA resource)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import MarkerEvent, Programming
from firmware_bridge import DeviceClient
from firmware_bridge.auth import DEV_KEY
from firmware_bridge.errors import BridgeError, DeviceFaultError
from firmware_bridge.messages import Hello, Interrogation, Nack, Tick
from firmware_bridge.wire import StateCommand
from hil.devices.contract import (
    Capabilities,
    DeviceError,
    DeviceIdentity,
    RealtimeLink,
    read_key_file,
)
from hil.devices.registry import DeviceOptions, exec_argv
from hil.devices.sniff import shown, what_it_speaks
from hil.emulator import fault_names, start_device
from hil.emulator.device import start_program
from hil.errors import ConfigError, HilError
from hil.session.mapping import marker_from_wire, wire_parameters

HELLO_TRY_S = 1.2
"""Per-try wait for HELLO (s): with the client's two retries a wrong device is named in about
3.6 s, under 5 s."""

#: Device specs that start the reference firmware instead of opening a URL.
EMULATED_TARGETS = {"emulated": "host", "host": "host", "qemu": "qemu"}



def hello_keeping_boot_reports(client: DeviceClient, reports: list[str]) -> Hello:
    """HELLO over ``client``; ERROR frames a device sends on its own at boot (a corrupt
    parameter store, say) are appended to ``reports`` as "code: text" instead of failing it.
    A device still reporting after four of them fails HELLO with the last."""
    for _ in range(4):
        try:
            return client.connect()
        except DeviceFaultError as err:
            report = err.received
            reports.append(f"{getattr(report, 'code', '?')}: {getattr(report, 'text', report)}")
    return client.connect()


def identity_from_hello(hello: Hello, *, spec: str, url: str, kind: str = "binary",
                        fault: str | None = None) -> DeviceIdentity:
    """Who a binary-protocol device says it is (its HELLO), and how the bench reached it."""
    return DeviceIdentity(
        spec=spec, url=url, model=hello.model, serial=hello.serial,
        firmware_version=hello.firmware_version, firmware_hash=bytes(hello.firmware_hash).hex(),
        protocol_version=hello.protocol_version, max_window_samples=hello.max_window_samples,
        fault=fault, kind=kind)


class ProtocolControl:
    """The binary protocol's control requests over ``self.client`` (PROGRAM, INTERROGATE,
    magnet), each failure explained by the device kind's own :meth:`explain`: what the
    binary kind and the in-process kind share."""

    client: DeviceClient

    def explain(self, err: BaseException) -> HilError:
        raise NotImplementedError

    def program(self, programming: Programming) -> Programming:
        """Send the whole programming (authenticated); raises if the device refuses it."""
        try:
            self.client.program(dict(wire_parameters(programming)))
        except BridgeError as err:
            raise self.explain(err) from err
        return programming

    def program_raw(self, params: Mapping[str, int]) -> Nack | None:
        """Send a PROGRAM of wire values as given (no validation here): None when the device
        accepted it, else its NACK. For checking that a device refuses invalid programmings."""
        try:
            return self.client.try_program(params)
        except BridgeError as err:
            raise self.explain(err) from err

    def interrogate(self) -> Interrogation:
        """The device's state, active mode and permanent programming."""
        try:
            return self.client.interrogate()
        except BridgeError as err:
            raise self.explain(err) from err

    def set_magnet(self, on: bool) -> None:
        """MAGNET_ON / MAGNET_OFF."""
        try:
            self.client.set_state(StateCommand.MAGNET_ON if on else StateCommand.MAGNET_OFF)
        except BridgeError as err:
            raise self.explain(err) from err

class BinaryDevice(ProtocolControl):
    """An open, identified device: start the emulated firmware if asked, connect, program, tick.

    Parameters
    ----------
    spec:
        ``emulated`` (or ``host``), ``qemu``, or a firmware_bridge URL (pyserial URL or VISA
        resource).
    fault:
        A seeded-fault variant of the emulated firmware (emulated targets only).
    key:
        The device key for therapy commands; the emulated firmware's development key by default
        for emulated targets, ``DEVICETWIN_KEY_FILE`` for URLs when set.
    """

    def __init__(self, spec: str, *, fault: str | None = None, key: bytes | None = None,
                 timeout_s: float = 5.0, corrupt_store: bool = False) -> None:
        self.spec = spec
        self.fault = fault
        self._emulated: Any = None
        target = EMULATED_TARGETS.get(spec)
        if target is None and fault is not None:
            raise ConfigError(f"fault {fault!r} needs an emulated device, not {spec!r}",
                              name="fault", value=fault, expected="device emulated or qemu")
        if corrupt_store and target != "host":
            raise ConfigError(
                f"a corrupt parameter store can only be staged on the emulated host device, "
                f"not {spec!r}", name="device", value=spec, expected="emulated")
        if target is not None:
            self._emulated = start_device(target, fault,  # type: ignore[arg-type]
                                          corrupt_store=corrupt_store)
            url = self._emulated.url
            key = key or DEV_KEY
        elif (program := exec_argv(spec)) is not None:
            self._emulated = start_program(program)
            url = self._emulated.url
            if key is None and os.environ.get("DEVICETWIN_KEY_FILE"):
                key = read_key_file(os.environ["DEVICETWIN_KEY_FILE"])
        else:
            url = spec
            if key is None and os.environ.get("DEVICETWIN_KEY_FILE"):
                key = read_key_file(os.environ["DEVICETWIN_KEY_FILE"])
        self.url = url
        #: ERROR frames the device sent on its own before answering HELLO (e.g. a corrupt
        #: parameter store found at boot): "code: text" strings.
        self.boot_reports: list[str] = []
        try:
            self.client = DeviceClient.open(url, key=key, timeout_s=timeout_s)
        except BridgeError as err:
            self.close()
            raise self.explain(err) from err
        try:
            # a wrong or silent device is named within 5 s, not after 3 x the link timeout
            if self._emulated is None:
                self.client.timeout_s = min(timeout_s, HELLO_TRY_S)
            self.hello: Hello = self._hello()
            self.client.timeout_s = timeout_s
        except BridgeError as err:
            heard = bytes(self.client.link.first_bytes)
            self.close()
            if self._emulated is not None:
                raise self.explain(err) from err
            raise DeviceError(
                f"device {spec!r} did not answer HELLO as a binary-protocol device ({err}); "
                f"{what_it_speaks(heard)}", name="device", value=shown(heard),
                expected="a HELLO frame (docs/protocol.md)") from err
        self.identity = identity_from_hello(self.hello, spec=spec, url=url, fault=fault)

    def _hello(self) -> Hello:
        """HELLO, keeping (not failing on) error reports the device sent at boot."""
        return hello_keeping_boot_reports(self.client, self.boot_reports)

    capabilities = Capabilities()

    def realtime_link(self) -> RealtimeLink:
        """The client itself streams (STREAM / EVENTS / TELEMETRY / RESET)."""
        return self.client

    def explain(self, err: BaseException) -> HilError:
        if self._emulated is not None:
            diagnosed: HilError = self._emulated.diagnose(err)
            return diagnosed
        return DeviceError(f"device {self.spec!r}: {err}", name="device", value=self.spec,
                           expected="a responsive device")

    def tick(
        self,
        t0_us: int,
        atrial_uv: npt.NDArray[np.int16],
        ventricular_uv: npt.NDArray[np.int16],
        activity_milli_g: npt.NDArray[np.int16],
    ) -> tuple[list[MarkerEvent], int]:
        """One lock-step window with early stop: (the device's markers, samples consumed)."""
        window = Tick._trusted(t0_us, tuple(atrial_uv.tolist()), tuple(ventricular_uv.tolist()),
                               tuple(activity_milli_g.tolist()), True)
        try:
            reply = self.client.tick(window)
        except BridgeError as err:
            raise self.explain(err) from err
        return [marker_from_wire(e) for e in reply.events], reply.consumed

    def console_output(self) -> str:
        """The emulated firmware's console (empty for other devices)."""
        return "" if self._emulated is None else str(self._emulated.console_output())

    def close(self) -> None:
        """Close the link and stop the emulated firmware."""
        client = getattr(self, "client", None)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if self._emulated is not None:
            self._emulated.stop()
            self._emulated = None

    def __enter__(self) -> BinaryDevice:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_device(target: str, options: DeviceOptions) -> BinaryDevice:
    """The registry's entry: a binary-protocol device at ``target``."""
    return BinaryDevice(target, fault=options.fault, key=options.key,
                        timeout_s=options.timeout_s, corrupt_store=options.corrupt_store)


def seeded_faults() -> list[str]:
    """The reference firmware's seeded faults (``hil/firmware/src/fw_faults.h``)."""
    return list(fault_names())
