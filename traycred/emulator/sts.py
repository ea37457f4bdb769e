"""STS over the query protocol: SigV4 checks, GetCallerIdentity, GetSessionToken, AssumeRole."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from traycred.emulator import sigv4
from traycred.emulator.protocol import CallInfo, Request, Response, new_request_id
from traycred.emulator.scenario import Role
from traycred.emulator.state import ApiError, Identity, KeyRecord, State, stable_id

SERVICE = "sts"
VERSION = "2011-06-15"
XMLNS = f"https://sts.amazonaws.com/doc/{VERSION}/"
OPERATIONS = ("GetCallerIdentity", "GetSessionToken", "AssumeRole")
MAX_SKEW = timedelta(minutes=15)
CHAIN_LIMIT = 3600

MFA_FAILED = "MultiFactorAuthentication failed with invalid MFA one time pass code."
MFA_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA "
    "serial number is valid and associated with this user."
)
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_SESSION_NAME = re.compile(r"^[\w+=,.@-]*$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]*$")
_DIGITS = re.compile(r"^\d*$")


def operation_of(request: Request) -> str:
    return request.form().get("Action", "")


def handle(state: State, request: Request, info: CallInfo, clock_skew: float) -> Response:
    """Answer one STS request; an ApiError raised here is answered as ErrorResponse XML."""
    form = request.form()
    info.params = {k: v for k, v in form.items() if k not in ("Action", "Version")}
    if request.method != "POST":
        raise ApiError("InvalidAction", "STS is served on POST /", 400)
    action = form.get("Action", "")
    key = authenticate(state, request, clock_skew, info)
    info.mfa = key.mfa
    if action not in OPERATIONS:
        raise ApiError("InvalidAction", f"Could not find operation {action} for version {VERSION}")
    if form.get("Version") != VERSION:
        raise ApiError(
            "InvalidAction",
            f"Could not find operation {action} for version {form.get('Version')}",
        )
    with state.lock:
        if action == "GetCallerIdentity":
            body = _get_caller_identity(key)
        elif action == "GetSessionToken":
            body = _get_session_token(state, key, form, info)
        else:
            body = _assume_role(state, key, form, info)
    return _xml_ok(action, body)


def authenticate(
    state: State, request: Request, clock_skew: float, info: CallInfo | None = None
) -> KeyRecord:
    """The key record a request was correctly signed with, or the ApiError AWS would answer."""
    header = request.header("authorization")
    if header is None:
        raise ApiError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
    try:
        auth = sigv4.parse_authorization(header)
    except sigv4.MalformedAuthorization:
        raise ApiError(
            "IncompleteSignature",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
            "parameters.",
        ) from None
    if info is not None:
        info.access_key_id = auth.access_key_id  # the key claimed, even if it is then refused
    amz_date = request.header("x-amz-date")
    if amz_date is None:
        raise ApiError(
            "IncompleteSignature",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    try:
        signed_at = sigv4.parse_amz_date(amz_date)
    except ValueError:
        raise ApiError(
            "IncompleteSignature", f"Date must be in ISO-8601 format: {amz_date}"
        ) from None
    _check_skew(signed_at, clock_skew)
    if auth.service != SERVICE:
        raise ApiError(
            "SignatureDoesNotMatch",
            f"Credential should be scoped to correct service: '{SERVICE}'.",
            403,
        )
    with state.lock:
        key = state.keys.get(auth.access_key_id)
    if key is None:
        raise ApiError("InvalidClientTokenId", INVALID_TOKEN, 403)
    if request.header("x-amz-security-token") != key.session_token:
        raise ApiError("InvalidClientTokenId", INVALID_TOKEN, 403)
    if auth.date != amz_date[:8]:
        raise ApiError("SignatureDoesNotMatch", BAD_SIGNATURE, 403)
    if "host" not in auth.signed_headers or not sigv4.verify(
        key.secret_access_key,
        auth,
        amz_date,
        request.method,
        request.raw_path,
        request.headers,
        request.body,
    ):
        raise ApiError("SignatureDoesNotMatch", BAD_SIGNATURE, 403)
    if key.expires_at is not None and key.expires_at <= state.now():
        raise ApiError("ExpiredToken", EXPIRED_TOKEN, 400)
    return key


def _check_skew(signed_at: datetime, clock_skew: float) -> None:
    now = datetime.now(UTC) + timedelta(seconds=clock_skew)
    fmt = "%Y%m%dT%H%M%SZ"
    if signed_at < now - MAX_SKEW:
        raise ApiError(
            "SignatureDoesNotMatch",
            f"Signature expired: {signed_at.strftime(fmt)} is now earlier than "
            f"{(now - MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} - 15 min.)",
            403,
        )
    if signed_at > now + MAX_SKEW:
        raise ApiError(
            "SignatureDoesNotMatch",
            f"Signature not yet current: {signed_at.strftime(fmt)} is still later than "
            f"{(now + MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} + 15 min.)",
            403,
        )


# --- operations ------------------------------------------------------------------------------


def _get_caller_identity(key: KeyRecord) -> str:
    ident = key.identity
    return _tags(Arn=ident.arn, UserId=ident.user_id, Account=ident.account_id)


def _get_session_token(state: State, key: KeyRecord, form: dict[str, str], info: CallInfo) -> str:
    errors: list[str] = []
    duration = _duration(form, "DurationSeconds", 43200, 900, 129600, errors)
    code = form.get("TokenCode")
    serial = form.get("SerialNumber")
    _validate_mfa_params(serial, code, errors)
    _raise_validation(errors)
    if key.session_token is not None:
        raise ApiError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
    user = key.identity.root_user
    mfa = False
    if serial is not None or code is not None:
        if user is None or serial is None or serial != user.mfa_serial:
            raise ApiError("AccessDenied", MFA_UNKNOWN_DEVICE, 403)
        _consume_mfa_code(state, serial, code)
        mfa = True
    info.mfa = mfa
    lifetime = state.ttl("GetSessionToken", duration)
    issued = state.issue_key(key.identity, mfa=mfa, lifetime=lifetime, operation="GetSessionToken")
    return _credentials_xml(issued)


def _assume_role(state: State, key: KeyRecord, form: dict[str, str], info: CallInfo) -> str:
    errors: list[str] = []
    role_arn = form.get("RoleArn")
    session_name = form.get("RoleSessionName")
    if role_arn is None:
        errors.append(_null("roleArn"))
    elif not 20 <= len(role_arn) <= 2048:
        errors.append(
            _constraint(role_arn, "roleArn", "Member must have length greater than or equal to 20")
        )
    if session_name is None:
        errors.append(_null("roleSessionName"))
    else:
        if len(session_name) < 2:
            errors.append(
                _constraint(
                    session_name,
                    "roleSessionName",
                    "Member must have length greater than or equal to 2",
                )
            )
        if len(session_name) > 64:
            errors.append(
                _constraint(
                    session_name,
                    "roleSessionName",
                    "Member must have length less than or equal to 64",
                )
            )
        if not _SESSION_NAME.match(session_name):
            errors.append(
                _constraint(
                    session_name,
                    "roleSessionName",
                    "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
                )
            )
    duration = _duration(form, "DurationSeconds", 3600, 900, 43200, errors)
    external_id = form.get("ExternalId")
    if external_id is not None and (
        not 2 <= len(external_id) <= 1224 or not _EXTERNAL_ID.match(external_id)
    ):
        errors.append(
            _constraint(
                external_id,
                "externalId",
                "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
            )
        )
    serial = form.get("SerialNumber")
    code = form.get("TokenCode")
    _validate_mfa_params(serial, code, errors)
    _raise_validation(errors)
    assert role_arn is not None and session_name is not None

    caller = key.identity
    if caller.is_role_session and "DurationSeconds" in form and duration > CHAIN_LIMIT:
        raise ApiError(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
            "by role chaining.",
        )
    mfa = key.mfa
    if serial is not None or code is not None:
        root = caller.root_user
        if root is None or serial is None or serial != root.mfa_serial:
            raise ApiError("AccessDenied", MFA_UNKNOWN_DEVICE, 403)
        _consume_mfa_code(state, serial, code)
        mfa = True
    info.mfa = mfa
    role = state.scenario.role(role_arn)
    if (
        role is None
        or not _trusts(role, caller)
        or (role.requires_mfa and not mfa)
        or (role.external_id is not None and external_id != role.external_id)
    ):
        raise ApiError(
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}",
            403,
        )
    if duration > role.max_session_duration:
        raise ApiError(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )
    role_id = stable_id("AROA", role.arn)
    identity = Identity(
        account_id=role.account_id,
        arn=f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session_name}",
        user_id=f"{role_id}:{session_name}",
        principal_arn=role.arn,
        user_name=None,
        root_user=caller.root_user,
        is_role_session=True,
    )
    lifetime = state.ttl("AssumeRole", duration)
    issued = state.issue_key(identity, mfa=mfa, lifetime=lifetime, operation="AssumeRole")
    return _credentials_xml(issued) + _tags(
        AssumedRoleUser=_tags(AssumedRoleId=identity.user_id, Arn=identity.arn)
    )


def _trusts(role: Role, caller: Identity) -> bool:
    for principal in role.trusted:
        if principal == "*":
            if caller.account_id == role.account_id:
                return True
        elif principal.startswith("arn:"):
            if principal == caller.principal_arn:
                return True
        elif caller.user_name is not None and principal == caller.user_name:
            return True
    return False


def _consume_mfa_code(state: State, serial: str, code: str | None) -> None:
    """Accept a code once per device; codes in the scenario's rejected list never pass."""
    if code is None or code in state.scenario.mfa_rejected_codes:
        raise ApiError("AccessDenied", MFA_FAILED, 403)
    used = state.used_mfa_codes.setdefault(serial, set())
    if code in used:
        raise ApiError("AccessDenied", MFA_FAILED, 403)
    used.add(code)


