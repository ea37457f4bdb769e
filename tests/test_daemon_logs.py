"""The daemon's log file: private, rotating, and scrubbed of anything that looks like a secret."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from traycred import logs, paths
from traycred.emulator.scenario import ALICE_ACCESS_KEY_ID, ALICE_SECRET_ACCESS_KEY

SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDtEXAMPLE+tokenAbc" * 3
SSO_TOKEN = "aoaAAAAAGV1ZXhhbXBsZVRva2VuRm9yVHJheWNyZWRUZXN0c0FuZE5vdGhpbmdFbHNlMTIzNDU2Nzg5MA"


@pytest.fixture
def log_file() -> Iterator[Path]:
    path = logs.setup_file_logging("daemon")
    yield path
    logs.close_file_logging()
    logging.getLogger("traycred").setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    "text",
    [
        f"secret {ALICE_SECRET_ACCESS_KEY} leaked",
        f"token {SESSION_TOKEN}",
        f'{{"accessToken": "{SSO_TOKEN}", "expiresAt": "2030-01-01T00:00:00Z"}}',
        "aws_session_token = abc",
        'clientSecret="short-but-secret"',
    ],
)
def test_secret_looking_values_are_redacted(text: str) -> None:
    cleaned = logs.redact(text)
    assert logs.REDACTED in cleaned
    for secret in (ALICE_SECRET_ACCESS_KEY, SESSION_TOKEN, SSO_TOKEN, "abc", "short-but-secret"):
        if secret in text:
            assert secret not in cleaned


@pytest.mark.parametrize(
    "text",
    [
        f"refreshed admin with key {ALICE_ACCESS_KEY_ID}; valid until 2030-01-01T00:00:00+00:00",
        "cache file 2b9a8fda1f2a4c6b0e1d9f3c7a5b4e6d8c0f1a2b.json",
        "socket /tmp/pytest-of-root/pytest-18/test_daemon_renews_roles_across_cycles0/run/"
        "traycred.sock and /Users/Alice/Library/Logs/traycred/daemon.log",
        "refresh of dev failed (3 in a row), retrying in 18 s",
    ],
)
def test_ordinary_log_text_is_left_alone(text: str) -> None:
    assert logs.redact(text) == text


def test_log_file_is_private_and_scrubbed(log_file: Path) -> None:
    log = logging.getLogger("traycred.test")
    log.info("refresh of %s gave %s", "dev", ALICE_SECRET_ACCESS_KEY)
    try:
        raise RuntimeError(f"AWS said: token {SESSION_TOKEN}")
    except RuntimeError:
        log.exception("refresh failed")
    for handler in logging.getLogger("traycred").handlers:
        handler.flush()
    text = log_file.read_text()
    assert log_file.parent == paths.log_dir()
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700
    assert "refresh of dev gave <redacted>" in text
    assert "RuntimeError: AWS said: token <redacted>" in text
    assert ALICE_SECRET_ACCESS_KEY not in text and SESSION_TOKEN not in text


def test_rotated_logs_stay_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "LOG_FILE_BYTES", 2_000)
    path = logs.setup_file_logging("daemon")
    try:
        log = logging.getLogger("traycred.test")
        for i in range(200):
            log.info("line %d of a long-running daemon's log", i)
    finally:
        logs.close_file_logging()
        logging.getLogger("traycred").setLevel(logging.NOTSET)
    files = sorted(path.parent.glob("daemon.log*"))
    assert [f.name for f in files] == ["daemon.log", "daemon.log.1", "daemon.log.2", "daemon.log.3"]
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
