"""The command line answers --version and --help, and rejects unknown commands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devicetwin import __version__
from hil.cli import main


def test_version_matches_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"devicetwin {__version__}"


def test_help_lists_demo(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "demo" in capsys.readouterr().out


def test_unknown_command_is_an_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hil.cli", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "no-such-command" in proc.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly_with_141() -> None:
    """`devicetwin ... | head -1`: no BrokenPipeError traceback, the shell's SIGPIPE code."""

    proc = subprocess.Popen([sys.executable, "-m", "hil.cli", "scenarios"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err