# --- validation ------------------------------------------------------------------------------


def _null(member: str) -> str:
    return f"Value null at '{member}' failed to satisfy constraint: Member must not be null"


def _constraint(value: str, member: str, rule: str) -> str:
    return f"Value '{value}' at '{member}' failed to satisfy constraint: {rule}"


def _raise_validation(errors: list[str]) -> None:
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise ApiError(
            "ValidationError", f"{len(errors)} validation {noun} detected: " + "; ".join(errors)
        )


def _duration(
    form: dict[str, str], name: str, default: int, low: int, high: int, errors: list[str]
) -> int:
    raw = form.get(name)
    if raw is None:
        return default
    member = name[0].lower() + name[1:]
    try:
        value = int(raw)
    except ValueError:
        errors.append(_constraint(raw, member, "Member must be an integer"))
        return default
    if value < low:
        errors.append(
            _constraint(raw, member, f"Member must have value greater than or equal to {low}")
        )
    elif value > high:
        errors.append(
            _constraint(raw, member, f"Member must have value less than or equal to {high}")
        )
    return value


def _validate_mfa_params(serial: str | None, code: str | None, errors: list[str]) -> None:
    if serial is not None and not 9 <= len(serial) <= 256:
        errors.append(
            _constraint(
                serial, "serialNumber", "Member must have length greater than or equal to 9"
            )
        )
    if code is not None:
        if not _DIGITS.match(code):
            errors.append(
                _constraint(
                    code, "tokenCode", "Member must satisfy regular expression pattern: [\\d]*"
                )
            )
        if len(code) < 6:
            errors.append(
                _constraint(code, "tokenCode", "Member must have length greater than or equal to 6")
            )
        elif len(code) > 6:
            errors.append(
                _constraint(code, "tokenCode", "Member must have length less than or equal to 6")
            )


