"""One exit-code convention for every subcommand (hil.exitcodes), shown through the real CLI."""

from __future__ import annotations

import pickle
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_bridge.auth import KeyFileError
from firmware_bridge.errors import LinkError, LinkTimeoutError
from hil.cli import build_parser, main
from hil.emulator.errors import DeviceCrashedError, FirmwareBuildError, UnknownFaultError
from hil.errors import ConfigError, DeviceUnavailableError, HilError
from hil.exitcodes import ExitCode, exit_code_for
from hil.instruments.errors import InstrumentConnectionError
from hil.scenarios import ScenarioError


def refused_url() -> str:
    """A socket URL nothing listens on (a port bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"socket://127.0.0.1:{port}"


def test_the_convention_is_the_documented_one() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 129, 130, 141, 143]
    assert ExitCode.for_signal(15) is ExitCode.SIGTERM


@pytest.mark.parametrize(("error", "code"), [
    (ScenarioError("bad", file="x.toml", line=3, field="device.mode"), ExitCode.CONFIG),
    (ConfigError("bad", source="--param"), ExitCode.CONFIG),
    (KeyFileError("bad key"), ExitCode.CONFIG),
    (UnknownFaultError("no such fault"), ExitCode.CONFIG),
    (HilError("a bench rule"), ExitCode.CONFIG),
    (LinkError("refused"), ExitCode.DEVICE),
    (LinkTimeoutError("no answer"), ExitCode.DEVICE),
    (DeviceCrashedError("status -9"), ExitCode.DEVICE),
    (FirmwareBuildError("gcc failed"), ExitCode.DEVICE),
    (InstrumentConnectionError("no scope"), ExitCode.DEVICE),
    (DeviceUnavailableError("gone"), ExitCode.DEVICE),
])
def test_each_error_family_has_its_code(error: BaseException, code: ExitCode) -> None:
    assert exit_code_for(error) is code


def test_a_bug_is_not_classified() -> None:
    assert exit_code_for(ValueError("a bug")) is None


def test_config_error_names_its_source_and_line_and_pickles() -> None:
    err = ConfigError("field 'x' is bad", source="s.toml", line=7, name="x", value=1)
    assert str(err) == "s.toml:7: field 'x' is bad"
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.source, back.line, back.value) == (str(err), "s.toml", 7, 1)


def test_every_subcommand_help_lists_the_exit_codes() -> None:
    parser = build_parser()
    assert "143" in parser.format_help()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():  # type: ignore[union-attr]
        assert "130  interrupted by SIGINT" in p.format_help(), name


def test_unreachable_device_exits_3_with_a_summary_and_no_empty_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = refused_url()
    out = tmp_path / "out"
    assert main(["run", "bench_default", "--device", url, "--out", str(out)]) == ExitCode.DEVICE
    err = capsys.readouterr().err
    assert url in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    text = (out / "summary.json").read_text()
    assert '"verdict": "error"' in text and url in text


def test_missing_serial_port_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "bench_default", "--device", "/dev/ttyUSB97"]) == ExitCode.DEVICE
    assert "/dev/ttyUSB97" in capsys.readouterr().err


def test_vectors_run_against_an_unreachable_device_exits_3(tmp_path: Path) -> None:
    vec = tmp_path / "v.json"
    assert main(["vectors", "generate", "--mode", "VVI", "--pattern", "sinus",
                 "--duration-s", "3", "--out", str(vec)]) == ExitCode.PASSED
    assert main(["vectors", "run", str(vec), "--device", refused_url()]) == ExitCode.DEVICE


def test_a_typo_in_a_scenario_exits_2_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "typo.toml"
    bad.write_text('name = "typo"\ndescription = "a typo"\nduration_s = 5\n[patient]\n'
                   'condition = "bench_patient"\n[device]\nmode = "DDD"\n'
                   'parameters = { lower_rate_pmm = 75 }\n')
    proc = subprocess.run([sys.executable, "-m", "hil.cli", "run", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == ExitCode.CONFIG
    assert "Traceback" not in proc.stderr
    assert f"{bad}:8" in proc.stderr and "lower_rate_pmm" in proc.stderr


def test_a_bad_fault_name_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "bench_default", "--fault", "NO_SUCH_FAULT"]) == ExitCode.CONFIG
    assert "NO_SUCH_FAULT" in capsys.readouterr().err


def test_a_bad_key_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "dev.key"
    key.write_text("not hex")
    key.chmod(0o600)
    assert main(["run", "bench_default", "--device", refused_url(),
                 "--key-file", str(key)]) == ExitCode.CONFIG
    assert str(key) in capsys.readouterr().err


def test_a_failed_verdict_exits_1(tmp_path: Path) -> None:
    """A scenario that expects a PMT the patient never has fails its verdict: 1, not 2 or 3."""
    text = Path(__file__).parents[3].joinpath(
        "hil/scenarios/library/bench_default.toml").read_text()
    sc = tmp_path / "expects_pmt.toml"
    sc.write_text(text.replace("duration_s = 30", "duration_s = 3").replace(
        "pmt = false", "pmt = true"))
    assert main(["run", str(sc)]) == ExitCode.FAILED


def test_a_suite_against_an_unreachable_device_exits_3(tmp_path: Path) -> None:
    assert main(["suite", "bench_default", "--jobs", "1", "--device", refused_url(),
                 "--out", str(tmp_path)]) == ExitCode.DEVICE
