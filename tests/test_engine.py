"""The STS engine in-process against the emulator: one MFA session per source, chains, errors."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fixtures.aws_setup import credentials_file, store_keys, write_config
from traycred.credentials import utcnow
from traycred.emulator import Emulator
from traycred.emulator.scenario import (
    ADMIN_ROLE_ARN,
    ALICE_MFA_SERIAL,
    ALICE_SECRET_ACCESS_KEY,
    AUDIT_ROLE_ARN,
    CHAINED_ROLE_ARN,
    CI_ACCESS_KEY_ID,
    CI_SECRET_ACCESS_KEY,
    DEPLOY_ROLE_ARN,
    READONLY_ROLE_ARN,
)
from traycred.engine import Engine
from traycred.errors import AwsError, ConfigError, CredentialsFileError, MfaCodeNeededError
from traycred.keystore import Keystore
from traycred.prompt.noninteractive import NonInteractivePrompter
from traycred.settings import SettingsStore

CONFIG = f"""\
[default]
region = us-east-1

[profile alice]
mfa_serial = {ALICE_MFA_SERIAL}

[profile admin]
role_arn = {ADMIN_ROLE_ARN}
source_profile = alice
mfa_serial = {ALICE_MFA_SERIAL}

[profile deploy]
role_arn = {DEPLOY_ROLE_ARN}
source_profile = alice

[profile readonly]
role_arn = {READONLY_ROLE_ARN}
source_profile = alice

[profile chained]
role_arn = {CHAINED_ROLE_ARN}
source_profile = deploy
duration_seconds = 7200

[profile audit]
role_arn = {AUDIT_ROLE_ARN}
source_profile = alice
external_id = demo-external-id

[profile ci]

[profile ci-admin]
role_arn = {ADMIN_ROLE_ARN}
source_profile = ci

[profile ci-deploy]
role_arn = {DEPLOY_ROLE_ARN}
source_profile = ci

[profile env-deploy]
role_arn = {DEPLOY_ROLE_ARN}
credential_source = Environment

