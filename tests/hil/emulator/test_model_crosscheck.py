"""Cross-check: the C firmware and the Python reference model on the same electrograms.

Two independent implementations of docs/assumptions.md. Each scenario of
``hil.emulator.crosscheck`` programs both the same way, feeds both the same 1 kHz samples (the
firmware over its real link in TICK windows, the model through its own front end), and compares
the marker streams event for event. A disagreement is reported with its time, both markers, and
the rule the scenario exercises.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from toolchain import QEMU_TOOLS

from hil.emulator import start_device
from hil.emulator.crosscheck import (
    SCENARIOS,
    Scenario,
    compare,
    compare_random,
    firmware_markers,
    model_markers,
)
from hil.emulator.probe import ProbeClient


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_firmware_agrees_with_reference_model(scenario: Scenario) -> None:
    assert model_markers(scenario), f"{scenario.name}: no markers at all"
    disagreement = compare(scenario)
    assert disagreement is None, str(disagreement)


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.needs_tools(*QEMU_TOOLS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_qemu_and_host_firmware_agree(scenario: Scenario) -> None:
    assert firmware_markers(scenario, "qemu") == firmware_markers(scenario, "host")


@pytest.fixture(scope="module")
def host_client() -> Iterator[ProbeClient]:
    with start_device("host") as dev, ProbeClient(dev.url) as c:
        c.hello()
        yield c


@pytest.mark.parametrize("seed", range(40))
def test_random_programming_and_electrograms_agree(host_client: ProbeClient, seed: int) -> None:
    """Random valid programmings and random electrograms (hil.emulator.crosscheck.random_case):
    400 seeds were run while writing this with no disagreement; 40 run here."""
    disagreement = compare_random(host_client, seed)
    assert disagreement is None, disagreement
