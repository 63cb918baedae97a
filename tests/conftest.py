"""Suite-wide settings: hypothesis profiles (``HYPOTHESIS_PROFILE=dev`` for longer searches)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from toolchain import require_tools

pytest_plugins = ["pytester"]

settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    """Declare the suite's own markers."""
    config.addinivalue_line(
        "markers", "needs_tools(*commands): commands the test needs; missing ones fail it "
        "(skip with DEVICETWIN_ALLOW_MISSING_TOOLS=1)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Check the tools of ``needs_tools`` markers before the test runs."""
    for mark in item.iter_markers("needs_tools"):
        require_tools(*mark.args)
