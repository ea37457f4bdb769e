"""The AWS console sign-in URL for temporary credentials (the federation endpoint's two steps).

Step one asks the partition's federation endpoint for a sign-in token (`getSigninToken`, with
the credentials in the request, as AWS defines it); step two is a `login` URL carrying that
token, which the browser opens. Both the credentials and the returned URL are secrets: neither is
ever logged or put into an error message. This is an HTTP call: run it off the GUI thread.

`TRAYCRED_FEDERATION_ENDPOINT` replaces the endpoint (the local emulator, `traycred demo`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from traycred.credentials import Credentials, mask_key_id
from traycred.errors import AwsError, ConfigError, NetworkError, TraycredError

if TYPE_CHECKING:
    from traycred.engine import Engine

log = logging.getLogger(__name__)

ENDPOINT_ENV = "TRAYCRED_FEDERATION_ENDPOINT"
DEFAULT_REGION = "us-east-1"
TIMEOUT_SECONDS = 10.0
# The console session length AWS accepts in getSigninToken (15 min to 12 h).
MIN_SESSION_DURATION = 900
MAX_SESSION_DURATION = 43_200
_MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Partition:
    """Where one AWS partition signs users in to its console."""

    name: str
    federation: str
    console: str


PARTITIONS = {
    "aws": Partition(
        "aws", "https://signin.aws.amazon.com/federation", "https://console.aws.amazon.com"
    ),
    "aws-cn": Partition(
        "aws-cn", "https://signin.amazonaws.cn/federation", "https://console.amazonaws.cn"
    ),
    "aws-us-gov": Partition(
        "aws-us-gov",
        "https://signin.amazonaws-us-gov.com/federation",
        "https://console.amazonaws-us-gov.com",
    ),
}


def partition_of(region: str) -> Partition:
    """The partition a region belongs to (by its name, as botocore's endpoint rules do)."""
    if region.startswith("cn-"):
        return PARTITIONS["aws-cn"]
    if region.startswith("us-gov-"):
        return PARTITIONS["aws-us-gov"]
    if region.startswith(("us-iso", "eu-isoe")):
        raise TraycredError(
            f"traycred cannot open the AWS console for region {region} (an isolated partition).",
            hint="Sign in to that console as your organisation describes.",
        )
    return PARTITIONS["aws"]


def federation_endpoint(partition: Partition) -> str:
    """The getSigninToken endpoint: the override when set, else the partition's."""
    endpoint = os.environ.get(ENDPOINT_ENV, "").strip() or partition.federation
    # The credentials travel in this request: never to a host a network attacker could answer.
    from traycred.sso.browser import is_safe_url

    if not is_safe_url(endpoint):
        raise ConfigError(
            f"{ENDPOINT_ENV} must be an https address (or http to this computer), not "
            f"{_host(endpoint)}.",
            hint=f"Fix or unset {ENDPOINT_ENV}.",
        )
    return endpoint


def console_destination(partition: Partition, region: str, destination: str | None) -> str:
    """The console page to land on: a full https URL, a path of the console, or its home."""
    if destination is None:
        return f"{partition.console}/console/home?region={region}"
    if destination.startswith("/"):
        return partition.console + destination
    if urlsplit(destination).scheme != "https":
        raise TraycredError(
            "The console destination must be an https address or a path such as /s3/home.",
        )
    return destination


def console_url(
    credentials: Credentials,
    *,
    region: str | None = None,
    destination: str | None = None,
    issuer: str = "traycred",
    session_duration: int | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> str:
    """A URL that opens the AWS console signed in with `credentials` (temporary ones only).

    `session_duration` (seconds) asks for a console session of that length; AWS allows it only
    for role sessions, so pass it only for credentials from AssumeRole or SSO. The URL carries a
    sign-in token valid for 15 minutes: open it, never log it.
    """
    if not credentials.is_temporary:
        raise TraycredError(
            "The AWS console can only be opened with temporary credentials (with a session "
            f"token), not with the long-term key {mask_key_id(credentials.access_key_id)}.",
            hint="Open it from a role or SSO profile.",
        )
    if session_duration is not None and not (
        MIN_SESSION_DURATION <= session_duration <= MAX_SESSION_DURATION
    ):
        raise TraycredError(
            f"A console session lasts {MIN_SESSION_DURATION} to {MAX_SESSION_DURATION} seconds, "
            f"not {session_duration}."
        )
    region = region or DEFAULT_REGION
    partition = partition_of(region)
    endpoint = federation_endpoint(partition)
    session = json.dumps(
        {
            "sessionId": credentials.access_key_id,
            "sessionKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
        }
    )
    query = {"Action": "getSigninToken", "Session": session}
    if session_duration is not None:
        query["SessionDuration"] = str(session_duration)
    token = _signin_token(f"{endpoint}?{urlencode(query)}", _host(endpoint), timeout)
    login = {
        "Action": "login",
        "Issuer": issuer,
        "Destination": console_destination(partition, region, destination),
        "SigninToken": token,
    }
    log.info("console sign-in token obtained from %s", _host(endpoint))
    return f"{endpoint}?{urlencode(login)}"


def _signin_token(url: str, host: str, timeout: float) -> str:
    """GET the getSigninToken URL (which holds the credentials) and read the token."""
    import ssl
    import urllib.error
    import urllib.request

    context = None
    bundle = os.environ.get("AWS_CA_BUNDLE")
    if bundle:
        context = ssl.create_default_context(cafile=bundle)
    request = urllib.request.Request(  # noqa: S310 - https or loopback http, checked above
        url, headers={"Accept": "application/json", "User-Agent": "traycred"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310
            body = answer.read(_MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        # Neither exc nor its URL is formatted: the URL holds the credentials.
        status = exc.code
        exc.close()
        if status in (400, 401, 403):
            raise AwsError(
                f"The AWS sign-in service ({host}) refused these credentials for the console "
                f"(HTTP {status}).",
                code=str(status),
                hint="Console sign-in works with role and SSO credentials, not with a session "
                "from an access key; refresh the profile if its credentials may have expired.",
            ) from None
        raise AwsError(
            f"The AWS sign-in service ({host}) answered HTTP {status}.",
            code=str(status),
            hint="Try again in a moment.",
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason if isinstance(exc.reason, str) else type(exc.reason).__name__
        raise NetworkError(
            f"The AWS sign-in service ({host}) could not be reached: {reason}.",
            hint="Check your network connection and proxy settings.",
        ) from None
    except TimeoutError:
        raise NetworkError(
            f"The AWS sign-in service ({host}) did not answer within {timeout:g} s.",
            hint="Check your network connection and try again.",
        ) from None
    except OSError as exc:
        raise NetworkError(
            f"The AWS sign-in service ({host}) could not be reached: {type(exc).__name__}.",
            hint="Check your network connection and proxy settings.",
        ) from None
    try:
        token = json.loads(body).get("SigninToken")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise AwsError(
            f"The AWS sign-in service ({host}) gave no sign-in token.",
            hint="Try again in a moment.",
        )
    return token


def profile_console_url(engine: Engine, name: str) -> str:
    """The console sign-in URL for profile `name`'s current credentials (may ask for MFA).

    What the tray's "Open AWS console" runs on a worker thread.
    """
    from traycred.config import Kind

    profile = engine.profile(name)
    if profile.kind in (Kind.KEYRING_KEYS, Kind.STATIC_KEYS):
        raise TraycredError(
            f"The AWS console cannot be opened as profile {name}: console sign-in needs role "
            "or SSO credentials, and an access key's session is refused.",
            hint=f"Open it from a role profile that uses {name} as its source.",
        )
    credentials = engine.credentials_for(name)
    region = profile.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return console_url(credentials, region=region)


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return "an invalid address"
