"""The tray's menu, tooltip and icon state as plain values, built from AppState; no GUI toolkit.

Both backends (Qt, pystray) render the same `MenuItem` tree, so they show the same entries; a
click comes back as the item's `action` and `arg`, which `TrayController.perform` carries out.
Everything here is pure: no files, keyring or AWS, so it runs on the GUI thread at every change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from traycred.state import AppState, Overall, ProfileState, ProfileStatus
from traycred.ui.icon import IconState

if TYPE_CHECKING:
    from traycred.config import AwsConfig
    from traycred.settings import Settings

APP_NAME = "traycred"
# A menu line never grows wider than this; longer messages are cut with an ellipsis.
MAX_LINE = 90


class ItemKind(StrEnum):
    ACTION = "action"
    RADIO = "radio"
    CHECK = "check"
    SUBMENU = "submenu"
    SEPARATOR = "separator"
    HEADER = "header"  # a label that cannot be clicked (state lines, group titles)


class Action(StrEnum):
    """What a menu item asks for; `MenuItem.arg` names the profile or SSO session."""

    USE = "use"  # make arg the default profile
    KEEP_FRESH = "keep-fresh"  # toggle keep-fresh for arg
    REFRESH = "refresh"  # refresh arg now
    REFRESH_ALL = "refresh-all"
    SIGN_IN = "sign-in"  # sign in to SSO session arg
    ENTER_MFA = "enter-mfa"  # ask the MFA code the profiles of arg's source wait for
    COPY_EXPORT = "copy-export"  # `export` lines of arg's credentials to the clipboard
    OPEN_CONSOLE = "open-console"  # the AWS console signed in as arg
    ADD_KEY = "add-key"
    IMPORT_KEYS = "import-keys"
    SETTINGS = "settings"
    ABOUT = "about"
    QUIT = "quit"


@dataclass(frozen=True)
class MenuItem:
    label: str = ""
    kind: ItemKind = ItemKind.ACTION
    action: Action | None = None
    arg: str | None = None
    enabled: bool = True
    checked: bool = False
    children: tuple[MenuItem, ...] = ()
    # Drawn bold where the toolkit can: what needs the user, and the default line.
    prominent: bool = False

    def find(self, action: Action, arg: str | None = None) -> MenuItem | None:
        """The first item below (or at) this one with `action` (and `arg` when given)."""
        return find_item((self,), action, arg)


SEPARATOR = MenuItem(kind=ItemKind.SEPARATOR)


def header(label: str) -> MenuItem:
    return MenuItem(label=label, kind=ItemKind.HEADER, enabled=False)


def find_item(items: Iterable[MenuItem], action: Action, arg: str | None = None) -> MenuItem | None:
    for item in items:
        if item.action is action and (arg is None or item.arg == arg):
            return item
        found = find_item(item.children, action, arg)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class ProfileInfo:
    """What the menu needs to know about one profile of the user's files (no secrets)."""

    name: str
    kind: str  # traycred.config.Kind value
    group: str  # the title it is listed under: its kind, or its SSO session
    sso_session: str | None = None
    reason: str | None = None  # why it cannot be used (invalid profiles)

    @property
    def usable(self) -> bool:
        return self.kind != "invalid"

    @property
    def can_be_default(self) -> bool:
        # Pasted session keys cannot be renewed, so [default] could not be kept fresh.
        return self.usable and self.kind != "session-keys"

    @property
    def is_sso(self) -> bool:
        return self.sso_session is not None


_GROUP_TITLES = {
    "keyring-keys": "Access keys (keyring)",
    "static-keys": "Access keys (plaintext file)",
    "assume-role": "Roles",
    "process": "credential_process",
    "session-keys": "Pasted session keys",
    "invalid": "Cannot be used",
}
_GROUP_ORDER = tuple(_GROUP_TITLES.values())


