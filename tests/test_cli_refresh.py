"""`traycred refresh` and `traycred use` as a user runs them: exit codes, output, files, SDKs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.aws_setup import credentials_file, store_keys, write_config
from tests.test_engine import CONFIG
from traycred.emulator import Emulator
from traycred.emulator.scenario import (
    ADMIN_ROLE_ARN,
    ALICE_MFA_SERIAL,
    ALICE_SECRET_ACCESS_KEY,
    CI_ACCESS_KEY_ID,
    CI_SECRET_ACCESS_KEY,
)
from traycred.keystore import Keystore


def traycred(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with no controlling terminal (a new session), as a script or SDK would."""
    return subprocess.run(
        [sys.executable, "-m", "traycred", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        env=env,
    )


IDENTITY_SCRIPT = (
    "import boto3, json, sys; s = boto3.Session(profile_name=sys.argv[1] or None); "
    "print(json.dumps(s.client('sts').get_caller_identity()))"
)


def sdk_identity(home: Path, profile: str = "", *, config: Path | None = None) -> dict[str, str]:
    """GetCallerIdentity from a fresh boto3 in a child process, the way any SDK tool would."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials_file(home)),
        "AWS_CONFIG_FILE": str(config or home / "no-config"),
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name in ("TRAYCRED_KEYRING_SERVICE", "PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS"):
        if name in os.environ:
            env[name] = os.environ[name]
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[name] = os.environ[name]
    result = subprocess.run(
        [sys.executable, "-c", IDENTITY_SCRIPT, profile],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    identity: dict[str, str] = json.loads(result.stdout)
    return identity


@pytest.fixture
def home(isolated_home: Path, real_keyring: str, emulator: Emulator) -> Path:
    write_config(isolated_home, CONFIG)
    store_keys("alice", "ci")
    return isolated_home


def assert_no_secrets(result: subprocess.CompletedProcess[str], home: Path) -> None:
    secrets = [ALICE_SECRET_ACCESS_KEY, CI_SECRET_ACCESS_KEY]
    session = Keystore().get_session("mfa:alice")
    if session is not None:
        secrets += [session.secret_access_key, session.session_token or ""]
    for secret in filter(None, secrets):
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_refresh_admin_writes_a_section_sdks_use(home: Path, emulator: Emulator) -> None:
    result = traycred("refresh", "admin", "--mfa-code", "123456")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("admin: [admin] until ")
    assert "Traceback" not in result.stderr
    assert_no_secrets(result, home)
    identity = sdk_identity(home, "admin")
    assert identity["Arn"].startswith("arn:aws:sts::111111111111:assumed-role/admin/traycred-")

    again = traycred("refresh", "deploy", "readonly")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("deploy: [deploy] until ")
    assert emulator.count("GetSessionToken") == 1
    assert_no_secrets(again, home)


def test_refresh_notes_a_shadowed_profile(home: Path, emulator: Emulator) -> None:
    result = traycred("refresh", "admin", "--mfa-code", "123456")
    assert "--output admin-live" in result.stderr
    moved = traycred("refresh", "admin", "--output", "admin-live")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("admin: [admin-live] until ")
    text = credentials_file(home).read_text()
    assert "[admin-live]" in text
    assert "[admin]" not in text  # the old output is removed in the same write
    identity = sdk_identity(home, "admin-live", config=home / ".aws" / "config")
    assert ":assumed-role/admin/" in identity["Arn"]


@pytest.mark.parametrize(
    ("output", "says"),
    [
        ("ci live", "cannot be a section name"),
        ("[ci]", "cannot be a section name"),
        ("default", "make ci-deploy the default instead (`traycred use ci-deploy`"),
        ("ci-admin", "[ci-admin] is the section of your profile ci-admin"),
        ("ci-live", "ci and ci-deploy would both be written to [ci-live]"),
    ],
)
def test_an_output_name_the_settings_dialog_refuses_is_refused_here_too(
    home: Path, emulator: Emulator, output: str, says: str
) -> None:
    first = traycred("refresh", "ci", "--output", "ci-live")
    assert first.returncode == 0, first.stderr
    before = credentials_file(home).read_bytes()
    calls = len(emulator.calls)

    result = traycred("refresh", "ci-deploy", "--output", output)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert says in result.stderr
    assert credentials_file(home).read_bytes() == before
    assert len(emulator.calls) == calls  # refused before asking AWS


def test_malformed_code_is_refused_before_any_request(home: Path, emulator: Emulator) -> None:
    result = traycred("refresh", "admin", "--mfa-code", "12ab")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "six digits" in result.stderr
    assert emulator.calls == []
    assert not credentials_file(home).exists()


def test_wrong_code_shows_aws_message_and_writes_nothing(home: Path, emulator: Emulator) -> None:
    path = credentials_file(home)
    path.write_text("# my notes\n[tool]\nx = 1\n")
    before = path.read_bytes()
    result = traycred("refresh", "admin", "--mfa-code", "000000")
    assert result.returncode == 1
    assert "MultiFactorAuthentication failed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == before


def test_one_refused_code_for_three_roles_is_reported_once(home: Path, emulator: Emulator) -> None:
    result = traycred("refresh", "admin", "deploy", "readonly", "--mfa-code", "000000")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("traycred: admin, deploy, readonly: ")
    assert "MultiFactorAuthentication failed" in lines[0]


def test_reused_code_is_refused(home: Path, emulator: Emulator) -> None:
    assert traycred("refresh", "alice", "--mfa-code", "654321").returncode == 0
    Keystore().delete_session("mfa:alice")  # the session is gone: a new code is needed
    result = traycred("refresh", "alice", "--mfa-code", "654321")
    assert result.returncode == 1
    assert "MultiFactorAuthentication failed" in result.stderr


def test_without_code_and_terminal_exit_3_naming_profile_and_device(
    home: Path, emulator: Emulator
) -> None:
    result = traycred("refresh", "admin")
    assert result.returncode == 3
    assert "admin" in result.stderr
    assert ALICE_MFA_SERIAL in result.stderr
    assert emulator.count("GetSessionToken") == 0


def test_code_read_from_piped_stdin(home: Path, emulator: Emulator) -> None:
    result = traycred("refresh", "admin", stdin="135790\n")
    assert result.returncode == 0, result.stderr
    assert emulator.count("GetSessionToken") == 1


def test_use_makes_plain_sdk_calls_answer_as_the_profile(home: Path, emulator: Emulator) -> None:
    assert traycred("refresh", "admin", "--mfa-code", "123456").returncode == 0
    result = traycred("use", "deploy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("deploy is the default: [default] until ")
    identity = sdk_identity(home)
    assert ":assumed-role/deploy/" in identity["Arn"]
    assert emulator.count("GetSessionToken") == 1


def test_use_refuses_foreign_default_with_the_way_out(home: Path, emulator: Emulator) -> None:
    path = credentials_file(home)
    path.write_text(
        f"[default]\naws_access_key_id = {CI_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {CI_SECRET_ACCESS_KEY}\n"
    )
    before = path.read_bytes()
    result = traycred("use", "ci-deploy")
    assert result.returncode == 1
    assert "[default]" in result.stderr
    assert "keys import" in result.stderr
    assert CI_SECRET_ACCESS_KEY not in result.stderr
    assert path.read_bytes() == before


def test_static_keys_refusal_points_to_keys_import(home: Path, emulator: Emulator) -> None:
    credentials_file(home).write_text(
        f"[plain]\naws_access_key_id = {CI_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {CI_SECRET_ACCESS_KEY}\n"
    )
    result = traycred("refresh", "plain")
    assert result.returncode == 1
    assert "keys import plain" in result.stderr
    assert emulator.calls == []


def test_access_denied_names_role_and_caller(home: Path, emulator: Emulator) -> None:
    result = traycred("refresh", "ci-admin")
    assert result.returncode == 1
    assert ADMIN_ROLE_ARN in result.stderr
    assert "user/ci" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
