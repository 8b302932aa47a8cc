"""Transport glue: from an operation description and arguments to a parsed response.

Generated methods call ``SyncClientCore.request`` / ``AsyncClientCore.request`` with an
``OperationSpec``; everything about credentials (which alternative, which header,
never to another origin, one refresh-and-replay on 401) is decided here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from functools import cached_property
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from .encoding import encode_body, encode_path, encode_query_or_cookie, encode_header
from .errors import ClientError, MissingCredentialsError, api_error_for

T = TypeVar("T")

CredentialKind = Literal["token", "api_key", "basic"]
_MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


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


@dataclass(frozen=True)
class ResponseSpec:
    """One declared response; ``load_type`` returns the body's type, so models load on first use."""

    status: str
    kind: Literal["json", "binary", "text", "empty"]
    load_type: Callable[[], Any] | None = None

    @cached_property
    def type(self) -> Any:
        return self.load_type() if self.load_type is not None else None


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
    pagination: PaginationSpec | None = None

    @property
    def is_public(self) -> bool:
        return all(not alternative for alternative in self.security)

    @cached_property
    def responses_by_status(self) -> dict[str, ResponseSpec]:
        by_status: dict[str, ResponseSpec] = {}
        for spec in self.responses:
            by_status.setdefault(
                spec.status.upper() if spec.status.upper().endswith("XX") else spec.status, spec
            )
        return by_status


