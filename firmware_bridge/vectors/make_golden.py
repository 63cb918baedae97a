"""Write ``golden.json``: frames (valid and invalid) that the Python and C codecs must agree on.

Run ``python -m firmware_bridge.vectors.make_golden`` after a protocol addition and commit the
result. Valid vectors are built from messages; invalid ones by hand-made byte edits whose
rejection class is written here next to the edit (not taken from a decoder). The tests decode every
vector with both codecs and check the message fields, the error class, and re-encoding.
"""

from __future__ import annotations

import json
import struct
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from firmware_bridge import framing, protocol
from firmware_bridge.messages import (
    Ack,
    DeviceError,
    Event,
    Events,
    Hello,
    HelloRequest,
    Interrogate,
    Interrogation,
    Message,
    Nack,
    Program,
    Reset,
    SetBattery,
    SetState,
    Stream,
    Telemetry,
    TelemetryRequest,
    Tick,
)
from firmware_bridge.wire import (
    Battery,
    Capability,
    DeviceState,
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

GOLDEN = Path(__file__).with_name("golden.json")
DEV_KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))


def to_json(value: Any) -> Any:
    """A JSON-friendly form of a message field (enums as ints, bytes as hex, tuples as lists)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    return value


def _seal(raw_without_crc: bytes) -> bytes:
    """COBS(raw + CRC) + delimiter: a frame whose only defect is the one made by hand."""
    raw = raw_without_crc + struct.pack("<I", framing.py_crc32c(raw_without_crc))
    return framing.py_cobs_encode(raw) + b"\x00"


def _valid_messages() -> list[tuple[str, Message, int, int | None]]:
    """(name, message, seq, auth counter or None)."""
    all_params = tuple((int(p), 10 * int(p) - 200) for p in ParamId)
    hello = Hello(1, Capability.TICK | Capability.STREAM | Capability.AUTH | Capability.EARLY_STOP,
                  100, 1000, 41, bytes(range(32)), "devicetwin-ref", "SN-0001", "1.0.0+g1a2b3c")
    ramp = tuple(range(-50, 50))
    extremes = (32767, -32768, 32767, 0, 0, 0, -32768, -32768, 1, -1)
    events = tuple(
        Event(2**33 + 1000 * i, WireChamber(i % 3), WireKind(1 + i % 13),
              WirePaceFlag(i % 256), 2500 + i, 400 + i)
        for i in range(48))
    return [
        ("hello_req", HelloRequest(), 1, None),
        ("hello", hello, 1, None),
        ("hello_long_strings", Hello(1, Capability.NONE, 0, 0, 0xFFFFFFFF, bytes(32), "M" * 32,
                                     "~" * 32, " " * 32), 2, None),
        ("program_two", Program(((int(ParamId.MODE), int(Mode.DDD)),
                                 (int(ParamId.LOWER_RATE_PPM), 60))), 3, 1),
        ("program_all", Program(all_params), 4, 0xFFFFFFFE),
        ("program_negative", Program(((int(ParamId.SENSED_AV_OFFSET_MS), -100),
                                      (44, -(2**31)), (43, 2**31 - 1))), 5, 7),
        ("set_state_temporary", SetState(StateCommand.TEMPORARY, Mode.OOO), 6, 8),
        ("set_state_magnet", SetState(StateCommand.MAGNET_ON), 0xFFFF, 9),
        ("set_battery_ert", SetBattery(Battery.ERT), 7, 10),
        ("reset_reboot", Reset(ResetKind.REBOOT), 8, 11),
        ("ack", Ack(0x10), 3, None),
        ("nack_rule", Nack(0x10, NackReason.CROSS_PARAM_RULE, int(ParamId.UPPER_RATE_PPM),
                           Rule.URL_GE_LRL), 4, None),
        ("nack_counter", Nack(0x11, NackReason.BAD_COUNTER), 5, None),
        ("interrogate", Interrogate(), 9, None),
        ("interrogation", Interrogation(DeviceState.TEMPORARY, True, Mode.VVIR, Battery.ERN,
                                        2**32 + 5, all_params), 9, None),
        ("interrogation_empty", Interrogation(DeviceState.PERMANENT, False, Mode.OFF,
                                              Battery.BOL, 0, ()), 10, None),
        ("tick_quiet_10ms", Tick(0, (0,) * 10, (0,) * 10, (0,) * 10), 11, None),
        ("tick_past_2_32_us", Tick(2**32 + 123_000, (5,) * 10, (0, 0, 1, 1, 0, -1, -1, 0, 0, 0),
                                   (20,) * 10, early_stop=False), 12, None),
        ("tick_100_ramp", Tick(10**12, ramp, tuple(reversed(ramp)), (0,) * 100), 13, None),
        ("tick_extremes", Tick(2**64 - 1, extremes, extremes[::-1], (-1,) * 10), 14, None),
        ("tick_single", Tick(7000, (1,), (-1,), (0,)), 15, None),
        ("stream", Stream(55_000, (3, 3, 3), (0, 100, 0), (9, 9, 9)), 16, None),
        ("events_empty", Events(2**32, 10), 11, None),
        ("events_pace", Events(1_000_000, 4, (
            Event(1_003_000, WireChamber.V, WireKind.VP, WirePaceFlag.SAFETY, 3500, 400),),
            stopped_at_pace=True), 12, None),
        ("events_48", Events(2**33, 100, events), 13, None),
        ("events_streamed", Events(77, 0, (Event(70, WireChamber.X, WireKind.ATR_FB),),
                                   streamed=True), 0, None),
        ("telemetry_req", TelemetryRequest(), 17, None),
        ("telemetry", Telemetry(2**40, 2800, Battery.BOL, 510, 650, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                10, 0xFFFFFFFF), 17, None),
        ("error", DeviceError(2, 0xDEADBEEF, "HardFault at pc=0x08000123"), 0, None),
    ]


def _invalid(valid_wire: dict[str, bytes]) -> list[tuple[str, bytes, list[str]]]:
    """(name, wire bytes, expected outcomes in order: an error class or 'ok:<valid name>')."""
    h = struct.Struct("<BBBH")
    raw_tick = protocol.encode_raw(Tick(0, (0,) * 10, (0,) * 10, (0,) * 10), 11)
    body = raw_tick[:-4]
    out: list[tuple[str, bytes, list[str]]] = []
    # CRC: flip one bit of the payload, keep the CRC
    flipped = bytearray(raw_tick)
    flipped[6] ^= 0x01
    out.append(("crc_bitflip", framing.py_cobs_encode(bytes(flipped)) + b"\x00", ["crc"]))
    out.append(("crc_zeroed", framing.py_cobs_encode(body + b"\x01\x01\x01\x01") + b"\x00",
                ["crc"]))
    out.append(("too_short", framing.py_cobs_encode(b"\x01\x01\x00\x01\x00\x00\x00") + b"\x00",
                ["length"]))
    out.append(("one_byte", b"\x02\x07\x00", ["length"]))
    out.append(("cobs_code_past_end", b"\x09\x01\x02\x00", ["cobs"]))
    out.append(("oversize_no_delimiter", b"\x41" * 1100 + b"\x00", ["oversize"]))
    out.append(("version_2", _seal(h.pack(2, 0x30, 0, 1)), ["version"]))
    out.append(("version_0_hello_req", _seal(h.pack(0, 0x01, 0, 1)), ["version"]))
    out.append(("unknown_type", _seal(h.pack(1, 0x77, 0, 1)), ["type"]))
    out.append(("reserved_flag", _seal(h.pack(1, 0x30, 0x02, 1)), ["flags"]))
    out.append(("auth_flag_on_tick", _seal(h.pack(1, 0x40, 0x01, 1) + body[5:] + bytes(20)),
                ["flags"]))
    out.append(("trailing_byte", _seal(body + b"\x00"), ["payload"]))
    out.append(("interrogate_with_payload", _seal(h.pack(1, 0x30, 0, 1) + b"\x00"), ["payload"]))
    window = struct.pack("<QHB", 0, 10, 0)
    out.append(("zero_delta_token", _seal(h.pack(1, 0x40, 0, 1) + window + b"\x00" * 3 +
                                          b"\x13\x13\x13"), ["payload"]))
    out.append(("two_runs_in_a_row", _seal(h.pack(1, 0x40, 0, 1) + window + b"\x09\x09" +
                                           b"\x13\x13"), ["payload"]))
    out.append(("non_minimal_varint", _seal(h.pack(1, 0x40, 0, 1) + window + b"\x93\x00" +
                                            b"\x13\x13"), ["payload"]))
    out.append(("run_past_window", _seal(h.pack(1, 0x40, 0, 1) + window + b"\x15\x13\x13"),
                ["payload"]))
    # delta +65534 from 0 leaves int16 (zigzag 131068, token 262136 = f8 ff 0f)
    out.append(("sample_overflow", _seal(h.pack(1, 0x40, 0, 1) + struct.pack("<QHB", 0, 1, 0) +
                                         b"\xf8\xff\x0f\x01\x01"), ["payload"]))
    out.append(("four_byte_varint", _seal(h.pack(1, 0x40, 0, 1) + struct.pack("<QHB", 0, 1, 0) +
                                          b"\x82\x80\x80\x00\x01\x01"), ["payload"]))
    out.append(("window_101_samples", _seal(h.pack(1, 0x40, 0, 1) + struct.pack("<QHB", 0, 101, 0)
                                            + b"\xc9\x01" * 3), ["payload"]))
    out.append(("window_0_samples", _seal(h.pack(1, 0x40, 0, 1) + struct.pack("<QHB", 0, 0, 0)),
                ["payload"]))
    out.append(("window_bad_flags", _seal(h.pack(1, 0x40, 0, 1) + struct.pack("<QHB", 0, 1, 2) +
                                          b"\x01\x01\x01"), ["payload"]))
    ev = struct.Struct("<QBBBHH")
    evh = h.pack(1, 0x41, 0, 1)
    out.append(("events_out_of_order", _seal(evh + struct.pack("<QHBB", 0, 1, 0, 2)
                                             + ev.pack(5, 0, 1, 0, 0, 0)
                                             + ev.pack(4, 0, 1, 0, 0, 0)), ["payload"]))
    out.append(("events_unknown_kind", _seal(evh + struct.pack("<QHBB", 0, 1, 0, 1)
                                             + ev.pack(5, 0, 14, 0, 0, 0)), ["payload"]))
    out.append(("events_unknown_chamber", _seal(h.pack(1, 0x41, 0, 1) +
                                                struct.pack("<QHBB", 0, 1, 0, 1) +
                                                ev.pack(5, 3, 1, 0, 0, 0)), ["payload"]))
    out.append(("events_count_short", _seal(h.pack(1, 0x41, 0, 1) + struct.pack("<QHBB", 0, 1, 0, 2)
                                            + ev.pack(5, 0, 1, 0, 0, 0)), ["payload"]))
    out.append(("events_49", _seal(h.pack(1, 0x41, 0, 1) + struct.pack("<QHBB", 0, 1, 0, 49)
                                   + ev.pack(5, 0, 1, 0, 0, 0) * 49), ["payload"]))
    out.append(("events_consumed_101", _seal(h.pack(1, 0x41, 0, 1) +
                                             struct.pack("<QHBB", 0, 101, 0, 0)), ["payload"]))
    out.append(("nack_reason_0", _seal(h.pack(1, 0x21, 0, 1) + bytes([0x10, 0, 0, 0])),
                ["payload"]))
    out.append(("nack_rule_10", _seal(h.pack(1, 0x21, 0, 1) + bytes([0x10, 8, 1, 10])),
                ["payload"]))
    out.append(("hello_string_control_char", _seal(h.pack(1, 0x02, 0, 1) +
                                                   struct.pack("<BIHHI32s", 1, 0, 10, 1000, 0,
                                                               bytes(32)) +
                                                   b"\x02a\x07\x00\x00"), ["payload"]))
    out.append(("hello_string_33", _seal(h.pack(1, 0x02, 0, 1) +
                                         struct.pack("<BIHHI32s", 1, 0, 10, 1000, 0, bytes(32)) +
                                         b"\x21" + b"a" * 33 + b"\x00\x00"), ["payload"]))
    out.append(("telemetry_short", _seal(h.pack(1, 0x51, 0, 1) + bytes(58)), ["payload"]))
    out.append(("telemetry_bad_battery", _seal(h.pack(1, 0x51, 0, 1) + bytes(10) + b"\x03" +
                                               bytes(48)), ["payload"]))
    p = struct.Struct("<Bi")
    trailer = bytes(20)
    out.append(("program_param_0", _seal(h.pack(1, 0x10, 1, 1) + b"\x01" + p.pack(0, 5) + trailer),
                ["payload"]))
    out.append(("program_param_45", _seal(h.pack(1, 0x10, 1, 1) + b"\x01" + p.pack(45, 5) +
                                          trailer), ["payload"]))
    out.append(("program_duplicate", _seal(h.pack(1, 0x10, 1, 1) + b"\x02" + p.pack(2, 60) +
                                           p.pack(2, 70) + trailer), ["payload"]))
    out.append(("program_empty", _seal(h.pack(1, 0x10, 1, 1) + b"\x00" + trailer), ["payload"]))
    out.append(("set_state_mode_without_temporary", _seal(h.pack(1, 0x11, 1, 1) + b"\x00\x04" +
                                                          trailer), ["payload"]))
    out.append(("set_state_command_6", _seal(h.pack(1, 0x11, 1, 1) + b"\x06\x00" + trailer),
                ["payload"]))
    out.append(("set_state_mode_23", _seal(h.pack(1, 0x11, 1, 1) + b"\x01\x17" + trailer),
                ["payload"]))
    out.append(("auth_truncated_tag", _seal(h.pack(1, 0x13, 1, 1) + b"\x00" + bytes(12)),
                ["payload"]))
    # garbage, then two valid frames: the decoder resynchronises at the delimiter
    out.append(("garbage_then_frames", b"\x13\x37\xff\xfe\x00" + valid_wire["ack"] +
                valid_wire["interrogate"], ["cobs", "ok:ack", "ok:interrogate"]))
    out.append(("noise_then_frame", b"\x0b\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x00" +
                valid_wire["hello_req"], ["crc", "ok:hello_req"]))
    out.append(("empty_frames_ignored", b"\x00\x00" + valid_wire["ack"] + b"\x00",
                ["ok:ack"]))
    out.append(("oversize_then_frame", b"\x41" * 1100 + b"\x00" + valid_wire["ack"],
                ["oversize", "ok:ack"]))
    out.append(("partial_frame_no_delimiter", valid_wire["hello"][:-1], []))
    return out


def build() -> dict[str, Any]:
    """The golden document."""
    vectors: list[dict[str, Any]] = []
    valid_wire: dict[str, bytes] = {}
    for name, msg, seq, counter in _valid_messages():
        key = DEV_KEY if counter is not None else None
        wire = protocol.encode(msg, seq, key=key, counter=counter)
        valid_wire[name] = wire
        vectors.append({
            "name": name, "valid": True, "wire": wire.hex(),
            "expect": [{"ok": {"type": msg.TYPE.name, "seq": seq,
                               "auth": None if counter is None else
                               {"counter": counter, "verified": True},
                               "message": to_json(msg)}}],
        })
    # an authenticated command under another key: decodes, but does not verify
    wrong = protocol.encode(Reset(ResetKind.SESSION), 20, key=OTHER_KEY, counter=99)
    vectors.append({"name": "reset_wrong_key", "valid": True, "wire": wrong.hex(), "expect": [
        {"ok": {"type": "RESET", "seq": 20, "auth": {"counter": 99, "verified": False},
                "message": to_json(Reset(ResetKind.SESSION))}}]})
    # a therapy command without the trailer: decodes (the device answers NOT_AUTHENTICATED)
    bare = protocol.encode(SetBattery(Battery.BOL), 21)
    vectors.append({"name": "set_battery_unauthenticated", "valid": True, "wire": bare.hex(),
                    "expect": [
        {"ok": {"type": "SET_BATTERY", "seq": 21, "auth": None,
                "message": to_json(SetBattery(Battery.BOL))}}]})
    by_name = {v["name"]: v for v in vectors}
    for name, wire, outcomes in _invalid(valid_wire):
        expect: list[dict[str, Any]] = []
        for o in outcomes:
            if o.startswith("ok:"):
                expect.append(by_name[o[3:]]["expect"][0])
            else:
                expect.append({"error": o})
        vectors.append({"name": name, "valid": False, "wire": wire.hex(), "expect": expect})
    return {
        "protocol_version": 1,
        "key_hex": DEV_KEY.hex(),
        "note": ("wire = bytes on the link; expect = outcomes in order (a frame or an error "
                 "class); valid = the wire is exactly one well-formed frame"),
        "vectors": vectors,
    }


def main() -> None:
    """Write golden.json."""
    GOLDEN.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
