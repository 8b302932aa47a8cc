"""Transport glue: from an operation description and arguments to a parsed response.

Generated methods call ``SyncClientCore.request`` / ``AsyncClientCore.request`` with an
``OperationSpec``; everything about credentials (which alternative, which header, never
to another origin, one refresh-and-replay on 401), retries (which failures, which
methods, how long to wait) and errors is decided here.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, Literal, Protocol, TypedDict, TypeVar, Union

import httpx
import pydantic
from pydantic import BaseModel

from .encoding import (
    encode_body,
    encode_header,
    encode_path,
    encode_query_or_cookie,
    keep_dot_segments,
)
from .errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ClientError,
    MissingCredentialsError,
    PaginationError,
    ResponseValidationError,
    api_error_for,
)
from .retries import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_POLICY,
    IDEMPOTENCY_HEADER,
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    RetryPolicy,
    new_idempotency_key,
)
from .streaming import (
    AsyncBinaryContent,
    AsyncStreamedResponse,
    BinaryContent,
    StreamBody,
    StreamedResponse,
)
from .validation import NotJson, json_decoder, parse_leniently

T = TypeVar("T")

CredentialKind = Literal["token", "api_key", "basic"]
#: A timeout in seconds for the whole request, or httpx's per-phase ``Timeout``.
Timeout = Union[float, httpx.Timeout]
_MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Failures after which the same request may succeed: nothing arrived, or the connection broke.
_RETRYABLE_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)

# One logger per generated package ("<package>"), at DEBUG: one line per request sent.
logger = logging.getLogger(__name__.rpartition("._runtime")[0] or __name__)


class TokenProvider(Protocol):
    """What a client needs from a session; every generated package's ``Session`` fits it,
    so one session can serve clients generated from different specs."""

    @property
    def can_refresh(self) -> bool: ...

    def access_token(self) -> str: ...

    async def async_access_token(self) -> str: ...

    def refresh_after_rejection(self, rejected: str) -> str: ...

    async def async_refresh_after_rejection(self, rejected: str) -> str: ...


@dataclass(frozen=True)
class SchemeSpec:
    """A security scheme as the runtime needs it."""

    name: str
    kind: CredentialKind
    param_name: str = ""
    location: Literal["header", "query", "cookie", ""] = ""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    location: Literal["path", "query", "header", "cookie"]
    style: str = "form"
    explode: bool = True
    content_json: bool = False

    @cached_property
    def placeholder(self) -> str:
        """How a path parameter stands in the path template."""
        return "{" + self.name + "}"


@dataclass(frozen=True)
class ResponseSpec:
    """One declared response; ``load_type`` returns the body's type, so models load on first use."""

    status: str
    kind: Literal["json", "binary", "text", "empty"]
    load_type: Callable[[], Any] | None = None

    @cached_property
    def type(self) -> Any:
        return self.load_type() if self.load_type is not None else None

    @cached_property
    def decode_json(self) -> Callable[[bytes], Any]:
        """Validates a non-empty JSON body as ``type`` (chosen once: this runs on every call)."""
        return json_decoder(self.type)


@dataclass(frozen=True)
class PaginationSpec:
    """Where a page keeps its items, and the path to the next page's link or cursor.

    With ``cursor_param`` the value at ``next_path`` is an opaque cursor sent back in that query
    parameter; without, it is a link, followed only when it is a URL.
    """

    items: str
    next_path: tuple[str, ...]
    cursor_param: str | None = None


@dataclass(frozen=True)
class OperationSpec(Generic[T]):
    """Machine-readable description of one operation; ``T`` is its parsed success type."""

    name: str
    operation_id: str
    method: str
    path: str
    security: tuple[tuple[str, ...], ...]
    scopes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    params: tuple[ParamSpec, ...] = ()
    body_media_type: str | None = None
    body_kind: str | None = None
    responses: tuple[ResponseSpec, ...] = ()
    deprecated: bool = False
    accept: str | None = None  # the media types the client decodes, sent as Accept
    # The header of the operation's own idempotency key parameter, if it declares one: a key
    # is then generated for every call that does not give one.
    idempotency_header: str | None = None
    pagination: PaginationSpec | None = None

    @cached_property
    def http_method(self) -> str:
        return self.method.upper()

    @property
    def is_public(self) -> bool:
        return all(not alternative for alternative in self.security)

    @cached_property
    def responses_by_code(self) -> dict[int, ResponseSpec | None]:
        """The response spec of each status code met so far (filled by the client)."""
        return {}

    @cached_property
    def responses_by_status(self) -> dict[str, ResponseSpec]:
        by_status: dict[str, ResponseSpec] = {}
        for spec in self.responses:
            by_status.setdefault(
                spec.status.upper() if spec.status.upper().endswith("XX") else spec.status, spec
            )
        return by_status


