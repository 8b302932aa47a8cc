"""OAuth 2.0 grants a :class:`~.session.Session` can refresh its token with.

* :class:`RefreshTokenGrant`: RFC 6749 section 6 (``grant_type=refresh_token``).
* :class:`ClientCredentialsGrant`: RFC 6749 section 4.4 (``grant_type=client_credentials``).

Grants also revoke tokens (RFC 7009), with the same client authentication.

The token endpoint is given as ``token_url``, or discovered once from an OpenID
Connect ``openid_configuration_url`` (its ``token_endpoint``), or left out so the
session falls back to the endpoint declared by the API description.

Client authentication (RFC 6749 section 2.3.1): ``client_secret_basic`` (the
default when a secret is given), ``client_secret_post``, or ``none`` for public
clients, which send only their ``client_id`` in the body. Secrets always travel in
the ``Authorization`` header or in the form body, never in a URL.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, Protocol
from urllib.parse import quote, urlsplit

import httpx

if TYPE_CHECKING:  # loaded when a discovery document is first fetched
    import concurrent.futures

from .errors import TokenRefreshError
from .tokens import (
    Clock,
    InvalidTokenResponseError,
    TokenEndpointUnavailableError,
    TokenRequestRejectedError,
    TokenSet,
    TokenSetLike,
    safe_text,
)

__all__ = [
    "AuthMethod",
    "ClientCredentialsGrant",
    "OAuth2Grant",
    "ProviderMetadata",
    "RefreshTokenGrant",
    "RevocationResult",
    "RevocationResultLike",
    "TokenEndpoint",
    "TokenGrant",
]

logger = logging.getLogger(__name__)

#: How a client authenticates at the token endpoint.
AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]

_AUTH_METHODS: frozenset[str] = frozenset(("client_secret_basic", "client_secret_post", "none"))

# Error codes of RFC 6749 section 5.2: retrying the same request cannot succeed.
_TERMINAL_ERRORS: frozenset[str] = frozenset(
    (
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    )
)
# Statuses that mean "later", whatever the body says.
_TRANSIENT_STATUSES: frozenset[int] = frozenset((408, 425, 429))

_RESERVED_PARAMS: frozenset[str] = frozenset(
    ("grant_type", "refresh_token", "client_id", "client_secret", "scope")
)


def describe_url(url: str) -> str:
    """A URL fit for messages and logs: scheme, host, port and path only."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def check_url(url: str, what: str) -> str:
    if not isinstance(url, str):
        raise TypeError(f"{what} must be a string")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError(f"{what} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an absolute http(s) URL")
    return url


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def parse_scopes(scopes: Sequence[str] | str | None) -> tuple[str, ...]:
    """Scopes given as a space-separated string or a sequence, checked."""
    if isinstance(scopes, str):
        return tuple(scopes.split())
    scope_list = tuple(scopes or ())
    if not all(isinstance(s, str) and s and not any(c.isspace() for c in s) for s in scope_list):
        raise ValueError("scopes must be non-empty strings without spaces")
    return scope_list


def check_client_authentication(
    client_id: str | None, client_secret: str | None, auth_method: AuthMethod | None
) -> AuthMethod:
    """The client authentication method to use; ``ValueError`` if the settings do not fit."""
    if client_id is not None and (not isinstance(client_id, str) or not client_id):
        raise ValueError("client_id must be a non-empty string")
    if client_secret is not None and (not isinstance(client_secret, str) or not client_secret):
        raise ValueError("client_secret must be a non-empty string")
    if auth_method is None:
        auth_method = "client_secret_basic" if client_secret is not None else "none"
    if auth_method not in _AUTH_METHODS:
        raise ValueError(
            "auth_method must be one of 'client_secret_basic', 'client_secret_post', 'none'"
        )
    if auth_method == "none":
        if client_secret is not None:
            raise ValueError("a client_secret was given but auth_method is 'none'")
    elif client_id is None or client_secret is None:
        raise ValueError(f"auth_method {auth_method!r} needs client_id and client_secret")
    return auth_method


def check_extra_params(
    extra_params: Mapping[str, str] | None, reserved: frozenset[str]
) -> dict[str, str]:
    params = dict(extra_params or {})
    for key, value in params.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError("extra_params must map strings to strings")
        if key in reserved:
            raise ValueError(f"extra_params cannot set {key!r}; use the matching argument")
    return params


