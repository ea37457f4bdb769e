"""`traycred demo`'s world: the emulator, a throw-away folder with every kind of profile, clean-up.

`Demo.start()` starts the local AWS emulator (the demo scenario) on a loopback port and fills a
fresh 0700 folder with an AWS config and credentials file holding one profile of each kind of
SPEC §1, traycred settings (admin, deploy and readonly kept fresh, deploy the default) and alice's
long-term key in the keyring under a demo-only service name. `environment()` is what the tray
process runs with: HOME, the AWS files, traycred's folders and its socket all inside the folder,
so the user's real files, SSO cache and running traycred are never touched. `stop()` stops the
emulator, deletes the demo's keyring entries and removes the folder.

When no usable keyring exists, a file-backed keyring in the folder is named explicitly with
PYTHON_KEYRING_BACKEND (`traycred.demo.DemoFileKeyring`), and the banner says so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traycred.errors import KeyringError

if TYPE_CHECKING:
    from traycred.emulator import Emulator

log = logging.getLogger(__name__)

KEYRING_FILE_ENV = "TRAYCRED_DEMO_KEYRING_FILE"
FILE_KEYRING = "traycred.demo.DemoFileKeyring"
SERVICE_PREFIX = "traycred-demo-"
MANAGED = ("admin", "deploy", "readonly")
DEFAULT_PROFILE = "deploy"
# Variables of the user's shell that would point the tray elsewhere than the demo.
_DROPPED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
    "AWS_CA_BUNDLE",
    "TRAYCRED_PROCESS_DEPTH",
)


@dataclass(frozen=True)
class DemoKeyring:
    """Where the demo's keys live: a keyring backend and a service name used by nothing else."""

    service: str
    backend: str  # importable class path, passed as PYTHON_KEYRING_BACKEND
    file_backed: bool  # the fallback file in the demo folder (no usable OS keyring)
    reason: str | None = None  # why the OS keyring was not used


