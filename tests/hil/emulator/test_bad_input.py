"""Bad input: malformed frames, out-of-range programming, unauthenticated therapy commands.

Each is rejected with the protocol's reason code (docs/protocol.md 3.6), counted in telemetry, and
changes nothing: afterwards the device still paces nominal DDD (AP at 850 ms, VP at 1000 ms: VA =
LRI 1000 - AV 150) and interrogates as before.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toolchain import QEMU_TOOLS

from firmware_bridge import framing, protocol
from firmware_bridge.messages import Ack, Hello, HelloRequest, Nack, Program, SetState
from firmware_bridge.wire import NackReason, ParamId, Rule, StateCommand, WireKind
from hil.emulator import EmulatedDevice, start_device
from hil.emulator.probe import ProbeClient

OTHER_KEY = bytes(range(100, 132))


def targets() -> list[object]:
    qemu = [pytest.mark.qemu, pytest.mark.needs_tools(*QEMU_TOOLS)]
    return ["host", pytest.param("qemu", marks=qemu)]


def _nack(reply: Ack | Nack) -> Nack:
    assert isinstance(reply, Nack), reply
    return reply


@pytest.mark.parametrize("target", targets())
def test_bad_input_is_rejected_counted_and_harmless(target: str) -> None:
    with start_device(target) as dev, ProbeClient(dev.url, timeout_s=5.0) as c:
        c.hello()
        before = c.interrogate()

        # Malformed frames: garbage, a flipped CRC bit, a truncated frame. No answer, counted.
        c.send_raw(b"\x13\x37\xff\xfe\x00")
        raw = bytearray(protocol.encode_raw(Program(((int(ParamId.LOWER_RATE_PPM), 70),)), 1,
                                            key=bytes(range(32)), counter=1000))
        raw[-1] ^= 0x01  # one bit of the CRC
        c.send_raw(framing.cobs_encode(bytes(raw)) + b"\x00")
        c.send_raw(b"\x05\x01\x30\x00\x00")

        # Out of range: LRL 33 ppm is off the 30-50 / step 5 grid.
        n = _nack(c.program({"lower_rate_ppm": 33}))
        assert (n.reason, n.param_id) == (NackReason.PARAM_OUT_OF_RANGE, ParamId.LOWER_RATE_PPM)
        # Cross rule 4: fixed AV 150 + PVARP 400 = 550 > URI 500.
        n = _nack(c.program({"pvarp_ms": 400}))
        assert (n.reason, n.rule) == (NackReason.CROSS_PARAM_RULE, Rule.TARP_LE_URI)
        # Reserved parameter id.
        n = _nack(c.command(Program(((42, 1),))))
        assert (n.reason, n.param_id) == (NackReason.UNKNOWN_PARAMETER, 42)
        # Temporary-only mode as permanent (OOO).
        n = _nack(c.program({"mode": 22}))
        assert (n.reason, n.param_id) == (NackReason.PARAM_OUT_OF_RANGE, ParamId.MODE)

        # Unauthenticated therapy commands.
        n = _nack(c.command(Program(((int(ParamId.LOWER_RATE_PPM), 70),)), auth=False))
        assert n.reason == NackReason.NOT_AUTHENTICATED
        n = _nack(c.command(SetState(StateCommand.MAGNET_ON), auth=False))
        assert n.reason == NackReason.NOT_AUTHENTICATED
        # Wrong key.
        seq = 0x4242
        c.send_raw(protocol.encode(Program(((int(ParamId.LOWER_RATE_PPM), 70),)), seq,
                                   key=OTHER_KEY, counter=5000))
        f = c.receive()
        assert isinstance(f.message, Nack) and f.message.reason == NackReason.NOT_AUTHENTICATED
        # Replayed counter: the device already accepted higher counters above.
        c.send_raw(protocol.encode(Program(((int(ParamId.LOWER_RATE_PPM), 70),)), seq + 1,
                                   key=bytes(range(32)), counter=1))
        f = c.receive()
        assert isinstance(f.message, Nack) and f.message.reason == NackReason.BAD_COUNTER

        tel = c.telemetry()
        assert tel.frames_bad == 3
        assert tel.auth_failures == 4
        assert tel.nacks_sent == 8
        after = c.interrogate()
        assert after.params == before.params
        assert (after.state, after.magnet, after.active_mode) == (
            before.state, before.magnet, before.active_mode)

        # Therapy unchanged: nominal DDD from session start.
        c.reset_session()
        run = c.run([0] * 2001, [0] * 2001)
        assert [(e.t_us, e.kind) for e in run.events] == [
            (850_000, WireKind.AP), (1_000_000, WireKind.VP),
            (1_850_000, WireKind.AP), (2_000_000, WireKind.VP)]
        dev.check()


@pytest.fixture(scope="module")
def host_client() -> Iterator[tuple[EmulatedDevice, ProbeClient]]:
    with start_device("host") as dev, ProbeClient(dev.url, timeout_s=5.0) as c:
        c.hello()
        yield dev, c


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(min_size=1, max_size=1500))
def test_random_bytes_never_crash_or_change_therapy(
        host_client: tuple[EmulatedDevice, ProbeClient], garbage: bytes) -> None:
    dev, c = host_client
    before = c.interrogate()
    c.send_raw(garbage + b"\x00")
    # Whatever the garbage provoked (NACKs for frames with a readable header), HELLO still works.
    hello_seq = c.send(HelloRequest())
    while True:
        frame = c.receive()
        if frame.seq == hello_seq and isinstance(frame.message, Hello):
            break
        assert isinstance(frame.message, Nack), frame
    after = c.interrogate()
    assert (after.params, after.state, after.magnet) == (before.params, before.state,
                                                         before.magnet)
    dev.check()
