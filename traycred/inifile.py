"""A byte-preserving INI section editor: change named sections, keep every other byte as it was.

configparser rewrites whole files (dropping comments, case and layout) and botocore has no
writer, so traycred edits the AWS files with this module instead. A document is the file's text
split into a preamble and sections (a `[name]` header line and the lines up to the next header),
where "is this line a header, a key, a continuation?" is decided exactly as configparser (and so
botocore) decides it. Bytes are decoded as UTF-8 with `surrogateescape`, so any byte sequence
(Latin-1 comments, a BOM, CRLF, no final newline) goes back out unchanged. The editor never
touches a line it was not asked to change; new lines use the file's dominant line ending.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"
_BOM = "\ufeff"
# Python's universal newlines (what configparser sees when botocore opens the file) end a line at
# \r\n, \r or \n, and nowhere else (not at the other characters str.splitlines() knows).
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
# str.splitlines() is several times faster and agrees when none of these is in the text.
_OTHER_BREAKS_RE = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# surrogateescape decodes each byte that is not UTF-8 to one of these.
_UNDECODABLE_RE = re.compile("[\udc80-\udcff]")
_SECTCRE = configparser.RawConfigParser.SECTCRE
_OPTCRE = configparser.RawConfigParser.OPTCRE
_COMMENT_STARTS = ("#", ";")


class IniEditError(ValueError):
    """An edit the editor refuses: a duplicated or missing section, or a change that would
    make configparser read a foreign line differently."""


@dataclass(frozen=True)
class Problem:
    """Something configparser (and so botocore) would reject or read surprisingly, by line."""

    line: int  # 1-based, in the parsed file
    message: str


class _Entry:
    """One `key = value` option and the lines it spans (its continuation lines)."""

    __slots__ = ("key", "lines", "parts")

    def __init__(self, key: str, line: int, first_part: str) -> None:
        self.key = key
        self.lines = [line]
        self.parts = [first_part]

    @property
    def value(self) -> str:
        # configparser joins continuation lines with \n and strips trailing blank ones.
        return "\n".join(self.parts).rstrip()


class _Section:
    """A header line and its body lines (each line keeps its own ending)."""

    __slots__ = (
        "content_end",
        "detailed",
        "end_has_option",
        "end_indent",
        "entries",
        "lines",
        "name",
    )

    def __init__(self, name: str, header: str) -> None:
        self.name = name
        self.lines = [header]
        # Parsing a file only finds where sections start; options are read when first needed,
        # so an update of one section in a big file reads one section in detail.
        self.detailed = True
        self.entries: list[_Entry] = []
        # lines[:content_end] is the header through the last key or continuation line; the
        # comments and blank lines after it may describe the next section, so edits keep them.
        self.content_end = 1
        # configparser's state after this section's last line: decides whether an indented
        # line that follows would be read as a continuation (see _header_survives).
        self.end_has_option = False
        self.end_indent = 0

    def detail(self) -> _Section:
        if not self.detailed:
            full = _section_of(self.lines)
            self.entries = full.entries
            self.content_end = full.content_end
            self.end_has_option = full.end_has_option
            self.end_indent = full.end_indent
            self.detailed = True
        return self

    def items(self) -> dict[str, str]:
        return {entry.key: entry.value for entry in self.detail().entries}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_blank(line: str) -> bool:
    return not line.strip()


def _scan(
    lines: Iterable[str], problems: list[Problem] | None = None, first_line: int = 1
) -> tuple[list[str], list[_Section]]:
    """Split lines into preamble and sections, replaying configparser's reading rules."""
    preamble: list[str] = []
    sections: list[_Section] = []
    current: _Section | None = None
    entry: _Entry | None = None  # the option a more-indented line would continue
    indent_level = 0
    seen: dict[str, int] = {}
    keys: set[str] = set()
    number = first_line - 1
    for line in lines:
        number += 1
        stripped = line.strip()
        if not stripped or stripped[0] in _COMMENT_STARTS:
            if current is None:
                preamble.append(line)
            else:
                if entry is not None and not stripped:
                    # empty_lines_in_values: a blank line inside a multi-line value counts.
                    entry.parts.append("")
                current.lines.append(line)
            continue
        indent = _indent(line)
        if current is not None and entry is not None and indent > indent_level:
            entry.parts.append(stripped)
            entry.lines.append(len(current.lines))
            current.lines.append(line)
            current.content_end = len(current.lines)
            continue
        match = _SECTCRE.match(stripped) if stripped[0] == "[" else None
        if match is not None:
            if current is not None:
                current.end_has_option = entry is not None
                current.end_indent = indent_level
            indent_level = indent
            name = match.group("header")
            current = _Section(name, line)
            sections.append(current)
            entry = None
            keys = set()
            if problems is not None:
                if name in seen:
                    problems.append(
                        Problem(number, f"[{name}] appears again (first on line {seen[name]})")
                    )
                else:
                    seen[name] = number
            continue
        indent_level = indent
        if current is None:
            preamble.append(line)
            if problems is not None:
                problems.append(Problem(number, "text before the first [section] header"))
            continue
        current.lines.append(line)
        current.content_end = len(current.lines)
        option = _OPTCRE.match(stripped)
        if option is None:
            # Not an option: configparser reports it and keeps the previous option open.
            if problems is not None:
                problems.append(Problem(number, "line is not a `key = value` option"))
            continue
        key = option.group("option").rstrip().lower()
        new = _Entry(key, len(current.lines) - 1, option.group("value").strip())
        current.entries.append(new)
        entry = new if key else None
        if problems is not None:
            if not key:
                problems.append(Problem(number, "option has no name"))
            elif key in keys:
                problems.append(Problem(number, f"option {key} appears twice in [{current.name}]"))
        keys.add(key)
    if current is not None:
        current.end_has_option = entry is not None
        current.end_indent = indent_level
    return preamble, sections


