"""Models of Example Bank Banking."""

from __future__ import annotations

import datetime
from typing import ClassVar, Literal

import pydantic

from .._runtime.models import ApiModel, OpenStrEnum, ReadOnlyAwareModel


class ProductType(OpenStrEnum):
    """Kind of deposit product."""

    CHECKING = "checking"
    SAVINGS = "savings"
    MONEY_MARKET = "moneyMarket"
    CERTIFICATE_OF_DEPOSIT = "certificateOfDeposit"


class TransferState(OpenStrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class Account(ReadOnlyAwareModel):
    read_only_fields: ClassVar[frozenset[str]] = frozenset(["id"])
    id: str | None = None
    name: str
    product_type: ProductType = pydantic.Field(
        validation_alias="productType", serialization_alias="productType"
    )
    """Kind of deposit product."""
    balance: Money
    opened_on: datetime.date | None = pydantic.Field(
        None, validation_alias="openedOn", serialization_alias="openedOn"
    )
    masked_number: str | None = pydantic.Field(
        None,
        validation_alias="maskedNumber",
        serialization_alias="maskedNumber",
        pattern="^\\*{4,}[0-9]{4}$",
    )
    """Account number with all but the last four digits masked."""


class AccountPatch(ApiModel):
    name: str | None = None


class Accounts(ApiModel):
    start: str
    limit: int
    next_page_url: str | None = pydantic.Field(
        None, validation_alias="nextPage_url", serialization_alias="nextPage_url"
    )
    """URL of the next page; absent on the last page."""
    items: list[Account]


class Health(ApiModel):
    status: Literal["ok"]


class Institution(ApiModel):
    routing_number: str = pydantic.Field(
        validation_alias="routingNumber", serialization_alias="routingNumber"
    )
    name: str
    city: str | None = None


class Money(ApiModel):
    value: str = pydantic.Field(pattern="^-?(0|[1-9][0-9]*)\\.[0-9]{2}$")
    """Decimal amount as a string, e.g. "125.50"."""
    currency: str = pydantic.Field(pattern="^[A-Z]{3}$")
    """ISO 4217 code."""


class NewTransfer(ApiModel):
    source_account_id: str = pydantic.Field(
        validation_alias="sourceAccountId", serialization_alias="sourceAccountId"
    )
    target_account_id: str = pydantic.Field(
        validation_alias="targetAccountId", serialization_alias="targetAccountId"
    )
    amount: Money
    # pattern left out: it uses regex syntax pydantic cannot check portably
    memo: str | None = None
    """Free text; control characters are not allowed."""
    # pattern translated from ECMA-262 named groups
    cutoff_time: str | None = pydantic.Field(
        None,
        validation_alias="cutoffTime",
        serialization_alias="cutoffTime",
        pattern="^(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])$",
    )
    """Local time the transfer must start by (HH:MM)."""


class Problem(ApiModel):
    """RFC 9457 problem details."""

    type: str | None = None
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    instance: str | None = None


class Transfer(ApiModel):
    source_account_id: str = pydantic.Field(
        validation_alias="sourceAccountId", serialization_alias="sourceAccountId"
    )
    target_account_id: str = pydantic.Field(
        validation_alias="targetAccountId", serialization_alias="targetAccountId"
    )
    amount: Money
    # pattern left out: it uses regex syntax pydantic cannot check portably
    memo: str | None = None
    """Free text; control characters are not allowed."""
    # pattern translated from ECMA-262 named groups
    cutoff_time: str | None = pydantic.Field(
        None,
        validation_alias="cutoffTime",
        serialization_alias="cutoffTime",
        pattern="^(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])$",
    )
    """Local time the transfer must start by (HH:MM)."""
    id: str
    state: TransferState
    created_at: datetime.datetime | None = pydantic.Field(
        None, validation_alias="createdAt", serialization_alias="createdAt"
    )


__all__ = [
    "Account",
    "AccountPatch",
    "Accounts",
    "Health",
    "Institution",
    "Money",
    "NewTransfer",
    "Problem",
    "ProductType",
    "Transfer",
    "TransferState",
]
