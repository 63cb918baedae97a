"""The event-level kind of device: the bench senses, the device paces (``events+<link URL>``).

Lab set-ups and student or research firmware talk to a heart simulator at the event level: the
simulator says when the device would have sensed (``A <t_us>`` / ``V <t_us>``) and how far time
has come (``T <t_us>``), and the device answers with its paces (``docs/protocol.md`` section 7).
Here the bench plays the device's sense amplifier: it runs the reference sensing front end
(A-16, the same arithmetic the twin uses) on each lead's electrogram at the sensitivity the
device runs with, and sends the detections.

Lock-step runs window by window, not one round trip per millisecond: the bench detects on a
whole window, sends its senses and one time mark; a device with the early-stop capability
(``caps=stop`` in its identity) runs to the mark or stops at its first pace, and the bench rolls
the heart and its own front end back to that pace, as the binary protocol's early stop does. A
device without the capability is driven one millisecond at a time (exact, slower).

The device shows paces only: conformance and the monitors judge paces (``capabilities``).
Targets: ``emulated`` (the event-level reference firmware, ``hil/firmware_events``), ``exec:``
a program on a pty, or any firmware_bridge link URL.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import PARAMETERS, Chamber, MarkerEvent, MarkerKind, Mode, Programming
from devicetwin.pacemaker.sensing import SensingFrontEnd
from firmware_bridge.errors import BridgeError, LinkTimeoutError
from firmware_bridge.eventcodec import EventIdentity, EventLevelDevice, Pace
from firmware_bridge.links import open_link
from firmware_bridge.wire import WireChamber
from hil.devices.contract import (
    DEVICE_FEATURES,
    PACE_KINDS,
    Capabilities,
    DeviceError,
    DeviceIdentity,
    RealtimeLink,
    not_capable,
)
from hil.devices.registry import DeviceOptions, exec_argv
from hil.devices.sniff import shown, what_it_speaks
from hil.devices.unprogrammed import UnprogrammedDevice, bench_front_end, pace_output
from hil.emulator.device import EmulatedDevice, start_program
from hil.emulator.event_device import event_fault_names, start_event_device
from hil.errors import ConfigError

SAMPLE_US = 1000
#: Window of a device with early stop (samples); the loop also bounds it.
EARLY_STOP_WINDOW_SAMPLES = 100
EMULATED = "emulated"
_WIRE = {Chamber.A: WireChamber.A, Chamber.V: WireChamber.V}
_CHAMBER = {WireChamber.A: Chamber.A, WireChamber.V: Chamber.V}


class EventDevice(UnprogrammedDevice):
    """An event-level device in lock-step (see the module docstring).

    Parameters
    ----------
    spec:
        ``emulated``, ``exec:<program> [args]`` or a link URL.
    options:
        ``options.profile`` may set ``early_stop`` (bool; default: what the device's identity
        says), ``fault`` via ``options.fault`` for the emulated firmware.
    """

    capabilities = Capabilities(reports=PACE_KINDS, programmable=False, refusal_probes=False,
                                interrogate=False, magnet=False, realtime=False,
                                lacks=frozenset(DEVICE_FEATURES))

    what = "event-level device"

    def __init__(self, spec: str, options: DeviceOptions) -> None:
        super().__init__()
        self.spec = spec
        self.options = options
        self._programming: Programming | None = None
        self._frontend: SensingFrontEnd | None = None
        self.early_stop = False
        self.url = spec
        self.identity = self._identity(None)
        if spec == EMULATED:  # started by program(): its programming is its command line
            return
        if options.fault is not None:
            raise ConfigError(f"the seeded fault {options.fault!r} needs the emulated event-level "
                              f"device, not {spec!r}", name="fault", value=options.fault,
                              expected="device events+emulated")
        self._connect(start_program(argv) if (argv := exec_argv(spec)) is not None else None)

    def _connect(self, process: EmulatedDevice | None) -> None:
        """Open the link (to ``process`` when the bench started one), reset, identify."""
        self._process = process
        self.url = process.url if process is not None else self.spec
        try:
            self._link = open_link(self.url, timeout_s=self.options.timeout_s)
            self.driver = EventLevelDevice(self._link, timeout_s=self.options.timeout_s)
            ident = self._reset()
        except BridgeError as err:
            heard = bytes(self._link.first_bytes) if self._link is not None else b""
            self.close()
            if process is not None:
                raise self.explain(err) from err
            raise DeviceError(
                f"device {self.spec!r} did not answer the event-level reset ({err}); "
                f"{what_it_speaks(heard)}", name="device", value=shown(heard),
                expected="'.' or an identity line (docs/protocol.md section 7)") from err
        except BaseException:
            self.close()
            raise
        stop = self.options.profile.get("early_stop", ident.has("stop") if ident else False)
        self.early_stop = bool(stop)
        self.identity = self._identity(ident)

    def _reset(self) -> EventIdentity | None:
        """Start a session (``R``). A device of the base protocol ignores ``R``: it is driven
        without a session (time zero its first line) and one millisecond at a time."""
        assert self._link is not None
        try:
            return self.driver.reset()
        except LinkTimeoutError:
            if self._link.first_bytes:  # it answered, but not as the protocol says
                raise
            self.driver = EventLevelDevice(self._link, timeout_s=self.options.timeout_s)
            return None

    def _identity(self, ident: EventIdentity | None) -> DeviceIdentity:
        return DeviceIdentity(
            spec=f"events+{self.spec}", url=self.url,
            model=ident.name if ident else "event-level device", serial="",
            firmware_version=ident.version if ident else "",
            firmware_hash=(ident.hash or "") if ident else "", protocol_version=0,
            max_window_samples=EARLY_STOP_WINDOW_SAMPLES if self.early_stop else 1,
            fault=self.options.fault, kind="events")

    # -- the contract ------------------------------------------------------------------------
    def program(self, programming: Programming) -> Programming:
        """Take the programming the device runs (not sent: the device is not programmed over
        the wire); the bench senses at its sensitivities and paces with its outputs. The
        emulated reference device starts here, with the programming on its command line, and
        runs it without the features it does not have (``without_missing_features``)."""
        if self.spec == EMULATED:
            programming = without_missing_features(programming, self.identity.spec)
            self._connect(start_event_device(self.options.fault,
                                             programming_args=command_line(programming)))
        self._programming = programming
        self._frontend = bench_front_end(programming)
        return programming

    def realtime_link(self) -> RealtimeLink:
        """Not available: this kind runs in lock-step (the byte mode is a separate kind)."""
        raise not_capable(self.identity.spec, "stream in real time")

    def tick(self, t0_us: int, atrial_uv: npt.NDArray[np.int16],
             ventricular_uv: npt.NDArray[np.int16], activity_milli_g: npt.NDArray[np.int16]
             ) -> tuple[list[MarkerEvent], int]:
        """Sense the window, send the senses and a time mark; the paces and the samples the
        device consumed (up to and including its first pace when it stops early)."""
        fe = self._front_end()
        n = int(atrial_uv.shape[0])
        before = fe.state()
        det = fe.process(atrial_uv, ventricular_uv, t0_us)
        last_us = t0_us + (n - 1) * SAMPLE_US
        try:
            for t_us, chamber in zip(det.t_us.tolist(), det.chamber.tolist(), strict=True):
                self.driver.sense(WireChamber.A if chamber == 0 else WireChamber.V, int(t_us))
            paces = self.driver.advance(last_us)
        except BridgeError as err:
            raise self.explain(err) from err
        events = [self._marker(p) for p in paces]
        consumed = n
        if events:
            first = min(e.t_us for e in events)
            consumed = min(n, (first - t0_us) // SAMPLE_US + 1)
            if consumed < n:  # the heart is rolled back to the pace: so is the front end
                fe.restore(before)
                fe.process(atrial_uv[:consumed], ventricular_uv[:consumed], t0_us)
        return events, consumed

    # -- helpers -----------------------------------------------------------------------------
    def _front_end(self) -> SensingFrontEnd:
        if self._frontend is None:
            raise DeviceError(f"event-level device {self.spec!r}: no programming declared "
                              "before the first window", name="programming", value=None,
                              expected="program() first")
        return self._frontend

    def _marker(self, pace: Pace) -> MarkerEvent:
        chamber = _CHAMBER[pace.chamber]
        assert self._programming is not None
        amplitude_mv, width_us = pace_output(self._programming, chamber)
        if pace.amplitude_mv is not None and pace.width_us is not None:  # the device said
            amplitude_mv, width_us = pace.amplitude_mv, pace.width_us
        kind = MarkerKind.AP if chamber is Chamber.A else MarkerKind.VP
        return MarkerEvent(pace.t_us, chamber, kind, amplitude_mv, width_us)


#: What the event-level reference firmware does not implement (``hil/firmware_events``,
#: docs/firmware_events.md), each with the value that switches it off in the twin.
MISSING_FEATURES: dict[str, object] = {
    "pmt_termination": False, "pvarp_extension_ms": None, "hysteresis_rate_ppm": None,
    "rate_smoothing_pct": None, "atr_mode": False, "dynamic_av_delay": False,
    "sensed_av_offset_ms": None,
}
#: The modes it runs.
MODES = (Mode.DDD, Mode.VVI)


def without_missing_features(programming: Programming, spec: str) -> Programming:
    """``programming`` as the reference event device runs it: features it lacks switched off
    when they are at their nominal value; a programming that asks for one of them (or for
    another mode) does not apply to this device."""
    if programming.mode not in MODES:
        raise not_capable(spec, f"run mode {programming.mode.name} (it runs "
                                f"{', '.join(m.name for m in MODES)})")
    changes: dict[str, Any] = {}
    for name, off in MISSING_FEATURES.items():
        value = getattr(programming, name)
        if value == off:
            continue
        if value != PARAMETERS[name].nominal:
            raise not_capable(spec, f"run {name}={value!r} (it has no such feature)")
        changes[name] = off
    return dataclasses.replace(programming, **changes) if changes else programming


#: The reference event device's command-line flag of each programming parameter it takes.
_FLAGS: dict[str, str] = {
    "fixed_av_delay_ms": "av-ms", "vrp_ms": "vrp-ms", "pvarp_ms": "pvarp-ms", "arp_ms": "arp-ms",
    "pvab_ms": "pvab-ms", "ventricular_blanking_ms": "vblank-ms",
    "pace_blanking_ms": "pace-blank-ms", "vsp_window_ms": "vsp-ms",
}


def command_line(p: Programming) -> list[str]:
    """The reference event device's flags for programming ``p`` (docs/firmware_events.md)."""
    args = ["--mode", p.mode.name, "--lri-ms", str(p.lri_ms), "--uri-ms", str(p.uri_ms)]
    for name, flag in _FLAGS.items():
        args += [f"--{flag}", str(round(getattr(p, name)))]
    for chamber in (Chamber.A, Chamber.V):
        amplitude_mv, width_us = pace_output(p, chamber)
        flag = chamber.name.lower()
        args += [f"--{flag}-amplitude-mv", str(amplitude_mv), f"--{flag}-width-us", str(width_us)]
    return args


def seeded_faults() -> list[str]:
    """The reference event device's seeded faults (``hil/firmware_events/src/ev_faults.h``)."""
    return list(event_fault_names())


def open_device(target: str, options: DeviceOptions) -> EventDevice:
    """The registry's entry: an event-level device at ``target``."""
    return EventDevice(target, options)
