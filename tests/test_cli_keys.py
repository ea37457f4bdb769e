"""`traycred keys add|list|remove` end to end in child processes, against the real keyring.

Secrets go in on stdin (a pipe, or a pseudo-terminal for the hidden prompt) and must never come
back out: not on stdout or stderr, not in the child's argv.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.fixtures.system import require_system
from traycred.credentials import Credentials
from traycred.keystore import Keystore

REPO = Path(__file__).resolve().parent.parent
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
OTHER_ID = "AKIAI44QH8DHBEXAMPLE"
BACKEND = "SecretService Keyring (keyring.backends.SecretService)"


def child_env(extra: Mapping[str, str] | None = None, remove: Sequence[str] = ()) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)  # so PYTHON_KEYRING_BACKEND=tests.keyring_backends.X loads
    for name in remove:
        env.pop(name, None)
    env.update(extra or {})
    return env


def traycred(
    *args: str,
    stdin: str | None = "",
    extra: Mapping[str, str] | None = None,
    remove: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "traycred", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(extra, remove),
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def assert_no_secret(result: subprocess.CompletedProcess[str], secret: str = SECRET) -> None:
    assert secret not in result.stdout
    assert secret not in result.stderr


# -- add / list / remove with the real keyring ----------------------------------------------


def files_containing(folder: Path, secret: str) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def test_add_with_the_secret_piped_on_stdin(real_keyring: str, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "traycred", "keys", "add", "alice", "--access-key-id", KEY_ID],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    # The child is waiting for its stdin: its argv is what any user of `ps` would see.
    argv = ""
    deadline = time.monotonic() + 10
    while "alice" not in argv and time.monotonic() < deadline:  # right after exec it can be empty
        argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        time.sleep(0.01)
    out, err = proc.communicate(SECRET + "\n", timeout=60)

    assert SECRET not in argv and "keys\0add\0alice" in argv
    assert proc.returncode == 0, err
    assert out == f"Stored access key AKIA...MPLE for profile alice in {BACKEND}.\n"
    assert SECRET not in out and SECRET not in err
    assert Keystore().get_key("alice") == Credentials(KEY_ID, SECRET)
    assert files_containing(tmp_path, SECRET) == []  # HOME, state and runtime folders


def test_list_shows_ids_never_secrets(real_keyring: str) -> None:
    empty = traycred("keys", "list")
    assert empty.returncode == 0
    assert empty.stdout == "No keys stored.\n"

    assert traycred("keys", "add", "alice", "--access-key-id", KEY_ID, stdin=SECRET).returncode == 0
    other_secret = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
    added = traycred(
        "keys", "add", "production-admin", "--access-key-id", OTHER_ID, stdin=other_secret
    )
    assert added.returncode == 0, added.stderr

    listed = traycred("keys", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "PROFILE           ACCESS KEY ID",
        f"alice             {KEY_ID}",
        f"production-admin  {OTHER_ID}",
    ]
    assert_no_secret(listed)
    assert_no_secret(listed, other_secret)


def test_add_again_replaces_the_key(real_keyring: str) -> None:
    traycred("keys", "add", "alice", "--access-key-id", KEY_ID, stdin=SECRET)
    new_secret = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
    result = traycred("keys", "add", "alice", "--access-key-id", OTHER_ID, stdin=new_secret)
    assert result.returncode == 0, result.stderr
    assert "replacing AKIA...MPLE" in result.stdout
    assert Keystore().profiles() == {"alice": OTHER_ID}
    assert Keystore().get_key("alice") == Credentials(OTHER_ID, new_secret)


def test_remove(real_keyring: str) -> None:
    traycred("keys", "add", "alice", "--access-key-id", KEY_ID, stdin=SECRET)
    removed = traycred("keys", "remove", "alice")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == f"Removed the access key of profile alice from {BACKEND}.\n"
    assert Keystore().get_key("alice") is None
    assert traycred("keys", "list").stdout == "No keys stored.\n"

    again = traycred("keys", "remove", "alice")
    line = assert_one_line_error(again, 1)
    assert line.startswith("traycred: No key is stored for profile alice.")
    assert "keys list" in line


def test_hidden_prompt_on_a_terminal(real_keyring: str) -> None:
    """On a terminal the id is asked for and the secret is read without echo."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "traycred", "keys", "add", "alice"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=child_env(),
        start_new_session=True,
    )
    os.close(slave)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 30
        while marker not in seen:
            assert time.monotonic() < deadline, seen
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk

    try:
        read_until(b"Access key id: ")
        os.write(master, KEY_ID.encode() + b"\n")
        read_until(b"Secret access key (hidden): ")
        os.write(master, SECRET.encode() + b"\n")
        read_until(b"for profile alice in")
        assert proc.wait(timeout=30) == 0
        read_until(b"Keyring).")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)

    assert b"Stored access key AKIA...MPLE for profile alice" in seen
    assert SECRET.encode() not in seen  # no echo
    assert Keystore().get_key("alice") == Credentials(KEY_ID, SECRET)