class ProviderMetadata(NamedTuple):
    """The endpoints of an authorization server (RFC 8414 / OpenID Connect discovery names).

    Fields are ``None`` when unknown: not given, and not in the discovery document.
    """

    token_endpoint: str | None = None
    authorization_endpoint: str | None = None
    revocation_endpoint: str | None = None
    issuer: str | None = None


_DISCOVERED_ENDPOINTS = ("authorization_endpoint", "revocation_endpoint")


class TokenEndpoint:
    """Where token requests go: a fixed URL, or one found by OpenID Connect discovery.

    A discovery document is fetched at most once per instance, by whichever caller
    (thread or task) needs it first while the others wait for that fetch; a failed
    fetch is not cached, so the next refresh tries again. The document's other
    endpoints (``authorization_endpoint``, ``revocation_endpoint``) and ``issuer``
    are kept too (:meth:`metadata`).
    """

    def __init__(
        self, *, token_url: str | None = None, openid_configuration_url: str | None = None
    ) -> None:
        if (token_url is None) == (openid_configuration_url is None):
            raise ValueError("give exactly one of token_url and openid_configuration_url")
        self._discovery_url = (
            check_url(openid_configuration_url, "openid_configuration_url")
            if openid_configuration_url is not None
            else None
        )
        self._metadata: ProviderMetadata | None = (
            ProviderMetadata(token_endpoint=check_url(token_url, "token_url"))
            if token_url is not None
            else None
        )
        self._lock = threading.Lock()
        self._flight: concurrent.futures.Future[ProviderMetadata] | None = None

    def __repr__(self) -> str:
        if self._discovery_url is None:
            return f"TokenEndpoint(token_url={describe_url(self.token_url or '')!r})"
        return f"TokenEndpoint(openid_configuration_url={describe_url(self._discovery_url)!r})"

    @property
    def token_url(self) -> str | None:
        """The token endpoint URL, once known (given, or discovered)."""
        with self._lock:
            return self._metadata.token_endpoint if self._metadata is not None else None

    @property
    def openid_configuration_url(self) -> str | None:
        return self._discovery_url

    def _begin(
        self,
    ) -> tuple[ProviderMetadata | None, concurrent.futures.Future[ProviderMetadata] | None, bool]:
        with self._lock:
            if self._metadata is not None:
                return self._metadata, None, False
            if self._flight is not None:
                return None, self._flight, False
            import concurrent.futures

            flight: concurrent.futures.Future[ProviderMetadata] = concurrent.futures.Future()
            flight.set_running_or_notify_cancel()
            self._flight = flight
            return None, flight, True

    def _finish(
        self,
        flight: concurrent.futures.Future[ProviderMetadata],
        found: ProviderMetadata | None,
        error: BaseException | None,
    ) -> None:
        with self._lock:
            self._flight = None
            if found is not None:
                self._metadata = found
        if error is not None:
            flight.set_exception(error)
        else:
            assert found is not None
            flight.set_result(found)

    def metadata(self, client: httpx.Client) -> ProviderMetadata:
        """The server's endpoints, discovering them with ``client`` if needed."""
        known, flight, lead = self._begin()
        if known is not None:
            return known
        assert flight is not None
        if lead:
            try:
                found = self._interpret(self._get_sync(client))
            except BaseException as exc:
                self._finish(flight, None, self._as_refresh_error(exc))
                if not isinstance(exc, Exception):
                    raise
            else:
                self._finish(flight, found, None)
        return flight.result()

    async def async_metadata(self, client: httpx.AsyncClient) -> ProviderMetadata:
        """Async twin of :meth:`metadata`."""
        known, flight, lead = self._begin()
        if known is not None:
            return known
        assert flight is not None
        if lead:
            try:
                found = self._interpret(await self._get_async(client))
            except BaseException as exc:
                self._finish(flight, None, self._as_refresh_error(exc))
                if not isinstance(exc, Exception):
                    raise
            else:
                self._finish(flight, found, None)
        import asyncio

        return await asyncio.wrap_future(flight)

    def resolve(self, client: httpx.Client) -> str:
        """The token endpoint URL, discovering it with ``client`` if needed."""
        url = self.metadata(client).token_endpoint
        assert url is not None  # a document without one is refused by _interpret
        return url

    async def async_resolve(self, client: httpx.AsyncClient) -> str:
        """The token endpoint URL, discovering it with ``client`` if needed."""
        url = (await self.async_metadata(client)).token_endpoint
        assert url is not None
        return url

    def _get_sync(self, client: httpx.Client) -> httpx.Response:
        assert self._discovery_url is not None
        logger.debug("fetching OpenID configuration from %s", describe_url(self._discovery_url))
        return client.get(self._discovery_url, headers={"Accept": "application/json"})

    async def _get_async(self, client: httpx.AsyncClient) -> httpx.Response:
        assert self._discovery_url is not None
        logger.debug("fetching OpenID configuration from %s", describe_url(self._discovery_url))
        return await client.get(self._discovery_url, headers={"Accept": "application/json"})

    def _as_refresh_error(self, exc: BaseException) -> TokenRefreshError:
        assert self._discovery_url is not None
        where = describe_url(self._discovery_url)
        if isinstance(exc, TokenRefreshError):
            return exc
        if isinstance(exc, (httpx.HTTPError, httpx.InvalidURL)):
            error = TokenEndpointUnavailableError(
                f"could not fetch the OpenID configuration from {where}: "
                f"{type(exc).__name__}: {safe_text(exc)}"
            )
        elif isinstance(exc, Exception):
            error = TokenEndpointUnavailableError(
                f"could not fetch the OpenID configuration from {where}: {type(exc).__name__}"
            )
        else:
            error = TokenEndpointUnavailableError(
                f"fetching the OpenID configuration from {where} was interrupted"
            )
        error.__cause__ = exc
        return error

    def _interpret(self, response: httpx.Response) -> ProviderMetadata:
        assert self._discovery_url is not None
        where = describe_url(self._discovery_url)
        if response.status_code != 200:
            raise TokenEndpointUnavailableError(
                f"the OpenID configuration at {where} answered HTTP {response.status_code}",
                status_code=response.status_code,
            )
        document = json_object(response)
        if document is None:
            raise TokenRefreshError(f"the OpenID configuration at {where} is not a JSON object")
        secure = urlsplit(self._discovery_url).scheme == "https"
        found: dict[str, str | None] = {}
        for name in ("token_endpoint", *_DISCOVERED_ENDPOINTS):
            value = document.get(name)
            problem = None
            try:
                if not isinstance(value, str):
                    raise ValueError
                check_url(value, name)
            except ValueError:
                problem = f"has no valid {name}"
            else:
                if secure and urlsplit(value).scheme != "https":
                    problem = f"names a {name} that is not https"
            if problem is None:
                found[name] = value
            elif name == "token_endpoint":
                raise TokenRefreshError(f"the OpenID configuration at {where} {problem}")
            else:  # an endpoint this session may never need: unusable means unknown
                if value is not None:
                    logger.debug("the OpenID configuration %s; ignoring it", problem)
                found[name] = None
        issuer = document.get("issuer")
        metadata = ProviderMetadata(
            token_endpoint=found["token_endpoint"],
            authorization_endpoint=found["authorization_endpoint"],
            revocation_endpoint=found["revocation_endpoint"],
            issuer=issuer if isinstance(issuer, str) and issuer else None,
        )
        logger.debug("discovered token endpoint %s", describe_url(metadata.token_endpoint or ""))
        return metadata


