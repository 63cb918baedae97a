"""Shared helpers for the heart tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devicetwin.heart import Heart


def _quiet(**changes: object) -> Heart:
    """A heart whose ventricles stay quiet for seconds: complete AV block, slow escape and
    sinus, so paced responses can be measured on rested tissue."""
    heart = Heart("complete_av_block", seed=0)
    heart.apply(escape_rate_bpm=15.0, sinus_rate_bpm=20.0, **changes)
    return heart


@pytest.fixture
def quiet_heart() -> Callable[..., Heart]:
    """Factory of quiet hearts (see ``_quiet``)."""
    return _quiet
