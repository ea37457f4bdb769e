"""The menu model as the user reads it: what is on top, how profiles are grouped, what is ticked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from traycred.settings import ProfileSettings, Settings
from traycred.state import AppState, ProfileState, ProfileStatus
from traycred.ui.icon import IconState
from traycred.ui.model import (
    Action,
    ItemKind,
    MenuItem,
    ProfileInfo,
    build_menu,
    find_item,
    format_left,
    icon_state,
    tooltip,
)
from traycred.ui.notices import NoticeTracker

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

PROFILES = (
    ProfileInfo("admin", "assume-role", "Roles"),
    ProfileInfo("alice", "keyring-keys", "Access keys (keyring)"),
    ProfileInfo("deploy", "assume-role", "Roles"),
    ProfileInfo("old", "static-keys", "Access keys (plaintext file)"),
    ProfileInfo("pasted", "session-keys", "Pasted session keys"),
    ProfileInfo("sso-dev", "sso-session", "SSO session corp", sso_session="corp"),
    ProfileInfo("sso-prod", "sso-session", "SSO session corp", sso_session="corp"),
    ProfileInfo("broken", "invalid", "Cannot be used", reason="source_profile loop"),
)


def settings(default: str | None = None, managed: tuple[str, ...] = ()) -> Settings:
    return Settings(
        default_profile=default,
        profiles=MappingProxyType({n: ProfileSettings(managed=True) for n in managed}),
    )


def fresh(name: str, minutes: int = 52, **kw: object) -> ProfileState:
    return ProfileState(
        name=name,
        status=kw.pop("status", ProfileStatus.FRESH),  # type: ignore[arg-type]
        expiration=NOW + timedelta(minutes=minutes, seconds=30),
        **kw,  # type: ignore[arg-type]
    )


def labels(items: tuple[MenuItem, ...]) -> list[str]:
    return [i.label for i in items if i.kind is not ItemKind.SEPARATOR]


def submenu(items: tuple[MenuItem, ...], label_start: str) -> MenuItem:
    found = [i for i in items if i.kind is ItemKind.SUBMENU and i.label.startswith(label_start)]
    assert found, f"no submenu {label_start!r} in {labels(items)}"
    return found[0]


def test_default_and_its_remaining_time_come_first() -> None:
    state = AppState(
        profiles=(fresh("admin", is_default=True, group="source:alice"),),
        default_profile="admin",
    )
    menu = build_menu(state, PROFILES, settings("admin", ("admin",)), now=NOW)
    assert menu[0].label == "Default: admin — 52 min left"
    assert menu[0].kind is ItemKind.HEADER and menu[0].prominent
    assert tooltip(state, now=NOW) == "traycred\nDefault: admin — 52 min left"


def test_without_a_default_the_menu_says_so() -> None:
    menu = build_menu(AppState(), PROFILES, settings(), now=NOW)
    assert menu[0].label == "No default profile"
    assert "No profile kept fresh yet" in tooltip(AppState(), now=NOW)
    # Nothing is kept fresh: every usable profile sits in one "Profiles" submenu.
    assert submenu(menu, "Profiles").children


def test_default_submenu_groups_usable_profiles_and_ticks_the_default() -> None:
    state = AppState(default_profile="deploy")
    menu = build_menu(state, PROFILES, settings("deploy"), now=NOW)
    default = submenu(menu, "Default profile")
    shown = [(i.kind, i.label) for i in default.children]
    assert shown == [
        (ItemKind.HEADER, "SSO session corp"),
        (ItemKind.RADIO, "sso-dev"),
        (ItemKind.RADIO, "sso-prod"),
        (ItemKind.HEADER, "Access keys (keyring)"),
        (ItemKind.RADIO, "alice"),
        (ItemKind.HEADER, "Access keys (plaintext file)"),
        (ItemKind.RADIO, "old"),
        (ItemKind.HEADER, "Roles"),
        (ItemKind.RADIO, "admin"),
        (ItemKind.RADIO, "deploy"),
    ]
    ticked = [i.label for i in default.children if i.checked]
    assert ticked == ["deploy"]
    assert all(i.action is Action.USE and i.arg == i.label for i in default.children if i.arg)
    # Pasted keys cannot be renewed and broken profiles cannot be used: not offered.
    assert "pasted" not in labels(default.children)
    assert "broken" not in labels(default.children)


def test_kept_fresh_profiles_get_their_own_submenu_with_every_action() -> None:
    state = AppState(
        profiles=(
            fresh("admin", minutes=125, group="source:alice"),
            ProfileState("sso-dev", ProfileStatus.NEEDS_SIGN_IN, group="sso:corp"),
        )
    )
    menu = build_menu(state, PROFILES, settings(None, ("admin", "sso-dev")), now=NOW)
    admin = submenu(menu, "admin")
    assert admin.label == "admin — 2 h 05 min left"
    assert labels(admin.children) == [
        "Fresh — 2 h 05 min left",
        "Keep fresh",
        "Refresh now",
        "Copy export lines",
        "Open AWS console",
    ]
    keep = admin.find(Action.KEEP_FRESH, "admin")
    assert keep is not None and keep.kind is ItemKind.CHECK and keep.checked
    sso = submenu(menu, "sso-dev")
    assert "Sign in…" in labels(sso.children)
    sign_in = sso.find(Action.SIGN_IN)
    assert sign_in is not None and sign_in.arg == "corp"
    # The others are one level down, grouped, with keep-fresh off.
    others = submenu(menu, "Other profiles")
    deploy = submenu(others.children, "deploy")
    keep = deploy.find(Action.KEEP_FRESH, "deploy")
    assert keep is not None and not keep.checked
    assert deploy.children[0].label == "Not kept fresh"


def test_sessions_needing_sign_in_are_on_top_and_prominent() -> None:
    state = AppState(
        profiles=(
            ProfileState("sso-dev", ProfileStatus.NEEDS_SIGN_IN, group="sso:corp"),
            ProfileState("sso-prod", ProfileStatus.NEEDS_SIGN_IN, group="sso:corp"),
        )
    )
    menu = build_menu(state, PROFILES, settings(), ["other"], now=NOW)
    assert menu[0].label == "Sign in to SSO session corp…"
    assert menu[0].action is Action.SIGN_IN and menu[0].arg == "corp" and menu[0].prominent
    assert menu[1].label == "Sign in to SSO session other…"
    assert menu[2].kind is ItemKind.SEPARATOR
    assert icon_state(state) is IconState.NEEDS_USER


def test_profiles_waiting_for_one_mfa_code_get_one_entry() -> None:
    state = AppState(
        profiles=(
            ProfileState("admin", ProfileStatus.NEEDS_MFA, group="source:alice", is_default=True),
            ProfileState("deploy", ProfileStatus.NEEDS_MFA, group="source:alice"),
        ),
        default_profile="admin",
    )
    menu = build_menu(state, PROFILES, settings("admin", ("deploy",)), now=NOW)
    assert menu[0].label == "Enter MFA code for admin and deploy…"
    assert menu[0].action is Action.ENTER_MFA
    assert find_item(menu, Action.ENTER_MFA, "deploy") is None  # one entry, not two
    top = next(i for i in menu if i.kind is ItemKind.HEADER)
    assert top.label == "Default: admin — needs an MFA code"
    assert "deploy: needs an mfa code" in tooltip(state, now=NOW)


def test_failures_show_the_message_and_the_icon_turns_to_error() -> None:
    state = AppState(
        profiles=(
            fresh(
                "admin",
                status=ProfileStatus.ERROR,
                failures=3,
                message="Could not reach STS: connection refused.",
            ),
        )
    )
    menu = build_menu(state, PROFILES, settings(None, ("admin",)), now=NOW)
    admin = submenu(menu, "admin")
    assert admin.label == "admin — refresh failed"
    assert (
        admin.children[0].label == "Refresh failed (3×): Could not reach STS: connection refused."
    )
    assert icon_state(state) is IconState.ERROR
    assert "admin: refresh failed" in tooltip(state, now=NOW)


def test_icon_follows_the_most_urgent_state() -> None:
    assert icon_state(AppState()) is IconState.IDLE
    assert icon_state(AppState(profiles=(fresh("a"),))) is IconState.FRESH
    # A refresh over credentials in place stays green; a first one (nothing written yet, e.g.
    # while the MFA dialog waits for the code) is not "all fresh".
    renewing = fresh("a", status=ProfileStatus.REFRESHING)
    assert icon_state(AppState(profiles=(renewing,))) is IconState.FRESH
    first = ProfileState("a", ProfileStatus.REFRESHING)
    assert icon_state(AppState(profiles=(first,))) is IconState.IDLE
    expiring = fresh("b", minutes=3, status=ProfileStatus.EXPIRING)
    assert icon_state(AppState(profiles=(fresh("a"), expiring))) is IconState.EXPIRING


def test_fixed_entries_and_plaintext_import_only_when_there_are_plaintext_keys() -> None:
    menu = build_menu(AppState(), PROFILES, settings(), now=NOW)
    tail = labels(menu)[-6:]
    assert tail == [
        "Refresh all now",
        "Add access key…",
        "Import plaintext keys…",
        "Settings…",
        "About",
        "Quit",
    ]
    assert find_item(menu, Action.IMPORT_KEYS).enabled  # type: ignore[union-attr]
    assert not find_item(menu, Action.REFRESH_ALL).enabled  # type: ignore[union-attr]
    without = build_menu(AppState(), PROFILES[:3], settings(), now=NOW)
    assert not find_item(without, Action.IMPORT_KEYS).enabled  # type: ignore[union-attr]


def test_invalid_profiles_are_listed_with_their_reason_but_not_clickable() -> None:
    menu = build_menu(AppState(), PROFILES, settings(), now=NOW)
    profiles = submenu(menu, "Profiles")
    broken = [i for i in profiles.children if i.label.startswith("broken")]
    assert broken == [
        MenuItem("broken: source_profile loop", ItemKind.HEADER, enabled=False),
    ]


def test_pasted_session_keys_cannot_be_kept_fresh() -> None:
    menu = build_menu(AppState(), PROFILES, settings(), now=NOW)
    pasted = submenu(submenu(menu, "Profiles").children, "pasted")
    keep = pasted.find(Action.KEEP_FRESH)
    assert keep is not None and not keep.enabled
    copy = pasted.find(Action.COPY_EXPORT)
    assert copy is not None and copy.enabled


def test_remaining_time_words() -> None:
    assert format_left(timedelta(seconds=30)) == "less than a minute left"
    assert format_left(timedelta(minutes=59, seconds=59)) == "59 min left"
    assert format_left(timedelta(hours=11, minutes=3)) == "11 h 03 min left"
    assert format_left(timedelta(seconds=-5)) == "expired"
    assert format_left(None) == "nothing written yet"


def test_each_condition_is_notified_once_until_it_changes() -> None:
    tracker = NoticeTracker()
    waiting = AppState(
        profiles=(ProfileState("admin", ProfileStatus.NEEDS_MFA, group="source:alice"),)
    )
    first = tracker.update(waiting, NOW)
    assert [n.title for n in first] == ["MFA code needed"]
    assert "admin" in first[0].message
    assert tracker.update(waiting, NOW) == []  # same condition: quiet
    routine = AppState(profiles=(fresh("admin", group="source:alice"),))
    assert tracker.update(routine, NOW) == []  # a routine refresh: never a notification
    assert [n.title for n in tracker.update(waiting, NOW)] == ["MFA code needed"]


def test_the_mfa_notice_reads_right_for_one_profile_and_for_several() -> None:
    def message(*names: str) -> str:
        state = AppState(
            profiles=tuple(
                ProfileState(n, ProfileStatus.NEEDS_MFA, group="source:alice") for n in names
            )
        )
        (notice,) = NoticeTracker().update(state, NOW)
        return notice.message

    assert message("admin").startswith("admin waits for an MFA code.")
    assert message("admin", "deploy", "readonly").startswith(
        "admin, deploy and readonly wait for an MFA code."
    )


def test_repeated_failures_and_an_expiring_default_that_needs_the_user_are_notified() -> None:
    tracker = NoticeTracker()
    twice = AppState(profiles=(fresh("ci", status=ProfileStatus.ERROR, failures=2),))
    assert tracker.update(twice, NOW) == []
    thrice = AppState(
        profiles=(fresh("ci", status=ProfileStatus.ERROR, failures=3, message="Throttled."),)
    )
    (notice,) = tracker.update(thrice, NOW)
    assert notice.title == "Refreshing ci keeps failing"
    assert "Throttled." in notice.message
    assert (
        tracker.update(
            AppState(profiles=(fresh("ci", status=ProfileStatus.ERROR, failures=4),)), NOW
        )
        == []
    )

    expiring = AppState(
        profiles=(
            fresh(
                "admin",
                minutes=4,
                status=ProfileStatus.NEEDS_SIGN_IN,
                is_default=True,
                group="sso:corp",
            ),
        ),
        default_profile="admin",
    )
    titles = sorted(n.title for n in NoticeTracker().update(expiring, NOW))
    assert titles == ["Default profile admin expires in 4 min", "SSO sign-in needed"]
