"""The programmer's link to the device under test (firmware_bridge), shareable with the emulated
analog device's coupling thread through one lock."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from firmware_bridge import DeviceClient
from firmware_bridge.errors import BridgeError
from firmware_bridge.messages import Telemetry
from firmware_bridge.wire import Mode, ParamId, ResetKind, StateCommand
from hil.instruments.errors import InstrumentError


class BridgeProgrammer:
    """:class:`hil.instruments.interfaces.DeviceProgrammer` over a connected DeviceClient.

    Bridge errors (a NACK for a refused programming, a dropped link) become InstrumentError
    quoting the command.
    """

    def __init__(self, client: DeviceClient, lock: threading.RLock | None = None) -> None:
        self.client = client
        self.lock = lock or threading.RLock()

    def _fail(self, what: str, err: BridgeError) -> InstrumentError:
        return InstrumentError(f"programmer: {what} failed: {err}", name=what, value=str(err),
                               expected="an ACK from the device")

    def program(self, params: Mapping[str | int, int]) -> None:
        """PROGRAM (authenticated): parameter name or id -> value in its wire unit."""
        try:
            with self.lock:
                self.client.program(dict(params))
        except BridgeError as err:
            raise self._fail(f"PROGRAM {dict(params)}", err) from err

    def set_state(self, command: int, mode: int = 0) -> None:
        """SET_STATE with protocol codes (3 MAGNET_ON, 4 MAGNET_OFF, 1 TEMPORARY + mode ...)."""
        try:
            with self.lock:
                self.client.set_state(StateCommand(command), Mode(mode))
        except BridgeError as err:
            raise self._fail(f"SET_STATE {command},{mode}", err) from err

    def interrogate(self) -> dict[str, int]:
        """The permanent programming, parameter name -> value."""
        try:
            with self.lock:
                reply = self.client.interrogate()
        except BridgeError as err:
            raise self._fail("INTERROGATE", err) from err
        return {ParamId(pid).name.lower(): value for pid, value in reply.params}

    def telemetry(self) -> Telemetry:
        """TELEMETRY (time, battery, counters)."""
        try:
            with self.lock:
                return self.client.telemetry()
        except BridgeError as err:
            raise self._fail("TELEMETRY", err) from err

    def reset_session(self) -> None:
        """RESET SESSION."""
        try:
            with self.lock:
                self.client.reset(ResetKind.SESSION)
        except BridgeError as err:
            raise self._fail("RESET", err) from err
