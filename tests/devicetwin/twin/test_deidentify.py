"""De-identification rules: allow-lists and the salted serial hash."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.pacemaker import MarkerKind, PaceFlag
from devicetwin.twin import TwinError
from devicetwin.twin.deidentify import marker_note, pseudonym, rhythm_code, signal_name

SALT = bytes(range(32))


def test_pseudonym_is_the_keyed_hash() -> None:
    expected = hmac.new(SALT, b"PM1234567", hashlib.sha256).hexdigest()[:16]
    assert pseudonym(" pm1234567 ", SALT) == "sn-" + expected
    assert pseudonym("PM1234567", bytes(32)) != pseudonym("PM1234567", SALT)
    assert "1234567" not in pseudonym("PM1234567", SALT)


def test_short_salt_and_empty_serial_are_refused() -> None:
    with pytest.raises(TwinError, match="salt of 4 bytes"):
        pseudonym("X", b"abcd")
    with pytest.raises(TwinError, match="serial number is empty"):
        pseudonym("  ", SALT)


@pytest.mark.parametrize("name", ["V5", "MLII", "II", "aVF", "EGM_A", "EGM_V", "ECG_II", "RV EGM"])
def test_lead_names_pass(name: str) -> None:
    assert signal_name(name, 3) == name


@given(st.text(min_size=1, max_size=30))
def test_any_other_signal_name_becomes_an_index(name: str) -> None:
    out = signal_name(name, 2)
    assert out == "signal2" or out == name.strip()
    if " " in name.strip() and not name.strip().upper().endswith(" EGM"):
        assert out == "signal2"


def test_marker_and_rhythm_notes() -> None:
    assert marker_note("VP[HYSTERESIS|SENSOR]") == (
        MarkerKind.VP, PaceFlag.HYSTERESIS | PaceFlag.SENSOR)
    assert marker_note("AS") == (MarkerKind.AS, PaceFlag.NONE)
    assert marker_note("Jane Doe") is None
    assert marker_note("VP[DIGOXIN]") is None
    assert rhythm_code("(AFIB\x00") == "AFIB"
    assert rhythm_code("(Mrs Smith") is None
