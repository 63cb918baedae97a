"""Device URLs choose the kind of device; a program can be the device (``exec:``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.cli import main
from hil.devices import DeviceOptions, open_device, split_url
from hil.devices.registry import KINDS, exec_argv
from hil.emulator.build import build_firmware
from hil.errors import ConfigError
from hil.exitcodes import ExitCode


@pytest.mark.parametrize(("url", "expected"), [
    ("emulated", ("binary", "emulated")),
    ("/dev/ttyUSB0", ("binary", "/dev/ttyUSB0")),
    ("socket://127.0.0.1:7000", ("binary", "socket://127.0.0.1:7000")),
    ("events+socket://lab:7000", ("events", "socket://lab:7000")),
    ("events+exec:./fw --mode DDD", ("events", "exec:./fw --mode DDD")),
    ("analog+emulated", ("analog", "emulated")),
    ("rfc2217://host+x:1", ("binary", "rfc2217://host+x:1")),
])
def test_the_kind_is_the_part_before_plus(url: str, expected: tuple[str, str]) -> None:
    assert split_url(url) == expected


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="did you mean events") as err:
        split_url("evnts+socket://x:1")
    for kind in KINDS:
        assert kind in str(err.value)


def test_exec_targets_split_like_a_shell() -> None:
    assert exec_argv("exec:./fw --name 'a b'") == ["./fw", "--name", "a b"]
    assert exec_argv("socket://x:1") is None
    with pytest.raises(ConfigError, match="exec:"):
        exec_argv("exec:./fw 'unclosed")


def test_a_host_build_run_as_a_program_is_a_device(tmp_path: Path) -> None:
    """The reference firmware's host build speaks the binary protocol on stdin/stdout when it
    gets no --uart-fd: as ``exec:`` it is a device like any other."""
    from firmware_bridge.auth import DEV_KEY

    program = build_firmware("host", None)
    with open_device(f"exec:{program}", DeviceOptions(key=DEV_KEY)) as dev:
        assert dev.identity.model == "devicetwin-ref"
        assert dev.capabilities.programmable


def test_a_missing_program_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "voo_async", "--device", "exec:/no/such/firmware"]) == ExitCode.DEVICE
    assert "/no/such/firmware" in capsys.readouterr().err