@dataclass(frozen=True)
class RequestOptions:
    """Per-call options; generated methods take them as keyword arguments of the same names.

    ``timeout`` replaces the client's for this call; ``extra_headers`` and ``extra_query``
    are added to the request (they never replace the credentials the operation's security
    chose); ``max_retries`` replaces the client's; ``idempotency_key`` is sent as the
    operation's idempotency header (``Idempotency-Key`` unless the spec names another) and
    makes a POST or PATCH safe to retry.
    """

    timeout: Timeout | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, str] | None = None
    max_retries: int | None = None
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        if self.max_retries is not None:
            _check_retries(self.max_retries)


class CallOptions(TypedDict, total=False):
    """The per-call options every generated method takes as keyword arguments (see
    :class:`RequestOptions`): ``client.accounts.get_account("a1", timeout=5, max_retries=0)``."""

    timeout: Timeout | None
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, str] | None
    max_retries: int | None
    idempotency_key: str | None


def request_options(options: CallOptions) -> RequestOptions | None:
    """The options of one call, or ``None`` when it has none (the common case); an option given
    as ``None`` is one not given."""
    if not options or all(value is None for value in options.values()):
        return None
    unknown = options.keys() - CallOptions.__annotations__.keys()
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {', '.join(map(repr, sorted(unknown)))}")
    return RequestOptions(**options)


