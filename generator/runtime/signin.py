"""Signing a user in: the OAuth 2.0 / OpenID Connect authorization code flow with PKCE.

:class:`SignInFlow` gets the first token set of a session, in one of two ways:

* web apps, in two steps: :meth:`SignInFlow.start` returns a :class:`SignInRequest`
  (the authorization URL to send the browser to, and a small serialisable state
  to keep until the callback); :meth:`SignInFlow.finish` takes that state and the
  callback, checks ``state``, exchanges the code with the PKCE verifier and
  returns a session;
* native and command-line apps (RFC 8252): :meth:`SignInFlow.sign_in` listens on a
  loopback redirect URI (``http://127.0.0.1:<free port>/callback``), opens the
  system browser, waits for the one valid callback and returns a session.

Every step has an ``async_`` twin. PKCE always uses S256 with a fresh verifier.
When the endpoints come from an OpenID Connect discovery document, the request
asks for the ``openid`` scope and carries a ``nonce``, and the ID token in the
token response must carry that nonce, name this client in ``aud`` and the
discovered ``issuer`` in ``iss``. (The ID token comes straight from the token
endpoint over TLS, so its signature is not checked: OpenID Connect Core 1.0,
section 3.1.3.7.)

Endpoints, for each of the authorization, token and revocation endpoints: the
URL given to the flow; else the discovery document of an
``openid_configuration_url`` given to the flow; else the API description's
(an oauth2 ``authorizationCode`` flow, or the discovery document of its
``openIdConnect`` scheme). A discovery document is fetched once per flow.

The code, the verifier, ``state``, ``nonce`` and every token stay out of logs,
``repr`` and exception messages.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import inspect
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, Union
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

import httpx

if TYPE_CHECKING:  # loaded when someone signs in, not when a client is imported
    import asyncio
    import concurrent.futures

from .errors import SessionError, TokenRefreshError
from .oauth import (
    AuthMethod,
    OAuth2Grant,
    ProviderMetadata,
    RefreshTokenGrant,
    TokenEndpoint,
    check_client_authentication,
    check_extra_params,
    check_url,
    describe_url,
    parse_scopes,
)
from .tokens import (
    Clock,
    TokenEndpointUnavailableError,
    TokenRequestRejectedError,
    TokenSet,
    TokenSetLike,
    safe_text,
)

__all__ = [
    "AuthorizationDeniedError",
    "BrowserOpener",
    "CallbackTimeoutError",
    "SignInDefaults",
    "SignInError",
    "SignInFlow",
    "SignInRequest",
    "StateMismatchError",
]

logger = logging.getLogger(__name__)

_S = TypeVar("_S")
_T = TypeVar("_T")

#: Opens the authorization URL for the user: ``True`` for the system browser (the
#: URL is printed when there is none), ``False`` to only print it, or a callable
#: (sync or ``async def``) given the URL.
BrowserOpener = Union[bool, Callable[[str], object]]

DEFAULT_CALLBACK_TIMEOUT = 300.0
DEFAULT_CALLBACK_PATH = "/callback"
_LOOPBACK_HOST = "127.0.0.1"
_MAX_REQUEST_HEAD = 16 * 1024
_REQUEST_READ_TIMEOUT = 10.0
_OPENER_GRACE = 2.0
_CLOCK_SKEW = 120.0

_AUTHORIZATION_PARAMS: frozenset[str] = frozenset(
    (
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
    )
)


# -- errors -------------------------------------------------------------------------------


class SignInError(SessionError):
    """Signing the user in failed. Nothing was stored; the user can try again.

    ``error`` and ``error_description`` are the OAuth error of the callback or of
    the token endpoint when there was one (cut to printable ASCII); ``status_code``
    is the token endpoint's HTTP status when it refused the code.
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        error_description: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.error_description = error_description
        self.status_code = status_code


class AuthorizationDeniedError(SignInError):
    """The callback carried ``error=`` (``access_denied`` when the user said no)."""


class StateMismatchError(SignInError):
    """The callback's ``state`` is missing or is not this sign-in's (forged or stale)."""


class CallbackTimeoutError(SignInError, TimeoutError):
    """No valid callback reached the loopback redirect URI in time."""


# -- the state kept between the two steps ------------------------------------------------


def _random_token(size: int = 32) -> str:
    import secrets

    return secrets.token_urlsafe(size)


def _same_secret(given: str, expected: str) -> bool:
    import hmac

    return hmac.compare_digest(given.encode(), expected.encode())


