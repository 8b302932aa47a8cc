"""HealthApi: the operations of `client.health`."""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

from .._runtime.client import (
    ApiResponse,
    AsyncClientCore,
    CallOptions,
    OperationSpec,
    ResponseSpec,
    SyncClientCore,
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

    def get_health(self, **options: Unpack[CallOptions]) -> models.Health:
        """Service health

        Security: public (no credentials).
        """
        return self._client.call(GET_HEALTH, (), None, request_options(options))

    def get_health_raw(self, **options: Unpack[CallOptions]) -> ApiResponse[models.Health]:
        """Like `get_health`, returning the status, headers and parsed body."""
        return self._client.request(GET_HEALTH, (), None, request_options(options))


class AuthenticatedHealthApi(HealthApi):
    """Every operation, including those that require an access token."""

    pass


class AsyncHealthApi:
    """Async operations that need no access token."""

    def __init__(self, client: AsyncClientCore) -> None:
        self._client = client

    async def get_health(self, **options: Unpack[CallOptions]) -> models.Health:
        """Service health

        Security: public (no credentials).
        """
        return await self._client.call(GET_HEALTH, (), None, request_options(options))

    async def get_health_raw(self, **options: Unpack[CallOptions]) -> ApiResponse[models.Health]:
        """Like `get_health`, returning the status, headers and parsed body."""
        return await self._client.request(GET_HEALTH, (), None, request_options(options))


class AsyncAuthenticatedHealthApi(AsyncHealthApi):
    """Every async operation, including those that require an access token."""

    pass
