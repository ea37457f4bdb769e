"""Broken AWS files, generated (hypothesis): every command answers with one clear line and leaves
both files byte-for-byte as they were.

Each example is a plausible pair of files (profiles with regions, roles on sources, SSO, plaintext
keys; LF or CRLF line ends) with exactly one defect: a duplicated section or key, a setting before
any header, an unclosed header, a stray line, a byte order mark, bytes that are not UTF-8, or a
source_profile loop. `traycred profiles`, `refresh`, `keys import --yes` and `use` run in-process
(the real `main`, the real keyring, the emulator) and must: raise nothing (no traceback), exit 1
or 2 with exactly one `traycred: ...` line on stderr when they cannot go on (a loop is shown by
`profiles` as the profile's reason, exit 0), and touch neither file. Huge files (a few MB) and a
few child-process runs complete the picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_cli_refresh import traycred
from traycred.cli.main import main
from traycred.emulator import Emulator

DEFECTS = (
    "duplicate-section",
    "duplicate-key",
    "setting-before-header",
    "unclosed-header",
    "stray-line",
    "bom",
    "not-utf8",
    "loop",
)
# Defects that make a file unreadable for botocore (and so for traycred).
UNREADABLE = frozenset(DEFECTS) - {"loop"}
COMMANDS = (("profiles",), ("refresh", "{p}"), ("keys", "import", "--yes"), ("use", "{p}"))
PROFILES_IN_HUGE = 6_000
NAMES = st.sampled_from(["dev", "prod", "ops", "ci", "qa", "stage", "data", "web"])
ROLE = "arn:aws:iam::111111111111:role/deploy"


@dataclass(frozen=True)
class Case:
    config: bytes
    credentials: bytes
    target: str  # the profile named on the command line
    defect: str
    where: str  # "config" or "credentials"


def _section(kind: str, name: str, others: list[str], draw: st.DrawFn) -> list[str]:
    header = "[default]" if name == "default" else f"[profile {name}]"
    lines = [header, f"region = {draw(st.sampled_from(['us-east-1', 'eu-west-1']))}"]
    if kind == "role" and others:
        lines += [f"role_arn = {ROLE}", f"source_profile = {draw(st.sampled_from(others))}"]
    elif kind == "sso":
        lines += [
            "sso_start_url = https://example.awsapps.com/start",
            "sso_region = us-east-1",
            "sso_account_id = 111111111111",
            "sso_role_name = ReadOnly",
        ]
    elif kind == "process":
        lines += ["credential_process = /bin/false"]
    return lines


@st.composite
def cases(draw: st.DrawFn) -> Case:
    names = draw(st.lists(NAMES, min_size=2, max_size=5, unique=True))
    defect = draw(st.sampled_from(DEFECTS))
    where = "config" if defect == "loop" else draw(st.sampled_from(["config", "credentials"]))
    config: list[list[str]] = []
    for i, name in enumerate(names):
        kind = draw(st.sampled_from(["plain", "role", "sso", "process"]))
        # Sources only among the later names, so there is no loop unless it is the defect.
        config.append(_section(kind, name, names[i + 1 :], draw))
    keyed = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    credentials: list[list[str]] = [
        [
            f"[{name}]",
            "aws_access_key_id = AKIA"
            + draw(st.text("ABCDEFGHIJ234567", min_size=16, max_size=16)),
            "aws_secret_access_key = "
            + draw(st.text("abcdefXYZ0123456789/+", min_size=40, max_size=40)),
        ]
        for name in keyed
    ]
    if not credentials:
        credentials = [["[tool]", "endpoint = https://example.invalid"]]
    target = names[0]

    def damage(sections: list[list[str]]) -> None:
        victim = sections[draw(st.integers(0, len(sections) - 1))]
        if defect == "duplicate-section":
            sections.append([victim[0], "output = json"])
        elif defect == "duplicate-key":
            victim.append(victim[1])
        elif defect == "setting-before-header":
            sections.insert(0, ["output = json"])
        elif defect == "unclosed-header":
            victim[0] = victim[0].rstrip("]")
        elif defect == "stray-line":
            victim.append(draw(st.sampled_from(["just some words", "= no key", "[unclosed"])))

    if defect == "loop":
        # target -> a -> ... -> target, none with static keys.
        ring = names[: draw(st.integers(2, len(names)))]
        for i, name in enumerate(ring):
            header = f"[profile {name}]"
            source = ring[(i + 1) % len(ring)]
            config[names.index(name)] = [header, f"role_arn = {ROLE}", f"source_profile = {source}"]
        # A source with static keys is used as it is (botocore's order), which ends the chain.
        credentials = [c for c in credentials if c[0][1:-1] not in ring] or [["[tool]", "x = 1"]]
    else:
        damage(config if where == "config" else credentials)

    newline = draw(st.sampled_from(["\n", "\r\n"]))
    blank = draw(st.sampled_from(["", newline]))

    def render(sections: list[list[str]]) -> bytes:
        text = (newline + blank).join(newline.join(s) for s in sections) + newline
        return text.encode("utf-8")

    files = {"config": render(config), "credentials": render(credentials)}
    if defect == "bom":
        files[where] = b"\xef\xbb\xbf" + files[where]
    elif defect == "not-utf8":
        data = files[where]
        cut = data.index(b"=") + 2
        files[where] = (
            data[:cut] + draw(st.sampled_from([b"\xff", b"\xe9t\xe9", b"\xc3("])) + data[cut:]
        )
    return Case(files["config"], files["credentials"], target, defect, where)


def run_in_process(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's exits only
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def check(case: Case, args: list[str], code: int, out: str, err: str) -> None:
    described = f"{case.defect} in {case.where}: traycred {' '.join(args)} -> {code}\n{err}"
    assert "Traceback" not in err + out, described
    assert code in (0, 1, 2, 3), described
    lines = [line for line in err.splitlines() if line.strip()]
    if case.defect in UNREADABLE and args[0] != "keys":
        assert code == 1, described
    if code != 0:
        assert len(lines) == 1, described
        assert lines[0].startswith("traycred: "), described
    if case.defect == "loop":
        if args[0] == "profiles":
            assert code == 0 and "loop" in out, described
        elif args[0] in ("refresh", "use"):
            assert code == 1 and "loop" in err, described


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_broken_files_give_one_clear_line_and_stay_untouched(
    isolated_home: Path,
    real_keyring: str,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    case: Case,
) -> None:
    aws = isolated_home / ".aws"
    aws.mkdir(mode=0o700, exist_ok=True)
    config, credentials = aws / "config", aws / "credentials"
    config.write_bytes(case.config)
    credentials.write_bytes(case.credentials)
    for command in COMMANDS:
        args = [part.format(p=case.target) for part in command]
        code, out, err = run_in_process(capsys, args)
        check(case, args, code, out, err)
        assert config.read_bytes() == case.config, f"{args} changed the config"
        assert credentials.read_bytes() == case.credentials, f"{args} changed the credentials"
    assert emulator.count("GetSessionToken") + emulator.count("AssumeRole", status=200) == 0


def huge_config(defect_at_end: str | None) -> bytes:
    """About 3 MB: 6,000 profiles with long comments; optionally one defect at the very end."""
    parts = []
    for n in range(PROFILES_IN_HUGE):
        parts.append(
            f"# {'notes about this account ' * 18}\n[profile p{n:05d}]\nregion = eu-west-1\n"
            f"role_arn = arn:aws:iam::{n:012d}:role/r\nsource_profile = base\n\n"
        )
    parts.append("[profile base]\nregion = us-east-1\ncredential_process = /bin/false\n")
    if defect_at_end == "duplicate-section":
        parts.append("[profile p00001]\nregion = us-west-2\n")
    elif defect_at_end == "not-utf8":
        parts.append("[profile tail]\nregion = \udcff\n")
    return "".join(parts).encode("utf-8", "surrogateescape")


@pytest.mark.parametrize("defect", ["duplicate-section", "not-utf8"])
def test_huge_broken_config_is_refused_in_one_line(
    isolated_home: Path, real_keyring: str, capsys: pytest.CaptureFixture[str], defect: str
) -> None:
    config = isolated_home / ".aws" / "config"
    config.parent.mkdir(mode=0o700)
    data = huge_config(defect)
    assert len(data) > 3_000_000
    last_line = data.count(b"\n")
    config.write_bytes(data)
    for args in (["profiles"], ["refresh", "p00001"], ["use", "p00001"]):
        code, _, err = run_in_process(capsys, args)
        assert code == 1, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err
        assert str(config) in lines[0]
        # The line named is the defect's, at the very end of the file.
        named = re.search(r", line (\d+):", lines[0])
        assert named is not None and last_line - 2 <= int(named.group(1)) <= last_line, lines[0]
    assert config.read_bytes() == data
    assert not (isolated_home / ".aws" / "credentials").exists()


def test_huge_valid_files_are_read(
    isolated_home: Path, real_keyring: str, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = isolated_home / ".aws"
    aws.mkdir(mode=0o700)
    config = aws / "config"
    config.write_bytes(huge_config(None))
    credentials = aws / "credentials"
    credentials.write_bytes(
        b"".join(
            b"[tool-%d]\nendpoint = https://example.invalid/%d\nblob = %s\n\n" % (n, n, b"x" * 400)
            for n in range(6_000)
        )
    )
    before = credentials.read_bytes()
    assert len(before) > 2_500_000
    code, out, err = run_in_process(capsys, ["profiles"])
    assert code == 0, err
    assert out.count("assume-role") == PROFILES_IN_HUGE
    assert credentials.read_bytes() == before


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (b"[profile a]\nregion = x\n[profile a]\nregion = y\n", "appears twice"),
        (b"\xef\xbb\xbf[profile a]\r\nregion = x\r\n", "byte order mark"),
        (b"[profile a]\nregion = \xff\xfe\n", "UTF-8"),
        (b"region = x\n[profile a]\n", "before any [section]"),
    ],
)
def test_child_processes_print_one_line_and_exit_1(
    isolated_home: Path, real_keyring: str, config: bytes, expected: str
) -> None:
    path = isolated_home / ".aws" / "config"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(config)
    for args in (("profiles",), ("refresh", "a"), ("use", "a")):
        result = traycred(*args)
        assert result.returncode == 1, result.stderr
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("traycred: "), result.stderr
        assert expected in lines[0]
    assert path.read_bytes() == config
