"""The emulator's test client is the bench's DeviceClient with a tester's conventions.

Run against the Python fake device behind a real pseudo-terminal: the probe shares the bench's
link, codec, sequence numbers and authentication counter, returns NACKs instead of raising,
sends therapy commands unauthenticated on request, hands frames out one by one in stream order,
and reports a silent device as hung after one timeout (no retries).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from firmware_bridge import protocol
from firmware_bridge.client import DeviceClient
from firmware_bridge.fakedevice import FakeDevice
from firmware_bridge.messages import Ack, Events, Hello, HelloRequest, Interrogate, Nack, Program
from firmware_bridge.serve import PtyServer
from firmware_bridge.wire import MessageType, NackReason, ParamId, WireKind
from hil.emulator.errors import DeviceHungError
from hil.emulator.probe import DEV_KEY, ProbeClient


@pytest.fixture
def device() -> FakeDevice:
    return FakeDevice()


@pytest.fixture
def probe(device: FakeDevice) -> Iterator[ProbeClient]:
    server = PtyServer(device.handle)
    try:
        with ProbeClient(server.url, timeout_s=2.0) as c:
            yield c
    finally:
        server.close()
    assert server.error is None


def test_the_probe_talks_through_a_device_client(probe: ProbeClient) -> None:
    assert isinstance(probe.client, DeviceClient)
    assert probe.client.key == DEV_KEY
    hello = probe.hello()
    assert isinstance(hello, Hello) and hello.model == "fakedevice"
    assert probe.client.hello == hello  # the client's HELLO state, not a copy of it
    assert probe.client.stats.codec.frames_in == 1


def test_hello_adopts_the_device_counter(device: FakeDevice, probe: ProbeClient) -> None:
    device.auth.last_counter = 700  # as if an earlier session had used 700 counters
    probe.hello()
    assert isinstance(probe.program({"lower_rate_ppm": 70}), Ack)
    assert device.auth.last_counter == 701
    assert device.params[ParamId.LOWER_RATE_PPM] == 70


def test_nacks_are_returned_not_raised(device: FakeDevice, probe: ProbeClient) -> None:
    probe.hello()
    refused = probe.program({"lower_rate_ppm": 5})
    assert isinstance(refused, Nack)
    assert (refused.reason, refused.param_id) == (NackReason.PARAM_OUT_OF_RANGE,
                                                  ParamId.LOWER_RATE_PPM)
    unsigned = probe.command(Program(((int(ParamId.LOWER_RATE_PPM), 70),)), auth=False)
    assert isinstance(unsigned, Nack) and unsigned.reason is NackReason.NOT_AUTHENTICATED
    assert device.params[ParamId.LOWER_RATE_PPM] == 60  # nominal: nothing was applied
    assert isinstance(probe.reset_session(), Ack)


def test_frames_come_out_one_by_one_in_stream_order(probe: ProbeClient) -> None:
    first = probe.send(HelloRequest())
    probe.send_raw(protocol.encode(Interrogate(), 0x4242))
    second = probe.send(Interrogate())
    got = [probe.receive() for _ in range(3)]
    assert [(f.type, f.seq) for f in got] == [(MessageType.HELLO, first),
                                               (MessageType.INTERROGATION, 0x4242),
                                               (MessageType.INTERROGATION, second)]


def test_run_feeds_windows_and_resumes_after_a_pace(probe: ProbeClient) -> None:
    probe.hello()
    result = probe.run([0] * 2500, [0] * 2500, window=100)
    # nominal 60 ppm VVI-like fake: a ventricular pace each second, early stop at each pace
    assert [(e.t_us, e.kind) for e in result.events] == [(1_000_000, WireKind.VP),
                                                         (2_000_000, WireKind.VP)]
    # windows at 0..900 ms; the one at 1000 ms stops at its first sample (the pace); windows
    # from 1001 ms end exactly on the 2000 ms pace; then 2001..2401 ms
    assert result.round_trips == 10 + 1 + 10 + 5
    assert isinstance(probe.tick(3_000_000, [0], [0], [0]), Events)


def test_a_silent_device_is_hung_after_one_timeout(device: FakeDevice) -> None:
    device.mute = True
    server = PtyServer(device.handle)
    try:
        with ProbeClient(server.url, timeout_s=0.3) as c:
            t0 = time.monotonic()
            with pytest.raises(DeviceHungError, match="no answer") as info:
                c.hello()
            elapsed = time.monotonic() - t0
            assert info.value.value == server.url
            assert 0.3 <= elapsed < 0.6  # one attempt: the probe does not retry
            assert c.client.stats.retries == 0
            with pytest.raises(DeviceHungError):
                c.receive()
    finally:
        server.close()
