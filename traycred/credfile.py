"""The credentials-file store: writes traycred's sections, leaves every other byte as it was.

Sections traycred owns carry `x_traycred_expiration`. Every change is one locked
read-modify-write (fileio.file_lock, re-read under the lock, fileio.atomic_write), so an edit
another tool made a moment earlier is never lost. A section without the marker is foreign:
traycred refuses to overwrite or delete it. Long-term keys are never written.

The file is edited with inifile.IniDocument, so comments, blank lines, key case, CRLF, a BOM
and bytes that are not UTF-8 survive. The written file is 0600 (an existing wider mode is
tightened, since the file holds secrets); a folder traycred creates is 0700.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from traycred import fileio, paths
from traycred.config import OWNER_MARKER
from traycred.credentials import Credentials, format_iso, parse_iso
from traycred.errors import CredentialsFileError, ForeignSectionError
from traycred.inifile import IniDocument, IniEditError, Problem, check_option, check_section_name

ACCESS_KEY_ID = "aws_access_key_id"
SECRET_ACCESS_KEY = "aws_secret_access_key"  # noqa: S105 - a key name, not a secret
SESSION_TOKEN = "aws_session_token"  # noqa: S105 - a key name, not a secret
# botocore still reads the pre-2014 name of the session token; keys import removes it too.
LEGACY_SESSION_TOKEN = "aws_security_token"  # noqa: S105 - a key name, not a secret
_PLAINTEXT_KEYS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, LEGACY_SESSION_TOKEN)
# Python's configparser folds a [DEFAULT] section into every other section, so credentials
# written there would leak into every profile botocore reads.
_RESERVED_NAMES = frozenset({"DEFAULT"})
BACKUP_INFIX = ".traycred-backup-"


@dataclass(frozen=True)
class OwnedSection:
    name: str
    access_key_id: str
    expiration: datetime


class CredentialsStore:
    """The shared credentials file at `path` (default: paths.aws_credentials_file())."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else paths.aws_credentials_file()

    def __repr__(self) -> str:
        return f"CredentialsStore({str(self.path)!r})"

    # Reading (a snapshot, without the lock: atomic writes mean a reader never sees a torn file)

    def _read(self) -> tuple[bytes | None, IniDocument]:
        data = fileio.read_bytes(self.path)
        return data, IniDocument.parse(data or b"")

    def owned_sections(self) -> dict[str, OwnedSection]:
        """Sections traycred wrote, by name (read without the lock; a snapshot).

        A marked section whose values are incomplete or whose expiry does not parse is left
        out here (it is still traycred's to overwrite); so is a duplicated one.
        """
        _, document = self._read()
        owned: dict[str, OwnedSection] = {}
        for name in document.section_names():
            if name in owned or document.count(name) != 1:
                continue
            credentials = _owned_credentials(document.items(name))
            if credentials is not None and credentials.expiration is not None:
                owned[name] = OwnedSection(name, credentials.access_key_id, credentials.expiration)
        return owned

    def read_owned(self, name: str) -> Credentials | None:
        """The temporary credentials in owned section `name`, or None."""
        _, document = self._read()
        if document.count(name) != 1:
            return None
        return _owned_credentials(document.items(name))

    def plaintext_keys(self) -> dict[str, Credentials]:
        """Section -> plaintext keys, for every foreign section holding a key pair (for `keys
        import`: read with the parser its removal edits with). A session token, modern or
        legacy (`aws_security_token`), is included: such keys are temporary and cannot be
        imported. CredentialsFileError when a section is duplicated (botocore reads none then).
        """
        _, document = self._read()
        keys: dict[str, Credentials] = {}
        for section, items in document.sections().items():
            self._refuse_duplicate(document, section)
            key_id = items.get(ACCESS_KEY_ID)
            secret = items.get(SECRET_ACCESS_KEY)
            if OWNER_MARKER in items or not key_id or not secret:
                continue
            token = items.get(SESSION_TOKEN) or items.get(LEGACY_SESSION_TOKEN) or None
            keys[section] = Credentials(key_id, secret, token)
        return keys

    def problems(self) -> tuple[Problem, ...]:
        """What botocore would reject or misread in the file (for `doctor`), by line."""
        _, document = self._read()
        return document.problems

    # Writing -------------------------------------------------------------------------------

    def write(self, updates: Mapping[str, Credentials], *, remove: Iterable[str] = ()) -> None:
        """One locked write: set each owned section of `updates`, delete owned sections `remove`.

        Raises ForeignSectionError (naming the section and the way out) when a target section
        exists without the marker, and CredentialsFileError for long-term keys (no session token
        or no expiration). Nothing is written when anything is refused. A section of `remove`
        that is absent or foreign is left alone: it is not traycred's output to delete.
        """
        removals = list(dict.fromkeys(remove))
        overlap = set(removals) & set(updates)
        if overlap:
            raise ValueError(f"sections both updated and removed: {sorted(overlap)}")
        bodies = {name: self._owned_body(name, creds) for name, creds in updates.items()}
        if not bodies and (not removals or not self.path.exists()):
            return
        with fileio.file_lock(self.path):
            data, document = self._read()
            for name in bodies:
                if name in document:
                    self._refuse_duplicate(document, name)
                    self._refuse_foreign(document, name)
            doomed = [
                name
                for name in removals
                if name in document and OWNER_MARKER in self._single_items(document, name)
            ]
            try:
                for name in doomed:
                    document.delete_section(name)
                for name, body in bodies.items():
                    document.set_section(name, body)
            except IniEditError as exc:
                raise self._unsafe(exc) from exc
            new = document.to_bytes()
            if new == (data or b""):
                return
            fileio.remove_stale_temp_files(self.path)
            fileio.atomic_write(self.path, new)

    def remove_long_term_keys(self, section: str) -> Path:
        """For `keys import`: back up the file (0600), then delete the key lines of `section`.

        Returns the backup's path. Other keys of the section and every other byte stay; a
        section left without any key is deleted (its comments stay).
        """
        if not self.path.exists():
            raise CredentialsFileError(
                f"There is no credentials file at {self.path}.",
                hint="Run `traycred profiles` to see which profiles have plaintext keys.",
            )
        with fileio.file_lock(self.path):
            data, document = self._read()
            if data is None or section not in document:
                raise CredentialsFileError(
                    f"[{section}] is not in {self.path}.",
                    hint="Run `traycred profiles` to see which profiles have plaintext keys.",
                )
            items = self._single_items(document, section)
            if OWNER_MARKER in items:
                raise CredentialsFileError(
                    f"[{section}] in {self.path} holds temporary credentials traycred wrote, "
                    "not long-term keys.",
                    hint="Nothing was changed; use `traycred logout` to remove it.",
                )
            if ACCESS_KEY_ID not in items and SECRET_ACCESS_KEY not in items:
                raise CredentialsFileError(
                    f"[{section}] in {self.path} holds no access keys.",
                    hint="Nothing was changed.",
                )
            try:
                document.delete_keys(section, _PLAINTEXT_KEYS)
                if not document.items(section):
                    document.delete_section(section)
            except IniEditError as exc:
                raise self._unsafe(exc) from exc
            backup = self._backup(data)
            fileio.remove_stale_temp_files(self.path)
            fileio.atomic_write(self.path, document.to_bytes())
            return backup

    # Helpers -------------------------------------------------------------------------------

    def _owned_body(self, name: str, credentials: Credentials) -> list[tuple[str, str]]:
        try:
            check_section_name(name)
            valid = name not in _RESERVED_NAMES and name == name.strip()
        except IniEditError:
            valid = False
        if not valid:
            raise CredentialsFileError(
                f"{name!r} cannot be a section of the credentials file.",
                hint="Choose another output name for this profile.",
            )
        if not credentials.session_token or credentials.expiration is None:
            raise CredentialsFileError(
                f"Refused to write [{name}] to {self.path}: traycred writes only temporary "
                "credentials (with a session token and an expiry), never long-term keys.",
                hint="Nothing was written.",
            )
        body = [
            (ACCESS_KEY_ID, credentials.access_key_id),
            (SECRET_ACCESS_KEY, credentials.secret_access_key),
            (SESSION_TOKEN, credentials.session_token),
            (OWNER_MARKER, format_iso(credentials.expiration)),
        ]
        for key, value in body:
            try:
                check_option(key, value)
            except IniEditError:
                valid = False
            if not value or not valid:
                # The message names the field, never its (secret) value.
                raise CredentialsFileError(
                    f"Refused to write [{name}]: its {key} is empty or spans several lines.",
                    hint="Nothing was written; refresh the profile to get new credentials.",
                )
        return body

    def _single_items(self, document: IniDocument, name: str) -> dict[str, str]:
        self._refuse_duplicate(document, name)
        return document.items(name)

    def _refuse_duplicate(self, document: IniDocument, name: str) -> None:
        count = document.count(name)
        if count > 1:
            raise CredentialsFileError(
                f"[{name}] appears {count} times in {self.path}, so AWS tools cannot read the "
                "file and traycred will not guess which one to change.",
                hint=f"Merge the [{name}] sections into one, then try again.",
            )

    def _refuse_foreign(self, document: IniDocument, name: str) -> None:
        items = document.items(name)
        if OWNER_MARKER in items:
            return
        if ACCESS_KEY_ID in items or SECRET_ACCESS_KEY in items:
            raise ForeignSectionError(
                f"[{name}] holds credentials traycred did not write (your own keys?).",
                section=name,
                hint=f"Move them to the keyring with `traycred keys import {name}`, "
                "or choose another output name for this profile.",
            )
        raise ForeignSectionError(
            f"[{name}] in {self.path} holds settings traycred did not write.",
            section=name,
            hint="Remove that section yourself, or choose another output name for this profile.",
        )

    def _unsafe(self, exc: IniEditError) -> CredentialsFileError:
        return CredentialsFileError(
            f"Cannot change {self.path} safely: {exc}.",
            hint="Start that section header at the beginning of its line, then try again.",
        )

    def _backup(self, data: bytes) -> Path:
        """Write `data` to a new `<file>.traycred-backup-<UTC time>` (0600); never overwrites
        an older backup. Called under the file's lock, which also serialises backups."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        base = self.path.with_name(f"{self.path.name}{BACKUP_INFIX}{stamp}")
        backup = base
        suffix = 1
        while os.path.lexists(backup):
            suffix += 1
            backup = base.with_name(f"{base.name}-{suffix}")
        fileio.atomic_write(backup, data)
        return backup


def _owned_credentials(items: Mapping[str, str]) -> Credentials | None:
    marker = items.get(OWNER_MARKER)
    key_id = items.get(ACCESS_KEY_ID)
    secret = items.get(SECRET_ACCESS_KEY)
    token = items.get(SESSION_TOKEN)
    if not (marker and key_id and secret and token):
        return None
    try:
        expiration = parse_iso(marker)
    except ValueError:
        return None
    return Credentials(key_id, secret, token, expiration)
