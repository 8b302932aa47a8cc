"""Clients of Example Bank Banking.

`Client` calls every operation that needs no access token. `AuthenticatedClient`
takes a `Session` and adds the operations that require one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._runtime.client import (
    AsyncClientCore,
    RetryPolicy,
    SchemeSpec,
    SyncClientCore,
    Timeout,
    TokenProvider,
)

if TYPE_CHECKING:
    from .api.accounts import (
        AccountsApi,
        AsyncAccountsApi,
        AsyncAuthenticatedAccountsApi,
        AuthenticatedAccountsApi,
    )
    from .api.health import (
        AsyncAuthenticatedHealthApi,
        AsyncHealthApi,
        AuthenticatedHealthApi,
        HealthApi,
    )
    from .api.institutions import (
        AsyncAuthenticatedInstitutionsApi,
        AsyncInstitutionsApi,
        AuthenticatedInstitutionsApi,
        InstitutionsApi,
    )
    from .api.transfers import (
        AsyncAuthenticatedTransfersApi,
        AsyncTransfersApi,
        AuthenticatedTransfersApi,
        TransfersApi,
    )

DEFAULT_BASE_URL = "https://api.example-bank.test/banking"

_SyncClientT = TypeVar("_SyncClientT", bound="Client")
_AsyncClientT = TypeVar("_AsyncClientT", bound="AsyncClient")

_GROUPS: frozenset[str] = frozenset(["accounts", "health", "institutions", "transfers"])

SCHEMES: dict[str, SchemeSpec] = {
    "accessToken": SchemeSpec("accessToken", "token"),
    "apiKey": SchemeSpec("apiKey", "api_key", "X-Api-Key", "header"),
}


class Client:
    """Example Bank Banking: operations that need no access token."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        timeout: Timeout = 30.0,
        headers: Mapping[str, str] | None = None,
        max_retries: int = 2,
        strict_validation: bool = False,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._core = self._make_core(
            base_url,
            None,
            {"apiKey": api_key},
            timeout,
            headers,
            http_client,
            max_retries,
            strict_validation,
            retry_policy,
        )

    @staticmethod
    def _make_core(
        base_url: str,
        session: TokenProvider | None,
        credentials: Mapping[str, Any],
        timeout: Timeout,
        headers: Mapping[str, str] | None,
        http_client: httpx.Client | None,
        max_retries: int,
        strict_validation: bool,
        retry_policy: RetryPolicy | None,
    ) -> SyncClientCore:
        return SyncClientCore(
            base_url,
            http_client=http_client,
            timeout=timeout,
            schemes=SCHEMES,
            credentials=credentials,
            session=session,
            headers=headers,
            max_retries=max_retries,
            strict_validation=strict_validation,
            retry_policy=retry_policy,
        )

    @property
    def base_url(self) -> str:
        return str(self._core.base_url)

    def with_options(
        self: _SyncClientT,
        *,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        strict_validation: bool | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> _SyncClientT:
        """This client with other defaults, sharing its connections, credentials and session.

        `headers` are added to the client's; the other options replace its own. Closing
        the new client leaves the shared connections open.
        """
        derived = object.__new__(type(self))
        # The API groups are left out: they are bound to this client's core.
        derived.__dict__.update((k, v) for k, v in vars(self).items() if k not in _GROUPS)
        derived._core = self._core.derive(
            timeout=timeout,
            max_retries=max_retries,
            headers=headers,
            strict_validation=strict_validation,
            retry_policy=retry_policy,
        )
        return derived

    def close(self) -> None:
        """Close the HTTP connections this client opened (not a caller's `http_client`)."""
        self._core.close()

    def __enter__(self: _SyncClientT) -> _SyncClientT:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @cached_property
    def accounts(self) -> AccountsApi:
        from .api.accounts import AccountsApi

        return AccountsApi(self._core)

    @cached_property
    def health(self) -> HealthApi:
        from .api.health import HealthApi

        return HealthApi(self._core)

    @cached_property
    def institutions(self) -> InstitutionsApi:
        from .api.institutions import InstitutionsApi

        return InstitutionsApi(self._core)

    @cached_property
    def transfers(self) -> TransfersApi:
        from .api.transfers import TransfersApi

        return TransfersApi(self._core)


class AuthenticatedClient(Client):
    """Example Bank Banking: every operation, with tokens from a shared `Session`."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        session: TokenProvider,
        api_key: str | None = None,
        timeout: Timeout = 30.0,
        headers: Mapping[str, str] | None = None,
        max_retries: int = 2,
        strict_validation: bool = False,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._core = self._make_core(
            base_url,
            session,
            {"apiKey": api_key},
            timeout,
            headers,
            http_client,
            max_retries,
            strict_validation,
            retry_policy,
        )

    @property
    def session(self) -> TokenProvider:
        session = self._core.session
        assert session is not None
        return session

    @cached_property
    def accounts(self) -> AuthenticatedAccountsApi:
        from .api.accounts import AuthenticatedAccountsApi

        return AuthenticatedAccountsApi(self._core)

    @cached_property
    def health(self) -> AuthenticatedHealthApi:
        from .api.health import AuthenticatedHealthApi

        return AuthenticatedHealthApi(self._core)

    @cached_property
    def institutions(self) -> AuthenticatedInstitutionsApi:
        from .api.institutions import AuthenticatedInstitutionsApi

        return AuthenticatedInstitutionsApi(self._core)

    @cached_property
    def transfers(self) -> AuthenticatedTransfersApi:
        from .api.transfers import AuthenticatedTransfersApi

        return AuthenticatedTransfersApi(self._core)


class AsyncClient:
    """Example Bank Banking: operations that need no access token (async)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        timeout: Timeout = 30.0,
        headers: Mapping[str, str] | None = None,
        max_retries: int = 2,
        strict_validation: bool = False,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._core = self._make_core(
            base_url,
            None,
            {"apiKey": api_key},
            timeout,
            headers,
            http_client,
            max_retries,
            strict_validation,
            retry_policy,
        )

    @staticmethod
    def _make_core(
        base_url: str,
        session: TokenProvider | None,
        credentials: Mapping[str, Any],
        timeout: Timeout,
        headers: Mapping[str, str] | None,
        http_client: httpx.AsyncClient | None,
        max_retries: int,
        strict_validation: bool,
        retry_policy: RetryPolicy | None,
    ) -> AsyncClientCore:
        return AsyncClientCore(
            base_url,
            http_client=http_client,
            timeout=timeout,
            schemes=SCHEMES,
            credentials=credentials,
            session=session,
            headers=headers,
            max_retries=max_retries,
            strict_validation=strict_validation,
            retry_policy=retry_policy,
        )

    @property
    def base_url(self) -> str:
        return str(self._core.base_url)

    def with_options(
        self: _AsyncClientT,
        *,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        strict_validation: bool | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> _AsyncClientT:
        """This client with other defaults, sharing its connections, credentials and session.

        `headers` are added to the client's; the other options replace its own. Closing
        the new client leaves the shared connections open.
        """
        derived = object.__new__(type(self))
        # The API groups are left out: they are bound to this client's core.
        derived.__dict__.update((k, v) for k, v in vars(self).items() if k not in _GROUPS)
        derived._core = self._core.derive(
            timeout=timeout,
            max_retries=max_retries,
            headers=headers,
            strict_validation=strict_validation,
            retry_policy=retry_policy,
        )
        return derived

    async def aclose(self) -> None:
        """Close the HTTP connections this client opened (not a caller's `http_client`)."""
        await self._core.aclose()

    async def __aenter__(self: _AsyncClientT) -> _AsyncClientT:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @cached_property
    def accounts(self) -> AsyncAccountsApi:
        from .api.accounts import AsyncAccountsApi

        return AsyncAccountsApi(self._core)

    @cached_property
    def health(self) -> AsyncHealthApi:
        from .api.health import AsyncHealthApi

        return AsyncHealthApi(self._core)

    @cached_property
    def institutions(self) -> AsyncInstitutionsApi:
        from .api.institutions import AsyncInstitutionsApi

        return AsyncInstitutionsApi(self._core)

    @cached_property
    def transfers(self) -> AsyncTransfersApi:
        from .api.transfers import AsyncTransfersApi

        return AsyncTransfersApi(self._core)


class AsyncAuthenticatedClient(AsyncClient):
    """Example Bank Banking: every operation, with tokens from a shared `Session` (async)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        session: TokenProvider,
        api_key: str | None = None,
        timeout: Timeout = 30.0,
        headers: Mapping[str, str] | None = None,
        max_retries: int = 2,
        strict_validation: bool = False,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._core = self._make_core(
            base_url,
            session,
            {"apiKey": api_key},
            timeout,
            headers,
            http_client,
            max_retries,
            strict_validation,
            retry_policy,
        )

    @property
    def session(self) -> TokenProvider:
        session = self._core.session
        assert session is not None
        return session

    @cached_property
    def accounts(self) -> AsyncAuthenticatedAccountsApi:
        from .api.accounts import AsyncAuthenticatedAccountsApi

        return AsyncAuthenticatedAccountsApi(self._core)

    @cached_property
    def health(self) -> AsyncAuthenticatedHealthApi:
        from .api.health import AsyncAuthenticatedHealthApi

        return AsyncAuthenticatedHealthApi(self._core)

    @cached_property
    def institutions(self) -> AsyncAuthenticatedInstitutionsApi:
        from .api.institutions import AsyncAuthenticatedInstitutionsApi

        return AsyncAuthenticatedInstitutionsApi(self._core)

    @cached_property
    def transfers(self) -> AsyncAuthenticatedTransfersApi:
        from .api.transfers import AsyncAuthenticatedTransfersApi

        return AsyncAuthenticatedTransfersApi(self._core)
