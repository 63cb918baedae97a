"""The firmware and the reference model accept and reject the same programmings (A-18, A-19).

hypothesis draws a mode and a few parameter changes (values on each parameter's grid, or any
integer near it); the firmware gets the complete programming in one PROGRAM, the model builds
``Programming.nominal(mode).replace(...)``. Both must accept, or both must refuse; with a single
change, both must name the same parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import devicetwin.pacemaker as pacemaker
from firmware_bridge.messages import Ack, Nack
from firmware_bridge.wire import ParamId
from hil.emulator import start_device
from hil.emulator.crosscheck import wire_program
from hil.emulator.probe import ProbeClient

PARAMETERS: dict[str, Any] = pacemaker.PARAMETERS
NAMES = [n for n in PARAMETERS if n != "mode"]
MODES = [m for m in pacemaker.Mode if m.wire_code <= 18]


def _inverse(name: str) -> dict[int, Any]:
    spec = PARAMETERS[name]
    return {spec.to_wire(v): v for v in spec.values}


INVERSE = {n: _inverse(n) for n in PARAMETERS}


@st.composite
def programmings(draw: st.DrawFn) -> tuple[Any, dict[str, int]]:
    mode = draw(st.sampled_from(MODES))
    changes: dict[str, int] = {}
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True)):
        grid = sorted(INVERSE[name])
        if draw(st.booleans()):
            changes[name] = draw(st.sampled_from(grid))
        else:
            changes[name] = draw(st.integers(min(grid) - 20, max(grid) + 20))
    return mode, changes


def _model(mode: Any, changes: dict[str, int]) -> str | None:
    """None when the model accepts, else the name of the parameter it refuses."""
    values = {}
    for name, wire in changes.items():
        if wire not in INVERSE[name]:
            return name
        values[name] = INVERSE[name][wire]
    try:
        pacemaker.Programming.nominal(mode, **values)
    except pacemaker.ProgrammingError as err:
        return str(err.name)
    return None


@pytest.fixture(scope="module")
def client() -> Iterator[ProbeClient]:
    with start_device("host") as dev, ProbeClient(dev.url) as c:
        c.hello()
        yield c


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=programmings())
def test_firmware_and_model_refuse_the_same_programmings(
        client: ProbeClient, case: tuple[Any, dict[str, int]]) -> None:
    mode, changes = case
    wire = pacemaker.Programming.nominal(mode).to_wire_units()
    wire.update({PARAMETERS[k].wire_name: v for k, v in changes.items()})
    reply = client.command(wire_program(wire))
    model_refuses = _model(mode, changes)
    if model_refuses is None:
        assert isinstance(reply, Ack), (mode, changes, reply)
        return
    assert isinstance(reply, Nack), (mode, changes, model_refuses)
    if len(changes) == 1:
        named = ParamId(reply.param_id).name.lower()
        assert named == PARAMETERS[model_refuses].wire_name, (mode, changes, reply)
