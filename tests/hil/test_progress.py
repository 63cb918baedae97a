"""The progress line counts and estimates the time left from the rate so far."""

from __future__ import annotations

import io

import pytest

from hil.progress import Progress


def test_line_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 110.0, 110.0, 110.0])
    monkeypatch.setattr("hil.progress.time.monotonic", lambda: next(clock))
    out = io.StringIO()
    p = Progress(60, "run", stream=out, force=True, min_interval_s=0)
    p.update(15)  # 15 of 60 s done in 10 s wall: 45 s left at that rate -> 30 s
    assert "ETA 0:30" in out.getvalue()
    assert "[#####               ]  25% 15.0/60.0 s" in out.getvalue()


def test_whole_lines_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI log gets a line per ``line_interval_s`` of wall time, notes as lines, and the final
    state once; never a carriage return."""
    now = [100.0]
    monkeypatch.setattr("hil.progress.time.monotonic", lambda: now[0])
    out = io.StringIO()
    with Progress(10, "suite", "runs", stream=out, line_interval_s=30) as p:
        now[0] = 110.0
        p.update(1)  # 10 s in: not yet due
        assert out.getvalue() == ""
        now[0] = 131.0
        p.update(2)  # 31 s in: due; 2 of 10 runs in 31 s, 8 left at that rate -> 124 s
        p.note("[3/10] ddd_basic (clean): pass in 4.0 s")
        now[0] = 140.0
        p.update(3)  # 9 s after the last line: not due
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "suite [####                ]  20% 2.0/10.0 runs ETA 2:04"
    assert lines[1] == "[3/10] ddd_basic (clean): pass in 4.0 s"
    # 3 of 10 in 40 s: 7 left -> 93.3 s
    assert lines[2] == "suite [######              ]  30% 3.0/10.0 runs ETA 1:33"
    assert len(lines) == 3


def test_quiet_writes_nothing() -> None:
    out = io.StringIO()
    with Progress(10, stream=out, quiet=True) as p:
        p.update(5)
        p.note("x")
    assert out.getvalue() == ""


def test_a_note_on_a_terminal_goes_above_the_bar() -> None:
    out = io.StringIO()
    p = Progress(4, "suite", "runs", stream=out, force=True, min_interval_s=0)
    p.note("[1/4] a (clean): pass in 1.0 s")
    text = out.getvalue()
    assert text.startswith("\r\x1b[K[1/4] a (clean): pass in 1.0 s\n\rsuite [")
