"""Log files for the long-running instances: rotating, 0600, and scrubbed of anything secret-shaped.

Code never logs credential values in the first place; the redacting filter is the second line of
defence, for text that arrives from elsewhere (an AWS error message, a traceback's locals).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

LOG_FILE_BYTES = 1_000_000
LOG_BACKUPS = 3
REDACTED = "<redacted>"

# `key = value` / `"key": "value"` pairs whose value is a secret, whatever the value looks like.
_SECRET_PAIR = re.compile(
    r"""(?ix)
    (?P<key>["']?(?:aws_secret_access_key|aws_session_token|aws_security_token|secret_?access_?key
       |session_?token|access_?token|refresh_?token|client_?secret|secret|password|token)["']?)
    (?P<sep>\s*[:=]\s*["']?)
    (?P<value>[^\s"',;}]+)
    """
)
# Secret access keys: 40 characters of base64 (the key id, AKIA..., is not a secret).
_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# Session tokens, SSO access/refresh tokens: long runs of base64 or base64url.
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9/+=_\-])[A-Za-z0-9/+=_\-]{80,}")


def _random_looking(text: str) -> bool:
    """Upper and lower case mixed like base64 noise, not like a word, a digest or a file path
    (paths and hex digests are mostly one case; keys and tokens are about half and half)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    upper = sum(1 for c in letters if c.isupper()) / len(letters)
    return 0.15 <= upper <= 0.85


def _scrub(match: re.Match[str]) -> str:
    text = match.group(0)
    return REDACTED if _random_looking(text) else text


def redact(text: str) -> str:
    """`text` with secret-looking values replaced by <redacted>."""
    text = _SECRET_PAIR.sub(lambda m: f"{m.group('key')}{m.group('sep')}{REDACTED}", text)
    text = _LONG_TOKEN.sub(_scrub, text)
    return _SECRET_KEY.sub(_scrub, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) with `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class RedactingFormatter(logging.Formatter):
    """Also scrubs what the filter cannot see: formatted tracebacks and stack info."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_file_logging(
    name: str = "traycred", *, folder: Path | None = None, debug: bool = False
) -> Path:
    """Send the `traycred` loggers to `<log folder>/<name>.log` (rotating, 0600); its path."""
    if folder is None:
        from traycred import paths

        folder = paths.log_dir()
    from traycred.fileio import ensure_private_dir

    ensure_private_dir(folder)
    path = folder / f"{name}.log"
    handler = _PrivateRotatingFileHandler(
        path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    # The handler creates a new file 0600; one left by an earlier run is made private too.
    os.chmod(path, 0o600)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    close_file_logging()
    root = logging.getLogger("traycred")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    return path


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotated-in files are created 0600 as well."""

    def _open(self):  # type: ignore[no-untyped-def]
        old = os.umask(0o077)
        try:
            return super()._open()
        finally:
            os.umask(old)


def close_file_logging() -> None:
    """Detach and close what `setup_file_logging` attached."""
    root = logging.getLogger("traycred")
    for old in [h for h in root.handlers if isinstance(h, _PrivateRotatingFileHandler)]:
        root.removeHandler(old)
        old.close()
