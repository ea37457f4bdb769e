"""`traycred status [--json]`: kept-fresh profiles, their expiry, the default, what needs you.

Asks the running tray or daemon (which knows about refreshes in progress, retries and what waits
for the user); with none running, reads the settings and the credentials file's owned sections
(no AWS call).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from traycred.state import AppState, ProfileState, ProfileStatus

LABELS = {
    ProfileStatus.FRESH: "fresh",
    ProfileStatus.EXPIRING: "expiring soon",
    ProfileStatus.REFRESHING: "refreshing",
    ProfileStatus.NEEDS_MFA: "needs MFA code",
    ProfileStatus.NEEDS_SIGN_IN: "needs sign-in",
    ProfileStatus.ERROR: "refresh failed",
    ProfileStatus.IDLE: "not written yet",
}


def run(args: argparse.Namespace) -> int:
    state, instance = current_state()
    if args.json:
        data: dict[str, Any] = {"instance": instance, **state.to_json()}
        print(json.dumps(data, indent=2))
        return 0
    sys.stdout.write(render(state, instance))
    return 0


def current_state() -> tuple[AppState, dict[str, Any] | None]:
    """The running instance's state and {pid, kind}, else the state computed from files."""
    from traycred.channel import client

    try:
        state = AppState.from_json(client.call("status"))
    except (client.Unavailable, client.InstanceError):
        pass
    else:
        return state, client.ping()
    from traycred.credfile import CredentialsStore
    from traycred.settings import SettingsStore
    from traycred.state import offline_state

    settings = SettingsStore().load()
    owned = CredentialsStore().owned_sections()
    expirations = {name: section.expiration for name, section in owned.items()}
    return offline_state(settings, expirations), None


def render(state: AppState, instance: dict[str, Any] | None, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    lines = []
    if instance is not None:
        lines.append(
            f"traycred {instance.get('kind', 'instance')} running (pid {instance.get('pid')})."
        )
    else:
        lines.append("No traycred instance is running; shown from the credentials file.")
    if not state.profiles:
        lines.append("No profile is kept fresh. Keep one with `traycred refresh PROFILE`.")
        return "\n".join(lines) + "\n"
    rows = [("", "PROFILE", "STATE", "EXPIRES (UTC)", "LEFT")]
    for profile in state.profiles:
        rows.append(
            (
                "*" if profile.is_default else "",
                profile.name,
                _label(profile, now),
                profile.expiration.strftime("%Y-%m-%d %H:%M:%S") if profile.expiration else "-",
                _left(profile, now),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if state.default_profile is not None:
        lines.append(f"* default: [default] gets the credentials of {state.default_profile}.")
    waiting = [p for p in state.profiles if p.message and p.status is not ProfileStatus.FRESH]
    if waiting:
        lines.append("")
        lines.extend(f"{p.name}: {p.message}" for p in waiting)
    return "\n".join(lines) + "\n"


def _label(profile: ProfileState, now: datetime) -> str:
    expired = profile.expiration is not None and profile.expiration <= now
    if expired and profile.status in (ProfileStatus.FRESH, ProfileStatus.EXPIRING):
        return "expired"
    return LABELS[profile.status]


def _left(profile: ProfileState, now: datetime) -> str:
    left = profile.remaining(now)
    if left is None:
        return "-"
    seconds = int(left.total_seconds())
    if seconds <= 0:
        return "expired"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{secs} s"
