"""The state folder's copy of the keyring's profile names: follows the keyring, holds no secrets,
and lets profiles be classified without loading the keyring stack (an idle tray stays small)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from traycred.credentials import Credentials
from traycred.keystore import INDEX_USERNAME, KEY_PREFIX, Keystore
from traycred.paths import state_dir

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
OTHER_ID = "AKIAI44QH8DHBEXAMPLE"
OTHER_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"


def names_file(service: str) -> Path:
    found = list(state_dir().glob("keyring-*-profiles.json"))
    assert len(found) == 1, found
    assert json.loads(found[0].read_text())["service"] == service
    return found[0]


def test_names_follow_added_and_removed_keys_and_hold_no_secret(real_keyring: str) -> None:
    store = Keystore()
    store.set_key("alice", Credentials(KEY_ID, SECRET))
    store.set_key("bob", Credentials(OTHER_ID, OTHER_SECRET))

    path = names_file(real_keyring)
    assert json.loads(path.read_text())["profiles"] == ["alice", "bob"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    text = path.read_text()
    for secret in (SECRET, OTHER_SECRET, KEY_ID, OTHER_ID):
        assert secret not in text
    assert Keystore().profile_names() == {"alice", "bob"}

    store.delete_key("alice")
    assert Keystore().profile_names() == {"bob"}
    store.delete_key("bob")
    assert Keystore().profile_names() == frozenset()


def test_missing_or_damaged_copy_is_rebuilt_from_the_keyring(real_keyring: str) -> None:
    Keystore().set_key("alice", Credentials(KEY_ID, SECRET))
    path = names_file(real_keyring)

    path.unlink()
    assert Keystore().profile_names() == {"alice"}
    assert json.loads(path.read_text())["profiles"] == ["alice"]

    path.write_text("{not json")
    assert Keystore().profile_names() == {"alice"}
    assert json.loads(path.read_text())["profiles"] == ["alice"]


def test_key_removed_behind_traycreds_back_drops_out_once_read(real_keyring: str) -> None:
    import keyring

    Keystore().set_key("alice", Credentials(KEY_ID, SECRET))
    keyring.delete_password(real_keyring, KEY_PREFIX + "alice")
    keyring.delete_password(real_keyring, INDEX_USERNAME)

    assert Keystore().get_key("alice") is None
    assert Keystore().profile_names() == frozenset()


def test_profiles_are_classified_without_loading_the_keyring(
    real_keyring: str, tmp_path: Path
) -> None:
    Keystore().set_key("ci", Credentials(KEY_ID, SECRET))
    config = Path(os.environ["AWS_CONFIG_FILE"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[profile ci]\nregion = us-east-1\n")
    probe = (
        "import sys\n"
        "from traycred.engine import Engine\n"
        "kind = Engine().config().get('ci').kind.value\n"
        "print(kind, 'keyring' in sys.modules, 'secretstorage' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["keyring-keys", "False", "False"]
