"""Broken profiles are classified `invalid` with the exact reason a user reads; never a crash."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from traycred import config
from traycred.config import Kind

KEYS = "[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n"


def reason_of(home: Path, name: str, *, config_text: str = "", credentials_text: str = "") -> str:
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    (aws / "config").write_text(dedent(config_text))
    (aws / "credentials").write_text(dedent(credentials_text))
    profile = config.load().get(name)
    assert profile.kind is Kind.INVALID
    assert not profile.is_usable
    assert profile.chain == ()
    assert profile.invalid_reason is not None
    assert "\n" not in profile.invalid_reason
    return profile.invalid_reason


# --- roles ---


def test_role_with_both_source_profile_and_credential_source(isolated_home: Path) -> None:
    text = """
    [profile r]
    role_arn = arn:aws:iam::1:role/r
    source_profile = base
    credential_source = Environment
    """
    assert reason_of(isolated_home, "r", config_text=text, credentials_text=KEYS) == (
        "both source_profile and credential_source are set: keep only one"
    )


def test_role_with_no_source(isolated_home: Path) -> None:
    text = "[profile r]\nrole_arn = arn:aws:iam::1:role/r\n"
    assert reason_of(isolated_home, "r", config_text=text) == (
        "role_arn without source_profile or credential_source: add "
        "source_profile = <a profile with keys>"
    )


def test_role_with_an_unknown_credential_source(isolated_home: Path) -> None:
    text = "[profile r]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Laptop\n"
    assert reason_of(isolated_home, "r", config_text=text) == (
        "credential_source Laptop is not supported: use Environment, Ec2InstanceMetadata or "
        "EcsContainer"
    )


def test_role_with_a_missing_source_profile(isolated_home: Path) -> None:
    text = "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = ghost\n"
    assert reason_of(isolated_home, "r", config_text=text) == (
        "source_profile ghost does not exist"
    )


def test_source_profile_that_is_only_a_traycred_output_does_not_exist(isolated_home: Path) -> None:
    text = "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = out\n"
    owned = """
    [out]
    aws_access_key_id = ASIA
    aws_secret_access_key = s
    aws_session_token = t
    x_traycred_expiration = 2030-01-01T00:00:00Z
    """
    assert reason_of(isolated_home, "r", config_text=text, credentials_text=owned) == (
        "source_profile out does not exist"
    )


def test_role_with_an_empty_role_arn(isolated_home: Path) -> None:
    text = "[profile r]\nrole_arn =\nsource_profile = base\n"
    assert reason_of(isolated_home, "r", config_text=text, credentials_text=KEYS) == (
        "role_arn is empty"
    )


def test_role_with_a_non_integer_duration(isolated_home: Path) -> None:
    text = """
    [profile r]
    role_arn = arn:aws:iam::1:role/r
    source_profile = base
    duration_seconds = 1h
    """
    assert reason_of(isolated_home, "r", config_text=text, credentials_text=KEYS) == (
        "duration_seconds must be a whole number of seconds, not '1h'"
    )


def test_two_profile_loop_names_every_member(isolated_home: Path) -> None:
    text = """
    [profile a]
    role_arn = arn:aws:iam::1:role/a
    source_profile = b
    [profile b]
    role_arn = arn:aws:iam::1:role/b
    source_profile = a
    """
    assert reason_of(isolated_home, "a", config_text=text) == "source_profile loop: a -> b -> a"
    assert config.load().get("b").invalid_reason == "source_profile loop: b -> a -> b"


def test_self_loop_without_keys(isolated_home: Path) -> None:
    text = "[profile me]\nrole_arn = arn:aws:iam::1:role/me\nsource_profile = me\n"
    assert reason_of(isolated_home, "me", config_text=text) == "source_profile loop: me -> me"


def test_profile_leading_into_a_loop_names_its_source(isolated_home: Path) -> None:
    text = """
    [profile top]
    role_arn = arn:aws:iam::1:role/top
    source_profile = b
    [profile b]
    role_arn = arn:aws:iam::1:role/b
    source_profile = c
    [profile c]
    role_arn = arn:aws:iam::1:role/c
    source_profile = b
    """
    assert reason_of(isolated_home, "top", config_text=text) == (
        "source profile b is invalid: source_profile loop: b -> c -> b"
    )


def test_long_loops_are_abbreviated(isolated_home: Path) -> None:
    names = [f"n{i}" for i in range(12)]
    text = "".join(
        f"[profile {n}]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = {names[(i + 1) % 12]}\n"
        for i, n in enumerate(names)
    )
    assert reason_of(isolated_home, "n0", config_text=text) == (
        "source_profile loop: n0 -> n1 -> n2 -> n3 -> n4 -> n5 -> ... -> n11 -> n0 (12 profiles)"
    )


def test_chain_coming_back_to_a_top_profile_with_keys_is_a_loop(isolated_home: Path) -> None:
    # botocore remembers every profile visited from the top: a -> b -> a is a loop for a,
    # even though b, asked for directly, uses a's keys.
    text = """
    [profile a]
    role_arn = arn:aws:iam::1:role/a
    source_profile = b
    [profile b]
    role_arn = arn:aws:iam::1:role/b
    source_profile = a
    """
    creds = "[a]\naws_access_key_id = AKIA\naws_secret_access_key = s\n"
    assert reason_of(isolated_home, "a", config_text=text, credentials_text=creds) == (
        "source_profile loop: a -> b -> a"
    )
    b = config.load().get("b")
    assert b.kind is Kind.ASSUME_ROLE
    assert b.chain == ("b", "a")


def test_source_that_is_itself_invalid(isolated_home: Path) -> None:
    text = """
    [profile top]
    role_arn = arn:aws:iam::1:role/top
    source_profile = empty
    [profile empty]
    region = eu-west-1
    """
    assert reason_of(isolated_home, "top", config_text=text) == (
        "source profile empty is invalid: no credentials: no keys, role, SSO or "
        "credential_process (store a key with `traycred keys add empty`)"
    )


def test_deep_invalid_source_names_the_broken_profile(isolated_home: Path) -> None:
    text = """
    [profile top]
    role_arn = arn:aws:iam::1:role/top
    source_profile = mid
    [profile mid]
    role_arn = arn:aws:iam::1:role/mid
    source_profile = low
    [profile low]
    role_arn = arn:aws:iam::1:role/low
    source_profile = ghost
    """
    assert reason_of(isolated_home, "top", config_text=text) == (
        "source profile mid is invalid: source_profile ghost does not exist (in profile low)"
    )


def test_self_sourced_role_whose_own_keys_are_broken(isolated_home: Path) -> None:
    text = "[profile me]\nrole_arn = arn:aws:iam::1:role/me\nsource_profile = me\n"
    creds = "[me]\naws_access_key_id = AKIA\n"
    path = isolated_home / ".aws" / "credentials"
    assert reason_of(isolated_home, "me", config_text=text, credentials_text=creds) == (
        "its own keys cannot be its source: "
        f"aws_access_key_id without aws_secret_access_key in {path}"
    )


def test_web_identity_is_not_supported(isolated_home: Path) -> None:
    text = """
    [profile wi]
    role_arn = arn:aws:iam::1:role/wi
    web_identity_token_file = /var/run/token
    """
    assert reason_of(isolated_home, "wi", config_text=text) == (
        "web identity profiles are not supported by traycred"
    )


def test_login_session_is_not_supported(isolated_home: Path) -> None:
    text = "[profile l]\nlogin_session = arn:aws:iam::1:user/me\n"
    assert reason_of(isolated_home, "l", config_text=text) == (
        "login_session profiles (`aws login`) are not supported by traycred"
    )


# --- SSO ---


def test_sso_session_named_but_not_defined(isolated_home: Path) -> None:
    text = "[profile s]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
    assert reason_of(isolated_home, "s", config_text=text) == (
        "sso-session corp is named but not defined: add a [sso-session corp] section with "
        "sso_start_url and sso_region"
    )


def test_sso_session_section_without_region(isolated_home: Path) -> None:
    text = """
    [profile s]
    sso_session = corp
    sso_account_id = 1
    sso_role_name = R
    [sso-session corp]
    sso_start_url = https://corp.awsapps.com/start
    """
    assert reason_of(isolated_home, "s", config_text=text) == (
        "missing sso_region in [sso-session corp]"
    )
    model = config.load()
    assert model.sso_sessions == {}
    assert model.invalid_sso_sessions == {"corp": "missing sso_region in [sso-session corp]"}


def test_sso_session_profile_without_account_and_role(isolated_home: Path) -> None:
    text = """
    [profile s]
    sso_session = corp
    [sso-session corp]
    sso_start_url = https://corp.awsapps.com/start
    sso_region = us-east-1
    """
    assert reason_of(isolated_home, "s", config_text=text) == (
        "missing sso_account_id, sso_role_name: a profile with sso_session needs "
        "sso_account_id and sso_role_name"
    )


def test_sso_session_profile_missing_role_name(isolated_home: Path) -> None:
    text = """
    [profile s]
    sso_session = corp
    sso_account_id = 1
    [sso-session corp]
    sso_start_url = https://corp.awsapps.com/start
    sso_region = us-east-1
    """
    assert reason_of(isolated_home, "s", config_text=text).startswith("missing sso_role_name:")


def test_sso_profile_value_conflicting_with_its_session(isolated_home: Path) -> None:
    text = """
    [profile s]
    sso_session = corp
    sso_account_id = 1
    sso_role_name = R
    sso_region = eu-west-1
    [sso-session corp]
    sso_start_url = https://corp.awsapps.com/start
    sso_region = us-east-1
    """
    assert reason_of(isolated_home, "s", config_text=text) == (
        "sso_region differs between profile s and [sso-session corp]: remove it from the profile"
    )


def test_sso_profile_repeating_its_session_value_is_fine(isolated_home: Path) -> None:
    (isolated_home / ".aws").mkdir()
    (isolated_home / ".aws" / "config").write_text(
        dedent("""
        [profile s]
        sso_session = corp
        sso_account_id = 1
        sso_role_name = R
        sso_region = us-east-1
        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = us-east-1
        """)
    )
    assert config.load().get("s").kind is Kind.SSO_SESSION


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ("sso_start_url = https://x\nsso_account_id = 1\nsso_role_name = R\n", "sso_region"),
        ("sso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n", "sso_start_url"),
        ("sso_start_url = https://x\nsso_region = r\nsso_role_name = R\n", "sso_account_id"),
        ("sso_start_url = https://x\nsso_region = r\n", "sso_account_id, sso_role_name"),
    ],
)
def test_legacy_sso_missing_keys(isolated_home: Path, present: str, missing: str) -> None:
    assert reason_of(isolated_home, "old", config_text=f"[profile old]\n{present}") == (
        f"missing {missing}: a legacy SSO profile needs sso_start_url, sso_region, "
        "sso_account_id and sso_role_name"
    )


def test_partial_sso_does_not_hide_working_keys(isolated_home: Path) -> None:
    # botocore only uses SSO when sso_account_id or sso_role_name is set.
    (isolated_home / ".aws").mkdir()
    (isolated_home / ".aws" / "config").write_text("[profile k]\nsso_start_url = https://x\n")
    (isolated_home / ".aws" / "credentials").write_text(
        "[k]\naws_access_key_id = A\naws_secret_access_key = s\n"
    )
    assert config.load().get("k").kind is Kind.STATIC_KEYS


# --- keys and nothing ---


def test_access_key_id_without_secret(isolated_home: Path) -> None:
    path = isolated_home / ".aws" / "credentials"
    assert reason_of(isolated_home, "k", credentials_text="[k]\naws_access_key_id = AKIA\n") == (
        f"aws_access_key_id without aws_secret_access_key in {path}"
    )


def test_secret_without_access_key_id(isolated_home: Path) -> None:
    path = isolated_home / ".aws" / "config"
    text = "[profile k]\naws_secret_access_key = s\n"
    assert reason_of(isolated_home, "k", config_text=text) == (
        f"aws_secret_access_key without aws_access_key_id in {path}"
    )


def test_empty_credential_process(isolated_home: Path) -> None:
    text = "[profile p]\ncredential_process =\n"
    assert reason_of(isolated_home, "p", config_text=text) == "credential_process is empty"


def test_profile_with_no_credentials(isolated_home: Path) -> None:
    text = "[profile bare]\nregion = eu-west-1\noutput = json\n"
    assert reason_of(isolated_home, "bare", config_text=text) == (
        "no credentials: no keys, role, SSO or credential_process "
        "(store a key with `traycred keys add bare`)"
    )
    profile = config.load().get("bare")
    assert profile.region == "eu-west-1"
    assert profile.settings == {"region": "eu-west-1", "output": "json"}