class Demo:
    """The demo's emulator, folder and keyring entries. Use `start()` then `stop()` (or `with`)."""

    def __init__(self, *, parent_dir: Path | None = None) -> None:
        self._parent_dir = parent_dir
        self.folder: Path | None = None
        self.emulator: Emulator | None = None
        self.keyring: DemoKeyring | None = None
        self._overrides: dict[str, str] = {}
        self._stop_lock = threading.Lock()
        self._stopped = False

    # ----- paths --------------------------------------------------------------------------

    def _need_folder(self) -> Path:
        if self.folder is None:
            raise RuntimeError("the demo is not started")
        return self.folder

    @property
    def home(self) -> Path:
        return self._need_folder() / "home"

    @property
    def env_file(self) -> Path:
        """`export` lines to source in another terminal, so the CLI there works on the demo."""
        return self._need_folder() / "env.sh"

    @property
    def config_file(self) -> Path:
        return self.home / ".aws" / "config"

    @property
    def credentials_file(self) -> Path:
        return self.home / ".aws" / "credentials"

    @property
    def runtime_dir(self) -> Path:
        return self._need_folder() / "run"

    # ----- life cycle ---------------------------------------------------------------------

    def start(self) -> Demo:
        """Start the emulator and fill the folder. On any failure everything is undone."""
        from traycred.emulator import Emulator, Scenario

        try:
            folder = Path(tempfile.mkdtemp(prefix="traycred-demo-", dir=self._parent_dir))
            folder.chmod(0o700)
            self.folder = folder
            for path in (self.home / ".aws", self.runtime_dir):
                path.mkdir(mode=0o700, parents=True)
            # The user clicks Approve on the emulator's page, as on AWS's.
            scenario = Scenario.demo().replace(auto_approve_on_visit=False)
            self.emulator = Emulator(scenario).start()
            service = SERVICE_PREFIX + secrets.token_hex(6)
            self._overrides = self._environment_overrides(service)
            self._write_aws_files()
            self.keyring = self._store_demo_key(service)
            self._write_settings()
            self._write_env_file()
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self) -> Demo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the emulator, delete the demo's keyring entries, remove the folder. Idempotent."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        if self.emulator is not None:
            with contextlib.suppress(Exception):
                self.emulator.stop()
        if self.keyring is not None:
            try:
                self._forget_keyring(self.keyring)
            except Exception as exc:  # never let clean-up stop the folder's removal
                log.warning("could not remove the demo's keyring entries: %s", exc)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    # ----- the environment ----------------------------------------------------------------

    def _environment_overrides(self, service: str) -> dict[str, str]:
        assert self.emulator is not None
        home = self.home
        overrides = {
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "TRAYCRED_RUNTIME_DIR": str(self.runtime_dir),
            "TRAYCRED_KEYRING_SERVICE": service,
            "TRAYCRED_FEDERATION_ENDPOINT": f"{self.emulator.url}/federation",
            "AWS_EC2_METADATA_DISABLED": "true",
            **self.emulator.env(),
        }
        if os.name == "nt":
            overrides["APPDATA"] = str(home / "AppData" / "Roaming")
            overrides["LOCALAPPDATA"] = str(home / "AppData" / "Local")
            overrides["USERPROFILE"] = str(home)
        # X clients find their cookie under $HOME unless told where it is.
        xauthority = os.environ.get("XAUTHORITY") or os.path.expanduser("~/.Xauthority")
        if os.path.exists(xauthority):
            overrides["XAUTHORITY"] = xauthority
        return overrides

    def overrides(self) -> dict[str, str]:
        """The variables the demo sets (no secrets): what `--no-tray` prints."""
        return dict(self._overrides)

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) pointed at the demo."""
        env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _DROPPED}
        env.update(self._overrides)
        return env

    @contextlib.contextmanager
    def _applied(self) -> Iterator[None]:
        """Run a block in this process with the demo's environment (restored afterwards)."""
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.environment(saved))
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    # ----- the files ----------------------------------------------------------------------

    def _write_aws_files(self) -> None:
        from traycred import fileio
        from traycred.emulator.scenario import CI_ACCESS_KEY_ID, CI_SECRET_ACCESS_KEY
        from traycred.emulator.state import Identity

        assert self.emulator is not None
        state = self.emulator.state
        # Pasted temporary credentials, as a user copies them from a console: real ones, so the
        # profile works until they expire (and then shows why it cannot be renewed).
        pasted = state.issue_key(
            Identity.of_user(state.scenario.user("ci")),
            mfa=False,
            lifetime=12 * 3600,
            operation="GetSessionToken",
        )
        assert pasted.session_token is not None
        credentials = (
            "# traycred demo: the shared credentials file (throw-away; removed on quit).\n"
            '# [ci] holds a long-term key in plaintext: try "Import plaintext keys…".\n'
            "[ci]\n"
            f"aws_access_key_id = {CI_ACCESS_KEY_ID}\n"
            f"aws_secret_access_key = {CI_SECRET_ACCESS_KEY}\n"
            "\n"
            "# Temporary credentials pasted from somewhere: usable, but nothing can renew them.\n"
            "[pasted]\n"
            f"aws_access_key_id = {pasted.access_key_id}\n"
            f"aws_secret_access_key = {pasted.secret_access_key}\n"
            f"aws_session_token = {pasted.session_token}\n"
        )
        fileio.atomic_write(self.config_file, demo_config().encode("utf-8"))
        fileio.atomic_write(self.credentials_file, credentials.encode("utf-8"))

    def _write_env_file(self) -> None:
        from traycred import fileio

        fileio.atomic_write(self.env_file, (self.shell_lines() + "\n").encode("utf-8"))

    def _write_settings(self) -> None:
        from traycred.settings import SettingsStore

        with self._applied():

            def demo_settings(current: Any) -> Any:
                updated = current.replace(default_profile=DEFAULT_PROFILE)
                for name in MANAGED:
                    # An output name, because SDKs read a role profile from ~/.aws/config
                    # before the credentials file (SPEC §2.2): `--profile deploy-live` works.
                    updated = updated.with_profile(name, managed=True, output=f"{name}-live")
                return updated

            SettingsStore().update(demo_settings)

    # ----- the keyring --------------------------------------------------------------------

    def _store_demo_key(self, service: str) -> DemoKeyring:
        """alice's key in the OS keyring the user's setup picks, else in the folder's file."""
        from traycred.keystore import Keystore

        reason: str | None
        try:
            # Chosen with the user's own settings (keyringrc.cfg lives under the real HOME).
            choice = Keystore(service).choice()
            cls = type(choice.backend)
            backend = f"{cls.__module__}.{cls.__qualname__}"
            keyring = DemoKeyring(service, backend, file_backed=False)
            self._set_keyring_env(keyring)
            with self._applied():
                self._store_alice()
            return keyring
        except KeyringError as exc:
            reason = exc.message
            with contextlib.suppress(Exception), self._applied():
                _forget_secret_service(service)
        keyring = DemoKeyring(service, FILE_KEYRING, file_backed=True, reason=reason)
        self._set_keyring_env(keyring)
        with self._applied():
            self._store_alice()
        return keyring

    def _set_keyring_env(self, keyring: DemoKeyring) -> None:
        self._overrides["PYTHON_KEYRING_BACKEND"] = keyring.backend
        if keyring.file_backed:
            self._overrides[KEYRING_FILE_ENV] = str(self._need_folder() / "keyring.json")
        else:
            self._overrides.pop(KEYRING_FILE_ENV, None)

    def _store_alice(self) -> None:
        from traycred.credentials import Credentials
        from traycred.emulator.scenario import ALICE_ACCESS_KEY_ID, ALICE_SECRET_ACCESS_KEY
        from traycred.keystore import Keystore

        keystore = Keystore()
        key = Credentials(ALICE_ACCESS_KEY_ID, ALICE_SECRET_ACCESS_KEY)
        keystore.set_key("alice", key)
        if keystore.get_key("alice") != key:
            raise KeyringError(f"{keystore.backend_name()} did not keep the demo key.")

    def _forget_keyring(self, keyring: DemoKeyring) -> None:
        """Delete every entry under the demo's service name (the file goes with the folder)."""
        if keyring.file_backed:
            return
        with self._applied():
            if "SecretService" in keyring.backend and _forget_secret_service(keyring.service):
                return
            _forget_known_entries(self)

    # ----- what the user reads ------------------------------------------------------------

    def banner(self) -> str:
        assert self.emulator is not None and self.keyring is not None
        lines = [
            "traycred demo: the tray app against a local AWS emulator, with no AWS account.",
            "",
            f"  AWS emulator    {self.emulator.url}  (STS, SSO, console sign-in)",
            f"  demo folder     {self.folder}  (removed when the demo ends)",
            "  profiles        one of every kind: keys in the keyring (alice), plaintext keys",
            "                  (ci), pasted session keys, roles (admin needs MFA, deploy,",
            "                  readonly, chained, audit), SSO (dev-admin, dev-ro, prod-ro,",
            "                  legacy-sso), credential_process, and a broken source_profile loop",
            "  kept fresh      admin, deploy and readonly (written as [admin-live],",
            "                  [deploy-live], [readonly-live]); deploy is the default",
            "",
            "  MFA codes       any six digits work, except 000000 (refused, to show the error);",
            "                  a code is accepted once",
            "  SSO sign-in     approve the request on the emulator's page that opens in your",
            "                  browser (Approve / Deny)",
        ]
        if self.keyring.file_backed:
            lines += [
                "",
                "  keyring         no usable OS keyring here, so the demo keeps its key in a",
                "                  plaintext file in its folder",
                f"                  (PYTHON_KEYRING_BACKEND={FILE_KEYRING}).",
                # The reason is a whole sentence of its own: in parentheses mid-line it read
                # "(... on D-Bus).),".
                *textwrap.wrap(
                    self.keyring.reason or "No keyring backend was found.",
                    width=88,
                    initial_indent=" " * 18,
                    subsequent_indent=" " * 18,
                ),
            ]
        else:
            lines += [
                "",
                f"  keyring         {self.keyring.backend}, service {self.keyring.service}",
                "                  (its entries are deleted when the demo ends)",
            ]
        lines += [
            "",
            f"  command line    in another terminal: . {self.env_file}",
            "                  (points traycred, the AWS CLI and SDKs there at the demo, HOME",
            "                  included; then try traycred status, refresh, use, env, login)",
            "",
            "Quit from the tray menu or press Ctrl-C here to end the demo.",
        ]
        return "\n".join(lines)

    def shell_lines(self) -> str:
        """`export NAME=value` lines for the demo's environment (--no-tray, and `env_file`)."""
        return "\n".join(
            f"export {name}={shlex.quote(value)}" for name, value in sorted(self._overrides.items())
        )


