"""The error the patient's twin raises: a twin or session file, or a value in one, is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devicetwin.errors import DeviceTwinError


class TwinError(DeviceTwinError):
    """A twin file, an imported session or a value in one is not what the twin accepts."""


def check_file_format(data: Mapping[str, Any], fmt: str, version: int, what: str,
                      source: str) -> None:
    """Raise TwinError unless ``data`` says it is ``fmt`` at ``version`` (a devicetwin
    ``what`` file read from ``source``)."""
    if data.get("format") != fmt or data.get("version") != version:
        raise TwinError(f"{source}: not a devicetwin {what} file (format "
                        f"{data.get('format')!r}, version {data.get('version')!r})",
                        name="format", value=data.get("format"),
                        expected=f"{fmt} version {version}")
