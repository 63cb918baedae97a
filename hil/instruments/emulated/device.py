"""The emulated analog device: the AWG's output reaches the firmware's sense input, and the
firmware's paces appear on the scope channels as pulses across the test load.

A thread, every 2 ms while the AWG is triggered:

1. takes the AWG channels' output (channel 1 -> atrial lead, channel 2 -> ventricular lead),
   point-sampled at the firmware's 1 kHz sample instants (linear interpolation between AWG
   samples), converts volts to microvolts at the lead (``uv = volts * 1e6 / attenuation``;
   ``attenuation`` models a bench divider, 1 by default), clips to int16 and sends them as STREAM
   windows (<= 100 samples) through firmware_bridge. A looped waveform is sent ``lead_ms`` (100)
   ahead of the record clock; a streamed queue as soon as it arrives (the firmware's 1024-sample
   ring is the AWG's playback buffer);
2. reads the firmware's streamed EVENTS; a pace at device time ``d`` becomes a pulse at record
   time ``(d - d0) / 1e6`` s on scope channel 1 (atrial) or 2 (ventricular) with the pace's
   amplitude and width (``d0`` = the firmware's clock when streaming began, read by TELEMETRY, as
   hil.session.realtime does).

The record clock is re-started when the first window of a session is sent (a few ms after
``*TRG``), so record time is the firmware's time: a programmer command acts at the record time
the bench estimates from the AWG's playback position. When the AWG is stopped (``ABOR``/``*RST``)
the firmware's session is reset (RESET SESSION).
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import Chamber, MarkerEvent
from firmware_bridge import DeviceClient
from firmware_bridge.errors import BridgeError
from firmware_bridge.messages import Stream
from firmware_bridge.wire import ResetKind
from hil.instruments.emulated.world import AnalogWorld
from hil.session.mapping import marker_from_wire

SAMPLE_RATE_HZ = 1000.0
MAX_WINDOW = 100
RING_SAMPLES = 900
#: stimulus(lead_channel, first_sample, n) -> microvolts added at the lead (the analyzer's).
Stimulus = Callable[[int, int, int], npt.NDArray[np.float64]]


class AnalogDevice:
    """Couples an :class:`AnalogWorld` to a firmware reached by a DeviceClient.

    Parameters
    ----------
    world : AnalogWorld
    client : DeviceClient
        Connected (HELLO done); shared with the programmer through :attr:`lock`.
    attenuation : float
        AWG volts per lead volt (a bench divider), 1 = none.
    lead_ms : int
        How far ahead of the record clock a looped waveform is sent, ms.
    """

    def __init__(self, world: AnalogWorld, client: DeviceClient, *, attenuation: float = 1.0,
                 lead_ms: int = 100) -> None:
        self.world = world
        self.client = client
        self.attenuation = attenuation
        self.lead_ms = lead_ms
        self.lock = threading.RLock()
        self.markers: deque[MarkerEvent] = deque(maxlen=100_000)
        self.stimuli: list[Stimulus] = []
        self.error: BaseException | None = None
        self.samples_sent = 0
        #: largest lag of the stream behind the record clock seen, ms (the firmware's ring ran
        #: dry: its clock then slips against the record by up to this much)
        self.underrun_ms = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._generation = -1
        self._d0_us: int | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> AnalogDevice:
        """Run the coupling thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="analog-device", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread (and the firmware's streaming); safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if self._d0_us is not None:
            self._end_session()

    def __enter__(self) -> AnalogDevice:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- the coupling -------------------------------------------------------------------------
    def _end_session(self) -> None:
        with self.lock, contextlib.suppress(BridgeError):
            self.client.reset(ResetKind.SESSION)
        self._d0_us = None

    def _run(self) -> None:
        try:
            while not self._stop.wait(0.002):
                self._step()
        except BaseException as exc:  # reported by check(); the thread must not die silently
            self.error = exc

    def check(self) -> None:
        """Re-raise an error the coupling thread stopped on."""
        if self.error is not None:
            raise self.error

    def _step(self) -> None:
        world = self.world
        with world.lock:
            triggered = world.trigger_wall is not None
            generation = world.generation
        if not triggered:
            if self._d0_us is not None:
                self._end_session()
            return
        if generation != self._generation:  # a new trigger: a new firmware session
            if self._d0_us is not None:
                self._end_session()
            with self.lock:
                self.client.poll_events(0.0)  # events of the previous session: not this record
                self._d0_us = self.client.telemetry().time_us
            self._generation = generation
            self.samples_sent = 0
            with world.lock:  # the firmware starts on the first window, sent just below: the
                # record clock starts with it (record time = firmware time, not ~2 ms later)
                if world.generation == generation and world.trigger_wall is not None:
                    world.trigger_wall = world.clock()
        self._feed()
        self._collect()

    def _feed(self) -> None:
        world = self.world
        k = self.samples_sent
        with world.lock:
            now_ms = int(world.now_s() * 1000.0)
            chans = [world.awg[1], world.awg[2]]
            looped = any(c.output and not c.streaming for c in chans)
            streamed = any(c.output and c.streaming for c in chans)
            ahead = RING_SAMPLES if streamed and not looped else self.lead_ms
            limit = now_ms + ahead + 1 - k
            n = min([limit] + [c.available(k, SAMPLE_RATE_HZ) for c in chans
                               if c.streaming and c.output])
            if k and (looped or not streamed):
                self.underrun_ms = max(self.underrun_ms, now_ms - k)
            if n <= 0:
                return
            volts = [c.take(k, n, SAMPLE_RATE_HZ) if (c.output or c.streaming) else np.zeros(n)
                     for c in chans]
        uv = [v * (1e6 / self.attenuation) for v in volts]
        for stim in self.stimuli:
            for i in (0, 1):
                uv[i] = uv[i] + stim(i + 1, k, n)
        a = np.clip(np.rint(uv[0]), -32768, 32767).astype(np.int16)
        v = np.clip(np.rint(uv[1]), -32768, 32767).astype(np.int16)
        z = (0,) * MAX_WINDOW
        with self.lock:
            for i in range(0, n, MAX_WINDOW):
                m = min(MAX_WINDOW, n - i)
                window = Stream._trusted((k + i) * 1000, tuple(a[i:i + m].tolist()),
                                         tuple(v[i:i + m].tolist()), z[:m], False)
                self.client.stream(window)
        self.samples_sent = k + n

    def _collect(self) -> None:
        d0 = self._d0_us
        if d0 is None:
            return
        with self.lock:
            frames = self.client.poll_events(0.0)
        for frame in frames:
            for wire in frame.events:
                m = marker_from_wire(wire)
                t_us = m.t_us - d0
                self.markers.append(MarkerEvent(t_us, m.chamber, m.kind, m.amplitude_mv,
                                                m.width_us, m.flags) if m.kind.is_pace
                                    else MarkerEvent(t_us, m.chamber, m.kind))
                if m.kind.is_pace and m.chamber in (Chamber.A, Chamber.V):
                    channel = 1 if m.chamber is Chamber.A else 2
                    self.world.add_pace(channel, t_us / 1e6, (m.amplitude_mv or 0) / 1e3,
                                        (m.width_us or 0) / 1e6)