def demo_config() -> str:
    """The demo's AWS config: one profile of each kind of SPEC §1, explained in comments."""
    from traycred.emulator import scenario as s

    process = f"{shlex.quote(sys.executable)} -m traycred credential-process readonly"
    return f"""\
# traycred demo: the AWS config file (throw-away; removed on quit).
# One profile of every kind traycred knows. The AWS endpoint is the local emulator.

# keyring-keys: alice's long-term key is in the keyring, never in a file.
[profile alice]
region = us-east-1
mfa_serial = {s.ALICE_MFA_SERIAL}

# static-keys: ci's key is in plaintext in the credentials file.
[profile ci]
region = us-east-1

# session-keys: temporary credentials pasted into the credentials file.
[profile pasted]
region = us-east-1

# assume-role: all built on alice; one MFA code serves them all for the day.
[profile admin]
role_arn = {s.ADMIN_ROLE_ARN}
source_profile = alice
mfa_serial = {s.ALICE_MFA_SERIAL}
region = us-east-1

[profile deploy]
role_arn = {s.DEPLOY_ROLE_ARN}
source_profile = alice
region = us-east-1

[profile readonly]
role_arn = {s.READONLY_ROLE_ARN}
source_profile = alice
region = us-east-1

# A chained role (deploy -> chained, in another account): capped at one hour by AWS.
[profile chained]
role_arn = {s.CHAINED_ROLE_ARN}
source_profile = deploy
region = us-east-1

# A role for a third party, which insists on an external id.
[profile audit]
role_arn = {s.AUDIT_ROLE_ARN}
source_profile = ci
external_id = {s.AUDIT_EXTERNAL_ID}
region = us-east-1

# sso-session: one sign-in serves every profile of the session.
[sso-session demo]
sso_start_url = {s.DEMO_START_URL}
sso_region = {s.DEMO_SSO_REGION}
sso_registration_scopes = sso:account:access

[profile dev-admin]
sso_session = demo
sso_account_id = {s.DEMO_ACCOUNT_ID}
sso_role_name = AdministratorAccess
region = us-east-1

[profile dev-ro]
sso_session = demo
sso_account_id = {s.DEMO_ACCOUNT_ID}
sso_role_name = ReadOnly
region = us-east-1

[profile prod-ro]
sso_session = demo
sso_account_id = {s.DEMO_PROD_ACCOUNT_ID}
sso_role_name = ReadOnly
region = us-east-1

# sso-legacy: the older form, with the start URL in the profile itself.
[profile legacy-sso]
sso_start_url = {s.DEMO_START_URL}
sso_region = {s.DEMO_SSO_REGION}
sso_account_id = {s.DEMO_PROD_ACCOUNT_ID}
sso_role_name = ReadOnly
region = us-east-1

# process: credentials from a command (here traycred itself, answering for readonly).
[profile via-process]
credential_process = {process}
region = us-east-1

# invalid: these two name each other as source, a loop traycred reports without crashing.
[profile loop-a]
role_arn = {s.DEPLOY_ROLE_ARN}
source_profile = loop-b

[profile loop-b]
role_arn = {s.READONLY_ROLE_ARN}
source_profile = loop-a
"""


