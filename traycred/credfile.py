"""The credentials-file store: writes traycred's sections, leaves every other byte as it was.

Sections traycred owns carry `x_traycred_expiration`. Every change is one locked
read-modify-write (fileio.file_lock, re-read under the lock, fileio.atomic_write), so an edit
another tool made a moment earlier is never lost. A section without the marker is foreign:
traycred refuses to overwrite or delete it. Long-term keys are never written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from traycred.credentials import Credentials

OWNER_MARKER = "x_traycred_expiration"


@dataclass(frozen=True)
class OwnedSection:
    name: str
    access_key_id: str
    expiration: datetime


class CredentialsStore:
    """The shared credentials file at `path` (default: paths.aws_credentials_file())."""

    def __init__(self, path: Path | None = None) -> None:
        raise NotImplementedError

    def owned_sections(self) -> dict[str, OwnedSection]:
        """Sections traycred wrote, by name (read without the lock; a snapshot)."""
        raise NotImplementedError

    def read_owned(self, name: str) -> Credentials | None:
        """The temporary credentials in owned section `name`, or None."""
        raise NotImplementedError

    def write(self, updates: Mapping[str, Credentials], *, remove: Iterable[str] = ()) -> None:
        """One locked write: set each owned section of `updates`, delete owned sections `remove`.

        Raises ForeignSectionError (naming the section and the way out) when a target section
        exists without the marker, and CredentialsFileError for long-term keys (no session token
        or no expiration). Nothing is written when anything is refused.
        """
        raise NotImplementedError

    def remove_long_term_keys(self, section: str) -> Path:
        """For `keys import`: back up the file (0600), then delete the key lines of `section`.

        Returns the backup's path. Other keys of the section and every other byte stay.
        """
        raise NotImplementedError
