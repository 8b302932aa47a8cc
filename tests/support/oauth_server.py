"""A real OAuth 2.0 / OpenID Connect authorization server and protected API on 127.0.0.1, for tests.

The endpoints are authlib's ``AuthorizationServer`` (RFC 6749 authorization_code,
refresh_token and client_credentials grants; RFC 7636 PKCE, required and S256 only;
OpenID Connect ID tokens with ``nonce``; RFC 7009 revocation; RFC 6750 bearer tokens;
client_secret_basic, client_secret_post and public clients) behind a stdlib
``ThreadingHTTPServer``. The protected API is guarded by authlib's
``ResourceProtector`` with a bearer token validator. Expiry is judged by an
injectable clock (usually a :class:`FakeClock` shared with the code under test), so
nobody sleeps for a token to expire.

Endpoints (all on one ephemeral loopback port):

* ``GET /authorize``: the authorization endpoint. A valid request gets a consent
  page (a form carrying a ticket); ``POST /authorize`` with the ticket and
  ``decision=approve`` (or ``deny``) redirects to the client's redirect URI with a
  code (or ``error=access_denied``). :class:`UserAgent` plays the browser.
* ``POST /token``: the token endpoint.
* ``POST /revoke``: the revocation endpoint (RFC 7009).
* ``GET /.well-known/openid-configuration``: an OpenID Connect discovery document
  (``discovery_omit`` leaves fields out).
* ``GET /api/me``: a protected resource; 200 with the caller's identity, or 401.

Fault injection (each applies to the next token requests, in this order of
precedence): :meth:`OAuthTestServer.fail_next` (e.g. 503),
:meth:`OAuthTestServer.error_next` (an OAuth error such as ``invalid_grant``),
:meth:`OAuthTestServer.omit_access_token_next`. :meth:`OAuthTestServer.hold`
parks token requests until :meth:`OAuthTestServer.release` (to widen race
windows deterministically); :meth:`OAuthTestServer.hold_answers` lets authlib
answer (a rotation happens) but parks the answer until
:meth:`OAuthTestServer.release_answers`; ``delay`` adds a fixed pause.
"""

from __future__ import annotations

import hmac
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace, TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Request,
    ResourceProtector,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload  # type: ignore[import-untyped]