def _forget_secret_service(service: str) -> bool:
    """Delete every Secret Service item of `service` (keyring cannot list entries itself)."""
    try:
        import secretstorage
    except ImportError:
        return False
    try:
        connection = secretstorage.dbus_init()
        try:
            collection = secretstorage.get_default_collection(connection)
            for item in collection.search_items({"service": service}):
                item.delete()
        finally:
            with contextlib.suppress(Exception):
                connection.close()
    except Exception as exc:
        log.info("Secret Service clean-up failed (%s); deleting known entries", exc)
        return False
    return True


def _forget_known_entries(demo: Demo) -> None:
    """Delete the entries traycred makes for the demo's profiles, on keyrings that cannot list."""
    from traycred import config
    from traycred.engine import Engine
    from traycred.keystore import Keystore

    keystore = Keystore()
    for name in keystore.profiles():
        keystore.delete_key(name)
    engine = Engine(None, keystore=keystore)
    model = config.load(demo.config_file, demo.credentials_file)
    for name, profile in model.profiles.items():
        keystore.delete_session(f"mfa:{name}")
        with contextlib.suppress(Exception):
            keystore.delete_session(engine._cache_name(profile))


# ----- the fallback keyring ---------------------------------------------------------------


def _file_keyring_class() -> type:
    import json

    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    from traycred import fileio

    class DemoFileKeyring(KeyringBackend):
        """The demo's keys in a plaintext JSON file in the demo folder (no OS keyring here)."""

        plaintext = True
        priority = -1  # never chosen unless named
        name = "traycred demo file keyring"

        def _path(self) -> Path:
            value = os.environ.get(KEYRING_FILE_ENV)
            if not value:
                raise KeyringError(f"{KEYRING_FILE_ENV} is not set.")
            return Path(value)

        def _load(self) -> dict[str, dict[str, str]]:
            raw = fileio.read_bytes(self._path())
            data = json.loads(raw) if raw else {}
            return data if isinstance(data, dict) else {}

        def get_password(self, service: str, username: str) -> str | None:
            value = self._load().get(service, {}).get(username)
            return value if isinstance(value, str) else None

        def set_password(self, service: str, username: str, password: str) -> None:
            path = self._path()
            with fileio.file_lock(path):
                data = self._load()
                data.setdefault(service, {})[username] = password
                fileio.atomic_write(path, json.dumps(data).encode("utf-8"))

        def delete_password(self, service: str, username: str) -> None:
            path = self._path()
            with fileio.file_lock(path):
                data = self._load()
                if username not in data.get(service, {}):
                    raise PasswordDeleteError(username)
                del data[service][username]
                fileio.atomic_write(path, json.dumps(data).encode("utf-8"))

    return DemoFileKeyring


_lazy: dict[str, type] = {}


def __getattr__(name: str) -> Any:
    # keyring loads PYTHON_KEYRING_BACKEND by attribute; building the class on demand keeps
    # `import traycred.demo` free of the keyring library.
    if name == "DemoFileKeyring":
        if name not in _lazy:
            _lazy[name] = _file_keyring_class()
        return _lazy[name]
    raise AttributeError(name)