def _check_retries(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("max_retries must be an integer >= 0")
    return value


@dataclass(frozen=True)
class ApiResponse(Generic[T]):
    """The full response: status, headers (Retry-After, ETag...) and the parsed body."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    parsed: T


@dataclass(slots=True)
class _Prepared:
    """One call's request, before credentials."""

    operation: str
    method: str
    url: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    cookies: list[tuple[str, str]]
    user_headers: bool  # headers a caller chose, which credentials must win over
    content: bytes | None = None
    files: Any = None
    data: Any = None
    replayable: bool = True
    stream: StreamBody | None = None
    timeout: Timeout | None = None
    max_retries: int | None = None
    has_key: bool = False  # an idempotency key makes any method safe to retry
    note: str = ""  # why a retryable failure was not retried, for the error message


@dataclass(frozen=True, slots=True)
class _Route:
    """How one client sends one operation, chosen on its first call (credentials never change)."""

    op: OperationSpec[Any]  # kept so that its id, the key, cannot be reused by another
    alternative: tuple[str, ...]
    uses_token: bool
    fixed_credentials: bool  # whether the alternative has credentials other than the token


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


def _names_accept(headers: Mapping[str, str]) -> bool:
    return any(name.lower() == "accept" for name in headers)


def _drop_header(headers: dict[str, str], name: str) -> None:
    lowered = name.lower()
    for key in [key for key in headers if key.lower() == lowered]:
        del headers[key]


class ClientCore:
    """State and request preparation shared by the sync and async clients."""

    is_async = False
    _owns_http = False  # whether close() closes the HTTP client (not when it was given, or shared)

    def __init__(
        self,
        base_url: str,
        *,
        schemes: Mapping[str, SchemeSpec],
        credentials: Mapping[str, Any],
        session: TokenProvider | None,
        headers: Mapping[str, str] | None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_policy: RetryPolicy | None = None,
        strict_validation: bool = False,
    ) -> None:
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        self._base_path = base_url.rstrip("/")
        self._schemes = dict(schemes)
        self._credentials = {
            name: value for name, value in credentials.items() if value is not None
        }
        self._session = session
        self._headers = dict(headers or {})
        self._accept_chosen = _names_accept(self._headers)  # else each call sends its own Accept
        self._routes: dict[int, _Route] = {}
        self.max_retries = _check_retries(max_retries)
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise TypeError("retry_policy must be a RetryPolicy")
        self.retry_policy = retry_policy or DEFAULT_POLICY
        self.strict_validation = bool(strict_validation)
        # A timeout set by with_options; None leaves the HTTP client's own.
        self._timeout: Timeout | None = None
        self._query_secrets = frozenset(
            s.param_name
            for s in self._schemes.values()
            if s.kind == "api_key" and s.location == "query"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r})"

    @property
    def session(self) -> TokenProvider | None:
        return self._session

    def derive(
        self: _CoreT,
        *,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        strict_validation: bool | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> _CoreT:
        """A core sharing this one's HTTP client, session and credentials, with other defaults."""
        derived = copy.copy(self)
        derived._owns_http = False
        if timeout is not None:
            derived._timeout = timeout
        if max_retries is not None:
            derived.max_retries = _check_retries(max_retries)
        if headers is not None:
            derived._headers = {**self._headers, **headers}
            derived._accept_chosen = _names_accept(derived._headers)
        if strict_validation is not None:
            derived.strict_validation = bool(strict_validation)
        if retry_policy is not None:
            derived.retry_policy = retry_policy
        return derived

    # ------------------------------------------------------------ credentials

    def _available(self, scheme_name: str) -> bool:
        scheme = self._schemes.get(scheme_name)
        if scheme is None:
            return False
        if scheme.kind == "token":
            return self._session is not None
        return scheme_name in self._credentials

    def route(self, op: OperationSpec[Any]) -> _Route:
        """How this client sends ``op``, chosen on its first call: credentials never change.

        The entry keeps the operation alive, so its id is never another's while it is there.
        """
        route = self._routes.get(id(op))
        if route is None:
            alternative = self._choose(op)
            kinds = [self._schemes[name].kind for name in alternative]
            route = _Route(op, alternative, "token" in kinds, any(k != "token" for k in kinds))
            self._routes[id(op)] = route
        return route

    def _choose(self, op: OperationSpec[Any]) -> tuple[str, ...]:
        """The first alternative, in spec order, whose schemes are all available.

        The anonymous alternative ``{}`` is the fallback wherever it stands: optional
        security means "send credentials when you have them".
        """
        if op.is_public:
            return ()
        for alternative in op.security:
            if alternative and all(self._available(name) for name in alternative):
                return alternative
        if () in op.security:
            return ()
        raise MissingCredentialsError(
            op.operation_id, op.security, method=op.method.upper(), url=self._base_path + op.path
        )

    def apply_fixed_credentials(self, prepared: _Prepared, alternative: tuple[str, ...]) -> None:
        for name in alternative:
            scheme = self._schemes[name]
            if scheme.kind == "token":
                if prepared.user_headers:
                    _drop_header(prepared.headers, "Authorization")
                continue  # the bearer token is added per attempt, so a replay can carry a new one
            value = self._credentials[name]
            if scheme.kind == "api_key":
                if scheme.location == "header":
                    if prepared.user_headers:
                        _drop_header(prepared.headers, scheme.param_name)
                    prepared.headers[scheme.param_name] = str(value)
                elif scheme.location == "query":
                    prepared.params[:] = [
                        pair for pair in prepared.params if pair[0] != scheme.param_name
                    ]
                    prepared.params.append((scheme.param_name, str(value)))
                else:
                    if prepared.user_headers:
                        _drop_header(prepared.headers, "Cookie")
                    prepared.cookies.append((scheme.param_name, str(value)))
            elif scheme.kind == "basic":
                username, password = value
                raw = f"{username}:{password}".encode()
                if prepared.user_headers:
                    _drop_header(prepared.headers, "Authorization")
                prepared.headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")

    # ------------------------------------------------------------ requests

    def prepare_call(
        self,
        op: OperationSpec[Any],
        args: Sequence[Any],
        body: Any,
        options: RequestOptions | None,
    ) -> tuple[_Prepared, bool]:
        """One call's request with its fixed credentials, and whether it carries the token."""
        route = self.route(op)
        prepared = self.prepare(op, args, body, options)
        if route.fixed_credentials or prepared.user_headers:
            self.apply_fixed_credentials(prepared, route.alternative)
        return prepared, route.uses_token

    def prepare(
        self,
        op: OperationSpec[Any],
        args: Sequence[Any],
        body: Any,
        options: RequestOptions | None = None,
    ) -> _Prepared:
        path = op.path
        params: list[tuple[str, str]] = []
        headers = self._headers.copy()
        cookies: list[tuple[str, str]] = []
        for spec, value in zip(op.params, args):
            if value is None:
                continue
            location = spec.location
            if location == "path":
                path = path.replace(
                    spec.placeholder, encode_path(spec.name, value, spec.style, spec.explode)
                )
            elif location == "query":
                params.extend(
                    encode_query_or_cookie(
                        spec.name, value, spec.style, spec.explode, spec.content_json
                    )
                )
            elif location == "header":
                headers[spec.name] = encode_header(value, spec.explode, spec.content_json)
            else:
                cookies.extend(
                    encode_query_or_cookie(
                        spec.name, value, spec.style, spec.explode, spec.content_json
                    )
                )
        if "/." in path:
            path = keep_dot_segments(path)
        if op.accept and not self._accept_chosen:
            headers["Accept"] = op.accept
        prepared = _Prepared(
            op.operation_id,
            op.http_method,
            self._base_path + path,
            params,
            headers,
            cookies,
            bool(self._headers),
        )
        if body is not None and op.body_media_type is not None:
            encoded = encode_body(
                body, op.body_kind or "json", op.body_media_type, is_async=self.is_async
            )
            prepared.data, prepared.files = encoded.data, encoded.files
            if isinstance(encoded.content, StreamBody):
                prepared.stream = encoded.content
                if encoded.content.length is not None:
                    headers["Content-Length"] = str(encoded.content.length)
            else:
                prepared.content = encoded.content
            prepared.replayable = encoded.replayable
            if encoded.content_type:
                headers["Content-Type"] = encoded.content_type
        key = None
        if options is not None:
            if options.extra_headers:
                headers.update(options.extra_headers)
                prepared.user_headers = True
            if options.extra_query:
                params.extend(
                    (str(name), str(value)) for name, value in options.extra_query.items()
                )
            prepared.timeout = options.timeout
            prepared.max_retries = options.max_retries
            key = options.idempotency_key
        if key is None and op.idempotency_header is not None:
            key = new_idempotency_key()  # one key per call, the same on every attempt
        if key is not None:
            headers[op.idempotency_header or IDEMPOTENCY_HEADER] = key
            prepared.has_key = True
        return prepared

    def prepare_link(
        self, op: OperationSpec[Any], url: httpx.URL, options: RequestOptions | None = None
    ) -> _Prepared:
        """A GET of a next-page link, with the call's extra headers and timeout."""
        headers = self._headers.copy()
        prepared = _Prepared(op.operation_id, "GET", str(url), [], headers, [], bool(headers))
        if op.accept:
            prepared.headers.setdefault("Accept", op.accept)
        if options is not None:
            if options.extra_headers:
                prepared.headers.update(options.extra_headers)
                prepared.user_headers = True
            prepared.timeout = options.timeout
            prepared.max_retries = options.max_retries
        return prepared

    def build(
        self, http: httpx.Client | httpx.AsyncClient, prepared: _Prepared, token: str | None
    ) -> httpx.Request:
        headers = prepared.headers  # already the request's own copy
        if token is not None:
            headers["Authorization"] = (
                f"Bearer {token}"  # a replay overwrites it with the new token
            )
        if prepared.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in prepared.cookies)
        timeout = prepared.timeout if prepared.timeout is not None else self._timeout
        return http.build_request(
            prepared.method,
            prepared.url,
            params=tuple(prepared.params) if prepared.params else None,
            headers=headers,
            content=prepared.content if prepared.stream is None else prepared.stream.open(),
            data=prepared.data,
            files=prepared.files,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )

    def credentials_for_link(
        self, op: OperationSpec[Any], url: httpx.URL
    ) -> tuple[tuple[str, ...], bool]:
        """The security alternative for a next-page link, and whether it uses the token:
        the operation's own at the client's origin, none anywhere else."""
        if not self.same_origin(url):
            return (), False
        route = self.route(op)
        return route.alternative, route.uses_token

    def same_origin(self, url: httpx.URL) -> bool:
        return _origin(url) == _origin(self.base_url)

    def redirect_request(
        self, response: httpx.Response, request: httpx.Request, prepared: _Prepared | None = None
    ) -> httpx.Request | None:
        """The request that follows a redirect, without credentials when it leaves our origin.

        A streamed body is sent again only when it can be (``prepared`` says how); otherwise
        the redirect is not followed.
        """
        if response.status_code not in _REDIRECT_STATUSES or "location" not in response.headers:
            return None
        url = request.url.join(response.headers["location"])
        method = request.method
        keeps_body = method not in ("GET", "HEAD")
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            method, keeps_body = "GET", False
        content: Any = None
        if keeps_body:
            if prepared is not None and prepared.stream is not None:
                if not prepared.stream.replayable:
                    return None
                content = prepared.stream.open()
            else:
                content = request.content
        headers = httpx.Headers(request.headers)
        headers.pop("Host", None)
        if not self.same_origin(url):
            self.strip_credentials(headers)
        if not keeps_body:
            headers.pop("Content-Length", None)
            headers.pop("Content-Type", None)
            headers.pop("Transfer-Encoding", None)
        return httpx.Request(
            method, url, headers=headers, content=content, extensions=request.extensions
        )

    def strip_credentials(self, headers: httpx.Headers) -> None:
        headers.pop("Authorization", None)
        headers.pop("Cookie", None)
        for scheme in self._schemes.values():
            if scheme.kind == "api_key" and scheme.location == "header":
                headers.pop(scheme.param_name, None)

    # ------------------------------------------------------------ responses and errors

    def safe_url(self, prepared: _Prepared) -> str:
        """The request's URL for errors and logs: no query credentials, no user info."""
        url = httpx.URL(prepared.url)
        if url.userinfo:
            url = url.copy_with(username=None, password=None)
        secrets = self._query_secrets
        query = [
            (k, v) for k, v in [*url.params.multi_items(), *prepared.params] if k not in secrets
        ]
        return str(url.copy_with(params=query))

    def parse(
        self, op: OperationSpec[T], response: httpx.Response, prepared: _Prepared | None = None
    ) -> ApiResponse[T]:
        parsed = self.parse_body(op, response, prepared)
        return ApiResponse(response.status_code, response.headers, response.content, parsed)

    def parse_body(
        self, op: OperationSpec[T], response: httpx.Response, prepared: _Prepared | None = None
    ) -> T:
        """The parsed body of a 2xx response; any other status raises its ``ApiError``."""
        status = response.status_code
        if not 200 <= status < 300:
            raise self.status_error(op, response, prepared)
        spec = _response_spec(op, status)
        if spec is None:
            return None  # type: ignore[return-value]
        content = response.content
        if spec.kind != "json":
            return _decode(spec, content)  # type: ignore[no-any-return]
        if not content:
            return None  # type: ignore[return-value]
        try:
            return spec.decode_json(content)  # type: ignore[no-any-return]
        except ValueError as exc:  # pydantic's ValidationError is one too
            return self._mismatch(op, spec, response, prepared, exc)  # type: ignore[no-any-return]

    def _mismatch(
        self,
        op: OperationSpec[Any],
        spec: ResponseSpec,
        response: httpx.Response,
        prepared: _Prepared | None,
        exc: ValueError,
    ) -> Any:
        """A body that does not validate: built leniently, or ``ResponseValidationError``."""
        if not isinstance(exc, pydantic.ValidationError):  # not JSON, where no type is declared
            raise self._validation_error(
                op, response, prepared, [{"loc": (), "msg": str(exc), "type": "json_invalid"}]
            ) from None
        errors = exc.errors(include_url=False, include_input=False)
        if self.strict_validation:
            raise self._validation_error(op, response, prepared, errors) from None
        try:
            value = parse_leniently(spec.type, response.content)
        except (NotJson, TypeError) as error:
            raise self._validation_error(op, response, prepared, errors) from error
        logger.debug(
            "%s: the response does not match its schema (%d errors); kept as received",
            op.operation_id,
            len(errors),
        )
        return value

    def _validation_error(
        self,
        op: OperationSpec[Any],
        response: httpx.Response,
        prepared: _Prepared | None,
        errors: Sequence[Any],
    ) -> ResponseValidationError:
        return ResponseValidationError(
            op.operation_id,
            response.status_code,
            response.headers,
            response.content,
            errors,
            method=prepared.method if prepared else response.request.method,
            url=self.safe_url(prepared) if prepared else None,
        )

    def status_error(
        self, op: OperationSpec[Any], response: httpx.Response, prepared: _Prepared | None
    ) -> ApiError:
        status = response.status_code
        content = response.content
        spec = _response_spec(op, status)
        body: Any = None
        try:
            body = (
                _decode(spec, content)
                if spec is not None
                else (json.loads(content) if content else None)
            )
        except Exception:
            try:
                body = json.loads(content) if content else None
            except ValueError:
                body = None
        retry_after = (
            self.retry_policy.server_wait(response.headers) if status in RETRY_STATUSES else None
        )
        return api_error_for(
            op.operation_id,
            status,
            response.headers,
            content,
            body,
            method=prepared.method if prepared else None,
            url=self.safe_url(prepared) if prepared else None,
            retry_after=retry_after,
            note=prepared.note if prepared else "",
        )

    def connection_error(
        self, prepared: _Prepared, exc: Exception, attempts: int
    ) -> ApiConnectionError:
        cls = ApiTimeoutError if isinstance(exc, httpx.TimeoutException) else ApiConnectionError
        # httpx's messages name the failure ("[Errno 111] Connection refused"), never a credential.
        return cls(
            f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
            operation=prepared.operation or None,
            method=prepared.method,
            url=self.safe_url(prepared),
            attempts=attempts,
        )

    def with_call(self, error: ClientError, prepared: _Prepared) -> ClientError:
        """A session error raised during a call, carrying the call's operation, method and URL."""
        if error.operation is not None or error.method is not None:
            return error
        try:
            located = copy.copy(error)
        except Exception:
            return error
        located.operation = prepared.operation or None
        located.method = prepared.method
        located.url = self.safe_url(prepared)
        return located

    # ------------------------------------------------------------ retries

    def may_repeat(self, prepared: _Prepared, attempt: int) -> bool:
        """Whether a failed attempt may be followed by another (the count and the method)."""
        limit = prepared.max_retries if prepared.max_retries is not None else self.max_retries
        if attempt > limit:
            return False
        if not prepared.replayable:
            return False
        return prepared.has_key or prepared.method in IDEMPOTENT_METHODS

    def status_wait(
        self, prepared: _Prepared, response: httpx.Response, attempt: int
    ) -> float | None:
        """Seconds to wait before retrying after this response, or ``None``: do not retry."""
        if response.status_code not in RETRY_STATUSES or not self.may_repeat(prepared, attempt):
            return None
        policy = self.retry_policy
        asked = policy.server_wait(response.headers)
        if asked is None:
            return policy.backoff(attempt)
        if asked > policy.max_retry_after:
            prepared.note = (
                f"the server asked to retry in {asked:g} s, longer than the {policy.max_retry_after:g} s "
                "this client waits; not retried"
            )
            return None
        return asked

    def log_exchange(
        self,
        prepared: _Prepared,
        outcome: str,
        started: float,
        attempt: int,
        replayed: bool,
        then: str = "",
    ) -> None:
        """One DEBUG line per request sent: never a credential (see ``safe_url``), never a body."""
        logger.debug(
            "%s %s -> %s (%.1f ms, attempt %d%s)%s",
            prepared.method,
            self.safe_url(prepared),
            outcome,
            (time.perf_counter() - started) * 1000.0,
            attempt,
            ", replayed after a token refresh" if replayed else "",
            then,
        )