@dataclass(frozen=True)
class ApiResponse(Generic[T]):
    """The full response: status, headers (Retry-After, ETag...) and the parsed body."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    parsed: T


@dataclass
class _Prepared:
    method: str
    url: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    cookies: list[tuple[str, str]]
    content: bytes | None = None
    files: Any = None
    data: Any = None
    replayable: bool = True


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(tp)
    if adapter is None:
        adapter = TypeAdapter(tp)
        _ADAPTERS[tp] = adapter
    return adapter


def parse_json(tp: Any, content: bytes) -> Any:
    if tp is None or tp is Any:
        return json.loads(content) if content else None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp.model_validate_json(content)
    return _adapter(tp).validate_json(content)


class PaginationError(ClientError):
    """A page names its successor in a way the client will not follow (a next link that is no URL)."""


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


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


class ClientCore:
    """State and request preparation shared by the sync and async clients."""

    def __init__(
        self,
        base_url: str,
        *,
        schemes: Mapping[str, SchemeSpec],
        credentials: Mapping[str, Any],
        session: TokenProvider | None,
        headers: Mapping[str, str] | None,
    ) -> None:
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        self._base_path = base_url.rstrip("/")
        self._schemes = dict(schemes)
        self._credentials = {
            name: value for name, value in credentials.items() if value is not None
        }
        self._session = session
        self._headers = dict(headers or {})
        self._chosen: dict[int, tuple[OperationSpec[Any], tuple[str, ...]]] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r})"

    @property
    def session(self) -> TokenProvider | None:
        return self._session

    # ------------------------------------------------------------ credentials

    def _available(self, scheme_name: str) -> bool:
        scheme = self._schemes.get(scheme_name)
        if scheme is None:
            return False
        if scheme.kind == "token":
            return self._session is not None
        return scheme_name in self._credentials

    def choose_alternative(self, op: OperationSpec[Any]) -> tuple[str, ...]:
        """The first alternative, in spec order, whose schemes are all available.

        The anonymous alternative ``{}`` is the fallback wherever it stands: optional
        security means "send credentials when you have them".
        """
        # A client's credentials never change, so each operation's choice is made once. The
        # entry keeps the operation alive, so its id cannot be reused by another.
        entry = self._chosen.get(id(op))
        if entry is None or entry[0] is not op:
            entry = (op, self._choose(op))
            self._chosen[id(op)] = entry
        return entry[1]

    def _choose(self, op: OperationSpec[Any]) -> tuple[str, ...]:
        if op.is_public:
            return ()
        for alternative in op.security:
            if alternative and all(self._available(name) for name in alternative):
                return alternative
        if () in op.security:
            return ()
        raise MissingCredentialsError(op.operation_id, op.security)

    def uses_token(self, alternative: tuple[str, ...]) -> bool:
        return any(self._schemes[name].kind == "token" for name in alternative)

    def apply_fixed_credentials(self, prepared: _Prepared, alternative: tuple[str, ...]) -> None:
        for name in alternative:
            scheme = self._schemes[name]
            if scheme.kind == "token":
                continue  # the bearer token is added per attempt, so a replay can carry a new one
            value = self._credentials[name]
            if scheme.kind == "api_key":
                if scheme.location == "header":
                    prepared.headers[scheme.param_name] = str(value)
                elif scheme.location == "query":
                    prepared.params.append((scheme.param_name, str(value)))
                else:
                    prepared.cookies.append((scheme.param_name, str(value)))
            elif scheme.kind == "basic":
                username, password = value
                raw = f"{username}:{password}".encode()
                prepared.headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")

    # ------------------------------------------------------------ requests

    def prepare(self, op: OperationSpec[Any], args: Sequence[Any], body: Any) -> _Prepared:
        path = op.path
        params: list[tuple[str, str]] = []
        headers = dict(self._headers)
        cookies: list[tuple[str, str]] = []
        for spec, value in zip(op.params, args):
            if value is None:
                continue
            if spec.location == "path":
                path = path.replace(
                    "{" + spec.name + "}", encode_path(spec.name, value, spec.style, spec.explode)
                )
            elif spec.location == "query":
                params.extend(
                    encode_query_or_cookie(
                        spec.name, value, spec.style, spec.explode, spec.content_json
                    )
                )
            elif spec.location == "header":
                headers[spec.name] = encode_header(value, spec.explode, spec.content_json)
            else:
                cookies.extend(
                    encode_query_or_cookie(
                        spec.name, value, spec.style, spec.explode, spec.content_json
                    )
                )
        if op.accept and not any(name.lower() == "accept" for name in headers):
            headers["Accept"] = op.accept
        prepared = _Prepared(op.method.upper(), self._base_path + path, params, headers, cookies)
        if body is not None and op.body_media_type is not None:
            encoded = encode_body(body, op.body_kind or "json", op.body_media_type)
            prepared.content, prepared.data, prepared.files = (
                encoded.content,
                encoded.data,
                encoded.files,
            )
            prepared.replayable = encoded.replayable
            if encoded.content_type:
                prepared.headers["Content-Type"] = encoded.content_type
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
        return http.build_request(
            prepared.method,
            prepared.url,
            params=tuple(prepared.params) if prepared.params else None,
            headers=headers,
            content=prepared.content,
            data=prepared.data,
            files=prepared.files,
        )

    def same_origin(self, url: httpx.URL) -> bool:
        return _origin(url) == _origin(self.base_url)

    def redirect_request(
        self, response: httpx.Response, request: httpx.Request
    ) -> httpx.Request | None:
        """The request that follows a redirect, without credentials when it leaves our origin."""
        if response.status_code not in _REDIRECT_STATUSES or "location" not in response.headers:
            return None
        url = request.url.join(response.headers["location"])
        method = request.method
        content: bytes | None = request.content if method not in ("GET", "HEAD") else None
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            method, content = "GET", None
        headers = httpx.Headers(request.headers)
        headers.pop("Host", None)
        if not self.same_origin(url):
            self.strip_credentials(headers)
        if content is None:
            headers.pop("Content-Length", None)
            headers.pop("Content-Type", None)
        return httpx.Request(method, url, headers=headers, content=content)

    def strip_credentials(self, headers: httpx.Headers) -> None:
        headers.pop("Authorization", None)
        headers.pop("Cookie", None)
        for scheme in self._schemes.values():
            if scheme.kind == "api_key" and scheme.location == "header":
                headers.pop(scheme.param_name, None)

    def parse(self, op: OperationSpec[T], response: httpx.Response) -> ApiResponse[T]:
        status = response.status_code
        content = response.content
        spec = _response_spec(op, status)
        if 200 <= status < 300:
            parsed: Any = None
            if spec is not None:
                parsed = _decode(spec, content)
            return ApiResponse(status, response.headers, content, parsed)
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
        raise api_error_for(op.operation_id, status, response.headers, content, body)


def _response_spec(op: OperationSpec[Any], status: int) -> ResponseSpec | None:
    """The declared response for a status: exact, then its range (2XX), then default."""
    by_status = op.responses_by_status
    return (
        by_status.get(str(status))
        or by_status.get(f"{str(status)[0]}XX")
        or by_status.get("default")
    )


def _decode(spec: ResponseSpec, content: bytes) -> Any:
    if spec.kind == "json":
        return parse_json(spec.type, content) if content else None
    if spec.kind == "binary":
        return content
    if spec.kind == "text":
        return content.decode("utf-8", errors="replace")
    return None


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


class SyncClientCore(ClientCore):
    def __init__(
        self,
        base_url: str,
        *,
        http_client: httpx.Client | None,
        timeout: float | httpx.Timeout,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        self._owns_http = http_client is None
        self.http = http_client if http_client is not None else httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def request(
        self, op: OperationSpec[T], args: Sequence[Any] = (), body: Any = None
    ) -> ApiResponse[T]:
        alternative = self.choose_alternative(op)
        prepared = self.prepare(op, args, body)
        self.apply_fixed_credentials(prepared, alternative)
        return self.parse(op, self._send_prepared(prepared, alternative))

    def _send_prepared(self, prepared: _Prepared, alternative: tuple[str, ...]) -> httpx.Response:
        session = self._session if self.uses_token(alternative) else None
        token = session.access_token() if session is not None else None
        response = self._send(self.build(self.http, prepared, token))
        if (
            response.status_code == 401
            and session is not None
            and token is not None
            and session.can_refresh
            and prepared.replayable
        ):
            response.close()
            token = session.refresh_after_rejection(token)
            response = self._send(self.build(self.http, prepared, token))
        return response

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self.http.send(request, follow_redirects=False)
        for _ in range(_MAX_REDIRECTS):
            follow = self.redirect_request(response, request)
            if follow is None:
                break
            response.close()
            request = follow
            response = self.http.send(request, follow_redirects=False)
        response.read()
        return response

    def follow_link(self, op: OperationSpec[Any], link: str) -> ApiResponse[Any]:
        """GET a next-page link; credentials go only to the client's own origin."""
        url = self.base_url.join(link)
        alternative = self.choose_alternative(op) if self.same_origin(url) else ()
        prepared = _Prepared("GET", str(url), [], dict(self._headers), [])
        self.apply_fixed_credentials(prepared, alternative)
        return self.parse(op, self._send_prepared(prepared, alternative))

    def paginate(self, op: OperationSpec[Any], args: Sequence[Any], body: Any) -> Iterator[Any]:
        """Every item of every page, from the first request to the last page."""
        assert op.pagination is not None
        page = self.request(op, args, body)
        seen: set[str] = set()
        while True:
            yield from dig(page.parsed, (op.pagination.items,)) or ()
            value = next_value(op, page.parsed, seen)
            if value is None:
                return
            if op.pagination.cursor_param is None:
                page = self.follow_link(op, checked_link(op, value))
            else:
                page = self.request(op, with_cursor(op, args, value), body)


