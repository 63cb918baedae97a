"""Where a twin's data came from, without saying who it came from.

A provenance block keeps the SHA-256 of every source file (so a clinic holding the original can
prove which recording a twin was calibrated on), the importer and tool versions, the device's
pseudonym (a salted hash of its serial number) and the list of de-identification steps applied.
It never keeps a file name, a path, a date or a free-text field of the source: each of those can
name the patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devicetwin.twin.errors import TwinError

#: Source formats the importers read.
SOURCE_FORMATS = ("wfdb", "csv", "bench")


@dataclass(frozen=True, slots=True)
class Provenance:
    """The de-identified origin of an imported session.

    Attributes
    ----------
    source_format:
        ``wfdb`` (a WFDB record), ``bench`` (a record this project's bench wrote) or ``csv``.
    source_sha256:
        Role of each source file (``header``, ``signals``, ``annotations:atr``, ``csv``,
        ``manifest``) -> its SHA-256; roles, not file names, since a file name can be a name.
    device_pseudonym:
        ``"sn-"`` + a salted hash of the device serial number, or None when the source had none.
    salt:
        ``per-import`` (a fresh random salt: pseudonyms of two imports never match) or
        ``salt-file`` (a salt the user keeps: the same device gets the same pseudonym).
    removed:
        What the importer removed or replaced (header comments, base date, record name...).
    tool_version:
        The devicetwin version that imported the source.
    """

    source_format: str
    source_sha256: Mapping[str, str]
    device_pseudonym: str | None
    salt: str
    removed: tuple[str, ...]
    tool_version: str
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.source_format not in SOURCE_FORMATS:
            raise TwinError(f"provenance source_format {self.source_format!r} is not one of "
                            f"{SOURCE_FORMATS}", name="source_format", value=self.source_format,
                            expected=f"one of {SOURCE_FORMATS}")
        for role, digest in self.source_sha256.items():
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise TwinError(f"provenance hash of {role!r} ({digest!r}) is not a SHA-256 hex "
                                "digest", name="source_sha256", value=digest,
                                expected="64 lowercase hex digits")
        if self.salt not in ("per-import", "salt-file"):
            raise TwinError(f"provenance salt {self.salt!r} is not per-import or salt-file",
                            name="salt", value=self.salt, expected="per-import or salt-file")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return {"source_format": self.source_format,
                "source_sha256": dict(sorted(self.source_sha256.items())),
                "device_pseudonym": self.device_pseudonym, "salt": self.salt,
                "removed": list(self.removed), "tool_version": self.tool_version,
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        """The inverse of :meth:`to_dict` (validated)."""
        try:
            return cls(str(data["source_format"]), dict(data["source_sha256"]),
                       data.get("device_pseudonym"), str(data["salt"]),
                       tuple(data.get("removed", ())), str(data["tool_version"]),
                       tuple(data.get("notes", ())))
        except KeyError as err:
            raise TwinError(f"provenance lacks {err.args[0]!r}", name="provenance",
                            value=sorted(data), expected="source_format, source_sha256, salt, "
                            "tool_version") from None