# --- XML -------------------------------------------------------------------------------------


class _Xml(str):
    """Markup already built by _tags (not escaped again)."""


def _tags(**members: str) -> _Xml:
    return _Xml(
        "".join(
            f"<{name}>{value if isinstance(value, _Xml) else escape(value)}</{name}>"
            for name, value in members.items()
        )
    )


def _credentials_xml(key: KeyRecord) -> str:
    assert key.expires_at is not None and key.session_token is not None
    expiration = datetime.fromtimestamp(key.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _tags(
        Credentials=_tags(
            AccessKeyId=key.access_key_id,
            SecretAccessKey=key.secret_access_key,
            SessionToken=key.session_token,
            Expiration=expiration,
        )
    )


def _xml_ok(action: str, result: str) -> Response:
    request_id = new_request_id()
    body = (
        f'<{action}Response xmlns="{XMLNS}">\n'
        f"  <{action}Result>{result}</{action}Result>\n"
        f"  <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\n"
        f"</{action}Response>\n"
    )
    return Response(200, body.encode(), "text/xml", request_id=request_id)


def error_response(error: ApiError) -> Response:
    """An error in STS's XML form (raised by a handler or injected as a fault)."""
    request_id = new_request_id()
    fault = "Receiver" if error.status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{XMLNS}">\n'
        f"  <Error><Type>{fault}</Type><Code>{escape(error.code)}</Code>"
        f"<Message>{escape(error.message)}</Message></Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        f"</ErrorResponse>\n"
    )
    return Response(error.status, body.encode(), "text/xml", request_id=request_id)
