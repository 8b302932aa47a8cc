"""The token session shared by every authenticated client.

One :class:`Session` serves any number of clients, sync and async, from any
number of threads and event loops. It holds a :class:`TokenSet` and, given a
refresher, keeps it fresh:

* proactively: a token that expires within ``leeway`` seconds is refreshed before
  it is handed out;
* reactively: :meth:`Session.refresh_after_rejection` refreshes after a 401 to a
  request that carried the current token;
* single flight: however many threads and tasks find the token stale at once, one
  token request is made; the others wait for it and share its outcome.

Contract used by the transport (keep it stable):

* ``Session.access_token() -> str`` / ``await Session.async_access_token() -> str``:
  a currently valid access token (refreshing first when needed).
* ``Session.refresh_after_rejection(rejected: str) -> str`` and its ``async_`` twin:
  called after a 401 to a request that carried ``rejected``; returns a token to
  replay with. Refreshes at most once per rejected token.
* ``Session.can_refresh -> bool``: whether a rejection can lead to a new token.

Beyond the contract, a session signs users in (:meth:`Session.sign_in`,
:meth:`Session.sign_in_flow`: the authorization code flow with PKCE, see
``signin``), signs them out (:meth:`Session.revoke`, RFC 7009), and shares its
tokens through a token store (``store=``, see ``store``) so that one refresh serves
several processes.

No secret (access token, refresh token, client secret) ever appears in a
``repr``, a log record or an exception message produced here.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import logging
import math
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Optional, TypeVar, Union, cast

import httpx

if TYPE_CHECKING:  # asyncio and concurrent.futures load on first refresh, not at import
    import asyncio
    import concurrent.futures

from .errors import SessionError, SessionExpiredError, TokenRefreshError
from .oauth import (
    AuthMethod,
    ClientCredentialsGrant,
    OAuth2Grant,
    RefreshTokenGrant,
    RevocationResult,
    TokenEndpoint,
    TokenGrant,
    is_grant,
)
from .signin import (
    DEFAULT_CALLBACK_TIMEOUT,
    AuthorizationDeniedError,
    BrowserOpener,
    CallbackTimeoutError,
    SignInDefaults,
    SignInError,
    SignInFlow,
    SignInRequest,
    StateMismatchError,
)
from .store import FileTokenStore, TokenStore, TokenStoreError
from .tokens import (
    Clock,
    InvalidTokenResponseError,
    TokenEndpointUnavailableError,
    TokenRequestRejectedError,
    TokenSet,
    TokenSetLike,
    is_token_set_like,
)

__all__ = [
    "AuthorizationDeniedError",
    "CallbackTimeoutError",
    "ClientCredentialsGrant",
    "Clock",
    "FileTokenStore",
    "InvalidTokenResponseError",
    "OAuth2Grant",
    "OnRefresh",
    "OnRevoke",
    "RefreshCallable",
    "RefreshTokenGrant",
    "Refresher",
    "RevocationResult",
    "Session",
    "SignInError",
    "SignInFlow",
    "SignInRequest",
    "StateMismatchError",
    "TokenEndpointUnavailableError",
    "TokenGrant",
    "TokenRequestRejectedError",
    "TokenSet",
    "TokenSetLike",
    "TokenStore",
    "TokenStoreError",
]

logger = logging.getLogger(__name__)

#: What a refresher callable may return: a token set, or a token response mapping.
RefreshResult = Union[TokenSetLike, Mapping[str, Any]]
#: A user refresher: takes the current token set (``None`` before the first token)
#: and returns a :data:`RefreshResult`, directly or as an awaitable (``async def``).
RefreshCallable = Callable[[Optional[TokenSet]], Union[RefreshResult, Awaitable[RefreshResult]]]
#: Anything a session can refresh with: a grant (of any generated package) or a callable.
Refresher = Union[TokenGrant, RefreshCallable]
#: Called with each new token set, once per refresh; may be ``async def``.
OnRefresh = Callable[[TokenSet], object]
#: Called once the session is signed out, with what the server revoked; may be ``async def``.
OnRevoke = Callable[[RevocationResult], object]

DEFAULT_LEEWAY = 60.0
DEFAULT_TIMEOUT = 10.0

_S = TypeVar("_S", bound="Session")
_T = TypeVar("_T")
_A = TypeVar("_A")


def _is_async_callable(func: object) -> bool:
    """``async def`` functions, partials of them, and objects with ``async def __call__``."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(type(func), "__call__", None)
    )