def _code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class SignInRequest(NamedTuple):
    """Step 1's result: where to send the browser, and what step 2 needs.

    Keep it until the callback arrives, e.g. in the server-side session of the user
    (``to_dict()`` gives plain JSON; ``SignInFlow.finish`` takes the dict or this
    object). It holds the PKCE verifier: keep it out of the browser's reach (a
    server-side session, or an encrypted cookie). ``repr()`` shows no secret.
    """

    url: str
    redirect_uri: str
    state: str
    code_verifier: str
    nonce: str | None = None
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"SignInRequest(url={describe_url(self.url)!r}, "
            f"redirect_uri={describe_url(self.redirect_uri)!r}, scopes={self.scopes!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data that :meth:`from_dict` turns back into this request."""
        return {
            "url": self.url,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "code_verifier": self.code_verifier,
            "nonce": self.nonce,
            "scopes": list(self.scopes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignInRequest:
        """The request :meth:`to_dict` described; ``ValueError`` if ``data`` is not one."""
        if not isinstance(data, Mapping):
            raise ValueError("a sign-in request must be a mapping")
        strings = ("url", "redirect_uri", "state", "code_verifier")
        if any(not isinstance(data.get(name), str) or not data[name] for name in strings):
            raise ValueError("not a sign-in request: " + ", ".join(strings) + " are required")
        nonce = data.get("nonce")
        scopes = data.get("scopes", ())
        if nonce is not None and not isinstance(nonce, str):
            raise ValueError("not a sign-in request: nonce must be a string")
        if not isinstance(scopes, (list, tuple)) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("not a sign-in request: scopes must be a list of strings")
        return cls(
            url=data["url"],
            redirect_uri=data["redirect_uri"],
            state=data["state"],
            code_verifier=data["code_verifier"],
            nonce=nonce or None,
            scopes=tuple(scopes),
        )


class SignInDefaults(NamedTuple):
    """What the API description declares for signing in (a generated ``Session`` fills it)."""

    authorization_url: str | None = None
    token_url: str | None = None
    openid_configuration_url: str | None = None
    scopes: tuple[str, ...] = ()


class _Endpoints(NamedTuple):
    authorization: str
    token: str
    revocation: str | None
    issuer: str | None
    openid: bool  # the endpoints came from OpenID Connect discovery


# -- the callback ---------------------------------------------------------------------------


def _callback_params(callback: str | Mapping[str, str]) -> dict[str, str]:
    if isinstance(callback, Mapping):
        params = {}
        for key, value in callback.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("callback parameters must map strings to strings")
            params[key] = value
        return params
    if not isinstance(callback, str):
        raise TypeError("callback must be the callback URL, its query string, or its parameters")
    query = callback
    if "?" in callback:
        query = callback.split("?", 1)[1]
    elif "://" in callback:
        query = ""
    query = query.split("#", 1)[0]
    parsed = parse_qs(query, keep_blank_values=True)
    if any(len(values) > 1 for values in parsed.values()):
        raise SignInError("the callback repeats a parameter (RFC 6749 section 3.1)")
    return {key: values[0] for key, values in parsed.items()}


def _state_matches(params: Mapping[str, str], expected: str) -> bool:
    state = params.get("state")
    return isinstance(state, str) and _same_secret(state, expected)


def _check_callback(params: Mapping[str, str], request: SignInRequest, issuer: str | None) -> str:
    """The authorization code of a valid callback; raises for anything else."""
    secrets_ = (request.state, request.code_verifier, request.nonce, params.get("code"))
    if not _state_matches(params, request.state):
        raise StateMismatchError(
            "the callback's state does not match this sign-in request (a forged or stale "
            "callback, or the state of another sign-in); sign in again"
        )
    error = params.get("error")
    if error is not None:
        code = safe_text(error, secrets_) or "error"
        description = safe_text(params.get("error_description") or "", secrets_) or None
        message = f"the authorization server did not sign the user in: {code}"
        raise AuthorizationDeniedError(
            message + (f": {description}" if description else ""),
            error=code,
            error_description=description,
        )
    returned_issuer = params.get("iss")
    if returned_issuer is not None and issuer is not None and returned_issuer != issuer:
        # RFC 9207: the response came from another authorization server (mix-up attack).
        raise SignInError("the callback's iss is not the issuer this sign-in was sent to")
    code_value = params.get("code")
    if not code_value:
        raise SignInError("the callback carries neither a code nor an error")
    return code_value


def _check_id_token(
    id_token: str, *, nonce: str | None, client_id: str, issuer: str | None, now: float
) -> None:
    """Check the ID token's nonce, audience, issuer and expiry (values never echoed)."""
    try:
        _, payload, _ = id_token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        raise SignInError("the ID token in the token response is not a JWT") from None
    if not isinstance(claims, dict):
        raise SignInError("the ID token in the token response is not a JWT")
    if nonce is not None:
        found = claims.get("nonce")
        if not isinstance(found, str) or not _same_secret(found, nonce):
            raise SignInError(
                "the ID token's nonce is not this sign-in's (a replayed or foreign ID token)"
            )
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise SignInError("the ID token was not issued to this client (aud)")
    if issuer is not None and claims.get("iss") != issuer:
        raise SignInError("the ID token's iss is not the issuer of the OpenID configuration")
    expires = claims.get("exp")
    if isinstance(expires, (int, float)) and not isinstance(expires, bool):
        if now > expires + _CLOCK_SKEW:
            raise SignInError("the ID token in the token response has expired")


class _CodeExchange(OAuth2Grant):
    """The authorization code grant's token request (RFC 6749 section 4.1.3, RFC 7636)."""

    grant_type = "authorization_code"

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str | None,
        auth_method: AuthMethod | None,
        code: str,
        request: SignInRequest,
    ) -> None:
        super().__init__(
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            auth_method=auth_method,
        )
        self._code = code
        self._request = request

    def _grant_params(self, current: TokenSetLike | None) -> dict[str, str]:
        return {
            "grant_type": "authorization_code",
            "code": self._code,
            "redirect_uri": self._request.redirect_uri,
            "code_verifier": self._request.code_verifier,
        }

    def _secrets(self, current: TokenSetLike | None) -> tuple[str | None, ...]:
        request = self._request
        extra = (self._code, request.code_verifier, request.state, request.nonce)
        return super()._secrets(current) + extra


# -- the loopback redirect (RFC 8252) --------------------------------------------------------

_PAGE = (
    "<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p></body></html>"
)
_RECEIVED = _PAGE.format(
    title="Sign-in received",
    text="You can close this window and return to the application.",
)
_NOT_COMPLETED = _PAGE.format(
    title="Sign-in not completed",
    text="The sign-in was not completed. You can close this window and return to the "
    "application.",
)
_NOT_EXPECTED = _PAGE.format(
    title="Unexpected sign-in response",
    text="This is not the sign-in response the application is waiting for.",
)
_NOT_FOUND = _PAGE.format(title="Not found", text="Nothing here.")


def _http_response(status: int, reason: str, page: str) -> bytes:
    body = page.encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "Referrer-Policy: no-referrer\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 for the authorization response.

    Answers every request with a short page; resolves with the parameters of the
    first request to ``path`` whose ``state`` matches and that carries a code or an
    error. Other paths, and callbacks with another state, are answered and ignored.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._state: str | None = None
        self._taken = False  # a valid callback arrived: no other one is accepted
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._result: asyncio.Future[dict[str, str]] | None = None

    async def start(self, port: int) -> str:
        """Listen; returns the redirect URI."""
        import asyncio

        self._result = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(
            self._handle, host=_LOOPBACK_HOST, port=port, limit=_MAX_REQUEST_HEAD
        )
        bound = self._server.sockets[0].getsockname()[1]
        return f"http://{_LOOPBACK_HOST}:{bound}{self._path}"

    def expect(self, state: str) -> None:
        self._state = state

    @property
    def result(self) -> asyncio.Future[dict[str, str]]:
        assert self._result is not None
        return self._result

    async def close(self) -> None:
        import asyncio

        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            writer.close()
        try:
            await asyncio.wait_for(server.wait_closed(), timeout=5)
        except asyncio.TimeoutError:  # pragma: no cover - a connection that will not close
            pass
        if self._result is not None and not self._result.done():
            self._result.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        import asyncio

        self._writers.add(writer)
        accepted = None
        try:
            try:
                head = await asyncio.wait_for(
                    reader.readuntil(b"\r\n\r\n"), timeout=_REQUEST_READ_TIMEOUT
                )
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                return
            except (asyncio.TimeoutError, ConnectionError):
                return
            answer, accepted = self._answer(head)
            writer.write(answer)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            # Resolved once the browser has its page: the listener closes right after.
            if accepted is not None and not self.result.done():
                self.result.set_result(accepted)

    def _answer(self, head: bytes) -> tuple[bytes, dict[str, str] | None]:
        """The response to send, and the callback's parameters if it is the one awaited."""
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "GET":
            return _http_response(405, "Method Not Allowed", _NOT_FOUND), None
        target = urlsplit(parts[1])
        if target.path != self._path or self._taken or self._state is None:
            return _http_response(404, "Not Found", _NOT_FOUND), None
        try:
            params = _callback_params("?" + target.query)
        except SignInError:
            return _http_response(400, "Bad Request", _NOT_EXPECTED), None
        if not _state_matches(params, self._state) or not (
            params.get("code") or params.get("error")
        ):
            logger.debug("ignored a callback that is not this sign-in's")
            return _http_response(400, "Bad Request", _NOT_EXPECTED), None
        self._taken = True
        if "error" in params:
            return _http_response(200, "OK", _NOT_COMPLETED), params
        return _http_response(200, "OK", _RECEIVED), params


def _print_url(url: str) -> None:
    print(f"To sign in, open this address in your browser:\n\n    {url}\n", file=sys.stderr)


def _open_system_browser(url: str) -> None:
    import webbrowser

    try:
        opened = webbrowser.open(url)
    except Exception:  # no usable browser: fall back to printing the address
        opened = False
    if not opened:
        _print_url(url)


def _opener(open_browser: BrowserOpener) -> Callable[[str], object]:
    if open_browser is True:
        return _open_system_browser
    if open_browser is False:
        return _print_url
    if callable(open_browser):
        return open_browser
    raise TypeError("open_browser must be True, False or a callable taking the URL")


def _is_async_callable(func: object) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(type(func), "__call__", None)
    )


