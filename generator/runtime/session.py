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
from typing import TYPE_CHECKING, Any, ClassVar, Optional, TypeVar, Union

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
    TokenEndpoint,
)
from .tokens import (
    Clock,
    InvalidTokenResponseError,
    TokenEndpointUnavailableError,
    TokenRequestRejectedError,
    TokenSet,
)

__all__ = [
    "ClientCredentialsGrant",
    "Clock",
    "InvalidTokenResponseError",
    "OAuth2Grant",
    "OnRefresh",
    "RefreshCallable",
    "RefreshTokenGrant",
    "Refresher",
    "Session",
    "TokenEndpointUnavailableError",
    "TokenRequestRejectedError",
    "TokenSet",
]

logger = logging.getLogger(__name__)

#: What a refresher callable may return: a token set, or a token response mapping.
RefreshResult = Union[TokenSet, Mapping[str, Any]]
#: A user refresher: takes the current token set (``None`` before the first token)
#: and returns a :data:`RefreshResult`, directly or as an awaitable (``async def``).
RefreshCallable = Callable[[Optional[TokenSet]], Union[RefreshResult, Awaitable[RefreshResult]]]
#: Anything a session can refresh with.
Refresher = Union[OAuth2Grant, RefreshCallable]
#: Called with each new token set, once per refresh; may be ``async def``.
OnRefresh = Callable[[TokenSet], object]

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

    Build one from a stored token response (:meth:`from_token_response`), for the
    client credentials grant (:meth:`client_credentials`), or directly::

        Session(token_set, refresher=RefreshTokenGrant(token_url=..., client_id=...))
        Session("a-fixed-token")  # never refreshed

    ``refresher`` is a :class:`RefreshTokenGrant`, a :class:`ClientCredentialsGrant`
    or any callable (sync or ``async def``) taking the current :class:`TokenSet`
    (``None`` before the first token) and returning a :class:`TokenSet` or a token
    response mapping. To end the session for good from a callable, raise
    :class:`SessionExpiredError`; any other exception fails that one refresh with
    :class:`TokenRefreshError`.

    ``on_refresh`` (sync or ``async def``) is called once with every new token set,
    before any caller gets the new token: use it to persist rotated refresh tokens.
    If it raises, the new token set is installed anyway (the server has issued it)
    and the exception reaches the caller whose call triggered the refresh.

    ``clock`` returns epoch seconds (default ``time.time``); ``timeout`` applies to
    token requests made with the session's own HTTP clients. Pass ``http_client`` /
    ``async_http_client`` to make token requests with your own clients (proxies,
    custom CA); the session never closes clients it was given.
    """

    #: Token endpoint URLs declared by the API description, by ``grant_type``
    #: (``"refresh_token"``, ``"client_credentials"``). A generated package fills
    #: them in on its ``Session`` subclass; a grant built without ``token_url`` or
    #: ``openid_configuration_url`` uses them.
    default_token_urls: ClassVar[Mapping[str, str]] = {}
    #: The OpenID Connect discovery URL declared by the API description, used when
    #: ``default_token_urls`` has no entry for the grant type.
    default_openid_configuration_url: ClassVar[str | None] = None

    def __init__(
        self,
        token_set: TokenSet | str | None = None,
        *,
        refresher: Refresher | None = None,
        on_refresh: OnRefresh | None = None,
        leeway: float = DEFAULT_LEEWAY,
        clock: Clock = time.time,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if isinstance(token_set, str):
            token_set = TokenSet(access_token=token_set)
        elif token_set is not None and not isinstance(token_set, TokenSet):
            raise TypeError("token_set must be a TokenSet, an access token string or None")
        if (
            refresher is not None
            and not isinstance(refresher, OAuth2Grant)
            and not callable(refresher)
        ):
            raise TypeError("refresher must be an OAuth2Grant or a callable")
        if token_set is None and refresher is None:
            raise ValueError("a Session needs a token set, a refresher, or both")
        if on_refresh is not None and not callable(on_refresh):
            raise TypeError("on_refresh must be callable")
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
        if isinstance(refresher, OAuth2Grant):
            refresher.check_initial(token_set)
            if refresher.endpoint is None:
                self._fallback_endpoint = self._default_endpoint(refresher.grant_type)
                if self._fallback_endpoint is None:
                    raise ValueError(
                        f"{type(refresher).__name__} needs token_url= or "
                        "openid_configuration_url=: no default token endpoint is known "
                        f"for grant_type={refresher.grant_type!r}"
                    )

        self._refresher = refresher
        self._on_refresh = on_refresh
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

    # -- alternative constructors ---------------------------------------------------------

    @classmethod
    def from_token_response(
        cls: type[_S],
        response: Mapping[str, Any],
        *,
        refresher: Refresher | None = None,
        on_refresh: OnRefresh | None = None,
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
        leeway: float = DEFAULT_LEEWAY,
        clock: Clock = time.time,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> _S:
        """A session that obtains its tokens with the client credentials grant.

        The first token is fetched lazily, by the first call that needs one.
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
            leeway=leeway,
            clock=clock,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
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
        elif isinstance(self._refresher, OAuth2Grant):
            refresher = repr(self._refresher)
        else:
            refresher = _callable_name(self._refresher)
        return f"{type(self).__name__}({state}, token_set={token!r}, refresher={refresher})"

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

    def set_token_set(self, token_set: TokenSet) -> None:
        """Replace the token set, e.g. after signing the user in again.

        This also revives a session that ended with :class:`SessionExpiredError`.
        ``on_refresh`` is not called. A refresh already in flight still installs
        its own result when it completes.
        """
        if not isinstance(token_set, TokenSet):
            raise TypeError("token_set must be a TokenSet")
        if isinstance(self._refresher, OAuth2Grant):
            self._refresher.check_initial(token_set)
        with self._lock:
            self._token = token_set
            self._refresh_at = self._deadline(token_set, now=None)
            self._ended = None

    # -- the transport contract: sync -----------------------------------------------------

    def access_token(self) -> str:
        """A valid access token, refreshed first if it expires within the leeway."""
        token, flight, lead, current = self._enter(_USE, None, is_async=False)
        if token is not None:
            return token.access_token
        return self._complete_sync(flight, lead, current, "expiring").access_token

    def refresh_after_rejection(self, rejected: str) -> str:
        """A token to replay with after a 401 to a request that carried ``rejected``.

        Refreshes (single flight) only while the session's token is still
        ``rejected``; if another caller has already replaced it, returns the
        current token without a new token request.
        """
        token, flight, lead, current = self._enter(_REJECTED, rejected, is_async=False)
        if token is not None:
            return token.access_token
        return self._complete_sync(flight, lead, current, "rejected").access_token

    def refresh(self) -> TokenSet:
        """Refresh now, whatever the expiry (joins a refresh already in flight)."""
        token, flight, lead, current = self._enter(_FORCE, None, is_async=False)
        if token is not None:
            return token
        return self._complete_sync(flight, lead, current, "requested")

    # -- the transport contract: async ----------------------------------------------------

    async def async_access_token(self) -> str:
        """A valid access token, refreshed first if it expires within the leeway.

        Never blocks the event loop while another thread or task refreshes.
        """
        token, flight, lead, current = self._enter(_USE, None, is_async=True)
        if token is not None:
            return token.access_token
        return (await self._complete_async(flight, lead, current, "expiring")).access_token

    async def async_refresh_after_rejection(self, rejected: str) -> str:
        """Async twin of :meth:`refresh_after_rejection`."""
        token, flight, lead, current = self._enter(_REJECTED, rejected, is_async=True)
        if token is not None:
            return token.access_token
        return (await self._complete_async(flight, lead, current, "rejected")).access_token

    async def async_refresh(self) -> TokenSet:
        """Async twin of :meth:`refresh`."""
        token, flight, lead, current = self._enter(_FORCE, None, is_async=True)
        if token is not None:
            return token
        return await self._complete_async(flight, lead, current, "requested")

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
        return dataclasses.replace(new, **changes) if changes else new

    def _coerce(self, result: object) -> TokenSet:
        if isinstance(result, TokenSet):
            return result
        if isinstance(result, Mapping):
            return TokenSet.from_response(result, clock=self._clock)
        raise TokenRefreshError(
            f"the refresher returned {type(result).__name__}; "
            "expected a TokenSet or a token response mapping"
        )

    # -- sync path ------------------------------------------------------------------------

    def _complete_sync(
        self, flight: _Flight, lead: bool, current: TokenSet | None, reason: str
    ) -> TokenSet:
        if lead:
            self._lead_sync(flight, current, reason)
        return flight.future.result()

    def _lead_sync(self, flight: _Flight, current: TokenSet | None, reason: str) -> None:
        logger.debug("refreshing the access token (%s)", reason if current else "first token")
        try:
            new = self._merge(current, self._obtain_sync(flight, current))
        except BaseException as exc:
            self._fail(flight, exc)
            if not isinstance(exc, Exception):
                raise
            return
        flight.pending = new
        try:
            if self._on_refresh is not None:
                result = self._on_refresh(new)
                if inspect.isawaitable(result):
                    flight.run_on_fresh_loop(result)
        finally:
            self._install(flight, new)

    def _obtain_sync(self, flight: _Flight, current: TokenSet | None) -> TokenSet:
        refresher = self._refresher
        assert refresher is not None
        if isinstance(refresher, OAuth2Grant):
            return refresher.fetch(
                self._sync_client(),
                current,
                clock=self._clock,
                fallback_endpoint=self._fallback_endpoint,
            )
        result = refresher(current)
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
        self, flight: _Flight, lead: bool, current: TokenSet | None, reason: str
    ) -> TokenSet:
        import asyncio

        if not lead:
            return await asyncio.wrap_future(flight.future)
        try:
            # The refresh runs in its own task, so cancelling the caller that started it
            # cannot abandon the others, nor lose a rotated refresh token mid-response.
            task = asyncio.get_running_loop().create_task(self._lead_async(flight, current, reason))
        except BaseException as exc:
            self._fail(flight, exc)
            raise
        flight.task = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._task_done(flight, done))
        try:
            await asyncio.shield(task)  # raises what on_refresh raised, if anything
        except asyncio.CancelledError:
            if not (task.cancelled() and flight.future.done()):
                raise  # this caller was cancelled; the refresh carries on for the others
            # The refresh task itself was cancelled: report it like the waiters get it.
        return flight.future.result()

    def _task_done(self, flight: _Flight, task: asyncio.Task[None]) -> None:
        import asyncio

        self._tasks.discard(task)
        if not flight.future.done():
            # Cancelled before it ever ran (its loop shutting down): the waiters must
            # still hear about it.
            self._fail(flight, asyncio.CancelledError())

    async def _lead_async(self, flight: _Flight, current: TokenSet | None, reason: str) -> None:
        logger.debug("refreshing the access token (%s)", reason if current else "first token")
        try:
            new = self._merge(current, await self._obtain_async(flight, current))
        except BaseException as exc:
            self._fail(flight, exc)
            if not isinstance(exc, Exception):
                raise
            return
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

    async def _obtain_async(self, flight: _Flight, current: TokenSet | None) -> TokenSet:
        refresher = self._refresher
        assert refresher is not None
        if isinstance(refresher, OAuth2Grant):
            if self._async_http_client is not None:
                return await refresher.async_fetch(
                    self._async_http_client,
                    current,
                    clock=self._clock,
                    fallback_endpoint=self._fallback_endpoint,
                )
            # A short-lived client per refresh: an AsyncClient's connections belong to
            # one event loop, and this session may be used from several.
            async with httpx.AsyncClient(
                timeout=self._timeout, verify=_ssl_context(), limits=_TOKEN_LIMITS
            ) as client:
                return await refresher.async_fetch(
                    client,
                    current,
                    clock=self._clock,
                    fallback_endpoint=self._fallback_endpoint,
                )
        if _is_async_callable(refresher):
            result: object = refresher(current)
        else:
            # A sync refresher probably blocks on I/O: keep it off the event loop.
            result = await flight.to_thread(refresher, current)
        if inspect.isawaitable(result):
            result = await result
        return self._coerce(result)


