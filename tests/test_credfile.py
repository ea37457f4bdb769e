"""The credentials-file store: traycred's sections are written, every foreign byte stays, foreign
sections and long-term keys are refused, and the file is private."""

from __future__ import annotations

import configparser
import io
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traycred import paths
from traycred.credentials import Credentials
from traycred.credfile import OWNER_MARKER, CredentialsStore, OwnedSection
from traycred.errors import CredentialsFileError, ForeignSectionError

EXPIRY = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def temporary(n: int | str, expiry: datetime = EXPIRY) -> Credentials:
    return Credentials(f"ASIA{n}", f"secret/{n}+x", f"token{n}==", expiry)


def owned_lines(name: str, creds: Credentials, newline: bytes = b"\n") -> list[bytes]:
    """The section exactly as traycred writes it."""
    return [
        b"[" + name.encode() + b"]" + newline,
        b"aws_access_key_id = " + creds.access_key_id.encode() + newline,
        b"aws_secret_access_key = " + creds.secret_access_key.encode() + newline,
        b"aws_session_token = " + (creds.session_token or "").encode() + newline,
        b"x_traycred_expiration = "
        + (creds.expiration or EXPIRY).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        + newline,
    ]


def read_like_configparser(data: bytes) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser()
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    parser.read_file(io.StringIO(text, newline=None))
    return {name: dict(parser.items(name)) for name in parser.sections()}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def creds_path(isolated_home: Path) -> Path:
    return paths.aws_credentials_file()


# --- property: every byte outside traycred's sections survives ------------------------------

_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
).map(lambda text: text.encode("utf-8"))
_RAW = st.binary(max_size=6).filter(lambda raw: b"\r" not in raw and b"\n" not in raw)
_VALUE = st.lists(st.one_of(_TEXT, _RAW), max_size=3).map(b"".join)
_KEY = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,10}", fullmatch=True).filter(
    lambda key: key.lower() != OWNER_MARKER
)
_FOREIGN_NAMES = st.sampled_from(
    ["default", "work", "profile dev", "sso-session corp", "tool:x", "Prod", "a b"]
)
_OWNED_NAMES = ["dev", "dev-live", "default-out", "ci"]
_ENDING = st.sampled_from([b"\n", b"\n", b"\r\n"])