class RevocationResult(NamedTuple):
    """What :meth:`Session.revoke` did at the server (RFC 7009).

    ``endpoint`` is the revocation endpoint used (scheme, host and path only), or
    ``None`` when none is known: the session was then cleared locally only.
    ``revoked`` names the tokens the server confirmed (``"refresh_token"``,
    ``"access_token"``); ``not_revoked`` says, for each other token the session
    held, why it was not (never the token itself). The session is cleared either way.
    """

    endpoint: str | None
    revoked: tuple[str, ...] = ()
    not_revoked: tuple[str, ...] = ()

    @property
    def locally_only(self) -> bool:
        """True when no revocation endpoint was known: nothing was sent to a server."""
        return self.endpoint is None

    @property
    def complete(self) -> bool:
        """True when the server confirmed every token the session held."""
        return self.endpoint is not None and not self.not_revoked


class RevocationResultLike(Protocol):
    """A :class:`RevocationResult` of any generated package."""

    @property
    def endpoint(self) -> str | None: ...

    @property
    def revoked(self) -> tuple[str, ...]: ...

    @property
    def not_revoked(self) -> tuple[str, ...]: ...


class TokenGrant(Protocol):
    """What a session needs from a grant: an :class:`OAuth2Grant` of any generated package.

    Parameters are typed loosely on purpose: each package has its own copy of the
    runtime classes, and a grant from one package must fit another package's session.
    """

    @property
    def grant_type(self) -> str: ...

    @property
    def endpoint(self) -> object: ...

    def check_initial(self, token_set: Any) -> None: ...

    def fetch(
        self, client: httpx.Client, current: Any, *, clock: Clock, fallback_endpoint: Any = None
    ) -> TokenSetLike: ...

    async def async_fetch(
        self,
        client: httpx.AsyncClient,
        current: Any,
        *,
        clock: Clock,
        fallback_endpoint: Any = None,
    ) -> TokenSetLike: ...

    def revoke(
        self, client: httpx.Client, token_set: Any, *, fallback_endpoint: Any = None
    ) -> RevocationResultLike: ...

    async def async_revoke(
        self, client: httpx.AsyncClient, token_set: Any, *, fallback_endpoint: Any = None
    ) -> RevocationResultLike: ...