def profile_infos(config: AwsConfig) -> tuple[ProfileInfo, ...]:
    """Every profile of `config`, sorted by name, with its menu group."""
    infos = []
    for name in sorted(config.profiles):
        profile = config.profiles[name]
        session = profile.sso_session.name if profile.sso_session is not None else None
        kind = str(profile.kind.value)
        group = f"SSO session {session}" if session is not None else _GROUP_TITLES.get(kind, kind)
        if kind == "invalid":
            group = _GROUP_TITLES["invalid"]
        infos.append(ProfileInfo(name, kind, group, session, profile.invalid_reason))
    return tuple(infos)


def _grouped(profiles: Sequence[ProfileInfo]) -> list[tuple[str, list[ProfileInfo]]]:
    """Profiles by group: SSO sessions first (by name), then kinds in a fixed order."""
    groups: dict[str, list[ProfileInfo]] = {}
    for info in profiles:
        groups.setdefault(info.group, []).append(info)

    def order(title: str) -> tuple[int, str]:
        if title in _GROUP_ORDER:
            return (1 + _GROUP_ORDER.index(title), title)
        return (0, title)

    return [(title, groups[title]) for title in sorted(groups, key=order)]


# --- words -----------------------------------------------------------------------------------


def format_left(remaining: timedelta | None) -> str:
    """'52 min left', '3 h 05 min left', 'less than a minute left', 'expired'."""
    if remaining is None:
        return "nothing written yet"
    seconds = int(remaining.total_seconds())
    if seconds <= 0:
        return "expired"
    if seconds < 60:
        return "less than a minute left"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min left"


