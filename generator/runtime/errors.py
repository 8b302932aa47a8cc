"""Exceptions raised by generated clients.

No exception text ever contains a credential: messages are built from operation
names, scheme names, status codes and parsed bodies only.
"""

from __future__ import annotations

from typing import Any

import httpx


class ClientError(Exception):
    """Base class of every error a generated client raises on purpose."""


class MissingCredentialsError(ClientError):
    """No security alternative of an operation can be satisfied; nothing was sent."""

    def __init__(self, operation: str, alternatives: tuple[tuple[str, ...], ...]) -> None:
        self.operation = operation
        self.alternatives = alternatives
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


class ApiError(ClientError):
    """The server answered with a status the operation does not declare as success."""

    def __init__(
        self,
        operation: str,
        status_code: int,
        headers: httpx.Headers,
        content: bytes,
        body: Any = None,
    ) -> None:
        self.operation = operation
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.body = body
        detail = ""
        fields = body if isinstance(body, dict) else getattr(body, "__dict__", {})
        for key in ("detail", "title", "message", "error_description", "error"):
            value = fields.get(key)
            if isinstance(value, str) and value:
                detail = f": {value[:200]}"
                break
        super().__init__(f"{operation} failed with HTTP {status_code}{detail}")


class ClientSideError(ApiError):
    """A 4xx response."""


class ServerSideError(ApiError):
    """A 5xx response."""


class UnexpectedStatusError(ApiError):
    """A 1xx/3xx response, or a status outside 100-599."""


def api_error_for(
    operation: str, status_code: int, headers: httpx.Headers, content: bytes, body: Any
) -> ApiError:
    if 400 <= status_code < 500:
        return ClientSideError(operation, status_code, headers, content, body)
    if 500 <= status_code < 600:
        return ServerSideError(operation, status_code, headers, content, body)
    return UnexpectedStatusError(operation, status_code, headers, content, body)
