"""Both codecs under random input: valid messages round-trip; garbage, truncations, bit flips
and oversize frames never crash, never yield a message, and are counted. The Python and C stream
decoders classify every byte string the same way (a differential test)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge import framing, protocol
from firmware_bridge.errors import FrameError
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
    MAX_ENCODED,
    Battery,
    Capability,
    DeviceState,
    Mode,
    NackReason,
    ResetKind,
    Rule,
    StateCommand,
    WireChamber,
    WireKind,
)

KEY = bytes(range(32))
C_STATUS = {-1: "cobs", -2: "length", -3: "oversize", -4: "crc", -5: "version", -6: "type",
            -7: "payload", -8: "flags"}

u8 = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
u64 = st.integers(0, 2**64 - 1)
text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=32)
params = st.lists(st.tuples(st.integers(1, 44), st.integers(-(2**31), 2**31 - 1)),
                  min_size=1, max_size=44, unique_by=lambda p: p[0]).map(tuple)
sample = st.one_of(st.integers(-32768, 32767), st.integers(-3, 3))


@st.composite
def windows(draw: st.DrawFn, cls: type[Tick]) -> Tick:
    n = draw(st.integers(1, 100))
    chans = [tuple(draw(st.lists(sample, min_size=n, max_size=n))) for _ in range(3)]
    return cls(draw(u64), chans[0], chans[1], chans[2], draw(st.booleans()))


events = st.builds(Event, u64, st.sampled_from(WireChamber), st.sampled_from(WireKind), u8, u16,
                   u16)


@st.composite
def events_msgs(draw: st.DrawFn) -> Events:
    evs = sorted(draw(st.lists(events, max_size=48)), key=lambda e: e.t_us)
    return Events(draw(u64), draw(st.integers(0, 100)), tuple(evs), draw(st.booleans()),
                  draw(st.booleans()))


messages: st.SearchStrategy[Message] = st.one_of(
    st.just(HelloRequest()), st.just(Interrogate()), st.just(TelemetryRequest()),
    st.builds(Hello, u8, st.integers(0, 0x7F).map(Capability), st.integers(0, 100), u16, u32,
              st.binary(min_size=32, max_size=32), text, text, text),
    st.builds(Program, params),
    st.builds(lambda m: SetState(StateCommand.TEMPORARY, m), st.sampled_from(Mode)),
    st.builds(SetState, st.sampled_from([c for c in StateCommand
                                         if c is not StateCommand.TEMPORARY])),
    st.builds(SetBattery, st.sampled_from(Battery)),
    st.builds(Reset, st.sampled_from(ResetKind)),
    st.builds(Ack, u8),
    st.builds(Nack, u8, st.sampled_from(NackReason), st.integers(0, 44), st.sampled_from(Rule)),
    st.builds(Interrogation, st.sampled_from(DeviceState), st.booleans(), st.sampled_from(Mode),
              st.sampled_from(Battery), u64,
              st.one_of(st.just(()), params)),
    windows(Tick), windows(Stream), events_msgs(),
    st.builds(Telemetry, u64, u16, st.sampled_from(Battery), u16, u16, u32, u32, u32, u32, u32,
              u32, u32, u32, u32, u32, u32),
    st.builds(DeviceError, u8, u32, st.text(st.characters(min_codepoint=0x20,
                                                          max_codepoint=0x7E), max_size=64)),
)


def _wire(msg: Message, seq: int, counter: int) -> bytes:
    if msg.TYPE.requires_auth:
        return protocol.encode(msg, seq, key=KEY, counter=counter)
    return protocol.encode(msg, seq)


def _c_outcomes(ctool: Any, wire: bytes) -> tuple[list[str], list[str]]:
    lines = ctool.ask(f"frame {wire.hex() or '-'}", until="STATS")
    out = []
    for line in lines[:-1]:
        out.append(C_STATUS[int(line.split()[1])] if line.startswith("ERR") else "ok")
    return out, lines


def _py_outcomes(wire: bytes) -> tuple[list[str], protocol.FrameDecoder]:
    dec = protocol.FrameDecoder(KEY)
    res = dec.feed_all(wire)
    return [r.reason if isinstance(r, FrameError) else "ok" for r in res], dec


@given(messages, u16, u32)
def test_round_trip_python_and_c(ctool: Any, msg: Message, seq: int, counter: int) -> None:
    wire = _wire(msg, seq, counter)
    assert wire.endswith(b"\x00") and 0 not in wire[:-1]
    frame = protocol.decode(wire, KEY)
    assert frame.message == msg and frame.seq == seq and frame.type is msg.TYPE
    if msg.TYPE.requires_auth:
        assert frame.auth is not None and frame.auth.verified and frame.auth.counter == counter
    lines = ctool.ask(f"frame {wire.hex()}", until="STATS")
    assert lines[0].startswith("OK ") and lines[0].endswith(" | " + wire.hex())


@given(st.binary(max_size=2000))
def test_random_bytes_python_and_c_agree(ctool: Any, data: bytes) -> None:
    py, dec = _py_outcomes(data)
    c, _ = _c_outcomes(ctool, data)
    assert py == c
    # a random string essentially never forms a frame with a valid CRC-32C
    assert dec.stats.frames_bad == sum(o != "ok" for o in py)


@st.composite
def damaged(draw: st.DrawFn) -> tuple[bytes, bytes]:
    msg = draw(messages)
    wire = _wire(msg, draw(u16), draw(u32))
    how = draw(st.sampled_from(["truncate", "flip", "insert", "oversize"]))
    body = bytearray(wire[:-1])
    if how == "truncate":
        cut = draw(st.integers(0, max(0, len(body) - 1)))
        body = body[:cut]
    elif how == "flip":
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(body) - 1))
            body[i] ^= 1 << draw(st.integers(0, 7))
    elif how == "insert":
        i = draw(st.integers(0, len(body)))
        body[i:i] = draw(st.binary(min_size=1, max_size=8))
    else:
        body += bytes([0x55]) * (MAX_ENCODED + 1 - len(body) + draw(st.integers(0, 50)))
    return wire, bytes(body) + b"\x00"


@given(damaged())
@settings(max_examples=300)
def test_damaged_frames_rejected_by_both(ctool: Any, case: tuple[bytes, bytes]) -> None:
    original, data = case
    dec = protocol.FrameDecoder(KEY)
    res = dec.feed_all(data)
    py = [r.reason if isinstance(r, FrameError) else "ok" for r in res]
    c, _ = _c_outcomes(ctool, data)
    assert py == c
    # damage never yields a different message: anything accepted is the original frame (an
    # inserted delimiter or a flip pair that cancelled out leaves it intact)
    want = protocol.decode(original, KEY)
    assert all(r == want for r in res if isinstance(r, protocol.Frame))
    assert dec.stats.frames_bad == sum(o != "ok" for o in py)


@given(st.lists(messages, min_size=1, max_size=5), st.binary(max_size=40))
def test_stream_resync_after_garbage(msgs: list[Message], garbage: bytes) -> None:
    wires = [_wire(m, i, i + 1) for i, m in enumerate(msgs)]
    stream = garbage + b"\x00" + b"".join(wires)
    dec = protocol.FrameDecoder(KEY)
    got: list[protocol.Frame] = []
    for i in range(0, len(stream), 7):  # arbitrary chunking
        got += dec.feed(stream[i : i + 7])
    assert [f.message for f in got] == msgs


def test_oversize_counted_once_and_decoder_recovers() -> None:
    dec = protocol.FrameDecoder()
    for _ in range(10):
        assert dec.feed(b"\x41" * 500) == []
    assert dec.stats.oversize == 1
    frames = dec.feed(b"\x00" + protocol.encode(Ack(1), 3))
    assert [f.message for f in frames] == [Ack(1)]


def test_fast_and_reference_kernels_agree_on_bad_samples() -> None:
    for bad in (b"\x00", b"\x09\x09", b"\x93\x00", b"\x82\x80\x80\x00", b"\xf8\xff\x0f"):
        for fn in (framing.py_samples_decode, framing.samples_decode):
            try:
                fn(bad, 0, len(bad), 10 if bad != b"\xf8\xff\x0f" else 1)
            except FrameError as err:
                assert err.reason == "payload"
            else:
                raise AssertionError(f"{fn} accepted {bad!r}")


@given(windows(Tick), u16)
def test_compiled_window_path_matches_reference(window: Tick, seq: int) -> None:
    reference = framing.py_cobs_encode(protocol.encode_raw(window, seq)) + b"\x00"
    assert protocol.encode(window, seq) == reference
    raw = framing.py_cobs_decode(reference[:-1])
    fast = framing.window_decode(raw, 5, len(raw) - 4)
    slow = framing.py_window_decode(raw, 5, len(raw) - 4)
    assert fast == slow == (window.t0_us, window.early_stop, window.atrial_uv,
                            window.ventricular_uv, window.activity_mg)


def test_size_limits_at_the_boundary(ctool: Any) -> None:
    # raw frames of 1023..1026 bytes of a TICK header and filler, with a valid CRC: the largest
    # legal raw frame is 1024 bytes and the largest encoded one 1029 bytes
    for n in (1023, 1024, 1025, 1026):
        body = bytes([1, 0x40, 0, 1, 0]) + bytes([0x55]) * (n - 9)
        raw = body + framing.py_crc32c(body).to_bytes(4, "little")
        enc = framing.py_cobs_encode(raw)
        py, _ = _py_outcomes(enc + b"\x00")
        c, _ = _c_outcomes(ctool, enc + b"\x00")
        assert py == c
        want = "oversize" if len(enc) > MAX_ENCODED or n > 1024 else "payload"
        assert py == [want], (n, len(enc), py)
        assert (n <= 1024) == (len(enc) <= MAX_ENCODED)  # the two limits agree
