"""hil: the bench a user runs: sessions, the emulated device, scenarios, recordings, reports."""

from hil.errors import HilError

__all__ = ["HilError"]
