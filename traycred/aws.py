"""botocore clients for traycred's AWS calls, imported lazily and mapped to traycred errors.

Every AWS call goes through these clients, so `AWS_ENDPOINT_URL*`, `endpoint_url` in the
profile's config, regions, proxies and CA bundles behave as botocore users expect. Clients are
always given explicit credentials (or none, for unsigned SSO calls): traycred never lets
botocore run its own credential chain, which could recurse into `traycred credential-process`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from traycred.credentials import Credentials
from traycred.errors import AwsError, NetworkError

if TYPE_CHECKING:
    import botocore.loaders
    import botocore.session

_T = TypeVar("_T")
_sessions: dict[str | None, botocore.session.Session] = {}
_sessions_lock = threading.Lock()
# One botocore data loader (service models, endpoints, partitions) per AWS_DATA_PATH, shared by
# every session: a session that loads its own pays ~0.1 s (0.5 s the first time) of JSON parsing
# for models another session already has. The loader only reads the installed data files and
# caches them, so sharing it changes nothing a session resolves.
_loaders: dict[str | None, botocore.loaders.Loader] = {}

DEFAULT_REGION = "us-east-1"
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 30


def botocore_session(profile: str | None = None) -> botocore.session.Session:
    """A cached botocore session scoped to `profile` (its region, endpoint_url, ca_bundle...)."""
    with _sessions_lock:
        session = _sessions.get(profile)
        if session is None:
            import botocore.session

            session = botocore.session.Session()
            _share_loader(session)
            if profile is not None and profile in session.available_profiles:
                session.set_config_variable("profile", profile)
            _sessions[profile] = session
        return session


def _share_loader(session: botocore.session.Session) -> None:
    """Give `session` the process's loader for its data path (caller holds _sessions_lock)."""
    import botocore.loaders

    data_path = session.get_config_variable("data_path")
    loader = _loaders.get(data_path)
    if loader is None:
        loader = _loaders[data_path] = botocore.loaders.create_loader(data_path)
    session.register_component("data_loader", loader)


def reset_sessions() -> None:
    """Forget cached sessions (after the config files or AWS_* variables changed).

    The shared loaders stay: installed models do not change while the process runs.
    """
    with _sessions_lock:
        _sessions.clear()


def client(
    service: str,
    *,
    region: str | None = None,
    credentials: Credentials | None = None,
    profile: str | None = None,
    max_attempts: int = 3,
) -> Any:
    """A botocore client for `service`; unsigned when `credentials` is None."""
    from botocore import UNSIGNED
    from botocore.config import Config

    session = botocore_session(profile)
    resolved_region = region or session.get_config_variable("region") or DEFAULT_REGION
    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
        signature_version=UNSIGNED if credentials is None else None,
        user_agent_extra="traycred",
    )
    kwargs: dict[str, Any] = {"region_name": resolved_region, "config": config}
    if credentials is not None:
        kwargs.update(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
        )
    else:
        # Placeholders keep botocore from running its credential chain for unsigned calls.
        kwargs.update(aws_access_key_id="unsigned", aws_secret_access_key="unsigned")  # noqa: S106
    return session.create_client(service, **kwargs)


def call(operation: Callable[[], _T], *, what: str) -> _T:
    """Run one AWS call, turning botocore's exceptions into traycred errors.

    `what` names the action for the message, e.g. "AssumeRole for role/admin".
    """
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoRegionError,
        ReadTimeoutError,
    )

    try:
        return operation()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")).strip() or code
        raise AwsError(f"{what} failed: {message} ({code}).", code=code) from None
    except (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError) as exc:
        raise NetworkError(
            f"{what} failed: cannot reach {getattr(exc, 'kwargs', {}).get('endpoint_url', 'AWS')}.",
            hint="Check your network, proxy and AWS_ENDPOINT_URL settings.",
        ) from None
    except ReadTimeoutError:
        raise NetworkError(f"{what} failed: the endpoint did not answer in time.") from None
    except NoRegionError:
        raise AwsError(
            f"{what} failed: no region is set.", hint="Set `region` in the profile or AWS_REGION."
        ) from None