async def _call_opener(opener: Callable[[str], object], url: str) -> None:
    import asyncio
    import concurrent.futures

    if _is_async_callable(opener):
        result = opener(url)
        if inspect.isawaitable(result):
            await result
        return
    # A sync opener may block (a console browser, a test user agent): a daemon thread
    # keeps it off the loop and never holds up the interpreter's exit.
    done: concurrent.futures.Future[object] = concurrent.futures.Future()

    def run() -> None:
        try:
            value = opener(url)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            done.set_exception(exc)
        else:
            done.set_result(value)

    threading.Thread(target=run, name="sign-in-browser", daemon=True).start()
    result = await asyncio.wrap_future(done)
    if inspect.isawaitable(result):
        await result


async def _receive_callback(
    receiver: _LoopbackReceiver, url: str, opener: Callable[[str], object], timeout: float
) -> dict[str, str]:
    """Open ``url`` and wait for the callback, the opener's failure, or the timeout."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    opening = asyncio.ensure_future(_call_opener(opener, url))
    waiting: set[asyncio.Future[Any]] = {receiver.result, opening}
    try:
        while not receiver.result.done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise CallbackTimeoutError(
                    f"no sign-in callback arrived within {timeout:g} s; sign in again"
                )
            done, _ = await asyncio.wait(
                waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            if opening in done:
                waiting.discard(opening)
                failure = opening.exception()
                if failure is not None and not receiver.result.done():
                    raise failure
        if not opening.done():
            # The browser has its page; an opener still running (one that reads the
            # page, or a console browser) gets a moment before it is let go.
            await asyncio.wait({opening}, timeout=_OPENER_GRACE)
        return receiver.result.result()
    finally:
        if not opening.done():
            opening.cancel()


def _run_on_worker_loop(make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine on a fresh event loop in a worker thread, from sync code.

    Works whether or not the calling thread runs an event loop. If the caller is
    interrupted (Ctrl-C), the coroutine is cancelled, so the listener closes.
    """
    import asyncio
    import concurrent.futures

    started = threading.Event()
    stop = threading.Event()
    handles: dict[str, Any] = {}

    async def main() -> _T:
        handles["loop"] = asyncio.get_running_loop()
        handles["task"] = asyncio.current_task()
        started.set()
        if stop.is_set():
            raise asyncio.CancelledError
        return await make()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sign-in") as pool:
        future = pool.submit(asyncio.run, main())
        try:
            return future.result()
        except BaseException:
            if not future.done():
                stop.set()
                if started.is_set():
                    handles["loop"].call_soon_threadsafe(handles["task"].cancel)
            raise