# -- refused input: usage errors, nothing stored --------------------------------------------


@pytest.mark.parametrize(
    ("key_id", "secret", "expected"),
    [
        ("ASIAIOSFODNN7EXAMPLE", SECRET, "is a temporary key id"),
        ("akia-not-a-key", SECRET, "not an AWS access key id"),
        (KEY_ID, "", "secret access key is empty"),
        (KEY_ID, "wJalrXUtnFEMI/K7MDENG bPxRfiCYEXAMPLEKEY", "contains whitespace"),
    ],
    ids=["temporary-id", "malformed-id", "empty-secret", "secret-with-space"],
)
def test_bad_input_is_refused_before_storing(
    real_keyring: str, key_id: str, secret: str, expected: str
) -> None:
    result = traycred("keys", "add", "alice", "--access-key-id", key_id, stdin=secret + "\n")
    line = assert_one_line_error(result, 2)
    assert expected in line
    assert_no_secret(result, secret or SECRET)
    assert Keystore().profiles() == {}


def test_piped_stdin_needs_the_key_id_on_the_command_line(real_keyring: str) -> None:
    result = traycred("keys", "add", "alice", stdin=SECRET + "\n")
    line = assert_one_line_error(result, 2)
    assert "--access-key-id" in line and "stdin is not a terminal" in line
    assert_no_secret(result)
    assert Keystore().profiles() == {}


def test_unusual_secret_length_warns_and_stores(real_keyring: str) -> None:
    short = "abcdEFGH1234/+"
    result = traycred("keys", "add", "alice", "--access-key-id", KEY_ID, stdin=short + "\n")
    assert result.returncode == 0, result.stderr
    assert "14 characters long" in result.stderr
    assert_no_secret(result, short)
    assert Keystore().get_key("alice") == Credentials(KEY_ID, short)


# -- a keyring that is missing, hung, locked or plaintext -----------------------------------


def test_hung_keyring_answers_within_the_timeout() -> None:
    started = time.monotonic()
    result = traycred(
        "keys",
        "add",
        "alice",
        "--access-key-id",
        KEY_ID,
        stdin=SECRET + "\n",
        extra={"PYTHON_KEYRING_BACKEND": "tests.keyring_backends.HangingKeyring"},
    )
    waited = time.monotonic() - started
    line = assert_one_line_error(result, 1)
    assert "did not answer within 5 s" in line
    assert "HangingKeyring (tests.keyring_backends)" in line
    assert_no_secret(result)
    assert waited < 15, f"the user waited {waited:.1f} s"


def test_no_secret_service_on_dbus() -> None:
    result = traycred("keys", "list", remove=("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND"))
    line = assert_one_line_error(result, 1)
    assert "No OS keyring is available" in line
    assert "gnome-keyring" in line and "PYTHON_KEYRING_BACKEND" in line


def test_secret_service_named_but_no_dbus() -> None:
    result = traycred(
        "keys",
        "list",
        remove=("DBUS_SESSION_BUS_ADDRESS",),
        extra={"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"},
    )
    line = assert_one_line_error(result, 1)
    assert "keyring.backends.SecretService.Keyring named by PYTHON_KEYRING_BACKEND" in line
    assert "DBUS_SESSION_BUS_ADDRESS" in line


def test_locked_keyring_backend() -> None:
    result = traycred(
        "keys", "list", extra={"PYTHON_KEYRING_BACKEND": "tests.keyring_backends.LockedKeyring"}
    )
    line = assert_one_line_error(result, 1)
    assert "is locked" in line and "Unlock it" in line


