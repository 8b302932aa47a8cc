"""AccountsApi: the operations of `client.accounts`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from typing_extensions import Unpack

from .._runtime.client import (
    ApiResponse,
    AsyncClientCore,
    CallOptions,
    OperationSpec,
    PaginationSpec,
    ParamSpec,
    ResponseSpec,
    SyncClientCore,
    request_options,
)
from .. import models

GET_ACCOUNT: OperationSpec[models.Account] = OperationSpec(
    name="get_account",
    operation_id="getAccount",
    method="GET",
    path="/accounts/{accountId}",
    security=(("accessToken",),),
    scopes={"accessToken": ("banking/read",)},
    params=(ParamSpec("accountId", "path", "simple", False),),
    responses=(
        ResponseSpec("200", "json", lambda: models.Account),
        ResponseSpec("401", "json", lambda: models.Problem),
        ResponseSpec("404", "json", lambda: models.Problem),
    ),
    accept="application/json, application/problem+json",
)
LIST_ACCOUNTS: OperationSpec[models.Accounts] = OperationSpec(
    name="list_accounts",
    operation_id="listAccounts",
    method="GET",
    path="/accounts",
    security=(("accessToken",),),
    scopes={"accessToken": ("banking/read",)},
    params=(
        ParamSpec("start", "query", "form", True),
        ParamSpec("limit", "query", "form", True),
        ParamSpec("productTypes", "query", "pipeDelimited", False),
    ),
    responses=(
        ResponseSpec("200", "json", lambda: models.Accounts),
        ResponseSpec("401", "json", lambda: models.Problem),
        ResponseSpec("403", "json", lambda: models.Problem),
    ),
    pagination=PaginationSpec("items", ("nextPage_url",)),
    accept="application/json, application/problem+json",
)
UPDATE_ACCOUNT: OperationSpec[models.Account] = OperationSpec(
    name="update_account",
    operation_id="updateAccount",
    method="PATCH",
    path="/accounts/{accountId}",
    security=(("accessToken",),),
    scopes={"accessToken": ("banking/write",)},
    params=(
        ParamSpec("accountId", "path", "simple", False),
        ParamSpec("If-Match", "header", "simple", False),
    ),
    body_media_type="application/merge-patch+json",
    body_kind="json",
    responses=(
        ResponseSpec("200", "json", lambda: models.Account),
        ResponseSpec("401", "json", lambda: models.Problem),
        ResponseSpec("412", "json", lambda: models.Problem),
    ),
    accept="application/json, application/problem+json",
)

OPERATIONS: dict[str, OperationSpec[Any]] = {
    "get_account": GET_ACCOUNT,
    "list_accounts": LIST_ACCOUNTS,
    "update_account": UPDATE_ACCOUNT,
}


class AccountsApi:
    """Operations that need no access token."""

    def __init__(self, client: SyncClientCore) -> None:
        self._client = client


class AuthenticatedAccountsApi(AccountsApi):
    """Every operation, including those that require an access token."""

    def get_account(self, account_id: str, **options: Unpack[CallOptions]) -> models.Account:
        """Fetch one account

        Security: accessToken [banking/read].

        Args:
            account_id: The account's resource ID.
        """
        return self._client.call(GET_ACCOUNT, (account_id,), None, request_options(options))

    def get_account_raw(
        self, account_id: str, **options: Unpack[CallOptions]
    ) -> ApiResponse[models.Account]:
        """Like `get_account`, returning the status, headers and parsed body."""
        return self._client.request(GET_ACCOUNT, (account_id,), None, request_options(options))

    def list_accounts(
        self,
        *,
        start: str | None = None,
        limit: int | None = None,
        product_types: list[models.ProductType | str] | None = None,
        **options: Unpack[CallOptions],
    ) -> models.Accounts:
        """Return a page of the customer's accounts

        Pages are `limit` items long; follow `nextPage_url` for the next page.

        Security: accessToken [banking/read].

        Args:
            start: Opaque cursor of the first item of the page.
            limit: Maximum number of items on the page.
            product_types: Only accounts of these product types (pipe-delimited).
        """
        return self._client.call(
            LIST_ACCOUNTS, (start, limit, product_types), None, request_options(options)
        )

    def list_accounts_raw(
        self,
        *,
        start: str | None = None,
        limit: int | None = None,
        product_types: list[models.ProductType | str] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Accounts]:
        """Like `list_accounts`, returning the status, headers and parsed body."""
        return self._client.request(
            LIST_ACCOUNTS, (start, limit, product_types), None, request_options(options)
        )

    def iter_list_accounts(
        self,
        *,
        start: str | None = None,
        limit: int | None = None,
        product_types: list[models.ProductType | str] | None = None,
        **options: Unpack[CallOptions],
    ) -> Iterator[models.Account]:
        """Every item of `list_accounts`, following next-page links."""
        yield from self._client.paginate(
            LIST_ACCOUNTS, (start, limit, product_types), None, request_options(options)
        )

    def update_account(
        self,
        account_id: str,
        *,
        if_match: str,
        body: models.AccountPatch | dict[str, Any],
        **options: Unpack[CallOptions],
    ) -> models.Account:
        """Rename an account

        Security: accessToken [banking/write].

        Args:
            account_id: The account's resource ID.
            if_match: The ETag of the account as last fetched.
        """
        return self._client.call(
            UPDATE_ACCOUNT, (account_id, if_match), body, request_options(options)
        )

    def update_account_raw(
        self,
        account_id: str,
        *,
        if_match: str,
        body: models.AccountPatch | dict[str, Any],
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Account]:
        """Like `update_account`, returning the status, headers and parsed body."""
        return self._client.request(
            UPDATE_ACCOUNT, (account_id, if_match), body, request_options(options)
        )


class AsyncAccountsApi:
    """Async operations that need no access token."""

    def __init__(self, client: AsyncClientCore) -> None:
        self._client = client


class AsyncAuthenticatedAccountsApi(AsyncAccountsApi):
    """Every async operation, including those that require an access token."""

    async def get_account(self, account_id: str, **options: Unpack[CallOptions]) -> models.Account:
        """Fetch one account

        Security: accessToken [banking/read].

        Args:
            account_id: The account's resource ID.
        """
        return await self._client.call(GET_ACCOUNT, (account_id,), None, request_options(options))

    async def get_account_raw(
        self, account_id: str, **options: Unpack[CallOptions]
    ) -> ApiResponse[models.Account]:
        """Like `get_account`, returning the status, headers and parsed body."""
        return await self._client.request(
            GET_ACCOUNT, (account_id,), None, request_options(options)
        )

    async def list_accounts(
        self,
        *,
        start: str | None = None,
        limit: int | None = None,
        product_types: list[models.ProductType | str] | None = None,
        **options: Unpack[CallOptions],
    ) -> models.Accounts:
        """Return a page of the customer's accounts

        Pages are `limit` items long; follow `nextPage_url` for the next page.

        Security: accessToken [banking/read].

        Args:
            start: Opaque cursor of the first item of the page.
            limit: Maximum number of items on the page.
            product_types: Only accounts of these product types (pipe-delimited).
        """
        return await self._client.call(
            LIST_ACCOUNTS, (start, limit, product_types), None, request_options(options)
        )

    async def list_accounts_raw(
        self,
        *,
        start: str | None = None,
        limit: int | None = None,
        product_types: list[models.ProductType | str] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Accounts]:
        """Like `list_accounts`, returning the status, headers and parsed body."""
        return await self._client.request(
            LIST_ACCOUNTS, (start, limit, product_types), None, request_options(options)
        )

    async def iter_list_accounts(
        self,
        *,
        start: str | None = None,
        limit: int | None = None,
        product_types: list[models.ProductType | str] | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncIterator[models.Account]:
        """Every item of `list_accounts`, following next-page links."""
        async for page_item in self._client.paginate(
            LIST_ACCOUNTS, (start, limit, product_types), None, request_options(options)
        ):
            yield page_item

    async def update_account(
        self,
        account_id: str,
        *,
        if_match: str,
        body: models.AccountPatch | dict[str, Any],
        **options: Unpack[CallOptions],
    ) -> models.Account:
        """Rename an account

        Security: accessToken [banking/write].

        Args:
            account_id: The account's resource ID.
            if_match: The ETag of the account as last fetched.
        """
        return await self._client.call(
            UPDATE_ACCOUNT, (account_id, if_match), body, request_options(options)
        )

    async def update_account_raw(
        self,
        account_id: str,
        *,
        if_match: str,
        body: models.AccountPatch | dict[str, Any],
        **options: Unpack[CallOptions],
    ) -> ApiResponse[models.Account]:
        """Like `update_account`, returning the status, headers and parsed body."""
        return await self._client.request(
            UPDATE_ACCOUNT, (account_id, if_match), body, request_options(options)
        )
