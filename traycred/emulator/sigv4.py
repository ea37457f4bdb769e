"""AWS Signature Version 4 verification, recomputed from the received request with hashlib/hmac."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<headers>[^,\s]+),"
    r"\s*Signature=(?P<sig>[0-9a-f]{64})$"
)


class MalformedAuthorization(ValueError):
    """The Authorization header is not a SigV4 header."""


@dataclass(frozen=True)
class Authorization:
    """The parts of a SigV4 Authorization header."""

    access_key_id: str
    date: str  # YYYYMMDD from the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def parse_authorization(header: str) -> Authorization:
    match = _AUTH.match(header.strip())
    if match is None:
        raise MalformedAuthorization("Authorization header is not AWS4-HMAC-SHA256")
    parts = match.group("cred").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise MalformedAuthorization("bad credential scope")
    return Authorization(
        access_key_id=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        signed_headers=tuple(match.group("headers").split(";")),
        signature=match.group("sig"),
    )


def parse_amz_date(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def canonical_request(
    method: str,
    raw_path: str,
    headers: Mapping[str, Sequence[str]],
    signed_headers: Sequence[str],
    body: bytes,
) -> str:
    """The canonical request as botocore builds it for non-S3 services.

    `raw_path` is the request target as received (path and query, still percent-encoded);
    `headers` maps lower-case names to every value received under that name.
    """
    path, _, query = raw_path.partition("?")
    # Services other than S3 encode the already-encoded path a second time.
    canonical_path = quote(path or "/", safe="/~")
    pairs = []
    if query:
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            pairs.append((key, value))
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    header_lines = []
    for name in signed_headers:
        values = headers.get(name, ())
        joined = ",".join(" ".join(v.split()) for v in values)
        header_lines.append(f"{name}:{joined}")
    return "\n".join(
        [
            method.upper(),
            canonical_path,
            canonical_query,
            "\n".join(header_lines) + "\n",
            ";".join(signed_headers),
            hashlib.sha256(body).hexdigest(),
        ]
    )


def signature(secret_access_key: str, auth: Authorization, amz_date: str, canonical: str) -> str:
    """The hex signature of `canonical` under the secret and the header's credential scope."""
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, auth.scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
    )
    key = ("AWS4" + secret_access_key).encode("utf-8")
    for part in (auth.date, auth.region, auth.service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(
    secret_access_key: str,
    auth: Authorization,
    amz_date: str,
    method: str,
    raw_path: str,
    headers: Mapping[str, Sequence[str]],
    body: bytes,
) -> bool:
    """True when the request was signed with `secret_access_key`."""
    canonical = canonical_request(method, raw_path, headers, auth.signed_headers, body)
    expected = signature(secret_access_key, auth, amz_date, canonical)
    return hmac.compare_digest(expected, auth.signature)
