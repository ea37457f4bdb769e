"""The emulator's HTTP server: routing to STS / SSO OIDC / SSO portal, faults, call record, clock.

One ThreadingHTTPServer on 127.0.0.1 (an ephemeral port by default) in a daemon thread, reached by
plain boto3/botocore clients through AWS_ENDPOINT_URL. HTTP/1.1 keep-alive, like AWS, so a burst
of parallel calls does not pay a TCP handshake each.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal

from traycred.emulator import device_page, federation, sso_oidc, sso_portal, sts
from traycred.emulator.protocol import CallInfo, Request, Response, rest_json_error
from traycred.emulator.scenario import Scenario
from traycred.emulator.state import ApiError, State

FaultKind = Literal["throttle", "5xx", "latency", "drop"]
Handler = Callable[[Request, CallInfo], Response]


@dataclass(frozen=True)
class Call:
    """One request the emulator answered (or dropped: status 0). Never holds secrets.

    `mfa` is True when the call was MFA-authenticated: signed with MFA-backed session credentials
    or carrying a valid MFA code.
    """

    service: str
    operation: str
    access_key_id: str | None
    mfa: bool
    status: int
    params: dict[str, str] = field(default_factory=dict)
    error_code: str | None = None


@dataclass
class _Fault:
    kind: FaultKind
    operation: str | None
    remaining: int
    delay: float
    status: int


class Faults:
    """Faults injected into the next matching requests (in the order they were added)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def add(
        self,
        kind: FaultKind,
        *,
        operation: str | None = None,
        times: int = 1,
        delay: float = 0.0,
        status: int = 500,
    ) -> None:
        """Make the next `times` requests for `operation` (None: any) fail in the given way.

        throttle: STS `Throttling` (400), SSO `TooManyRequestsException` (429); 5xx: `status`
        500 (InternalFailure) or 503 (ServiceUnavailable); latency: answer after `delay` seconds;
        drop: close the connection without answering. Use a large `times` for a lasting fault.
        """
        if kind not in ("throttle", "5xx", "latency", "drop"):
            raise ValueError(f"unknown fault kind {kind!r}")
        if status not in (500, 503):
            raise ValueError("5xx faults answer 500 or 503")
        with self._lock:
            self._faults.append(_Fault(kind, operation, times, delay, status))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, operation: str) -> list[_Fault]:
        """Consume the faults that apply to one request: all latencies plus the first failure."""
        taken: list[_Fault] = []
        failure_taken = False
        with self._lock:
            for fault in self._faults:
                if fault.remaining <= 0 or fault.operation not in (None, operation):
                    continue
                if fault.kind != "latency":
                    if failure_taken:
                        continue
                    failure_taken = True
                fault.remaining -= 1
                taken.append(fault)
            self._faults = [f for f in self._faults if f.remaining > 0]
        return taken


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    emulator: Emulator


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # An idle keep-alive connection is closed after this many seconds.
    timeout = 60

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the call record replaces the access log; stderr stays quiet in tests

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; with Nagle's algorithm and the client's
        # delayed ACK each keep-alive answer would wait ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.emulator._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._track(self.connection, add=False)

    def do_HEAD(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        emulator = self.server.emulator
        request = Request(self.command, self.path, headers, body, emulator.url)
        response = emulator._dispatch(request)
        if response is None:
            # A dropped connection: no status line at all.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("x-amzn-RequestId", response.request_id)
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the emulator's wall clock, so clock-skew checks can be tested.
        moment = time.time() + self.server.emulator.clock_skew if timestamp is None else timestamp
        return super().date_time_string(moment)


@dataclass(frozen=True)
class _Route:
    service: str
    operation: Callable[[Request], str]
    handler: Handler  # raises ApiError for an AWS error answer
    error_response: Callable[[ApiError], Response]


class Emulator:
    """A local AWS (STS, SSO OIDC, SSO portal) over real HTTP, for tests and `traycred demo`.

    Time: `advance(seconds)` makes everything issued so far that many seconds older (temporary
    credentials, SSO access and refresh tokens, client registrations, device codes); responses
    and signature checks keep using the real clock. `clock_skew` (seconds) moves the emulator's
    wall clock instead: the Date header and the 15-minute X-Amz-Date check.
    """

    def __init__(
        self, scenario: Scenario | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.scenario = scenario if scenario is not None else Scenario.demo()
        self.state = State(self.scenario)
        self.faults = Faults()
        self.latency = 0.0
        self.clock_skew = 0.0
        self.calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._routes = self._build_routes()

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), _RequestHandler)
        server.emulator = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="traycred-emulator",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        # Keep-alive connections would otherwise keep being served by their handler threads.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that make boto3/botocore (and traycred) reach this emulator.

        botocore reads its region from AWS_DEFAULT_REGION only (AWS_REGION is for other SDKs),
        so both are set.
        """
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    # --- call record ---------------------------------------------------------------------

    def count(self, operation: str, status: int | None = None) -> int:
        """How many calls of `operation` (answered with `status`, if given) were received."""
        with self._calls_lock:
            return sum(
                1
                for call in self.calls
                if call.operation == operation and (status is None or call.status == status)
            )

    def reset_calls(self) -> None:
        with self._calls_lock:
            self.calls.clear()

    # --- time and sessions ---------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Make everything issued so far `seconds` older, so it expires without sleeping."""
        self.state.age(seconds)

    def revoke_sso_tokens(self) -> None:
        """Invalidate every SSO access and refresh token issued so far (a revoked session)."""
        self.state.revoke_sso_tokens()

    # --- the user at the device page ---------------------------------------------------------

    def approve(self, user_code: str) -> None:
        """Approve a pending device authorization, as the user clicking Approve would.

        Raises ValueError when the code is unknown, expired or already decided.
        """
        device_page.decide(self.state, user_code, approve=True)

    def deny(self, user_code: str) -> None:
        """Deny a pending device authorization (ValueError as for approve)."""
        device_page.decide(self.state, user_code, approve=False)

    def pending_user_codes(self) -> list[str]:
        """User codes waiting for the user's decision, oldest first (expired ones left out)."""
        with self.state.lock:
            now = self.state.now()
            return [
                d.user_code
                for d in self.state.devices.values()
                if d.status == "pending" and d.expires_at > now
            ]

    # --- internals -----------------------------------------------------------------------

    def _build_routes(self) -> dict[tuple[str, str], _Route]:
        def sts_handler(request: Request, info: CallInfo) -> Response:
            # clock_skew is read per request, so a test may change it while the server runs.
            return sts.handle(self.state, request, info, self.clock_skew)

        def oidc_handler(request: Request, info: CallInfo) -> Response:
            return sso_oidc.handle(self.state, request, info, self.url)

        def portal_handler(request: Request, info: CallInfo) -> Response:
            return sso_portal.handle(self.state, request, info)

        def page_handler(request: Request, info: CallInfo) -> Response:
            return device_page.handle(self.state, request, info)

        def fixed(name: str) -> Callable[[Request], str]:
            return lambda _request: name

        routes = {
            ("POST", "/"): _Route(sts.SERVICE, sts.operation_of, sts_handler, sts.error_response),
        }
        for path, name in sso_oidc.ROUTES.items():
            routes["POST", path] = _Route(
                sso_oidc.SERVICE, fixed(name), oidc_handler, sso_oidc.error_response
            )
        for (method, path), name in sso_portal.ROUTES.items():
            routes[method, path] = _Route(
                sso_portal.SERVICE, fixed(name), portal_handler, sso_portal.error_response
            )
        for (method, path), name in device_page.ROUTES.items():
            routes[method, path] = _Route(
                device_page.SERVICE, fixed(name), page_handler, device_page.error_response
            )
        signin = federation.Federation(self.state)
        for method, path in federation.ROUTES:
            routes[method, path] = _Route(
                federation.SERVICE,
                federation.operation_of,
                signin.handle,
                federation.error_response,
            )
        return routes

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _record(self, info: CallInfo, status: int) -> None:
        call = Call(
            service=info.service,
            operation=info.operation,
            access_key_id=info.access_key_id,
            mfa=info.mfa,
            status=status,
            params=dict(info.params),
            error_code=info.error_code,
        )
        with self._calls_lock:
            self.calls.append(call)

    def _dispatch(self, request: Request) -> Response | None:
        route = self._routes.get((request.method, request.path))
        if route is None:
            return rest_json_error(
                ApiError(
                    "UnknownOperationException",
                    f"No route for {request.method} {request.path}",
                    404,
                )
            )
        info = CallInfo(service=route.service, operation=route.operation(request))
        faults = self.faults.take(info.operation)
        delay = self.latency + sum(f.delay for f in faults if f.kind == "latency")
        if delay > 0:
            time.sleep(delay)
        failure = next((f for f in faults if f.kind != "latency"), None)
        if failure is not None:
            if failure.kind == "drop":
                self._record(info, 0)
                return None
            return self._refuse(route, info, _fault_error(route.service, failure))
        try:
            response = route.handler(request, info)
        except ApiError as error:
            return self._refuse(route, info, error)
        self._record(info, response.status)
        return response

    def _refuse(self, route: _Route, info: CallInfo, error: ApiError) -> Response:
        """An AWS error answer in the route's own form (injected or raised by its service)."""
        info.error_code = error.code
        self._record(info, error.status)
        return route.error_response(error)


def _fault_error(service: str, fault: _Fault) -> ApiError:
    if fault.kind == "throttle":
        if service == "sts":
            return ApiError("Throttling", "Rate exceeded", 400)
        return ApiError("TooManyRequestsException", "Too many requests", 429)
    if fault.status == 503:
        return ApiError("ServiceUnavailable", "Service is unavailable", 503)
    return ApiError("InternalFailure", "An internal error occurred", 500)
