"""`traycred keys import`: plaintext keys move from the credentials file into the real keyring,
verified with sts:GetCallerIdentity against the local emulator, with a 0600 backup kept."""

from __future__ import annotations

import os
import pty
import re
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from traycred.credentials import Credentials
from traycred.emulator import Emulator
from traycred.emulator.scenario import (
    ALICE_ACCESS_KEY_ID,
    ALICE_SECRET_ACCESS_KEY,
    CI_ACCESS_KEY_ID,
    CI_SECRET_ACCESS_KEY,
)
from traycred.keystore import Keystore

WRONG_SECRET = "wrongSecretAccessKey/ThatAwsWillRefuse000"
FOREIGN = (
    "# my own notes, keep me\n"
    "[session-pasted]\n"
    "aws_access_key_id = ASIAPASTEDSESSION001\n"
    "aws_secret_access_key = pastedSecret\n"
    "aws_session_token = pastedToken\n"
)


def write_files(home: Path, credentials: str, config: str = "") -> Path:
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    (aws / "config").write_text(config or "[default]\nregion = us-east-1\n")
    path = aws / "credentials"
    path.write_text(credentials)
    path.chmod(0o600)
    return path


def alice_section(secret: str = ALICE_SECRET_ACCESS_KEY) -> str:
    return (
        f"[alice]\naws_access_key_id = {ALICE_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {secret}\nregion = us-east-1\n"
    )


def ci_section(secret: str = CI_SECRET_ACCESS_KEY) -> str:
    return f"[ci]\naws_access_key_id = {CI_ACCESS_KEY_ID}\naws_secret_access_key = {secret}\n"


def traycred(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "traycred", "keys", "import", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_no_secrets(result: subprocess.CompletedProcess[str]) -> None:
    for secret in (ALICE_SECRET_ACCESS_KEY, CI_SECRET_ACCESS_KEY, WRONG_SECRET):
        assert secret not in result.stdout and secret not in result.stderr
    assert "Traceback" not in result.stderr


def test_import_moves_verified_keys_and_keeps_a_backup(
    real_keyring: str, emulator: Emulator, isolated_home: Path
) -> None:
    original = FOREIGN + "\n" + alice_section() + "\n" + ci_section()
    path = write_files(isolated_home, original)

    result = traycred("--yes")

    assert result.returncode == 0, result.stderr
    assert_no_secrets(result)
    assert emulator.count("GetCallerIdentity", 200) == 2
    store = Keystore()
    assert store.profiles() == {"alice": ALICE_ACCESS_KEY_ID, "ci": CI_ACCESS_KEY_ID}
    assert store.get_key("alice") == Credentials(ALICE_ACCESS_KEY_ID, ALICE_SECRET_ACCESS_KEY)
    assert store.get_key("ci") == Credentials(CI_ACCESS_KEY_ID, CI_SECRET_ACCESS_KEY)

    text = path.read_text()
    assert ALICE_SECRET_ACCESS_KEY not in text and CI_SECRET_ACCESS_KEY not in text
    assert ALICE_ACCESS_KEY_ID not in text and CI_ACCESS_KEY_ID not in text
    assert text.startswith(FOREIGN)  # every foreign byte stays
    assert "region = us-east-1" in text  # the other keys of alice's section stay

    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for name, key_id, line in (
        ("alice", ALICE_ACCESS_KEY_ID, lines[0]),
        ("ci", CI_ACCESS_KEY_ID, lines[1]),
    ):
        assert line.startswith(f"Imported profile {name}: key {key_id[:4]}...{key_id[-4:]} ")
        assert f"user/{name}" in line  # the identity GetCallerIdentity reported
        assert f"no longer in {path}" in line
    backup = Path(re.search(r"\(backup: (.+)\)\.$", lines[0]).group(1))  # type: ignore[union-attr]
    assert backup.read_text() == original
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


def test_a_key_that_fails_verification_stays_in_the_file(
    real_keyring: str, emulator: Emulator, isolated_home: Path
) -> None:
    bad = ci_section(WRONG_SECRET)
    path = write_files(isolated_home, alice_section() + "\n" + bad)

    result = traycred("--yes")

    assert result.returncode == 1
    assert_no_secrets(result)
    errors = result.stderr.splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("traycred: profile ci was not imported: GetCallerIdentity")
    assert "unchanged" in errors[0]
    assert Keystore().profiles() == {"alice": ALICE_ACCESS_KEY_ID}
    assert path.read_text().endswith(bad)  # byte for byte
    assert "Imported profile alice" in result.stdout


def test_named_profiles_only(real_keyring: str, emulator: Emulator, isolated_home: Path) -> None:
    path = write_files(isolated_home, alice_section() + "\n" + ci_section())
    result = traycred("ci", "--yes")
    assert result.returncode == 0, result.stderr
    assert Keystore().profiles() == {"ci": CI_ACCESS_KEY_ID}
    assert ALICE_SECRET_ACCESS_KEY in path.read_text()
    assert CI_SECRET_ACCESS_KEY not in path.read_text()


def test_a_profile_without_plaintext_keys_is_an_error(
    real_keyring: str, emulator: Emulator, isolated_home: Path
) -> None:
    original = FOREIGN
    path = write_files(isolated_home, original)
    result = traycred("session-pasted", "nobody", "--yes")
    assert result.returncode == 1
    assert_no_secrets(result)
    errors = result.stderr.splitlines()
    assert len(errors) == 2
    assert "profile session-pasted holds temporary credentials" in errors[0]
    assert "profile nobody has no plaintext access key" in errors[1]
    assert path.read_text() == original
    assert emulator.count("GetCallerIdentity") == 0
    assert Keystore().profiles() == {}


def test_nothing_to_import(real_keyring: str, emulator: Emulator, isolated_home: Path) -> None:
    path = write_files(isolated_home, FOREIGN)
    result = traycred("--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"No plaintext long-term keys found in {path}.\n"
    assert path.read_text() == FOREIGN


def test_piped_stdin_needs_yes(real_keyring: str, emulator: Emulator, isolated_home: Path) -> None:
    original = alice_section()
    path = write_files(isolated_home, original)
    result = traycred(stdin="y\n")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--yes" in lines[0]
    assert path.read_text() == original
    assert Keystore().profiles() == {}
    assert emulator.count("GetCallerIdentity") == 0


def run_on_terminal(answer: bytes) -> tuple[int, bytes]:
    """`keys import` on a pseudo-terminal, answering the confirmation with `answer`."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "traycred", "keys", "import"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if not answered and b"[y/N] " in seen:
                os.write(master, answer + b"\n")
                answered = True
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, seen


@pytest.mark.parametrize(("answer", "imported"), [(b"n", False), (b"y", True)])
def test_terminal_asks_before_moving_keys(
    real_keyring: str, emulator: Emulator, isolated_home: Path, answer: bytes, imported: bool
) -> None:
    original = alice_section()
    path = write_files(isolated_home, original)

    code, seen = run_on_terminal(answer)

    assert b"alice: AKIA...0001 (arn:aws:iam::111111111111:user/alice)" in seen
    assert ALICE_SECRET_ACCESS_KEY.encode() not in seen
    if imported:
        assert code == 0, seen
        assert Keystore().profiles() == {"alice": ALICE_ACCESS_KEY_ID}
        assert ALICE_SECRET_ACCESS_KEY not in path.read_text()
    else:
        assert code == 1, seen
        assert b"Nothing was imported" in seen
        assert path.read_text() == original
        assert Keystore().profiles() == {}
