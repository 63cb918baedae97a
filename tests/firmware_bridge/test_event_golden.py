"""The golden exchanges of the event-level protocol (``firmware_bridge/vectors/event_golden.json``)
through the Python side: every line parses in its direction and re-encodes to the same bytes, every
rejected line is rejected, each exchange obeys the protocol's rules (checked here from
docs/protocol.md section 7, apart from the driver), and the driver, talking to a device that
plays the expected lines, returns the paces, identity and clock the exchange implies.

The C device replays the same file in ``tests/hil/firmware_events/test_golden_replay.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.eventcodec import (
    MAX_LINE,
    EndOfAnswer,
    EventIdentity,
    EventLevelDevice,
    EventLineCodec,
    Pace,
    Reset,
    Sense,
    TimeMark,
    parse_line,
)
from firmware_bridge.links import open_link
from firmware_bridge.serve import PtyServer

GOLDEN = Path(__file__).resolve().parents[2] / "firmware_bridge" / "vectors" / "event_golden.json"
DOC: dict[str, Any] = json.loads(GOLDEN.read_text())
EXCHANGES: list[dict[str, Any]] = DOC["exchanges"]
NAMES = [x["name"] for x in EXCHANGES]


def test_the_file_covers_what_the_protocol_asks() -> None:
    covered = " ".join(x["covers"] for x in EXCHANGES)
    for topic in ("R returns", "identity", "exactly at the mark", "early stop",
                  "discarded", "pace details", "senses at t before timers", "ignored"):
        assert topic in covered, topic
    assert len(set(NAMES)) == len(NAMES)


def _good_steps(x: dict[str, Any]) -> list[tuple[list[str], list[str]]]:
    return [(s["send"][-1:] if s.get("bench_errors") else s["send"], s["expect"])
            for s in x["steps"]]


@pytest.mark.parametrize("x", EXCHANGES, ids=NAMES)
def test_lines_parse_in_their_direction_and_reencode(x: dict[str, Any]) -> None:
    codec = EventLineCodec()
    for send, expect in _good_steps(x):
        for line in send:
            msg = parse_line(line.encode("ascii"))
            assert isinstance(msg, (Sense, TimeMark, Reset)), line
            assert codec.encode(msg) == line.encode("ascii") + b"\n"
        for line in expect:
            msg = parse_line(line.encode("ascii"))
            assert isinstance(msg, (Pace, EndOfAnswer, EventIdentity)), line
            assert codec.encode(msg) == line.encode("ascii") + b"\n"


@pytest.mark.parametrize("entry", DOC["rejected"], ids=[r["why"] for r in DOC["rejected"]])
def test_rejected_lines_are_rejected_and_counted(entry: dict[str, Any]) -> None:
    line = entry["line"].encode("latin-1")
    assert parse_line(line) is None
    codec = EventLineCodec()
    assert codec.feed(line + b"\n") == []
    assert codec.stats.bad_lines == 1
    assert (len(line) > MAX_LINE) == bool(entry.get("oversize"))


@pytest.mark.parametrize("x", EXCHANGES, ids=NAMES)
def test_exchanges_obey_the_protocol(x: dict[str, Any]) -> None:
    """Each answer: to R at most one identity then '.'; to T t the paces in (clock, t] in order
    (the first answer of a session from 0), and in a session with caps=stop all at one time t_p,
    which becomes the clock."""
    clock_us, floor_us, stop = 0, 0, False
    for send, expect in _good_steps(x):
        last = parse_line(send[-1].encode())
        answer = [parse_line(e.encode()) for e in expect]
        assert answer[-1] == EndOfAnswer() and EndOfAnswer() not in answer[:-1]
        if isinstance(last, Reset):
            assert len(answer) <= 2 and all(isinstance(m, EventIdentity) for m in answer[:-1])
            ident = answer[0] if isinstance(answer[0], EventIdentity) else None
            stop = ident is not None and ident.has("stop")
            clock_us, floor_us = 0, 0
            continue
        assert isinstance(last, TimeMark)
        times = [m.t_us for m in answer[:-1] if isinstance(m, Pace)]
        assert len(times) == len(answer) - 1
        assert times == sorted(times) and all(floor_us <= t <= last.t_us for t in times)
        for line in send[:-1]:
            s = parse_line(line.encode())
            assert isinstance(s, Sense) and s.t_us >= clock_us
        if stop and times:
            assert set(times) == {times[0]}
            clock_us = times[0]
        else:
            clock_us = last.t_us
        floor_us = clock_us + 1


class PlaysTheExchange:
    """A device that answers each T or R with the exchange's expected lines, in order."""

    def __init__(self, x: dict[str, Any]) -> None:
        self.codec = EventLineCodec()
        self.answers = [("\n".join(e) + "\n").encode() for _, e in _good_steps(x)]

    def handle(self, data: bytes) -> bytes:
        return b"".join(self.answers.pop(0) for m in self.codec.feed(data)
                        if isinstance(m, (TimeMark, Reset)))


@pytest.mark.parametrize("x", EXCHANGES, ids=NAMES)
def test_driver_replays_the_exchange(x: dict[str, Any]) -> None:
    server = PtyServer(PlaysTheExchange(x).handle)
    try:
        with open_link(server.url, timeout_s=2.0) as link:
            dev = EventLevelDevice(link, timeout_s=2.0)
            for send, expect in _good_steps(x):
                *senses, last = (parse_line(line.encode()) for line in send)
                for s in senses:
                    assert isinstance(s, Sense)
                    dev.sense(s.chamber, s.t_us)
                answer = [parse_line(e.encode()) for e in expect[:-1]]
                if isinstance(last, Reset):
                    assert dev.reset() == (answer[0] if answer else None)
                    assert dev.clock_us == 0
                    continue
                assert isinstance(last, TimeMark)
                assert dev.advance(last.t_us) == answer
                stopped = dev.early_stop and answer
                assert dev.clock_us == (answer[0].t_us if stopped and isinstance(
                    answer[0], Pace) else last.t_us)
    finally:
        server.close()
    assert server.error is None
