"""The bench session over instruments (``devicetwin run SCENARIO --via visa``).

:class:`VisaDeviceConnection` is the analog kind of device (``hil.devices.analog``) for
hil.session.realtime's loop: the heart's electrograms leave through the AWG (channel 1 atrial,
channel 2 ventricular, streamed segments at 1 kHz, microvolts at the lead), and the device's paces
come back from the scope's running record (channel 1 atrial, channel 2 ventricular), detected as
pulses: a rising crossing of ``threshold_v``, the leading-edge amplitude ``edge_samples`` samples
later, and the width at half that amplitude. The device is programmed through the bench's
programmer. Only paces are observable this way (no sense markers): the runner matches paces.

Clock: the AWG's playback position (``SOUR1:DATA:POS?``) stands for the device clock in the
loop's TELEMETRY probes; it is 0 until the first window is queued and ``*TRG`` starts playback
and the scope's record together.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import Programming
from firmware_bridge.client import ProgramParams, param_pairs
from firmware_bridge.errors import BridgeError
from firmware_bridge.messages import (
    Event,
    Events,
    Interrogation,
    Nack,
    Stream,
    Telemetry,
)
from firmware_bridge.wire import (
    Battery,
    Mode,
    ResetKind,
    StateCommand,
    WireChamber,
    WireKind,
)
from hil.devices.contract import (
    PACE_KINDS,
    Capabilities,
    DeviceError,
    DeviceIdentity,
    RealtimeLink,
)
from hil.errors import HilError
from hil.instruments.bench import EMULATED, Bench, open_bench
from hil.instruments.errors import InstrumentError
from hil.instruments.interfaces import AwgChannelSetup, ChannelSetup
from hil.instruments.programmer import BridgeProgrammer
from hil.session.mapping import wire_parameters

LEAD_RANGE_UV = 32767.0
SCOPE_RATE_HZ = 100e3
SCOPE_RANGE_V = 16.0
POLL_S = 0.020
OVERLAP_S = 0.005
MAX_FETCH_S = 1.0


def detect_pulses(volts: npt.NDArray[np.float64], t0_s: float, dt_s: float, threshold_v: float,
                  edge_samples: int = 2) -> list[tuple[float, float, float]]:
    """Complete pulses in a record: (leading-edge time s, amplitude V, width s at 50 %).

    The leading-edge time is the threshold crossing (linear interpolation); a pulse whose
    end lies past the record is not reported (the next record, overlapping, has it).
    """
    above = volts >= threshold_v
    rises = np.flatnonzero(~above[:-1] & above[1:]) + 1
    out: list[tuple[float, float, float]] = []
    n = volts.shape[0]
    for i in rises:
        j = int(i) + edge_samples
        if j >= n:
            break
        amp = float(volts[j])
        half = volts[int(i):] < amp / 2
        ends = np.flatnonzero(half)
        if ends.shape[0] == 0:
            break
        end = int(i) + int(ends[0])
        a, b = float(volts[i - 1]), float(volts[i])
        frac = (threshold_v - a) / (b - a) if b != a else 0.0
        t_lead = t0_s + (int(i) - 1 + frac) * dt_s
        # width at half amplitude, interpolated on both edges
        h = amp / 2
        k0 = int(i) - 1
        while k0 > 0 and volts[k0] >= h:
            k0 -= 1
        f0 = (h - volts[k0]) / (volts[k0 + 1] - volts[k0]) if volts[k0 + 1] != volts[k0] else 0
        f1 = ((volts[end - 1] - h) / (volts[end - 1] - volts[end])
              if volts[end - 1] != volts[end] else 0)
        width = ((end - 1 + float(f1)) - (k0 + float(f0))) * dt_s
        out.append((t_lead, amp, width))
    return out


class VisaStreamClient:
    """The real-time link (``hil.devices.RealtimeLink``) done with the instruments: samples out of
    the AWG, paces back from the scope, the AWG's playback position as the device clock."""

    def __init__(self, bench: Bench, attenuation: float = 1.0,
                 threshold_v: float = 0.2) -> None:
        self.bench = bench
        self.attenuation = attenuation
        self.threshold_v = threshold_v
        self.hello = None
        self._started = False
        self._cursor_s = 0.0
        self._next_poll = 0.0
        self._reported: list[float] = []
        self._last_check = 0.0

    def stream(self, window: Stream) -> None:
        """Queue the window's samples on the AWG; the first one starts playback."""
        awg = self.bench.awg
        scale = 1e-6 * self.attenuation
        a = np.asarray(window.atrial_uv, dtype=np.float64) * scale
        v = np.asarray(window.ventricular_uv, dtype=np.float64) * scale
        awg.append_segment(1, a, check=False)
        awg.append_segment(2, v, check=False)
        if not self._started:
            awg.trigger()
            self._started = True
        now = time.perf_counter()
        if now - self._last_check > 1.0:
            self._last_check = now
            awg.check_errors("DATA:SEGM (streaming)")
            self.bench.scope.check_errors("WAV:RANG/WAV:DATA? (streaming)")
            self.bench.check()

    def telemetry(self) -> Telemetry:
        """The AWG's playback position as the device clock."""
        pos = self.bench.awg.position_s(1) if self._started else 0.0
        return Telemetry(time_us=round(pos * 1e6), battery_mv=0, battery_state=Battery.BOL,
                         atrial_impedance_ohm=0, ventricular_impedance_ohm=0)

    def poll_events(self, timeout_s: float = 0.0) -> list[Events]:
        """Paces detected in the scope's record since the last poll (polled every 10 ms)."""
        now = time.perf_counter()
        if now < self._next_poll or not self._started:
            time.sleep(max(0.0, min(timeout_s, self._next_poll - now)))
            return []
        self._next_poll = now + POLL_S
        scope = self.bench.scope
        done = scope.record_time_s()
        start = max(0.0, self._cursor_s - OVERLAP_S)
        end = min(done, start + MAX_FETCH_S)
        n = int((end - start) * SCOPE_RATE_HZ)
        if n < 10:
            return []
        events: list[Event] = []
        waves = scope.fetch_channels(n, (1, 2), start, check=False)
        for wf, chamber, kind in ((waves[0], WireChamber.A, WireKind.AP),
                                  (waves[1], WireChamber.V, WireKind.VP)):
            for t_lead, amp, width in detect_pulses(wf.volts, wf.t0_s, wf.dt_s,
                                                    self.threshold_v):
                if any(abs(t_lead - r) < 1e-3 for r in self._reported[-8:]):
                    continue
                self._reported.append(t_lead)
                events.append(Event(max(0, round(t_lead * 1e6)), chamber, kind,
                                    amplitude_mv=max(0, min(65535, round(amp * 1e3))),
                                    width_us=max(0, min(65535, round(width * 1e6)))))
        self._cursor_s = start + n / SCOPE_RATE_HZ
        if len(self._reported) > 64:
            del self._reported[:-16]
        if not events:
            return []
        events.sort(key=lambda e: e.t_us)
        return [Events(t0_us=round(done * 1e6), consumed=0, events=tuple(events[i:i + 48]),
                       streamed=True) for i in range(0, len(events), 48)]

    def reset(self, kind: ResetKind = ResetKind.SESSION) -> None:
        """End the session: stop playback (the emulated device then resets its session)."""
        self.bench.awg.abort()
        if self.bench.programmer is not None and self.bench.analog_device is None:
            self.bench.programmer.reset_session()

    def set_state(self, command: StateCommand, mode: Mode = Mode.OFF) -> None:
        """Through the programmer."""
        if self.bench.programmer is None:
            raise DeviceError("no programmer on this bench", name="set_state", value=command,
                              expected="a device resource")
        self.bench.programmer.set_state(int(command), int(mode))

    def program(self, params: ProgramParams) -> None:
        """Through the programmer."""
        if self.bench.programmer is None:
            raise DeviceError("no programmer on this bench", name="program", value=None,
                              expected="a device resource")
        self.bench.programmer.program(dict(param_pairs(params)))


