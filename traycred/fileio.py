"""Safe file primitives for other people's files: atomic 0600 writes and a lock beside the file.

Every file traycred writes (credentials file, AWS config, SSO cache, settings) goes through
`atomic_write`: a temporary file in the same folder, fsync, `os.replace`, then fsync of the
folder, so a crash at any point leaves either the old or the new file, never a torn one.
`file_lock` is an advisory lock on `<file>.lock` (filelock: fcntl on POSIX, msvcrt on Windows)
so that two traycred processes never interleave a read-modify-write.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from traycred.errors import CredentialsFileError

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
LOCK_TIMEOUT_SECONDS = 10.0


def ensure_private_dir(folder: Path) -> None:
    """Create `folder` (and parents) with mode 0700 where traycred creates them."""
    if folder.is_dir():
        return
    if folder.exists():
        raise CredentialsFileError(
            f"Cannot use {folder}: it is a file, not a folder.", hint="Move that file away."
        )
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        # Each folder traycred creates is 0700, not just the last one (mkdir(parents=True)
        # would give the intermediate ones the umask's default mode).
        for each in reversed(missing):
            each.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    except OSError as exc:
        raise CredentialsFileError(
            f"Cannot create folder {folder}: {exc.strerror}.",
            hint="Check that its parent exists and is writable.",
        ) from exc


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialsFileError(
            f"Cannot read {path}: {exc.strerror}.", hint="Check its permissions."
        ) from exc


def atomic_write(path: Path, data: bytes, *, mode: int = PRIVATE_FILE_MODE) -> None:
    """Replace `path` with `data` atomically; the result has `mode` (0600 by default).

    Follows a symlinked target so a user's `~/.aws/credentials -> dotfiles/...` link survives.
    """
    target = _target(path)
    ensure_private_dir(target.parent)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise CredentialsFileError(
            f"Cannot write {path}: {exc.strerror}.",
            hint="Check that its folder exists and is writable.",
        ) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode) if hasattr(os, "fchmod") else None
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise CredentialsFileError(
            f"Cannot write {path}: {exc.strerror}.",
            hint="Check free disk space and the folder's permissions.",
        ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def remove_stale_temp_files(path: Path) -> None:
    """Delete the temporary files `atomic_write` left beside `path` when its writer was killed
    mid-write (SIGKILL, power loss).

    Call it under `file_lock(path)`, and only for a file every writer changes under that
    lock: then any temporary file of ours that exists belongs to a writer that died. Waiting
    for them to age would let a crash loop pile them up.
    """
    target = _target(path)
    # mkstemp's names: the prefix and suffix atomic_write gives, around 8 random characters.
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")
    with contextlib.suppress(OSError), os.scandir(target.parent) as entries:
        for entry in entries:
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _target(path: Path) -> Path:
    """The file a write to `path` really changes: a symlink's target, else `path` itself."""
    return path.resolve() if path.is_symlink() else path


def lock_path_for(path: Path) -> Path:
    target = _target(path)
    return target.with_name(target.name + ".lock")


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the advisory lock for `path` (on `<path>.lock`, created 0600)."""
    from filelock import FileLock, Timeout

    lock_file = lock_path_for(path)
    ensure_private_dir(lock_file.parent)
    lock = FileLock(str(lock_file), mode=PRIVATE_FILE_MODE)
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise CredentialsFileError(
            f"Another process has held the lock {lock_file} for over {timeout:.0f} s.",
            hint="Close other traycred instances, or remove the lock file if none is running.",
        ) from exc
    try:
        yield
    finally:
        lock.release()


def file_mode(path: Path) -> int | None:
    """Permission bits of `path`, or None when it does not exist."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
