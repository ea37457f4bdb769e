"""traycred's kinds agree with the provider botocore itself picks, for random mixed profiles.

botocore builds its credential chain for a named profile without calling AWS (AssumeRole and
SSO credentials are deferred until first use), so the provider it picks for each profile, or
the error it raises, is an exact oracle for the precedence traycred claims to follow.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traycred import config
from traycred.config import Kind

PROCESS = "echo " + shlex.quote(
    json.dumps({"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "s"})
)
KEY_FORMS = {
    "none": [],
    "pair": ["aws_access_key_id = AKIAEXAMPLE", "aws_secret_access_key = s"],
    "id-only": ["aws_access_key_id = AKIAEXAMPLE"],
    "secret-only": ["aws_secret_access_key = s"],
    "session": ["aws_access_key_id = ASIA", "aws_secret_access_key = s", "aws_session_token = t"],
}
SSO_KEYS = ("sso_start_url", "sso_region", "sso_account_id", "sso_role_name")

# The provider botocore reports, as the kind traycred must give.
METHOD_KINDS = {
    "assume-role": {Kind.ASSUME_ROLE},
    "sso": {Kind.SSO_LEGACY, Kind.SSO_SESSION},
    "shared-credentials-file": {Kind.STATIC_KEYS, Kind.SESSION_KEYS},
    "config-file": {Kind.STATIC_KEYS, Kind.SESSION_KEYS},
    "custom-process": {Kind.PROCESS},
}


@dataclass(frozen=True)
class Spec:
    role: bool
    source: int | None  # index into the profiles; len(profiles) means "ghost"
    credential_source: str | None
    web_identity: bool
    sso: frozenset[str]
    sso_session: str | None  # "corp" (defined) or "gone" (undefined)
    cred_keys: str
    config_keys: str
    process: bool


specs = st.builds(
    Spec,
    # Role and SSO win over everything below them: keep them rare so that the overlaps of
    # keys, keyring-free process and config keys are explored too.
    role=st.sampled_from([False, False, False, True]),
    source=st.none() | st.integers(min_value=0, max_value=5),
    credential_source=st.sampled_from([None, None, None, "Environment", "Bogus"]),
    web_identity=st.just(False),  # the one deliberate difference, tested below
    sso=st.sampled_from(
        [frozenset()] * 6 + [frozenset(SSO_KEYS), frozenset(SSO_KEYS[:2]), frozenset(SSO_KEYS[2:3])]
    )
    | st.frozensets(st.sampled_from(SSO_KEYS)),
    sso_session=st.sampled_from([None, None, None, "corp", "gone"]),
    cred_keys=st.sampled_from(sorted(KEY_FORMS)),
    config_keys=st.sampled_from(sorted(KEY_FORMS)),
    process=st.booleans(),
)


def render(home: Path, profiles: list[Spec]) -> None:
    cfg = ["[sso-session corp]", "sso_start_url = https://corp.example/start", "sso_region = r1"]
    creds: list[str] = []
    for i, spec in enumerate(profiles):
        cfg.append(f"[profile p{i}]")
        if spec.role:
            cfg.append(f"role_arn = arn:aws:iam::1:role/p{i}")
        if spec.source is not None:
            target = f"p{spec.source}" if spec.source < len(profiles) else "ghost"
            cfg.append(f"source_profile = {target}")
        if spec.credential_source:
            cfg.append(f"credential_source = {spec.credential_source}")
        if spec.web_identity:
            cfg.append("web_identity_token_file = /nonexistent/token")
        values = {
            "sso_start_url": "https://corp.example/start",
            "sso_region": "r1",
            "sso_account_id": "111111111111",
            "sso_role_name": "R",
        }
        cfg += [f"{k} = {values[k]}" for k in SSO_KEYS if k in spec.sso]
        if spec.sso_session:
            cfg.append(f"sso_session = {spec.sso_session}")
        if spec.process:
            cfg.append(f"credential_process = {PROCESS}")
        cfg += KEY_FORMS[spec.config_keys]
        if spec.cred_keys != "none":
            creds += [f"[p{i}]", *KEY_FORMS[spec.cred_keys]]
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    (aws / "config").write_text("\n".join(cfg) + "\n")
    (aws / "credentials").write_text("\n".join(creds) + "\n")


def botocore_method(name: str) -> str | None:
    """The provider botocore picks for `name`, or None when it finds nothing or refuses."""
    import botocore.exceptions
    import botocore.session

    session = botocore.session.Session(profile=name)
    try:
        credentials = session.get_credentials()
    except botocore.exceptions.BotoCoreError:
        return None
    return None if credentials is None else str(credentials.method)


@pytest.fixture
def environment_source(monkeypatch: pytest.MonkeyPatch) -> None:
    # credential_source = Environment reads these; a named profile never does otherwise.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(specs, min_size=1, max_size=5))
def test_kinds_match_botocore(
    isolated_home: Path, environment_source: None, profiles: list[Spec]
) -> None:
    render(isolated_home, profiles)
    model = config.load()
    for i in range(len(profiles)):
        name = f"p{i}"
        profile = model.get(name)
        method = botocore_method(name)
        if method is None:
            assert profile.kind is Kind.INVALID, (name, profile.kind, profile.chain)
        else:
            assert profile.kind in METHOD_KINDS[method], (name, method, profile.invalid_reason)


def test_web_identity_is_the_one_deliberate_difference(isolated_home: Path) -> None:
    profiles = [
        Spec(
            role=True,
            source=None,
            credential_source=None,
            web_identity=True,
            sso=frozenset(),
            sso_session=None,
            cred_keys="pair",
            config_keys="none",
            process=False,
        )
    ]
    render(isolated_home, profiles)
    assert botocore_method("p0") == "assume-role-with-web-identity"
    assert config.load().get("p0").invalid_reason == (
        "web identity profiles are not supported by traycred"
    )
