"""Role chains whose source holds keys and a role of its own, built the way botocore builds them:
the source's keys sign the AssumeRole (never the source's own role). botocore in a child process
is the oracle; both answer GetCallerIdentity from the emulator over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.aws_setup import ALICE_KEY, credentials_file, write_config
from tests.test_cli_refresh import sdk_identity
from traycred import aws
from traycred.credentials import Credentials
from traycred.emulator import Emulator
from traycred.emulator.scenario import (
    ADMIN_ROLE_ARN,
    ALICE_MFA_SERIAL,
    CI_ACCESS_KEY_ID,
    CI_SECRET_ACCESS_KEY,
    DEPLOY_ROLE_ARN,
    READONLY_ROLE_ARN,
)
from traycred.engine import Engine
from traycred.keystore import Keystore
from traycred.prompt.noninteractive import NonInteractivePrompter
from traycred.settings import SettingsStore

# selfie: a role whose source is itself, with keys (ci's) in the config file.
# mid: role readonly *and* ci's keys in the credentials file; top's source is mid, so botocore
#   signs top's AssumeRole with mid's keys. deploy trusts the ci user but not the readonly role,
#   so building mid's role first would be refused.
# kmid/ktop: the same shapes with the key in the keyring (alice's, behind MFA).
CONFIG = f"""\
[default]
region = us-east-1

[profile selfie]
role_arn = {DEPLOY_ROLE_ARN}
source_profile = selfie
aws_access_key_id = {CI_ACCESS_KEY_ID}
aws_secret_access_key = {CI_SECRET_ACCESS_KEY}

[profile mid]
role_arn = {READONLY_ROLE_ARN}
source_profile = mid

[profile top]
role_arn = {DEPLOY_ROLE_ARN}
source_profile = mid

[profile top2]
role_arn = {READONLY_ROLE_ARN}
source_profile = top

[profile kmid]
role_arn = {ADMIN_ROLE_ARN}
source_profile = kmid
mfa_serial = {ALICE_MFA_SERIAL}

[profile ktop]
role_arn = {DEPLOY_ROLE_ARN}
source_profile = kmid
"""

CREDENTIALS = f"""\
[mid]
aws_access_key_id = {CI_ACCESS_KEY_ID}
aws_secret_access_key = {CI_SECRET_ACCESS_KEY}
"""


@pytest.fixture
def home(isolated_home: Path, real_keyring: str, emulator: Emulator) -> Path:
    write_config(isolated_home, CONFIG)
    credentials_file(isolated_home).write_text(CREDENTIALS)
    Keystore().set_key("kmid", ALICE_KEY)
    return isolated_home


def identity(credentials: Credentials) -> str:
    sts = aws.client("sts", credentials=credentials)
    arn: str = sts.get_caller_identity()["Arn"]
    return arn


def assume_calls(emulator: Emulator) -> list[tuple[str | None, str | None]]:
    return [
        (c.params.get("RoleArn"), c.access_key_id)
        for c in emulator.calls
        if c.operation == "AssumeRole"
    ]


def test_a_role_sourcing_itself_is_signed_with_its_own_keys(home: Path, emulator: Emulator) -> None:
    engine = Engine(None)
    assert engine.profile("selfie").chain == ("selfie", "selfie")
    arn = identity(engine.resolve("selfie"))
    assert ":assumed-role/deploy/" in arn
    assert assume_calls(emulator) == [(DEPLOY_ROLE_ARN, CI_ACCESS_KEY_ID)]
    # botocore does the same with the same file.
    assert (
        ":assumed-role/deploy/"
        in sdk_identity(home, "selfie", config=home / ".aws" / "config")["Arn"]
    )


def test_a_source_with_keys_and_a_role_is_used_through_its_keys(
    home: Path, emulator: Emulator
) -> None:
    engine = Engine(None)
    assert engine.profile("top").chain == ("top", "mid")
    assert ":assumed-role/deploy/" in identity(engine.resolve("top"))
    # One AssumeRole, signed with mid's long-term key: mid's own role is never assumed.
    assert assume_calls(emulator) == [(DEPLOY_ROLE_ARN, CI_ACCESS_KEY_ID)]
    oracle = sdk_identity(home, "top", config=home / ".aws" / "config")
    assert ":assumed-role/deploy/" in oracle["Arn"]

    # mid asked for directly is its role, signed with its own keys.
    emulator.reset_calls()
    assert ":assumed-role/readonly/" in identity(engine.resolve("mid"))
    assert assume_calls(emulator) == [(READONLY_ROLE_ARN, CI_ACCESS_KEY_ID)]


def test_one_run_fetching_a_source_as_role_and_as_keys_keeps_them_apart(
    home: Path, emulator: Emulator
) -> None:
    engine = Engine(None)
    assert engine.profile("top2").chain == ("top2", "top", "mid")
    # [mid] holds the user's keys, so mid's role is written to [mid-live].
    SettingsStore().update(lambda s: s.with_profile("mid", output="mid-live"))
    report = engine.refresh(["top", "mid"], mark_managed=False)
    assert report.ok, report.outcomes
    assert sorted(assume_calls(emulator)) == sorted(
        [(DEPLOY_ROLE_ARN, CI_ACCESS_KEY_ID), (READONLY_ROLE_ARN, CI_ACCESS_KEY_ID)]
    )
    assert credentials_file(home).read_text().startswith(CREDENTIALS)  # the keys stay
    oracle = sdk_identity(home, "mid-live")
    assert ":assumed-role/readonly/" in oracle["Arn"]
    oracle = sdk_identity(home, "top")
    assert ":assumed-role/deploy/" in oracle["Arn"]


def test_a_keyring_key_with_a_role_serves_as_source_with_one_mfa_session(
    home: Path, emulator: Emulator
) -> None:
    engine = Engine(NonInteractivePrompter("123456", stdin_pipe=False))
    assert engine.profile("ktop").chain == ("ktop", "kmid")
    assert engine.mfa_source("ktop") == ("kmid", ALICE_MFA_SERIAL)
    report = engine.refresh(["ktop", "kmid"], mark_managed=False)
    assert report.ok, report.outcomes
    assert emulator.count("GetSessionToken") == 1
    session = Keystore().get_session("mfa:kmid")
    assert session is not None
    assert sorted(assume_calls(emulator)) == sorted(
        [(DEPLOY_ROLE_ARN, session.access_key_id), (ADMIN_ROLE_ARN, session.access_key_id)]
    )
    # A new engine (a new CLI run) reuses the MFA session from the keyring: no code needed.
    again = Engine(None)
    assert ":assumed-role/deploy/" in identity(again.resolve("ktop"))
    assert ":assumed-role/admin/" in identity(again.resolve("kmid"))
    assert emulator.count("GetSessionToken") == 1
