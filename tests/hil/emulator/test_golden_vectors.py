"""firmware_bridge's golden vectors sent to the running host firmware.

Each vector's wire bytes go to a fresh device. What the device must answer follows from the
vector's expected decoder outcome and docs/protocol.md: requests are answered by their reply type,
device-to-host types by NACK UNKNOWN_MESSAGE, undecodable frames (cobs, crc, length, oversize) by
nothing, header-valid errors by NACK with the protocol's reason; therapy commands need a verified
tag. Every rejected frame is counted in telemetry, the device never crashes, and therapy does not
change unless a verified command was accepted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.messages import HelloRequest, Interrogation, Nack, Telemetry
from firmware_bridge.protocol import Frame, FrameDecoder
from firmware_bridge.wire import MessageType, NackReason
from hil.emulator import start_device
from hil.emulator.probe import DEV_KEY, ProbeClient

GOLDEN = Path(__file__).resolve().parents[3] / "firmware_bridge" / "vectors" / "golden.json"
VECTORS: list[dict[str, Any]] = json.loads(GOLDEN.read_text())["vectors"]

REPLY = {"HELLO_REQ": {MessageType.HELLO}, "INTERROGATE": {MessageType.INTERROGATION},
         "TELEMETRY_REQ": {MessageType.TELEMETRY}, "TICK": {MessageType.EVENTS, MessageType.NACK},
         "STREAM": set()}
THERAPY = {"PROGRAM", "SET_STATE", "SET_BATTERY", "RESET"}
DEVICE_TO_HOST = {"HELLO", "ACK", "NACK", "INTERROGATION", "EVENTS", "TELEMETRY", "ERROR"}
UNDECODABLE = {"cobs", "crc", "length", "oversize"}
HEADER_ERROR_REASON = {"version": NackReason.VERSION_MISMATCH, "type": NackReason.UNKNOWN_MESSAGE,
                       "flags": NackReason.BAD_FRAME, "payload": NackReason.BAD_FRAME}
PARAM_REASONS = {NackReason.PARAM_OUT_OF_RANGE, NackReason.PARAM_NOT_APPLICABLE,
                 NackReason.CROSS_PARAM_RULE, NackReason.UNKNOWN_PARAMETER, NackReason.BUSY}


def _collect_until_hello(client: ProbeClient) -> list[Frame]:
    sentinel = client.send(HelloRequest())
    frames = []
    while True:
        f = client.receive()
        if f.type == MessageType.EVENTS and getattr(f.message, "streamed", False):
            continue
        if f.type == MessageType.HELLO and f.seq == sentinel:
            return frames
        frames.append(f)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_device_answers_golden_vector(vector: dict[str, Any]) -> None:
    with start_device("host") as dev, ProbeClient(dev.url, timeout_s=3.0) as client:
        before = client.interrogate()
        wire = bytes.fromhex(vector["wire"])
        client.send_raw(wire)
        errors = 0
        outcomes = list(vector["expect"])
        if not wire.endswith(b"\x00"):
            # An unterminated frame: our delimiter completes it; the Python codec says as what.
            client.send_raw(b"\x00")
            dec = FrameDecoder(key=DEV_KEY)
            frames = dec.feed(wire + b"\x00")
            if frames:
                f = frames[0]
                auth = None if f.auth is None else {"verified": f.auth.verified}
                outcomes.append({"ok": {"type": f.type.name, "auth": auth}})
            else:
                outcomes.append({"error": "crc"})
        replies = _collect_until_hello(client)
        therapy_accepted = False
        expected_replies: list[tuple[str, Any]] = []
        for outcome in outcomes:
            if "error" in outcome:
                cls = outcome["error"]
                errors += 1
                if cls in UNDECODABLE:
                    continue
                if cls == "version" and vector["name"].startswith("version_0_hello_req"):
                    expected_replies.append(("type", {MessageType.HELLO}))
                else:
                    expected_replies.append(("nack", {HEADER_ERROR_REASON[cls]}))
                continue
            ok = outcome["ok"]
            typ = ok["type"]
            if typ in REPLY:
                if REPLY[typ]:
                    expected_replies.append(("type", REPLY[typ]))
            elif typ in DEVICE_TO_HOST:
                expected_replies.append(("nack", {NackReason.UNKNOWN_MESSAGE}))
            elif typ in THERAPY:
                auth = ok["auth"]
                if auth is None or not auth["verified"]:
                    expected_replies.append(("nack", {NackReason.NOT_AUTHENTICATED}))
                else:
                    therapy_accepted = True
                    expected_replies.append(("therapy", None))
        assert len(replies) == len(expected_replies), (replies, expected_replies)
        for frame, (kind, allowed) in zip(replies, expected_replies, strict=True):
            if kind == "type":
                assert frame.type in allowed, frame
            elif kind == "nack":
                assert isinstance(frame.message, Nack), frame
                assert frame.message.reason in allowed, frame
            else:
                assert frame.type == MessageType.ACK or (
                    isinstance(frame.message, Nack) and frame.message.reason in PARAM_REASONS
                ), frame
        dev.check()
        telemetry = client.telemetry()
        assert isinstance(telemetry, Telemetry)
        assert telemetry.frames_bad == errors
        rejected_auth = sum(1 for kind, allowed in expected_replies if kind == "nack"
                            and allowed == {NackReason.NOT_AUTHENTICATED})
        assert telemetry.auth_failures == rejected_auth
        if not therapy_accepted:
            after = client.interrogate()
            assert isinstance(after, Interrogation)
            assert after.params == before.params
            assert after.state == before.state and after.magnet == before.magnet