def _split(lines: Iterable[str]) -> tuple[list[str], list[_Section]]:
    """Where sections start: the same reading rules as _scan, reduced to what decides whether a
    line is a header (is an option open, and at which indent)."""
    preamble: list[str] = []
    sections: list[_Section] = []
    target = preamble
    in_section = False
    option_open = False
    indent_level = 0
    sectcre_match = _SECTCRE.match
    for line in lines:
        stripped = line.strip()
        if not stripped:
            target.append(line)
            continue
        first = stripped[0]
        if first == "#" or first == ";":
            target.append(line)
            continue
        # The first non-space character's first occurrence is where the indent ends.
        indent = line.find(first)
        if option_open and indent > indent_level:
            target.append(line)
            continue
        indent_level = indent
        if first == "[":
            match = sectcre_match(stripped)
            if match is not None:
                section = _Section(match.group("header"), line)
                section.detailed = False
                sections.append(section)
                target = section.lines
                in_section = True
                option_open = False
                continue
        target.append(line)
        # An option opens when the line has a delimiter after a non-empty name; a line with
        # no delimiter is an error to configparser, which leaves the previous option open.
        if in_section and ("=" in stripped or ":" in stripped):
            option_open = first != "=" and first != ":"
    return preamble, sections


def _section_of(lines: list[str]) -> _Section:
    """Re-read one section's lines (configparser's state resets at a header, so a section reads
    the same on its own as inside its file)."""
    preamble, sections = _scan(lines)
    assert not preamble and len(sections) == 1, "a section's lines re-read as one section"
    return sections[0]


def _header_survives(previous: _Section | None, following: _Section) -> bool:
    """Whether `following`'s header is still a header after `previous`'s content (configparser
    reads an indented line after an option as that option's continuation)."""
    if previous is None:
        return True
    previous.detail()
    indent = _indent(following.lines[0])
    return not (previous.end_has_option and indent > previous.end_indent)


def check_section_name(name: str) -> None:
    """Raise IniEditError unless `[name]` reads back as a header named exactly `name`."""
    if not name or "\r" in name or "\n" in name:
        raise IniEditError(f"{name!r} cannot be a section name")
    match = _SECTCRE.match(f"[{name}]")
    if match is None or match.group("header") != name:
        raise IniEditError(f"{name!r} cannot be a section name")


def check_option(key: str, value: str) -> None:
    """Raise IniEditError unless `key = value` reads back as exactly this option."""
    if not key or key != key.strip() or key[0] in "[#;" or any(char in key for char in "=:\r\n"):
        raise IniEditError(f"{key!r} cannot be an option name")
    if "\r" in value or "\n" in value or value != value.strip():
        raise IniEditError(f"the value of {key} cannot be written on one line as it is")


