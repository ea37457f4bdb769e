"""Keyring backends for fault injection, selected in child processes by PYTHON_KEYRING_BACKEND.

`PYTHON_KEYRING_BACKEND=tests.keyring_backends.HangingKeyring` (with PYTHONPATH at the repo)
gives a keyring that never answers; `...PlaintextFileKeyring` one that stores secrets in a
plain JSON file (path in TRAYCRED_TEST_KEYRING_FILE); `...LockedKeyring` one that is locked.
Their priorities are negative so keyring never picks them on its own, except the plaintext one
when TRAYCRED_TEST_PLAINTEXT_PRIORITY is set (to test refusal of an auto-selected plaintext
backend).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import KeyringLocked, PasswordDeleteError


class HangingKeyring(KeyringBackend):
    """Every call blocks (like a Secret Service waiting on an unlock prompt nobody answers)."""

    priority = -1

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(3600)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(3600)

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(3600)


class LockedKeyring(KeyringBackend):
    """Every call fails the way SecretService does when the user dismisses the unlock prompt."""

    priority = -1

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class PlaintextFileKeyring(KeyringBackend):
    """Secrets in a plain JSON file: works, but marked plaintext so traycred refuses it unless
    the user names it."""

    plaintext = True

    @properties.classproperty
    def priority(cls) -> float:
        return float(os.environ.get("TRAYCRED_TEST_PLAINTEXT_PRIORITY", "-1"))

    @staticmethod
    def _path() -> Path:
        return Path(
            os.environ.get("TRAYCRED_TEST_KEYRING_FILE")
            or Path.home() / ".traycred-test-plaintext-keyring.json"
        )

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\0{username}"] = password
        self._path().write_text(json.dumps(data), encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\0{username}", None) is None:
            raise PasswordDeleteError("No such password!")
        self._path().write_text(json.dumps(data), encoding="utf-8")