def is_grant(value: object) -> bool:
    """Whether ``value`` is a grant: an :class:`OAuth2Grant` of this or any other package."""
    if isinstance(value, OAuth2Grant):
        return True
    return isinstance(getattr(value, "grant_type", None), str) and all(
        callable(getattr(value, name, None)) for name in ("check_initial", "fetch", "async_fetch")
    )


class OAuth2Grant:
    """Base class of the OAuth 2.0 grants a session can refresh with.

    Subclasses define ``grant_type`` and :meth:`_grant_params`; this class does the
    endpoint resolution, client authentication, the request and the response
    handling, for sync and async callers alike. It also revokes tokens (RFC 7009)
    with the same client authentication, at ``revocation_url`` or at the
    ``revocation_endpoint`` of the OpenID Connect discovery document.
    """

    grant_type: ClassVar[str]
    _reserved_params: ClassVar[frozenset[str]] = _RESERVED_PARAMS

    def __init__(
        self,
        *,
        token_url: str | None = None,
        openid_configuration_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        auth_method: AuthMethod | None = None,
        scopes: Sequence[str] | str | None = None,
        extra_params: Mapping[str, str] | None = None,
        revocation_url: str | None = None,
    ) -> None:
        self._endpoint = (
            TokenEndpoint(token_url=token_url, openid_configuration_url=openid_configuration_url)
            if token_url is not None or openid_configuration_url is not None
            else None
        )
        self._revocation_url = (
            check_url(revocation_url, "revocation_url") if revocation_url is not None else None
        )
        self._client_id = client_id
        self._client_secret = client_secret
        self._auth_method = check_client_authentication(client_id, client_secret, auth_method)
        self._scopes = parse_scopes(scopes)
        self._extra_params = check_extra_params(extra_params, self._reserved_params)

    def __repr__(self) -> str:
        parts = []
        if self._endpoint is not None:
            url = self._endpoint.token_url
            if url is not None and self._endpoint.openid_configuration_url is None:
                parts.append(f"token_url={describe_url(url)!r}")
            else:
                discovery = self._endpoint.openid_configuration_url or ""
                parts.append(f"openid_configuration_url={describe_url(discovery)!r}")
        if self._revocation_url is not None:
            parts.append(f"revocation_url={describe_url(self._revocation_url)!r}")
        if self._client_id is not None:
            parts.append(f"client_id={self._client_id!r}")
        parts.append(f"auth_method={self._auth_method!r}")
        if self._scopes:
            parts.append(f"scopes={self._scopes!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # -- configuration, read-only -----------------------------------------------------

    @property
    def client_id(self) -> str | None:
        return self._client_id

    @property
    def auth_method(self) -> AuthMethod:
        return self._auth_method

    @property
    def scopes(self) -> tuple[str, ...]:
        return self._scopes

    @property
    def endpoint(self) -> TokenEndpoint | None:
        """The endpoint given to this grant; ``None`` means "the API's default"."""
        return self._endpoint

    @property
    def revocation_url(self) -> str | None:
        """The revocation endpoint given to this grant (else discovery's, if any)."""
        return self._revocation_url

    # -- what subclasses define ---------------------------------------------------------

    def _grant_params(self, current: TokenSetLike | None) -> dict[str, str]:
        """Form parameters specific to the grant (``grant_type`` included)."""
        raise NotImplementedError

    def check_initial(self, token_set: TokenSetLike | None) -> None:
        """Raise ``ValueError`` if this grant cannot refresh ``token_set``."""

    # -- the request ----------------------------------------------------------------------

    def _secrets(self, current: TokenSetLike | None) -> tuple[str | None, ...]:
        if current is None:
            return (self._client_secret,)
        return (self._client_secret, current.access_token, current.refresh_token)

    def _authenticate(self, form: dict[str, str]) -> dict[str, str]:
        """Add the client authentication to ``form``; returns the request headers."""
        headers = {"Accept": "application/json"}
        if self._auth_method == "client_secret_basic":
            assert self._client_id is not None and self._client_secret is not None
            # RFC 6749 section 2.3.1: both parts are form-encoded before base64.
            raw = f"{quote(self._client_id, safe='')}:{quote(self._client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(raw.encode()).decode("ascii")
        elif self._auth_method == "client_secret_post":
            assert self._client_id is not None and self._client_secret is not None
            form["client_id"] = self._client_id
            form["client_secret"] = self._client_secret
        elif self._client_id is not None:
            form["client_id"] = self._client_id
        return headers

    def _build(self, current: TokenSetLike | None) -> tuple[dict[str, str], dict[str, str]]:
        form = self._grant_params(current)
        if self._scopes:
            form["scope"] = " ".join(self._scopes)
        form.update(self._extra_params)
        return form, self._authenticate(form)

    def _endpoint_for(self, fallback: TokenEndpoint | None) -> TokenEndpoint:
        endpoint = self._endpoint or fallback
        if endpoint is None:  # the session checks this when it is built
            raise TokenRefreshError(f"{type(self).__name__} has no token endpoint")
        return endpoint

    def fetch(
        self,
        client: httpx.Client,
        current: TokenSetLike | None,
        *,
        clock: Clock,
        fallback_endpoint: TokenEndpoint | None = None,
    ) -> TokenSet:
        """Perform the grant with a sync client and return the new token set."""
        form, headers = self._build(current)
        url = self._endpoint_for(fallback_endpoint).resolve(client)
        logger.debug(
            "requesting a token (grant_type=%s) from %s", self.grant_type, describe_url(url)
        )
        try:
            response = client.post(url, data=form, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._network_error(exc, url) from exc
        return self._interpret(response, current, clock)

    async def async_fetch(
        self,
        client: httpx.AsyncClient,
        current: TokenSetLike | None,
        *,
        clock: Clock,
        fallback_endpoint: TokenEndpoint | None = None,
    ) -> TokenSet:
        """Perform the grant with an async client and return the new token set."""
        form, headers = self._build(current)
        url = await self._endpoint_for(fallback_endpoint).async_resolve(client)
        logger.debug(
            "requesting a token (grant_type=%s) from %s", self.grant_type, describe_url(url)
        )
        try:
            response = await client.post(url, data=form, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._network_error(exc, url) from exc
        return self._interpret(response, current, clock)

    def _network_error(self, exc: Exception, url: str) -> TokenEndpointUnavailableError:
        detail = safe_text(exc, self._secrets(None))
        return TokenEndpointUnavailableError(
            f"could not reach the token endpoint {describe_url(url)} "
            f"({self.grant_type} grant): {type(exc).__name__}" + (f": {detail}" if detail else "")
        )

    def _interpret(
        self, response: httpx.Response, current: TokenSetLike | None, clock: Clock
    ) -> TokenSet:
        status = response.status_code
        body = json_object(response)
        error = body.get("error") if body is not None else None
        error_code = safe_text(error) if isinstance(error, str) and error else None
        if 200 <= status < 300 and (body is None or error_code is None or "access_token" in body):
            if body is None:
                raise InvalidTokenResponseError(
                    f"the token endpoint answered HTTP {status} with a body that is not "
                    "a JSON object"
                )
            token_set = TokenSet.from_response(body, clock=clock)
            if not token_set.scopes and self._scopes:
                # RFC 6749 section 5.1: scope may be left out when it is the requested one.
                token_set = dataclasses.replace(token_set, scopes=self._scopes)
            return token_set
        secrets = self._secrets(current)
        description = None
        if body is not None and isinstance(body.get("error_description"), str):
            description = safe_text(body["error_description"], secrets) or None
        if (
            error_code in _TERMINAL_ERRORS
            and status not in _TRANSIENT_STATUSES
            and (200 <= status < 300 or 400 <= status < 500)
        ):
            message = (
                f"the token endpoint rejected the {self.grant_type} grant: {error_code} "
                f"(HTTP {status})"
            )
            if description:
                message += f": {description}"
            raise TokenRequestRejectedError(
                message + "; the session has ended",
                status_code=status,
                error=error_code,
                error_description=description,
            )
        message = f"the token endpoint answered HTTP {status} to the {self.grant_type} grant"
        if error_code:
            message += f" ({error_code}" + (f": {description}" if description else "") + ")"
        raise TokenEndpointUnavailableError(message, status_code=status, error=error_code)

    # -- revocation (RFC 7009) --------------------------------------------------------------

    def _revocation_target(
        self, metadata: ProviderMetadata | None, problem: str | None
    ) -> tuple[str | None, str | None]:
        """The revocation URL, or ``None`` and why there is none."""
        if self._revocation_url is not None:
            return self._revocation_url, None
        if metadata is not None and metadata.revocation_endpoint is not None:
            return metadata.revocation_endpoint, None
        if problem is not None:
            return None, problem
        return None, "no revocation endpoint is known (give revocation_url=)"

    def _revocation_requests(
        self, token_set: TokenSetLike
    ) -> list[tuple[str, dict[str, str], dict[str, str]]]:
        # The refresh token first: revoking it ends the grant, and with it (RFC 7009
        # section 2.1) usually the access tokens issued under it.
        requests = []
        for hint, value in (
            ("refresh_token", token_set.refresh_token),
            ("access_token", token_set.access_token),
        ):
            if value:
                form = {"token": value, "token_type_hint": hint}
                requests.append((hint, form, self._authenticate(form)))
        return requests

    def _discovery_for_revocation(self, fallback: TokenEndpoint | None) -> TokenEndpoint | None:
        """The endpoint whose discovery document may name a revocation endpoint."""
        if self._revocation_url is not None:
            return None
        endpoint = self._endpoint or fallback
        if endpoint is None or endpoint.openid_configuration_url is None:
            return None
        return endpoint

    def revoke(
        self,
        client: httpx.Client,
        token_set: TokenSetLike,
        *,
        fallback_endpoint: TokenEndpoint | None = None,
    ) -> RevocationResult:
        """Revoke the refresh token and the access token of ``token_set`` (RFC 7009).

        Never raises for a server or network failure: the result says what was
        revoked and why anything was not.
        """
        endpoint = self._discovery_for_revocation(fallback_endpoint)
        metadata, problem = None, None
        if endpoint is not None:
            try:
                metadata = endpoint.metadata(client)
            except TokenRefreshError as exc:
                problem = f"the revocation endpoint could not be discovered: {exc}"
        url, why = self._revocation_target(metadata, problem)
        if url is None:
            return self._local_only(token_set, why)
        outcomes: list[tuple[str, httpx.Response | None, Exception | None]] = []
        for hint, form, headers in self._revocation_requests(token_set):
            try:
                outcomes.append((hint, client.post(url, data=form, headers=headers), None))
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                outcomes.append((hint, None, exc))
        return self._revocation_result(url, outcomes, token_set)

    async def async_revoke(
        self,
        client: httpx.AsyncClient,
        token_set: TokenSetLike,
        *,
        fallback_endpoint: TokenEndpoint | None = None,
    ) -> RevocationResult:
        """Async twin of :meth:`revoke`."""
        endpoint = self._discovery_for_revocation(fallback_endpoint)
        metadata, problem = None, None
        if endpoint is not None:
            try:
                metadata = await endpoint.async_metadata(client)
            except TokenRefreshError as exc:
                problem = f"the revocation endpoint could not be discovered: {exc}"
        url, why = self._revocation_target(metadata, problem)
        if url is None:
            return self._local_only(token_set, why)
        outcomes: list[tuple[str, httpx.Response | None, Exception | None]] = []
        for hint, form, headers in self._revocation_requests(token_set):
            try:
                outcomes.append((hint, await client.post(url, data=form, headers=headers), None))
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                outcomes.append((hint, None, exc))
        return self._revocation_result(url, outcomes, token_set)

    def _local_only(self, token_set: TokenSetLike, why: str | None) -> RevocationResult:
        held = [h for h, _, _ in self._revocation_requests(token_set)]
        logger.debug("tokens cleared locally only: %s", why)
        return RevocationResult(endpoint=None, not_revoked=tuple(f"{h}: {why}" for h in held))

    def _revocation_result(
        self,
        url: str,
        outcomes: list[tuple[str, httpx.Response | None, Exception | None]],
        token_set: TokenSetLike,
    ) -> RevocationResult:
        revoked, not_revoked = [], []
        secrets = self._secrets(token_set)
        for hint, response, exc in outcomes:
            if response is not None and response.status_code == 200:
                revoked.append(hint)
                continue
            if response is None:
                reason = f"could not reach the revocation endpoint ({type(exc).__name__})"
            else:
                body = json_object(response)
                error = body.get("error") if body is not None else None
                if error == "unsupported_token_type":
                    reason = "the server does not revoke this kind of token"
                else:
                    reason = f"the revocation endpoint answered HTTP {response.status_code}"
                    if isinstance(error, str) and error:
                        reason += f" ({safe_text(error, secrets)})"
            not_revoked.append(f"{hint}: {reason}")
        where = describe_url(url)
        logger.debug(
            "revocation at %s: revoked %s; not revoked %s",
            where,
            ", ".join(revoked) or "nothing",
            "; ".join(not_revoked) or "nothing",
        )
        return RevocationResult(
            endpoint=where, revoked=tuple(revoked), not_revoked=tuple(not_revoked)
        )


class RefreshTokenGrant(OAuth2Grant):
    """Refresh with the session's refresh token (RFC 6749 section 6).

    ``scopes``, when given, are sent as ``scope`` on every refresh (they must be
    within the originally granted scopes); otherwise the server keeps the original
    scope. A rotated refresh token in the response replaces the old one.
    """

    grant_type = "refresh_token"

    def _grant_params(self, current: TokenSetLike | None) -> dict[str, str]:
        if current is None or current.refresh_token is None:
            raise TokenRequestRejectedError(
                "the session has no refresh token to refresh with; the session has ended",
                status_code=None,
                error="invalid_grant",
            )
        return {"grant_type": "refresh_token", "refresh_token": current.refresh_token}

    def check_initial(self, token_set: TokenSetLike | None) -> None:
        if token_set is None or token_set.refresh_token is None:
            raise ValueError("RefreshTokenGrant needs a token set that holds a refresh_token")


class ClientCredentialsGrant(OAuth2Grant):
    """Obtain tokens with the client's own credentials (RFC 6749 section 4.4)."""

    grant_type = "client_credentials"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | None = None,
        token_url: str | None = None,
        openid_configuration_url: str | None = None,
        auth_method: AuthMethod | None = None,
        scopes: Sequence[str] | str | None = None,
        extra_params: Mapping[str, str] | None = None,
        revocation_url: str | None = None,
    ) -> None:
        super().__init__(
            token_url=token_url,
            openid_configuration_url=openid_configuration_url,
            client_id=client_id,
            client_secret=client_secret,
            auth_method=auth_method,
            scopes=scopes,
            extra_params=extra_params,
            revocation_url=revocation_url,
        )

    def _grant_params(self, current: TokenSetLike | None) -> dict[str, str]:
        return {"grant_type": "client_credentials"}
