"""``devicetwin measure``'s options: a pacing mode is checked where it is typed."""

from __future__ import annotations

import argparse

import pytest

from devicetwin.pacemaker import Mode
from hil.measure.command import add_parser, run_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="devicetwin")
    add_parser(parser.add_subparsers())
    return parser


def test_a_mode_is_read_in_any_case() -> None:
    args = _parser().parse_args(["measure", "--mode", "ddd"])
    assert args.mode == "DDD"
    assert Mode[args.mode] is Mode.DDD
    assert args.func is run_command


def test_an_unknown_mode_is_a_usage_error_naming_it_and_the_allowed_modes(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        _parser().parse_args(["measure", "--mode", "XYZ"])
    assert stop.value.code == 2  # hil.exitcodes: 2 is bad usage
    err = capsys.readouterr().err
    assert "--mode" in err and "'XYZ'" in err
    assert all(name in err for name in ("VVI", "DDD", "AAIR"))
