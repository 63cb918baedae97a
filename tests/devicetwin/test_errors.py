"""Errors are structured and picklable (they cross process pools in suite runs)."""

from __future__ import annotations

import pickle

from devicetwin import DeviceTwinError
from devicetwin.pacemaker import ProgrammingError
from firmware_bridge.errors import BridgeError
from hil.errors import HilError
from hil.scenarios import ScenarioError


def test_roots_are_separate_and_structured() -> None:
    assert not issubclass(HilError, DeviceTwinError)
    assert not issubclass(DeviceTwinError, HilError)
    err = ProgrammingError("lower_rate_ppm=33 is not allowed", name="lower_rate_ppm", value=33,
                           expected="30..50 by 5")
    assert (err.name, err.value, err.expected) == ("lower_rate_ppm", 33, "30..50 by 5")


def test_pickle_keeps_every_field() -> None:
    errors: list[Exception] = [
        ProgrammingError("m", name="vrp_ms", value=155, expected="150..500 by 10"),
        ScenarioError("bad", file="f.toml", line=3, field="device.mode", value="DXD",
                      expected="a mode"),
        BridgeError("no answer", sent=b"\x01", received=None, expected="HELLO"),
    ]
    for err in errors:
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert str(back) == str(err)
        assert back.__dict__ == err.__dict__
