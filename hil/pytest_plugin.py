"""pytest plugin for firmware CI: run bench scenarios against a device from a test.

Installed with devicetwin (entry point ``pytest11``), so a firmware team's test reads::

    @pytest.mark.requirement("SRS-PMT-3")
    def test_pmt_is_terminated(bench):
        result = bench.run("ddd_pmt_terminated")
        assert result.passed, result.explain()

Options: ``--device-url`` (``emulated`` by default, ``qemu``, or any firmware_bridge URL; also
the ``DEVICETWIN_DEVICE`` environment variable), ``--device-fault`` (a seeded-fault variant of
the emulated firmware), ``--bench-out`` (keep every run's record and reports there) and
``--skip-unreachable``.

Every bench test's JUnit test case (``--junitxml``) carries properties (docs/junit.md): the device
under test as the session reached it (``device.spec``, ``device.url``, ``device.kind``,
``device.model``, ``device.firmware_version``, ``device.firmware_hash``, ...); the IDs of the
``requirement`` marker and of each run's scenario, each under the name of its kind
(``spec_rule`` for the specification's ``A-n``, ``hazard`` for ``HAZ-<name>``, ``requirement``
for any other, such as a team's ``SRS-PMT-3``); and each run's ``scenario``, ``verdict`` and
``report``.

The command line's exit-code cases (``hil.exitcodes``) map to pytest outcomes: a failed verdict
is a test *failure* (the test's assert); a device that cannot be reached or started is an
*error* of the test's set-up (checked once per session, before the first bench test), or a
*skip* with the reason under ``--skip-unreachable`` (a desk without the board); a configuration
error (scenario file, programming) fails the test with the one-line message, no traceback; an
interrupt stops the session as pytest does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hil.devices import DeviceIdentity, DeviceOptions, open_device
from hil.devices.profile import DeviceProfile, load_profile
from hil.errors import ConfigError, NotApplicableError
from hil.exitcodes import ExitCode, exit_code_for
from hil.reports.evidence import write_evidence
from hil.reports.junit import device_properties, id_properties
from hil.results import RunResult
from hil.scenarios import Scenario, load_scenario, resolve
from hil.session.runner import run_scenario

#: The identity the session's device gave when first reached (``device_reachable``).
DEVICE_IDENTITY = pytest.StashKey[DeviceIdentity]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the bench's command-line options."""
    group = parser.getgroup("devicetwin", "devicetwin bench")
    group.addoption("--device-url", default=None,
                    help="device for the bench fixture: emulated (default), qemu, or a URL")
    group.addoption("--device-fault", default=None,
                    help="seeded-fault variant of the emulated firmware")
    group.addoption("--bench-out", default=None, help="folder to keep every run's evidence in")
    group.addoption("--device-profile", default=None,
                    help="a device profile (TOML, docs/devices.md); its URL replaces --device-url")
    group.addoption("--skip-unreachable", action="store_true", default=False,
                    help="skip (not error) the bench tests when the device cannot be reached")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the requirement marker."""
    config.addinivalue_line(
        "markers", "requirement(*ids): requirement IDs the test verifies (JUnit properties)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Copy the ``requirement`` marker's IDs into the test's JUnit properties, each under the
    name of its kind (``hil.reports.junit.id_kind``)."""
    for mark in item.iter_markers("requirement"):
        item.user_properties.extend(id_properties([str(rid) for rid in mark.args]))


