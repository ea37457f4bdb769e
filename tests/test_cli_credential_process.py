"""`traycred credential-process` as botocore's `credential_process`, and never blocking."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.fixtures.aws_setup import credentials_file, write_config
from tests.test_cli_refresh import home, sdk_identity, traycred  # noqa: F401 - fixture
from tests.test_engine import CONFIG
from traycred.credentials import parse_iso, utcnow
from traycred.emulator import Emulator
from traycred.emulator.scenario import ALICE_MFA_SERIAL, ALICE_SECRET_ACCESS_KEY


def test_boto3_uses_credential_process_for_admin(home: Path, emulator: Emulator) -> None:  # noqa: F811
    assert traycred("refresh", "alice", "--mfa-code", "123456").returncode == 0
    config = write_config(
        home,
        CONFIG + f"\n[profile sdk]\ncredential_process = {sys.executable} -m traycred "
        "credential-process admin\n",
    )
    identity = sdk_identity(home, "sdk", config=config)
    assert ":assumed-role/admin/" in identity["Arn"]
    assert emulator.count("GetSessionToken") == 1
    assert not credentials_file(home).read_text().count("[admin]")


def test_output_is_version_1_json_and_reused(home: Path, emulator: Emulator) -> None:  # noqa: F811
    first = traycred("credential-process", "ci-deploy")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["Version"] == 1
    assert set(data) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert parse_iso(data["Expiration"]) > utcnow()
    second = traycred("credential-process", "ci-deploy")
    assert json.loads(second.stdout) == data
    assert emulator.count("AssumeRole") == 1


def test_needing_a_code_without_terminal_exits_3(home: Path, emulator: Emulator) -> None:  # noqa: F811
    result = traycred("credential-process", "admin", stdin="123456\n")
    assert result.returncode == 3
    assert ALICE_MFA_SERIAL in result.stderr
    assert "traycred refresh admin" in result.stderr
    assert result.stdout == ""
    assert emulator.count("GetSessionToken") == 0  # stdin is the SDK caller's: never read
    assert ALICE_SECRET_ACCESS_KEY not in result.stderr
