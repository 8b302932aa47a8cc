"""Base classes of generated models."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

REQUEST_CONTEXT = {"accessgen_request": True}


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


class ReadOnlyAwareModel(ApiModel):
    """A model with ``readOnly`` fields, which are left out when it is sent in a request."""

    read_only_fields: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _leave_out_read_only(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        data = handler(self)
        if (
            isinstance(data, dict)
            and isinstance(info.context, dict)
            and info.context.get("accessgen_request")
        ):
            for name in self.read_only_fields:
                field = type(self).model_fields[name]
                data.pop(field.serialization_alias or name, None)
                data.pop(name, None)
        return data


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


def tag_by_property(name: str, mapping: Mapping[str, str]) -> Callable[[Any], str | None]:
    """A pydantic ``Discriminator`` callable: the value of property ``name`` selects a member tag.

    Members are tagged with their class names, so a model instance is tagged by its class.
    """
    tags = frozenset(mapping.values())

    def discriminate(value: Any) -> str | None:
        if isinstance(value, Mapping):
            found = value.get(name)
            return mapping.get(str(found)) if found is not None else None
        cls_name = type(value).__name__
        return cls_name if cls_name in tags else None

    return discriminate
