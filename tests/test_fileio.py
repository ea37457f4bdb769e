"""Atomic private writes and the advisory lock that every file traycred touches relies on."""

from __future__ import annotations

import multiprocessing
import stat
import time
from pathlib import Path

import pytest

from traycred import fileio
from traycred.errors import CredentialsFileError


def test_atomic_write_creates_private_file_and_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "credentials"
    fileio.atomic_write(target, b"[a]\n")
    assert target.read_bytes() == b"[a]\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["credentials"]


def test_every_folder_traycred_creates_is_private(tmp_path: Path) -> None:
    target = tmp_path / "fresh" / ".aws" / "sso" / "cache" / "token.json"
    fileio.atomic_write(target, b"{}")
    for folder in (tmp_path / "fresh", tmp_path / "fresh" / ".aws", target.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_atomic_write_follows_a_symlinked_file(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "credentials"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "credentials"
    link.symlink_to(real)
    fileio.atomic_write(link, b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_atomic_write_where_no_folder_can_be_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    with pytest.raises(CredentialsFileError, match="Cannot"):
        fileio.atomic_write(blocker / "credentials", b"data")
    assert blocker.read_bytes() == b""


def _hold_lock(path: str, seconds: float, ready: multiprocessing.synchronize.Event) -> None:
    with fileio.file_lock(Path(path)):
        ready.set()
        time.sleep(seconds)


def test_lock_held_by_another_process_times_out_with_advice(tmp_path: Path) -> None:
    target = tmp_path / "credentials"
    ready = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(
        target=_hold_lock, args=(str(target), 5.0, ready)
    )
    holder.start()
    try:
        assert ready.wait(30)
        with (
            pytest.raises(CredentialsFileError, match="held the lock"),
            fileio.file_lock(target, timeout=0.2),
        ):
            pass
    finally:
        holder.kill()
        holder.join()
    with fileio.file_lock(target, timeout=5):
        pass
    assert stat.S_IMODE(fileio.lock_path_for(target).stat().st_mode) == 0o600
