"""traycred's settings file: defaults, round trip, validation, and malformed files left alone."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from traycred.errors import SettingsError
from traycred.settings import Settings, SettingsStore, output_name_problem


def test_missing_file_gives_defaults_a_user_expects(tmp_path: Path) -> None:
    settings = SettingsStore(tmp_path / "settings.toml").load()
    assert settings.refresh_margin_seconds == 600
    assert settings.mfa_session_seconds == 12 * 3600
    assert settings.default_profile is None
    assert settings.managed_profiles() == ()


def test_update_round_trips_and_writes_a_private_file(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "cfg" / "settings.toml")
    store.update(
        lambda s: s.with_profile("admin", managed=True, output="admin-live").replace(
            default_profile="admin", refresh_margin_seconds=300
        )
    )
    loaded = store.load()
    assert loaded.managed_profiles() == ("admin",)
    assert loaded.output_for("admin") == "admin-live"
    assert loaded.output_for("other") == "other"
    assert loaded.default_profile == "admin"
    assert loaded.refresh_margin_seconds == 300
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_unmanaging_a_profile_removes_its_entry(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.toml")
    store.update(lambda s: s.with_profile("dev", managed=True))
    store.update(lambda s: s.with_profile("dev", managed=False))
    assert "dev" not in store.load().profiles
    assert "dev" not in store.path.read_text()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("refresh_margin_seconds = [", "not valid TOML"),
        ("refresh_margin_seconds = 'soon'", "must be a int"),
        ("refresh_margin_seconds = 5", "between 60 and 3600"),
        ("mfa_session_seconds = 200000", "15 min to 36 h"),
        ("colour = 'blue'", "unknown setting 'colour'"),
        ("[profiles.dev]\nmanaged = 'yes'", "profile dev: managed must be a bool"),
        ("[profiles.dev]\nduration_seconds = 60", "duration_seconds of profile dev"),
    ],
)
def test_malformed_file_gives_one_clear_line_and_is_not_overwritten(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(content)
    store = SettingsStore(path)
    with pytest.raises(SettingsError) as caught:
        store.load()
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(SettingsError):
        store.update(lambda s: s.replace(default_profile="x"))
    assert path.read_text() == content


def test_invalid_change_is_refused_before_writing(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.toml")
    with pytest.raises(SettingsError):
        store.update(lambda s: s.replace(refresh_margin_seconds=1))
    assert not store.path.exists()
    assert Settings().refresh_margin_seconds == 600


def test_kept_fresh_and_the_sections_each_profile_is_written_to() -> None:
    settings = (
        Settings()
        .with_profile("admin", managed=True, output="admin-live")
        .with_profile("ci", managed=True)
        .replace(default_profile="deploy")
    )
    assert settings.kept_fresh() == ("admin", "ci", "deploy")
    assert settings.sections_of("admin") == ("admin-live",)
    # A default that is not managed: the timer keeps only [default] fresh.
    assert settings.sections_of("deploy") == ("default",)
    managed_default = settings.replace(default_profile="admin")
    assert managed_default.kept_fresh() == ("admin", "ci")
    assert managed_default.sections_of("admin") == ("admin-live", "default")
    assert settings.sections_of("other") == ("other",)
    named_default = (
        Settings().with_profile("default", managed=True).replace(default_profile="default")
    )
    assert named_default.sections_of("default") == ("default",)


def test_a_hand_edited_output_that_cannot_be_a_section_is_a_clear_error(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.toml")
    store.path.write_text('[profiles.admin]\nmanaged = true\noutput = "admin live"\n')
    with pytest.raises(SettingsError) as caught:
        store.load()
    assert "output of profile admin: 'admin live' cannot be a section name" in str(caught.value)


def test_the_sections_written_and_who_writes_each() -> None:
    settings = (
        Settings(default_profile="deploy")
        .with_profile("admin", managed=True, output="admin-live")
        .with_profile("deploy", managed=True)
    )
    assert settings.writers() == {"admin-live": "admin", "deploy": "deploy", "default": "deploy"}
    taken = {s: p for s, p in settings.writers().items() if p != "readonly"}
    assert output_name_problem("readonly", "readonly-live", profiles=(), taken=taken) is None
    assert output_name_problem("admin", "admin-live", profiles=(), taken=settings.writers()) is None
    assert "admin and readonly would both be written to [admin-live]" in str(
        output_name_problem("readonly", "admin-live", profiles=(), taken=taken)
    )