LOCK_THEN_ADD = textwrap.dedent(
    """
    import subprocess, sys, time
    import secretstorage
    connection = secretstorage.dbus_init()
    collection = secretstorage.get_default_collection(connection)
    collection.lock()
    assert collection.is_locked()
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "traycred", "keys", "add", "alice",
         "--access-key-id", sys.argv[1]],
        input=sys.argv[2] + "\\n", capture_output=True, text=True, timeout=60,
    )
    print(f"rc={result.returncode} waited={time.monotonic() - started:.2f}")
    print(result.stdout, end="")
    print(result.stderr, end="")
    """
)


def test_really_locked_gnome_keyring(tmp_path: Path) -> None:
    """A private gnome-keyring whose login collection is locked; no display, so the unlock
    prompt cannot be shown and the Secret Service reports it locked."""
    if not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")):
        require_system("dbus-run-session and gnome-keyring-daemon are needed")
    home = tmp_path / "keyring-home"
    home.mkdir(mode=0o700)
    script = tmp_path / "lock_then_add.py"
    script.write_text(LOCK_THEN_ADD)
    inner = (
        'eval "$(printf %s pw | gnome-keyring-daemon --unlock --components=secrets)"; '
        'exec "$0" "$@"'
    )
    env = child_env(
        {
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(home),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
        },
        remove=("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL"),
    )
    cmd = ["dbus-run-session", "--", "sh", "-c", inner, sys.executable, str(script)]
    result = subprocess.run(
        [*cmd, KEY_ID, SECRET], capture_output=True, text=True, timeout=90, env=env
    )
    # dbus-daemon and gcr-prompter chatter goes to stderr; the child's answer is on stdout.
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("rc=1 "), result.stdout
    errors = [line for line in lines[1:] if line.strip()]
    assert len(errors) == 1 and "Traceback" not in result.stdout
    assert errors[0].startswith(f"traycred: {BACKEND} is locked, so traycred could not")
    assert SECRET not in result.stdout


def test_auto_selected_plaintext_backend_is_refused(tmp_path: Path) -> None:
    """keyring would pick the plaintext backend on its own: traycred refuses it."""
    plain = tmp_path / "plain.json"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tests.keyring_backends; from traycred.cli.main import main; "
            "sys.exit(main(sys.argv[1:]))",
            "keys",
            "add",
            "alice",
            "--access-key-id",
            KEY_ID,
        ],
        input=SECRET + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(
            {"TRAYCRED_TEST_PLAINTEXT_PRIORITY": "100", "TRAYCRED_TEST_KEYRING_FILE": str(plain)},
            remove=("PYTHON_KEYRING_BACKEND",),
        ),
        cwd=REPO,
    )
    line = assert_one_line_error(result, 1)
    assert "stores keys unencrypted" in line
    assert "PYTHON_KEYRING_BACKEND=tests.keyring_backends.PlaintextFileKeyring" in line
    assert not plain.exists()


def test_auto_selected_chain_skips_its_plaintext_member(real_keyring: str, tmp_path: Path) -> None:
    """Secret Service and a plaintext backend both available: keyring would chain them;
    traycred writes to the Secret Service only."""
    plain = tmp_path / "plain.json"
    code = (
        "import sys, tests.keyring_backends; from traycred.cli.main import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    env = child_env(
        {"TRAYCRED_TEST_PLAINTEXT_PRIORITY": "1", "TRAYCRED_TEST_KEYRING_FILE": str(plain)},
        remove=("PYTHON_KEYRING_BACKEND",),
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "keys", "add", "alice", "--access-key-id", KEY_ID],
        input=SECRET + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert f"in {BACKEND}." in result.stdout
    assert not plain.exists()
    assert Keystore().get_key("alice") == Credentials(KEY_ID, SECRET)


def test_explicit_plaintext_backend_warns_once(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    extra = {
        "PYTHON_KEYRING_BACKEND": "tests.keyring_backends.PlaintextFileKeyring",
        "TRAYCRED_TEST_KEYRING_FILE": str(plain),
    }
    added = traycred("keys", "add", "alice", "--access-key-id", KEY_ID, stdin=SECRET, extra=extra)
    assert added.returncode == 0, added.stderr
    warnings = [line for line in added.stderr.splitlines() if "UNENCRYPTED" in line]
    assert len(warnings) == 1
    assert_no_secret(added)
    listed = traycred("keys", "list", extra=extra)
    assert KEY_ID in listed.stdout