[profile ec2-deploy]
role_arn = {DEPLOY_ROLE_ARN}
credential_source = Ec2InstanceMetadata
"""


@pytest.fixture
def setup(isolated_home: Path, real_keyring: str, emulator: Emulator) -> Path:
    write_config(isolated_home, CONFIG)
    store_keys("alice", "ci")
    return isolated_home


def with_code(code: str | None) -> Engine:
    return Engine(NonInteractivePrompter(code, stdin_pipe=False))


def test_one_get_session_token_serves_every_role_on_the_source(
    setup: Path, emulator: Emulator
) -> None:
    first = with_code("123456").refresh(["admin"])
    assert first.ok, first.outcomes
    # A new engine (as a new CLI run): the MFA session comes back from the keyring, no code.
    second = with_code(None).refresh(["deploy", "readonly"])
    assert second.ok, second.outcomes

    assert emulator.count("GetSessionToken") == 1
    session = Keystore().get_session("mfa:alice")
    assert session is not None
    assume_calls = [c for c in emulator.calls if c.operation == "AssumeRole"]
    assert len(assume_calls) == 3
    assert {c.access_key_id for c in assume_calls} == {session.access_key_id}
    assert all(c.mfa for c in assume_calls)
    text = credentials_file(setup).read_text()
    for section in ("[admin]", "[deploy]", "[readonly]"):
        assert section in text
    assert SettingsStore().load().managed_profiles() == ("admin", "deploy", "readonly")


def test_profiles_refreshed_together_get_one_prompt_naming_them_all(
    setup: Path, emulator: Emulator
) -> None:
    report = with_code(None).refresh(["admin", "deploy", "audit"])
    errors = {o.profile: o.error for o in report.outcomes}
    assert all(isinstance(e, MfaCodeNeededError) for e in errors.values())
    message = str(errors["admin"])
    assert ALICE_MFA_SERIAL in message
    assert "admin, deploy, audit" in message
    assert report.exit_code == 3
    assert emulator.count("GetSessionToken") == 0
    assert not credentials_file(setup).exists()


def test_one_code_for_several_profiles_writes_them_in_one_go(
    setup: Path, emulator: Emulator
) -> None:
    report = with_code("246810").refresh(["admin", "deploy", "chained", "audit"])
    assert report.ok, report.outcomes
    assert emulator.count("GetSessionToken") == 1
    text = credentials_file(setup).read_text()
    assert all(f"[{name}]" in text for name in ("admin", "deploy", "chained", "audit"))


def test_chained_role_is_capped_at_one_hour(setup: Path, emulator: Emulator) -> None:
    report = with_code("123456").refresh(["chained"])
    assert report.ok, report.outcomes
    (outcome,) = report.outcomes
    assert outcome.expiration is not None
    assert outcome.expiration - utcnow() <= timedelta(hours=1, minutes=1)
    chained_call = [c for c in emulator.calls if c.params.get("RoleArn") == CHAINED_ROLE_ARN]
    assert chained_call[0].params.get("DurationSeconds") == "3600"


def test_external_id_is_sent(setup: Path, emulator: Emulator) -> None:
    assert with_code("123456").refresh(["audit"]).ok
    audit = [c for c in emulator.calls if c.params.get("RoleArn") == AUDIT_ROLE_ARN]
    assert audit[0].params.get("ExternalId") == "demo-external-id"


def test_access_denied_names_role_and_caller(setup: Path, emulator: Emulator) -> None:
    report = Engine(None).refresh(["ci-admin"])
    (outcome,) = report.outcomes
    assert isinstance(outcome.error, AwsError)
    message = str(outcome.error)
    assert ADMIN_ROLE_ARN in message
    assert "user/ci" in message
    assert "\n" not in message
    assert report.exit_code == 1


def test_role_without_mfa_is_signed_by_the_long_term_key(setup: Path, emulator: Emulator) -> None:
    """No MFA anywhere: AssumeRole straight with the key (no GetSessionToken to save a prompt)."""
    assert Engine(None).refresh(["ci-deploy"]).ok
    assert emulator.count("GetSessionToken") == 0
    (call,) = [c for c in emulator.calls if c.operation == "AssumeRole"]
    assert call.access_key_id == CI_ACCESS_KEY_ID


def test_wrong_code_gives_aws_message_and_writes_nothing(setup: Path, emulator: Emulator) -> None:
    credentials_file(setup).write_text("# mine\n[other]\nregion = eu-west-1\n")
    before = credentials_file(setup).read_bytes()
    report = with_code("000000").refresh(["admin"])
    (outcome,) = report.outcomes
    assert isinstance(outcome.error, AwsError)
    assert "MultiFactorAuthentication failed" in str(outcome.error)
    assert credentials_file(setup).read_bytes() == before
    assert emulator.count("AssumeRole") == 0


def test_expired_mfa_session_is_dropped_and_asked_for_once(setup: Path, emulator: Emulator) -> None:
    assert with_code("111111").refresh(["admin"]).ok
    emulator.advance(13 * 3600)  # AWS now considers the MFA session expired; traycred does not
    report = with_code("222222").refresh(["deploy"])
    assert report.ok, report.outcomes
    assert emulator.count("GetSessionToken") == 2
    session = Keystore().get_session("mfa:alice")
    assert session is not None
    last = [c for c in emulator.calls if c.operation == "AssumeRole"][-1]
    assert last.access_key_id == session.access_key_id


def test_throttling_is_retried(setup: Path, emulator: Emulator) -> None:
    emulator.faults.add("throttle", operation="AssumeRole", times=3)
    assert Engine(None).refresh(["ci-deploy"]).ok
    assert emulator.count("AssumeRole", status=200) == 1


def test_credential_source_environment(
    setup: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CI_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CI_SECRET_ACCESS_KEY)
    credentials = Engine(None).resolve("env-deploy")
    assert credentials.is_temporary
    (call,) = [c for c in emulator.calls if c.operation == "AssumeRole"]
    assert call.access_key_id == CI_ACCESS_KEY_ID


def test_unsupported_credential_source_says_so(setup: Path, emulator: Emulator) -> None:
    with pytest.raises(ConfigError, match="not support"):
        Engine(None).resolve("ec2-deploy")
    assert emulator.calls == []


def test_static_keys_are_never_refreshed_into_their_own_section(
    setup: Path, emulator: Emulator
) -> None:
    path = credentials_file(setup)
    path.write_text(
        f"[plain]\naws_access_key_id = {CI_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {CI_SECRET_ACCESS_KEY}\n"
    )
    before = path.read_bytes()
    report = Engine(None).refresh(["plain"])
    (outcome,) = report.outcomes
    assert isinstance(outcome.error, CredentialsFileError)
    assert "keys import plain" in str(outcome.error)
    assert "--output" in str(outcome.error)
    assert path.read_bytes() == before

    moved = Engine(None).refresh(["plain"], output="plain-session")
    assert moved.ok, moved.outcomes
    assert moved.outcomes[0].sections == ("plain-session",)
    assert path.read_text().startswith(before.decode())
    assert SettingsStore().load().output_for("plain") == "plain-session"


def test_credentials_for_reuses_what_was_written(setup: Path, emulator: Emulator) -> None:
    assert with_code("123456").refresh(["admin"]).ok
    calls = len(emulator.calls)
    engine = Engine(None)
    first = engine.credentials_for("admin")
    assert engine.credentials_for("admin") == first
    assert len(emulator.calls) == calls


def test_credentials_for_caches_unmanaged_roles_in_the_keyring(
    setup: Path, emulator: Emulator
) -> None:
    first = Engine(None).credentials_for("ci-deploy")
    second = Engine(None).credentials_for("ci-deploy")
    assert first == second
    assert emulator.count("AssumeRole") == 1


def test_use_writes_default_and_remembers_it(setup: Path, emulator: Emulator) -> None:
    assert with_code("123456").refresh(["admin"]).ok
    outcome = Engine(None).use("deploy")
    assert outcome.sections == ("default",)
    assert "[default]" in credentials_file(setup).read_text()
    assert SettingsStore().load().default_profile == "deploy"
    # A later refresh of the default updates [default] too.
    report = Engine(None).refresh(["deploy"])
    assert report.outcomes[0].sections == ("deploy", "default")


def test_use_refuses_a_foreign_default(setup: Path, emulator: Emulator) -> None:
    path = credentials_file(setup)
    path.write_text(
        f"[default]\naws_access_key_id = {CI_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {CI_SECRET_ACCESS_KEY}\n"
    )
    before = path.read_bytes()
    with pytest.raises(CredentialsFileError) as caught:
        Engine(None).use("ci-deploy")
    assert "[default]" in str(caught.value)
    assert "keys import" in str(caught.value)
    assert path.read_bytes() == before
    assert SettingsStore().load().default_profile is None


def test_shadowed_role_profile_gets_a_note(setup: Path, emulator: Emulator) -> None:
    (outcome,) = Engine(None).refresh(["ci-deploy"]).outcomes
    assert any("--output ci-deploy-live" in note for note in outcome.notes)


def test_secrets_stay_out_of_errors(setup: Path, emulator: Emulator) -> None:
    report = with_code("000000").refresh(["admin", "ci-admin"])
    text = " ".join(str(o.error) for o in report.outcomes)
    for secret in (ALICE_SECRET_ACCESS_KEY, CI_SECRET_ACCESS_KEY):
        assert secret not in text
    assert os.environ.get("AWS_ACCESS_KEY_ID") is None
