"""The tray's "Open AWS console": the controller builds the sign-in URL off the GUI thread."""

from __future__ import annotations

import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from traycred.console import ENDPOINT_ENV
from traycred.emulator import Emulator
from traycred.emulator.scenario import (
    AUDIT_EXTERNAL_ID,
    AUDIT_ROLE_ARN,
    CI_ACCESS_KEY_ID,
    CI_SECRET_ACCESS_KEY,
)
from traycred.ui.controller import TrayController, create
from traycred.ui.model import Action


class Recorder:
    """A TrayListener that keeps what the front end would have shown or opened."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.failures: list[str] = []
        self.threads: list[str] = []
        self.done = threading.Event()

    def view_changed(self, view: object) -> None:
        pass

    def notify(self, notice: object) -> None:
        pass

    def action_done(self, action: Action, arg: str | None, message: str | None) -> None:
        self.done.set()

    def action_failed(self, action: Action, arg: str | None, message: str) -> None:
        self.failures.append(message)
        self.done.set()

    def copy_text(self, text: str) -> None:
        pass

    def open_url(self, url: str) -> None:
        self.threads.append(threading.current_thread().name)
        self.urls.append(url)

    def show_menu(self) -> None:
        pass


@pytest.fixture
def tray(
    emulator: Emulator, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TrayController, Recorder]]:
    monkeypatch.setenv(ENDPOINT_ENV, f"{emulator.url}/federation")
    # Role credentials are cached in the keyring: this test's own service, nothing inherited.
    monkeypatch.setenv("TRAYCRED_KEYRING_SERVICE", f"traycred-test-{uuid.uuid4().hex[:12]}")
    aws_dir = isolated_home / ".aws"
    aws_dir.mkdir(mode=0o700)
    (aws_dir / "config").write_text(
        "[profile ci]\nregion = us-east-1\n\n"
        f"[profile audit]\nrole_arn = {AUDIT_ROLE_ARN}\nsource_profile = ci\n"
        f"external_id = {AUDIT_EXTERNAL_ID}\nregion = eu-west-1\n"
    )
    (aws_dir / "credentials").write_text(
        f"[ci]\naws_access_key_id = {CI_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {CI_SECRET_ACCESS_KEY}\n"
    )
    controller = create(None)
    recorder = Recorder()
    controller.set_listener(recorder)
    try:
        yield controller, recorder
    finally:
        controller.stop()


def test_open_console_opens_the_sign_in_url_of_the_role(
    tray: tuple[TrayController, Recorder],
) -> None:
    controller, recorder = tray
    controller.perform(Action.OPEN_CONSOLE, "audit").result(30)
    assert recorder.failures == []
    assert len(recorder.urls) == 1
    assert not recorder.threads[0].startswith("MainThread")
    url = recorder.urls[0]
    assert "region%3Deu-west-1" in url
    with urllib.request.urlopen(url, timeout=5) as page:  # noqa: S310 - loopback emulator
        assert ">audit</b>" in page.read().decode()


def test_open_console_for_an_access_key_says_what_to_do(
    tray: tuple[TrayController, Recorder],
) -> None:
    controller, recorder = tray
    with pytest.raises(Exception, match="needs role or SSO credentials"):
        controller.perform(Action.OPEN_CONSOLE, "ci").result(30)
    assert recorder.urls == []
    assert len(recorder.failures) == 1
    assert "Open it from a role profile that uses ci as its source" in recorder.failures[0]
    assert CI_SECRET_ACCESS_KEY not in recorder.failures[0]
