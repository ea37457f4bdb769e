"""Long-term access keys (and MFA sessions) in the OS keyring, with a timeout on every call.

Service name `traycred` (overridable with TRAYCRED_KEYRING_SERVICE). An auto-selected plaintext
backend is refused; a missing, locked or hung keyring gives KeyringError within seconds.
"""

from __future__ import annotations

from traycred.credentials import Credentials

DEFAULT_SERVICE = "traycred"
DEFAULT_TIMEOUT_SECONDS = 5.0


class Keystore:
    def __init__(
        self, service: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        raise NotImplementedError

    def backend_name(self) -> str:
        raise NotImplementedError

    def profiles(self) -> dict[str, str]:
        """Profile name -> access key id of every stored long-term key (no secrets)."""
        raise NotImplementedError

    def get_key(self, profile: str) -> Credentials | None:
        raise NotImplementedError

    def set_key(self, profile: str, key: Credentials) -> None:
        """Store a long-term key (no session token) for `profile`."""
        raise NotImplementedError

    def delete_key(self, profile: str) -> bool:
        raise NotImplementedError

    def get_session(self, name: str) -> Credentials | None:
        """Temporary credentials stored under `name` (an MFA session); None if absent or expired."""
        raise NotImplementedError

    def set_session(self, name: str, credentials: Credentials) -> None:
        raise NotImplementedError

    def delete_session(self, name: str) -> bool:
        raise NotImplementedError
