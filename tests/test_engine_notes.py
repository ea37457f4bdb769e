"""What refresh tells the user about SDK precedence (SPEC §2.2), and the scheduler's one-read
expiries: real engine runs against the emulator, real keyring, real files."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from tests.fixtures.aws_setup import credentials_file, store_keys, write_config
from tests.test_engine import CONFIG, with_code
from traycred.credentials import format_iso, utcnow
from traycred.credfile import CredentialsStore, OwnedSection
from traycred.emulator import Emulator, Scenario
from traycred.engine import Engine, SchedulerEngine
from traycred.settings import SettingsStore


def test_several_shadowed_roles_get_one_summary_line(
    isolated_home: Path, real_keyring: str, emulator: Emulator
) -> None:
    write_config(isolated_home, CONFIG)
    store_keys("alice", "ci")
    report = with_code("123456").refresh(["admin", "deploy", "readonly", "ci-deploy"])
    assert report.ok, report.outcomes
    (note,) = report.notes
    assert "\n" not in note
    assert note.startswith(
        "note: SDK tools resolve admin, deploy, readonly and ci-deploy from your AWS config"
    )
    # alice's key is in the keyring, which SDKs cannot read; ci's is too here.
    assert "admin, deploy, readonly and ci-deploy they cannot resolve" in note
    assert "`traycred refresh admin --output admin-live`" in note
    assert "login or MFA prompt" not in note
    # Each profile's own outcome still says it, for a front end showing one profile.
    assert all(len(o.notes) == 1 and o.profile in o.notes[0] for o in report.outcomes)


def test_roles_on_plaintext_keys_are_assumed_by_sdks_themselves(
    isolated_home: Path, real_keyring: str, emulator: Emulator
) -> None:
    write_config(
        isolated_home,
        CONFIG + "\n[profile plain]\n[profile plain-deploy]\n"
        "role_arn = arn:aws:iam::111111111111:role/deploy\nsource_profile = plain\n",
    )
    from traycred.emulator.scenario import CI_ACCESS_KEY_ID, CI_SECRET_ACCESS_KEY

    credentials_file(isolated_home).write_text(
        f"[plain]\naws_access_key_id = {CI_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {CI_SECRET_ACCESS_KEY}\n"
    )
    report = Engine(None).refresh(["plain-deploy"])
    assert report.ok, report.outcomes
    (note,) = report.notes
    assert (
        "plain-deploy they assume themselves (with their own MFA prompt where one is needed)"
        in (note)
    )


def test_sso_profiles_are_noted_as_needing_no_new_login(
    isolated_home: Path, emulator_factory: Callable[[Scenario], Emulator]
) -> None:
    from tests.test_sso_helpers import SESSION, UserPrompter, fast_scenario
    from tests.test_sso_helpers import write_config as write_sso_config
    from traycred.sso.tokens import SsoTokenService

    emu = emulator_factory(fast_scenario())
    write_sso_config()
    SsoTokenService().sign_in(SESSION, UserPrompter(emu), profiles=("prod-ro", "dev-admin"))
    report = Engine(None).refresh(["prod-ro", "dev-admin"])
    assert report.ok, report.outcomes
    (note,) = report.notes
    assert note == (
        "note: SDK tools resolve prod-ro and dev-admin from your AWS config and skip [prod-ro] "
        "and [dev-admin] of the credentials file: prod-ro and dev-admin they get through the "
        "SSO sign-in they share with traycred (no new login needed)."
    )


def test_credential_process_profiles_are_not_shadowed(
    isolated_home: Path, emulator: Emulator, tmp_path: Path
) -> None:
    """botocore reads the credentials file before running credential_process (as
    config.shadowed_reason says), so what traycred writes is what SDKs use: no note."""
    answer = {
        "Version": 1,
        "AccessKeyId": "ASIAPROCESSEXAMPLE01",
        "SecretAccessKey": "process/secret",
        "SessionToken": "process-token",
        "Expiration": format_iso(utcnow() + timedelta(hours=1)),
    }
    script = tmp_path / "creds.py"
    script.write_text(f"print({json.dumps(json.dumps(answer))})\n")
    write_config(isolated_home, f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    report = Engine(None).refresh(["proc"])
    assert report.ok, report.outcomes
    assert report.outcomes[0].sections == ("proc",)
    assert report.notes == () and report.outcomes[0].notes == ()


class CountingStore(CredentialsStore):
    """The real store, counting how often the scheduler's engine reads the file."""

    reads = 0

    def owned_sections(self) -> dict[str, OwnedSection]:
        self.reads += 1
        return super().owned_sections()


def test_expiries_read_the_file_once_and_agree_with_expiry(
    isolated_home: Path, real_keyring: str, emulator: Emulator
) -> None:
    write_config(isolated_home, CONFIG)
    store_keys("alice", "ci")
    written = with_code("123456").refresh(["deploy", "readonly"])
    assert written.ok, written.outcomes
    assert Engine(None).refresh(["ci-deploy"], output="ci-live").ok
    Engine(None).use("audit")  # the default, not kept fresh itself: only [default]
    names = ["deploy", "readonly", "ci-deploy", "audit", "admin", "unknown"]

    store = CountingStore()
    engine = SchedulerEngine(Engine(None, credentials_store=store))
    batch = engine.expiries(names)
    assert store.reads == 1
    one_by_one = {name: engine.expiry(name) for name in names}
    assert store.reads == 1 + len(names)
    assert batch == one_by_one
    expected = {o.profile: o.expiration for o in written.outcomes}
    assert batch["deploy"] == expected["deploy"] and batch["readonly"] == expected["readonly"]
    assert batch["ci-deploy"] is not None and batch["audit"] is not None
    assert batch["admin"] is None and batch["unknown"] is None
    assert SettingsStore().load().default_profile == "audit"
