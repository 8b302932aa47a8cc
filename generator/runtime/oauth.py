"""OAuth 2.0 grants a :class:`~.session.Session` can refresh its token with.

* :class:`RefreshTokenGrant`: RFC 6749 section 6 (``grant_type=refresh_token``).
* :class:`ClientCredentialsGrant`: RFC 6749 section 4.4 (``grant_type=client_credentials``).

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
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal
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
    safe_text,
)

__all__ = [
    "AuthMethod",
    "ClientCredentialsGrant",
    "OAuth2Grant",
    "RefreshTokenGrant",
    "TokenEndpoint",
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


def _describe_url(url: str) -> str:
    """A URL fit for messages and logs: scheme, host, port and path only."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _check_url(url: str, what: str) -> str:
    if not isinstance(url, str):
        raise TypeError(f"{what} must be a string")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError(f"{what} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an absolute http(s) URL")
    return url


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class TokenEndpoint:
    """Where token requests go: a fixed URL, or one found by OpenID Connect discovery.

    A discovery document is fetched at most once per instance, by whichever caller
    (thread or task) needs it first while the others wait for that fetch; a failed
    fetch is not cached, so the next refresh tries again.
    """

    def __init__(
        self, *, token_url: str | None = None, openid_configuration_url: str | None = None
    ) -> None:
        if (token_url is None) == (openid_configuration_url is None):
            raise ValueError("give exactly one of token_url and openid_configuration_url")
        self._token_url = _check_url(token_url, "token_url") if token_url is not None else None
        self._discovery_url = (
            _check_url(openid_configuration_url, "openid_configuration_url")
            if openid_configuration_url is not None
            else None
        )
        self._lock = threading.Lock()
        self._flight: concurrent.futures.Future[str] | None = None

    def __repr__(self) -> str:
        if self._token_url is not None:
            return f"TokenEndpoint(token_url={_describe_url(self._token_url)!r})"
        assert self._discovery_url is not None
        return f"TokenEndpoint(openid_configuration_url={_describe_url(self._discovery_url)!r})"

    @property
    def token_url(self) -> str | None:
        """The token endpoint URL, once known (given, or discovered)."""
        return self._token_url

    @property
    def openid_configuration_url(self) -> str | None:
        return self._discovery_url

    def _begin(self) -> tuple[str | None, concurrent.futures.Future[str] | None, bool]:
        with self._lock:
            if self._token_url is not None:
                return self._token_url, None, False
            if self._flight is not None:
                return None, self._flight, False
            import concurrent.futures

            flight: concurrent.futures.Future[str] = concurrent.futures.Future()
            flight.set_running_or_notify_cancel()
            self._flight = flight
            return None, flight, True

    def _finish(
        self, flight: concurrent.futures.Future[str], url: str | None, error: BaseException | None
    ) -> None:
        with self._lock:
            self._flight = None
            if url is not None:
                self._token_url = url
        if error is not None:
            flight.set_exception(error)
        else:
            flight.set_result(url or "")

    def resolve(self, client: httpx.Client) -> str:
        """The token endpoint URL, discovering it with ``client`` if needed."""
        url, flight, lead = self._begin()
        if url is not None:
            return url
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

    async def async_resolve(self, client: httpx.AsyncClient) -> str:
        """The token endpoint URL, discovering it with ``client`` if needed."""
        url, flight, lead = self._begin()
        if url is not None:
            return url
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

    def _get_sync(self, client: httpx.Client) -> httpx.Response:
        assert self._discovery_url is not None
        logger.debug("fetching OpenID configuration from %s", _describe_url(self._discovery_url))
        return client.get(self._discovery_url, headers={"Accept": "application/json"})

    async def _get_async(self, client: httpx.AsyncClient) -> httpx.Response:
        assert self._discovery_url is not None
        logger.debug("fetching OpenID configuration from %s", _describe_url(self._discovery_url))
        return await client.get(self._discovery_url, headers={"Accept": "application/json"})

    def _as_refresh_error(self, exc: BaseException) -> TokenRefreshError:
        assert self._discovery_url is not None
        where = _describe_url(self._discovery_url)
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

    def _interpret(self, response: httpx.Response) -> str:
        assert self._discovery_url is not None
        where = _describe_url(self._discovery_url)
        if response.status_code != 200:
            raise TokenEndpointUnavailableError(
                f"the OpenID configuration at {where} answered HTTP {response.status_code}",
                status_code=response.status_code,
            )
        document = _json_object(response)
        if document is None:
            raise TokenRefreshError(f"the OpenID configuration at {where} is not a JSON object")
        endpoint = document.get("token_endpoint")
        try:
            if not isinstance(endpoint, str):
                raise ValueError
            _check_url(endpoint, "token_endpoint")
        except ValueError:
            raise TokenRefreshError(
                f"the OpenID configuration at {where} has no valid token_endpoint"
            ) from None
        if urlsplit(self._discovery_url).scheme == "https" and urlsplit(endpoint).scheme != "https":
            raise TokenRefreshError(
                f"the OpenID configuration at {where} names a token_endpoint that is not https"
            )
        logger.debug("discovered token endpoint %s", _describe_url(endpoint))
        return endpoint


