"""The byte-preserving INI editor: reads sections exactly as configparser/botocore do, and
changes only the lines it is asked to change."""

from __future__ import annotations

import configparser
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traycred.inifile import IniDocument, IniEditError, _scan, _split


def configparser_view(data: bytes) -> dict[str, dict[str, str]]:
    """What botocore's RawConfigParser sees (universal newlines, like a file opened in text
    mode); the BOM is dropped and undecodable bytes kept, as the editor does."""
    parser = configparser.RawConfigParser()
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    parser.read_file(io.StringIO(text, newline=None))
    return {name: dict(parser.items(name)) for name in parser.sections()}


# Lines built from the pieces that make INI parsing subtle: indentation (continuations),
# both delimiters, comments, blank lines, greedy headers, lines that are not options.
_INDENTS = st.sampled_from(["", "", "", " ", "  ", "\t", "    "])
_NAMES = st.sampled_from(["a", "b", "default", "profile dev", "sso-session corp", "a]b", " x "])
_KEYS = st.sampled_from(["k", "K", "key", "Aws_Access_Key_Id", "two words", "region"])
_VALUES = st.sampled_from(["v", "", "v w", "=:", "[z]", "#c", "caf\xe9", "\x85x"])
_SEPS = st.sampled_from(["=", " = ", ":", " : ", "  =\t"])
_ENDINGS = st.sampled_from(["\n", "\n", "\r\n", "\r"])


@st.composite
def ini_line(draw: st.DrawFn) -> str:
    indent = draw(_INDENTS)
    kind = draw(st.integers(0, 9))
    if kind < 2:
        tail = draw(st.sampled_from(["", " ", "\t", " junk"]))
        return f"{indent}[{draw(_NAMES)}]{tail}"
    if kind < 6:
        return f"{indent}{draw(_KEYS)}{draw(_SEPS)}{draw(_VALUES)}"
    if kind == 6:
        return f"{indent}{draw(st.sampled_from(['#', ';']))} note"
    if kind == 7:
        return indent
    if kind == 8:
        return indent + draw(st.sampled_from(["more", "x = y", "[b]"]))
    return f"{indent}no delimiter"


@st.composite
def ini_text(draw: st.DrawFn) -> str:
    lines = draw(st.lists(ini_line(), max_size=14))
    text = "".join(line + draw(_ENDINGS) for line in lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    return text


@st.composite
def sectioned_text(draw: st.DrawFn) -> str:
    """Mostly well-formed files: comment preamble, then sections with unique names and keys,
    odd indentation, continuations, comments and blank lines between."""
    lines = draw(st.lists(st.sampled_from(["# top", "", "  ; note", "   "]), max_size=3))
    names = draw(st.lists(_NAMES, unique=True, max_size=5))
    for name in names:
        lines.append(
            draw(st.sampled_from(["", "", " ", "\t"]))
            + f"[{name}]"
            + draw(st.sampled_from(["", "", "  "]))
        )
        keys = draw(st.lists(_KEYS.map(str.lower), unique=True, max_size=4))
        for key in keys:
            indent = draw(st.sampled_from(["", "", " "]))
            lines.append(f"{indent}{key}{draw(_SEPS)}{draw(_VALUES)}")
            for extra in draw(st.lists(st.sampled_from(["cont", "", "# c", "x = y"]), max_size=2)):
                lines.append(f"{indent}   {extra}" if extra else "")
        lines.extend(draw(st.lists(st.sampled_from(["", "# about next", "  "]), max_size=2)))
    text = "".join(line + draw(_ENDINGS) for line in lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    return text


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes_come_back_unchanged(data: bytes) -> None:
    assert IniDocument.parse(data).to_bytes() == data


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ini_text(), sectioned_text()))
def test_sections_read_exactly_as_configparser_reads_them(text: str) -> None:
    data = encode(text)
    document = IniDocument.parse(data)
    assert document.to_bytes() == data
    try:
        expected = configparser_view(data)
    except configparser.Error:
        # configparser rejects the file: the editor reports at least one problem.
        assert document.problems
        return
    if "DEFAULT" in document:
        return  # configparser folds [DEFAULT] into every section; the editor does not
    assert document.sections() == expected
    assert document.problems == ()


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ini_text(), sectioned_text()))
def test_the_fast_section_finder_agrees_with_the_full_reader(text: str) -> None:
    # Parsing only finds section starts (fast); options are read per section when needed.
    # Both follow configparser's rules and must cut every file, even a broken one, alike.
    lines = text.splitlines(keepends=True)
    full_preamble, full = _scan(lines)
    fast_preamble, fast = _split(lines)
    assert fast_preamble == full_preamble
    assert [(s.name, s.lines) for s in fast] == [(s.name, s.lines) for s in full]
    for quick, complete in zip(fast, full, strict=True):
        assert quick.items() == complete.items()
        assert (quick.content_end, quick.end_has_option, quick.end_indent) == (
            complete.content_end,
            complete.end_has_option,
            complete.end_indent,
        )


