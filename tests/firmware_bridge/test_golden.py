"""Golden vectors: the Python and the C codec decode every frame of ``golden.json`` alike.

``flatten`` writes a message's fields as integers in wire-layout order straight from the JSON
description, independently of both codecs; the C tool prints the same list from its structs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge import protocol
from firmware_bridge.errors import FrameError
from firmware_bridge.messages import MESSAGE_CLASSES, Event, Message
from firmware_bridge.wire import MessageType

GOLDEN = Path(__file__).resolve().parents[2] / "firmware_bridge" / "vectors" / "golden.json"
C_STATUS = {-1: "cobs", -2: "length", -3: "oversize", -4: "crc", -5: "version", -6: "type",
            -7: "payload", -8: "flags"}


def load() -> dict[str, Any]:
    """The golden document."""
    doc: dict[str, Any] = json.loads(GOLDEN.read_text())
    return doc


def message_from_json(type_name: str, fields: dict[str, Any]) -> Message:
    """Rebuild a message from its JSON description."""
    t = MessageType[type_name]
    kw: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "firmware_hash":
            kw[name] = bytes.fromhex(value)
        elif name == "params":
            kw[name] = tuple((int(a), int(b)) for a, b in value)
        elif name == "events":
            kw[name] = tuple(Event(**e) for e in value)
        elif isinstance(value, list):
            kw[name] = tuple(value)
        else:
            kw[name] = value
    msg: Message = MESSAGE_CLASSES[t](**kw)
    return msg


def _text(s: str) -> list[int]:
    return [len(s), *(ord(c) for c in s)]


def _params(params: list[list[int]]) -> list[int]:
    out = [len(params)]
    for pid, value in params:
        out += [pid, value]
    return out


def flatten(frame: dict[str, Any]) -> list[int]:
    """Header, auth and body fields of a JSON frame description as the C tool prints them."""
    t = MessageType[frame["type"]]
    auth = frame["auth"]
    out = [1, int(t), 1 if auth else 0, frame["seq"]]
    out += [1, int(auth["verified"]), auth["counter"]] if auth else [0]
    m = frame["message"]
    if t is MessageType.HELLO:
        out += [m["protocol_version"], m["capabilities"], m["max_window_samples"],
                m["sample_rate_hz"], m["auth_counter"], *bytes.fromhex(m["firmware_hash"])]
        out += _text(m["model"]) + _text(m["serial"]) + _text(m["firmware_version"])
    elif t is MessageType.PROGRAM:
        out += _params(m["params"])
    elif t is MessageType.SET_STATE:
        out += [m["command"], m["mode"]]
    elif t is MessageType.SET_BATTERY:
        out += [m["state"]]
    elif t is MessageType.RESET:
        out += [m["kind"]]
    elif t is MessageType.ACK:
        out += [m["acked_type"]]
    elif t is MessageType.NACK:
        out += [m["acked_type"], m["reason"], m["param_id"], m["rule"]]
    elif t is MessageType.INTERROGATION:
        out += [m["state"], int(m["magnet"]), m["active_mode"], m["battery"], m["time_us"]]
        out += _params(m["params"])
    elif t in (MessageType.TICK, MessageType.STREAM):
        out += [m["t0_us"], len(m["atrial_uv"]), int(m["early_stop"])]
        out += m["atrial_uv"] + m["ventricular_uv"] + m["activity_mg"]
    elif t is MessageType.EVENTS:
        flags = int(m["stopped_at_pace"]) | 2 * int(m["streamed"])
        out += [m["t0_us"], m["consumed"], flags, len(m["events"])]
        for e in m["events"]:
            out += [e["t_us"], e["chamber"], e["kind"], e["flags"], e["amplitude_mv"],
                    e["width_us"]]
    elif t is MessageType.TELEMETRY:
        out += [m[k] for k in ("time_us", "battery_mv", "battery_state", "atrial_impedance_ohm",
                               "ventricular_impedance_ohm", "ap_count", "as_count", "ar_count",
                               "vp_count", "vs_count", "vr_count", "pvc_count", "frames_ok",
                               "frames_bad", "nacks_sent", "auth_failures")]
    elif t is MessageType.ERROR:
        out += [m["code"], m["detail"], *_text(m["text"])]
    return out




@pytest.fixture(params=["compiled", "pure"])
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the compiled codec and with the pure-Python reference."""
    from firmware_bridge import framing

    if request.param == "compiled" and not framing.HAVE_FAST:
        pytest.skip("the compiled codec is not built (make build)")
    if request.param == "pure":
        for name in ("crc32c", "cobs_encode", "cobs_decode", "samples_encode", "samples_decode",
                     "samples_check", "window_decode"):
            monkeypatch.setattr(framing, name, getattr(framing, "py_" + name))
        monkeypatch.setattr(protocol, "_window_frame_encode", None)
        monkeypatch.setattr(protocol, "_window_frame_decode", None)
        monkeypatch.setattr(protocol, "_events_frame_decode", None)
    return str(request.param)