class AsyncClientCore(ClientCore):
    def __init__(
        self,
        base_url: str,
        *,
        http_client: httpx.AsyncClient | None,
        timeout: float | httpx.Timeout,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        self._owns_http = http_client is None
        self.http = http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def request(
        self, op: OperationSpec[T], args: Sequence[Any] = (), body: Any = None
    ) -> ApiResponse[T]:
        alternative = self.choose_alternative(op)
        prepared = self.prepare(op, args, body)
        self.apply_fixed_credentials(prepared, alternative)
        return self.parse(op, await self._send_prepared(prepared, alternative))

    async def _send_prepared(
        self, prepared: _Prepared, alternative: tuple[str, ...]
    ) -> httpx.Response:
        session = self._session if self.uses_token(alternative) else None
        token = await session.async_access_token() if session is not None else None
        response = await self._send(self.build(self.http, prepared, token))
        if (
            response.status_code == 401
            and session is not None
            and token is not None
            and session.can_refresh
            and prepared.replayable
        ):
            await response.aclose()
            token = await session.async_refresh_after_rejection(token)
            response = await self._send(self.build(self.http, prepared, token))
        return response

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self.http.send(request, follow_redirects=False)
        for _ in range(_MAX_REDIRECTS):
            follow = self.redirect_request(response, request)
            if follow is None:
                break
            await response.aclose()
            request = follow
            response = await self.http.send(request, follow_redirects=False)
        await response.aread()
        return response

    async def follow_link(self, op: OperationSpec[Any], link: str) -> ApiResponse[Any]:
        url = self.base_url.join(link)
        alternative = self.choose_alternative(op) if self.same_origin(url) else ()
        prepared = _Prepared("GET", str(url), [], dict(self._headers), [])
        self.apply_fixed_credentials(prepared, alternative)
        return self.parse(op, await self._send_prepared(prepared, alternative))

    async def paginate(
        self, op: OperationSpec[Any], args: Sequence[Any], body: Any
    ) -> AsyncIterator[Any]:
        """Every item of every page, from the first request to the last page."""
        assert op.pagination is not None
        page = await self.request(op, args, body)
        seen: set[str] = set()
        while True:
            for item in dig(page.parsed, (op.pagination.items,)) or ():
                yield item
            value = next_value(op, page.parsed, seen)
            if value is None:
                return
            if op.pagination.cursor_param is None:
                page = await self.follow_link(op, checked_link(op, value))
            else:
                page = await self.request(op, with_cursor(op, args, value), body)


__all__ = [
    "ApiResponse",
    "AsyncClientCore",
    "ClientError",
    "OperationSpec",
    "PaginationError",
    "PaginationSpec",
    "ParamSpec",
    "ResponseSpec",
    "SchemeSpec",
    "SyncClientCore",
]
