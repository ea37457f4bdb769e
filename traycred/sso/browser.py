"""Open a sign-in page in the user's browser, but only a URL that is safe to open (SPEC §3).

Only `https` URLs are opened, or `http` to this machine (loopback): the verification URL comes
from whatever endpoint the profile points at, and a browser must never be sent somewhere a
network attacker could answer in its place. Python's `webbrowser` is used, so `BROWSER` is
honoured as every Unix tool does.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from traycred.errors import TraycredError

log = logging.getLogger(__name__)


class UnsafeUrlError(TraycredError):
    """A sign-in URL that traycred refuses to open in a browser."""


def is_safe_url(url: str) -> bool:
    """True for `https://host/...`, or `http://` to localhost or a loopback address."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """`url` itself when it is safe to open, else UnsafeUrlError saying why."""
    if not is_safe_url(url):
        raise UnsafeUrlError(
            f"Refusing to open the sign-in page {url}: only https addresses, or http to this "
            "computer, are opened.",
            hint="Check the SSO endpoint settings (AWS_ENDPOINT_URL*, endpoint_url).",
        )
    return url


def open_url(url: str) -> bool:
    """Open `url` in a new browser tab. False when no browser could be started.

    Raises UnsafeUrlError (without opening anything) for a URL that is not safe to open.
    """
    check_url(url)
    import webbrowser

    try:
        return bool(webbrowser.open_new_tab(url))
    except webbrowser.Error as exc:
        log.info("no browser could be opened: %s", exc)
        return False