from authlib.oauth2.rfc6750 import (  # type: ignore[import-untyped]
    BearerTokenGenerator,
    BearerTokenValidator,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import CodeChallenge  # type: ignore[import-untyped]
from authlib.oidc.core import AuthorizationCodeMixin  # type: ignore[import-untyped]
from authlib.oidc.core.grants import OpenIDCode  # type: ignore[import-untyped]
from joserfc.jwk import OctKey

__all__ = [
    "ApiCall",
    "FakeClock",
    "OAuthTestServer",
    "RevocationRequest",
    "TokenRequest",
    "UserAgent",
    "unused_port",
]


class FakeClock:
    """A thread-safe, manually advanced clock returning epoch seconds."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        with self._lock:
            self._now = float(now)


def unused_port() -> int:
    """A loopback TCP port nobody listens on (for "connection refused")."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class TokenRequest:
    """One request the token endpoint received, as the server saw it."""

    grant_type: str | None
    #: The client authlib authenticated (None when authentication failed).
    client_id: str | None
    #: The method authlib authenticated the client with (None when it failed).
    auth_method: str | None
    #: What the request presented: client_secret_basic, client_secret_post or none.
    presented_auth: str
    refresh_token: str | None
    scope: str | None
    #: Parameters in the request body (names only).
    body_params: tuple[str, ...]
    #: The URL query string (always empty for a well-behaved client).
    query: str
    status: int
    #: "authlib", or the fault that answered instead ("fail", "error", "omit").
    answered_by: str


@dataclass(frozen=True)
class RevocationRequest:
    """One request the revocation endpoint received."""

    token_type_hint: str | None
    #: The client authlib authenticated (None when authentication failed).
    client_id: str | None
    #: Whether the token was one the server had issued.
    known: bool
    status: int


@dataclass(frozen=True)
class ApiCall:
    token: str | None
    status: int


class UserAgent:
    """The user's browser, driven with httpx: follows an authorization URL, answers the
    consent page (``decision="approve"`` or ``"deny"``), and follows the redirect back
    to the app's redirect URI, or stops before it.

    An instance is an opener for ``Session.sign_in(open_browser=...)``: called with the
    authorization URL it signs in and GETs the loopback callback; ``callbacks`` keeps
    every callback URL it was sent to and ``pages`` the pages the app answered with.
    ``tamper`` may rewrite the callback URL before it is followed (forged callbacks).
    """

    def __init__(
        self,
        *,
        decision: str = "approve",
        user: str = "alice",
        tamper: Callable[[str], str] | None = None,
    ) -> None:
        self.decision = decision
        self.user = user
        self.tamper = tamper
        self.callbacks: list[str] = []
        self.pages: list[httpx.Response] = []

    def authorize(self, url: str) -> str:
        """Sign in at ``url``; returns the callback URL the server redirects to."""
        with httpx.Client(trust_env=False, timeout=5) as http:
            action, form = self._decision(url, self._ticket(http.get(url)))
            return self._location(http.post(action, data=form))

    async def async_authorize(self, url: str) -> str:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
            action, form = self._decision(url, self._ticket(await http.get(url)))
            return self._location(await http.post(action, data=form))

    def __call__(self, url: str) -> None:
        callback = self.authorize(url)
        with httpx.Client(trust_env=False, timeout=5) as http:
            self.pages.append(http.get(callback))

    async def open_async(self, url: str) -> None:
        callback = await self.async_authorize(url)
        async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
            self.pages.append(await http.get(callback))

    @staticmethod
    def _ticket(consent: httpx.Response) -> str:
        if consent.status_code != 200:
            raise AssertionError(f"no consent page: HTTP {consent.status_code} {consent.text}")
        found = re.search(r'name="ticket" value="([^"]+)"', consent.text)
        assert found, "the consent page has no ticket"
        return found.group(1)

    def _decision(self, url: str, ticket: str) -> tuple[str, dict[str, str]]:
        parts = urlsplit(url)
        action = f"{parts.scheme}://{parts.netloc}/authorize"
        return action, {"ticket": ticket, "decision": self.decision, "user": self.user}

    def _location(self, response: httpx.Response) -> str:
        if response.status_code != 302:
            raise AssertionError(f"no redirect: HTTP {response.status_code} {response.text}")
        callback = response.headers["Location"]
        if self.tamper is not None:
            callback = self.tamper(callback)
        self.callbacks.append(callback)
        return callback


# -- authlib models ---------------------------------------------------------------------


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(
        self,
        client_id: str,
        client_secret: str | None,
        auth_method: str,
        grant_types: Sequence[str],
        scope: str,
        redirect_uris: Sequence[str] = (),
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_endpoint_auth_method = auth_method
        self.grant_types = tuple(grant_types)
        self.scope = scope
        self.redirect_uris = tuple(redirect_uris)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return self.scope
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        if redirect_uri in self.redirect_uris:
            return True
        # RFC 8252 section 7.3: a loopback redirect URI matches whatever its port.
        asked = urlsplit(redirect_uri)
        for registered in map(urlsplit, self.redirect_uris):
            if (
                registered.scheme == asked.scheme == "http"
                and registered.hostname == asked.hostname == "127.0.0.1"
                and registered.path == asked.path
                and not asked.query
            ):
                return True
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and hmac.compare_digest(
            self.client_secret.encode(), client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "token":
            return method == self.token_endpoint_auth_method
        return True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass(eq=False)
class _Token(TokenMixin):  # type: ignore[misc]
    access_token: str
    refresh_token: str | None
    client_id: str
    scope: str
    user: str | None
    issued_at: float
    expires_in: int
    clock: Callable[[], float] = field(repr=False)
    access_revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client: _Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.clock() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.access_revoked

    def get_user(self) -> str | None:
        return self.user

    def get_client(self) -> str:
        return self.client_id


@dataclass(eq=False)
class _AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str | None
    scope: str
    user: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    issued_at: float
    used: bool = False

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.issued_at)


class _QueryRequest(OAuth2Request):  # type: ignore[misc]
    """An authorization request: its parameters come from the query (or a stored ticket)."""

    def __init__(self, uri: str, params: dict[str, str]) -> None:
        super().__init__("GET", uri)
        self._params = params
        self.payload = BasicOAuth2Payload(params)

    @property
    def args(self) -> dict[str, str]:
        return self._params

    @property
    def form(self) -> dict[str, str]:
        return {}


class _FormRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Any, form: dict[str, str]) -> None:
        super().__init__(method, uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class _Store:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.clients: dict[str, _Client] = {}
        self.by_access: dict[str, _Token] = {}
        self.by_refresh: dict[str, _Token] = {}
        self.codes: dict[str, _AuthorizationCode] = {}
        self.nonces: set[str] = set()

    def save(self, token: dict[str, Any], request: Any) -> None:
        record = _Token(
            access_token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            client_id=request.client.client_id,
            scope=token.get("scope", ""),
            user=request.user,
            issued_at=self.clock(),
            expires_in=int(token.get("expires_in", 0)),
            clock=self.clock,
        )
        with self.lock:
            self.by_access[record.access_token] = record
            if record.refresh_token:
                self.by_refresh[record.refresh_token] = record

    def find_refresh(self, refresh_token: str) -> _Token | None:
        with self.lock:
            record = self.by_refresh.get(refresh_token)
        if record is None or record.refresh_revoked:
            return None
        return record

    def find_access(self, access_token: str) -> _Token | None:
        with self.lock:
            return self.by_access.get(access_token)


class _AuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, store: _Store) -> None:
        super().__init__()
        self.store = store

    def query_client(self, client_id: str) -> _Client | None:
        return self.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.store.save(token, request)

    def create_oauth2_request(self, request: _FormRequest) -> _FormRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: Iterable[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, list(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


class _BearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, store: _Store) -> None:
        super().__init__()
        self.store = store

    def authenticate_token(self, token_string: str) -> _Token | None:
        return self.store.find_access(token_string)


class _HeaderRequest:
    def __init__(self, headers: Any) -> None:
        self.headers = headers


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    app: OAuthTestServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        return None

    def _send(self, status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        if isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        sent = set()
        for name, value in headers:
            sent.add(name.lower())
            self.send_header(name, value)
        if "content-type" not in sent:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        app = self.server.app
        path = urlsplit(self.path).path
        if path == "/.well-known/openid-configuration":
            self._send(*app._discovery())
        elif path == "/authorize":
            self._send(*app._authorize(self.path))
        elif path == "/api/me":
            self._send(*app._api(self.headers))
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        app = self.server.app
        parts = urlsplit(self.path)
        body = self._read_body()
        if parts.path == "/token":
            self._send(*app._token(self.headers, body, parts.query))
        elif parts.path == "/authorize":
            self._send(*app._decide(body))
        elif parts.path == "/revoke":
            self._send(*app._revoke(self.headers, body))
        else:
            self._send(404, {"error": "not_found"})


class OAuthTestServer:
    """An authorization server and protected API on ``127.0.0.1:<ephemeral>``.

    Use as a context manager (or call :meth:`start` / :meth:`close`).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        access_token_ttl: int = 3600,
        rotate_refresh_tokens: bool = True,
    ) -> None:
        self.clock = clock or time.time
        self.access_token_ttl = access_token_ttl
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.delay = 0.0

        self._store = _Store(self.clock)
        self._authz = _AuthorizationServer(self._store)
        self._authz.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: "at-" + secrets.token_urlsafe(24),
                refresh_token_generator=lambda **_: "rt-" + secrets.token_urlsafe(24),
                expires_generator=lambda client, grant_type: self.access_token_ttl,
            ),
        )
        server = self

        class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
            INCLUDE_NEW_REFRESH_TOKEN = rotate_refresh_tokens

            def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
                return server._store.find_refresh(refresh_token)

            def authenticate_user(self, refresh_token: _Token) -> str | None:
                return refresh_token.user or refresh_token.client_id

            def revoke_old_credential(self, refresh_token: _Token) -> None:
                if server.rotate_refresh_tokens:
                    refresh_token.refresh_revoked = True

        class CredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

            def save_authorization_code(self, code: str, request: Any) -> None:
                data = request.payload.data
                server._store.codes[code] = _AuthorizationCode(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=request.payload.redirect_uri,
                    scope=request.scope,
                    user=request.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                    issued_at=server.clock(),
                )
                if data.get("nonce"):
                    server._store.nonces.add(data["nonce"])

            def query_authorization_code(
                self, code: str, client: _Client
            ) -> _AuthorizationCode | None:
                with server._store.lock:
                    record = server._store.codes.get(code)
                    if record is None or record.client_id != client.client_id:
                        return None
                    if record.used:
                        # RFC 6749 section 4.1.2: a code used twice revokes what it issued.
                        server._revoke_issued_by(code)
                        return None
                    if server.clock() > record.issued_at + 600:
                        return None
                    return record

            def delete_authorization_code(self, record: _AuthorizationCode) -> None:
                record.used = True

            def authenticate_user(self, record: _AuthorizationCode) -> str:
                return record.user

            def save_token(self, token: dict[str, Any]) -> None:
                super().save_token(token)
                server._issued_by_code[token["access_token"]] = self.request.authorization_code.code

        class RequiredS256(CodeChallenge):  # type: ignore[misc]
            """PKCE required of every client, S256 only (RFC 9700 section 2.1.1)."""

            SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

            def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
                data = grant.request.payload.data
                if not data.get("code_challenge"):
                    raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
                if data.get("code_challenge_method") != "S256":
                    raise InvalidRequestError("PKCE is required with code_challenge_method=S256")
                super().validate_code_challenge(grant, redirect_uri)

            def validate_code_verifier(self, grant: Any, result: Any) -> None:
                if not grant.request.form.get("code_verifier"):
                    raise InvalidRequestError("PKCE is required: missing 'code_verifier'")
                super().validate_code_verifier(grant, result)

        class IdTokens(OpenIDCode):  # type: ignore[misc]
            def resolve_client_private_key(self, client: _Client) -> Any:
                return server._id_token_key

            def get_client_algorithm(self, client: _Client) -> str:
                return "HS256"

            def get_client_claims(self, client: _Client) -> dict[str, Any]:
                return {"iss": server.issuer, "aud": [client.client_id]}

            def exists_nonce(self, nonce: str, request: Any) -> bool:
                return False  # the nonce is recorded when the code is saved

            def generate_user_info(self, user: str, scope: str) -> dict[str, Any]:
                return {"sub": user}

        class Revocation(RevocationEndpoint):  # type: ignore[misc]
            CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

            def check_params(self, request: Any, client: _Client) -> None:
                self.SUPPORTED_TOKEN_TYPES = server.revocable_token_types
                super().check_params(request, client)

            def query_token(self, token_string: str, hint: str | None) -> _Token | None:
                with server._store.lock:
                    by_access = server._store.by_access.get(token_string)
                    by_refresh = server._store.by_refresh.get(token_string)
                if hint == "refresh_token":
                    return by_refresh or by_access
                return by_access or by_refresh

            def revoke_token(self, token: _Token, request: Any) -> None:
                token.access_revoked = True
                if request.form.get("token") == token.refresh_token or (
                    request.form.get("token_type_hint") != "access_token"
                ):
                    token.refresh_revoked = True

        self._authz.register_grant(RefreshGrant)
        self._authz.register_grant(CredentialsGrant)
        self._authz.register_grant(CodeGrant, [RequiredS256(), IdTokens(require_nonce=False)])
        self._authz.register_endpoint(Revocation)
        self._id_token_key = OctKey.import_key(secrets.token_bytes(32))
        self._issued_by_code: dict[str, str] = {}
        self._tickets: dict[str, dict[str, str]] = {}
        self.discovery_omit: set[str] = set()
        self.revocation_enabled = True
        #: token_type_hint values the revocation endpoint accepts (others: unsupported_token_type)
        self.revocable_token_types: tuple[str, ...] = ("access_token", "refresh_token")
        self._flow_secrets: list[str] = []  # state, nonce and code_verifier values seen

        self._protector = ResourceProtector()
        self._protector.register_token_validator(_BearerValidator(self._store))

        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._token_requests: list[TokenRequest] = []
        self._arrivals = 0
        self._api_calls: list[ApiCall] = []
        self._discovery_fetches = 0
        self._fail: list[int] = []
        self._errors: list[tuple[int, str, str | None]] = []
        self._omit = 0
        self._discovery_failures = 0
        self._gate: threading.Event | None = None
        self._answer_gate: threading.Event | None = None
        self._answered = 0
        self._discovery_gate: threading.Event | None = None
        self._discovery_arrivals = 0
        self._revocation_requests: list[RevocationRequest] = []

        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> OAuthTestServer:
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.app = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self.release()
        self.release_answers()
        self.release_discovery()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OAuthTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def discovery_url(self) -> str:
        return self.base_url + "/.well-known/openid-configuration"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/me"

    @property
    def authorization_url(self) -> str:
        return self.base_url + "/authorize"

    @property
    def revocation_url(self) -> str:
        return self.base_url + "/revoke"

    @property
    def issuer(self) -> str:
        return self.base_url

    # -- setup ------------------------------------------------------------------------------

    def add_client(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        auth_method: str | None = None,
        grant_types: Sequence[str] = ("refresh_token", "client_credentials"),
        scope: str = "read write",
        redirect_uris: Sequence[str] = (),
    ) -> None:
        """Register a client. For the authorization code grant, list
        ``"authorization_code"`` in ``grant_types`` and give its ``redirect_uris``
        (``http://127.0.0.1/<path>`` admits any port, RFC 8252)."""
        method = auth_method or ("client_secret_basic" if client_secret else "none")
        self._store.clients[client_id] = _Client(
            client_id, client_secret, method, grant_types, scope, redirect_uris
        )

    def login(
        self, client_id: str, *, user: str = "alice", scope: str | None = None
    ) -> dict[str, Any]:
        """Issue a token response with a refresh token, as an authorization code
        exchange would, and return it (the JSON object a client would receive)."""
        client = self._store.clients[client_id]
        token: dict[str, Any] = self._authz.generate_token(
            grant_type="authorization_code",
            client=client,
            user=user,
            scope=scope or client.scope,
            expires_in=self.access_token_ttl,
            include_refresh_token=True,
        )
        self._store.save(token, SimpleNamespace(client=client, user=user))
        return dict(token)

    # -- control ----------------------------------------------------------------------------

    def revoke_access_token(self, access_token: str) -> None:
        record = self._store.find_access(access_token)
        assert record is not None, "unknown access token"
        record.access_revoked = True

    def revoke_refresh_token(self, refresh_token: str) -> None:
        with self._store.lock:
            record = self._store.by_refresh[refresh_token]
        record.refresh_revoked = True

    def fail_next(self, count: int = 1, *, status: int = 503) -> None:
        """Answer the next ``count`` token requests with ``status`` (no token)."""
        with self._lock:
            self._fail.extend([status] * count)

    def error_next(
        self,
        error: str = "invalid_grant",
        *,
        status: int = 400,
        description: str | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` token requests with an OAuth error response."""
        with self._lock:
            self._errors.extend([(status, error, description)] * count)

    def omit_access_token_next(self, count: int = 1) -> None:
        """Strip ``access_token`` from the next ``count`` successful token responses."""
        with self._lock:
            self._omit += count

    def fail_discovery_next(self, count: int = 1) -> None:
        with self._lock:
            self._discovery_failures += count

    def hold(self) -> None:
        """Park every token request until :meth:`release` (at most 10 s)."""
        with self._lock:
            if self._gate is None:
                self._gate = threading.Event()

    def release(self) -> None:
        with self._lock:
            gate, self._gate = self._gate, None
        if gate is not None:
            gate.set()

    def hold_answers(self) -> None:
        """Let authlib answer token requests (tokens are issued, refresh tokens
        rotated) but park each answer until :meth:`release_answers` (at most 10 s)."""
        with self._lock:
            if self._answer_gate is None:
                self._answer_gate = threading.Event()

    def release_answers(self) -> None:
        with self._lock:
            gate, self._answer_gate = self._answer_gate, None
        if gate is not None:
            gate.set()

    def wait_for_answered(self, count: int, timeout: float = 5.0) -> None:
        """Block until authlib has answered ``count`` token requests (sent or parked)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._answered >= count, timeout=timeout):
                raise TimeoutError(f"{self._answered} token requests answered, not {count}")

    def hold_discovery(self) -> None:
        """Park every discovery request until :meth:`release_discovery` (at most 10 s)."""
        with self._lock:
            if self._discovery_gate is None:
                self._discovery_gate = threading.Event()

    def release_discovery(self) -> None:
        with self._lock:
            gate, self._discovery_gate = self._discovery_gate, None
        if gate is not None:
            gate.set()

    # -- observations -----------------------------------------------------------------------

    @property
    def token_requests(self) -> list[TokenRequest]:
        with self._lock:
            return list(self._token_requests)

    @property
    def revocation_requests(self) -> list[RevocationRequest]:
        with self._lock:
            return list(self._revocation_requests)

    @property
    def discovery_fetches(self) -> int:
        with self._lock:
            return self._discovery_fetches

    @property
    def api_calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._api_calls)

    def wait_for_arrivals(self, count: int, timeout: float = 5.0) -> None:
        """Block until ``count`` token requests have arrived (answered or parked)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._arrivals >= count, timeout=timeout):
                raise TimeoutError(f"{self._arrivals} token requests arrived, not {count}")

    def wait_for_discovery_arrivals(self, count: int, timeout: float = 5.0) -> None:
        with self._changed:
            if not self._changed.wait_for(
                lambda: self._discovery_arrivals >= count, timeout=timeout
            ):
                raise TimeoutError(f"{self._discovery_arrivals} discovery requests arrived")

    def issued_secrets(self) -> list[str]:
        """Every access and refresh token and code issued so far, every state, nonce and
        PKCE verifier the server has seen, and every client secret."""
        with self._store.lock:
            values = [t.access_token for t in self._store.by_access.values()]
            values += [t for t in self._store.by_refresh]
            values += list(self._store.codes)
            values += list(self._store.nonces)
        with self._lock:
            values += self._flow_secrets
        values += [c.client_secret for c in self._store.clients.values() if c.client_secret]
        return values

    def refresh_token_is_valid(self, refresh_token: str) -> bool:
        return self._store.find_refresh(refresh_token) is not None

    def _revoke_issued_by(self, code: str) -> None:
        for access_token, issuing_code in list(self._issued_by_code.items()):
            if issuing_code == code:
                record = self._store.by_access.get(access_token)
                if record is not None:
                    record.access_revoked = record.refresh_revoked = True

    def token_is_valid(self, access_token: str) -> bool:
        record = self._store.find_access(access_token)
        return record is not None and not record.is_expired() and not record.is_revoked()

    # -- request handling (called from handler threads) -------------------------------------

    def _discovery(self) -> tuple[int, Any]:
        with self._changed:
            self._discovery_arrivals += 1
            self._changed.notify_all()
            gate = self._discovery_gate
        if gate is not None:
            gate.wait(timeout=10)
        with self._lock:
            self._discovery_fetches += 1
            failing = self._discovery_failures > 0
            if failing:
                self._discovery_failures -= 1
        if failing:
            return 503, {"error": "temporarily_unavailable"}
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_url,
            "token_endpoint": self.token_url,
            "revocation_endpoint": self.revocation_url,
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
        }
        return 200, {k: v for k, v in document.items() if k not in self.discovery_omit}

    def _authorize(self, target: str) -> tuple[int, Any, list[tuple[str, str]]]:
        """GET /authorize: validate the request; a consent page with a ticket, or an error."""
        params = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
        with self._lock:
            self._flow_secrets += [params[k] for k in ("state", "nonce") if params.get(k)]
        request = _QueryRequest(self.authorization_url + "?" + urlsplit(target).query, params)
        try:
            self._authz.get_consent_grant(request, end_user=None)
        except OAuth2Error as error:
            status, body, headers = self._authz.handle_error_response(request, error)
            return status, body, list(headers)
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._tickets[ticket] = params
        page = (
            "<!doctype html><title>Sign in to the test bank</title>"
            f"<p>{html.escape(params.get('client_id', ''))} asks for "
            f"{html.escape(params.get('scope', ''))}</p>"
            '<form method="post" action="/authorize">'
            f'<input type="hidden" name="ticket" value="{ticket}">'
            '<button name="decision" value="approve">Allow</button>'
            '<button name="decision" value="deny">Deny</button></form>'
        )
        return 200, page, [("Content-Type", "text/html; charset=utf-8")]

    def _decide(self, body: bytes) -> tuple[int, Any, list[tuple[str, str]]]:
        """POST /authorize: the user's decision on a consent ticket (used once)."""
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        with self._lock:
            params = self._tickets.pop(form.get("ticket", ""), None)
        if params is None:
            return 400, {"error": "invalid_request", "error_description": "unknown ticket"}, []
        request = _QueryRequest(self.authorization_url, params)
        grant = self._authz.get_consent_grant(request, end_user=None)
        user = (form.get("user") or "alice") if form.get("decision") == "approve" else None
        status, response_body, headers = self._authz.create_authorization_response(
            request, grant_user=user, grant=grant
        )
        return status, response_body, list(headers)

    def _revoke(self, headers: Any, body: bytes) -> tuple[int, Any, list[tuple[str, str]]]:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if not self.revocation_enabled:
            return 404, {"error": "not_found"}, []
        request = _FormRequest("POST", self.revocation_url, headers, form)
        with self._store.lock:
            known = (
                form.get("token") in self._store.by_access
                or form.get("token") in self._store.by_refresh
            )
        status, response_body, out_headers = self._authz.create_endpoint_response(
            "revocation", request
        )
        record = RevocationRequest(
            token_type_hint=form.get("token_type_hint"),
            client_id=request.client.client_id if request.client is not None else None,
            known=known,
            status=status,
        )
        with self._lock:
            self._revocation_requests.append(record)
        return status, response_body, list(out_headers)

    def _api(self, headers: Any) -> tuple[int, Any, list[tuple[str, str]]]:
        auth = headers.get("Authorization") or ""
        token = auth.split(None, 1)[1] if auth.lower().startswith("bearer ") else None
        try:
            record = self._protector.validate_request(None, _HeaderRequest(headers))
        except OAuth2Error as error:
            status, body, out_headers = error()
            result = (status, body, list(out_headers))
        else:
            result = (200, {"client_id": record.client_id, "user": record.user}, [])
        with self._lock:
            self._api_calls.append(ApiCall(token=token, status=result[0]))
        return result

    def _token(
        self, headers: Any, body: bytes, query: str
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("code_verifier"):
            with self._lock:
                self._flow_secrets.append(form["code_verifier"])
        auth_header = headers.get("Authorization") or ""
        if auth_header.lower().startswith("basic "):
            presented = "client_secret_basic"
        elif "client_secret" in form:
            presented = "client_secret_post"
        else:
            presented = "none"

        with self._changed:
            self._arrivals += 1
            self._changed.notify_all()
            gate = self._gate
        if gate is not None:
            gate.wait(timeout=10)
        if self.delay:
            time.sleep(self.delay)

        with self._lock:
            fail = self._fail.pop(0) if self._fail else None
            error = self._errors.pop(0) if fail is None and self._errors else None

        request = _FormRequest("POST", self.token_url, headers, form)
        answered_by = "authlib"
        if fail is not None:
            answered_by = "fail"
            result: tuple[int, Any, list[tuple[str, str]]] = (
                fail,
                {"error": "temporarily_unavailable"},
                [],
            )
        elif error is not None:
            answered_by = "error"
            status, code, description = error
            payload = {"error": code}
            if description is not None:
                payload["error_description"] = description
            result = (status, payload, [])
        else:
            result = self._authz.create_token_response(request)
            if result[0] == 200:
                with self._lock:
                    omit = self._omit > 0
                    if omit:
                        self._omit -= 1
                if omit:
                    answered_by = "omit"
                    result = (
                        200,
                        {k: v for k, v in result[1].items() if k != "access_token"},
                        result[2],
                    )

        if isinstance(result[1], dict) and result[1].get("id_token"):
            with self._lock:
                self._flow_secrets.append(result[1]["id_token"])
        if answered_by == "authlib":
            with self._changed:
                self._answered += 1
                self._changed.notify_all()
                answer_gate = self._answer_gate
            if answer_gate is not None:
                answer_gate.wait(timeout=10)

        record = TokenRequest(
            grant_type=form.get("grant_type"),
            client_id=request.client.client_id if request.client is not None else None,
            auth_method=request.auth_method,
            presented_auth=presented,
            refresh_token=form.get("refresh_token"),
            scope=form.get("scope"),
            body_params=tuple(sorted(form)),
            query=query,
            status=result[0],
            answered_by=answered_by,
        )
        with self._lock:
            self._token_requests.append(record)
        return result
