"""Malformed config or credentials files give one clear line naming the file, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from traycred import config
from traycred.config import Kind
from traycred.errors import ConfigError

SECRET = "wJalrXUtnFEMI-never-show-me"


def load_error(path: Path, content: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        config.load()
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert SECRET not in message
    assert caught.value.exit_code == 1
    return message


@pytest.fixture(params=["config", "credentials"])
def aws_file(request: pytest.FixtureRequest, isolated_home: Path) -> Path:
    return isolated_home / ".aws" / str(request.param)


def test_duplicate_section(aws_file: Path) -> None:
    text = f"[a]\nx = 1\n\n[a]\naws_secret_access_key = {SECRET}\n".encode()
    assert load_error(aws_file, text) == (
        f"{aws_file}, line 4: section [a] appears twice. Merge the two sections into one."
    )


def test_duplicate_key(aws_file: Path) -> None:
    text = f"[a]\naws_secret_access_key = {SECRET}\naws_secret_access_key = x\n".encode()
    assert load_error(aws_file, text) == (
        f"{aws_file}, line 3: key aws_secret_access_key appears twice in [a]. "
        "Keep only one of them."
    )


def test_setting_before_any_section(aws_file: Path) -> None:
    text = f"aws_secret_access_key = {SECRET}\n[a]\n".encode()
    assert load_error(aws_file, text) == (
        f"{aws_file}, line 1: a setting before any [section] header, or a header without its "
        "closing ]. Put settings under a header such as [default]."
    )


def test_unclosed_section_header(aws_file: Path) -> None:
    message = load_error(aws_file, b"[default\nregion = x\n")
    assert message.startswith(f"{aws_file}, line 1: a setting before any [section] header")


def test_line_that_is_neither_setting_nor_header(aws_file: Path) -> None:
    text = f"[a]\nx = 1\n{SECRET}\n".encode()
    assert load_error(aws_file, text) == (
        f"{aws_file}, line 3: neither a `key = value` setting nor a [section] header. "
        "Fix or remove the line."
    )


def test_several_bad_lines_are_all_numbered(aws_file: Path) -> None:
    message = load_error(aws_file, b"[a]\nx = 1\nbad one\nbad two\n")
    assert message.startswith(f"{aws_file}, lines 3, 4: neither")


def test_non_utf8_bytes(aws_file: Path) -> None:
    assert load_error(aws_file, b"[a]\nregion = us-east-1\nname = caf\xe9\n") == (
        f"{aws_file}, line 3: not valid UTF-8 text. Save the file as UTF-8."
    )


def test_byte_order_mark_is_refused_like_the_aws_cli_does(aws_file: Path) -> None:
    # botocore (so the AWS CLI and every Python SDK) cannot parse a file with a BOM
    # (aws/aws-cli#3419): accepting it would hide that every other tool is broken.
    assert load_error(aws_file, b"\xef\xbb\xbf[default]\nregion = us-east-1\n") == (
        f"{aws_file} starts with a UTF-8 byte order mark (BOM), which the AWS CLI and SDKs "
        "cannot read. Save it as UTF-8 without BOM."
    )


def test_bad_indented_block(aws_file: Path) -> None:
    assert load_error(aws_file, b"[a]\ns3 =\n  no-equals-here\n") == (
        f"{aws_file}: an indented block under a key has a line without `=`. "
        "Indented lines under a key must be `name = value`."
    )


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(aws_file: Path) -> None:
    aws_file.parent.mkdir(parents=True, exist_ok=True)
    aws_file.write_text("[a]\nx = 1\n")
    aws_file.chmod(0)
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert str(caught.value) == (
        f"cannot read {aws_file}: Permission denied. Check its permissions (chmod 600 {aws_file})."
    )


def test_empty_files_and_a_folder_in_place_of_a_file_are_empty(isolated_home: Path) -> None:
    aws = isolated_home / ".aws"
    aws.mkdir()
    (aws / "config").write_text("")
    (aws / "credentials").mkdir()
    assert config.load().profiles == {}


def test_comments_and_blank_lines_are_fine(isolated_home: Path) -> None:
    aws = isolated_home / ".aws"
    aws.mkdir()
    (aws / "config").write_text(
        "# my setup\n\n; old style comment\n[profile p]  \ncredential_process = /bin/c\n\n"
    )
    assert config.load().get("p").kind is Kind.PROCESS
