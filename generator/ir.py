"""Intermediate representation: plain frozen dataclasses built from the spec.

Nothing after the IR stage reads the raw document. Names here are the spec's own
(JSON names, operationIds, schema keys); Python identifiers are chosen by ``plan``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal, Union

# ---------------------------------------------------------------- types


@dataclass(frozen=True)
class AnyType:
    """No constraint (an empty schema, or one accessgen cannot narrow)."""


@dataclass(frozen=True)
class PrimitiveType:
    name: Literal["string", "integer", "number", "boolean", "null"]
    format: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class LiteralType:
    """A ``const`` value."""

    value: Any


@dataclass(frozen=True)
class ArrayType:
    items: "TypeExpr"


@dataclass(frozen=True)
class MapType:
    values: "TypeExpr"


@dataclass(frozen=True)
class ModelRef:
    """A named model (object, enum or union alias) by its key in ``Api.models``."""

    key: str


@dataclass(frozen=True)
class UnionType:
    members: tuple["TypeExpr", ...]
    discriminator: str | None = None
    # discriminator value -> key of the member model it selects (explicit mapping and implicit names)
    mapping: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NullableType:
    inner: "TypeExpr"


TypeExpr = Union[AnyType, PrimitiveType, LiteralType, ArrayType, MapType, ModelRef, UnionType, NullableType]

# ---------------------------------------------------------------- models


@dataclass(frozen=True)
class Property:
    json_name: str
    type: TypeExpr
    required: bool
    description: str | None = None
    default: Any = None
    has_default: bool = False
    read_only: bool = False
    write_only: bool = False
    deprecated: bool = False


@dataclass(frozen=True)
class ObjectModel:
    key: str
    name_hint: str
    properties: tuple[Property, ...]
    additional_properties: TypeExpr | None = None
    description: str | None = None
    pointer: str = ""


@dataclass(frozen=True)
class EnumModel:
    key: str
    name_hint: str
    values: tuple[Any, ...]
    value_type: Literal["string", "integer", "number", "mixed"]
    description: str | None = None
    pointer: str = ""


@dataclass(frozen=True)
class AliasModel:
    """A named schema that is not an object or enum: a union, array, map or primitive."""

    key: str
    name_hint: str
    target: TypeExpr
    description: str | None = None
    pointer: str = ""


Model = Union[ObjectModel, EnumModel, AliasModel]

# ---------------------------------------------------------------- security


@dataclass(frozen=True)
class OAuthFlow:
    kind: str
    token_url: str | None = None
    refresh_url: str | None = None
    authorization_url: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    type: Literal["apiKey", "http", "oauth2", "openIdConnect", "mutualTLS"]
    http_scheme: str | None = None
    api_key_name: str | None = None
    api_key_location: Literal["header", "query", "cookie"] | None = None
    openid_connect_url: str | None = None
    flows: tuple[OAuthFlow, ...] = ()
    description: str | None = None

    @property
    def is_token(self) -> bool:
        if self.type in ("oauth2", "openIdConnect"):
            return True
        return self.type == "http" and (self.http_scheme or "").lower() == "bearer"

    @property
    def credential_kind(self) -> Literal["token", "api_key", "basic", "unsupported"]:
        if self.is_token:
            return "token"
        if self.type == "apiKey":
            return "api_key"
        if self.type == "http" and (self.http_scheme or "").lower() == "basic":
            return "basic"
        return "unsupported"

    @property
    def token_endpoint(self) -> str | None:
        """Where a refresh goes by default: refreshUrl, else tokenUrl, of the first flow having one."""
        for flow in self.flows:
            if flow.refresh_url:
                return flow.refresh_url
        for flow in self.flows:
            if flow.token_url:
                return flow.token_url
        return None


@dataclass(frozen=True)
class SchemeUse:
    scheme: str
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityRequirement:
    """One alternative: every scheme in it is needed (AND). Empty means anonymous."""

    schemes: tuple[SchemeUse, ...] = ()


class SecurityClass(str, enum.Enum):
    TOKEN_REQUIRED = "token-required"
    TOKEN_OPTIONAL = "token-optional"
    CREDENTIAL_ONLY = "credential-only"
    PUBLIC = "public"


@dataclass(frozen=True)
class EffectiveSecurity:
    alternatives: tuple[SecurityRequirement, ...]
    source: Literal["operation", "root", "none"]
    security_class: SecurityClass


# ---------------------------------------------------------------- operations

ParameterLocation = Literal["path", "query", "header", "cookie"]


@dataclass(frozen=True)
class Parameter:
    name: str
    location: ParameterLocation
    type: TypeExpr
    required: bool
    style: str
    explode: bool
    description: str | None = None
    deprecated: bool = False
    content_type: str | None = None  # parameters declared with `content` are sent as serialised text


BodyKind = Literal["json", "form", "multipart", "binary", "text"]


@dataclass(frozen=True)
class RequestBody:
    media_type: str
    kind: BodyKind
    type: TypeExpr
    required: bool
    description: str | None = None


ResponseKind = Literal["json", "binary", "text", "empty"]


@dataclass(frozen=True)
class ResponseHeader:
    name: str
    type: TypeExpr
    description: str | None = None


@dataclass(frozen=True)
class Response:
    status: str  # "200", "2XX", "default"
    kind: ResponseKind
    type: TypeExpr
    media_type: str | None = None
    description: str | None = None
    headers: tuple[ResponseHeader, ...] = ()


@dataclass(frozen=True)
class Pagination:
    """How to walk a list: the item array property, and where the next page is named.

    ``next_path`` leads to a link (a URL to GET) or, when ``cursor_parameter`` is set, to an
    opaque cursor that goes back in that query parameter of the same operation.
    """

    items_property: str
    next_path: tuple[str, ...]
    cursor_parameter: str | None = None


@dataclass(frozen=True)
class Operation:
    operation_id: str | None
    method: str
    path: str
    tags: tuple[str, ...]
    summary: str | None
    description: str | None
    deprecated: bool
    parameters: tuple[Parameter, ...]
    request_body: RequestBody | None
    responses: tuple[Response, ...]
    security: EffectiveSecurity
    pointer: str
    pagination: Pagination | None = None


@dataclass(frozen=True)
class Server:
    url: str
    description: str | None = None


@dataclass(frozen=True)
class Api:
    title: str
    version: str
    description: str | None
    openapi_version: str
    servers: tuple[Server, ...]
    operations: tuple[Operation, ...]
    models: tuple[Model, ...]
    security_schemes: tuple[SecurityScheme, ...]
    tags: tuple[str, ...] = field(default=())

    def model(self, key: str) -> Model:
        for model in self.models:
            if model.key == key:
                return model
        raise KeyError(key)
