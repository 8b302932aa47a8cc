"""Exceptions raised by generated clients: everything derives from :class:`ClientError`.

    ClientError
    ├── MissingCredentialsError        no security alternative can be satisfied; nothing sent
    ├── SessionError                   the session could not provide a token
    │   ├── SessionExpiredError
    │   └── TokenRefreshError
    ├── ApiConnectionError             no response: refused, reset, DNS, TLS...
    │   └── ApiTimeoutError
    ├── ApiError                       a response with a status the operation does not call success
    │   ├── ClientSideError            4xx
    │   │   ├── BadRequestError (400), AuthenticationError (401), PermissionDeniedError (403),
    │   │   ├── NotFoundError (404), ConflictError (409), UnprocessableEntityError (422)
    │   │   └── RateLimitError (429)
    │   ├── InternalServerError        5xx (also known as ServerSideError)
    │   └── UnexpectedStatusError      1xx, 3xx
    └── ResponseValidationError        a success response that does not match its schema (strict mode)

Errors raised by a call carry ``operation``, ``method`` and ``url``; the URL never carries
a credential (query API keys are left out). No exception text ever contains a credential:
messages are built from operation names, scheme names, status codes and parsed bodies only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx


class ClientError(Exception):
    """Base class of every error a generated client raises."""

    #: The operation (method name) of the call that failed, when a call failed.
    operation: str | None = None
    #: The HTTP method and URL (without credentials) of that call.
    method: str | None = None
    url: str | None = None


class MissingCredentialsError(ClientError):
    """No security alternative of an operation can be satisfied; nothing was sent."""

    def __init__(
        self,
        operation: str,
        alternatives: tuple[tuple[str, ...], ...],
        *,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.operation = operation
        self.alternatives = alternatives
        self.method = method
        self.url = url
        described = " OR ".join(
            "(" + " AND ".join(alt) + ")" if alt else "(no credentials)" for alt in alternatives
        )
        super().__init__(
            f"{operation} needs credentials the client does not have; "
            f"it accepts any one of: {described}"
        )


class SessionError(ClientError):
    """Base class of failures to obtain an access token from the session."""


class SessionExpiredError(SessionError):
    """The session can no longer obtain tokens (e.g. the refresh token was rejected)."""


class TokenRefreshError(SessionError):
    """A refresh attempt failed in a way that may succeed later (network, 5xx)."""


def _where(operation: str | None, method: str | None, url: str | None) -> str:
    request = " ".join(part for part in (method, url) if part)
    if operation and request:
        return f"{operation} ({request})"
    return operation or request or "request"


class ApiConnectionError(ClientError):
    """No response arrived: the connection was refused or reset, DNS or TLS failed...

    The httpx exception is the ``__cause__``; ``attempts`` counts the requests made.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        method: str | None = None,
        url: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.operation = operation
        self.method = method
        self.url = url
        self.attempts = attempts
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{_where(operation, method, url)} failed{tries}: {message}")


class ApiTimeoutError(ApiConnectionError):
    """The request timed out (connecting, writing, reading or waiting for a pooled connection)."""


class ApiError(ClientError):
    """The server answered with a status the operation does not declare as success.

    ``body`` is the parsed body (a model where the spec declares one for the status),
    ``content`` the raw bytes and ``text`` their decoded text. ``retry_after`` is the
    wait in seconds the server asked for (``Retry-After`` / ``retry-after-ms``), if any.
    """

    def __init__(
        self,
        operation: str,
        status_code: int,
        headers: httpx.Headers,
        content: bytes,
        body: Any = None,
        *,
        method: str | None = None,
        url: str | None = None,
        retry_after: float | None = None,
        note: str = "",
    ) -> None:
        self.operation = operation
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.body = body
        self.method = method
        self.url = url
        self.retry_after = retry_after
        detail = ""
        fields = body if isinstance(body, dict) else getattr(body, "__dict__", {})
        for key in ("detail", "title", "message", "error_description", "error"):
            value = fields.get(key)
            if isinstance(value, str) and value:
                detail = f": {value[:200]}"
                break
        suffix = f" ({note})" if note else ""
        super().__init__(
            f"{_where(operation, method, url)} failed with HTTP {status_code}{detail}{suffix}"
        )

    @property
    def text(self) -> str:
        """The raw body as text."""
        return self.content.decode("utf-8", errors="replace")


class ClientSideError(ApiError):
    """A 4xx response."""


class BadRequestError(ClientSideError):
    """400 Bad Request."""


class AuthenticationError(ClientSideError):
    """401 Unauthorized: the credentials were missing, invalid or expired."""


class PermissionDeniedError(ClientSideError):
    """403 Forbidden: the credentials lack a permission (or a scope)."""


class NotFoundError(ClientSideError):
    """404 Not Found."""


class ConflictError(ClientSideError):
    """409 Conflict."""


class UnprocessableEntityError(ClientSideError):
    """422 Unprocessable Content."""


class RateLimitError(ClientSideError):
    """429 Too Many Requests; ``retry_after`` is the wait the server asked for, if it said."""


class InternalServerError(ApiError):
    """A 5xx response."""


#: The earlier name of :class:`InternalServerError`.
ServerSideError = InternalServerError


class UnexpectedStatusError(ApiError):
    """A 1xx/3xx response, or a status outside 100-599."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def api_error_for(
    operation: str,
    status_code: int,
    headers: httpx.Headers,
    content: bytes,
    body: Any,
    *,
    method: str | None = None,
    url: str | None = None,
    retry_after: float | None = None,
    note: str = "",
) -> ApiError:
    """The error class for ``status_code``, built from one response."""
    cls = _BY_STATUS.get(status_code)
    if cls is None:
        if 400 <= status_code < 500:
            cls = ClientSideError
        elif 500 <= status_code < 600:
            cls = InternalServerError
        else:
            cls = UnexpectedStatusError
    return cls(
        operation,
        status_code,
        headers,
        content,
        body,
        method=method,
        url=url,
        retry_after=retry_after,
        note=note,
    )


class PaginationError(ClientError):
    """A page names its successor in a way the client will not follow (a next link that is no URL)."""


class ResponseValidationError(ClientError):
    """A response body that does not match the schema the operation declares for it.

    Raised on a client built with ``strict_validation=True`` (a lenient client returns
    the data as received instead), and on either when the body is not JSON at all or
    does not even have the declared shape. ``errors`` are pydantic's error dicts (their
    ``input`` left out, as it repeats the body); ``content`` is the raw body.
    """

    def __init__(
        self,
        operation: str,
        status_code: int,
        headers: httpx.Headers,
        content: bytes,
        errors: Sequence[Any],
        *,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.operation = operation
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.errors = list(errors)
        self.method = method
        self.url = url
        first = ""
        if self.errors and isinstance(self.errors[0], dict):
            loc = ".".join(str(part) for part in self.errors[0].get("loc", ()))
            first = f"; first: {loc or 'body'}: {self.errors[0].get('msg', '')}"
        super().__init__(
            f"{_where(operation, method, url)}: the HTTP {status_code} response does not match "
            f"its schema ({len(self.errors)} error{'s' if len(self.errors) != 1 else ''}{first})"
        )

    @property
    def text(self) -> str:
        """The raw body as text."""
        return self.content.decode("utf-8", errors="replace")
