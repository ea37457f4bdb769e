"""`traycred env`: assignments every shell reads back exactly, and `eval` in a real sh works."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.test_cli_refresh import home, traycred  # noqa: F401 - fixture
from traycred import envformat
from traycred.credentials import Credentials
from traycred.emulator import Emulator
from traycred.emulator.scenario import ALICE_SECRET_ACCESS_KEY

HOSTILE = [
    "plain",
    "it's",
    "a'b\"c$d`e\\f",
    "$(touch /tmp/pwned)",
    "new\nline",
    "spaces  and\ttabs",
    "!history %PATH% ^caret",
    "ünïcödé ‘curly’",
    "",
]
VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]


def hostile(value: str) -> Credentials:
    return Credentials(value, value + "-s", value + "-t", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))


def read_back(shell: list[str], script: str) -> list[str]:
    printer = f"import os, json; print(json.dumps([os.environ.get(n) for n in {VARIABLES!r}]))"
    env = {**os.environ, "PY": sys.executable, "PRINTER": printer}
    for name in VARIABLES:
        env.pop(name, None)
    result = subprocess.run(
        [*shell, script + '\n"$PY" -c "$PRINTER"'],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    values: list[str] = json.loads(result.stdout)
    return values


@pytest.mark.parametrize("value", HOSTILE)
def test_sh_round_trip_of_hostile_values(value: str) -> None:
    text = envformat.render(hostile(value), "sh")
    assert read_back(["sh", "-c"], text) == [value, value + "-s", value + "-t"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
@pytest.mark.parametrize("value", HOSTILE)
def test_bash_round_trip_of_hostile_values(value: str) -> None:
    text = envformat.render(hostile(value), "sh")
    assert read_back(["bash", "-c"], text) == [value, value + "-s", value + "-t"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish not installed")
@pytest.mark.parametrize("value", HOSTILE)
def test_fish_round_trip_of_hostile_values(value: str) -> None:
    text = envformat.render(hostile(value), "fish")
    assert read_back(["fish", "-c"], text) == [value, value + "-s", value + "-t"]


@pytest.mark.skipif(shutil.which("pwsh") is None, reason="pwsh not installed")
@pytest.mark.parametrize("value", HOSTILE)
def test_powershell_round_trip_of_hostile_values(value: str) -> None:
    text = envformat.render(hostile(value), "powershell")
    printer = "; ".join(f"[Console]::WriteLine($Env:{n})" for n in VARIABLES)
    result = subprocess.run(
        ["pwsh", "-NoProfile", "-Command", text + "\n" + printer],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.splitlines()[:3] == [value, value + "-s", value + "-t"]


def test_no_session_token_unsets_it_in_sh() -> None:
    text = envformat.render(Credentials("AKIDEXAMPLE", "secret"), "sh")
    script = "export AWS_SESSION_TOKEN=stale\n" + text
    assert read_back(["sh", "-c"], script) == ["AKIDEXAMPLE", "secret", None]


def test_cmd_and_dotenv_refuse_what_they_cannot_quote() -> None:
    from traycred.errors import TraycredError

    with pytest.raises(TraycredError, match="json"):
        envformat.render(hostile('a"b%c'), "cmd")
    with pytest.raises(TraycredError, match="json"):
        envformat.render(hostile("a'b"), "dotenv")


def test_env_admin_eval_in_sh_makes_sdk_calls_answer_as_admin(
    home: Path,  # noqa: F811
    emulator: Emulator,
) -> None:
    assert traycred("refresh", "admin", "--mfa-code", "123456").returncode == 0
    script = (
        f'eval "$({sys.executable} -m traycred env admin)" && '
        f"{sys.executable} -c \"import boto3; print(boto3.client('sts')"
        f".get_caller_identity()['Arn'])\""
    )
    env = {k: v for k, v in os.environ.items()}
    env["AWS_CONFIG_FILE"] = str(home / "no-config")
    result = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/admin/" in result.stdout
    assert ALICE_SECRET_ACCESS_KEY not in result.stderr


def test_env_formats_parse_back(home: Path, emulator: Emulator) -> None:  # noqa: F811
    assert traycred("refresh", "ci-deploy").returncode == 0
    as_json = traycred("env", "ci-deploy", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert set(data) == {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
    }
    dotenv = traycred("env", "ci-deploy", "--format", "dotenv")
    parsed = dict(line.split("=", 1) for line in dotenv.stdout.splitlines())
    assert parsed == data  # AWS values need no quotes, so docker --env-file reads them too
    cmd = traycred("env", "ci-deploy", "--format", "cmd")
    assert f'set "AWS_SESSION_TOKEN={data["AWS_SESSION_TOKEN"]}"' in cmd.stdout.splitlines()
    fish = traycred("env", "ci-deploy", "--format", "fish")
    assert f"set -gx AWS_ACCESS_KEY_ID '{data['AWS_ACCESS_KEY_ID']}'" in fish.stdout
    assert emulator.count("AssumeRole") == 1  # env reused what refresh wrote


def test_env_without_code_or_terminal_exits_3(home: Path, emulator: Emulator) -> None:  # noqa: F811
    result = traycred("env", "admin")
    assert result.returncode == 3
    assert "admin" in result.stderr
    assert result.stdout == ""
