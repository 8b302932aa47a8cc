"""HealthApi: operations tagged "health"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._runtime.client import (
    ApiResponse,
    AsyncClientCore,
    OperationSpec,
    ResponseSpec,
    SyncClientCore,
    Timeout,
    request_options,
)
from .. import models

GET_HEALTH: OperationSpec[models.Health] = OperationSpec(
    name="get_health",
    operation_id="getHealth",
    method="GET",
    path="/health",
    security=(),
    responses=(ResponseSpec("200", "json", lambda: models.Health),),
    accept="application/json",
)

OPERATIONS: dict[str, OperationSpec[Any]] = {
    "get_health": GET_HEALTH,
}


class HealthApi:
    """Operations that need no access token."""

    def __init__(self, client: SyncClientCore) -> None:
        self._client = client

    def get_health(
        self,
        *,
        timeout: Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
        max_retries: int | None = None,
        idempotency_key: str | None = None,
    ) -> models.Health:
        """Service health

        Security: public (no credentials).
        """
        return self._client.request(
            GET_HEALTH,
            (),
            None,
            request_options(timeout, extra_headers, extra_query, max_retries, idempotency_key),
        ).parsed

    def get_health_raw(
        self,
        *,
        timeout: Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
        max_retries: int | None = None,
        idempotency_key: str | None = None,
    ) -> ApiResponse[models.Health]:
        """Like `get_health`, returning the status, headers and parsed body."""
        return self._client.request(
            GET_HEALTH,
            (),
            None,
            request_options(timeout, extra_headers, extra_query, max_retries, idempotency_key),
        )


class AuthenticatedHealthApi(HealthApi):
    """Every operation, including those that require an access token."""

    pass


class AsyncHealthApi:
    """Async operations that need no access token."""

    def __init__(self, client: AsyncClientCore) -> None:
        self._client = client

    async def get_health(
        self,
        *,
        timeout: Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
        max_retries: int | None = None,
        idempotency_key: str | None = None,
    ) -> models.Health:
        """Service health

        Security: public (no credentials).
        """
        return (
            await self._client.request(
                GET_HEALTH,
                (),
                None,
                request_options(timeout, extra_headers, extra_query, max_retries, idempotency_key),
            )
        ).parsed

    async def get_health_raw(
        self,
        *,
        timeout: Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
        max_retries: int | None = None,
        idempotency_key: str | None = None,
    ) -> ApiResponse[models.Health]:
        """Like `get_health`, returning the status, headers and parsed body."""
        return await self._client.request(
            GET_HEALTH,
            (),
            None,
            request_options(timeout, extra_headers, extra_query, max_retries, idempotency_key),
        )


class AsyncAuthenticatedHealthApi(AsyncHealthApi):
    """Every async operation, including those that require an access token."""

    pass
