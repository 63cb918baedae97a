"""Seeded-fault variants of the in-process firmware: each is its own copy of the extension.

Judged against the specification's rules and the reference model, not against the variant's own
output: PMT termination (A-14) breaks each loop of a patient with retrograde conduction, so the
clean firmware has several short episodes where the variant without it has one that lasts; the
clean firmware's outcomes are the reference model's (a second implementation of the rules).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devicetwin.cohort import simulate_patient
from devicetwin.pacemaker import Mode, Programming
from firmware_bridge.wire import ParamId
from hil.emulator import _inprocess, variants
from hil.emulator.errors import FirmwareBuildError, UnknownFaultError
from hil.emulator.fastloop import run_patient
from hil.emulator.inprocess import InProcessDevice

FAULT = "PMT_NOT_TERMINATED"
DDD = Programming.nominal(Mode.DDD)
MINUTE_US = 60_000_000


def test_a_variant_is_a_firmware_of_its_own_and_the_clean_one_stays_clean() -> None:
    assert variants.firmware_module(None) is _inprocess
    with InProcessDevice(fault=FAULT) as faulty, InProcessDevice() as clean:
        assert faulty.firmware is not _inprocess and clean.firmware is _inprocess
        assert variants.firmware_module(FAULT) is faulty.firmware  # loaded once per process
        assert faulty.identity.fault == FAULT and clean.identity.fault is None
        assert faulty.identity.firmware_hash != clean.identity.firmware_hash
        assert faulty.identity.firmware_version.endswith("+fault")
        assert not clean.identity.firmware_version.endswith("+fault")
        # separate firmware state: each keeps what it was programmed with
        faulty.program(Programming.nominal(Mode.DDD, lower_rate_ppm=50))
        clean.program(Programming.nominal(Mode.VVI, lower_rate_ppm=75))
        lrl = int(ParamId.LOWER_RATE_PPM)
        assert dict(faulty.interrogate().params)[lrl] == 50
        assert dict(clean.interrogate().params)[lrl] == 75


def test_pmt_termination_missing_shows_in_a_retrograde_patient() -> None:
    clean = run_patient("retrograde_va", DDD, 2 * MINUTE_US, seed=3).outcomes.pmt
    model = simulate_patient("retrograde_va", DDD, 2 * MINUTE_US, seed=3).outcomes.pmt
    faulty = run_patient("retrograde_va", DDD, 2 * MINUTE_US, seed=3, fault=FAULT).outcomes.pmt
    # each loop is broken, it restarts (retrograde conduction persists): several episodes
    assert len(clean.episodes) >= 2
    assert (len(clean.episodes), clean.burden) == (len(model.episodes), model.burden)
    # without termination the first loop never ends: one episode, nearly the whole run
    assert len(faulty.episodes) == 1 and faulty.burden > 0.95
    assert faulty.burden > clean.burden


def test_an_unknown_fault_names_the_known_ones() -> None:
    with pytest.raises(UnknownFaultError, match="PMT_NOT_TERMINATED"):
        variants.firmware_module("PMT_NOT_TERMINATEDX")


def test_a_variant_that_cannot_be_built_says_why(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setattr(variants, "VARIANTS_DIR", tmp_path / "variants")
    monkeypatch.setattr(variants, "_loaded", {})
    monkeypatch.setattr(variants, "SETUP_PY", tmp_path / "setup.py")
    with pytest.raises(FirmwareBuildError, match="source tree"):
        variants.firmware_module("PVARP_SHORT_20MS")
