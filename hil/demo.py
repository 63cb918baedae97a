"""``devicetwin demo``: the main job on built-in defaults."""

from __future__ import annotations

from hil.errors import HilError


def run_demo(duration_s: float = 20.0, seed: int = 1) -> int:
    """Run the demo; returns the exit code."""
    raise HilError(f"demo not built yet (duration_s={duration_s}, seed={seed})")
