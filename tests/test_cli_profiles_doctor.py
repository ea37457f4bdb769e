"""`traycred profiles` and `traycred doctor` as a user runs them on their existing AWS files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """\
# my config, hand-written
[default]
region = eu-west-1

[profile alice]
mfa_serial = arn:aws:iam::111111111111:mfa/alice

[profile admin]
role_arn = arn:aws:iam::111111111111:role/admin
source_profile = alice

[profile loop-a]
role_arn = arn:aws:iam::111111111111:role/a
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::111111111111:role/b
source_profile = loop-a

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
"""

CREDENTIALS = """\
[legacy]
aws_access_key_id = AKIAEXAMPLELEGACY001
aws_secret_access_key = legacySecretValueThatMustNeverBePrinted0
"""


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "traycred", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env or os.environ.copy(),
    )


@pytest.fixture
def aws_files(isolated_home: Path) -> Path:
    aws = isolated_home / ".aws"
    aws.mkdir(mode=0o700)
    (aws / "config").write_text(CONFIG)
    (aws / "credentials").write_text(CREDENTIALS)
    (aws / "credentials").chmod(0o600)
    return aws


def test_profiles_json_lists_every_profile_with_its_kind(
    aws_files: Path, real_keyring: str
) -> None:
    from traycred.credentials import Credentials
    from traycred.keystore import Keystore

    Keystore().set_key(
        "alice", Credentials("AKIAEXAMPLEALICE0001", "aliceSecretValueThatMustNeverBePrinted00")
    )
    result = run_cli("profiles", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["alice"]["kind"] == "keyring-keys"
    assert rows["admin"]["kind"] == "assume-role"
    assert rows["admin"]["source"] == "alice"
    assert rows["admin"]["chain"] == ["admin", "alice"]
    assert rows["dev"]["kind"] == "sso-session"
    assert rows["dev"]["sso_session"] == "corp"
    assert rows["legacy"]["kind"] == "static-keys"
    assert rows["loop-a"]["kind"] == "invalid"
    assert any("loop" in w for w in rows["loop-a"]["warnings"])
    for row in rows.values():
        assert set(row) >= {
            "name",
            "kind",
            "source",
            "region",
            "sso_session",
            "managed",
            "output",
            "expiration",
            "warnings",
        }
    assert "legacySecretValue" not in result.stdout + result.stderr
    assert "aliceSecretValue" not in result.stdout + result.stderr


def test_profiles_table_shows_reasons_and_never_secrets(aws_files: Path) -> None:
    result = run_cli("profiles")
    assert result.returncode == 0, result.stderr
    assert "PROFILE" in result.stdout
    assert "loop" in result.stdout
    assert "keys import" in result.stdout  # plaintext keys get the way out
    assert "legacySecretValue" not in result.stdout + result.stderr


def test_malformed_config_is_one_clear_line_and_exit_1(aws_files: Path) -> None:
    (aws_files / "config").write_text("[profile a]\nregion = x\n[profile a]\nregion = y\n")
    before = (aws_files / "config").read_bytes()
    result = run_cli("profiles")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "config" in result.stderr
    assert (aws_files / "config").read_bytes() == before


def test_doctor_reports_wide_permissions_env_overrides_and_invalid_profiles(
    aws_files: Path,
) -> None:
    (aws_files / "credentials").chmod(0o644)
    env = os.environ.copy()
    env["AWS_ACCESS_KEY_ID"] = "AKIAEXAMPLEENVIRON01"
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens: the clock check says so
    result = run_cli("doctor", env=env)
    out = result.stdout
    assert "chmod 600" in out
    assert "AWS_ACCESS_KEY_ID is set" in out
    assert "loop-a" in out and "loop" in out
    assert "could not reach STS" in out
    assert "corp: not signed in; run `traycred login --sso-session corp`." in out
    assert result.returncode == 1  # invalid profiles are errors
    assert "Traceback" not in result.stderr


def test_doctor_reports_the_clock_against_the_endpoint(aws_files: Path, emulator: object) -> None:
    result = run_cli("doctor")
    assert "clock within" in result.stdout


def test_doctor_shows_a_signed_in_sso_session_with_its_time_left(aws_files: Path) -> None:
    import hashlib
    from datetime import UTC, datetime, timedelta

    cache = aws_files / "sso" / "cache"
    cache.mkdir(parents=True)
    expires = (datetime.now(UTC) + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = {
        "startUrl": "https://corp.awsapps.com/start",
        "region": "us-east-1",
        "accessToken": "not-a-real-token",
        "expiresAt": expires,
    }
    name = hashlib.sha1(b"corp").hexdigest()  # noqa: S324 - the AWS CLI's cache key
    (cache / f"{name}.json").write_text(json.dumps(token))
    env = os.environ.copy()
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    out = run_cli("doctor", env=env).stdout
    assert "corp: signed in, 89 min left." in out or "corp: signed in, 90 min left." in out
    assert "not-a-real-token" not in out


def test_a_default_that_is_not_managed_is_shown_written_to_default(aws_files: Path) -> None:
    from traycred.settings import SettingsStore

    SettingsStore().update(lambda s: s.replace(default_profile="legacy"))
    rows = {row["name"]: row for row in json.loads(run_cli("profiles", "--json").stdout)}
    assert rows["legacy"]["managed"] is True
    assert rows["legacy"]["output"] == "default"
    assert rows["admin"]["output"] is None