class OAuth2Grant:
    """Base class of the OAuth 2.0 grants a session can refresh with.

    Subclasses define ``grant_type`` and :meth:`_grant_params`; this class does the
    endpoint resolution, client authentication, the request and the response
    handling, for sync and async callers alike.
    """

    grant_type: ClassVar[str]

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
    ) -> None:
        self._endpoint = (
            TokenEndpoint(token_url=token_url, openid_configuration_url=openid_configuration_url)
            if token_url is not None or openid_configuration_url is not None
            else None
        )
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
        else:
            if client_id is None or client_secret is None:
                raise ValueError(f"auth_method {auth_method!r} needs client_id and client_secret")
        if isinstance(scopes, str):
            scope_list = tuple(scopes.split())
        else:
            scope_list = tuple(scopes or ())
            if not all(
                isinstance(s, str) and s and not any(c.isspace() for c in s) for s in scope_list
            ):
                raise ValueError("scopes must be non-empty strings without spaces")
        params = dict(extra_params or {})
        for key, value in params.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("extra_params must map strings to strings")
            if key in _RESERVED_PARAMS:
                raise ValueError(f"extra_params cannot set {key!r}; use the matching argument")
        self._client_id = client_id
        self._client_secret = client_secret
        self._auth_method: AuthMethod = auth_method
        self._scopes = scope_list
        self._extra_params = params

    def __repr__(self) -> str:
        parts = []
        if self._endpoint is not None:
            url = self._endpoint.token_url
            if url is not None and self._endpoint.openid_configuration_url is None:
                parts.append(f"token_url={_describe_url(url)!r}")
            else:
                discovery = self._endpoint.openid_configuration_url or ""
                parts.append(f"openid_configuration_url={_describe_url(discovery)!r}")
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

    # -- what subclasses define ---------------------------------------------------------

    def _grant_params(self, current: TokenSet | None) -> dict[str, str]:
        """Form parameters specific to the grant (``grant_type`` included)."""
        raise NotImplementedError

    def check_initial(self, token_set: TokenSet | None) -> None:
        """Raise ``ValueError`` if this grant cannot refresh ``token_set``."""

    # -- the request ----------------------------------------------------------------------

    def _secrets(self, current: TokenSet | None) -> tuple[str | None, ...]:
        if current is None:
            return (self._client_secret,)
        return (self._client_secret, current.access_token, current.refresh_token)

    def _build(self, current: TokenSet | None) -> tuple[dict[str, str], dict[str, str]]:
        form = self._grant_params(current)
        if self._scopes:
            form["scope"] = " ".join(self._scopes)
        form.update(self._extra_params)
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
        return form, headers

    def _endpoint_for(self, fallback: TokenEndpoint | None) -> TokenEndpoint:
        endpoint = self._endpoint or fallback
        if endpoint is None:  # the session checks this when it is built
            raise TokenRefreshError(f"{type(self).__name__} has no token endpoint")
        return endpoint

    def fetch(
        self,
        client: httpx.Client,
        current: TokenSet | None,
        *,
        clock: Clock,
        fallback_endpoint: TokenEndpoint | None = None,
    ) -> TokenSet:
        """Perform the grant with a sync client and return the new token set."""
        form, headers = self._build(current)
        url = self._endpoint_for(fallback_endpoint).resolve(client)
        logger.debug(
            "requesting a token (grant_type=%s) from %s", self.grant_type, _describe_url(url)
        )
        try:
            response = client.post(url, data=form, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._network_error(exc, url) from exc
        return self._interpret(response, current, clock)

    async def async_fetch(
        self,
        client: httpx.AsyncClient,
        current: TokenSet | None,
        *,
        clock: Clock,
        fallback_endpoint: TokenEndpoint | None = None,
    ) -> TokenSet:
        """Perform the grant with an async client and return the new token set."""
        form, headers = self._build(current)
        url = await self._endpoint_for(fallback_endpoint).async_resolve(client)
        logger.debug(
            "requesting a token (grant_type=%s) from %s", self.grant_type, _describe_url(url)
        )
        try:
            response = await client.post(url, data=form, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._network_error(exc, url) from exc
        return self._interpret(response, current, clock)

    def _network_error(self, exc: Exception, url: str) -> TokenEndpointUnavailableError:
        detail = safe_text(exc, self._secrets(None))
        return TokenEndpointUnavailableError(
            f"could not reach the token endpoint {_describe_url(url)} "
            f"({self.grant_type} grant): {type(exc).__name__}" + (f": {detail}" if detail else "")
        )

    def _interpret(
        self, response: httpx.Response, current: TokenSet | None, clock: Clock
    ) -> TokenSet:
        status = response.status_code
        body = _json_object(response)
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
                token_set = TokenSet(
                    access_token=token_set.access_token,
                    token_type=token_set.token_type,
                    expires_at=token_set.expires_at,
                    refresh_token=token_set.refresh_token,
                    scopes=self._scopes,
                )
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


class RefreshTokenGrant(OAuth2Grant):
    """Refresh with the session's refresh token (RFC 6749 section 6).

    ``scopes``, when given, are sent as ``scope`` on every refresh (they must be
    within the originally granted scopes); otherwise the server keeps the original
    scope. A rotated refresh token in the response replaces the old one.
    """

    grant_type = "refresh_token"

    def _grant_params(self, current: TokenSet | None) -> dict[str, str]:
        if current is None or current.refresh_token is None:
            raise TokenRequestRejectedError(
                "the session has no refresh token to refresh with; the session has ended",
                status_code=None,
                error="invalid_grant",
            )
        return {"grant_type": "refresh_token", "refresh_token": current.refresh_token}

    def check_initial(self, token_set: TokenSet | None) -> None:
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
    ) -> None:
        super().__init__(
            token_url=token_url,
            openid_configuration_url=openid_configuration_url,
            client_id=client_id,
            client_secret=client_secret,
            auth_method=auth_method,
            scopes=scopes,
            extra_params=extra_params,
        )

    def _grant_params(self, current: TokenSet | None) -> dict[str, str]:
        return {"grant_type": "client_credentials"}
