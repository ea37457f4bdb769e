"""The request and response values passed between the HTTP server and the emulated services."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from traycred.emulator.state import ApiError


@dataclass(frozen=True)
class Request:
    """One HTTP request as received: raw target, lower-case headers (every value), body."""

    method: str
    raw_path: str
    headers: dict[str, list[str]]
    body: bytes
    base_url: str

    @property
    def path(self) -> str:
        return urlsplit(self.raw_path).path or "/"

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.raw_path).query, keep_blank_values=True))

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except ValueError:
            raise ApiError("SerializationException", "Request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ApiError("SerializationException", "Request body must be a JSON object")
        return data


def new_request_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    request_id: str = field(default_factory=new_request_id)


@dataclass
class CallInfo:
    """What a service learned about a call, for the emulator's call record (no secrets)."""

    service: str
    operation: str
    access_key_id: str | None = None
    mfa: bool = False
    params: dict[str, str] = field(default_factory=dict)
    error_code: str | None = None


def json_response(status: int, payload: dict[str, Any]) -> Response:
    return Response(status, json.dumps(payload).encode(), "application/json")


def rest_json_error(error: ApiError) -> Response:
    """An error as botocore's rest-json parser reads it: x-amzn-ErrorType plus a JSON body."""
    if error.oauth_error is not None:
        payload = {"error": error.oauth_error, "error_description": error.message}
    else:
        payload = {"message": error.message}
    return Response(
        error.status,
        json.dumps(payload).encode(),
        "application/json",
        headers=(("x-amzn-ErrorType", error.code),),
    )
