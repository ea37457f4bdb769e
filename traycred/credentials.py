"""The Credentials value: an AWS key pair, optional session token and expiry; never printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_iso(moment: datetime) -> str:
    """ISO-8601 UTC with a Z, as AWS and the credentials file marker use it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse the ISO-8601 forms AWS, botocore and the AWS CLI write (Z, +00:00, fractions)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def mask_key_id(key_id: str) -> str:
    """'AKIA...WXYZ': enough to recognise a key, as the AWS console shows it."""
    return f"{key_id[:4]}...{key_id[-4:]}" if len(key_id) > 8 else key_id


@dataclass(frozen=True)
class Credentials:
    """AWS credentials. Secrets are excluded from repr and never formatted into messages."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expiration: datetime | None = None

    @property
    def is_temporary(self) -> bool:
        return self.session_token is not None

    def remaining(self, now: datetime | None = None) -> timedelta | None:
        if self.expiration is None:
            return None
        return self.expiration - (now or utcnow())

    def expires_within(self, margin: timedelta, now: datetime | None = None) -> bool:
        left = self.remaining(now)
        return left is not None and left <= margin

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_within(timedelta(0), now)

    def process_output(self) -> dict[str, str | int]:
        """The credential_process JSON object (Version 1) botocore and the AWS CLI read:
        the session token and `Expiration` only when there are any."""
        output: dict[str, str | int] = {
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
        }
        if self.session_token is not None:
            output["SessionToken"] = self.session_token
        if self.expiration is not None:
            output["Expiration"] = format_iso(self.expiration)
        return output
