"""The emulator as a server: fault injection, the call record, scenarios from files, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from traycred.emulator import Emulator, IamUser, Role, Scenario
from traycred.emulator import scenario as demo


def alice(**config: Any) -> Any:
    return boto3.client(
        "sts",
        aws_access_key_id=demo.ALICE_ACCESS_KEY_ID,
        aws_secret_access_key=demo.ALICE_SECRET_ACCESS_KEY,
        config=Config(**config),
    )


def retrying(attempts: int) -> dict[str, Any]:
    return {"retries": {"total_max_attempts": attempts, "mode": "standard"}}


# --- faults ----------------------------------------------------------------------------------


def test_throttle_is_retried_by_botocore(emulator: Emulator) -> None:
    emulator.faults.add("throttle", operation="GetCallerIdentity")
    response = alice(**retrying(3)).get_caller_identity()
    assert response["Account"] == "111111111111"
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert emulator.count("GetCallerIdentity") == 2
    assert emulator.count("GetCallerIdentity", 400) == 1
    assert [c.error_code for c in emulator.calls] == ["Throttling", None]


def test_throttle_only_hits_the_named_operation(emulator: Emulator) -> None:
    emulator.faults.add("throttle", operation="AssumeRole")
    alice(**retrying(1)).get_caller_identity()
    with pytest.raises(ClientError) as exc:
        alice(**retrying(1)).assume_role(RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName="tt")
    assert exc.value.response["Error"]["Code"] == "Throttling"


def test_sso_throttle_is_too_many_requests(emulator: Emulator) -> None:
    emulator.faults.add("throttle", operation="ListAccounts")
    client = boto3.client(
        "sso", config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})
    )
    with pytest.raises(ClientError) as exc:
        client.list_accounts(accessToken="whatever")
    assert exc.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalFailure"), (503, "ServiceUnavailable")]
)
def test_persistent_5xx_surfaces_after_retries(emulator: Emulator, status: int, code: str) -> None:
    emulator.faults.add("5xx", times=100, status=status)
    with pytest.raises(ClientError) as exc:
        alice(**retrying(2)).get_caller_identity()
    assert exc.value.response["Error"]["Code"] == code
    assert emulator.count("GetCallerIdentity", status) == 2
    emulator.faults.clear()
    assert alice(**retrying(1)).get_caller_identity()["Account"] == "111111111111"


def test_dropped_connection(emulator: Emulator) -> None:
    emulator.faults.add("drop", operation="GetCallerIdentity")
    with pytest.raises(ConnectionClosedError):
        alice(**retrying(1)).get_caller_identity()
    assert emulator.count("GetCallerIdentity", 0) == 1
    emulator.faults.add("drop", operation="GetCallerIdentity")
    assert alice(**retrying(3)).get_caller_identity()["Account"] == "111111111111"
    assert emulator.count("GetCallerIdentity", 200) == 1


def test_latency_delays_answers(emulator: Emulator) -> None:
    impatient = {"read_timeout": 0.3, **retrying(1)}
    emulator.latency = 1.0
    with pytest.raises(ReadTimeoutError):
        alice(**impatient).get_caller_identity()
    emulator.latency = 0.0
    emulator.faults.add("latency", delay=1.0, operation="GetCallerIdentity")
    with pytest.raises(ReadTimeoutError):
        alice(**impatient).get_caller_identity()
    assert alice(**impatient).get_caller_identity()["Account"] == "111111111111"


def test_unknown_fault_kind_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError):
        emulator.faults.add("explode")  # type: ignore[arg-type]


# --- call record, life cycle -----------------------------------------------------------------


def test_calls_are_recorded_without_secrets(emulator: Emulator) -> None:
    creds = alice().get_session_token(SerialNumber=demo.ALICE_MFA_SERIAL, TokenCode="112233")
    assert emulator.count("GetSessionToken", 200) == 1
    (call,) = emulator.calls
    assert call.service == "sts" and call.mfa
    assert call.access_key_id == demo.ALICE_ACCESS_KEY_ID
    assert call.params["SerialNumber"] == demo.ALICE_MFA_SERIAL
    record = repr(emulator.calls)
    assert demo.ALICE_SECRET_ACCESS_KEY not in record
    assert creds["Credentials"]["SecretAccessKey"] not in record
    emulator.reset_calls()
    assert emulator.calls == []


def test_traycred_clients_reach_the_fixture(emulator: Emulator) -> None:
    from traycred import aws
    from traycred.credentials import Credentials
    from traycred.errors import AwsError

    good = Credentials(demo.CI_ACCESS_KEY_ID, demo.CI_SECRET_ACCESS_KEY)
    client = aws.client("sts", credentials=good)
    identity = aws.call(client.get_caller_identity, what="GetCallerIdentity")
    assert identity["Arn"] == "arn:aws:iam::111111111111:user/ci"
    bad = aws.client("sts", credentials=Credentials(demo.CI_ACCESS_KEY_ID, "x" * 40))
    with pytest.raises(AwsError) as exc:
        aws.call(bad.get_caller_identity, what="GetCallerIdentity")
    assert exc.value.code == "SignatureDoesNotMatch"


def test_env_and_stop(emulator_factory: Any) -> None:
    emu = emulator_factory(Scenario.demo())
    assert emu.env()["AWS_ENDPOINT_URL"] == emu.url
    assert emu.env()["AWS_REGION"] == "us-east-1"
    assert os.environ["AWS_ENDPOINT_URL"] == emu.url
    alice(**retrying(1)).get_caller_identity()
    emu.stop()
    with pytest.raises(Exception, match=r"[Cc]onnect"):
        alice(**retrying(1), connect_timeout=1).get_caller_identity()


def test_two_emulators_are_independent() -> None:
    with Emulator() as one, Emulator() as two:
        assert one.url != two.url
        client = boto3.client(
            "sts",
            endpoint_url=one.url,
            region_name="us-east-1",
            aws_access_key_id=demo.CI_ACCESS_KEY_ID,
            aws_secret_access_key=demo.CI_SECRET_ACCESS_KEY,
        )
        client.get_caller_identity()
        assert one.count("GetCallerIdentity") == 1
        assert two.calls == []


# --- scenarios from files and the command line -----------------------------------------------

TOML_SCENARIO = """
auto_approve_on_visit = true
ttl_override = { GetSessionToken = 20 }