class Bench:
    """Runs scenarios against the session's device and records them on the current test."""

    def __init__(self, device: str, fault: str | None, out_root: Path | None,
                 item: pytest.Item, profile: DeviceProfile | None = None) -> None:
        self.device = device
        self.fault = fault
        self.profile = profile
        self.out_root = out_root
        self._item = item

    def run(self, scenario: str | Path | Scenario) -> RunResult:
        """Run a built-in scenario (by name), a scenario file, or a Scenario object."""
        try:
            sc = (scenario if isinstance(scenario, Scenario)
                  else load_scenario(resolve(str(scenario))))
        except ConfigError as err:
            pytest.fail(f"configuration error: {err}", pytrace=False)
        out = None
        if self.out_root is not None:
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self._item.nodeid)
            out = self.out_root / safe / sc.name
        try:
            result = run_scenario(sc, self.device, out_dir=out, fault=self.fault,
                                  profile=self.profile, evidence=write_evidence)
        except NotApplicableError as err:  # the scenario asks what this device cannot do
            pytest.skip(f"not applicable to {self.device!r}: {err}")
        except Exception as err:
            code = exit_code_for(err)
            if code is ExitCode.CONFIG:
                pytest.fail(f"configuration error: {err}", pytrace=False)
            if code is ExitCode.DEVICE:
                pytest.fail(f"device {self.device!r} unreachable: {err}", pytrace=False)
            raise
        props = self._item.user_properties
        props.append(("scenario", sc.name))
        props.append(("verdict", result.verdict))
        props.extend(id_properties(sc.requirements))
        known = set(props)
        props.extend(p for p in device_properties(result.device.to_dict()) if p not in known)
        if out is not None:
            props.append(("report", str(out / "report.html")))
        return result


@pytest.fixture(scope="session")
def device_profile(request: pytest.FixtureRequest) -> DeviceProfile | None:
    """The ``--device-profile`` (a bad file is an error of every bench test's set-up)."""
    path = request.config.getoption("--device-profile")
    if path is None:
        return None
    try:
        return load_profile(path)
    except ConfigError as err:
        raise DeviceSetupError(f"device profile: {err}") from err


@pytest.fixture(scope="session")
def device_url(request: pytest.FixtureRequest, device_profile: DeviceProfile | None) -> str:
    """The device under test: the profile's URL, ``--device-url``, ``$DEVICETWIN_DEVICE`` or
    ``emulated``."""
    if device_profile is not None:
        return device_profile.url
    value = request.config.getoption("--device-url")
    return str(value or os.environ.get("DEVICETWIN_DEVICE") or "emulated")


@pytest.fixture(scope="session")
def device_reachable(request: pytest.FixtureRequest, device_url: str) -> str:
    """The device under test, once connected to and identified (HELLO) per session.

    A device that cannot be reached or started makes every bench test an error at set-up (a
    skip with ``--skip-unreachable``), not a failed verdict.
    """
    fault = request.config.getoption("--device-fault")
    try:
        with open_device(device_url, DeviceOptions(fault=fault)) as dev:
            request.config.stash[DEVICE_IDENTITY] = dev.identity
    except Exception as err:
        code = exit_code_for(err)
        if code is ExitCode.DEVICE and request.config.getoption("--skip-unreachable"):
            pytest.skip(f"device {device_url!r} unreachable: {err}")
        if code is None:
            raise
        what = "configuration" if code is ExitCode.CONFIG else "unreachable"
        raise DeviceSetupError(f"device {device_url!r} {what}: {err}") from err
    return device_url


class DeviceSetupError(Exception):
    """The device under test could not be reached or configured: an error of every bench test's
    set-up."""


@pytest.fixture
def bench(request: pytest.FixtureRequest, device_reachable: str,
          device_profile: DeviceProfile | None) -> Bench:
    """A bench bound to the device under test; ``bench.run(name)`` returns a RunResult. The
    device's identity goes into the test's JUnit properties (``device.*``) at once, so a test
    that fails before its first run still names the device."""
    device_url = device_reachable
    identity = request.config.stash.get(DEVICE_IDENTITY, None)
    if identity is not None:
        request.node.user_properties.extend(device_properties(identity.to_dict()))
    out = request.config.getoption("--bench-out")
    return Bench(device_url, request.config.getoption("--device-fault"),
                 Path(out) if out else None, request.node, device_profile)


@pytest.fixture
def scenario() -> Callable[[str | Path], Scenario]:
    """Load a scenario by built-in name or file path (validated)."""

    def load(name_or_path: str | Path) -> Scenario:
        return load_scenario(resolve(str(name_or_path)))

    return load
