"""State values the front ends show: per managed profile, the default, and one overall state.

Produced by the scheduler (and, with no instance running, computed from the credentials file by
`traycred status`). Plain frozen values with a JSON form, so the same snapshot travels over the
local channel. No secrets: names, statuses, expiry times and user-facing messages only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from traycred.credentials import format_iso, parse_iso

if TYPE_CHECKING:
    from traycred.settings import Settings


class ProfileStatus(StrEnum):
    FRESH = "fresh"  # valid beyond the refresh margin
    EXPIRING = "expiring"  # within the margin (or expired) and not refreshed yet
    REFRESHING = "refreshing"
    NEEDS_MFA = "needs-mfa"
    NEEDS_SIGN_IN = "needs-sign-in"
    ERROR = "error"  # the last refresh failed; `message` says why, retries are scheduled
    IDLE = "idle"  # nothing written yet and nothing happening


class Overall(StrEnum):
    """One state for the tray icon (the icon module draws one picture per value)."""

    FRESH = "fresh"
    EXPIRING = "expiring"
    NEEDS_USER = "needs-user"
    ERROR = "error"
    IDLE = "idle"


NEEDS_USER_STATUSES = frozenset({ProfileStatus.NEEDS_MFA, ProfileStatus.NEEDS_SIGN_IN})


@dataclass(frozen=True)
class ProfileState:
    name: str
    status: ProfileStatus
    expiration: datetime | None = None  # of the credentials in place now
    message: str | None = None  # for ERROR / NEEDS_*: what happened and what to do
    group: str | None = None  # profiles of one group (source or SSO session) refresh together
    next_refresh: datetime | None = None
    failures: int = 0
    is_default: bool = False

    @property
    def needs_user(self) -> bool:
        return self.status in NEEDS_USER_STATUSES

    def remaining(self, now: datetime | None = None) -> timedelta | None:
        if self.expiration is None:
            return None
        return self.expiration - (now or datetime.now(UTC))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "expiration": _iso(self.expiration),
            "message": self.message,
            "group": self.group,
            "next_refresh": _iso(self.next_refresh),
            "failures": self.failures,
            "default": self.is_default,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileState:
        return cls(
            name=str(data["name"]),
            status=ProfileStatus(data["status"]),
            expiration=_parse(data.get("expiration")),
            message=data.get("message"),
            group=data.get("group"),
            next_refresh=_parse(data.get("next_refresh")),
            failures=int(data.get("failures") or 0),
            is_default=bool(data.get("default")),
        )


@dataclass(frozen=True)
class AppState:
    """One snapshot: every kept-fresh profile (sorted by name), the default, the overall state."""

    profiles: tuple[ProfileState, ...] = ()
    default_profile: str | None = None
    running: bool = True  # False when computed from files with no instance running

    @property
    def overall(self) -> Overall:
        return overall_of(self.profiles)

    def profile(self, name: str) -> ProfileState | None:
        for state in self.profiles:
            if state.name == name:
                return state
        return None

    @property
    def default(self) -> ProfileState | None:
        return None if self.default_profile is None else self.profile(self.default_profile)

    def needing_user(self) -> tuple[ProfileState, ...]:
        return tuple(p for p in self.profiles if p.needs_user)

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": self.overall.value,
            "default_profile": self.default_profile,
            "running": self.running,
            "profiles": [p.to_json() for p in self.profiles],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppState:
        return cls(
            profiles=tuple(ProfileState.from_json(p) for p in data.get("profiles", ())),
            default_profile=data.get("default_profile"),
            running=bool(data.get("running", True)),
        )


def overall_of(profiles: Iterable[ProfileState]) -> Overall:
    """The icon's state: the most urgent of the profiles' (needs you > error > expiring > fresh)."""
    profiles = tuple(profiles)
    statuses = {p.status for p in profiles}
    if statuses & NEEDS_USER_STATUSES:
        return Overall.NEEDS_USER
    if ProfileStatus.ERROR in statuses:
        return Overall.ERROR
    if ProfileStatus.EXPIRING in statuses:
        return Overall.EXPIRING
    # A refresh under way counts as fresh only over credentials already in place: with nothing
    # written yet (say, while the first MFA dialog waits) a green "all fresh" would be false.
    if ProfileStatus.FRESH in statuses or any(
        p.status is ProfileStatus.REFRESHING and p.expiration is not None for p in profiles
    ):
        return Overall.FRESH
    return Overall.IDLE


def status_from_expiry(
    expiration: datetime | None, margin: timedelta, now: datetime
) -> ProfileStatus:
    """FRESH, EXPIRING or IDLE from the expiry of the credentials in place alone."""
    if expiration is None:
        return ProfileStatus.IDLE
    return ProfileStatus.EXPIRING if expiration - now <= margin else ProfileStatus.FRESH


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else format_iso(moment)


def _parse(value: Any) -> datetime | None:
    return None if not value else parse_iso(str(value))


def offline_state(
    settings: Settings, expirations: Mapping[str, datetime], now: datetime | None = None
) -> AppState:
    """What `status` shows with no instance running: the settings and the credentials file's
    owned sections (`expirations`: section name -> expiry), no AWS call."""
    now = now or datetime.now(UTC)
    margin = timedelta(seconds=settings.refresh_margin_seconds)
    default = settings.default_profile
    profiles = []
    for name in sorted(settings.kept_fresh()):
        section = settings.sections_of(name)[0]
        expiration = expirations.get(section)
        status = status_from_expiry(expiration, margin, now)
        message = None
        if status is ProfileStatus.IDLE:
            message = f"Not written yet; run `traycred refresh {name}`."
        elif status is ProfileStatus.EXPIRING:
            message = (
                "No traycred instance is running to renew it; start `traycred` or `traycred "
                f"daemon`, or run `traycred refresh {name}`."
            )
        profiles.append(
            ProfileState(
                name=name,
                status=status,
                expiration=expiration,
                message=message,
                is_default=name == default,
            )
        )
    return AppState(profiles=tuple(profiles), default_profile=default, running=False)