DOC = load()
KEY = bytes.fromhex(DOC["key_hex"])
VECTORS = DOC["vectors"]
IDS = [v["name"] for v in VECTORS]


def test_vectors_cover_every_type_and_error_class() -> None:
    kinds = {o["ok"]["type"] for v in VECTORS for o in v["expect"] if "ok" in o}
    errors = {o["error"] for v in VECTORS for o in v["expect"] if "error" in o}
    assert kinds == {t.name for t in MessageType}
    assert errors == set(C_STATUS.values())


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_python_decodes_golden(vector: dict[str, Any], impl: str) -> None:
    wire = bytes.fromhex(vector["wire"])
    dec = protocol.FrameDecoder(KEY)
    outcomes = dec.feed_all(wire)
    assert len(outcomes) == len(vector["expect"])
    for got, want in zip(outcomes, vector["expect"], strict=True):
        if "error" in want:
            assert isinstance(got, FrameError), got
            assert got.reason == want["error"]
            continue
        assert isinstance(got, protocol.Frame), got
        frame = want["ok"]
        assert got.type is MessageType[frame["type"]]
        assert got.seq == frame["seq"]
        assert got.message == message_from_json(frame["type"], frame["message"])
        if frame["auth"] is None:
            assert got.auth is None
        else:
            assert got.auth is not None
            assert (got.auth.counter, got.auth.verified) == (frame["auth"]["counter"],
                                                             frame["auth"]["verified"])
    n_bad = sum("error" in o for o in vector["expect"])
    assert dec.stats.frames_bad == n_bad
    assert dec.stats.frames_in == len(vector["expect"]) - n_bad


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["valid"]
                                    and (v["expect"][0]["ok"]["auth"] or {"verified": True})[
                                        "verified"]],
                         ids=lambda v: v["name"])
def test_python_encodes_golden(vector: dict[str, Any], impl: str) -> None:
    frame = vector["expect"][0]["ok"]
    msg = message_from_json(frame["type"], frame["message"])
    auth = frame["auth"]
    wire = protocol.encode(msg, frame["seq"], key=KEY if auth else None,
                           counter=auth["counter"] if auth else None)
    assert wire.hex() == vector["wire"]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_c_decodes_and_reencodes_golden(vector: dict[str, Any], ctool: Any) -> None:
    lines = ctool.ask(f"frame {vector['wire'] or '-'}", until="STATS")
    results, stats = lines[:-1], lines[-1].split()
    assert len(results) == len(vector["expect"]), lines
    for line, want in zip(results, vector["expect"], strict=True):
        if "error" in want:
            assert line.startswith("ERR "), line
            assert C_STATUS[int(line.split()[1])] == want["error"]
            continue
        assert line.startswith("OK "), line
        ints, reencoded = line[3:].split(" | ")
        assert [int(x) for x in ints.split()] == flatten(want["ok"])
        auth = want["ok"]["auth"]
        if auth is None or auth["verified"]:
            # re-encoding the decoded struct gives back the frame's own bytes
            expected_wire = vector["wire"] if vector["valid"] else protocol.encode(
                message_from_json(want["ok"]["type"], want["ok"]["message"]),
                want["ok"]["seq"]).hex()
            assert reencoded == expected_wire
        else:
            assert reencoded == "-"
    n_bad = sum("error" in o for o in vector["expect"])
    assert int(stats[1]) == len(vector["expect"]) - n_bad
    assert int(stats[2]) == n_bad
    assert int(stats[6]) == len(vector["wire"]) // 2
