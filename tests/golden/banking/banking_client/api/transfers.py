"""TransfersApi: the operations of `client.transfers`."""

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

CREATE_TRANSFER: OperationSpec[models.Transfer] = OperationSpec(
    name="create_transfer",
    operation_id="createTransfer",
    method="POST",
    path="/transfers",
    security=(("accessToken",),),
    scopes={"accessToken": ("banking/write",)},
    body_media_type="application/json",
    body_kind="json",
    responses=(
        ResponseSpec("202", "json", lambda: models.Transfer),
        ResponseSpec("400", "json", lambda: models.Problem),
        ResponseSpec("401", "json", lambda: models.Problem),
    ),
    accept="application/json, application/problem+json",
)
GET_TRANSFER: OperationSpec[models.Transfer] = OperationSpec(
    name="get_transfer",
    operation_id="getTransfer",
    method="GET",
    path="/transfers/{transferId}",
    security=(("accessToken",),),
    scopes={"accessToken": ("banking/read",)},
    params=(ParamSpec("transferId", "path", "simple", False),),
    responses=(
        ResponseSpec("200", "json", lambda: models.Transfer),
        ResponseSpec("401", "json", lambda: models.Problem),
        ResponseSpec("404", "json", lambda: models.Problem),
    ),
    accept="application/json, application/problem+json",
)

OPERATIONS: dict[str, OperationSpec[Any]] = {
    "create_transfer": CREATE_TRANSFER,
    "get_transfer": GET_TRANSFER,
}


class TransfersApi:
    """Operations that need no access token."""

    def __init__(self, client: SyncClientCore) -> None:
        self._client = client


class AuthenticatedTransfersApi(TransfersApi):
    """Every operation, including those that require an access token."""

    def create_transfer(
        self, *, body: models.NewTransfer | dict[str, Any], **options: Unpack[CallOptions]
    ) -> models.Transfer:
        """Schedule a transfer between accounts

        The bank accepts the transfer for processing and answers 202; poll the
        transfer no sooner than `Retry-After` seconds.

        Security: accessToken [banking/write].
        """
        return self._client.call(CREATE_TRANSFER, (), body, request_options(options))

    def create_transfer_raw(
        self, *, body: models.NewTransfer | dict[str, Any], **options: Unpack[CallOptions]
    ) -> ApiResponse[models.Transfer]:
        """Like `create_transfer`, returning the status, headers and parsed body."""
        return self._client.request(CREATE_TRANSFER, (), body, request_options(options))

    def get_transfer(self, transfer_id: str, **options: Unpack[CallOptions]) -> models.Transfer:
        """Fetch a transfer and its state

        Security: accessToken [banking/read].
        """
        return self._client.call(GET_TRANSFER, (transfer_id,), None, request_options(options))

    def get_transfer_raw(
        self, transfer_id: str, **options: Unpack[CallOptions]
    ) -> ApiResponse[models.Transfer]:
        """Like `get_transfer`, returning the status, headers and parsed body."""
        return self._client.request(GET_TRANSFER, (transfer_id,), None, request_options(options))


class AsyncTransfersApi:
    """Async operations that need no access token."""

    def __init__(self, client: AsyncClientCore) -> None:
        self._client = client


class AsyncAuthenticatedTransfersApi(AsyncTransfersApi):
    """Every async operation, including those that require an access token."""

    async def create_transfer(
        self, *, body: models.NewTransfer | dict[str, Any], **options: Unpack[CallOptions]
    ) -> models.Transfer:
        """Schedule a transfer between accounts

        The bank accepts the transfer for processing and answers 202; poll the
        transfer no sooner than `Retry-After` seconds.

        Security: accessToken [banking/write].
        """
        return await self._client.call(CREATE_TRANSFER, (), body, request_options(options))

    async def create_transfer_raw(
        self, *, body: models.NewTransfer | dict[str, Any], **options: Unpack[CallOptions]
    ) -> ApiResponse[models.Transfer]:
        """Like `create_transfer`, returning the status, headers and parsed body."""
        return await self._client.request(CREATE_TRANSFER, (), body, request_options(options))

    async def get_transfer(
        self, transfer_id: str, **options: Unpack[CallOptions]
    ) -> models.Transfer:
        """Fetch a transfer and its state

        Security: accessToken [banking/read].
        """
        return await self._client.call(GET_TRANSFER, (transfer_id,), None, request_options(options))

    async def get_transfer_raw(
        self, transfer_id: str, **options: Unpack[CallOptions]
    ) -> ApiResponse[models.Transfer]:
        """Like `get_transfer`, returning the status, headers and parsed body."""
        return await self._client.request(
            GET_TRANSFER, (transfer_id,), None, request_options(options)
        )