def _retrying(wait: float | None) -> str:
    return f"; retrying in {wait:.2f} s" if wait is not None else ""


_CoreT = TypeVar("_CoreT", bound=ClientCore)


def _response_spec(op: OperationSpec[Any], status: int) -> ResponseSpec | None:
    """The declared response for a status: exact, then its range (2XX), then default."""
    known = op.responses_by_code
    if status in known:
        return known[status]
    by_status = op.responses_by_status
    spec = (
        by_status.get(str(status))
        or by_status.get(f"{str(status)[0]}XX")
        or by_status.get("default")
    )
    known[status] = spec
    return spec


def _decode(spec: ResponseSpec, content: bytes) -> Any:
    if spec.kind == "json":
        return spec.decode_json(content) if content else None
    if spec.kind == "binary":
        return content
    if spec.kind == "text":
        return content.decode("utf-8", errors="replace")
    return None


def next_value(op: OperationSpec[Any], page: Any, seen: set[str]) -> str | None:
    """The link or cursor naming the page after ``page``; None at the end (or on a repeat)."""
    assert op.pagination is not None
    value = dig(page, op.pagination.next_path)
    if not isinstance(value, str) or not value or value in seen:
        return None
    seen.add(value)
    return value


def checked_link(op: OperationSpec[Any], value: str) -> str:
    if not value.startswith(("http://", "https://", "/", "?")):
        raise PaginationError(
            f"{op.operation_id}: the next-page link {value[:40]!r} is not a URL; the client does not guess one"
        )
    return value


