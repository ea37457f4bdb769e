"""Malformed config or credentials files give one clear line naming the file, never a traceback."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


def _load_error_message() -> str:
    """config.load()'s error, read as an unprivileged user when the tests run as root
    (root reads any file, so the permission error could not happen otherwise)."""
    if os.geteuid() != 0:
        with pytest.raises(ConfigError) as caught:
            config.load()
        return str(caught.value)
    # Import everything load() needs while we can still read the interpreter's files.
    import tempfile

    with tempfile.TemporaryDirectory() as warm:
        config.load(Path(warm) / "config", Path(warm) / "credentials")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to `nobody`, everything already imported
        os.close(read_end)
        message = "no error"
        try:
            os.setgid(65534)
            os.setuid(65534)
            config.load()
        except ConfigError as exc:
            message = str(exc)
        except BaseException as exc:  # report, never run the rest of pytest in the child
            message = f"unexpected {type(exc).__name__}: {exc}"
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


def test_unreadable_file(aws_file: Path) -> None:
    aws_file.parent.mkdir(parents=True, exist_ok=True)
    aws_file.write_text("[a]\nx = 1\n")
    aws_file.chmod(0)
    # The folders must be traversable for the unprivileged reader: only the file is closed.
    for folder in (aws_file.parent, *aws_file.parents):
        if str(folder) in ("/", "/tmp"):
            break
        folder.chmod(folder.stat().st_mode | 0o711)
    assert _load_error_message() == (
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


# --- property: whatever the bytes, a model or one clear line; files untouched ---

FRAGMENTS = [
    "[default]",
    "[profile a]",
    "[profile b]",
    "[profile a",
    '[profile "x y"]',
    "[sso-session corp]",
    "[]",
    "role_arn = arn:aws:iam::1:role/r",
    "source_profile = a",
    "source_profile = b",
    "credential_source = Environment",
    "sso_session = corp",
    "sso_start_url = https://x",
    "sso_region = us-east-1",
    "sso_account_id = 1",
    "sso_role_name = R",
    "credential_process = /bin/creds",
    "aws_access_key_id = AKIA",
    f"aws_secret_access_key = {SECRET}",
    "aws_session_token = tok",
    "x_traycred_expiration = 2030-01-01T00:00:00Z",
    "duration_seconds = 12x",
    "s3 =",
    "  addressing_style = path",
    "  broken-nested",
    "=",
    "key with no equals",
    "# comment",
    "",
]
lines = st.lists(st.sampled_from(FRAGMENTS), max_size=30)
separators = st.sampled_from(["\n", "\r\n"])
noise = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"caf\xe9", b"\x00"])


@st.composite
def ini_bytes(draw: st.DrawFn) -> bytes:
    text = draw(separators).join(draw(lines)).encode()
    where = draw(st.integers(min_value=0, max_value=len(text)))
    return text[:where] + draw(noise) + text[where:]


@settings(max_examples=300, deadline=None)
@given(config_bytes=ini_bytes(), credentials_bytes=ini_bytes())
# Found by this test in CI: a BOM inside a line makes botocore read a key of its own,
# "\ufeffaws_secret_access_key", which the model once kept (and showed in its repr).
@example(
    config_bytes=b"[default]\n\xef\xbb\xbfaws_secret_access_key = " + SECRET.encode(),
    credentials_bytes=b"",
)
def test_any_file_gives_a_model_or_one_clear_line(
    config_bytes: bytes, credentials_bytes: bytes
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        cfg, creds = Path(folder) / "config", Path(folder) / "credentials"
        cfg.write_bytes(config_bytes)
        creds.write_bytes(credentials_bytes)
        try:
            model = config.load(cfg, creds, keyring_profiles=["a"])
        except ConfigError as exc:
            message = str(exc)
            assert "\n" not in message and SECRET not in message
            assert str(cfg) in message or str(creds) in message
        else:
            for profile in model.profiles.values():
                assert (profile.kind is Kind.INVALID) == (profile.invalid_reason is not None)
                assert SECRET not in repr(profile)
                assert all(SECRET not in value for value in profile.settings.values())
                assert SECRET not in (profile.invalid_reason or "")
                assert all(SECRET not in w for w in profile.warnings)
        assert cfg.read_bytes() == config_bytes
        assert creds.read_bytes() == credentials_bytes


def test_a_huge_file_loads(tmp_path: Path) -> None:
    body = "".join(
        f"[profile p{i}]\nregion = eu-west-1\ncredential_process = /bin/creds {i}\n"
        for i in range(5000)
    )
    (tmp_path / "config").write_text(body)
    model = config.load(tmp_path / "config", tmp_path / "credentials")
    assert len(model.profiles) == 5000
    assert model.get("p4999").kind is Kind.PROCESS
