"""The ``twin`` command's frame: its steps, and the contract of the step modules."""

from __future__ import annotations

import importlib
import importlib.util

import pytest

from hil.cli import main
from hil.twin.command import STEP_CONTRACT, STEP_MODULES


def test_every_installed_step_module_keeps_the_contract() -> None:
    for module_name in STEP_MODULES.values():
        if importlib.util.find_spec(module_name) is None:
            continue  # not installed: not offered (test_import_and_report_are_offered)
        module = importlib.import_module(module_name)
        missing = [attr for attr in STEP_CONTRACT if not hasattr(module, attr)]
        assert not missing, f"{module_name} lacks {missing}"
        assert isinstance(module.HELP, str) and module.HELP


def test_import_and_report_are_offered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["twin", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "import" in out and "report" in out
    assert main(["twin"]) == 2
