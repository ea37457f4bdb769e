"""A keyring that hangs or is locked, under the commands that read it on the way (refresh, use,
env, credential-process, profiles) rather than `keys` itself (tests/test_cli_keys.py covers that):
one clear line naming the keyring, exit 1 (3 when the user must act), no traceback, no hang, and
the credentials file untouched. The child's wall time is printed (SPEC §7: within 5 s per call
to the keyring); the subprocess timeout is what catches a hang.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.aws_setup import credentials_file, write_config
from tests.test_cli_keys import REPO, child_env
from tests.test_engine import CONFIG
from traycred.emulator import Emulator

HANGING = "tests.keyring_backends.HangingKeyring"
LOCKED = "tests.keyring_backends.LockedKeyring"
# An existing section traycred owns, which must survive whatever happens.
OWNED = (
    "# mine\n[tool]\nx = 1\n\n[deploy]\naws_access_key_id = ASIAEXAMPLE\n"
    "aws_secret_access_key = s\naws_session_token = t\n"
    "x_traycred_expiration = 2000-01-01T00:00:00Z\n"
)


def run(backend: str, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "traycred", *args],
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails here
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=REPO,
        env=child_env({"PYTHON_KEYRING_BACKEND": backend}),
    )
    return result, time.monotonic() - started


@pytest.fixture
def files(isolated_home: Path, emulator: Emulator) -> Path:
    write_config(isolated_home, CONFIG)
    path = credentials_file(isolated_home)
    path.write_text(OWNED)
    return path


# A hung keyring costs its 5 s timeout per case: two cases of it, every command when locked.
@pytest.mark.parametrize(
    ("backend", "args"),
    [
        (HANGING, ("refresh", "deploy")),
        (HANGING, ("credential-process", "deploy")),
        (LOCKED, ("refresh", "deploy")),
        (LOCKED, ("use", "deploy")),
        (LOCKED, ("env", "deploy")),
        (LOCKED, ("credential-process", "deploy")),
    ],
)
def test_commands_needing_a_key_say_the_keyring_failed(
    files: Path, emulator: Emulator, backend: str, args: tuple[str, ...]
) -> None:
    result, waited = run(backend, *args)
    print(
        f"\n{backend.rsplit('.', 1)[1]}: traycred {' '.join(args)} -> {result.returncode} "
        f"after {waited:.1f} s"
    )
    assert "Traceback" not in result.stderr
    assert result.returncode in (1, 3), result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "WARNING" not in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("traycred: ")
    what = "did not answer within 5 s" if backend == HANGING else "is locked"
    assert what in result.stderr
    assert result.stdout == ""
    assert files.read_text() == OWNED
    assert emulator.count("GetSessionToken") == 0 and emulator.count("AssumeRole") == 0


@pytest.mark.parametrize("backend", [HANGING, LOCKED])
def test_profiles_still_lists_everything_and_says_why_keys_are_missing(
    files: Path, backend: str
) -> None:
    result, waited = run(backend, "profiles")
    name = backend.rsplit(".", 1)[1]
    print(f"\n{name}: traycred profiles -> {result.returncode} after {waited:.1f} s")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "deploy" in result.stdout and "assume-role" in result.stdout
    assert "keyring not read" in result.stdout
    assert files.read_text() == OWNED
