"""The byte-mode kind of device: senses and paces as bare ``A``/``V`` bytes on a UART, in real
time, with no time marks (``bytes+<link URL>``; ``docs/protocol.md`` section 7.8).

Many development boards and student firmwares exchange just that: the simulator writes ``A``
or ``V`` when the heart's atrium or ventricle is sensed, the device writes ``A`` or ``V`` when it
paces. The bench plays the device's sense amplifier (the reference front end at the programmed
sensitivities, as for the event-level kind) and meets the real-time loop's streaming contract
(``RealtimeLink``) with :class:`ByteStreamLink`: the samples the loop streams ahead are sensed
at once, and each detection is written when this link's clock reaches its time; paces are
stamped on receipt. The link's clock, started by the ``R`` that opens the session, is the
device clock the loop's probes fit.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import Chamber, MarkerEvent, Programming
from devicetwin.pacemaker.sensing import SensingFrontEnd
from firmware_bridge.errors import BridgeError
from firmware_bridge.eventcodec import EventByteStream
from firmware_bridge.links import Link, open_link
from firmware_bridge.messages import Event, Events, Stream, Telemetry
from firmware_bridge.wire import Battery, ResetKind, WireChamber, WireKind
from hil.devices.contract import (
    DEVICE_FEATURES,
    PACE_KINDS,
    Capabilities,
    DeviceError,
    DeviceIdentity,
    RealtimeLink,
    not_capable,
)
from hil.devices.events import EMULATED, command_line, without_missing_features
from hil.devices.registry import DeviceOptions, exec_argv
from hil.devices.unprogrammed import UnprogrammedDevice, bench_front_end, pace_output
from hil.emulator.device import EmulatedDevice, start_program
from hil.emulator.event_device import event_fault_names, start_event_device

SAMPLE_US = 1000
_PACE_KIND = {WireChamber.A: WireKind.AP, WireChamber.V: WireKind.VP}


class ByteStreamLink:
    """``RealtimeLink`` over the byte mode (see the module docstring)."""

    def __init__(self, link: Link, frontend: SensingFrontEnd,
                 outputs: Mapping[WireChamber, tuple[int, int]]) -> None:
        self.stream_ = EventByteStream(link)
        self.frontend = frontend
        self.outputs = outputs  # chamber -> (amplitude_mv, width_us) of its paces
        self._due: list[tuple[int, int, WireChamber]] = []  # (t_us, order, chamber)
        self._order = 0
        self._cond = threading.Condition()
        self._stop = False
        self._started = False
        self._writer: threading.Thread | None = None
        self.error: BaseException | None = None

    def _start(self) -> None:
        self.stream_.reset()  # R: the device's timing and this link's clock start now
        self._started = True
        self._writer = threading.Thread(target=self._write_due, name="byte-mode writer",
                                        daemon=True)
        self._writer.start()

    def _write_due(self) -> None:
        """Write each sense when the clock reaches its time (the writer thread)."""
        try:
            while True:
                with self._cond:
                    while not self._stop and not self._due:
                        self._cond.wait()
                    if self._stop:
                        return
                    t_us = self._due[0][0]
                    wait_s = (t_us - self.stream_.now_us()) / 1e6
                    if wait_s > 0:
                        self._cond.wait(wait_s)
                        continue
                    _, _, chamber = heapq.heappop(self._due)
                self.stream_.sense(chamber)
        except BaseException as err:  # reported by the next poll
            self.error = err

    def stream(self, window: Stream) -> None:
        """Sense the window now; queue each detection for its time."""
        if not self._started:
            self._start()
        a = np.asarray(window.atrial_uv, dtype=np.int16)
        v = np.asarray(window.ventricular_uv, dtype=np.int16)
        det = self.frontend.process(a, v, window.t0_us)
        with self._cond:
            for t_us, chamber in zip(det.t_us.tolist(), det.chamber.tolist(), strict=True):
                self._order += 1
                heapq.heappush(self._due, (int(t_us), self._order,
                                           WireChamber.A if chamber == 0 else WireChamber.V))
            self._cond.notify()

    def poll_events(self, timeout_s: float = 0.0) -> list[Events]:
        """The paces read within ``timeout_s``, stamped with this link's clock."""
        if self.error is not None:
            raise self.error
        if not self._started:
            return []
        paces = self.stream_.read_paces(timeout_s)
        if not paces:
            return []
        events = tuple(Event(p.t_us, p.chamber, _PACE_KIND[p.chamber],
                             amplitude_mv=self.outputs[p.chamber][0],
                             width_us=self.outputs[p.chamber][1]) for p in paces)
        return [Events(t0_us=paces[0].t_us, consumed=0, events=events, streamed=True)]

    def telemetry(self) -> Telemetry:
        """This link's clock as the device clock (a byte-mode device reports nothing)."""
        return Telemetry(time_us=self.stream_.now_us() if self._started else 0, battery_mv=0,
                         battery_state=Battery.BOL, atrial_impedance_ohm=0,
                         ventricular_impedance_ohm=0)

    def reset(self, kind: ResetKind = ResetKind.SESSION) -> None:
        """End the session: no more senses are written."""
        with self._cond:
            self._stop = True
            self._due.clear()
            self._cond.notify()
        if self._writer is not None:
            self._writer.join(timeout=1.0)