def with_cursor(op: OperationSpec[Any], args: Sequence[Any], cursor: str) -> list[Any]:
    """``args`` with ``cursor`` in the operation's cursor parameter."""
    assert op.pagination is not None
    cursor_args = list(args) + [None] * (len(op.params) - len(args))
    for index, param in enumerate(op.params):
        if param.location == "query" and param.name == op.pagination.cursor_param:
            cursor_args[index] = cursor
    return cursor_args


def dig(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        if isinstance(data, BaseModel):
            data = (data.model_extra or {}).get(key, getattr(data, _field_for(data, key), None))
        elif isinstance(data, Mapping):
            data = data.get(key)
        else:
            return None
    return data


def _field_for(model: BaseModel, alias: str) -> str:
    for name, info in type(model).model_fields.items():
        if alias in (info.alias, info.validation_alias, info.serialization_alias, name):
            return name
    return alias


def _carried(response: httpx.Response, token: str) -> bool:
    """Whether the request that got ``response`` (after redirects) carried ``token``."""
    carried: str | None = response.request.headers.get("Authorization")
    return carried == f"Bearer {token}"


class SyncClientCore(ClientCore):
    def __init__(
        self, base_url: str, *, http_client: httpx.Client | None, timeout: Timeout, **kwargs: Any
    ) -> None:
        super().__init__(base_url, **kwargs)
        self._owns_http = http_client is None
        self.http = http_client if http_client is not None else httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def call(
        self,
        op: OperationSpec[T],
        args: Sequence[Any] = (),
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> T:
        """The parsed body of one call of ``op`` (what the generated methods return)."""
        prepared, uses_token = self.prepare_call(op, args, body, options)
        return self.parse_body(op, self._send_prepared(prepared, uses_token), prepared)

    def request(
        self,
        op: OperationSpec[T],
        args: Sequence[Any] = (),
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> ApiResponse[T]:
        """One call of ``op``: status, headers and parsed body."""
        prepared, uses_token = self.prepare_call(op, args, body, options)
        return self.parse(op, self._send_prepared(prepared, uses_token), prepared)

    def stream(
        self,
        op: OperationSpec[Any],
        args: Sequence[Any] = (),
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> StreamedResponse:
        """A response to read in chunks; the request is sent when its ``with`` block starts."""
        prepared, uses_token = self.prepare_call(op, args, body, options)

        def open_response() -> httpx.Response:
            response = self._send_prepared(prepared, uses_token, stream=True)
            if not 200 <= response.status_code < 300:
                try:
                    response.read()
                finally:
                    response.close()
                raise self.status_error(op, response, prepared)
            return response

        return StreamedResponse(open_response, lambda exc: self.connection_error(prepared, exc, 1))

    def _send_prepared(
        self, prepared: _Prepared, uses_token: bool, *, stream: bool = False
    ) -> httpx.Response:
        """Send with the operation's credentials, retrying what may be retried.

        A 401 to a request that carried the session's current token refreshes it once per
        call (never once per attempt) and replays the request when its body can be sent again.
        """
        session = self._session if uses_token else None
        refreshed = False
        debug = logger.isEnabledFor(logging.DEBUG)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter() if debug else 0.0
            after_refresh = False
            note = ""
            try:
                token = session.access_token() if session is not None else None
                response = self._send(self.build(self.http, prepared, token), prepared, stream)
                if (
                    response.status_code == 401
                    and token is not None
                    and not refreshed
                    and session is not None
                    and session.can_refresh
                    and _carried(response, token)
                ):
                    refreshed = True
                    if prepared.replayable:
                        response.close()
                        if debug:
                            self.log_exchange(
                                prepared, "401", started, attempt, False, "; refreshing the token"
                            )
                        token = session.refresh_after_rejection(token)
                        started, after_refresh = time.perf_counter(), True
                        response = self._send(
                            self.build(self.http, prepared, token), prepared, stream
                        )
                    else:
                        # The body cannot be sent again; the caller's next call gets a new token.
                        session.refresh_after_rejection(token)
                        note = "; token refreshed, not replayed: the body cannot be sent again"
            except ClientError as exc:
                located = self.with_call(exc, prepared)
                if located is exc:
                    raise
                raise located from exc
            except _RETRYABLE_ERRORS as exc:
                wait = (
                    self.retry_policy.backoff(attempt)
                    if self.may_repeat(prepared, attempt)
                    else None
                )
                if debug:
                    self.log_exchange(
                        prepared,
                        type(exc).__name__,
                        started,
                        attempt,
                        after_refresh,
                        _retrying(wait),
                    )
                if wait is None:
                    raise self.connection_error(prepared, exc, attempt) from exc
                self.retry_policy.sleep(wait)
                continue
            except httpx.RequestError as exc:
                raise self.connection_error(prepared, exc, attempt) from exc
            wait = (
                self.status_wait(prepared, response, attempt)
                if response.status_code in RETRY_STATUSES
                else None
            )
            if debug:
                self.log_exchange(
                    prepared,
                    str(response.status_code),
                    started,
                    attempt,
                    after_refresh,
                    note or _retrying(wait),
                )
            if wait is None:
                return response
            response.close()
            self.retry_policy.sleep(wait)

    def _send(
        self, request: httpx.Request, prepared: _Prepared | None = None, stream: bool = False
    ) -> httpx.Response:
        response = self.http.send(request, follow_redirects=False, stream=stream)
        if response.status_code not in _REDIRECT_STATUSES:
            return response
        for _ in range(_MAX_REDIRECTS):
            follow = self.redirect_request(response, request, prepared)
            if follow is None:
                break
            response.close()
            request = follow
            response = self.http.send(request, follow_redirects=False, stream=stream)
        return response

    def follow_link(
        self, op: OperationSpec[Any], link: str, options: RequestOptions | None = None
    ) -> ApiResponse[Any]:
        """GET a next-page link; credentials go only to the client's own origin."""
        url = self.base_url.join(link)
        alternative, uses_token = self.credentials_for_link(op, url)
        prepared = self.prepare_link(op, url, options)
        self.apply_fixed_credentials(prepared, alternative)
        return self.parse(op, self._send_prepared(prepared, uses_token), prepared)

    def paginate(
        self,
        op: OperationSpec[Any],
        args: Sequence[Any],
        body: Any,
        options: RequestOptions | None = None,
    ) -> Iterator[Any]:
        """Every item of every page, from the first request to the last page."""
        assert op.pagination is not None
        page = self.request(op, args, body, options)
        seen: set[str] = set()
        while True:
            yield from dig(page.parsed, (op.pagination.items,)) or ()
            value = next_value(op, page.parsed, seen)
            if value is None:
                return
            if op.pagination.cursor_param is None:
                page = self.follow_link(op, checked_link(op, value), options)
            else:
                page = self.request(op, with_cursor(op, args, value), body, options)


class AsyncClientCore(ClientCore):
    is_async = True

    def __init__(
        self,
        base_url: str,
        *,
        http_client: httpx.AsyncClient | None,
        timeout: Timeout,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        self._owns_http = http_client is None
        self.http = http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def call(
        self,
        op: OperationSpec[T],
        args: Sequence[Any] = (),
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> T:
        """The parsed body of one call of ``op`` (what the generated methods return)."""
        prepared, uses_token = self.prepare_call(op, args, body, options)
        return self.parse_body(op, await self._send_prepared(prepared, uses_token), prepared)

    async def request(
        self,
        op: OperationSpec[T],
        args: Sequence[Any] = (),
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> ApiResponse[T]:
        """One call of ``op``: status, headers and parsed body."""
        prepared, uses_token = self.prepare_call(op, args, body, options)
        return self.parse(op, await self._send_prepared(prepared, uses_token), prepared)

    def stream(
        self,
        op: OperationSpec[Any],
        args: Sequence[Any] = (),
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> AsyncStreamedResponse:
        """A response to read in chunks; the request is sent when its ``async with`` block starts."""
        prepared, uses_token = self.prepare_call(op, args, body, options)

        async def open_response() -> httpx.Response:
            response = await self._send_prepared(prepared, uses_token, stream=True)
            if not 200 <= response.status_code < 300:
                try:
                    await response.aread()
                finally:
                    await response.aclose()
                raise self.status_error(op, response, prepared)
            return response

        return AsyncStreamedResponse(
            open_response, lambda exc: self.connection_error(prepared, exc, 1)
        )

    async def _send_prepared(
        self, prepared: _Prepared, uses_token: bool, *, stream: bool = False
    ) -> httpx.Response:
        """Send with the operation's credentials, retrying what may be retried.

        A 401 to a request that carried the session's current token refreshes it once per
        call (never once per attempt) and replays the request when its body can be sent again.
        """
        session = self._session if uses_token else None
        refreshed = False
        debug = logger.isEnabledFor(logging.DEBUG)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter() if debug else 0.0
            after_refresh = False
            note = ""
            try:
                token = await session.async_access_token() if session is not None else None
                response = await self._send(
                    self.build(self.http, prepared, token), prepared, stream
                )
                if (
                    response.status_code == 401
                    and token is not None
                    and not refreshed
                    and session is not None
                    and session.can_refresh
                    and _carried(response, token)
                ):
                    refreshed = True
                    if prepared.replayable:
                        await response.aclose()
                        if debug:
                            self.log_exchange(
                                prepared, "401", started, attempt, False, "; refreshing the token"
                            )
                        token = await session.async_refresh_after_rejection(token)
                        started, after_refresh = time.perf_counter(), True
                        response = await self._send(
                            self.build(self.http, prepared, token), prepared, stream
                        )
                    else:
                        # The body cannot be sent again; the caller's next call gets a new token.
                        await session.async_refresh_after_rejection(token)
                        note = "; token refreshed, not replayed: the body cannot be sent again"
            except ClientError as exc:
                located = self.with_call(exc, prepared)
                if located is exc:
                    raise
                raise located from exc
            except _RETRYABLE_ERRORS as exc:
                wait = (
                    self.retry_policy.backoff(attempt)
                    if self.may_repeat(prepared, attempt)
                    else None
                )
                if debug:
                    self.log_exchange(
                        prepared,
                        type(exc).__name__,
                        started,
                        attempt,
                        after_refresh,
                        _retrying(wait),
                    )
                if wait is None:
                    raise self.connection_error(prepared, exc, attempt) from exc
                await self.retry_policy.async_sleep(wait)
                continue
            except httpx.RequestError as exc:
                raise self.connection_error(prepared, exc, attempt) from exc
            wait = (
                self.status_wait(prepared, response, attempt)
                if response.status_code in RETRY_STATUSES
                else None
            )
            if debug:
                self.log_exchange(
                    prepared,
                    str(response.status_code),
                    started,
                    attempt,
                    after_refresh,
                    note or _retrying(wait),
                )
            if wait is None:
                return response
            await response.aclose()
            await self.retry_policy.async_sleep(wait)

    async def _send(
        self, request: httpx.Request, prepared: _Prepared | None = None, stream: bool = False
    ) -> httpx.Response:
        response = await self.http.send(request, follow_redirects=False, stream=stream)
        if response.status_code not in _REDIRECT_STATUSES:
            return response
        for _ in range(_MAX_REDIRECTS):
            follow = self.redirect_request(response, request, prepared)
            if follow is None:
                break
            await response.aclose()
            request = follow
            response = await self.http.send(request, follow_redirects=False, stream=stream)
        return response

    async def follow_link(
        self, op: OperationSpec[Any], link: str, options: RequestOptions | None = None
    ) -> ApiResponse[Any]:
        url = self.base_url.join(link)
        alternative, uses_token = self.credentials_for_link(op, url)
        prepared = self.prepare_link(op, url, options)
        self.apply_fixed_credentials(prepared, alternative)
        return self.parse(op, await self._send_prepared(prepared, uses_token), prepared)

    async def paginate(
        self,
        op: OperationSpec[Any],
        args: Sequence[Any],
        body: Any,
        options: RequestOptions | None = None,
    ) -> AsyncIterator[Any]:
        """Every item of every page, from the first request to the last page."""
        assert op.pagination is not None
        page = await self.request(op, args, body, options)
        seen: set[str] = set()
        while True:
            for item in dig(page.parsed, (op.pagination.items,)) or ():
                yield item
            value = next_value(op, page.parsed, seen)
            if value is None:
                return
            if op.pagination.cursor_param is None:
                page = await self.follow_link(op, checked_link(op, value), options)
            else:
                page = await self.request(op, with_cursor(op, args, value), body, options)


__all__ = [
    "ApiResponse",
    "AsyncBinaryContent",
    "AsyncClientCore",
    "AsyncStreamedResponse",
    "BinaryContent",
    "CallOptions",
    "ClientError",
    "OperationSpec",
    "PaginationSpec",
    "ParamSpec",
    "RequestOptions",
    "ResponseSpec",
    "RetryPolicy",
    "SchemeSpec",
    "StreamedResponse",
    "SyncClientCore",
    "Timeout",
    "request_options",
]