async def _await(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


# Refreshes are minutes apart: an idle keep-alive connection would only linger (and
# be dropped by the server long before the next refresh), so none are kept.
_TOKEN_LIMITS = httpx.Limits(max_keepalive_connections=0)
_ssl_lock = threading.Lock()
_ssl_default: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once per process (loading CAs is slow)."""
    global _ssl_default
    with _ssl_lock:
        if _ssl_default is None:
            _ssl_default = httpx.create_ssl_context()
        return _ssl_default


def _callable_name(func: object) -> str:
    # Never repr() a user callable: a functools.partial would show its arguments.
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"<{name}>"


class Session:
    """A refresh-aware holder of an OAuth 2.0 access token.

    Sign a user in (:meth:`sign_in` for native and command-line apps,
    :meth:`sign_in_flow` for web apps), build one from a stored token response
    (:meth:`from_token_response`), for the client credentials grant
    (:meth:`client_credentials`), or directly::

        Session(token_set, refresher=RefreshTokenGrant(token_url=..., client_id=...))
        Session(store=FileTokenStore("token.json"), refresher=RefreshTokenGrant(client_id=...))
        Session("a-fixed-token")  # never refreshed

    ``token_set`` is a :class:`TokenSet` (of this or any other generated package),
    an access token string, or ``None``. ``refresher`` is a
    :class:`RefreshTokenGrant`, a :class:`ClientCredentialsGrant` (of any generated
    package) or any callable (sync or ``async def``) taking the current
    :class:`TokenSet` (``None`` before the first token) and returning a token set
    or a token response mapping. To end the session for good from a callable,
    raise :class:`SessionExpiredError`; any other exception fails that one refresh
    with :class:`TokenRefreshError`.

    ``on_refresh`` (sync or ``async def``) is called once with every new token set
    the session obtains, before any caller gets the new token: use it to persist
    rotated refresh tokens. If it raises, the new token set is installed anyway
    (the server has issued it) and the exception reaches the caller whose call
    triggered the refresh.

    ``store`` (a :class:`FileTokenStore`, or any :class:`TokenStore`) keeps the
    token set across runs and processes: the session starts from the stored token
    set when ``token_set`` is not given (and saves ``token_set`` when it is), holds
    the store's lock around each refresh, takes a token set another process has
    just stored instead of refreshing again, saves every new token set before
    anyone uses it, and deletes it on :meth:`revoke`.

    ``on_revoke`` (sync or ``async def``) is called with the
    :class:`RevocationResult` once :meth:`revoke` has signed the session out.

    ``clock`` returns epoch seconds (default ``time.time``); ``timeout`` applies to
    token requests made with the session's own HTTP clients. Pass ``http_client`` /
    ``async_http_client`` to make token requests with your own clients (proxies,
    custom CA); the session never closes clients it was given.
    """

    #: Token endpoint URLs declared by the API description, by ``grant_type``
    #: (``"refresh_token"``, ``"client_credentials"``, ``"authorization_code"``).
    #: A generated package fills them in on its ``Session`` subclass; a grant built
    #: without ``token_url`` or ``openid_configuration_url`` uses them.
    default_token_urls: ClassVar[Mapping[str, str]] = {}
    #: The OpenID Connect discovery URL declared by the API description, used when
    #: ``default_token_urls`` has no entry for the grant type, and to sign in.
    default_openid_configuration_url: ClassVar[str | None] = None
    #: The authorization URL of the API description's oauth2 ``authorizationCode`` flow.
    default_authorization_url: ClassVar[str | None] = None
    #: The scopes the API description declares for its token scheme: what
    #: :meth:`sign_in` asks for unless given ``scopes=``.
    default_scopes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        token_set: TokenSetLike | str | None = None,
        *,
        refresher: Refresher | None = None,
        on_refresh: OnRefresh | None = None,
        store: TokenStore | None = None,
        on_revoke: OnRevoke | None = None,
        leeway: float = DEFAULT_LEEWAY,
        clock: Clock = time.time,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if isinstance(token_set, str):
            token_set = TokenSet(access_token=token_set)
        elif token_set is not None:
            if not is_token_set_like(token_set):
                raise TypeError("token_set must be a TokenSet, an access token string or None")
            token_set = TokenSet.coerce(token_set)
        grant: TokenGrant | None = None
        if refresher is not None:
            if is_grant(refresher):
                grant = cast(TokenGrant, refresher)
            elif not callable(refresher):
                raise TypeError("refresher must be an OAuth2Grant or a callable")
        if store is not None and not all(
            callable(getattr(store, name, None)) for name in ("load", "save", "delete", "lock")
        ):
            raise TypeError("store must be a TokenStore such as FileTokenStore(path)")
        save_to_store = token_set is not None and store is not None
        if token_set is None and store is not None:
            loaded = store.load()
            token_set = TokenSet.coerce(loaded) if loaded is not None else None
            if token_set is None and refresher is None:
                raise ValueError(f"the token store {store!r} is empty: sign in first")
        if token_set is None and refresher is None:
            raise ValueError("a Session needs a token set, a refresher, or both")
        if on_refresh is not None and not callable(on_refresh):
            raise TypeError("on_refresh must be callable")
        if on_revoke is not None and not callable(on_revoke):
            raise TypeError("on_revoke must be callable")
        if isinstance(leeway, bool) or not isinstance(leeway, (int, float)):
            raise TypeError("leeway must be a number of seconds")
        if not math.isfinite(leeway) or leeway < 0:
            raise ValueError("leeway must be a finite number of seconds >= 0")
        if not callable(clock):
            raise TypeError("clock must be a callable returning epoch seconds")
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError("http_client must be an httpx.Client")
        if async_http_client is not None and not isinstance(async_http_client, httpx.AsyncClient):
            raise TypeError("async_http_client must be an httpx.AsyncClient")

        self._fallback_endpoint: TokenEndpoint | None = None
        if grant is not None:
            try:
                grant.check_initial(token_set)
            except ValueError as exc:
                if store is not None and token_set is None:
                    raise ValueError(f"the token store {store!r} is empty: sign in first") from exc
                raise
            if grant.endpoint is None:
                self._fallback_endpoint = self._default_endpoint(grant.grant_type)
                if self._fallback_endpoint is None:
                    raise ValueError(
                        f"{type(grant).__name__} needs token_url= or "
                        "openid_configuration_url=: no default token endpoint is known "
                        f"for grant_type={grant.grant_type!r}"
                    )

        self._refresher = refresher
        self._grant = grant
        self._on_refresh = on_refresh
        self._on_revoke = on_revoke
        self._store = store
        self._leeway = float(leeway)
        self._clock = clock
        self._timeout = timeout
        self._http_client = http_client
        self._async_http_client = async_http_client

        # State, guarded by _lock. _lock is never held across I/O, a callback or an await.
        self._lock = threading.Lock()
        self._token: TokenSet | None = token_set
        self._refresh_at: float | None = self._deadline(token_set, now=None)
        self._flight: _Flight | None = None
        self._ended: SessionExpiredError | None = None

        self._client_lock = threading.Lock()
        self._owned_client: httpx.Client | None = None
        self._tasks: set[asyncio.Task[None]] = set()

        if save_to_store:
            assert store is not None and token_set is not None
            with store.lock():
                store.save(token_set)

    # -- alternative constructors ---------------------------------------------------------

    @classmethod
    def from_token_response(
        cls: type[_S],
        response: Mapping[str, Any],
        *,
        refresher: Refresher | None = None,
        on_refresh: OnRefresh | None = None,
        store: TokenStore | None = None,
        on_revoke: OnRevoke | None = None,
        leeway: float = DEFAULT_LEEWAY,
        clock: Clock = time.time,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> _S:
        """A session holding the token set of an RFC 6749 token response.

        ``response`` is the parsed JSON of a token response, or what
        :meth:`TokenSet.to_dict` stored; ``expires_in`` is counted from ``clock()``.
        """
        return cls(
            TokenSet.from_response(response, clock=clock),
            refresher=refresher,
            on_refresh=on_refresh,
            store=store,
            on_revoke=on_revoke,
            leeway=leeway,
            clock=clock,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
        )

    @classmethod
    def client_credentials(
        cls: type[_S],
        *,
        client_id: str,
        client_secret: str | None = None,
        token_url: str | None = None,
        openid_configuration_url: str | None = None,
        scopes: Sequence[str] | str | None = None,
        auth_method: AuthMethod | None = None,
        extra_params: Mapping[str, str] | None = None,
        on_refresh: OnRefresh | None = None,
        store: TokenStore | None = None,
        leeway: float = DEFAULT_LEEWAY,
        clock: Clock = time.time,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> _S:
        """A session that obtains its tokens with the client credentials grant.

        The first token is fetched lazily, by the first call that needs one (or
        taken from ``store``, which lets several processes share one token).
        """
        grant = ClientCredentialsGrant(
            client_id=client_id,
            client_secret=client_secret,
            token_url=token_url,
            openid_configuration_url=openid_configuration_url,
            auth_method=auth_method,
            scopes=scopes,
            extra_params=extra_params,
        )
        return cls(
            None,
            refresher=grant,
            on_refresh=on_refresh,
            store=store,
            leeway=leeway,
            clock=clock,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
        )

    @classmethod
    def sign_in_flow(
        cls: type[_S],
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
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> SignInFlow[_S]:
        """A :class:`SignInFlow` that signs users in and returns sessions of this class.

        For web apps: ``flow.start()`` gives the authorization URL and the state to
        keep; ``flow.finish(state, callback_url)`` gives the session. The endpoints
        and scopes default to the API description's; any URL given here wins (each
        institution may have its own), ``openid_configuration_url`` included.
        """
        defaults = SignInDefaults(
            authorization_url=cls.default_authorization_url,
            token_url=cls.default_token_urls.get("authorization_code"),
            openid_configuration_url=cls.default_openid_configuration_url,
            scopes=tuple(cls.default_scopes),
        )
        return SignInFlow(
            cls,
            defaults,
            client_id=client_id,
            client_secret=client_secret,
            auth_method=auth_method,
            redirect_uri=redirect_uri,
            scopes=scopes,
            authorization_url=authorization_url,
            token_url=token_url,
            revocation_url=revocation_url,
            openid_configuration_url=openid_configuration_url,
            extra_params=extra_params,
            clock=clock,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
        )

    @classmethod
    def sign_in(
        cls: type[_S],
        *,
        client_id: str,
        client_secret: str | None = None,
        auth_method: AuthMethod | None = None,
        scopes: Sequence[str] | str | None = None,
        open_browser: BrowserOpener = True,
        callback_timeout: float = DEFAULT_CALLBACK_TIMEOUT,
        port: int = 0,
        authorization_url: str | None = None,
        token_url: str | None = None,
        revocation_url: str | None = None,
        openid_configuration_url: str | None = None,
        extra_params: Mapping[str, str] | None = None,
        on_refresh: OnRefresh | None = None,
        store: TokenStore | None = None,
        on_revoke: OnRevoke | None = None,
        leeway: float = DEFAULT_LEEWAY,
        clock: Clock = time.time,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> _S:
        """Sign the user in through the system browser (native and command-line apps).

        Listens on ``http://127.0.0.1:<free port>/callback`` (RFC 8252), opens the
        authorization URL in the browser (``open_browser=False``, or no browser:
        the URL is printed; a callable: it is given the URL), waits up to
        ``callback_timeout`` seconds for the user, and returns the session. With
        ``store=``, the session's tokens are saved there.
        """
        flow = cls.sign_in_flow(
            client_id=client_id,
            client_secret=client_secret,
            auth_method=auth_method,
            scopes=scopes,
            authorization_url=authorization_url,
            token_url=token_url,
            revocation_url=revocation_url,
            openid_configuration_url=openid_configuration_url,
            extra_params=extra_params,
            clock=clock,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        return flow.sign_in(
            open_browser=open_browser,
            callback_timeout=callback_timeout,
            port=port,
            on_refresh=on_refresh,
            on_revoke=on_revoke,
            store=store,
            leeway=leeway,
        )

    @classmethod
    async def async_sign_in(
        cls: type[_S],
        *,
        client_id: str,
        client_secret: str | None = None,
        auth_method: AuthMethod | None = None,
        scopes: Sequence[str] | str | None = None,
        open_browser: BrowserOpener = True,
        callback_timeout: float = DEFAULT_CALLBACK_TIMEOUT,
        port: int = 0,
        authorization_url: str | None = None,
        token_url: str | None = None,
        revocation_url: str | None = None,
        openid_configuration_url: str | None = None,
        extra_params: Mapping[str, str] | None = None,
        on_refresh: OnRefresh | None = None,
        store: TokenStore | None = None,
        on_revoke: OnRevoke | None = None,
        leeway: float = DEFAULT_LEEWAY,
        clock: Clock = time.time,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> _S:
        """Async twin of :meth:`sign_in` (``open_browser`` may be ``async def``)."""
        flow = cls.sign_in_flow(
            client_id=client_id,
            client_secret=client_secret,
            auth_method=auth_method,
            scopes=scopes,
            authorization_url=authorization_url,
            token_url=token_url,
            revocation_url=revocation_url,
            openid_configuration_url=openid_configuration_url,
            extra_params=extra_params,
            clock=clock,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        return await flow.async_sign_in(
            open_browser=open_browser,
            callback_timeout=callback_timeout,
            port=port,
            on_refresh=on_refresh,
            on_revoke=on_revoke,
            store=store,
            leeway=leeway,
        )

    @classmethod
    def _default_endpoint(cls, grant_type: str) -> TokenEndpoint | None:
        url = cls.default_token_urls.get(grant_type)
        if url:
            return TokenEndpoint(token_url=url)
        if cls.default_openid_configuration_url:
            return TokenEndpoint(openid_configuration_url=cls.default_openid_configuration_url)
        return None

    # -- inspection -----------------------------------------------------------------------

    def __repr__(self) -> str:
        with self._lock:
            token, ended = self._token, self._ended is not None
        state = "ended" if ended else ("active" if token is not None else "no token yet")
        refresher: str
        if self._refresher is None:
            refresher = "None"
        elif self._grant is not None:
            refresher = repr(self._grant)
        else:
            refresher = _callable_name(self._refresher)
        store = f", store={self._store!r}" if self._store is not None else ""
        return f"{type(self).__name__}({state}, token_set={token!r}, refresher={refresher}{store})"

    __str__ = __repr__

    @property
    def token_set(self) -> TokenSet | None:
        """The current token set (``None`` before a lazily fetched first token)."""
        with self._lock:
            return self._token

    @property
    def can_refresh(self) -> bool:
        """Whether the session has a refresher (``False`` for a fixed token)."""
        return self._refresher is not None

    @property
    def leeway(self) -> float:
        """Seconds before expiry at which a token is refreshed proactively."""
        return self._leeway

    @property
    def store(self) -> TokenStore | None:
        """The token store given to the session, if any."""
        return self._store

    def set_token_set(self, token_set: TokenSetLike) -> None:
        """Replace the token set, e.g. after signing the user in again.

        Accepts a :class:`TokenSet` of any generated package. This also revives a
        session that ended with :class:`SessionExpiredError` (or was revoked), and
        saves the token set to the store, if any. ``on_refresh`` is not called. A
        refresh already in flight still installs its own result when it completes.
        """
        if not is_token_set_like(token_set):
            raise TypeError("token_set must be a TokenSet")
        token = TokenSet.coerce(token_set)
        if self._grant is not None:
            self._grant.check_initial(token)
        if self._store is not None:
            with self._store.lock():
                self._store.save(token)
        with self._lock:
            self._token = token
            self._refresh_at = self._deadline(token, now=None)
            self._ended = None

    # -- the transport contract: sync -----------------------------------------------------

    def access_token(self) -> str:
        """A valid access token, refreshed first if it expires within the leeway."""
        fresh = self._fresh_token()
        if fresh is not None:
            return fresh.access_token
        token, flight, lead, current = self._enter(_USE, None, is_async=False)
        if token is not None:
            return token.access_token
        return self._complete_sync(flight, lead, current, _USE, None).access_token

    def refresh_after_rejection(self, rejected: str) -> str:
        """A token to replay with after a 401 to a request that carried ``rejected``.

        Refreshes (single flight) only while the session's token is still
        ``rejected``; if another caller has already replaced it, returns the
        current token without a new token request.
        """
        token, flight, lead, current = self._enter(_REJECTED, rejected, is_async=False)
        if token is not None:
            return token.access_token
        return self._complete_sync(flight, lead, current, _REJECTED, rejected).access_token

    def refresh(self) -> TokenSet:
        """Refresh now, whatever the expiry (joins a refresh already in flight)."""
        token, flight, lead, current = self._enter(_FORCE, None, is_async=False)
        if token is not None:
            return token
        return self._complete_sync(flight, lead, current, _FORCE, None)

    # -- the transport contract: async ----------------------------------------------------

    async def async_access_token(self) -> str:
        """A valid access token, refreshed first if it expires within the leeway.

        Never blocks the event loop while another thread or task refreshes.
        """
        fresh = self._fresh_token()
        if fresh is not None:
            return fresh.access_token
        token, flight, lead, current = self._enter(_USE, None, is_async=True)
        if token is not None:
            return token.access_token
        return (await self._complete_async(flight, lead, current, _USE, None)).access_token

    async def async_refresh_after_rejection(self, rejected: str) -> str:
        """Async twin of :meth:`refresh_after_rejection`."""
        token, flight, lead, current = self._enter(_REJECTED, rejected, is_async=True)
        if token is not None:
            return token.access_token
        return (await self._complete_async(flight, lead, current, _REJECTED, rejected)).access_token

    async def async_refresh(self) -> TokenSet:
        """Async twin of :meth:`refresh`."""
        token, flight, lead, current = self._enter(_FORCE, None, is_async=True)
        if token is not None:
            return token
        return await self._complete_async(flight, lead, current, _FORCE, None)

    # -- signing out --------------------------------------------------------------------------

    def revoke(self) -> RevocationResult:
        """Sign out: end the session and revoke its tokens at the server (RFC 7009).

        At once, every call that needs a token raises :class:`SessionExpiredError`
        without any network traffic (a refresh in flight is waited for first, so
        its tokens are revoked too). Then the stored token set is deleted, the
        refresh token and the access token are revoked where the server supports it,
        and ``on_revoke`` is called with the result. With no revocation endpoint
        (from ``revocation_url=`` or discovery) the session is cleared locally only,
        and the result says so (``result.locally_only``). A server or network
        failure does not raise: it is in ``result.not_revoked``.
        """
        flight = self._begin_sign_out()
        if flight is not None and not flight.is_reentrant(is_async=False):
            try:
                flight.future.result()
            except Exception:  # a failed refresh leaves the old tokens to revoke
                pass
        token = self._take_tokens()
        store_error = self._delete_stored()
        result = self._revoke_remotely_sync(token)
        callback = self._on_revoke
        if callback is not None:
            outcome = callback(result)
            if inspect.isawaitable(outcome):
                _Flight(is_async=False).run_on_fresh_loop(outcome)
        if store_error is not None:
            raise store_error
        return result

    async def async_revoke(self) -> RevocationResult:
        """Async twin of :meth:`revoke`."""
        import asyncio

        flight = self._begin_sign_out()
        if flight is not None and not flight.is_reentrant(is_async=True):
            try:
                await asyncio.wrap_future(flight.future)
            except Exception:
                pass
        token = self._take_tokens()
        store_error = await asyncio.to_thread(self._delete_stored)
        result = await self._revoke_remotely_async(token)
        callback = self._on_revoke
        if callback is not None:
            if _is_async_callable(callback):
                outcome = callback(result)
            else:
                outcome = await asyncio.to_thread(callback, result)
            if inspect.isawaitable(outcome):
                await outcome
        if store_error is not None:
            raise store_error
        return result

    def _begin_sign_out(self) -> _Flight | None:
        ended = SessionExpiredError("the session was signed out (revoked); sign in again")
        with self._lock:
            self._ended = ended
            return self._flight

    def _take_tokens(self) -> TokenSet | None:
        with self._lock:
            token, self._token = self._token, None
            self._refresh_at = None
        logger.debug("session signed out")
        return token

    def _delete_stored(self) -> Exception | None:
        store = self._store
        if store is None:
            return None
        try:
            with store.lock():
                store.delete()
        except Exception as exc:  # reported after the tokens are revoked
            return exc
        return None

    def _revocation_plan(self, token: TokenSet | None) -> RevocationResult | None:
        """The result when nothing can be sent to a server, else ``None``."""
        if token is None:
            return RevocationResult(endpoint=None)
        if self._grant is None or not callable(getattr(self._grant, "revoke", None)):
            held = ["access_token"] + (["refresh_token"] if token.refresh_token else [])
            reason = "the session has no OAuth grant to revoke with; cleared locally only"
            return RevocationResult(
                endpoint=None, not_revoked=tuple(f"{kind}: {reason}" for kind in held)
            )
        return None

    def _revoke_remotely_sync(self, token: TokenSet | None) -> RevocationResult:
        local = self._revocation_plan(token)
        if local is not None:
            return local
        assert self._grant is not None and token is not None
        result = self._grant.revoke(
            self._sync_client(), token, fallback_endpoint=self._fallback_endpoint
        )
        return _own_revocation_result(result)

    async def _revoke_remotely_async(self, token: TokenSet | None) -> RevocationResult:
        local = self._revocation_plan(token)
        if local is not None:
            return local
        assert self._grant is not None and token is not None
        if self._async_http_client is not None:
            result = await self._grant.async_revoke(
                self._async_http_client, token, fallback_endpoint=self._fallback_endpoint
            )
        else:
            async with httpx.AsyncClient(
                timeout=self._timeout, verify=_ssl_context(), limits=_TOKEN_LIMITS
            ) as client:
                result = await self._grant.async_revoke(
                    client, token, fallback_endpoint=self._fallback_endpoint
                )
        return _own_revocation_result(result)

    # -- resources ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client the session created for token requests, if any.

        Clients passed in by the caller are left open. The session stays usable:
        a later refresh opens a new client.
        """
        with self._client_lock:
            client, self._owned_client = self._owned_client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Async twin of :meth:`close` (async token requests use short-lived clients)."""
        self.close()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self: _S) -> _S:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- state, under _lock ---------------------------------------------------------------

    def _deadline(self, token: TokenSet | None, *, now: float | None) -> float | None:
        """When ``token`` becomes due for a proactive refresh.

        ``now`` is given for a freshly issued token: its leeway is then capped at half
        its lifetime, so a token that lives less than twice the leeway is not
        refreshed again on every call.
        """
        if token is None or token.expires_at is None:
            return None
        leeway = self._leeway
        if now is not None:
            leeway = min(leeway, max(token.expires_at - now, 0.0) / 2)
        return token.expires_at - leeway

    def _ended_error_locked(self) -> SessionExpiredError:
        assert self._ended is not None
        try:
            error = copy.copy(self._ended)
        except Exception:
            error = SessionExpiredError(str(self._ended))
        error.__cause__ = None
        error.__context__ = None
        error.__traceback__ = None
        return error

    def _fresh_token(self) -> TokenSet | None:
        """The current token when it is plainly usable, read without the lock: the common case
        of every call. Anything else (no token, ended, due for a refresh) takes the locked path,
        which decides exactly as ``_usable_locked`` does."""
        token, refresh_at = self._token, self._refresh_at
        if token is None or self._ended is not None:
            return None
        if self._refresher is None:
            return None if token.expires_within(0.0, now=self._clock()) else token
        return token if refresh_at is None or self._clock() < refresh_at else None

    def _usable_locked(self) -> TokenSet | None:
        """The current token if it may be handed out as is, else ``None`` (refresh)."""
        if self._ended is not None:
            raise self._ended_error_locked()
        token = self._token
        if token is None:
            return None
        if self._refresher is None:
            if token.expires_within(0.0, now=self._clock()):
                raise SessionExpiredError(
                    "the access token has expired and this session has no refresher"
                )
            return token
        if self._refresh_at is not None and self._clock() >= self._refresh_at:
            return None
        return token

    def _check_refreshable_locked(self) -> None:
        if self._ended is not None:
            raise self._ended_error_locked()
        if self._refresher is None:
            raise SessionExpiredError("this session has no refresher; it cannot get a new token")

    def _enter(
        self, mode: int, rejected: str | None, *, is_async: bool
    ) -> tuple[TokenSet | None, _Flight, bool, TokenSet | None]:
        """Decide, under the lock, between "use this token" and "wait for a refresh".

        Returns ``(token, _, _, _)`` when a token can be handed out now, else
        ``(None, flight, lead, current)``: the flight to wait for, whether the caller
        started it (and so must perform it), and the token set it refreshes from.
        """
        with self._lock:
            if mode == _USE:
                token = self._usable_locked()
            elif mode == _REJECTED:
                self._check_refreshable_locked()
                token = self._token
                if token is not None and token.access_token != rejected:
                    # Someone already replaced the rejected token: use the current one
                    # (after the usual proactive check).
                    token = self._usable_locked()
                else:
                    token = None
            else:
                self._check_refreshable_locked()
                token = None
            if token is not None:
                return token, _NO_FLIGHT, False, None
            current = self._token
            flight = self._flight
            if flight is None:
                flight = self._flight = _Flight(is_async=is_async)
                return None, flight, True, current
            if flight.is_reentrant(is_async=is_async):
                # A refresher or on_refresh callback (or sync code on the loop that runs
                # the refresh) asks for a token: waiting for the flight would deadlock.
                if flight.pending is not None:
                    return flight.pending, _NO_FLIGHT, False, None
                raise RuntimeError(
                    "a token was requested from this session by code that the refresh in "
                    "progress is waiting for (the refresher itself, or sync code on the "
                    "event loop running the refresh); waiting would deadlock"
                )
            return None, flight, False, current

    # -- completing a flight ----------------------------------------------------------------

    def _as_session_error(self, exc: BaseException) -> SessionError:
        if isinstance(exc, SessionError):
            return exc
        if isinstance(exc, Exception):
            error = TokenRefreshError(f"the refresher raised {type(exc).__name__}")
        else:
            error = TokenRefreshError(f"the token refresh was interrupted ({type(exc).__name__})")
        error.__cause__ = exc
        return error

    def _fail(self, flight: _Flight, exc: BaseException) -> None:
        error = self._as_session_error(exc)
        with self._lock:
            if self._flight is flight:
                self._flight = None
            if isinstance(error, SessionExpiredError):
                self._ended = error
        logger.debug("token refresh failed: %s", error)
        flight.future.set_exception(error)

    def _install(self, flight: _Flight, token: TokenSet) -> None:
        try:
            now: float | None = self._clock()
        except Exception:  # a broken clock must not strand the waiters
            now = None
        with self._lock:
            self._token = token
            self._refresh_at = self._deadline(token, now=now)
            if self._flight is flight:
                self._flight = None
        if token.expires_at is None or now is None:
            logger.debug("access token refreshed")
        else:
            logger.debug("access token refreshed (expires in %.0f s)", token.expires_at - now)
        flight.future.set_result(token)

    @staticmethod
    def _merge(current: TokenSet | None, new: TokenSet) -> TokenSet:
        """Carry over what a token response may leave out (RFC 6749 sections 5.1, 6)."""
        if current is None:
            return new
        changes: dict[str, Any] = {}
        if new.refresh_token is None and current.refresh_token is not None:
            changes["refresh_token"] = current.refresh_token
        if not new.scopes and current.scopes:
            changes["scopes"] = current.scopes
        if new.id_token is None and current.id_token is not None:
            changes["id_token"] = current.id_token
        return dataclasses.replace(new, **changes) if changes else new

    def _coerce(self, result: object) -> TokenSet:
        if isinstance(result, TokenSet):
            return result
        if is_token_set_like(result):
            return TokenSet.coerce(cast(TokenSetLike, result))
        if isinstance(result, Mapping):
            return TokenSet.from_response(result, clock=self._clock)
        raise TokenRefreshError(
            f"the refresher returned {type(result).__name__}; "
            "expected a TokenSet or a token response mapping"
        )

    # -- the token store ---------------------------------------------------------------------

    def _reconcile(
        self, stored: TokenSet | None, current: TokenSet | None, mode: int, rejected: str | None
    ) -> tuple[TokenSet | None, bool]:
        """What to refresh from, and whether the stored token set can be used as is.

        Called with the store's lock held. Another process may have refreshed while
        this one waited for the lock: its token set is then in the store, newer than
        ``current``, and (with rotation) the only one whose refresh token still works.
        """
        if stored is None:
            if current is not None and current.refresh_token is not None:
                raise SessionExpiredError(
                    "the token store is empty: the session was signed out elsewhere, or its "
                    "stored tokens were deleted; sign in again"
                )
            return current, False
        fresh = stored.expires_at is None or self._clock() < stored.expires_at - self._leeway
        newer = current is None or stored.access_token != current.access_token
        if mode != _FORCE and newer and fresh and stored.access_token != rejected:
            return stored, True
        return stored, False

    def _load_store(self, store: TokenStore) -> TokenSet | None:
        loaded = store.load()
        return TokenSet.coerce(loaded) if loaded is not None else None

    # -- sync path ------------------------------------------------------------------------

    def _complete_sync(
        self,
        flight: _Flight,
        lead: bool,
        current: TokenSet | None,
        mode: int,
        rejected: str | None,
    ) -> TokenSet:
        if lead:
            self._lead_sync(flight, current, mode, rejected)
        return flight.future.result()

    def _lead_sync(
        self, flight: _Flight, current: TokenSet | None, mode: int, rejected: str | None
    ) -> None:
        self._log_start(current, mode)
        try:
            new, adopted, store_error = self._obtain_and_store_sync(flight, current, mode, rejected)
        except BaseException as exc:
            self._fail(flight, exc)
            if not isinstance(exc, Exception):
                raise
            return
        if adopted:
            self._adopt(flight, new)
        else:
            self._persist_sync(flight, new, store_error)

    def _log_start(self, current: TokenSet | None, mode: int) -> None:
        reason = ("expiring", "rejected", "requested")[mode] if current else "first token"
        logger.debug("refreshing the access token (%s)", reason)

    def _adopt(self, flight: _Flight, stored: TokenSet) -> None:
        logger.debug("another process refreshed: using the token set it stored")
        self._install(flight, stored)

    def _obtain_and_store_sync(
        self, flight: _Flight, current: TokenSet | None, mode: int, rejected: str | None
    ) -> tuple[TokenSet, bool, Exception | None]:
        """The new token set, whether it came from the store, and a failure to store it.

        The token request and the store's update happen under the store's lock; a
        failure to save does not lose the token set (the server has issued it).
        """
        store = self._store
        if store is None:
            return self._merge(current, self._obtain_sync(flight, current)), False, None
        with store.lock():
            base, adopt = self._reconcile(self._load_store(store), current, mode, rejected)
            if adopt:
                assert base is not None
                return base, True, None
            new = self._merge(base, self._obtain_sync(flight, base))
            try:
                store.save(new)
            except Exception as exc:
                return new, False, exc
            return new, False, None

    def _persist_sync(self, flight: _Flight, new: TokenSet, store_error: Exception | None) -> None:
        """Call ``on_refresh`` and install ``new``; then raise what went wrong, if anything."""
        flight.pending = new
        try:
            if self._on_refresh is not None:
                result = self._on_refresh(new)
                if inspect.isawaitable(result):
                    flight.run_on_fresh_loop(result)
        finally:
            self._install(flight, new)
        if store_error is not None:
            raise store_error

    def _obtain_sync(self, flight: _Flight, current: TokenSet | None) -> TokenSet:
        refresher = self._refresher
        assert refresher is not None
        if self._grant is not None:
            return TokenSet.coerce(
                self._grant.fetch(
                    self._sync_client(),
                    current,
                    clock=self._clock,
                    fallback_endpoint=self._fallback_endpoint,
                )
            )
        callable_refresher = cast(RefreshCallable, refresher)
        result: object = callable_refresher(current)
        if inspect.isawaitable(result):
            result = flight.run_on_fresh_loop(result)
        return self._coerce(result)

    def _sync_client(self) -> httpx.Client:
        if self._http_client is not None:
            return self._http_client
        with self._client_lock:
            if self._owned_client is None:
                self._owned_client = httpx.Client(
                    timeout=self._timeout, verify=_ssl_context(), limits=_TOKEN_LIMITS
                )
            return self._owned_client

    # -- async path -----------------------------------------------------------------------

    async def _complete_async(
        self,
        flight: _Flight,
        lead: bool,
        current: TokenSet | None,
        mode: int,
        rejected: str | None,
    ) -> TokenSet:
        import asyncio

        if not lead:
            return await asyncio.wrap_future(flight.future)
        try:
            # The refresh runs in its own task, so cancelling the caller that started it
            # cannot abandon the others, nor lose a rotated refresh token mid-response.
            task = asyncio.get_running_loop().create_task(
                self._lead_async(flight, current, mode, rejected)
            )
        except BaseException as exc:
            self._fail(flight, exc)
            raise
        flight.task = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._task_done(flight, done))
        try:
            await asyncio.shield(task)  # raises what on_refresh raised, if anything
        except asyncio.CancelledError:
            if not task.cancelled() or _cancel_requested(flight.future.done()):
                raise  # this caller was cancelled; the refresh carries on for the others
            # The refresh task itself was cancelled: the refresh has failed, or goes on
            # in its worker thread. Either way its outcome arrives like the waiters'.
            return await asyncio.wrap_future(flight.future)
        return flight.future.result()

    def _task_done(self, flight: _Flight, task: asyncio.Task[None]) -> None:
        import asyncio

        self._tasks.discard(task)
        if not flight.future.done() and not flight.handed_to_worker:
            # Cancelled before it ever ran (its loop shutting down): the waiters must
            # still hear about it.
            self._fail(flight, asyncio.CancelledError())

    def _refreshes_off_loop(self) -> bool:
        """Whether an async refresh makes its token request in a worker thread.

        A loop that shuts down cancels its tasks: a token request in a thread of
        its own goes on, so a token response the server has sent is never lost.
        Only ``async def`` refreshers and a caller's ``async_http_client`` (bound to
        the caller's loop) run on the loop.
        """
        if self._grant is not None:
            return self._async_http_client is None
        return not _is_async_callable(self._refresher)

    async def _lead_async(
        self, flight: _Flight, current: TokenSet | None, mode: int, rejected: str | None
    ) -> None:
        self._log_start(current, mode)
        if self._refreshes_off_loop():
            await self._lead_off_loop(flight, current, mode, rejected)
            return
        try:
            new, adopted, store_error = await self._obtain_and_store_async(
                flight, current, mode, rejected
            )
        except BaseException as exc:
            self._fail(flight, exc)
            if not isinstance(exc, Exception):
                raise
            return
        if adopted:
            self._adopt(flight, new)
        else:
            await self._persist_async(flight, new, store_error)

    async def _lead_off_loop(
        self, flight: _Flight, current: TokenSet | None, mode: int, rejected: str | None
    ) -> None:
        import asyncio

        loop_callback = self._on_refresh is not None and _is_async_callable(self._on_refresh)
        worker = _start_thread(
            "session-refresh",
            lambda: self._refresh_in_worker(flight, current, mode, rejected, loop_callback),
        )
        try:
            handed = await asyncio.wrap_future(worker)
        except asyncio.CancelledError:
            # This loop is going away: the worker finishes the refresh on its own,
            # or, if it has already handed the new token set over, a new thread does.
            pending = flight.hand_to_worker()
            if pending is not None:
                finishing = _start_thread(
                    "session-refresh", lambda: self._persist_in_worker(flight, *pending)
                )
                finishing.add_done_callback(_log_lost_error)
            worker.add_done_callback(_log_lost_error)
            raise
        if handed is not None:
            taken = flight.take_handover()
            if taken is not None:
                await self._persist_async(flight, *taken)

    def _refresh_in_worker(
        self,
        flight: _Flight,
        current: TokenSet | None,
        mode: int,
        rejected: str | None,
        loop_callback: bool,
    ) -> bool | None:
        """The token request of an async refresh, in a worker thread.

        Returns ``True`` when the new token set was handed over to the loop (for an
        ``async def`` on_refresh), ``None`` when the refresh is complete.
        """
        flight.enter_thread()
        try:
            try:
                new, adopted, store_error = self._obtain_and_store_sync(
                    flight, current, mode, rejected
                )
            except BaseException as exc:  # noqa: BLE001 - every waiter gets it
                self._fail(flight, exc)
                return None
            if adopted:
                self._adopt(flight, new)
                return None
            if loop_callback and flight.hand_over(new, store_error):
                return True
            self._persist_sync(flight, new, store_error)
            return None
        finally:
            flight.leave_thread()

    def _persist_in_worker(
        self, flight: _Flight, new: TokenSet, store_error: Exception | None
    ) -> None:
        flight.enter_thread()
        try:
            self._persist_sync(flight, new, store_error)
        finally:
            flight.leave_thread()

    async def _obtain_and_store_async(
        self, flight: _Flight, current: TokenSet | None, mode: int, rejected: str | None
    ) -> tuple[TokenSet, bool, Exception | None]:
        """Async twin of :meth:`_obtain_and_store_sync` (the refresher runs on the loop)."""
        store = self._store
        if store is None:
            return self._merge(current, await self._obtain_async(flight, current)), False, None
        release = await _lock_off_loop(store)
        try:
            # Small local reads and writes, done on the loop so that the lock is never
            # released while a write is still going on in some thread.
            base, adopt = self._reconcile(self._load_store(store), current, mode, rejected)
            if adopt:
                assert base is not None
                return base, True, None
            new = self._merge(base, await self._obtain_async(flight, base))
            try:
                store.save(new)
            except Exception as exc:
                return new, False, exc
            return new, False, None
        finally:
            release()

    async def _persist_async(
        self, flight: _Flight, new: TokenSet, store_error: Exception | None
    ) -> None:
        """Async twin of :meth:`_persist_sync`: ``on_refresh`` runs on this loop."""
        flight.pending = new
        try:
            callback = self._on_refresh
            if callback is not None:
                if _is_async_callable(callback):
                    result = callback(new)
                else:
                    result = await flight.to_thread(callback, new)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._install(flight, new)
        if store_error is not None:
            raise store_error

    async def _obtain_async(self, flight: _Flight, current: TokenSet | None) -> TokenSet:
        refresher = self._refresher
        assert refresher is not None
        if self._grant is not None:
            assert self._async_http_client is not None  # otherwise the refresh is off-loop
            return TokenSet.coerce(
                await self._grant.async_fetch(
                    self._async_http_client,
                    current,
                    clock=self._clock,
                    fallback_endpoint=self._fallback_endpoint,
                )
            )
        callable_refresher = cast(RefreshCallable, refresher)
        result: object = callable_refresher(current)
        if inspect.isawaitable(result):
            result = await result
        return self._coerce(result)


def _cancel_requested(outcome_known: bool) -> bool:
    """Whether the running task itself has been asked to stop.

    Python 3.11+ tells (``Task.cancelling``); before, a caller whose refresh task was
    cancelled is assumed cancelled too unless the outcome is already known.
    """
    import asyncio

    cancelling = getattr(asyncio.current_task(), "cancelling", None)
    if cancelling is None:
        return not outcome_known
    return bool(cancelling())


def _own_revocation_result(result: Any) -> RevocationResult:
    if isinstance(result, RevocationResult):
        return result
    return RevocationResult(
        endpoint=result.endpoint,
        revoked=tuple(result.revoked),
        not_revoked=tuple(result.not_revoked),
    )


def _start_thread(name: str, func: Callable[[], _T]) -> concurrent.futures.Future[_T]:
    """Run ``func`` in a new (non-daemon) thread; its outcome in a future.

    Non-daemon: the interpreter waits for it at exit, so a token response being
    stored is not cut short.
    """
    import concurrent.futures

    future: concurrent.futures.Future[_T] = concurrent.futures.Future()
    future.set_running_or_notify_cancel()

    def run() -> None:
        try:
            value = func()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever awaits the future
            future.set_exception(exc)
        else:
            future.set_result(value)

    threading.Thread(target=run, name=name).start()
    return future


def _log_lost_error(future: concurrent.futures.Future[Any]) -> None:
    error = future.exception()
    if error is not None:  # the caller it was meant for has gone with its loop
        logger.warning(
            "on_refresh or the token store failed after the refresh: %s", type(error).__name__
        )


async def _lock_off_loop(store: TokenStore) -> Callable[[], None]:
    """Take ``store``'s lock in a worker thread; returns the function that releases it.

    If the awaiting task is cancelled first, the lock is released as soon as the
    thread gets it, whether or not the loop still runs.
    """
    import asyncio
    import concurrent.futures

    manager = store.lock()
    guard = threading.Lock()
    state = {"abandoned": False, "held": False}
    acquired: concurrent.futures.Future[None] = concurrent.futures.Future()

    def release() -> None:
        manager.__exit__(None, None, None)

    def acquire() -> None:
        try:
            manager.__enter__()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            acquired.set_exception(exc)
            return
        with guard:
            abandoned = state["abandoned"]
            state["held"] = not abandoned
        if abandoned:
            release()
        else:
            acquired.set_result(None)

    threading.Thread(target=acquire, name="session-store-lock", daemon=True).start()
    try:
        await asyncio.wrap_future(acquired)
    except BaseException:
        with guard:
            state["abandoned"] = True
            held = state["held"]
        if held:
            release()
        raise
    return release


_USE, _REJECTED, _FORCE = 0, 1, 2


class _Flight:
    """One refresh in progress, shared by its leader and every caller waiting for it.

    ``future`` is completed exactly once, by the leader, with the new token set or
    the error every waiter gets. The flight also knows which threads and which task
    the refresh runs in, so a caller there (which the refresh would be waiting for)
    gets an answer or an error instead of a deadlock.
    """

    __slots__ = (
        "_handover",
        "_handover_lock",
        "_loop_thread",
        "_threads",
        "future",
        "handed_to_worker",
        "pending",
        "task",
    )

    def __init__(self, *, is_async: bool) -> None:
        import concurrent.futures

        self.future: concurrent.futures.Future[TokenSet] = concurrent.futures.Future()
        # A RUNNING future cannot be cancelled: a cancelled waiter (asyncio.wrap_future
        # propagates cancellation) must not cancel the refresh the others wait for.
        self.future.set_running_or_notify_cancel()
        self.pending: TokenSet | None = None  # the new token set, while on_refresh runs
        self.task: asyncio.Task[None] | None = None
        ident = threading.get_ident()
        self._loop_thread = ident if is_async else None
        self._threads: set[int] = set() if is_async else {ident}
        # An async refresh whose token request runs in a worker thread: the worker
        # hands the new token set back to the loop (for an async on_refresh), unless
        # the loop has gone, in which case the worker finishes the refresh itself.
        self._handover_lock = threading.Lock()
        self._handover: tuple[TokenSet, Exception | None] | None = None
        self.handed_to_worker = False

    def is_reentrant(self, *, is_async: bool) -> bool:
        import asyncio

        ident = threading.get_ident()
        if ident in self._threads:
            return True
        if is_async:
            try:
                return self.task is not None and asyncio.current_task() is self.task
            except RuntimeError:
                return False
        return ident == self._loop_thread

    def enter_thread(self) -> None:
        """The calling thread works for this refresh (a token request there must not wait)."""
        self._threads.add(threading.get_ident())

    def leave_thread(self) -> None:
        self._threads.discard(threading.get_ident())

    def hand_over(self, new: TokenSet, store_error: Exception | None) -> bool:
        """Worker: offer the new token set to the loop; ``False`` if the loop has gone."""
        with self._handover_lock:
            if self.handed_to_worker:
                return False
            self._handover = (new, store_error)
            return True

    def take_handover(self) -> tuple[TokenSet, Exception | None] | None:
        """Loop: take what the worker handed over."""
        with self._handover_lock:
            handover, self._handover = self._handover, None
            return handover

    def hand_to_worker(self) -> tuple[TokenSet, Exception | None] | None:
        """Loop, going away: leave the rest to the worker (returns what it already handed over)."""
        with self._handover_lock:
            self.handed_to_worker = True
            handover, self._handover = self._handover, None
            return handover

    def run_on_fresh_loop(self, awaitable: Awaitable[_T]) -> _T:
        """Run ``awaitable`` on a new event loop in a worker thread (sync leader).

        A worker thread makes it work whether or not the calling thread is itself
        running an event loop.
        """
        import asyncio
        import concurrent.futures

        def run() -> _T:
            self.enter_thread()
            try:
                return asyncio.run(_await(awaitable))
            finally:
                self.leave_thread()

        with concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="session-refresh"
        ) as pool:
            return pool.submit(run).result()

    async def to_thread(self, func: Callable[[_A], _T], arg: _A) -> _T:
        """Run a sync callable in a worker thread (async leader)."""
        import asyncio

        def run() -> _T:
            self.enter_thread()
            try:
                return func(arg)
            finally:
                self.leave_thread()

        return await asyncio.to_thread(run)


_NO_FLIGHT = _Flight(is_async=True)