# -- the flow -----------------------------------------------------------------------------------


class SignInFlow(Generic[_S]):
    """Signs users in with the authorization code flow and PKCE, and builds their sessions.

    Usually made by ``Session.sign_in_flow(...)``, which fills in the endpoints and
    scopes of the API description. Configure one per application (it caches the
    discovery document) and use it for every sign-in.

    ``client_secret`` is for confidential clients (web apps); native apps are
    public clients and leave it out. ``redirect_uri`` is the web app's callback URL
    (native apps get a loopback one per sign-in). ``scopes`` default to the scopes
    the API description declares; ``extra_params`` are added to the authorization
    URL (``prompt``, ``login_hint``, ``audience``...).
    """

    def __init__(
        self,
        build_session: Callable[..., _S],
        defaults: SignInDefaults,
        *,
        client_id: str,
        client_secret: str | None = None,
        auth_method: AuthMethod | None = None,
        redirect_uri: str | None = None,
        scopes: Sequence[str] | str | None = None,
        authorization_url: str | None = None,
        token_url: str | None = None,
        revocation_url: str | None = None,
        openid_configuration_url: str | None = None,
        extra_params: Mapping[str, str] | None = None,
        clock: Clock = time.time,
        timeout: float | httpx.Timeout = 10.0,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("client_id must be a non-empty string")
        check_client_authentication(client_id, client_secret, auth_method)
        for name, url in (
            ("redirect_uri", redirect_uri),
            ("authorization_url", authorization_url),
            ("token_url", token_url),
            ("revocation_url", revocation_url),
        ):
            if url is not None:
                check_url(url, name)
        if not callable(clock):
            raise TypeError("clock must be a callable returning epoch seconds")
        self._build_session = build_session
        self._client_id = client_id
        self._client_secret = client_secret
        self._auth_method: AuthMethod | None = auth_method
        self._redirect_uri = redirect_uri
        self._scopes = parse_scopes(scopes) if scopes is not None else defaults.scopes
        self._extra_params = check_extra_params(extra_params, _AUTHORIZATION_PARAMS)
        self._clock = clock
        self._timeout = timeout
        self._http_client = http_client
        self._async_http_client = async_http_client
        self._given = ProviderMetadata(
            token_endpoint=token_url,
            authorization_endpoint=authorization_url,
            revocation_endpoint=revocation_url,
        )
        self._declared = ProviderMetadata(
            token_endpoint=defaults.token_url, authorization_endpoint=defaults.authorization_url
        )
        # Discovery named by the caller outranks the API description's URLs; the
        # description's own discovery document comes last, and is fetched only when
        # an endpoint is still missing.
        self._given_discovery = openid_configuration_url is not None
        discovery = openid_configuration_url or defaults.openid_configuration_url
        self._discovery = (
            TokenEndpoint(openid_configuration_url=discovery) if discovery is not None else None
        )

    def __repr__(self) -> str:
        parts = [f"client_id={self._client_id!r}"]
        if self._redirect_uri is not None:
            parts.append(f"redirect_uri={describe_url(self._redirect_uri)!r}")
        if self._scopes:
            parts.append(f"scopes={self._scopes!r}")
        return f"SignInFlow({', '.join(parts)})"

    # -- endpoints ------------------------------------------------------------------------

    def _needs_discovery(self) -> bool:
        if self._discovery is None:
            return False
        if self._given_discovery:
            return True
        for field in ("authorization_endpoint", "token_endpoint"):
            if getattr(self._given, field) is None and getattr(self._declared, field) is None:
                return True
        return False

    def _combine(self, discovered: ProviderMetadata | None) -> _Endpoints:
        layers = [self._given]
        if discovered is not None and self._given_discovery:
            layers.append(discovered)
        layers.append(self._declared)
        if discovered is not None and not self._given_discovery:
            layers.append(discovered)

        def pick(field: str) -> str | None:
            return next((v for v in (getattr(m, field) for m in layers) if v is not None), None)

        authorization, token = pick("authorization_endpoint"), pick("token_endpoint")
        if authorization is None or token is None:
            missing = "authorization_endpoint" if authorization is None else "token_endpoint"
            if discovered is not None and self._discovery is not None:
                where = describe_url(self._discovery.openid_configuration_url or "")
                message = f"the OpenID configuration at {where} has no {missing}"
            else:
                message = f"no {missing} is known for this API"
            argument = "authorization_url" if authorization is None else "token_url"
            raise SignInError(f"{message}; give {argument}= to sign in")
        return _Endpoints(
            authorization=authorization,
            token=token,
            revocation=pick("revocation_endpoint"),
            issuer=discovered.issuer if discovered is not None else None,
            openid=discovered is not None,
        )

    def _discovery_failed(self, exc: TokenRefreshError) -> SignInError:
        error = SignInError(f"cannot sign in: {exc}")
        error.__cause__ = exc
        return error

    def _endpoints(self, client: httpx.Client) -> _Endpoints:
        discovered = None
        if self._needs_discovery():
            assert self._discovery is not None
            try:
                discovered = self._discovery.metadata(client)
            except TokenRefreshError as exc:
                raise self._discovery_failed(exc) from None
        return self._combine(discovered)

    async def _async_endpoints(self, client: httpx.AsyncClient) -> _Endpoints:
        discovered = None
        if self._needs_discovery():
            assert self._discovery is not None
            try:
                discovered = await self._discovery.async_metadata(client)
            except TokenRefreshError as exc:
                raise self._discovery_failed(exc) from None
        return self._combine(discovered)

    # -- step 1 --------------------------------------------------------------------------

    def _request(
        self,
        endpoints: _Endpoints,
        redirect_uri: str | None,
        scopes: Sequence[str] | str | None,
    ) -> SignInRequest:
        redirect = redirect_uri or self._redirect_uri
        if redirect is None:
            raise ValueError("a web sign-in needs redirect_uri= (the app's callback URL)")
        check_url(redirect, "redirect_uri")
        scope_list = parse_scopes(scopes) if scopes is not None else self._scopes
        nonce = None
        if endpoints.openid:
            nonce = _random_token()
            if "openid" not in scope_list:
                scope_list = ("openid", *scope_list)
        verifier = _random_token(64)
        state = _random_token()
        params = [
            ("response_type", "code"),
            ("client_id", self._client_id),
            ("redirect_uri", redirect),
        ]
        if scope_list:
            params.append(("scope", " ".join(scope_list)))
        params += [
            ("state", state),
            ("code_challenge", _code_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ]
        if nonce is not None:
            params.append(("nonce", nonce))
        params += list(self._extra_params.items())
        parts = urlsplit(endpoints.authorization)
        query = urlencode(params, quote_via=quote)
        if parts.query:
            query = parts.query + "&" + query
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        logger.debug("sign-in request for %s", describe_url(endpoints.authorization))
        return SignInRequest(
            url=url,
            redirect_uri=redirect,
            state=state,
            code_verifier=verifier,
            nonce=nonce,
            scopes=scope_list,
        )

    def start(
        self, *, redirect_uri: str | None = None, scopes: Sequence[str] | str | None = None
    ) -> SignInRequest:
        """Step 1 of a web sign-in: the authorization URL and the state to keep.

        Send the browser to ``request.url``; keep ``request`` (or its ``to_dict()``)
        for :meth:`finish`.
        """
        with self._sync_client() as client:
            endpoints = self._endpoints(client)
        return self._request(endpoints, redirect_uri, scopes)

    async def async_start(
        self, *, redirect_uri: str | None = None, scopes: Sequence[str] | str | None = None
    ) -> SignInRequest:
        """Async twin of :meth:`start`."""
        async with self._async_client() as client:
            endpoints = await self._async_endpoints(client)
        return self._request(endpoints, redirect_uri, scopes)

    # -- step 2 --------------------------------------------------------------------------

    def finish(
        self,
        request: SignInRequest | Mapping[str, Any],
        callback: str | Mapping[str, str],
        *,
        on_refresh: Callable[[TokenSet], object] | None = None,
        on_revoke: Callable[[Any], object] | None = None,
        store: Any = None,
        leeway: float = 60.0,
    ) -> _S:
        """Step 2 of a web sign-in: check the callback, exchange the code, return a session.

        ``callback`` is the URL the browser was sent back to, its query string, or
        its query parameters as a mapping. ``on_refresh``, ``on_revoke``, ``store``
        and ``leeway`` are passed to the new session.
        """
        pending = self._pending(request)
        with self._sync_client() as client:
            endpoints = self._endpoints(client)
            code = _check_callback(_callback_params(callback), pending, endpoints.issuer)
            exchange = self._exchange(endpoints, code, pending)
            try:
                token_set = exchange.fetch(client, None, clock=self._clock)
            except SessionError as exc:
                raise self._exchange_failed(exc) from None
        return self._session(token_set, endpoints, pending, on_refresh, on_revoke, store, leeway)

    async def async_finish(
        self,
        request: SignInRequest | Mapping[str, Any],
        callback: str | Mapping[str, str],
        *,
        on_refresh: Callable[[TokenSet], object] | None = None,
        on_revoke: Callable[[Any], object] | None = None,
        store: Any = None,
        leeway: float = 60.0,
    ) -> _S:
        """Async twin of :meth:`finish`."""
        pending = self._pending(request)
        async with self._async_client() as client:
            endpoints = await self._async_endpoints(client)
            code = _check_callback(_callback_params(callback), pending, endpoints.issuer)
            exchange = self._exchange(endpoints, code, pending)
            try:
                token_set = await exchange.async_fetch(client, None, clock=self._clock)
            except SessionError as exc:
                raise self._exchange_failed(exc) from None
        return self._session(token_set, endpoints, pending, on_refresh, on_revoke, store, leeway)

    @staticmethod
    def _pending(request: SignInRequest | Mapping[str, Any]) -> SignInRequest:
        if isinstance(request, SignInRequest):
            return request
        if isinstance(request, Mapping):
            return SignInRequest.from_dict(request)
        raise TypeError("request must be the SignInRequest of step 1 or its to_dict()")

    def _exchange(self, endpoints: _Endpoints, code: str, request: SignInRequest) -> _CodeExchange:
        return _CodeExchange(
            token_url=endpoints.token,
            client_id=self._client_id,
            client_secret=self._client_secret,
            auth_method=self._auth_method,
            code=code,
            request=request,
        )

    @staticmethod
    def _exchange_failed(exc: SessionError) -> SignInError:
        if isinstance(exc, TokenRequestRejectedError):
            message = f"the token endpoint refused the authorization code: {exc.error}"
            if exc.status_code is not None:
                message += f" (HTTP {exc.status_code})"
            if exc.error_description:
                message += f": {exc.error_description}"
            error = SignInError(
                message + "; sign in again",
                error=exc.error,
                error_description=exc.error_description,
                status_code=exc.status_code,
            )
        else:
            status = exc.status_code if isinstance(exc, TokenEndpointUnavailableError) else None
            error = SignInError(
                f"the authorization code could not be exchanged: {exc}", status_code=status
            )
        error.__cause__ = exc
        return error

    def _session(
        self,
        token_set: TokenSet,
        endpoints: _Endpoints,
        request: SignInRequest,
        on_refresh: Callable[[TokenSet], object] | None,
        on_revoke: Callable[[Any], object] | None,
        store: Any,
        leeway: float,
    ) -> _S:
        if token_set.id_token is not None:
            _check_id_token(
                token_set.id_token,
                nonce=request.nonce,
                client_id=self._client_id,
                issuer=endpoints.issuer,
                now=self._clock(),
            )
        if not token_set.scopes and request.scopes:
            # RFC 6749 section 5.1: no scope in the response means the requested one.
            token_set = dataclasses.replace(token_set, scopes=request.scopes)
        refresher = None
        if token_set.refresh_token is not None:
            refresher = RefreshTokenGrant(
                token_url=endpoints.token,
                revocation_url=endpoints.revocation,
                client_id=self._client_id,
                client_secret=self._client_secret,
                auth_method=self._auth_method,
            )
        logger.debug("signed in (%s)", "refreshable" if refresher else "no refresh token")
        return self._build_session(
            token_set,
            refresher=refresher,
            on_refresh=on_refresh,
            on_revoke=on_revoke,
            store=store,
            leeway=leeway,
            clock=self._clock,
            timeout=self._timeout,
            http_client=self._http_client,
            async_http_client=self._async_http_client,
        )

    # -- native and command-line apps ----------------------------------------------------

    def sign_in(
        self,
        *,
        open_browser: BrowserOpener = True,
        callback_timeout: float = DEFAULT_CALLBACK_TIMEOUT,
        port: int = 0,
        path: str = DEFAULT_CALLBACK_PATH,
        scopes: Sequence[str] | str | None = None,
        on_refresh: Callable[[TokenSet], object] | None = None,
        on_revoke: Callable[[Any], object] | None = None,
        store: Any = None,
        leeway: float = 60.0,
    ) -> _S:
        """Sign the user in through the browser and a loopback redirect (RFC 8252).

        Listens on ``http://127.0.0.1:<port><path>`` (``port=0``: a free port; the
        authorization server must accept any port for a loopback redirect URI),
        opens the authorization URL (see :data:`BrowserOpener`), waits up to
        ``callback_timeout`` seconds for the callback, answers the browser with a
        short page, and returns the session. The listener is closed in every case.
        """
        opener = _opener(open_browser)
        _check_listener(port, path, callback_timeout)
        with self._sync_client() as client:
            endpoints = self._endpoints(client)

            async def listen() -> tuple[SignInRequest, dict[str, str]]:
                return await self._listen(endpoints, opener, callback_timeout, port, path, scopes)

            pending, params = _run_on_worker_loop(listen)
            code = _check_callback(params, pending, endpoints.issuer)
            try:
                token_set = self._exchange(endpoints, code, pending).fetch(
                    client, None, clock=self._clock
                )
            except SessionError as exc:
                raise self._exchange_failed(exc) from None
        return self._session(token_set, endpoints, pending, on_refresh, on_revoke, store, leeway)

    async def async_sign_in(
        self,
        *,
        open_browser: BrowserOpener = True,
        callback_timeout: float = DEFAULT_CALLBACK_TIMEOUT,
        port: int = 0,
        path: str = DEFAULT_CALLBACK_PATH,
        scopes: Sequence[str] | str | None = None,
        on_refresh: Callable[[TokenSet], object] | None = None,
        on_revoke: Callable[[Any], object] | None = None,
        store: Any = None,
        leeway: float = 60.0,
    ) -> _S:
        """Async twin of :meth:`sign_in` (an ``async def`` opener is awaited)."""
        opener = _opener(open_browser)
        _check_listener(port, path, callback_timeout)
        async with self._async_client() as client:
            endpoints = await self._async_endpoints(client)
            pending, params = await self._listen(
                endpoints, opener, callback_timeout, port, path, scopes
            )
            code = _check_callback(params, pending, endpoints.issuer)
            try:
                token_set = await self._exchange(endpoints, code, pending).async_fetch(
                    client, None, clock=self._clock
                )
            except SessionError as exc:
                raise self._exchange_failed(exc) from None
        return self._session(token_set, endpoints, pending, on_refresh, on_revoke, store, leeway)

    async def _listen(
        self,
        endpoints: _Endpoints,
        opener: Callable[[str], object],
        timeout: float,
        port: int,
        path: str,
        scopes: Sequence[str] | str | None,
    ) -> tuple[SignInRequest, dict[str, str]]:
        receiver = _LoopbackReceiver(path)
        try:
            redirect_uri = await receiver.start(port)
            pending = self._request(endpoints, redirect_uri, scopes)
            receiver.expect(pending.state)
            logger.debug("waiting for the sign-in callback on %s", redirect_uri)
            params = await _receive_callback(receiver, pending.url, opener, timeout)
        finally:
            await receiver.close()
        return pending, params

    # -- HTTP clients -------------------------------------------------------------------------

    def _sync_client(self) -> _Borrowed:
        if self._http_client is not None:
            return _Borrowed(self._http_client, owned=False)
        return _Borrowed(httpx.Client(timeout=self._timeout), owned=True)

    def _async_client(self) -> _AsyncBorrowed:
        if self._async_http_client is not None:
            return _AsyncBorrowed(self._async_http_client, owned=False)
        return _AsyncBorrowed(httpx.AsyncClient(timeout=self._timeout), owned=True)


def _check_listener(port: int, path: str, timeout: float) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError("port must be 0 (a free port) or a TCP port number")
    if not isinstance(path, str) or not path.startswith("/") or "?" in path or "#" in path:
        raise ValueError("path must be an absolute URL path such as '/callback'")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError("callback_timeout must be a number of seconds > 0")


class _Borrowed:
    """A client for a ``with`` block, closed at its end only if it was made for it."""

    def __init__(self, client: httpx.Client, *, owned: bool) -> None:
        self._client = client
        self._owned = owned

    def __enter__(self) -> httpx.Client:
        return self._client

    def __exit__(self, *exc_info: object) -> None:
        if self._owned:
            self._client.close()


class _AsyncBorrowed:
    def __init__(self, client: httpx.AsyncClient, *, owned: bool) -> None:
        self._client = client
        self._owned = owned

    async def __aenter__(self) -> httpx.AsyncClient:
        return self._client

    async def __aexit__(self, *exc_info: object) -> None:
        if self._owned:
            await self._client.aclose()