_USE, _REJECTED, _FORCE = 0, 1, 2


class _Flight:
    """One refresh in progress, shared by its leader and every caller waiting for it.

    ``future`` is completed exactly once, by the leader, with the new token set or
    the error every waiter gets. The flight also knows which threads and which task
    the refresh runs in, so a caller there (which the refresh would be waiting for)
    gets an answer or an error instead of a deadlock.
    """

    __slots__ = ("_loop_thread", "_threads", "future", "pending", "task")

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

    def _enter_thread(self) -> None:
        self._threads.add(threading.get_ident())

    def _leave_thread(self) -> None:
        self._threads.discard(threading.get_ident())

    def run_on_fresh_loop(self, awaitable: Awaitable[_T]) -> _T:
        """Run ``awaitable`` on a new event loop in a worker thread (sync leader).

        A worker thread makes it work whether or not the calling thread is itself
        running an event loop.
        """
        import asyncio
        import concurrent.futures

        def run() -> _T:
            self._enter_thread()
            try:
                return asyncio.run(_await(awaitable))
            finally:
                self._leave_thread()

        with concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="session-refresh"
        ) as pool:
            return pool.submit(run).result()

    async def to_thread(self, func: Callable[[_A], _T], arg: _A) -> _T:
        """Run a sync callable in a worker thread (async leader)."""
        import asyncio

        def run() -> _T:
            self._enter_thread()
            try:
                return func(arg)
            finally:
                self._leave_thread()

        return await asyncio.to_thread(run)


_NO_FLIGHT = _Flight(is_async=True)
