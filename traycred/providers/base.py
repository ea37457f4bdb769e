"""The Provider protocol: each answers one question, "give me credentials for this profile"."""

from __future__ import annotations

from typing import Protocol

from traycred.credentials import Credentials


class Provider(Protocol):
    def retrieve(self) -> Credentials:
        """Fresh credentials, or a TraycredError saying what is wrong and what to do."""
        ...
