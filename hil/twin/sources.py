"""What every importer shares: the salt for device pseudonyms, source hashes, session ids."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from devicetwin import __version__
from devicetwin.twin import Provenance
from devicetwin.twin.deidentify import MIN_SALT_BYTES
from hil.errors import ConfigError
from hil.recording.manifest import sha256_file

SALT_BYTES = 32
#: Libraries the importers read through, whose debug logs quote the source's file names (a
#: file name can be a patient's name): kept at ERROR while a source is read.
QUIET_LOGGERS = ("fsspec", "wfdb")


@contextmanager
def quiet_source_logs() -> Iterator[None]:
    """While reading a source, the libraries of :data:`QUIET_LOGGERS` log errors only."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, saved, strict=True):
            lg.setLevel(level)


def read_salt_file(path: Path | str) -> bytes:
    """The salt in a salt file: hex digits (at least 32 of them) on the first line.

    Keep the file apart from the twins: with it, a guessed serial number can be tested against
    a pseudonym; without it, not.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="ascii").strip().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the salt file: {err}", name="salt_file", value=str(p),
                          expected="a readable file of hex digits", source=str(p)) from None
    first = text[0].strip() if text else ""
    try:
        salt = bytes.fromhex(first)
    except ValueError:
        salt = b""
    if len(salt) < MIN_SALT_BYTES:
        raise ConfigError(f"the salt file holds {len(first)} characters, not at least "
                          f"{2 * MIN_SALT_BYTES} hex digits", name="salt_file",
                          value=f"{len(first)} characters", expected=f">= {2 * MIN_SALT_BYTES} "
                          "hex digits", source=str(p), line=1)
    return salt


def new_salt() -> bytes:
    """A fresh random salt (a per-import pseudonym that no other import shares)."""
    return secrets.token_bytes(SALT_BYTES)


def hash_sources(files: Mapping[str, Path]) -> dict[str, str]:
    """Role -> SHA-256 of each source file."""
    return {role: sha256_file(path) for role, path in files.items()}


def session_id(hashes: Mapping[str, str]) -> str:
    """``rec-`` + 12 hex digits of the hash of the sources' hashes."""
    joined = "\n".join(f"{k}={v}" for k, v in sorted(hashes.items()))
    return "rec-" + hashlib.sha256(joined.encode("ascii")).hexdigest()[:12]


def provenance(source_format: str, hashes: Mapping[str, str], device_pseudonym: str | None,
               salt_from_file: bool, removed: list[str]) -> Provenance:
    """The provenance block of an import."""
    return Provenance(source_format, dict(hashes), device_pseudonym,
                      "salt-file" if salt_from_file else "per-import", tuple(removed),
                      __version__)
