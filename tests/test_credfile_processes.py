"""The credentials file under real processes: concurrent writers lose nothing, and writers
killed with SIGKILL at random moments never leave a torn file or lose a foreign byte."""

from __future__ import annotations

import configparser
import io
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from traycred import fileio
from traycred.credentials import Credentials
from traycred.credfile import CredentialsStore
from traycred.inifile import IniDocument

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fork are POSIX")

WRITERS = 6
UPDATES = 40
FOREIGN_EDITS = 40

# Each writer does read-modify-write cycles on its own section: it reads its counter back
# (without the lock, as the tray and CLI do), then writes the next one. If any other process
# ever wrote a stale copy of the file, a writer would read an old counter and say so.
WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime, timedelta, UTC
    from pathlib import Path
    from traycred.credentials import Credentials
    from traycred.credfile import CredentialsStore

    path, name, updates, gate = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    store = CredentialsStore(path)
    Path(f"{gate}.{name}").touch()
    while not gate.exists():
        time.sleep(0.001)
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    for n in range(1, updates + 1):
        found = store.read_owned(name)
        seen = 0 if found is None else int(found.session_token.split("-")[1])
        if seen != n - 1:
            sys.exit(f"{name}: read counter {seen}, expected {n - 1}: an update was lost")
        store.write({name: Credentials(f"ASIA{name}", "s", f"tok-{n}", expiry)})
    """
)

# Another tool that knows nothing of traycred except the lock: plain configparser, rewriting
# the whole file each time (as `aws configure` does), adding one section per edit.
FOREIGN_WRITER = textwrap.dedent(
    """
    import configparser, io, sys, time
    from pathlib import Path
    from traycred import fileio

    path, edits, gate = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    Path(f"{gate}.foreign").touch()
    while not gate.exists():
        time.sleep(0.001)
    for n in range(edits):
        with fileio.file_lock(path):
            parser = configparser.RawConfigParser()
            parser.read(path)
            parser[f"foreign-{n}"] = {"region": f"region-{n}"}
            out = io.StringIO()
            parser.write(out)
            fileio.atomic_write(path, out.getvalue().encode())
    """
)


def test_concurrent_writers_and_a_configparser_tool_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "aws" / "credentials"
    gate = tmp_path / "go"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    names = [f"writer{i}" for i in range(WRITERS)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(UPDATES), str(gate)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    children.append(
        subprocess.Popen(
            [sys.executable, "-c", FOREIGN_WRITER, str(path), str(FOREIGN_EDITS), str(gate)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    try:
        ready = [Path(f"{gate}.{name}") for name in [*names, "foreign"]]
        deadline = time.monotonic() + 60
        while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                break  # one died while starting: its stderr says why
            time.sleep(0.01)
        gate.touch()  # all start writing at once
        errors = []
        for child in children:
            _, stderr = child.communicate(timeout=100)
            if child.returncode != 0:
                errors.append(stderr.strip().splitlines()[-1] if stderr.strip() else "no output")
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert errors == []

    parser = configparser.RawConfigParser()
    parser.read(path)
    for name in names:
        assert parser[name]["aws_session_token"] == f"tok-{UPDATES}"
    for n in range(FOREIGN_EDITS):
        assert parser[f"foreign-{n}"]["region"] == f"region-{n}"
    # configparser rewrote the file many times; traycred's marker survived every rewrite.
    assert set(CredentialsStore(path).owned_sections()) == set(names)


FOREIGN_BEFORE = (
    b"\xef\xbb\xbf# personal keys \xe9t\xe9 -- do not touch\r\n"
    b"[default]\r\n"
    b"Aws_Access_Key_Id = AKIAUSEROWN\r\n"
    b"aws_secret_access_key=userSecret   \r\n"
    b"\r\n"
)
FOREIGN_AFTER = (
    b"\r\n; tools\r\n[profile-tool]\r\n  endpoint = https://example.invalid\r\n"
    b"      /v2\r\nopaque = \xff\xfe raw bytes"
)


def crash_loop_writer(path: Path) -> None:
    """Runs in a forked child until killed: rewrites [dev] with a new coherent set of values."""
    store = CredentialsStore(path)
    n = 0
    while True:
        n += 1
        store.write({"dev": credentials_for(n)})


def credentials_for(n: int) -> Credentials:
    from datetime import UTC, datetime, timedelta

    return Credentials(
        f"ASIA{n:012d}",
        f"secret-{n}-" + "s" * 40,
        f"token-{n}-" + "t" * 2000,  # real session tokens are long; so is the window to kill
        datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
    )


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".credentials."))


def test_writers_killed_at_random_moments_never_tear_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "aws"
    folder.mkdir(mode=0o700)
    path = folder / "credentials"
    path.write_bytes(FOREIGN_BEFORE + b"[dev]\r\nx_traycred_expiration = 2000-01-01T00:00:00Z\r\n")
    path.write_bytes(path.read_bytes() + FOREIGN_AFTER)
    with fileio.file_lock(path):  # imports filelock once, so forked writers start at once
        pass
    rng = random.Random(20240601)
    counters: set[int] = set()
    kills_with_temp_left = 0
    for _ in range(200):
        pid = os.fork()
        if pid == 0:  # child
            try:
                crash_loop_writer(path)
            finally:
                os._exit(1)
        # Mostly short lives (kills land in lock, read, temp write, rename), some long enough
        # for several writes to complete.
        time.sleep(rng.uniform(0.0005, 0.02) if rng.random() < 0.85 else rng.uniform(0.02, 0.06))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), "the writer died on its own"

        data = path.read_bytes()
        # Every foreign byte is intact, around one whole [dev] section.
        assert data.startswith(FOREIGN_BEFORE)
        assert data.endswith(FOREIGN_AFTER)
        document = IniDocument.parse(data)
        assert document.section_names() == ["default", "dev", "profile-tool"]
        parser = configparser.RawConfigParser()
        parser.read_file(io.StringIO(data.decode("utf-8", "surrogateescape")[1:], newline=None))
        dev = CredentialsStore(path).read_owned("dev")
        if dev is not None:  # None only until the first write lands
            n = int(dev.access_key_id[4:])
            assert dev == credentials_for(n), "values from different writes were mixed"
            assert parser["dev"]["aws_session_token"] == credentials_for(n).session_token
            counters.add(n)
        # At most the temporary file of the write that was killed is left behind.
        leftovers = temp_files(folder)
        assert len(leftovers) <= 1, leftovers
        kills_with_temp_left += bool(leftovers)
    assert len(counters) >= 5, "the writers hardly ever completed a write"
    # The next write cleans up what a killed writer left.
    CredentialsStore(path).write({"dev": credentials_for(1)})
    assert temp_files(folder) == []
    print(f"{kills_with_temp_left} of 200 kills left a temporary file; {len(counters)} writes seen")