class IniDocument:
    """One parsed INI file; edits change only the lines they name. Not thread-safe."""

    def __init__(self, bom: bool, preamble: list[str], sections: list[_Section]) -> None:
        self._bom = bom
        self._preamble = preamble
        self._sections = sections
        self._by_name: dict[str, list[_Section]] = {}
        for section in sections:
            self._by_name.setdefault(section.name, []).append(section)
        self.newline = "\n"

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What configparser would reject in the document as it is now, by line number.

        Besides INI errors: a byte-order mark, and bytes that are not UTF-8 (botocore opens
        the file in the locale's encoding, UTF-8 on Linux and macOS, and fails on both).
        """
        found: list[Problem] = []
        if self._bom:
            found.append(Problem(1, "the file starts with a byte-order mark (BOM)"))
        lines = list(self._all_lines())
        for number, line in enumerate(lines, start=1):
            if _UNDECODABLE_RE.search(line):
                found.append(Problem(number, "line holds bytes that are not UTF-8"))
        _scan(lines, found)
        return tuple(sorted(found, key=lambda problem: problem.line))

    @classmethod
    def parse(cls, data: bytes) -> IniDocument:
        """Parse any bytes; never fails (what configparser would reject is in `problems`)."""
        text = data.decode(_ENCODING, _ERRORS)
        bom = text.startswith(_BOM)
        if bom:
            text = text[1:]
        if _OTHER_BREAKS_RE.search(text) is None:
            lines = text.splitlines(keepends=True)
        else:
            lines = _LINE_RE.findall(text)
        preamble, sections = _split(lines)
        document = cls(bom, preamble, sections)
        crlf = text.count("\r\n")
        document.newline = "\r\n" if crlf > text.count("\n") - crlf else "\n"
        return document

    def to_bytes(self) -> bytes:
        text = "".join(self._all_lines())
        data = text.encode(_ENCODING, _ERRORS)
        return _BOM.encode(_ENCODING) + data if self._bom else data

    def _all_lines(self) -> Iterator[str]:
        yield from self._preamble
        for section in self._sections:
            yield from section.lines

    # Reading -------------------------------------------------------------------------------

    def section_names(self) -> list[str]:
        """Every section header's name in file order (a duplicated name appears twice)."""
        return [section.name for section in self._sections]

    def duplicate_sections(self) -> list[str]:
        """Names with more than one header (configparser, and so botocore, rejects the file)."""
        return [name for name, found in self._by_name.items() if len(found) > 1]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def count(self, name: str) -> int:
        return len(self._by_name.get(name, ()))

    def items(self, name: str) -> dict[str, str]:
        """The section's options as configparser reads them (keys lower-cased; for a duplicated
        section, merged like a non-strict configparser). KeyError when absent."""
        merged: dict[str, str] = {}
        for section in self._by_name[name]:
            merged.update(section.items())
        return merged

    def sections(self) -> dict[str, dict[str, str]]:
        return {name: self.items(name) for name in self._by_name}

    # Editing -------------------------------------------------------------------------------

    def _only(self, name: str) -> tuple[int, _Section]:
        found = self._by_name.get(name)
        if not found:
            raise IniEditError(f"there is no [{name}] section")
        if len(found) > 1:
            raise IniEditError(f"[{name}] appears {len(found)} times")
        section = found[0]
        return self._sections.index(section), section

    def _render(self, items: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[str]:
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        for key, value in pairs:
            check_option(key, value)
        return [f"{key} = {value}{self.newline}" for key, value in pairs]

    def set_section(self, name: str, items: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        """Replace the body of [name], or append [name] when there is none."""
        if name in self._by_name:
            self.replace_section(name, items)
        else:
            self.append_section(name, items)

    def replace_section(
        self, name: str, items: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> None:
        """Replace the options of [name] wholesale, keeping its header line and position, and
        the comments and blank lines after its last option (they may describe what follows)."""
        index, old = self._only(name)
        old.detail()
        header = old.lines[0]
        if header == header.rstrip("\r\n"):
            header += self.newline
        lines = [header, *self._render(items), *old.lines[old.content_end :]]
        new = _section_of(lines)
        following = self._sections[index + 1] if index + 1 < len(self._sections) else None
        if following is not None and not _header_survives(new, following):
            raise IniEditError(
                f"the header [{following.name}] is indented, so after the new [{name}] it would "
                "be read as part of an option"
            )
        self._sections[index] = new
        self._by_name[name] = [new]

    def append_section(
        self, name: str, items: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> None:
        """Add [name] at the end of the file, after a blank line."""
        check_section_name(name)
        if name in self._by_name:
            raise IniEditError(f"[{name}] already exists")
        body = self._render(items)
        last = self._sections[-1].lines if self._sections else self._preamble
        if last:
            if last[-1] == last[-1].rstrip("\r\n"):
                last[-1] += self.newline
            if not _is_blank(last[-1]):
                last.append(self.newline)
        new = _section_of([f"[{name}]{self.newline}", *body])
        self._sections.append(new)
        self._by_name[name] = [new]

    def delete_section(self, name: str) -> None:
        """Delete [name]: its header, its options and the blank lines right after them (all
        inside its configparser span). Comments after its last option stay, as they may
        describe what follows; nothing before its header is touched."""
        index, old = self._only(name)
        old.detail()
        previous = self._sections[index - 1] if index > 0 else None
        following = self._sections[index + 1] if index + 1 < len(self._sections) else None
        if following is not None and not _header_survives(previous, following):
            raise IniEditError(
                f"the header [{following.name}] is indented, so without [{name}] it would be "
                "read as part of an option"
            )
        rest = old.lines[old.content_end :]
        while rest and _is_blank(rest[0]):
            del rest[0]
        before = previous.lines if previous is not None else self._preamble
        before.extend(rest)
        del self._sections[index]
        del self._by_name[name]

    def delete_keys(self, name: str, keys: Iterable[str]) -> int:
        """Delete the options `keys` (any case, every occurrence, with their continuation
        lines) from [name]; other lines stay. Returns how many options were deleted."""
        index, old = self._only(name)
        old.detail()
        wanted = {key.lower() for key in keys}
        doomed: set[int] = set()
        deleted = 0
        for entry in old.entries:
            if entry.key in wanted:
                doomed.update(entry.lines)
                deleted += 1
        if not deleted:
            return 0
        lines = [line for number, line in enumerate(old.lines) if number not in doomed]
        new = _section_of(lines)
        following = self._sections[index + 1] if index + 1 < len(self._sections) else None
        if following is not None and not _header_survives(new, following):
            raise IniEditError(
                f"the header [{following.name}] is indented, so after this change it would be "
                "read as part of an option"
            )
        self._sections[index] = new
        self._by_name[name] = [new]
        return deleted
