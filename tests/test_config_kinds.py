"""The config model classifies every usable profile pattern as botocore would resolve it."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from traycred import config
from traycred.config import Kind
from traycred.errors import ProfileNotFoundError


def write(home: Path, *, config_text: str = "", credentials_text: str = "") -> None:
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    if config_text:
        (aws / "config").write_text(dedent(config_text))
    if credentials_text:
        (aws / "credentials").write_text(dedent(credentials_text))


KEYS = """
    [base]
    aws_access_key_id = AKIAEXAMPLEBASE
    aws_secret_access_key = base-secret-value
"""


def test_missing_files_give_an_empty_model(isolated_home: Path) -> None:
    model = config.load()
    assert model.profiles == {}
    assert model.sso_sessions == {}
    assert model.config_path == isolated_home / ".aws" / "config"
    assert model.credentials_path == isolated_home / ".aws" / "credentials"


def test_static_keys_in_the_credentials_file(isolated_home: Path) -> None:
    write(isolated_home, credentials_text=KEYS)
    profile = config.load().get("base")
    assert profile.kind is Kind.STATIC_KEYS
    assert profile.chain == ("base",)
    assert profile.in_credentials and not profile.in_config
    assert profile.static_credentials is not None
    assert profile.static_credentials.access_key_id == "AKIAEXAMPLEBASE"
    assert profile.static_credentials.session_token is None
    assert "base-secret-value" not in repr(profile)
    credentials_file = isolated_home / ".aws" / "credentials"
    assert profile.warnings == (
        f"long-term keys in plaintext in {credentials_file}: move them to the keyring with "
        "`traycred keys import base`",
    )


def test_session_keys_are_pasted_temporary_credentials(isolated_home: Path) -> None:
    write(
        isolated_home,
        credentials_text="""
        [pasted]
        aws_access_key_id = ASIAEXAMPLE
        aws_secret_access_key = temp-secret
        aws_session_token = temp-token-value
        """,
    )
    profile = config.load().get("pasted")
    assert profile.kind is Kind.SESSION_KEYS
    assert profile.warnings == ("pasted temporary credentials: traycred cannot refresh them",)
    assert profile.static_credentials is not None
    assert profile.static_credentials.is_temporary
    assert "temp-token-value" not in repr(profile)


def test_legacy_aws_security_token_name_counts_as_a_session_token(isolated_home: Path) -> None:
    write(
        isolated_home,
        credentials_text="""
        [old]
        aws_access_key_id = ASIAEXAMPLE
        aws_secret_access_key = s
        aws_security_token = t
        """,
    )
    assert config.load().get("old").kind is Kind.SESSION_KEYS


def test_keys_in_the_config_file(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="""
        [profile cfgkeys]
        aws_access_key_id = AKIACONFIG
        aws_secret_access_key = config-secret
        region = eu-central-1
        """,
    )
    profile = config.load().get("cfgkeys")
    assert profile.kind is Kind.STATIC_KEYS
    assert profile.region == "eu-central-1"
    assert profile.settings == {"aws_access_key_id": "AKIACONFIG", "region": "eu-central-1"}
    config_file = isolated_home / ".aws" / "config"
    assert profile.warnings == (
        f"long-term keys in plaintext in {config_file}: store them in the keyring with "
        "`traycred keys add cfgkeys` and delete them from that file",
    )


def test_keyring_keys_including_a_profile_only_in_the_keyring(isolated_home: Path) -> None:
    write(isolated_home, config_text="[profile work]\nregion = us-west-2\nmfa_serial = arn:m\n")
    model = config.load(keyring_profiles=["work", "vault-only"])
    work = model.get("work")
    assert work.kind is Kind.KEYRING_KEYS
    assert work.region == "us-west-2"
    assert work.mfa_serial == "arn:m"
    assert work.warnings == ()
    only = model.get("vault-only")
    assert only.kind is Kind.KEYRING_KEYS
    assert not only.in_config and not only.in_credentials
    assert only.chain == ("vault-only",)


def test_keyring_keys_win_over_plaintext_keys_with_a_warning(isolated_home: Path) -> None:
    write(isolated_home, credentials_text=KEYS)
    profile = config.load(keyring_profiles=["base"]).get("base")
    assert profile.kind is Kind.KEYRING_KEYS
    credentials_file = isolated_home / ".aws" / "credentials"
    assert profile.warnings == (
        f"plaintext keys are still in {credentials_file} although traycred uses the key in "
        "the keyring: remove them from the file",
    )


def test_assume_role_chain_of_any_depth(isolated_home: Path) -> None:
    write(
        isolated_home,
        credentials_text=KEYS,
        config_text="""
        [profile base]
        mfa_serial = arn:aws:iam::111111111111:mfa/me

        [profile hop1]
        role_arn = arn:aws:iam::222222222222:role/one
        source_profile = base
        external_id = ext-1
        role_session_name = me-session
        duration_seconds = 3600

        [profile hop2]
        role_arn = arn:aws:iam::333333333333:role/two
        source_profile = hop1
        mfa_serial = arn:aws:iam::111111111111:mfa/me
        region = ap-south-1
        """,
    )
    model = config.load()
    hop1, hop2 = model.get("hop1"), model.get("hop2")
    assert hop1.kind is Kind.ASSUME_ROLE
    assert hop1.chain == ("hop1", "base")
    assert hop1.source == "base"
    assert hop1.role_arn == "arn:aws:iam::222222222222:role/one"
    assert (hop1.external_id, hop1.role_session_name, hop1.duration_seconds) == (
        "ext-1",
        "me-session",
        3600,
    )
    assert hop2.chain == ("hop2", "hop1", "base")
    assert hop2.base == "base"
    assert hop2.base_kind is Kind.STATIC_KEYS
    assert hop2.mfa_serial == "arn:aws:iam::111111111111:mfa/me"
    assert hop2.region == "ap-south-1"
    assert hop2.shadowing_keys == ("role_arn",)
    assert model.get("base").mfa_serial == "arn:aws:iam::111111111111:mfa/me"


def test_role_on_keyring_and_sso_sources(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="""
        [profile on-vault]
        role_arn = arn:aws:iam::1:role/a
        source_profile = vault

        [profile on-sso]
        role_arn = arn:aws:iam::1:role/b
        source_profile = sso

        [profile sso]
        sso_session = corp
        sso_account_id = 111111111111
        sso_role_name = Admin

        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = eu-west-1
        """,
    )
    model = config.load(keyring_profiles=["vault"])
    assert model.get("on-vault").base_kind is Kind.KEYRING_KEYS
    assert model.get("on-sso").chain == ("on-sso", "sso")
    assert model.get("on-sso").base_kind is Kind.SSO_SESSION


def test_role_with_credential_source_ends_its_chain_with_itself(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="""
        [profile ec2]
        role_arn = arn:aws:iam::1:role/x
        credential_source = Ec2InstanceMetadata
        """,
    )
    profile = config.load().get("ec2")
    assert profile.kind is Kind.ASSUME_ROLE
    assert profile.chain == ("ec2",)
    assert profile.source == "Ec2InstanceMetadata"
    assert profile.base_kind is None


def test_role_whose_source_is_itself_uses_its_own_keys(isolated_home: Path) -> None:
    write(
        isolated_home,
        credentials_text="""
        [selfie]
        aws_access_key_id = AKIASELF
        aws_secret_access_key = s
        """,
        config_text="""
        [profile selfie]
        role_arn = arn:aws:iam::1:role/x
        source_profile = selfie
        """,
    )
    profile = config.load().get("selfie")
    assert profile.kind is Kind.ASSUME_ROLE
    assert profile.chain == ("selfie", "selfie")
    assert profile.base_kind is Kind.STATIC_KEYS


def test_role_profile_with_keys_is_used_through_its_keys_as_a_source(isolated_home: Path) -> None:
    # botocore: a source profile that has static keys is resolved through them, not its role.
    write(
        isolated_home,
        credentials_text="[mid]\naws_access_key_id = AKIAMID\naws_secret_access_key = s\n",
        config_text="""
        [profile mid]
        role_arn = arn:aws:iam::1:role/mid
        source_profile = nowhere

        [profile top]
        role_arn = arn:aws:iam::1:role/top
        source_profile = mid
        """,
    )
    model = config.load()
    assert model.get("mid").kind is Kind.INVALID
    assert model.get("mid").invalid_reason == "source_profile nowhere does not exist"
    assert model.get("top").kind is Kind.ASSUME_ROLE
    assert model.get("top").chain == ("top", "mid")
    assert model.get("top").base_kind is Kind.STATIC_KEYS


def test_sso_session_profile(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="""
        [profile dev]
        sso_session = corp
        sso_account_id = 111111111111
        sso_role_name = Developer
        region = eu-west-1

        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = eu-west-1
        sso_registration_scopes = sso:account:access, codecatalyst:read_write

        [sso-session unused]
        sso_start_url = https://other.awsapps.com/start
        sso_region = us-east-1
        """,
    )
    model = config.load()
    dev = model.get("dev")
    assert dev.kind is Kind.SSO_SESSION
    assert dev.sso_account_id == "111111111111"
    assert dev.sso_role_name == "Developer"
    assert dev.sso_session is not None
    assert dev.sso_session.name == "corp"
    assert dev.sso_session.start_url == "https://corp.awsapps.com/start"
    assert dev.sso_session.registration_scopes == ("sso:account:access", "codecatalyst:read_write")
    assert not dev.sso_session.legacy
    assert set(model.sso_sessions) == {"corp", "unused"}
    assert model.sso_sessions["unused"].registration_scopes == ()
    assert model.profiles_of_session("corp") == (dev,)


def test_legacy_sso_profile(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="""
        [profile old]
        sso_start_url = https://legacy.awsapps.com/start
        sso_region = us-east-2
        sso_account_id = 222222222222
        sso_role_name = ReadOnly
        """,
    )
    profile = config.load().get("old")
    assert profile.kind is Kind.SSO_LEGACY
    assert profile.sso_session is not None
    assert profile.sso_session.legacy
    assert profile.sso_session.name == "https://legacy.awsapps.com/start"
    assert profile.sso_session.region == "us-east-2"
    assert profile.shadowing_keys == (
        "sso_start_url",
        "sso_account_id",
        "sso_role_name",
        "sso_region",
    )


def test_process_profile(isolated_home: Path) -> None:
    write(
        isolated_home, config_text="[profile proc]\ncredential_process = /usr/bin/get-creds --x\n"
    )
    profile = config.load().get("proc")
    assert profile.kind is Kind.PROCESS
    assert profile.credential_process == "/usr/bin/get-creds --x"


# --- precedence, as botocore's credential chain orders it ---


def test_role_arn_beats_keys(isolated_home: Path) -> None:
    write(
        isolated_home,
        credentials_text=KEYS + "\n[both]\naws_access_key_id = AKIA\naws_secret_access_key = s\n",
        config_text="[profile both]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n",
    )
    profile = config.load().get("both")
    assert profile.kind is Kind.ASSUME_ROLE
    assert profile.chain == ("both", "base")


def test_sso_beats_credentials_file_keys(isolated_home: Path) -> None:
    write(
        isolated_home,
        credentials_text="[mixed]\naws_access_key_id = AKIA\naws_secret_access_key = s\n",
        config_text="""
        [profile mixed]
        sso_start_url = https://x.awsapps.com/start
        sso_region = us-east-1
        sso_account_id = 1
        sso_role_name = R
        """,
    )
    assert config.load().get("mixed").kind is Kind.SSO_LEGACY


def test_credentials_file_keys_beat_credential_process(isolated_home: Path) -> None:
    write(
        isolated_home,
        credentials_text="[mixed]\naws_access_key_id = AKIA\naws_secret_access_key = s\n",
        config_text="[profile mixed]\ncredential_process = /bin/creds\n",
    )
    profile = config.load().get("mixed")
    assert profile.kind is Kind.STATIC_KEYS
    assert profile.credential_process == "/bin/creds"


def test_credential_process_beats_config_file_keys(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="""
        [profile mixed]
        credential_process = /bin/creds
        aws_access_key_id = AKIA
        aws_secret_access_key = s
        """,
    )
    assert config.load().get("mixed").kind is Kind.PROCESS


def test_keyring_keys_beat_credential_process_but_not_sso(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="""
        [profile proc]
        credential_process = /bin/creds
        [profile sso]
        sso_start_url = https://x.awsapps.com/start
        sso_region = us-east-1
        sso_account_id = 1
        sso_role_name = R
        """,
    )
    model = config.load(keyring_profiles=["proc", "sso"])
    assert model.get("proc").kind is Kind.KEYRING_KEYS
    assert model.get("sso").kind is Kind.SSO_LEGACY


def test_credentials_file_values_count_like_botocore_merges_them(isolated_home: Path) -> None:
    # session.full_config merges the credentials file's sections into the profiles.
    write(
        isolated_home,
        credentials_text=KEYS
        + "\n[cred-role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n",
    )
    profile = config.load().get("cred-role")
    assert profile.kind is Kind.ASSUME_ROLE
    assert profile.in_credentials and not profile.in_config
    assert profile.shadowing_keys == ()


# --- which sections are profiles ---


def test_default_and_profile_default_both_name_default(isolated_home: Path) -> None:
    write(isolated_home, config_text="[profile default]\ncredential_process = /bin/creds\n")
    assert config.load().get("default").kind is Kind.PROCESS
    write(isolated_home, config_text="[default]\ncredential_process = /bin/creds\n")
    assert config.load().get("default").kind is Kind.PROCESS


def test_profiles_only_in_the_credentials_file_count(isolated_home: Path) -> None:
    write(isolated_home, credentials_text=KEYS, config_text="[profile other]\nregion = x\n")
    model = config.load()
    assert set(model.profiles) == {"base", "other"}
    assert model.get("base").kind is Kind.STATIC_KEYS


def test_sections_traycred_wrote_are_ignored(isolated_home: Path) -> None:
    write(
        isolated_home,
        credentials_text="""
        [dev-live]
        aws_access_key_id = ASIAOUT
        aws_secret_access_key = out-secret
        aws_session_token = out-token
        x_traycred_expiration = 2030-01-01T00:00:00Z

        [proc]
        aws_access_key_id = ASIAOUT2
        aws_secret_access_key = out-secret
        aws_session_token = out-token
        x_traycred_expiration = 2030-01-01T00:00:00Z
        """,
        config_text="[profile proc]\ncredential_process = /bin/creds\n",
    )
    model = config.load()
    assert "dev-live" not in model.profiles
    assert model.owned_sections == frozenset({"dev-live", "proc"})
    proc = model.get("proc")
    assert proc.kind is Kind.PROCESS
    assert not proc.in_credentials
    assert proc.static_credentials is None


def test_non_profile_sections_of_the_config_are_not_profiles(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="""
        [plugins]
        x = y
        [services corp]
        sts =
          endpoint_url = http://localhost:1
        [profile "spaced name"]
        credential_process = /bin/creds
        """,
    )
    model = config.load()
    assert set(model.profiles) == {"spaced name"}


def test_settings_never_hold_secrets(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="""
        [profile p]
        aws_access_key_id = ASIA
        aws_secret_access_key = hidden-secret
        aws_session_token = hidden-token
        endpoint_url = http://localhost:4566
        s3 =
          addressing_style = path
        """,
    )
    profile = config.load().get("p")
    assert profile.settings == {
        "aws_access_key_id": "ASIA",
        "endpoint_url": "http://localhost:4566",
    }
    assert "hidden" not in repr(profile)


def test_env_var_paths_are_honoured(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "cfg").write_text("[profile from-env]\ncredential_process = /bin/creds\n")
    (elsewhere / "creds").write_text(
        "[keys-env]\naws_access_key_id = A\naws_secret_access_key = s\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(elsewhere / "cfg"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(elsewhere / "creds"))
    model = config.load()
    assert model.config_path == elsewhere / "cfg"
    assert set(model.profiles) == {"from-env", "keys-env"}


def test_explicit_paths_win_over_the_environment(isolated_home: Path, tmp_path: Path) -> None:
    write(isolated_home, config_text="[profile home]\ncredential_process = /bin/a\n")
    other = tmp_path / "other-config"
    other.write_text("[profile explicit]\ncredential_process = /bin/b\n")
    model = config.load(other, tmp_path / "missing-credentials")
    assert set(model.profiles) == {"explicit"}


def test_crlf_files_load(isolated_home: Path) -> None:
    aws = isolated_home / ".aws"
    aws.mkdir()
    (aws / "config").write_bytes(b"[profile w]\r\ncredential_process = /bin/creds\r\n")
    (aws / "credentials").write_bytes(
        b"[k]\r\naws_access_key_id = A\r\naws_secret_access_key = s\r\n"
    )
    model = config.load()
    assert model.get("w").credential_process == "/bin/creds"
    assert model.get("k").kind is Kind.STATIC_KEYS


# --- looking profiles up ---


def test_unknown_profile_names_the_files_and_suggests(isolated_home: Path) -> None:
    write(isolated_home, config_text="[profile develop]\ncredential_process = /bin/creds\n")
    with pytest.raises(ProfileNotFoundError) as caught:
        config.load().get("devlop")
    aws = isolated_home / ".aws"
    assert str(caught.value) == (
        f"profile devlop not found in {aws / 'config'} or {aws / 'credentials'}. "
        "Did you mean develop? `traycred profiles` lists them all."
    )


def test_unknown_profile_lists_a_few_known_names(isolated_home: Path) -> None:
    write(
        isolated_home,
        config_text="".join(f"[profile p{i}]\ncredential_process = x\n" for i in range(8)),
    )
    with pytest.raises(ProfileNotFoundError) as caught:
        config.load().get("zzz")
    assert (
        caught.value.hint
        == "Known profiles: p0, p1, p2, p3, p4 and 3 more (`traycred profiles` lists them)."
    )


def test_unknown_profile_with_no_profiles_at_all(isolated_home: Path) -> None:
    with pytest.raises(ProfileNotFoundError) as caught:
        config.load().get("dev")
    assert (
        caught.value.hint == "No profiles are defined yet: add one with `traycred keys add NAME`."
    )
    assert caught.value.exit_code == 1


# --- shadowing (SPEC §2.2) ---


def test_shadowed_when_writing_to_a_section_with_role_or_sso_keys(isolated_home: Path) -> None:
    write(
        isolated_home,
        credentials_text=KEYS,
        config_text="""
        [profile dev]
        role_arn = arn:aws:iam::1:role/dev
        source_profile = base
        [profile proc]
        credential_process = /bin/creds
        """,
    )
    model = config.load()
    dev = model.get("dev")
    reason = config.shadowed_reason(dev, "dev")
    assert reason == (
        "shadowed for SDK tools: its config section has role_arn, which SDKs read before [dev] "
        "of the credentials file, so they assume the role themselves; give dev another output "
        "name (e.g. dev-live) or use it as [default]"
    )
    assert config.shadowed_reason(dev, "dev-live") is None
    assert config.shadowed_reason(model.get("base"), "base") is None
    # botocore reads the credentials file before running credential_process.
    assert config.shadowed_reason(model.get("proc"), "proc") is None
    # Writing base's credentials to [dev] is shadowed by dev's config section.
    other = config.shadowed_reason(model.get("base"), "dev", model)
    assert other is not None and "profile dev's config section has role_arn" in other
