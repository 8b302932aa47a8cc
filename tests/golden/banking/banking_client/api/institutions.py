"""InstitutionsApi: the operations of `client.institutions`."""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

from .._runtime.client import (
    ApiResponse,
    AsyncClientCore,
    CallOptions,
    OperationSpec,
    ParamSpec,
    ResponseSpec,
    SyncClientCore,
    request_options,
)
from .. import models

LOOK_UP_INSTITUTION: OperationSpec[models.Institution] = OperationSpec(
    name="look_up_institution",
    operation_id="lookUpInstitution",
    method="GET",
    path="/institutions/{routingNumber}",
    security=(("apiKey",),),
    params=(ParamSpec("routingNumber", "path", "simple", False),),
    responses=(
        ResponseSpec("200", "json", lambda: models.Institution),
        ResponseSpec("404", "json", lambda: models.Problem),
    ),
    accept="application/json, application/problem+json",
)

OPERATIONS: dict[str, OperationSpec[Any]] = {
    "look_up_institution": LOOK_UP_INSTITUTION,
}


class InstitutionsApi:
    """Operations that need no access token."""

    def __init__(self, client: SyncClientCore) -> None:
        self._client = client

    def look_up_institution(
        self, routing_number: str, **options: Unpack[CallOptions]
    ) -> models.Institution:
        """Look up a financial institution by routing number

        Partners call this with an API key; no customer token is involved.

        Security: apiKey.
        """
        return self._client.call(
            LOOK_UP_INSTITUTION, (routing_number,), None, request_options(options)
        )

    def look_up_institution_raw(
        self, routing_number: str, **options: Unpack[CallOptions]
    ) -> ApiResponse[models.Institution]:
        """Like `look_up_institution`, returning the status, headers and parsed body."""
        return self._client.request(
            LOOK_UP_INSTITUTION, (routing_number,), None, request_options(options)
        )


class AuthenticatedInstitutionsApi(InstitutionsApi):
    """Every operation, including those that require an access token."""

    pass


class AsyncInstitutionsApi:
    """Async operations that need no access token."""

    def __init__(self, client: AsyncClientCore) -> None:
        self._client = client

    async def look_up_institution(
        self, routing_number: str, **options: Unpack[CallOptions]
    ) -> models.Institution:
        """Look up a financial institution by routing number

        Partners call this with an API key; no customer token is involved.

        Security: apiKey.
        """
        return await self._client.call(
            LOOK_UP_INSTITUTION, (routing_number,), None, request_options(options)
        )

    async def look_up_institution_raw(
        self, routing_number: str, **options: Unpack[CallOptions]
    ) -> ApiResponse[models.Institution]:
        """Like `look_up_institution`, returning the status, headers and parsed body."""
        return await self._client.request(
            LOOK_UP_INSTITUTION, (routing_number,), None, request_options(options)
        )


class AsyncAuthenticatedInstitutionsApi(AsyncInstitutionsApi):
    """Every async operation, including those that require an access token."""

    pass
