"""`traycred login` as a user runs it: a real child process, a BROWSER script, the emulator."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_sso_helpers import (
    browser_script,
    cache_file,
    cli,
    fast_scenario,
    run_cli,
    write_config,
)
from traycred import paths
from traycred.emulator import Emulator, Scenario

EmulatorFactory = Callable[[Scenario], Emulator]


@pytest.fixture
def emu(emulator_factory: EmulatorFactory) -> Emulator:
    write_config()
    return emulator_factory(fast_scenario())


def wait_for_code(emu: Emulator, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = emu.pending_user_codes()
        if codes:
            return codes[0]
        time.sleep(0.05)
    raise AssertionError("no sign-in was started")


def botocore_alone(profile: str) -> subprocess.CompletedProcess[str]:
    """A fresh Python with only boto3 and the AWS variables resolving `profile`."""
    env = {
        name: os.environ[name]
        for name in (
            "PATH",
            "HOME",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_ENDPOINT_URL",
            "AWS_DEFAULT_REGION",
            "AWS_EC2_METADATA_DISABLED",
        )
    }
    code = (
        "import boto3, sys\n"
        f"creds = boto3.Session(profile_name={profile!r}).get_credentials()\n"
        "print(creds.get_frozen_credentials().access_key)\n"
        "print('traycred' in sys.modules)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_login_opens_the_browser_and_botocore_then_uses_the_cache(
    emu: Emulator, tmp_path: Path
) -> None:
    record = tmp_path / "opened.txt"
    browser = browser_script(tmp_path, record)
    result = run_cli("login", "prod-ro", env={"BROWSER": str(browser)})
    assert result.returncode == 0, result.stderr
    opened = record.read_text().splitlines()
    assert len(opened) == 1
    user_code = opened[0].rsplit("user_code=", 1)[1]
    assert user_code in result.stdout + result.stderr
    assert "Signed in to SSO session demo" in result.stdout + result.stderr
    cache = cache_file()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert json.loads(cache.read_text())["refreshToken"]

    resolved = botocore_alone("prod-ro")
    assert resolved.returncode == 0, resolved.stderr
    key, imported = resolved.stdout.split()
    assert key.startswith("ASIA") and imported == "False"
    # botocore made no sign-in of its own: one device authorization in all, by traycred.
    assert emu.count("StartDeviceAuthorization") == 1
    assert emu.count("GetRoleCredentials", status=200) == 1


def test_two_concurrent_logins_of_one_session_open_the_browser_once(
    emu: Emulator, tmp_path: Path
) -> None:
    record = tmp_path / "opened.txt"
    browser = browser_script(tmp_path, record, delay=1.5)
    env = {"BROWSER": str(browser)}
    first = cli("login", "prod-ro", env=env)
    second = cli("login", "--sso-session", "demo", env=env)
    outputs = [p.communicate(timeout=60) for p in (first, second)]
    assert first.returncode == 0, outputs[0]
    assert second.returncode == 0, outputs[1]
    assert len(record.read_text().splitlines()) == 1
    assert emu.count("StartDeviceAuthorization") == 1


def test_no_browser_prints_the_code_and_waits_for_approval(emu: Emulator, tmp_path: Path) -> None:
    record = tmp_path / "opened.txt"
    process = cli(
        "login", "--sso-session", "demo", "--no-browser",
        env={"BROWSER": str(browser_script(tmp_path, record))},
    )  # fmt: skip
    code = wait_for_code(emu)
    emu.approve(code)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert code in out + err
    assert f"/device?user_code={code}" in out + err
    assert not record.exists()


def test_denial_exits_1_with_the_reason(emu: Emulator) -> None:
    process = cli("login", "prod-ro", "--no-browser")
    emu.deny(wait_for_code(emu))
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "was denied in the browser" in err
    assert "Traceback" not in err


def test_an_expired_code_exits_1_with_the_reason(emulator_factory: EmulatorFactory) -> None:
    write_config()
    emulator_factory(fast_scenario(device_code_ttl=1))
    result = run_cli("login", "prod-ro", "--no-browser")
    assert result.returncode == 1
    assert "expired before it was approved" in result.stderr


def test_ctrl_c_cancels_with_exit_1(emu: Emulator) -> None:
    process = cli("login", "prod-ro", "--no-browser")
    wait_for_code(emu)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "Sign-in to SSO session demo cancelled." in err
    assert not cache_file().exists()


def test_login_of_an_unknown_session_names_the_known_ones(emu: Emulator) -> None:
    result = run_cli("login", "--sso-session", "nope")
    assert result.returncode == 1
    assert "There is no [sso-session nope]" in result.stderr
    assert "sessions: demo" in result.stderr


def test_refresh_without_a_sign_in_exits_3_and_never_opens_a_browser(
    emu: Emulator, tmp_path: Path
) -> None:
    record = tmp_path / "opened.txt"
    result = run_cli("refresh", "prod-ro", env={"BROWSER": str(browser_script(tmp_path, record))})
    assert result.returncode == 3
    assert "sign-in needed for SSO session demo: run `traycred login --sso-session demo`" in (
        result.stderr
    )
    assert not record.exists()
    assert emu.count("StartDeviceAuthorization") == 0


def test_one_login_serves_the_refresh_of_every_profile_of_the_session(
    emu: Emulator, tmp_path: Path
) -> None:
    browser = browser_script(tmp_path, tmp_path / "opened.txt")
    assert run_cli("login", "prod-ro", env={"BROWSER": str(browser)}).returncode == 0
    result = run_cli("refresh", "prod-ro", "dev-admin")
    assert result.returncode == 0, result.stderr
    text = paths.aws_credentials_file().read_text()
    assert "[prod-ro]" in text and "[dev-admin]" in text
    assert emu.count("StartDeviceAuthorization") == 1
    assert emu.count("CreateToken", status=200) == 1
    assert emu.count("GetRoleCredentials", status=200) == 2
