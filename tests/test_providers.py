"""Providers on their own: credential_process like botocore, session names, env sources."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import pytest

from traycred.errors import ConfigError, MfaCodeNeededError, TraycredError
from traycred.providers.assume_role import default_session_name, sanitize_session_name
from traycred.providers.process import ProcessProvider
from traycred.providers.session_token import ask_for_code
from traycred.providers.static import EnvironmentProvider, credential_source_provider


def python_printing(payload: object) -> str:
    code = f"print({json.dumps(json.dumps(payload))})"
    return f"{sys.executable} -c '{code}'"


def test_process_output_is_read_like_botocore() -> None:
    payload = {
        "Version": 1,
        "AccessKeyId": "ASIAPROCESS",
        "SecretAccessKey": "process-secret",
        "SessionToken": "process-token",
        "Expiration": "2030-01-01T00:00:00Z",
    }
    credentials = ProcessProvider("p", python_printing(payload)).retrieve()
    assert credentials.access_key_id == "ASIAPROCESS"
    assert credentials.session_token == "process-token"
    assert credentials.expiration == datetime(2030, 1, 1, tzinfo=UTC)


def test_process_without_expiration_or_token_is_long_term() -> None:
    payload = {"Version": 1, "AccessKeyId": "AKIA1", "SecretAccessKey": "s"}
    credentials = ProcessProvider("p", python_printing(payload)).retrieve()
    assert not credentials.is_temporary
    assert credentials.expiration is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "s"}, "Version 2"),
        ({"Version": 1, "AccessKeyId": "A"}, "AccessKeyId and SecretAccessKey"),
        ("not an object", "JSON object"),
        (
            {"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "s", "Expiration": "soon"},
            "ISO-8601",
        ),
    ],
)
def test_bad_process_output_is_one_clear_line(payload: object, message: str) -> None:
    with pytest.raises(TraycredError, match=message) as caught:
        ProcessProvider("p", python_printing(payload)).retrieve()
    assert "profile p" in str(caught.value)


def test_failing_process_names_program_and_code_but_not_its_arguments() -> None:
    command = "sh -c 'echo token expired >&2; exit 7' --password hunter2-secret"
    with pytest.raises(TraycredError) as caught:
        ProcessProvider("p", command).retrieve()
    message = str(caught.value)
    assert "(sh)" in message and "exit code 7" in message and "token expired" in message
    assert "hunter2-secret" not in message


def test_missing_program_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not found"):
        ProcessProvider("p", "/nonexistent/tool --secret x").retrieve()


def test_a_process_loop_through_traycred_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAYCRED_PROCESS_DEPTH", "4")
    with pytest.raises(ConfigError, match="loop"):
        ProcessProvider("p", "traycred credential-process p").retrieve()


def test_session_names_fit_aws_charset_and_length() -> None:
    assert default_session_name("alice") == "traycred-alice"
    assert default_session_name("Jöhn Doe/x") == "traycred-J-hn-Doe-x"
    assert len(sanitize_session_name("x" * 100)) == 64
    assert sanitize_session_name("a") == "traycred"


def test_environment_source_reads_aws_variables() -> None:
    provider = EnvironmentProvider(
        "r",
        {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"},
    )
    credentials = provider.retrieve()
    assert (credentials.access_key_id, credentials.session_token) == ("AKIA", "t")
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID"):
        EnvironmentProvider("r", {}).retrieve()


def test_unknown_and_unsupported_credential_sources() -> None:
    with pytest.raises(ConfigError, match="does not support"):
        credential_source_provider("r", "EcsContainer")
    with pytest.raises(ConfigError, match="unknown"):
        credential_source_provider("r", "Floppy")


def test_with_no_prompter_the_mfa_message_names_the_waiting_profiles() -> None:
    def message(*profiles: str) -> str:
        with pytest.raises(MfaCodeNeededError) as caught:
            ask_for_code(None, profiles=profiles, mfa_serial="arn:mfa/alice", attempt=str)
        return caught.value.message

    assert message("admin") == "An MFA code for arn:mfa/alice is needed (profile admin)."
    assert message("admin", "deploy") == (
        "An MFA code for arn:mfa/alice is needed (profiles admin, deploy)."
    )