class ByteDevice(UnprogrammedDevice):
    """A byte-mode device in real time (module docstring). Targets: ``emulated`` (the
    event-level reference firmware's real-time build), ``exec:...`` or a link URL."""

    capabilities = Capabilities(reports=PACE_KINDS, programmable=False, refusal_probes=False,
                                interrogate=False, magnet=False, realtime=True, lockstep=False,
                                lacks=frozenset(DEVICE_FEATURES))

    what = "byte-mode device"

    def __init__(self, spec: str, options: DeviceOptions) -> None:
        super().__init__()
        self.spec = spec
        self.options = options
        self._rt: ByteStreamLink | None = None
        self.url = spec
        self.identity = DeviceIdentity(spec=f"bytes+{spec}", url=spec, model="byte-mode device",
                                       serial="", firmware_version="", firmware_hash="",
                                       protocol_version=0, max_window_samples=100,
                                       fault=options.fault, kind="bytes")
        if spec != EMULATED:
            self._open(start_program(argv) if (argv := exec_argv(spec)) is not None else None)

    def _open(self, process: EmulatedDevice | None) -> None:
        self._process = process
        self.url = process.url if process is not None else self.spec
        try:
            self._link = open_link(self.url, timeout_s=self.options.timeout_s)
        except BridgeError as err:
            self.close()
            raise self.explain(err) from err

    def program(self, programming: Programming) -> Programming:
        """Take the programming the device runs; the emulated one starts here with it."""
        if self.spec == EMULATED:
            programming = without_missing_features(programming, self.identity.spec)
            self._open(start_event_device(self.options.fault, realtime=True,
                                          programming_args=command_line(programming)))
        assert self._link is not None
        outputs = {WireChamber.A: pace_output(programming, Chamber.A),
                   WireChamber.V: pace_output(programming, Chamber.V)}
        self._rt = ByteStreamLink(self._link, bench_front_end(programming), outputs)
        return programming

    def tick(self, t0_us: int, atrial_uv: npt.NDArray[np.int16],
             ventricular_uv: npt.NDArray[np.int16], activity_milli_g: npt.NDArray[np.int16]
             ) -> tuple[list[MarkerEvent], int]:
        """Not possible: the byte mode has no time marks (real time only)."""
        raise not_capable(self.identity.spec, "run in lock-step")

    def realtime_link(self) -> RealtimeLink:
        """The byte stream, once :meth:`program` has set it up."""
        if self._rt is None:
            raise DeviceError(f"device {self.identity.spec!r}: no programming declared",
                              name="programming", value=None, expected="program() first")
        return self._rt

    def close(self) -> None:
        """Stop the writer, close the link, stop the program the bench started."""
        if self._rt is not None:
            self._rt.reset()
        super().close()


def seeded_faults() -> list[str]:
    """The reference event device's seeded faults (the same firmware, real-time build)."""
    return list(event_fault_names())


def open_device(target: str, options: DeviceOptions) -> ByteDevice:
    """The registry's entry: a byte-mode device at ``target``."""
    return ByteDevice(target, options)