class VisaDeviceConnection:
    """The device behind the instruments, for hil.session's real-time loop.

    Parameters
    ----------
    spec : str
        The programmer's link: ``emulated`` (the host firmware behind the emulated analog
        device) or a firmware_bridge URL.
    awg, scope, analyzer : str or None
        Resources (``emulated`` by default).
    """

    def __init__(self, spec: str = EMULATED, *, fault: str | None = None,
                 key: bytes | None = None, awg: str = EMULATED, scope: str = EMULATED,
                 analyzer: str | None = None, seed: int = 0,
                 timeout_s: float = 5.0) -> None:
        self.spec = spec
        self.fault = fault
        self._emulated = None
        device = EMULATED if spec in ("emulated", "host") else spec
        try:
            self.bench = open_bench(awg, scope, analyzer, device, fault=fault, seed=seed,
                                    key=key, timeout_s=timeout_s)
        except HilError:
            raise
        except BridgeError as err:
            raise DeviceError(f"device {spec!r}: {err}", name="device", value=spec,
                              expected="a responsive device") from err
        try:
            self._setup()
        except BaseException:
            self.bench.close()
            raise
        self._emulated = self.bench.device
        self.url = self.bench.resources.device or ""
        programmer = self.bench.programmer
        assert programmer is not None
        hello = programmer.client.hello
        assert hello is not None
        self.hello = hello
        self.client = VisaStreamClient(self.bench)
        self.identity = DeviceIdentity(
            spec=f"visa:{spec}", url=f"awg={self.bench.resources.awg} "
            f"scope={self.bench.resources.scope} programmer={self.url}",
            model=hello.model, serial=hello.serial, firmware_version=hello.firmware_version,
            firmware_hash=bytes(hello.firmware_hash).hex(),
            protocol_version=hello.protocol_version, max_window_samples=100, fault=fault,
            kind="analog")

    def _setup(self) -> None:
        b = self.bench
        if b.programmer is None:
            raise DeviceError("the instrument path needs a programmer (device resource)",
                              name="device", value=None, expected="a device resource")
        vpp = 2 * LEAD_RANGE_UV * 1e-6
        for ch in (1, 2):
            b.awg.configure_channel(ch, AwgChannelSetup(sample_rate_hz=1000.0,
                                                        amplitude_vpp=vpp))
            b.awg.output(ch, True)
            b.scope.configure_channel(ch, ChannelSetup(range_v=SCOPE_RANGE_V))
        b.scope.configure_timebase(SCOPE_RATE_HZ)

    #: The scope sees paces only; the programmer programs, interrogates and applies the magnet.
    capabilities = Capabilities(reports=PACE_KINDS, lockstep=False)

    def realtime_link(self) -> RealtimeLink:
        """The instruments' stream client."""
        return self.client

    def set_magnet(self, on: bool) -> None:
        """Through the programmer."""
        self.client.set_state(StateCommand.MAGNET_ON if on else StateCommand.MAGNET_OFF)

    def __enter__(self) -> VisaDeviceConnection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def explain(self, err: BaseException) -> HilError:
        """A programmer link failure diagnosed on the emulated device, else a DeviceError."""
        if self._emulated is not None and isinstance(err, BridgeError):
            diagnosed: HilError = self._emulated.diagnose(err)
            return diagnosed
        if isinstance(err, HilError):
            return err
        return DeviceError(f"device {self.spec!r} over instruments: {err}", name="device",
                           value=self.spec, expected="a responsive bench")

    def program(self, programming: Programming) -> Programming:
        """The whole programming through the programmer."""
        try:
            params: dict[str | int, int] = {k: v for k, v in wire_parameters(programming).items()}
            self.client.program(params)
        except InstrumentError as err:
            raise DeviceError(f"device {self.spec!r} refused the programming: {err}",
                              name="programming", value=str(err),
                              expected="an ACK") from err
        return programming

    def _programmer(self) -> BridgeProgrammer:
        prog = self.bench.programmer
        if prog is None:
            raise DeviceError("no programmer on this bench", name="device", value=None,
                              expected="a device resource")
        return prog

    def program_raw(self, params: Mapping[str, int]) -> Nack | None:
        """A PROGRAM of wire values as given through the programmer: None when the device
        accepted it, else its NACK (for checking that a device refuses a programming)."""
        prog = self._programmer()
        try:
            with prog.lock:
                return prog.client.try_program(params)
        except BridgeError as err:
            raise self.explain(err) from err

    def interrogate(self) -> Interrogation:
        """The device's state, active mode and permanent programming (through the programmer)."""
        prog = self._programmer()
        try:
            with prog.lock:
                return prog.client.interrogate()
        except BridgeError as err:
            raise self.explain(err) from err

    def tick(self, t0_us: int, atrial_uv: npt.NDArray[np.int16],
             ventricular_uv: npt.NDArray[np.int16],
             activity_milli_g: npt.NDArray[np.int16]) -> tuple[list[Any], int]:
        """Lock-step is not possible through instruments."""
        raise DeviceError("lock-step needs a digital link; --via visa runs in real time",
                          name="via", value="visa", expected="realtime")

    def console_output(self) -> str:
        """The emulated firmware's console."""
        dev = self.bench.device
        return "" if dev is None else dev.console_output()

    def close(self) -> None:
        """Close the bench (instruments, emulators, programmer)."""
        with contextlib.suppress(Exception):
            self.bench.close()