@st.composite
def comment_block(draw: st.DrawFn) -> list[bytes]:
    lines = draw(
        st.lists(
            st.one_of(
                st.tuples(st.sampled_from([b"#", b";", b"  #", b"\t;"]), _VALUE).map(b"".join),
                st.sampled_from([b"", b"  ", b"\t"]),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return [line + draw(_ENDING) for line in lines]


@st.composite
def foreign_section(draw: st.DrawFn, name: str) -> list[bytes]:
    header = b"[" + name.encode() + b"]" + draw(st.sampled_from([b"", b"  ", b"\t"]))
    lines = [header + draw(_ENDING)]
    for key in draw(st.lists(_KEY, unique_by=str.lower, max_size=4)):
        indent = draw(st.sampled_from([b"", b"", b" "]))
        sep = draw(st.sampled_from([b"=", b" = ", b":", b"  :  ", b"\t=\t"]))
        lines.append(indent + key.encode() + sep + draw(_VALUE) + draw(_ENDING))
        for _ in range(draw(st.integers(0, 1))):
            continuation = draw(_VALUE).strip() or b"more"
            lines.append(indent + b"    " + continuation + draw(_ENDING))
        if draw(st.booleans()):
            lines.extend(draw(comment_block()))
    return lines


@dataclass
class Chunk:
    lines: list[bytes]
    owned: str | None = None  # the owned section's name, or None for foreign bytes


@st.composite
def credentials_file(draw: st.DrawFn) -> tuple[bool, list[Chunk]]:
    """A file of foreign chunks (comments, other tools' sections) with traycred's sections
    between them, with the chunk boundaries known."""
    chunks: list[Chunk] = []
    if draw(st.booleans()):
        chunks.append(Chunk(draw(comment_block())))
    foreign = draw(st.lists(_FOREIGN_NAMES, unique=True, max_size=4))
    owned = draw(st.lists(st.sampled_from(_OWNED_NAMES), unique=True, max_size=3))
    order = draw(st.permutations([("f", n) for n in foreign] + [("o", n) for n in owned]))
    for kind, name in order:
        if kind == "f":
            chunks.append(Chunk(draw(foreign_section(name))))
        else:
            ending = draw(_ENDING)
            chunks.append(Chunk(owned_lines(name, temporary(name), ending), owned=name))
        if draw(st.booleans()):
            chunks.append(Chunk(draw(comment_block())))
    if chunks and chunks[-1].owned is None and chunks[-1].lines[-1].strip() and draw(st.booleans()):
        chunks[-1].lines[-1] = chunks[-1].lines[-1].rstrip(b"\r\n")
    return draw(st.booleans()), chunks


def expected_after(
    chunks: list[Chunk],
    updates: dict[str, Credentials],
    remove: list[str],
    newline: bytes,
) -> bytes:
    """The file the store must produce: owned sections replaced in place or deleted (with
    the blank lines right after them), new sections appended; every other line as it was."""
    lines: list[bytes] = []
    skip_blank = False
    for chunk in chunks:
        if chunk.owned in remove:
            skip_blank = True
            continue
        if chunk.owned in updates:
            new = owned_lines(chunk.owned, updates[chunk.owned], newline)
            lines += [chunk.lines[0], *new[1:]]
            skip_blank = False
            continue
        for line in chunk.lines:
            if skip_blank and not line.decode("utf-8", "surrogateescape").strip():
                continue
            skip_blank = False
            lines.append(line)
    present = {chunk.owned for chunk in chunks}
    for name, creds in updates.items():
        if name in present:
            continue
        if lines:
            if not lines[-1].endswith((b"\n", b"\r")):
                lines[-1] += newline
            if lines[-1].decode("utf-8", "surrogateescape").strip():
                lines.append(newline)
        lines += owned_lines(name, creds, newline)
    return b"".join(lines)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(credentials_file(), st.data())
def test_writes_change_only_traycreds_sections(
    tmp_path_factory: pytest.TempPathFactory,
    generated: tuple[bool, list[Chunk]],
    data: st.DataObject,
) -> None:
    bom, chunks = generated
    original = (b"\xef\xbb\xbf" if bom else b"") + b"".join(b"".join(c.lines) for c in chunks)
    path = tmp_path_factory.mktemp("aws") / "credentials"
    path.write_bytes(original)
    foreign_view = read_like_configparser(original)
    owned = [chunk.owned for chunk in chunks if chunk.owned]
    updated = data.draw(st.lists(st.sampled_from(_OWNED_NAMES), unique=True, max_size=4))
    updates = {name: temporary(f"{name}-new", EXPIRY + timedelta(hours=1)) for name in updated}
    removable = [name for name in owned if name not in updates]
    remove = data.draw(st.lists(st.sampled_from(removable), unique=True)) if removable else []
    # Removing an absent or a foreign section is a no-op, never an error.
    remove_also = data.draw(st.lists(st.sampled_from(["never-there", "work"]), unique=True))
    remove_also = [name for name in remove_also if name not in updates]

    CredentialsStore(path).write(updates, remove=[*remove, *remove_also])

    text = original.removeprefix(b"\xef\xbb\xbf")
    crlf = text.count(b"\r\n")
    newline = b"\r\n" if crlf > text.count(b"\n") - crlf else b"\n"
    expected = expected_after(chunks, updates, remove, newline)
    written = path.read_bytes() if path.exists() else b""
    assert written == (b"\xef\xbb\xbf" if bom else b"") + expected
    view = read_like_configparser(written)
    for name, creds in updates.items():
        assert view[name] == {
            "aws_access_key_id": creds.access_key_id,
            "aws_secret_access_key": creds.secret_access_key,
            "aws_session_token": creds.session_token,
            OWNER_MARKER: "2030-01-02T04:04:05Z",
        }
    for name in remove:
        assert name not in view
    for name, items in foreign_view.items():
        if name not in owned:
            assert view[name] == items
    if written and (updates or remove):
        assert mode(path) == 0o600
    if not bom and updates:
        try:
            written.decode("utf-8")
        except UnicodeDecodeError:
            return  # botocore opens the file as UTF-8 and cannot read it at all
        from botocore.configloader import raw_config_parse

        parsed = raw_config_parse(str(path), parse_subsections=False)
        for name, creds in updates.items():
            assert parsed[name]["aws_session_token"] == creds.session_token


# --- examples --------------------------------------------------------------------------------

USER_FILE = (
    b"# Work keys -- rotate every 90 days\r\n"
    b"[default]\r\n"
    b"aws_access_key_id = AKIAUSEROWN\r\n"
    b"aws_secret_access_key = userSecretValue\r\n"
    b"region = eu-west-1\r\n"
    b"\r\n"
    b"[terraform]  ; managed by tfenv\r\n"
    b"Credential_Process = /usr/bin/creds --name caf\xe9\r\n"
    b"   --verbose\r\n"
)


def test_first_write_creates_a_private_file_in_a_private_folder(creds_path: Path) -> None:
    assert not creds_path.parent.exists()
    CredentialsStore().write({"dev": temporary(1)})
    assert mode(creds_path) == 0o600
    assert mode(creds_path.parent) == 0o700
    assert creds_path.read_bytes() == b"".join(owned_lines("dev", temporary(1)))


def test_an_existing_wider_file_keeps_its_content_and_becomes_0600(creds_path: Path) -> None:
    creds_path.parent.mkdir(mode=0o755)
    creds_path.write_bytes(USER_FILE)
    creds_path.chmod(0o644)
    CredentialsStore().write({"dev": temporary(1)})
    assert mode(creds_path) == 0o600
    assert mode(creds_path.parent) == 0o755  # a folder the user made is left alone
    written = creds_path.read_bytes()
    assert written.startswith(USER_FILE)
    assert written == USER_FILE + b"\r\n" + b"".join(owned_lines("dev", temporary(1), b"\r\n"))


def test_aws_sdks_read_the_written_credentials(creds_path: Path) -> None:
    creds_path.parent.mkdir(mode=0o700)
    creds_path.write_bytes(b"[other]\naws_access_key_id = AKIAOTHER\n")
    CredentialsStore().write({"dev": temporary(7)})
    import boto3

    found = boto3.Session(profile_name="dev").get_credentials()
    assert found is not None
    frozen = found.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        "ASIA7",
        "secret/7+x",
        "token7==",
    )


def test_reading_back_owned_sections(creds_path: Path) -> None:
    store = CredentialsStore()
    assert store.owned_sections() == {}
    assert store.read_owned("dev") is None
    creds_path.parent.mkdir(mode=0o700)
    creds_path.write_bytes(USER_FILE)
    store.write({"dev": temporary(1), "ci": temporary(2)})
    assert store.owned_sections() == {
        "dev": OwnedSection("dev", "ASIA1", EXPIRY),
        "ci": OwnedSection("ci", "ASIA2", EXPIRY),
    }
    assert store.read_owned("dev") == temporary(1)
    assert store.read_owned("default") is None  # foreign
    assert store.read_owned("terraform") is None


def test_a_foreign_target_is_refused_and_nothing_is_written(creds_path: Path) -> None:
    creds_path.parent.mkdir(mode=0o700)
    creds_path.write_bytes(USER_FILE)
    creds_path.chmod(0o644)
    before = creds_path.stat()
    with pytest.raises(ForeignSectionError) as refused:
        CredentialsStore().write({"dev": temporary(1), "default": temporary(2)})
    assert str(refused.value) == (
        "[default] holds credentials traycred did not write (your own keys?). Move them to "
        "the keyring with `traycred keys import default`, or choose another output name for "
        "this profile."
    )
    assert "userSecretValue" not in str(refused.value)
    after = creds_path.stat()
    assert creds_path.read_bytes() == USER_FILE
    assert (after.st_mtime_ns, after.st_ino, mode(creds_path)) == (
        before.st_mtime_ns,
        before.st_ino,
        0o644,
    )


def test_a_foreign_section_without_keys_is_refused_too(creds_path: Path) -> None:
    creds_path.parent.mkdir(mode=0o700)
    creds_path.write_bytes(USER_FILE)
    with pytest.raises(ForeignSectionError, match=r"\[terraform\] .* holds settings traycred"):
        CredentialsStore().write({"terraform": temporary(1)})
    assert creds_path.read_bytes() == USER_FILE


@pytest.mark.parametrize(
    "creds",
    [
        Credentials("AKIALONGTERM", "longTermSecret"),
        Credentials("AKIALONGTERM", "longTermSecret", expiration=EXPIRY),
        Credentials("ASIA1", "longTermSecret", "token", None),
    ],
)
def test_long_term_keys_are_never_written(creds_path: Path, creds: Credentials) -> None:
    with pytest.raises(CredentialsFileError, match="never long-term keys") as refused:
        CredentialsStore().write({"ok": temporary(1), "dev": creds})
    assert "longTermSecret" not in str(refused.value)
    assert not creds_path.exists()


@pytest.mark.parametrize("name", ["DEFAULT", "", " dev", "a\nb"])
def test_names_botocore_cannot_read_back_are_refused(creds_path: Path, name: str) -> None:
    with pytest.raises(CredentialsFileError, match="Choose another output name"):
        CredentialsStore().write({name: temporary(1)})
    assert not creds_path.exists()


def test_a_duplicated_target_is_refused_with_a_clear_message(creds_path: Path) -> None:
    creds_path.parent.mkdir(mode=0o700)
    original = b"".join(owned_lines("dev", temporary(1)) + owned_lines("dev", temporary(2)))
    creds_path.write_bytes(original)
    for change in (
        lambda: CredentialsStore().write({"dev": temporary(3)}),
        lambda: CredentialsStore().write({}, remove=["dev"]),
    ):
        with pytest.raises(CredentialsFileError, match=r"\[dev\] appears 2 times") as refused:
            change()
        assert "Merge the [dev] sections into one" in str(refused.value)
    assert creds_path.read_bytes() == original


def test_removing_owned_sections_leaves_foreign_ones(creds_path: Path) -> None:
    creds_path.parent.mkdir(mode=0o700)
    creds_path.write_bytes(USER_FILE)
    store = CredentialsStore()
    store.write({"dev": temporary(1), "ci": temporary(2)})
    store.write({"dev": temporary(3)}, remove=["ci", "default", "absent"])
    assert creds_path.read_bytes() == (
        USER_FILE + b"\r\n" + b"".join(owned_lines("dev", temporary(3), b"\r\n")) + b"\r\n"
    )
    store.write({}, remove=["dev"])
    assert creds_path.read_bytes() == USER_FILE + b"\r\n"


def test_nothing_to_change_writes_nothing(creds_path: Path) -> None:
    CredentialsStore().write({}, remove=["dev"])
    assert not creds_path.exists()
    CredentialsStore().write({"dev": temporary(1)})
    before = creds_path.stat()
    CredentialsStore().write({"dev": temporary(1)}, remove=["nothing"])
    assert creds_path.stat().st_ino == before.st_ino


def test_an_edit_made_between_two_writes_is_kept(creds_path: Path) -> None:
    store = CredentialsStore()
    store.write({"dev": temporary(1)})
    with creds_path.open("ab") as handle:  # another tool, a moment later
        handle.write(b"\n# added by hand\n[mine]\nregion = us-east-1\n")
    store.write({"dev": temporary(2)})
    assert creds_path.read_bytes() == (
        b"".join(owned_lines("dev", temporary(2)))
        + b"\n# added by hand\n[mine]\nregion = us-east-1\n"
    )


def test_a_symlinked_file_is_written_through_its_link(creds_path: Path, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "aws-credentials").write_bytes(USER_FILE)
    creds_path.parent.mkdir(mode=0o700)
    creds_path.symlink_to(dotfiles / "aws-credentials")
    CredentialsStore().write({"dev": temporary(1)})
    assert creds_path.is_symlink()
    assert (dotfiles / "aws-credentials").read_bytes().startswith(USER_FILE)
    assert CredentialsStore().read_owned("dev") == temporary(1)


def test_temp_files_of_a_killed_writer_are_cleaned_on_the_next_write(creds_path: Path) -> None:
    creds_path.parent.mkdir(mode=0o700)
    folder = creds_path.parent
    stale = folder / ".credentials.k3j_x9q2.tmp"
    stale.write_bytes(b"half a file")
    unrelated = [folder / ".config.abcdefgh.tmp", folder / "credentials.bak", folder / "x.tmp"]
    for path in unrelated:
        path.write_bytes(b"keep me")
    CredentialsStore().write({"dev": temporary(1)})
    assert not stale.exists()
    assert all(path.read_bytes() == b"keep me" for path in unrelated)
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) == [
        ".config.abcdefgh.tmp",
        "x.tmp",
    ]


# --- keys import -----------------------------------------------------------------------------


def test_plaintext_keys_of_foreign_sections_can_be_read(creds_path: Path) -> None:
    creds_path.parent.mkdir(mode=0o700)
    legacy = (
        b"[old-sdk]\n"
        b"aws_access_key_id = ASIAOLD\naws_secret_access_key = s\naws_security_token = t\n"
    )
    creds_path.write_bytes(USER_FILE + legacy)
    store = CredentialsStore()
    store.write({"dev": temporary(1)})
    keys = store.plaintext_keys()
    # [terraform] holds no key pair and [dev] is traycred's own: neither is listed.
    assert keys == {
        "default": Credentials("AKIAUSEROWN", "userSecretValue"),
        "old-sdk": Credentials("ASIAOLD", "s", "t"),  # the legacy token name marks it temporary
    }
    assert "userSecretValue" not in repr(keys)


def test_plaintext_keys_of_a_file_with_a_duplicated_section_is_a_clear_error(
    creds_path: Path,
) -> None:
    creds_path.parent.mkdir(mode=0o700)
    creds_path.write_bytes(USER_FILE + b"[default]\nregion = us-east-1\n")
    with pytest.raises(CredentialsFileError) as caught:
        CredentialsStore().plaintext_keys()
    assert "[default]" in str(caught.value)


def test_removing_long_term_keys_keeps_comments_other_keys_and_a_backup(
    creds_path: Path,
) -> None:
    creds_path.parent.mkdir(mode=0o700)
    creds_path.write_bytes(USER_FILE)
    creds_path.chmod(0o644)
    backup = CredentialsStore().remove_long_term_keys("default")
    assert creds_path.read_bytes() == USER_FILE.replace(
        b"aws_access_key_id = AKIAUSEROWN\r\naws_secret_access_key = userSecretValue\r\n", b""
    )
    assert backup.parent == creds_path.parent
    assert backup.name.startswith("credentials.traycred-backup-")
    assert backup.read_bytes() == USER_FILE
    assert mode(backup) == 0o600
    assert mode(creds_path) == 0o600


def test_a_section_left_without_keys_is_deleted_and_backups_never_overwrite(
    creds_path: Path,
) -> None:
    creds_path.parent.mkdir(mode=0o700)
    original = (
        b"[old]\n# my personal account\nAWS_ACCESS_KEY_ID=AKIA1\naws_secret_access_key=s1\n"
        b"aws_session_token = t1\n\n[older]\naws_access_key_id = AKIA2\n"
        b"aws_secret_access_key = s2\n"
    )
    creds_path.write_bytes(original)
    store = CredentialsStore()
    first = store.remove_long_term_keys("old")
    middle = creds_path.read_bytes()
    assert middle == (
        b"# my personal account\n\n[older]\naws_access_key_id = AKIA2\naws_secret_access_key = s2\n"
    )
    second = store.remove_long_term_keys("older")
    assert creds_path.read_bytes() == b"# my personal account\n\n"
    assert first != second  # same second or not, the older backup survives
    assert first.read_bytes() == original
    assert second.read_bytes() == middle


def test_removing_keys_refuses_what_is_not_a_plaintext_key_pair(creds_path: Path) -> None:
    store = CredentialsStore()
    with pytest.raises(CredentialsFileError, match=r"no credentials file at"):
        store.remove_long_term_keys("default")
    creds_path.parent.mkdir(mode=0o700)
    creds_path.write_bytes(USER_FILE)
    store.write({"dev": temporary(1)})
    before = creds_path.read_bytes()
    with pytest.raises(CredentialsFileError, match="temporary credentials traycred wrote"):
        store.remove_long_term_keys("dev")
    with pytest.raises(CredentialsFileError, match="holds no access keys"):
        store.remove_long_term_keys("terraform")
    with pytest.raises(CredentialsFileError, match=r"\[absent\] is not in"):
        store.remove_long_term_keys("absent")
    assert creds_path.read_bytes() == before
    assert not [p for p in creds_path.parent.iterdir() if "traycred-backup" in p.name]


def test_problems_are_reported_by_line(creds_path: Path) -> None:
    creds_path.parent.mkdir(mode=0o700)
    creds_path.write_bytes(b"[a]\nk = v\n[a]\n")
    assert [(p.line, p.message) for p in CredentialsStore().problems()] == [
        (3, "[a] appears again (first on line 1)")
    ]
    assert os.environ["AWS_SHARED_CREDENTIALS_FILE"] == str(creds_path)