[[users]]
name = "bob"
account_id = "999999999999"
access_key_id = "AKIAEXAMPLEBOB000001"
secret_access_key = "bobbobbobbobbobbobbobbobbobbobbobbobbob0"
mfa_serial = "arn:aws:iam::999999999999:mfa/bob"

[[roles]]
arn = "arn:aws:iam::999999999999:role/ops"
trusted = ["bob"]
requires_mfa = true

[sso]
start_url = "https://example.awsapps.com/start"
poll_interval = 2

[[sso.accounts]]
account_id = "999999999999"
name = "ops"
email = "ops@example.com"
roles = ["Admin"]
"""

BOB = IamUser(
    "bob",
    "999999999999",
    "AKIAEXAMPLEBOB000001",
    "bobbobbobbobbobbobbobbobbobbobbobbobbob0",
    "arn:aws:iam::999999999999:mfa/bob",
)


def test_scenario_from_toml_and_json(tmp_path: Path) -> None:
    toml_file = tmp_path / "s.toml"
    toml_file.write_text(TOML_SCENARIO)
    scenario = Scenario.from_file(toml_file)
    assert scenario.users == (BOB,)
    assert scenario.roles == (Role("arn:aws:iam::999999999999:role/ops", ("bob",), True),)
    assert scenario.auto_approve_on_visit
    assert scenario.ttl_override == {"GetSessionToken": 20}
    assert scenario.sso is not None and scenario.sso.poll_interval == 2
    assert scenario.sso.accounts[0].roles == ("Admin",)
    json_file = tmp_path / "s.json"
    json_file.write_text(
        json.dumps({"users": [{**BOB.__dict__}], "ttl_override": {"AssumeRole": 30}})
    )
    from_json = Scenario.from_file(json_file)
    assert from_json.users == (BOB,) and from_json.sso is None
    assert "bobbob" not in repr(from_json)


def test_bad_scenarios_are_refused() -> None:
    with pytest.raises(ValueError):
        Scenario(ttl_override={"GetFederationToken": 5})
    with pytest.raises(ValueError):
        Role("arn:aws:iam::1:role/x")
    with pytest.raises(ValueError):
        Role("arn:aws:iam::111111111111:role/x", max_session_duration=60)


def test_demo_scenario_keys() -> None:
    scenario = Scenario.demo()
    assert scenario.user("alice").mfa_serial == demo.ALICE_MFA_SERIAL
    assert scenario.user("ci").mfa_serial is None
    assert len(demo.ALICE_SECRET_ACCESS_KEY) == len(demo.CI_SECRET_ACCESS_KEY) == 40
    assert demo.ALICE_SECRET_ACCESS_KEY not in repr(scenario)


def test_module_serves_until_terminated(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(TOML_SCENARIO)
    process = subprocess.Popen(
        [sys.executable, "-m", "traycred.emulator", "--scenario", str(scenario)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = boto3.client(
            "sts",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=BOB.access_key_id,
            aws_secret_access_key=BOB.secret_access_key,
        )
        assert client.get_caller_identity()["Arn"] == "arn:aws:iam::999999999999:user/bob"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_device_page_without_a_code_asks_for_one_and_unknown_paths_are_404(
    emulator: Emulator,
) -> None:
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(f"{emulator.url}/device") as page:  # noqa: S310 - loopback
        assert 'name="user_code"' in page.read().decode()
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{emulator.url}/nowhere")  # noqa: S310 - loopback
    assert exc.value.code == 404
