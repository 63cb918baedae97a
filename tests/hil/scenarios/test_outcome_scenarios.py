"""The PMT scenarios judge the patient: a firmware without PMT termination fails them on the
outcome (the heart's ground truth), whatever the twin or the markers say."""

from __future__ import annotations

import pytest

from hil.results import RunResult
from hil.scenarios import load_scenario, resolve
from hil.session.runner import run_scenario


@pytest.fixture(scope="module")
def protected() -> RunResult:
    return run_scenario(load_scenario(resolve("ddd_pmt_terminated")), "emulated")


@pytest.fixture(scope="module")
def unprotected() -> RunResult:
    return run_scenario(load_scenario(resolve("ddd_pmt_terminated")), "emulated",
                        fault="PMT_NOT_TERMINATED")


def test_termination_protects_the_patient(protected: RunResult) -> None:
    assert protected.passed, protected.explain()
    episodes = protected.outcomes.pmt.episodes
    # each of the two PVCs starts one loop; the device breaks each one (PMT termination after
    # 8 stable cycles, pmt_cycles nominal 8: the 9th pace is the first not tracking)
    assert [e.ended_by.value for e in episodes] == ["device", "device"]
    assert all(8 <= e.cycles <= 10 for e in episodes)
    assert protected.hazard_flags()["pmt"] is True


def test_a_firmware_without_termination_fails_on_the_outcome(unprotected: RunResult) -> None:
    assert not unprotected.passed
    failed = {c.name for c in unprotected.criteria if c.failed}
    assert {"outcome.pmt_burden", "outcome.pmt_longest_episode_s",
            "outcome.pmt_episodes_ended_by_device"} <= failed
    (episode,) = unprotected.outcomes.pmt.episodes
    assert episode.ended_by.value == "run_end" and episode.duration_us > 20_000_000