def _cut(text: str, limit: int = MAX_LINE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def status_line(state: ProfileState | None, now: datetime) -> str:
    """One line saying how a profile stands, for its submenu and the tooltip."""
    if state is None:
        return "Not kept fresh"
    status = state.status
    if status is ProfileStatus.REFRESHING:
        return "Refreshing…"
    if status is ProfileStatus.NEEDS_MFA:
        return "Needs an MFA code"
    if status is ProfileStatus.NEEDS_SIGN_IN:
        return "Needs an SSO sign-in"
    if status is ProfileStatus.ERROR:
        times = f" ({state.failures}×)" if state.failures > 1 else ""
        why = f": {state.message}" if state.message else ""
        return _cut(f"Refresh failed{times}{why}")
    if status is ProfileStatus.IDLE:
        return "Not written yet"
    left = format_left(state.remaining(now))
    if status is ProfileStatus.EXPIRING:
        return f"Expiring — {left}"
    return f"Fresh — {left}"


def default_line(state: AppState, now: datetime) -> str:
    """The menu's top line: the default profile and how long it lasts (or what it needs)."""
    name = state.default_profile
    if name is None:
        return "No default profile"
    current = state.default
    if current is None:
        return f"Default: {name}"
    status = current.status
    if status in (ProfileStatus.FRESH, ProfileStatus.EXPIRING):
        return f"Default: {name} — {format_left(current.remaining(now))}"
    line = status_line(current, now)
    return f"Default: {name} — {line[0].lower()}{line[1:]}"


def _needs_session(state: ProfileState) -> str | None:
    if state.status is ProfileStatus.NEEDS_SIGN_IN and (state.group or "").startswith("sso:"):
        return (state.group or "")[4:]
    return None


def sessions_needing_sign_in(state: AppState) -> tuple[str, ...]:
    """SSO sessions that a kept-fresh profile is parked on, sorted."""
    return tuple(sorted({s for p in state.profiles if (s := _needs_session(p)) is not None}))


def mfa_groups(state: AppState) -> dict[str, tuple[str, ...]]:
    """Group (source identity) -> kept-fresh profiles waiting for an MFA code."""
    groups: dict[str, list[str]] = {}
    for profile in state.profiles:
        if profile.status is ProfileStatus.NEEDS_MFA:
            groups.setdefault(profile.group or f"profile:{profile.name}", []).append(profile.name)
    return {group: tuple(names) for group, names in groups.items()}


def join_names(names: Sequence[str], limit: int = 3) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b, c and 2 more' (plain text)."""
    shown = list(names[:limit])
    rest = len(names) - len(shown)
    if rest > 0:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


# --- the menu --------------------------------------------------------------------------------


def _profile_submenu(
    info: ProfileInfo, state: ProfileState | None, settings: Settings, now: datetime
) -> MenuItem:
    name = info.name
    kept = settings.profile(name).managed
    children: list[MenuItem] = [header(status_line(state, now))]
    if info.kind == "session-keys":
        children.append(header("Pasted temporary keys: traycred cannot renew them"))
    children += [
        SEPARATOR,
        MenuItem("Keep fresh", ItemKind.CHECK, Action.KEEP_FRESH, name, checked=kept),
        MenuItem("Refresh now", action=Action.REFRESH, arg=name),
    ]
    if info.is_sso:
        children.append(MenuItem("Sign in…", action=Action.SIGN_IN, arg=info.sso_session))
    children += [
        MenuItem("Copy export lines", action=Action.COPY_EXPORT, arg=name),
        MenuItem("Open AWS console", action=Action.OPEN_CONSOLE, arg=name),
    ]
    if info.kind == "session-keys":
        children = [
            c if c.action not in (Action.KEEP_FRESH, Action.REFRESH) else _disabled(c)
            for c in children
        ]
    label = name
    if state is not None:
        label = f"{name} — {_short_status(state, now)}"
    return MenuItem(label, ItemKind.SUBMENU, children=tuple(children))


def _disabled(item: MenuItem) -> MenuItem:
    return MenuItem(
        item.label, item.kind, item.action, item.arg, False, item.checked, item.children
    )


def _short_status(state: ProfileState, now: datetime) -> str:
    if state.status in (ProfileStatus.FRESH, ProfileStatus.EXPIRING):
        return format_left(state.remaining(now))
    return {
        ProfileStatus.REFRESHING: "refreshing…",
        ProfileStatus.NEEDS_MFA: "needs MFA code",
        ProfileStatus.NEEDS_SIGN_IN: "needs sign-in",
        ProfileStatus.ERROR: "refresh failed",
        ProfileStatus.IDLE: "not written yet",
    }.get(state.status, str(state.status))


def _default_submenu(state: AppState, profiles: Sequence[ProfileInfo]) -> MenuItem:
    candidates = [p for p in profiles if p.can_be_default]
    children: list[MenuItem] = []
    for title, members in _grouped(candidates):
        children.append(header(title))
        for info in members:
            children.append(
                MenuItem(
                    info.name,
                    ItemKind.RADIO,
                    Action.USE,
                    info.name,
                    checked=info.name == state.default_profile,
                )
            )
    if not children:
        children.append(header("No usable profile yet: add an access key"))
    return MenuItem("Default profile", ItemKind.SUBMENU, children=tuple(children))


def build_menu(
    state: AppState,
    profiles: Sequence[ProfileInfo],
    settings: Settings,
    sign_in_sessions: Iterable[str] = (),
    *,
    now: datetime | None = None,
) -> tuple[MenuItem, ...]:
    """SPEC §4's menu for this moment: what needs the user on top, then the default, profiles,
    keys, settings. `sign_in_sessions` adds SSO sessions known to need a sign-in (besides those
    a kept-fresh profile is parked on)."""
    now = now or datetime.now(UTC)
    items: list[MenuItem] = []
    by_name = {p.name: p for p in profiles}
    states = {p.name: p for p in state.profiles}

    sessions = sorted(set(sign_in_sessions) | set(sessions_needing_sign_in(state)))
    for session in sessions:
        items.append(
            MenuItem(
                f"Sign in to SSO session {session}…",
                action=Action.SIGN_IN,
                arg=session,
                prominent=True,
            )
        )
    for names in mfa_groups(state).values():
        items.append(
            MenuItem(
                f"Enter MFA code for {join_names(names)}…",
                action=Action.ENTER_MFA,
                arg=names[0],
                prominent=True,
            )
        )
    if items:
        items.append(SEPARATOR)

    items.append(MenuItem(default_line(state, now), ItemKind.HEADER, enabled=False, prominent=True))
    items.append(_default_submenu(state, profiles))
    items.append(SEPARATOR)

    kept = [p.name for p in state.profiles]
    for name in kept:
        info = by_name.get(name) or ProfileInfo(name, "unknown", "Other")
        items.append(_profile_submenu(info, states.get(name), settings, now))
    others = [p for p in profiles if p.usable and p.name not in states]
    invalid = [p for p in profiles if not p.usable]
    if others or invalid:
        children: list[MenuItem] = []
        for title, members in _grouped(others):
            children.append(header(title))
            children += [_profile_submenu(i, None, settings, now) for i in members]
        if invalid:
            children.append(header(_GROUP_TITLES["invalid"]))
            children += [header(_cut(f"{i.name}: {i.reason or 'invalid'}")) for i in invalid]
        title = "Other profiles" if kept else "Profiles"
        items.append(MenuItem(title, ItemKind.SUBMENU, children=tuple(children)))
    items.append(
        MenuItem("Refresh all now", action=Action.REFRESH_ALL, enabled=bool(state.profiles))
    )
    items.append(SEPARATOR)
    items.append(MenuItem("Add access key…", action=Action.ADD_KEY))
    has_plaintext = any(p.kind == "static-keys" for p in profiles)
    items.append(
        MenuItem("Import plaintext keys…", action=Action.IMPORT_KEYS, enabled=has_plaintext)
    )
    items.append(SEPARATOR)
    items.append(MenuItem("Settings…", action=Action.SETTINGS))
    items.append(MenuItem("About", action=Action.ABOUT))
    items.append(MenuItem("Quit", action=Action.QUIT))
    return tuple(items)


# --- tooltip and icon ------------------------------------------------------------------------


def tooltip(state: AppState, *, now: datetime | None = None) -> str:
    """'traycred' then the default and its remaining time, then what needs the user."""
    now = now or datetime.now(UTC)
    lines = [APP_NAME]
    if state.default_profile is not None:
        lines.append(default_line(state, now))
    elif not state.profiles:
        lines.append("No profile kept fresh yet")
    needs = [
        f"{p.name}: {status_line(p, now).lower()}"
        for p in state.profiles
        if p.needs_user and p.name != state.default_profile
    ]
    failing = [
        f"{p.name}: refresh failed"
        for p in state.profiles
        if p.status is ProfileStatus.ERROR and p.name != state.default_profile
    ]
    extra = needs + failing
    lines += extra[:3]
    if len(extra) > 3:
        lines.append(f"and {len(extra) - 3} more")
    return "\n".join(lines)


_ICON_STATES = {
    Overall.FRESH: IconState.FRESH,
    Overall.EXPIRING: IconState.EXPIRING,
    Overall.NEEDS_USER: IconState.NEEDS_USER,
    Overall.ERROR: IconState.ERROR,
    Overall.IDLE: IconState.IDLE,
}


def icon_state(state: AppState) -> IconState:
    return _ICON_STATES[state.overall]


@dataclass(frozen=True)
class TrayView:
    """Everything a backend shows at one moment."""

    state: AppState = field(default_factory=AppState)
    menu: tuple[MenuItem, ...] = ()
    tooltip: str = APP_NAME
    icon: IconState = IconState.IDLE


def build_view(
    state: AppState,
    profiles: Sequence[ProfileInfo],
    settings: Settings,
    sign_in_sessions: Iterable[str] = (),
    *,
    now: datetime | None = None,
) -> TrayView:
    now = now or datetime.now(UTC)
    return TrayView(
        state=state,
        menu=build_menu(state, profiles, settings, sign_in_sessions, now=now),
        tooltip=tooltip(state, now=now),
        icon=icon_state(state),
    )