@st.composite
def edit(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    operation = draw(st.sampled_from(["set", "delete", "delete_keys"]))
    name = draw(st.sampled_from(["a", "b", "default", "profile dev", "sso-session corp", "new"]))
    items = draw(
        st.dictionaries(
            st.sampled_from(["aws_access_key_id", "region", "output", "key"]),
            st.sampled_from(["v1", "", "x y", "caf\xe9"]),
            max_size=3,
        )
    )
    return operation, name, items


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(sectioned_text(), edit(), st.data())
def test_an_edit_changes_its_section_and_nothing_configparser_sees_elsewhere(
    text: str, change: tuple[str, str, dict[str, str]], data_: st.DataObject
) -> None:
    data = encode(text)
    try:
        before = configparser_view(data)
    except configparser.Error:
        return
    operation, name, items = change
    if (before and operation != "set") or data_.draw(st.booleans()):
        name = data_.draw(st.sampled_from(sorted(before) or [name]))
    document = IniDocument.parse(data)
    if "DEFAULT" in document or name.strip() != name:
        return
    try:
        if operation == "set":
            document.set_section(name, items)
        elif operation == "delete":
            document.delete_section(name)
        else:
            document.delete_keys(name, items)
    except IniEditError:
        # Refused (absent section, or an indented header that would change meaning): the
        # document must be unchanged.
        assert document.to_bytes() == data
        return
    after = configparser_view(document.to_bytes())
    expected = dict(before)
    if operation == "set":
        expected[name] = dict(items)
    elif operation == "delete":
        del expected[name]
    else:
        expected[name] = {k: v for k, v in before[name].items() if k not in items}
    assert after == expected
    assert list(after) == list(expected)  # order kept; a new section comes last


CREDENTIALS = b"""\
# my credentials; do not share
[default]
Aws_Access_Key_Id = AKIAOLD
aws_secret_access_key=oldsecret   ; not a comment to configparser
region: eu-west-1

; tools section below
[tool-x]
  url = https://example.com
    /continued
token_file =
"""


def test_reads_sections_and_keys_like_botocore() -> None:
    document = IniDocument.parse(CREDENTIALS)
    assert document.section_names() == ["default", "tool-x"]
    assert document.items("default") == {
        "aws_access_key_id": "AKIAOLD",
        "aws_secret_access_key": "oldsecret   ; not a comment to configparser",
        "region": "eu-west-1",
    }
    assert document.items("tool-x") == {
        "url": "https://example.com\n/continued",
        "token_file": "",
    }
    assert "default" in document
    assert "Default" not in document


def test_replacing_a_section_keeps_every_other_byte() -> None:
    document = IniDocument.parse(CREDENTIALS)
    document.replace_section("default", {"aws_access_key_id": "ASIA1", "x": "y"})
    assert document.to_bytes() == CREDENTIALS.replace(
        b"Aws_Access_Key_Id = AKIAOLD\n"
        b"aws_secret_access_key=oldsecret   ; not a comment to configparser\n"
        b"region: eu-west-1\n",
        b"aws_access_key_id = ASIA1\nx = y\n",
    )


def test_appending_uses_the_files_line_ending_and_a_blank_line_separator() -> None:
    data = b"\xef\xbb\xbf# hi\r\n[a]\r\nk = v"  # BOM, CRLF, no final newline
    document = IniDocument.parse(data)
    document.append_section("profile dev", {"region": "eu-west-1"})
    document.append_section("sso-session corp", [("sso_region", "eu-west-1")])
    assert document.to_bytes() == (
        b"\xef\xbb\xbf# hi\r\n[a]\r\nk = v\r\n\r\n"
        b"[profile dev]\r\nregion = eu-west-1\r\n\r\n"
        b"[sso-session corp]\r\nsso_region = eu-west-1\r\n"
    )
    assert configparser_view(document.to_bytes())["sso-session corp"] == {"sso_region": "eu-west-1"}


def test_appending_to_an_empty_file_adds_no_blank_line() -> None:
    document = IniDocument.parse(b"")
    document.set_section("dev", {"k": "v"})
    assert document.to_bytes() == b"[dev]\nk = v\n"


def test_deleting_a_section_takes_its_blank_lines_and_keeps_following_comments() -> None:
    data = b"[a]\nk = v\n\n[gone]\nk = v\n\n\n# about b\n[b]\nk = v\n"
    document = IniDocument.parse(data)
    document.delete_section("gone")
    assert document.to_bytes() == b"[a]\nk = v\n\n# about b\n[b]\nk = v\n"


def test_append_then_delete_does_not_grow_the_file() -> None:
    document = IniDocument.parse(b"[a]\nk = v\n")
    for _ in range(3):
        document.append_section("tmp", {"k": "v"})
        document.delete_section("tmp")
    # At most the one separator line stays behind, however many times it happens.
    assert document.to_bytes() == b"[a]\nk = v\n\n"


def test_deleting_keys_takes_their_continuation_lines_and_nothing_else() -> None:
    data = (
        b"[default]\n"
        b"# personal account\n"
        b"AWS_ACCESS_KEY_ID = AKIA\n"
        b"aws_secret_access_key = first\n"
        b"   second-half\n"
        b"region = eu-west-1\n"
    )
    document = IniDocument.parse(data)
    deleted = document.delete_keys("default", ["aws_access_key_id", "aws_secret_access_key"])
    assert deleted == 2
    assert document.to_bytes() == b"[default]\n# personal account\nregion = eu-west-1\n"
    assert document.delete_keys("default", ["absent"]) == 0


def test_duplicate_sections_are_reported_and_never_edited() -> None:
    data = b"[a]\nk = 1\n[b]\n[a]\nk = 2\n"
    document = IniDocument.parse(data)
    assert document.duplicate_sections() == ["a"]
    assert document.count("a") == 2
    assert [p.line for p in document.problems] == [4]
    assert "[a] appears again (first on line 1)" in document.problems[0].message
    for change in (
        lambda: document.set_section("a", {"k": "3"}),
        lambda: document.delete_section("a"),
        lambda: document.delete_keys("a", ["k"]),
    ):
        with pytest.raises(IniEditError, match="appears 2 times"):
            change()
    assert document.to_bytes() == data


def test_problems_name_the_line_configparser_rejects() -> None:
    document = IniDocument.parse(b"stray = 1\n[a]\nk = v\nno delimiter here\nk = again\n")
    assert [(p.line, p.message) for p in document.problems] == [
        (1, "text before the first [section] header"),
        (4, "line is not a `key = value` option"),
        (5, "option k appears twice in [a]"),
    ]


def test_a_bom_and_bytes_that_are_not_utf8_are_problems_botocore_cannot_read() -> None:
    data = b"\xef\xbb\xbf[default]\n# caf\xe9\nk = v\n"
    document = IniDocument.parse(data)
    assert [(p.line, p.message) for p in document.problems] == [
        (1, "the file starts with a byte-order mark (BOM)"),
        (2, "line holds bytes that are not UTF-8"),
    ]
    assert document.items("default") == {"k": "v"}  # the editor reads it all the same
    assert document.to_bytes() == data


def test_an_edit_that_would_swallow_an_indented_header_is_refused() -> None:
    # "  [b]" is a header here only because [a]'s option is indented as deep; after a body
    # written at column 0 configparser would read it as a continuation of that option.
    data = b"[a]\n  k = v\n  [b]\nx = 1\n"
    document = IniDocument.parse(data)
    assert document.section_names() == ["a", "b"]
    with pytest.raises(IniEditError, match=r"header \[b\] is indented"):
        document.replace_section("a", {"k": "w"})
    assert document.to_bytes() == data


def test_names_and_values_that_cannot_be_written_back_are_refused() -> None:
    document = IniDocument.parse(b"")
    for bad_name in ("", "a\nb"):
        with pytest.raises(IniEditError):
            document.append_section(bad_name, {})
    for key, value in (("", "v"), ("a=b", "v"), ("[k", "v"), ("#k", "v"), ("k", "a\nb")):
        with pytest.raises(IniEditError):
            document.append_section("s", {key: value})
    assert document.to_bytes() == b""
