"""traycred's own settings: one TOML file in the platformdirs config folder.

Holds which profiles are managed, the default, the refresh margin, durations, output names and
preferences. Never secrets. Written atomically under a lock; a malformed file gives a clear
error and is never overwritten.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from traycred import fileio, paths
from traycred.errors import SettingsError

MIN_DURATION = 900
MAX_MFA_SESSION = 129_600  # 36 h, the GetSessionToken maximum
MAX_ROLE_DURATION = 43_200  # 12 h, the AssumeRole maximum (chained sessions are capped at 1 h)
DEFAULT_SECTION = "default"
MAX_SECTION_NAME = 128
# Spaces, brackets, comment and key-value characters: a section named with them reads back
# differently (or not at all) in configparser, botocore and the AWS CLI.
_BAD_SECTION_CHARS = re.compile(r"[\[\]\s#;=]")


def section_name_problem(output: str) -> str | None:
    """Why `output` cannot name a credentials-file section (None when it can)."""
    if (
        not output
        or len(output) > MAX_SECTION_NAME
        or not output.isprintable()
        or _BAD_SECTION_CHARS.search(output)
    ):
        return (
            f"{output!r} cannot be a section name: use up to {MAX_SECTION_NAME} letters, digits "
            "and - _ . @ + (no spaces, brackets, '#', ';' or '=')."
        )
    return None


def output_name_problem(
    profile: str, output: str, *, profiles: Collection[str], taken: Mapping[str, str]
) -> str | None:
    """Why `profile`'s credentials cannot be written to section `output` (None when they can).

    The one rule for the CLI's `--output` and the Settings dialog. `profiles`: the user's own
    profile names (their sections are not traycred's to write); `taken`: section -> the
    profile traycred already writes there (`profile` itself among them or not).
    """
    if output == profile:
        return None
    problem = section_name_problem(output)
    if problem is not None:
        return problem
    if output == DEFAULT_SECTION:
        return (
            f"[default] holds the default profile: make {profile} the default instead "
            f"(`traycred use {profile}`, or Default profile in the tray menu)."
        )
    if output in profiles:
        return (
            f"[{output}] is the section of your profile {output}; writing there would change "
            f"it. Pick a name no profile uses, e.g. {profile}-live."
        )
    other = taken.get(output)
    if other is not None and other != profile:
        return (
            f"{other} and {profile} would both be written to [{output}]; give one of them "
            "another output name."
        )
    return None


@dataclass(frozen=True)
class ProfileSettings:
    managed: bool = False
    output: str | None = None  # section to write instead of the profile's own name
    duration_seconds: int | None = None  # role session length for this profile


@dataclass(frozen=True)
class Settings:
    default_profile: str | None = None
    refresh_margin_seconds: int = 600
    mfa_session_seconds: int = 43_200
    role_duration_seconds: int = 3_600
    notifications: bool = True
    auto_open_browser: bool = False
    profiles: Mapping[str, ProfileSettings] = field(default_factory=lambda: MappingProxyType({}))

    def profile(self, name: str) -> ProfileSettings:
        return self.profiles.get(name, ProfileSettings())

    def managed_profiles(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, p in self.profiles.items() if p.managed))

    def output_for(self, name: str) -> str:
        """The credentials-file section a profile's credentials go to."""
        return self.profile(name).output or name

    def kept_fresh(self) -> tuple[str, ...]:
        """What the refresh timer keeps fresh: the managed profiles, then the default."""
        managed = self.managed_profiles()
        default = self.default_profile
        return managed if default is None or default in managed else (*managed, default)

    def sections_of(self, name: str) -> tuple[str, ...]:
        """The credentials-file sections `name` is written to: its output section, then
        `default` when it is the default. A default that is not managed gets only `default`."""
        output = self.output_for(name)
        is_default = self.default_profile == name
        if is_default and (not self.profile(name).managed or output == DEFAULT_SECTION):
            return (DEFAULT_SECTION,)
        return (output, DEFAULT_SECTION) if is_default else (output,)

    def writers(self) -> dict[str, str]:
        """Section -> the profile the refresh timer writes there (the default's last)."""
        return {section: name for name in self.kept_fresh() for section in self.sections_of(name)}

    def with_profile(self, name: str, **changes: Any) -> Settings:
        updated = dataclasses.replace(self.profile(name), **changes)
        profiles = dict(self.profiles)
        if updated == ProfileSettings():
            profiles.pop(name, None)
        else:
            profiles[name] = updated
        return dataclasses.replace(self, profiles=MappingProxyType(profiles))

    def replace(self, **changes: Any) -> Settings:
        result = dataclasses.replace(self, **changes)
        result.validate()
        return result

    def validate(self) -> None:
        if not 60 <= self.refresh_margin_seconds <= 3_600:
            raise SettingsError(
                f"refresh_margin_seconds must be between 60 and 3600, not "
                f"{self.refresh_margin_seconds}."
            )
        if not MIN_DURATION <= self.mfa_session_seconds <= MAX_MFA_SESSION:
            raise SettingsError(
                f"mfa_session_seconds must be between {MIN_DURATION} and {MAX_MFA_SESSION} "
                f"(15 min to 36 h), not {self.mfa_session_seconds}."
            )
        durations = [("role_duration_seconds", self.role_duration_seconds)] + [
            (f"duration_seconds of profile {n}", p.duration_seconds)
            for n, p in self.profiles.items()
            if p.duration_seconds is not None
        ]
        for label, value in durations:
            if value is not None and not MIN_DURATION <= value <= MAX_ROLE_DURATION:
                raise SettingsError(
                    f"{label} must be between {MIN_DURATION} and {MAX_ROLE_DURATION}, not {value}."
                )
        for name, profile in self.profiles.items():
            if profile.output is not None and profile.output != name:
                problem = section_name_problem(profile.output)
                if problem is not None:
                    raise SettingsError(f"output of profile {name}: {problem}")


_TOP_LEVEL = {f.name: f for f in dataclasses.fields(Settings) if f.name != "profiles"}
_PER_PROFILE = {f.name: f for f in dataclasses.fields(ProfileSettings)}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "default_profile": str,
    "refresh_margin_seconds": int,
    "mfa_session_seconds": int,
    "role_duration_seconds": int,
    "notifications": bool,
    "auto_open_browser": bool,
    "managed": bool,
    "output": str,
    "duration_seconds": int,
}


