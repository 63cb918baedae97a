"""Fixtures: an emulated analog bench on a clock the test moves, and its SCPI servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hil.instruments.emulated.awg import EmulatedAwg
from hil.instruments.emulated.scope import EmulatedScope
from hil.instruments.emulated.world import AnalogWorld


class FakeClock:
    """A clock the test sets (wall seconds)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def world(clock: FakeClock) -> AnalogWorld:
    return AnalogWorld(seed=7, clock=clock)


@pytest.fixture
def awg_server(world: AnalogWorld) -> Iterator[EmulatedAwg]:
    with EmulatedAwg(world) as server:
        yield server


@pytest.fixture
def scope_server(world: AnalogWorld) -> Iterator[EmulatedScope]:
    with EmulatedScope(world) as server:
        yield server
