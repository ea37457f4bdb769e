"""`traycred status [--json]`: from the running instance when there is one, else from the files."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from traycred.channel.server import ChannelServer
from traycred.cli.main import main
from traycred.credentials import Credentials, utcnow
from traycred.credfile import CredentialsStore
from traycred.errors import MfaCodeNeededError
from traycred.settings import SettingsStore
from traycred.state import AppState, ProfileState, ProfileStatus


def creds(minutes: float) -> Credentials:
    expiry = (utcnow() + timedelta(minutes=minutes)).replace(microsecond=0)
    return Credentials("ASIAEXAMPLESTATUS001", "secret" * 6 + "abcd", "token" * 30, expiry)


def manage(*names: str, default: str | None = None) -> None:
    def change(settings):  # type: ignore[no-untyped-def]
        for name in names:
            settings = settings.with_profile(name, managed=True)
        return settings.replace(default_profile=default)

    SettingsStore().update(change)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["status", *args]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_nothing_managed_and_nothing_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys) == (
        "No traycred instance is running; shown from the credentials file.\n"
        "No profile is kept fresh. Keep one with `traycred refresh PROFILE`.\n"
    )


def test_without_an_instance_status_comes_from_the_credentials_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    manage("dev", "prod", "new", default="dev")
    CredentialsStore().write({"dev": creds(125), "default": creds(125), "prod": creds(-3)})
    out = run(capsys)
    lines = out.splitlines()
    assert lines[0] == "No traycred instance is running; shown from the credentials file."
    assert lines[1].split() == ["PROFILE", "STATE", "EXPIRES", "(UTC)", "LEFT"]
    assert lines[2].split()[:3] == ["*", "dev", "fresh"]
    assert lines[2].endswith("2 h 4 min") or lines[2].endswith("2 h 5 min")
    assert lines[3].split()[:2] == ["new", "not"] and lines[3].endswith("-")
    assert lines[4].split()[:2] == ["prod", "expired"] and lines[4].endswith("expired")
    assert "* default: [default] gets the credentials of dev." in lines
    assert "new: Not written yet; run `traycred refresh new`." in lines
    assert any(
        line.startswith("prod: No traycred instance is running to renew it") for line in lines
    )

    data = json.loads(run(capsys, "--json"))
    assert data["instance"] is None and data["running"] is False
    assert data["default_profile"] == "dev"
    assert {p["name"]: p["status"] for p in data["profiles"]} == {
        "dev": "fresh",
        "new": "idle",
        "prod": "expiring",
    }
    assert data["overall"] == "expiring"
    assert "secret" not in out and "token" not in json.dumps(data)


class Tray:
    def status(self) -> AppState:
        expiry = datetime.now(UTC) + timedelta(hours=3)
        return AppState(
            profiles=(
                ProfileState("dev", ProfileStatus.FRESH, expiry, is_default=True),
                ProfileState(
                    "prod",
                    ProfileStatus.NEEDS_MFA,
                    None,
                    message=str(MfaCodeNeededError("An MFA code for alice is needed (prod).")),
                ),
            ),
            default_profile="dev",
        )

    def credentials(self, profile: str) -> Credentials:
        raise AssertionError("status never asks for credentials")

    def refresh(
        self, profiles: Sequence[str], mfa_code: str | None
    ) -> Mapping[str, datetime | Exception]:
        raise AssertionError("status never refreshes")

    def use(self, profile: str) -> datetime | None:
        raise AssertionError("status never changes the default")

    def show_menu(self) -> None:
        raise AssertionError("status never shows the menu")


def test_with_an_instance_running_status_is_what_it_knows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    manage("dev")  # the files say little; the instance knows prod waits for a code
    with ChannelServer(Tray(), kind="tray"):
        out = run(capsys)
        data = json.loads(run(capsys, "--json"))
    lines = out.splitlines()
    assert lines[0] == f"traycred tray running (pid {os.getpid()})."
    assert lines[2].split()[:3] == ["*", "dev", "fresh"]
    assert lines[3].split()[:4] == ["prod", "needs", "MFA", "code"]
    assert lines[-1] == "prod: An MFA code for alice is needed (prod)."
    assert data["instance"]["kind"] == "tray" and data["running"] is True
    assert data["overall"] == "needs-user"
