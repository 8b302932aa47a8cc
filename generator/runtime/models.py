"""Base classes of generated models."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """A spec schema: JSON names kept as aliases, unknown properties kept, built on first use."""

    model_config = ConfigDict(
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        defer_build=True,
        protected_namespaces=(),
    )


def _unknown_member(cls: Any, base: type, value: Any) -> Any:
    member: Any = base.__new__(cls, value)
    member._name_ = "UNKNOWN"
    member._value_ = value
    return member


class OpenStrEnum(str, enum.Enum):
    """A string enum that accepts values the spec did not list (servers add values between releases)."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return _unknown_member(cls, str, value) if isinstance(value, str) else None

    def __str__(self) -> str:
        return str(self.value)


class OpenIntEnum(int, enum.Enum):
    """An integer enum that accepts values the spec did not list."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return _unknown_member(cls, int, value)
        return None


class OpenFloatEnum(float, enum.Enum):
    """A number enum that accepts values the spec did not list."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _unknown_member(cls, float, float(value))
        return None
