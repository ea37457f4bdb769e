"""Which tray notifications to show: one per condition that needs the user, never routine news.

Conditions (SPEC §4): an MFA code is needed, an SSO sign-in is needed, a profile's refresh failed
repeatedly, the default is about to expire while it waits for the user. Each is announced once
when it appears and again only after it has gone away and come back. No GUI toolkit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from traycred.state import AppState, ProfileStatus
from traycred.ui.model import join_names, mfa_groups, sessions_needing_sign_in

# A refresh failing this many times in a row is worth telling the user about.
FAILURES_TO_NOTIFY = 3
# The default waiting for the user with less than this left gets its own warning.
EXPIRY_WARNING = timedelta(minutes=10)


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Notice:
    key: tuple[str, str]  # the condition: ("mfa", group), ("sign-in", session), ...
    title: str
    message: str
    level: Level = Level.INFO


def conditions(state: AppState, now: datetime | None = None) -> dict[tuple[str, str], Notice]:
    """Every notifiable condition in `state`, by key."""
    now = now or datetime.now(UTC)
    found: dict[tuple[str, str], Notice] = {}
    for group, names in mfa_groups(state).items():
        key = ("mfa", group)
        found[key] = Notice(
            key,
            "MFA code needed",
            f"{join_names(names)} {'waits' if len(names) == 1 else 'wait'} for an MFA code. "
            "Choose “Enter MFA code…” in the traycred menu.",
            Level.WARNING,
        )
    for session in sessions_needing_sign_in(state):
        key = ("sign-in", session)
        found[key] = Notice(
            key,
            "SSO sign-in needed",
            f"SSO session {session} needs a sign-in. Choose “Sign in to SSO session "
            f"{session}…” in the traycred menu.",
            Level.WARNING,
        )
    for profile in state.profiles:
        if profile.status is ProfileStatus.ERROR and profile.failures >= FAILURES_TO_NOTIFY:
            key = ("failing", profile.name)
            why = f": {profile.message}" if profile.message else "."
            found[key] = Notice(
                key,
                f"Refreshing {profile.name} keeps failing",
                f"{profile.failures} attempts failed{why} traycred keeps retrying; the "
                "credentials in place stay until they expire.",
                Level.ERROR,
            )
    default = state.default
    if default is not None and default.needs_user:
        remaining = default.remaining(now)
        if remaining is not None and remaining <= EXPIRY_WARNING:
            key = ("expiring", default.name)
            left = max(0, int(remaining.total_seconds()) // 60)
            when = "has expired" if remaining.total_seconds() <= 0 else f"expires in {left} min"
            found[key] = Notice(
                key,
                f"Default profile {default.name} {when}",
                "It cannot be renewed until you act: "
                + (
                    "enter an MFA code."
                    if default.status is ProfileStatus.NEEDS_MFA
                    else "sign in to its SSO session."
                ),
                Level.WARNING,
            )
    return found


class NoticeTracker:
    """Remembers which conditions were announced, so each is announced once while it lasts."""

    def __init__(self) -> None:
        self._active: set[tuple[str, str]] = set()

    def update(self, state: AppState, now: datetime | None = None) -> list[Notice]:
        """The notices for conditions that are new since the last update."""
        current = conditions(state, now)
        new = [notice for key, notice in current.items() if key not in self._active]
        self._active = set(current)
        return new
