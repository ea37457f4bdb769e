"""The keystore against the real Secret Service keyring: keys, sessions, the index, refusals."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from traycred.credentials import Credentials, utcnow
from traycred.errors import KeyringError, TraycredError
from traycred.keystore import INDEX_USERNAME, Keystore

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
OTHER_ID = "AKIAI44QH8DHBEXAMPLE"
OTHER_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"


def raw_entry(service: str, username: str) -> str | None:
    """What the keyring itself holds, read without traycred."""
    import keyring

    return keyring.get_password(service, username)


def test_key_round_trip_and_index(real_keyring: str) -> None:
    store = Keystore()
    assert store.profiles() == {}
    assert store.get_key("alice") is None

    store.set_key("alice", Credentials(KEY_ID, SECRET))
    store.set_key("bob", Credentials(OTHER_ID, OTHER_SECRET))

    assert store.profiles() == {"alice": KEY_ID, "bob": OTHER_ID}
    alice = store.get_key("alice")
    assert alice == Credentials(KEY_ID, SECRET)
    assert alice is not None and not alice.is_temporary
    # Stored as the documented JSON, under the test's own service name.
    entry = raw_entry(real_keyring, "key:alice")
    assert entry is not None
    assert json.loads(entry) == {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET}
    index = raw_entry(real_keyring, INDEX_USERNAME)
    assert index is not None and SECRET not in index
    assert json.loads(index) == {"alice": KEY_ID, "bob": OTHER_ID}


def test_replacing_a_key_keeps_one_index_entry(real_keyring: str) -> None:
    store = Keystore()
    store.set_key("alice", Credentials(KEY_ID, SECRET))
    store.set_key("alice", Credentials(OTHER_ID, OTHER_SECRET))
    assert store.profiles() == {"alice": OTHER_ID}
    assert store.get_key("alice") == Credentials(OTHER_ID, OTHER_SECRET)


def test_a_new_instance_sees_what_another_stored(real_keyring: str) -> None:
    Keystore().set_key("alice", Credentials(KEY_ID, SECRET))
    assert Keystore(service=real_keyring).get_key("alice") == Credentials(KEY_ID, SECRET)
    assert Keystore(service=real_keyring + "-other").profiles() == {}


def test_delete_key(real_keyring: str) -> None:
    store = Keystore()
    store.set_key("alice", Credentials(KEY_ID, SECRET))
    store.set_key("bob", Credentials(OTHER_ID, OTHER_SECRET))

    assert store.delete_key("alice") is True
    assert store.get_key("alice") is None
    assert store.profiles() == {"bob": OTHER_ID}
    assert raw_entry(real_keyring, "key:alice") is None
    assert store.delete_key("alice") is False

    assert store.delete_key("bob") is True
    assert store.profiles() == {}
    # The index entry itself goes away with the last key.
    assert raw_entry(real_keyring, INDEX_USERNAME) is None


def test_session_round_trip(real_keyring: str) -> None:
    store = Keystore()
    expiry = (utcnow() + timedelta(hours=12)).replace(microsecond=0)
    session = Credentials("ASIAEXAMPLESESSION01", "session-secret", "session-token", expiry)
    store.set_session("alice", session)

    assert store.get_session("alice") == session
    entry = raw_entry(real_keyring, "session:alice")
    assert entry is not None
    assert json.loads(entry)["Expiration"] == expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Sessions are not long-term keys: neither listed nor returned as keys.
    assert store.profiles() == {}
    assert store.get_key("alice") is None

    assert store.delete_session("alice") is True
    assert store.get_session("alice") is None
    assert store.delete_session("alice") is False


def test_expired_session_is_dropped(real_keyring: str) -> None:
    store = Keystore()
    expired = Credentials("ASIAEXAMPLESESSION01", "s", "t", utcnow() - timedelta(seconds=1))
    store.set_session("alice", expired)
    assert raw_entry(real_keyring, "session:alice") is not None

    assert store.get_session("alice") is None
    assert raw_entry(real_keyring, "session:alice") is None


@pytest.mark.parametrize(
    "key",
    [
        Credentials("ASIAEXAMPLESESSION01", SECRET),
        Credentials(KEY_ID, SECRET, "a-session-token"),
    ],
    ids=["asia-id", "session-token"],
)
def test_temporary_credentials_are_refused_as_long_term_keys(
    real_keyring: str, key: Credentials
) -> None:
    store = Keystore()
    with pytest.raises(TraycredError) as info:
        store.set_key("alice", key)
    message = str(info.value)
    assert "temporary" in message and "alice" in message
    assert SECRET not in message and "a-session-token" not in message
    assert store.profiles() == {}
    assert raw_entry(real_keyring, "key:alice") is None


def test_a_long_term_key_is_not_a_session(real_keyring: str) -> None:
    with pytest.raises(TraycredError, match="long-term key"):
        Keystore().set_session("alice", Credentials(KEY_ID, SECRET))


def test_a_foreign_entry_is_reported_not_crashed_on(real_keyring: str) -> None:
    import keyring

    keyring.set_password(real_keyring, "key:alice", "not json")
    with pytest.raises(KeyringError, match="keys remove alice"):
        Keystore().get_key("alice")
    keyring.set_password(real_keyring, "session:alice", '{"AccessKeyId": 1}')
    assert Keystore().get_session("alice") is None
    assert raw_entry(real_keyring, "session:alice") is None


def test_backend_name_names_the_secret_service(real_keyring: str) -> None:
    store = Keystore()
    assert store.backend_name() == "SecretService Keyring (keyring.backends.SecretService)"
    assert store.choice().plaintext is False


# -- backends chosen explicitly (test backends from tests/keyring_backends.py) --------------


def test_hanging_keyring_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backends.HangingKeyring")
    store = Keystore(service="traycred-hang-test", timeout=0.3)
    with pytest.raises(KeyringError) as info:
        store.profiles()
    message = str(info.value)
    assert "did not answer within 0.3 s" in message
    assert "(tests.keyring_backends)" in message
    assert "unlock" in message


def test_hanging_keyring_never_leaks_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backends.HangingKeyring")
    store = Keystore(service="traycred-hang-test", timeout=0.3)
    with pytest.raises(KeyringError) as info:
        store.set_session("alice", Credentials("ASIAEXAMPLESESSION01", SECRET, "tok", None))
    assert SECRET not in str(info.value)


def test_locked_keyring_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backends.LockedKeyring")
    with pytest.raises(KeyringError, match=r"is locked, so traycred could not store the key"):
        Keystore(service="traycred-locked-test").set_key("alice", Credentials(KEY_ID, SECRET))


def test_unknown_backend_name_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no.such.Backend")
    with pytest.raises(KeyringError) as info:
        Keystore().profiles()
    assert "no.such.Backend named by PYTHON_KEYRING_BACKEND cannot be used" in str(info.value)


def test_explicit_plaintext_backend_is_used_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import traycred.keystore as keystore_module

    monkeypatch.setattr(keystore_module, "_warned_plaintext", set())
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backends.PlaintextFileKeyring")
    monkeypatch.setenv("TRAYCRED_TEST_KEYRING_FILE", str(tmp_path / "plain.json"))
    with caplog.at_level(logging.WARNING, logger="traycred.keystore"):
        Keystore().set_key("alice", Credentials(KEY_ID, SECRET))
        assert Keystore().get_key("alice") == Credentials(KEY_ID, SECRET)
    warnings = [r.getMessage() for r in caplog.records if "UNENCRYPTED" in r.getMessage()]
    assert len(warnings) == 1
    assert "PYTHON_KEYRING_BACKEND" in warnings[0]
    assert SECRET in (tmp_path / "plain.json").read_text()  # it really is plaintext


def test_plaintext_backend_named_in_keyringrc_is_explicit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_home: Path
) -> None:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("TRAYCRED_TEST_KEYRING_FILE", str(tmp_path / "plain.json"))
    rc = isolated_home / ".config" / "python_keyring" / "keyringrc.cfg"
    rc.parent.mkdir(parents=True)
    rc.write_text("[backend]\ndefault-keyring = tests.keyring_backends.PlaintextFileKeyring\n")
    choice = Keystore().choice()
    assert choice.plaintext and choice.explicit
    assert choice.chosen_by == str(rc)