def _checked(where: str, key: str, value: Any, path: Path) -> Any:
    expected = _TYPES[key]
    if (isinstance(value, bool) and expected is int) or not isinstance(value, expected):
        name = expected.__name__ if isinstance(expected, type) else "value"
        raise SettingsError(
            f"{path}: {where}{key} must be a {name}, not {value!r}.",
            hint="Fix or delete that line.",
        )
    return value


def parse(text: str, path: Path) -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            f"{path} is not valid TOML: {exc}.", hint="Fix the file or delete it to start afresh."
        ) from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "profiles":
            continue
        if key not in _TOP_LEVEL:
            raise SettingsError(f"{path}: unknown setting {key!r}.", hint="Remove that line.")
        values[key] = _checked("", key, value, path)
    profiles: dict[str, ProfileSettings] = {}
    raw_profiles = data.get("profiles", {})
    if not isinstance(raw_profiles, dict):
        raise SettingsError(f"{path}: [profiles] must be a table.")
    for name, table in raw_profiles.items():
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: [profiles.{name}] must be a table.")
        fields: dict[str, Any] = {}
        for key, value in table.items():
            if key not in _PER_PROFILE:
                raise SettingsError(
                    f"{path}: unknown setting {key!r} for profile {name}.", hint="Remove it."
                )
            fields[key] = _checked(f"profile {name}: ", key, value, path)
        profiles[name] = ProfileSettings(**fields)
    settings = Settings(**values, profiles=MappingProxyType(profiles))
    try:
        settings.validate()
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc.message}", hint="Fix that value.") from None
    return settings


def render(settings: Settings) -> str:
    import tomli_w

    data: dict[str, Any] = {}
    defaults = Settings()
    for key in _TOP_LEVEL:
        value = getattr(settings, key)
        if value is not None and (value != getattr(defaults, key) or key == "default_profile"):
            data[key] = value
    profiles: dict[str, Any] = {}
    for name in sorted(settings.profiles):
        entry = {
            k: v for k, v in dataclasses.asdict(settings.profiles[name]).items() if v is not None
        }
        profiles[name] = entry
    if profiles:
        data["profiles"] = profiles
    header = "# traycred settings. Edit while traycred is stopped, or use the tray's Settings.\n"
    return header + tomli_w.dumps(data)


class SettingsStore:
    """The settings file (default: paths.settings_file())."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.settings_file()

    def load(self) -> Settings:
        raw = fileio.read_bytes(self.path)
        if raw is None:
            return Settings()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SettingsError(
                f"{self.path} is not UTF-8 text.", hint="Fix or delete it."
            ) from None
        return parse(text, self.path)

    def update(self, change: Callable[[Settings], Settings]) -> Settings:
        """Locked read-modify-write: apply `change` to the current settings and save."""
        with fileio.file_lock(self.path):
            current = self.load()
            updated = change(current)
            updated.validate()
            if updated != current:
                fileio.atomic_write(self.path, render(updated).encode("utf-8"))
            return updated
