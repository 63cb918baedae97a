"""A small Python device that speaks protocol v1, for testing the client and links.

It is not a pacemaker model (that is ``devicetwin.pacemaker``; the reference firmware is in
``hil/firmware``): it paces the ventricle at the lower rate unless a ventricular sample crosses
the sensitivity (VVI-like), checks a few parameter ranges and one cross-parameter rule so that
NACKs can be exercised, and enforces authentication exactly as the protocol says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from firmware_bridge.auth import DEV_KEY, AuthVerifier
from firmware_bridge.errors import FrameError
from firmware_bridge.messages import (
    Ack,
    Event,
    Events,
    Hello,
    Interrogation,
    Message,
    Nack,
    Program,
    Reset,
    SetBattery,
    SetState,
    Telemetry,
    Tick,
)
from firmware_bridge.protocol import Frame, FrameDecoder, encode
from firmware_bridge.wire import (
    MAX_EVENTS,
    SAMPLE_PERIOD_US,
    Battery,
    Capability,
    DeviceState,
    MessageType,
    Mode,
    NackReason,
    ParamId,
    ResetKind,
    Rule,
    StateCommand,
    WireChamber,
    WireKind,
    WirePaceFlag,
)

NOMINAL: dict[int, int] = {
    ParamId.MODE: Mode.VVI,
    ParamId.LOWER_RATE_PPM: 60,
    ParamId.UPPER_RATE_PPM: 120,
    ParamId.VRP_MS: 320,
    ParamId.VENTRICULAR_AMPLITUDE_MV: 3500,
    ParamId.VENTRICULAR_PULSE_WIDTH_US: 400,
    ParamId.VENTRICULAR_SENSITIVITY_UV: 2500,
}
RANGES: dict[int, tuple[int, int]] = {
    ParamId.MODE: (0, 22),
    ParamId.LOWER_RATE_PPM: (30, 175),
    ParamId.UPPER_RATE_PPM: (50, 175),
    ParamId.VRP_MS: (150, 500),
    ParamId.VENTRICULAR_AMPLITUDE_MV: (0, 7500),
    ParamId.VENTRICULAR_PULSE_WIDTH_US: (50, 1900),
    ParamId.VENTRICULAR_SENSITIVITY_UV: (250, 10000),
}


@dataclass
class FakeDevice:
    """Protocol v1 device logic: ``handle(bytes) -> bytes``.

    Parameters
    ----------
    key:
        The device key (development key by default).
    protocol_version:
        The version it announces (set to 2 to test version checks).
    """

    key: bytes = DEV_KEY
    protocol_version: int = 1
    params: dict[int, int] = field(default_factory=lambda: dict(NOMINAL))
    state: DeviceState = DeviceState.PERMANENT
    temp_mode: Mode = Mode.OFF
    magnet: bool = False
    battery: Battery = Battery.BOL
    time_us: int = 0
    last_v_us: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    mute: bool = False  # when True, the device swallows requests (to test timeouts)

    def __post_init__(self) -> None:
        self.auth = AuthVerifier()
        self.decoder = FrameDecoder(self.key)
        self._dev_seq = 0

    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    # -- transport entry point
    def handle(self, data: bytes) -> bytes:
        """Bytes from the bench in, bytes to the bench out."""
        out = bytearray()
        for item in self.decoder.feed_all(data):
            if isinstance(item, FrameError):
                self._count("frames_bad")
                out += self._bad_frame(item)
                continue
            self._count("frames_ok")
            if self.mute:
                continue
            for reply in self.answer(item):
                out += reply
        return bytes(out)

    def _bad_frame(self, err: FrameError) -> bytes:
        raw = err.received if isinstance(err.received, bytes) else b""
        if err.reason in ("version", "type", "payload", "flags") and len(raw) >= 5:
            type_code, seq = raw[1], raw[3] | raw[4] << 8
            if err.reason == "version" and type_code == MessageType.HELLO_REQ:
                return encode(self._hello(), seq)
            reason = {"version": NackReason.VERSION_MISMATCH,
                      "type": NackReason.UNKNOWN_MESSAGE}.get(err.reason, NackReason.BAD_FRAME)
            return self._nack(type_code, seq, reason)
        return b""  # noise: counted, not answered

    def _nack(self, type_code: int, seq: int, reason: NackReason, param: int = 0,
              rule: Rule = Rule.NONE) -> bytes:
        self._count("nacks_sent")
        return encode(Nack(type_code, reason, param, rule), seq)

    def _hello(self) -> Hello:
        return Hello(self.protocol_version,
                     Capability.TICK | Capability.STREAM | Capability.TELEMETRY
                     | Capability.EARLY_STOP | Capability.AUTH, 100, 1000,
                     self.auth.last_counter, bytes(32), "fakedevice", "PY-0001", "0.1")

    # -- request handling
    def answer(self, frame: Frame) -> list[bytes]:
        """The frames answering one decoded request."""
        t, seq, msg = frame.type, frame.seq, frame.message
        if t.requires_auth:
            reason = self.auth.check(frame)
            if reason is not None:
                self._count("auth_failures")
                return [self._nack(t, seq, reason)]
            return [self._therapy(t, seq, msg)]
        if t is MessageType.HELLO_REQ:
            return [encode(self._hello(), seq)]
        if t is MessageType.INTERROGATE:
            active = self.temp_mode if self.state is DeviceState.TEMPORARY else Mode(
                self.params[ParamId.MODE])
            return [encode(Interrogation(self.state, self.magnet, active, self.battery,
                                         self.time_us, tuple(sorted(self.params.items()))), seq)]
        if t is MessageType.TELEMETRY_REQ:
            c = self.counters
            return [encode(Telemetry(
                self.time_us, 2800 if self.battery is Battery.BOL else 2600, self.battery, 500,
                600, vp_count=c.get("vp", 0), vs_count=c.get("vs", 0),
                frames_ok=c.get("frames_ok", 0), frames_bad=c.get("frames_bad", 0),
                nacks_sent=c.get("nacks_sent", 0), auth_failures=c.get("auth_failures", 0)),
                seq)]
        if t in (MessageType.TICK, MessageType.STREAM):
            assert isinstance(msg, Tick)
            events = self._run_window(msg)
            if t is MessageType.STREAM:
                if not events.events:
                    return []
                self._dev_seq = (self._dev_seq + 1) & 0xFFFF
                return [encode(Events(self.time_us, 0, events.events, streamed=True),
                               self._dev_seq)]
            return [encode(events, seq)]
        return [self._nack(t, seq, NackReason.UNKNOWN_MESSAGE)]

    def _therapy(self, t: MessageType, seq: int, msg: Message) -> bytes:
        if isinstance(msg, Program):
            new = dict(self.params)
            for pid, value in msg.params:
                if pid > 41:
                    return self._nack(t, seq, NackReason.UNKNOWN_PARAMETER, pid)
                lo, hi = RANGES.get(pid, (-(2**31), 2**31 - 1))
                if not lo <= value <= hi:
                    return self._nack(t, seq, NackReason.PARAM_OUT_OF_RANGE, pid)
                new[pid] = value
            if new[ParamId.UPPER_RATE_PPM] < new[ParamId.LOWER_RATE_PPM]:
                return self._nack(t, seq, NackReason.CROSS_PARAM_RULE, ParamId.UPPER_RATE_PPM,
                                  Rule.URL_GE_LRL)
            self.params = new
        elif isinstance(msg, SetState):
            if msg.command is StateCommand.TEMPORARY:
                self.state, self.temp_mode = DeviceState.TEMPORARY, msg.mode
            elif msg.command is StateCommand.PERMANENT:
                self.state, self.temp_mode = DeviceState.PERMANENT, Mode.OFF
            elif msg.command is StateCommand.PACE_NOW:
                self.state = DeviceState.PACE_NOW
            elif msg.command is StateCommand.POWER_ON_RESET:
                self.state = DeviceState.POWER_ON_RESET
            else:
                self.magnet = msg.command is StateCommand.MAGNET_ON
        elif isinstance(msg, SetBattery):
            self.battery = msg.state
        elif isinstance(msg, Reset):
            self.time_us = 0
            self.last_v_us = 0
            if msg.kind is ResetKind.REBOOT:
                self.params = dict(NOMINAL)
                self.counters.clear()
        return encode(Ack(t), seq)

    def _run_window(self, w: Tick) -> Events:
        lri_us = 1000 * ((60000 + self.params[ParamId.LOWER_RATE_PPM] // 2)
                         // self.params[ParamId.LOWER_RATE_PPM])
        sens = self.params[ParamId.VENTRICULAR_SENSITIVITY_UV]
        events: list[Event] = []
        consumed = 0
        stopped = False
        for k, v in enumerate(w.ventricular_uv):
            t = w.t0_us + SAMPLE_PERIOD_US * k
            consumed = k + 1
            if abs(v) >= sens and t - self.last_v_us >= 1000 * self.params[ParamId.VRP_MS]:
                events.append(Event(t, WireChamber.V, WireKind.VS))
                self._count("vs")
                self.last_v_us = t
            elif t - self.last_v_us >= lri_us:
                events.append(Event(t, WireChamber.V, WireKind.VP, WirePaceFlag.NONE,
                                    self.params[ParamId.VENTRICULAR_AMPLITUDE_MV],
                                    self.params[ParamId.VENTRICULAR_PULSE_WIDTH_US]))
                self._count("vp")
                self.last_v_us = t
                if w.early_stop:
                    stopped = True
                    break
            if len(events) >= MAX_EVENTS:
                break
        self.time_us = w.t0_us + SAMPLE_PERIOD_US * consumed
        return Events(w.t0_us, consumed, tuple(events), stopped_at_pace=stopped)
