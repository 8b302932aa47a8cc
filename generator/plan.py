"""Plan stage: choose every Python name and module, and lay out what each template shows.

All decisions live here so templates only lay out text. Names are derived from
the spec in a stable order (sorted where the spec's order is not meaningful), so
the same spec always gives the same names.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .ir import (
    AliasModel,
    AnyType,
    Api,
    ArrayType,
    EnumModel,
    LiteralType,
    MapType,
    Model,
    ModelRef,
    NullableType,
    ObjectModel,
    Operation,
    Parameter,
    PrimitiveType,
    SecurityClass,
    TypeExpr,
    UnionType,
)
from .naming import (
    BUILTIN_NAMES,
    PYDANTIC_RESERVED,
    attribute_name,
    class_name,
    file_safe,
    constant_case,
    package_name as to_package_name,
    snake_case,
    unique,
)
from .layout import python_literal, python_string
from .security import describe

# ---------------------------------------------------------------- names generated modules hold
#
# Every name a generated module imports or defines for itself is listed here, and every
# spec-derived name is chosen to collide with none of them: render only imports names from
# these lists (tests/test_naming.py checks generated modules against them).

IMPORTED_MODULES = ("datetime", "decimal", "typing", "uuid", "warnings")
MODEL_IMPORTED_MODULES = ("datetime", "decimal", "uuid")  # what model annotations use
IMPORTED_ABC_NAMES = ("AsyncIterator", "Iterator", "Mapping")  # operation and client modules only
IMPORTED_TYPING_NAMES = ("Annotated", "Any", "ClassVar", "Literal", "TypeAlias", "TypeVar", "Union")
MODEL_RUNTIME_NAMES = frozenset({"ApiModel", "ReadOnlyAwareModel", "OpenStrEnum", "OpenIntEnum", "OpenFloatEnum", "tag_by_property"})
# What operation modules and client.py may import from the runtime's client module; each
# imports the ones it uses.
API_RUNTIME_NAMES = (
    "ApiResponse", "AsyncBinaryContent", "AsyncClientCore", "AsyncStreamedResponse", "BinaryContent", "OperationSpec",
    "PaginationSpec", "ParamSpec", "ResponseSpec", "StreamedResponse", "SyncClientCore", "Timeout", "request_options",
    "CallOptions",
)
CLIENT_MODULE_RUNTIME_NAMES = ("AsyncClientCore", "RetryPolicy", "SchemeSpec", "SyncClientCore", "Timeout", "TokenProvider")
CLIENT_RUNTIME_NAMES = frozenset(API_RUNTIME_NAMES + CLIENT_MODULE_RUNTIME_NAMES)
# What the package's __init__ exports from each runtime module (a multi-spec package's
# sub-packages sit beside them). The templates import exactly these.
RUNTIME_EXPORTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("client", ("ApiResponse", "CallOptions", "OperationSpec")),
    (
        "errors",
        (
            "ApiConnectionError", "ApiError", "ApiTimeoutError", "AuthenticationError", "BadRequestError", "ClientError",
            "ClientSideError", "ConflictError", "InternalServerError", "MissingCredentialsError", "NotFoundError",
            "PaginationError", "PermissionDeniedError", "RateLimitError", "ResponseValidationError", "SessionError",
            "SessionExpiredError", "TokenRefreshError", "UnexpectedStatusError", "UnprocessableEntityError",
        ),
    ),
    ("retries", ("RetryPolicy",)),
    ("streaming", ("AsyncStreamedResponse", "StreamedResponse")),
    ("oauth", ("ClientCredentialsGrant", "RefreshTokenGrant", "RevocationResult")),
    ("signin", ("AuthorizationDeniedError", "CallbackTimeoutError", "SignInError", "SignInFlow", "SignInRequest", "StateMismatchError")),
    ("store", ("FileTokenStore", "TokenStore", "TokenStoreError")),
    ("tokens", ("TokenSet",)),
)
PACKAGE_EXPORTS = frozenset(name for _, names in RUNTIME_EXPORTS for name in names)
# What a models module (or the lazy models index) imports or defines besides the spec's models.
MODEL_SCOPE_TAKEN = frozenset(
    MODEL_IMPORTED_MODULES + IMPORTED_TYPING_NAMES
    + ("annotations", "pydantic", "TypeAliasType", "_models", "importlib", "TYPE_CHECKING", "_MODULE_OF")
) | MODEL_RUNTIME_NAMES
# What operation modules, client.py and the package's __init__ import or define besides the
# spec's operations, plus the builtins generated code calls.
MODULE_SCOPE_TAKEN = (
    MODEL_SCOPE_TAKEN
    | frozenset(IMPORTED_MODULES)
    | CLIENT_RUNTIME_NAMES
    | BUILTIN_NAMES
    | frozenset(IMPORTED_ABC_NAMES)
    | frozenset({
        "cached_property", "httpx", "models", "Unpack", "OPERATIONS", "DEFAULT_BASE_URL", "SCHEMES", "_SyncClientT", "_AsyncClientT",
        "Client", "AuthenticatedClient", "AsyncClient", "AsyncAuthenticatedClient", "Session", "_RuntimeSession",
    })
    | PACKAGE_EXPORTS
)
# Members of the client classes besides one attribute per API group.
CLIENT_MEMBERS = frozenset({"base_url", "session", "close", "aclose", "with_options", "operations"})
# Per-call options every generated method takes after the spec's parameters; a spec parameter
# of the same name is renamed, never an option.
OPTION_NAMES = ("timeout", "extra_headers", "extra_query", "max_retries", "idempotency_key")
# Header parameters that carry an idempotency key: the `idempotency_key` option sets them.
_IDEMPOTENCY_HEADER = re.compile(r"(x-)?idempotency[-_]?key", re.IGNORECASE)
# Builtins that generated annotations name.
ANNOTATION_BUILTINS = frozenset({"str", "int", "float", "bool", "bytes", "list", "dict", "tuple", "frozenset"})
# Methods of API classes: annotations of later methods are resolved in the class body, where
# a method named like an import or a builtin would shadow it.
CLASS_SCOPE_TAKEN = MODULE_SCOPE_TAKEN | frozenset({"close"})
# Parameters: not the names method bodies use, nor those of annotations.
PARAM_TAKEN = (
    MODEL_SCOPE_TAKEN | ANNOTATION_BUILTINS
    | frozenset({"typing", "warnings", "models", "self", "body", "page_item", "options", "request_options"})
    | frozenset(OPTION_NAMES)
)
# Fields: not what a pydantic model holds, nor names its annotations and defaults use.
FIELD_TAKEN = MODEL_SCOPE_TAKEN | ANNOTATION_BUILTINS | PYDANTIC_RESERVED | frozenset({"read_only_fields"})


@dataclass(frozen=True)
class PlannedField:
    name: str
    alias: str | None
    annotation: str
    default: str | None  # Python source, or None when required
    description: str | None
    pattern: str | None
    pattern_note: str | None
    read_only: bool


@dataclass(frozen=True)
class PlannedEnumMember:
    name: str
    value: str  # Python source


@dataclass(frozen=True)
class PlannedModel:
    kind: str  # "object", "enum", "alias"
    name: str
    description: str | None
    fields: tuple[PlannedField, ...] = ()
    enum_base: str = ""
    members: tuple[PlannedEnumMember, ...] = ()
    target: str = ""
    has_read_only: bool = False
    module: str = ""  # the models submodule it lives in; "" for models/__init__.py
    recursive: bool = False  # an alias whose value names itself, directly or through other aliases
    key: str = ""  # the IR model's key


@dataclass(frozen=True)
class PlannedParam:
    name: str
    annotation: str
    default: str | None
    description: str | None
    positional: bool
    async_annotation: str | None = None  # where the async client accepts more (async iterables)
    location: str = ""  # "path", "query", "header", "cookie", "body"; "" for the per-call options
    spec_name: str = ""  # the parameter's name in the spec; for the body, its media type


OPTION_PARAMS = (
    PlannedParam("timeout", "Timeout | None", "None", "Seconds (or an httpx.Timeout) for this call.", False),
    PlannedParam("extra_headers", "Mapping[str, str] | None", "None", "Headers added to this call.", False),
    PlannedParam("extra_query", "Mapping[str, str] | None", "None", "Query parameters added to this call.", False),
    PlannedParam("max_retries", "int | None", "None", "Retries of this call, instead of the client's.", False),
    PlannedParam("idempotency_key", "str | None", "None", "The idempotency key of this call; makes a POST retryable.", False),
)


@dataclass(frozen=True)
class PlannedOperation:
    name: str
    raw_name: str
    iter_name: str | None
    item_annotation: str
    constant: str
    spec_source: str
    signature_params: tuple[PlannedParam, ...]
    call_args: tuple[str, ...]
    body_arg: str | None
    return_annotation: str
    docstring: str
    deprecated: bool
    security_class: str
    pagination: str | None  # "link" or "cursor" when the operation has an iter_ method
    stream_name: str | None = None  # the variant reading a binary response in chunks
    # What the API reference (API.md) shows besides the signature.
    http_method: str = ""  # "GET"
    path: str = ""
    operation_id: str | None = None
    summary: str | None = None
    security: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = ()  # alternatives of (scheme, scopes)
    success_statuses: tuple[str, ...] = ()
    errors: tuple[PlannedError, ...] = ()  # declared statuses that raise
    runtime_errors: tuple[str, ...] = ()  # errors besides those every call may raise
    idempotency_header: str | None = None  # the header the `idempotency_key` option sets


@dataclass(frozen=True)
class PlannedError:
    """A response status an operation declares that makes a call raise."""

    status: str  # "404", "4XX", "default"
    exception: str  # the runtime's class for it ("NotFoundError"); "ApiError" for "default"
    body: str  # the annotation of the parsed body the error carries ("None" when empty)
    description: str | None


# The runtime's error class for each status it names (generator/runtime/errors.py _BY_STATUS);
# tests/test_api_reference.py checks the two agree.
STATUS_ERRORS = {
    400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError",
    409: "ConflictError", 422: "UnprocessableEntityError", 429: "RateLimitError",
}


def error_class(status: str) -> str:
    """The error a response with the declared ``status`` raises ("404", "4XX", "default")."""
    upper = status.upper()
    if upper == "DEFAULT":
        return "ApiError"
    if upper.isdigit() and int(upper) in STATUS_ERRORS:
        return STATUS_ERRORS[int(upper)]
    return {"4": "ClientSideError", "5": "InternalServerError"}.get(upper[:1], "UnexpectedStatusError")


@dataclass(frozen=True)
class PlannedGroup:
    module: str
    attribute: str
    public_class: str
    authenticated_class: str
    async_public_class: str
    async_authenticated_class: str
    public_operations: tuple[PlannedOperation, ...]
    token_operations: tuple[PlannedOperation, ...]
    description: str | None

    @property
    def operations(self) -> tuple[PlannedOperation, ...]:
        return self.public_operations + self.token_operations


@dataclass(frozen=True)
class PlannedCredential:
    scheme: str
    kind: str
    kwarg: str
    annotation: str
    description: str


@dataclass(frozen=True)
class PlannedScheme:
    name: str
    source: str  # SchemeSpec(...) source
    token_endpoint: str | None
    openid_connect_url: str | None


@dataclass(frozen=True)
class PackagePlan:
    package: str
    title: str
    version: str
    description: str | None
    default_base_url: str
    models: tuple[PlannedModel, ...]
    groups: tuple[PlannedGroup, ...]
    credentials: tuple[PlannedCredential, ...]
    schemes: tuple[PlannedScheme, ...]
    has_token_scheme: bool
    generator_version: str
    token_urls: tuple[tuple[str, str], ...] = ()
    openid_configuration_url: str | None = None
    authorization_url: str | None = None
    default_scopes: tuple[str, ...] = ()
    call_options: tuple[PlannedParam, ...] = OPTION_PARAMS  # what every method takes after its own parameters


# ---------------------------------------------------------------- patterns

_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")
_UNPORTABLE = re.compile(r"\(\?<?[=!]|\(\?>|\\[1-9]|\\Z|\\[pP]\{|[*+?}][+]|\(\?P=")


def portable_pattern(pattern: str) -> tuple[str | None, str | None]:
    """(pattern both Python's re and pydantic-core accept, or None, and a note when changed or dropped)."""
    translated = _NAMED_GROUP.sub(r"(?P<\1>", pattern)
    if _UNPORTABLE.search(translated):
        return None, "pattern left out: it uses regex syntax pydantic cannot check portably"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            re.compile(translated)
    except (re.error, FutureWarning, DeprecationWarning, RecursionError, OverflowError):
        return None, "pattern left out: Python's re does not accept it"
    if "[[" in translated or "&&" in translated or "--" in translated or "~~" in translated:
        return None, "pattern left out: set syntax differs between regex engines"
    note = "pattern translated from ECMA-262 named groups" if translated != pattern else None
    return translated, note


# ---------------------------------------------------------------- planner


# Up to this many models live in models/__init__.py; more are split into lazily imported modules.
INLINE_MODELS_LIMIT = 120
_BUCKET_LIMIT = 150
_MAX_PREFIX = 40


class Planner:
    def __init__(self, api: Api, package: str, generator_version: str) -> None:
        self.api = api
        self.package = package
        self.generator_version = generator_version
        self.models_by_key = {m.key: m for m in api.models}
        self.class_names = self._class_names(api.models)
        self.model_modules = self._model_modules()
        self.schemes = {s.name: s for s in api.security_schemes}
        self._module_context: str | None = None  # set while planning one models module
        self._recursive_aliases: set[str] = set()  # keys of aliases that name themselves (plan_models)

    def _model_modules(self) -> dict[str, str]:
        """Model key -> models submodule: buckets by initial letters, so adding a model touches one file."""
        if len(self.class_names) <= INLINE_MODELS_LIMIT:
            return {key: "" for key in self.class_names}
        modules: dict[str, str] = {}

        def bucket(keys: list[str], length: int) -> None:
            """Group by the first ``length`` letters, longer where a group is still too big."""
            groups: dict[str, list[str]] = {}
            for key in keys:
                groups.setdefault(self.class_names[key][:length].lower(), []).append(key)
            for prefix, members in groups.items():
                if len(members) > _BUCKET_LIMIT and length < _MAX_PREFIX and any(len(self.class_names[k]) > length for k in members):
                    bucket(members, length + 1)
                else:
                    modules.update((key, f"_{prefix}") for key in members)

        bucket(sorted(self.class_names), 1)
        for key, model in self.models_by_key.items():
            if isinstance(model, AliasModel) or (isinstance(model, EnumModel) and not _enum_is_class(model)):
                modules[key] = "_aliases"  # evaluated at import, so kept apart from the classes
        return modules

    # ------------------------------------------------------------ names

    def _class_names(self, models: tuple[Model, ...]) -> dict[str, str]:
        ordered = sorted(models, key=lambda m: (not m.pointer.startswith("/components/schemas/"), m.key))
        bases = [class_name(m.name_hint, avoid=MODEL_SCOPE_TAKEN) for m in ordered]
        return dict(zip((m.key for m in ordered), unique(bases, taken=MODEL_SCOPE_TAKEN)))

    # ------------------------------------------------------------ types

    def annotation(self, t: TypeExpr, qualifier: str = "", *, accept_enum_values: bool = False) -> str:
        """Python source for ``t``; ``accept_enum_values`` also admits plain values for enums and dicts for models."""
        if accept_enum_values:
            return self._with_enum_values(t, qualifier)
        if isinstance(t, AnyType):
            return "Any"
        if isinstance(t, PrimitiveType):
            return _primitive(t)
        if isinstance(t, LiteralType):
            if isinstance(t.value, int) and not isinstance(t.value, bool) and not -(2**63) <= t.value < 2**63:
                return "int"  # type checkers take only 64-bit integers in Literal
            if isinstance(t.value, (str, int, bool)) or t.value is None:
                return f"Literal[{python_literal(t.value)}]"
            return "Any"
        if isinstance(t, ArrayType):
            return f"list[{self.annotation(t.items, qualifier)}]"
        if isinstance(t, MapType):
            return f"dict[str, {self.annotation(t.values, qualifier)}]"
        if isinstance(t, ModelRef):
            return self._model_name(t.key, qualifier)
        if isinstance(t, UnionType):
            if t.discriminator and t.mapping:
                return self._discriminated(t, qualifier)
            parts = _dedupe([self.annotation(m, qualifier) for m in t.members])
            if "Any" in parts:
                return "Any"
            return " | ".join(parts) if len(parts) > 1 else parts[0]
        if isinstance(t, NullableType):
            inner = self.annotation(t.inner, qualifier)
            return inner if inner in ("Any", "None") or inner.endswith("| None") else f"{inner} | None"
        raise TypeError(t)

    def _model_name(self, key: str, qualifier: str) -> str:
        name = self.class_names[key]
        if self._module_context is not None and self.model_modules[key] != self._module_context:
            return f"_models.{name}"  # another models module, resolved lazily through the package
        return qualifier + name

    def _discriminated(self, t: UnionType, qualifier: str) -> str:
        """A pydantic tagged union: the discriminator value picks the member, whatever its field types."""
        members = [m for m in t.members if isinstance(m, ModelRef)]
        tags = {m.key: self.class_names[m.key] for m in members}
        tagged = ", ".join(f"Annotated[{self._model_name(m.key, qualifier)}, pydantic.Tag({python_literal(tags[m.key])})]" for m in members)
        mapping = {value: tags[key] for value, key in t.mapping if key in tags}
        return f"Annotated[Union[{tagged}], pydantic.Discriminator(tag_by_property({python_literal(t.discriminator)}, {python_literal(mapping)}))]"

    def _with_enum_values(self, t: TypeExpr, qualifier: str) -> str:
        if isinstance(t, ModelRef) and isinstance(self.models_by_key.get(t.key), ObjectModel):
            return f"{self.annotation(t, qualifier)} | dict[str, Any]"
        enum = self.models_by_key.get(t.key) if isinstance(t, ModelRef) else None
        if isinstance(enum, EnumModel) and _enum_is_class(enum):
            model = enum
            plain = {"string": "str", "integer": "int", "number": "float"}.get(model.value_type)
            base = self.annotation(t, qualifier)
            return f"{base} | {plain}" if plain and base != "Any" else base
        if isinstance(t, ArrayType):
            return f"list[{self._with_enum_values(t.items, qualifier)}]"
        if isinstance(t, NullableType):
            return f"{self._with_enum_values(t.inner, qualifier)} | None"
        return self.annotation(t, qualifier)

    # ------------------------------------------------------------ models

    def plan_models(self) -> tuple[PlannedModel, ...]:
        """Classes by name, then aliases each after the aliases its value needs at import."""
        references = self._alias_references()
        recursive = _in_cycles(references)
        self._recursive_aliases = recursive
        planned = {m.key: self._model(m) for m in self.api.models}
        for key in recursive:
            planned[key] = dataclasses.replace(planned[key], recursive=True)
        ordered: list[str] = []
        placed: set[str] = set()

        def place(key: str) -> None:
            if key in placed:
                return
            placed.add(key)
            if key not in recursive:  # a recursive alias's value is a string, read on first use
                for needed in sorted(references[key], key=lambda k: planned[k].name):
                    place(needed)
            ordered.append(key)

        for key in sorted(references, key=lambda k: planned[k].name):
            place(key)
        classes = sorted((m for k, m in planned.items() if k not in references), key=lambda m: m.name)
        return tuple(classes) + tuple(planned[key] for key in ordered)

    def _alias_references(self) -> dict[str, set[str]]:
        """Key of each alias -> keys of the aliases its value names (classes are looked up lazily)."""
        aliases = {
            m.key for m in self.api.models
            if isinstance(m, AliasModel) or (isinstance(m, EnumModel) and not _enum_is_class(m))
        }
        references: dict[str, set[str]] = {}
        for key in aliases:
            model = self.models_by_key[key]
            found: set[str] = set()
            if isinstance(model, AliasModel):
                _collect_refs(model.target, aliases, found)
            references[key] = found
        return references

    def _model(self, model: Model) -> PlannedModel:
        self._module_context = self.model_modules[model.key]
        try:
            planned = self._model_in_context(model)
        finally:
            self._module_context = None
        return dataclasses.replace(planned, module=self.model_modules[model.key], key=model.key)

    def _model_in_context(self, model: Model) -> PlannedModel:
        name = self.class_names[model.key]
        if isinstance(model, EnumModel):
            return self._enum(model, name)
        if isinstance(model, AliasModel):
            return PlannedModel("alias", name, model.description, target=self.annotation(model.target))
        fields = []
        names = _field_names([p.json_name for p in model.properties])
        for prop, field_name in zip(model.properties, names):
            annotation = self.annotation(prop.type)
            optional = not prop.required or prop.read_only or prop.write_only
            default = None
            if optional:
                default = self._default(prop.type, prop.default) if prop.has_default else "None"
                if default == "None" and not annotation.endswith("| None") and annotation not in ("Any", "None"):
                    annotation += " | None"
            pattern, note = None, None
            base = prop.type.inner if isinstance(prop.type, NullableType) else prop.type
            if isinstance(base, PrimitiveType) and base.pattern and base.name == "string" and base.format not in ("date-time", "date", "uuid", "binary"):
                pattern, note = portable_pattern(base.pattern)
            fields.append(
                PlannedField(field_name, prop.json_name if prop.json_name != field_name else None, annotation, default, prop.description, pattern, note, prop.read_only)
            )
        return PlannedModel("object", name, model.description, tuple(fields), has_read_only=any(f.read_only for f in fields))

    def _default(self, t: TypeExpr, value: Any) -> str:
        base = t.inner if isinstance(t, NullableType) else t
        if isinstance(base, PrimitiveType) and base.format in (None, "int32", "int64", "float", "double"):
            expected: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}
            kinds = expected.get(base.name)
            if kinds is not None and isinstance(value, kinds) and not (base.name != "boolean" and isinstance(value, bool)):
                return python_literal(value)
        if isinstance(base, ModelRef):
            model = self.models_by_key.get(base.key)
            same_module = self._module_context is None or self.model_modules[base.key] == self._module_context
            if isinstance(model, EnumModel) and not _enum_is_class(model) and value in model.values:
                return python_literal(value)  # the enum is an alias (Literal, bool, int or Any)
            if isinstance(model, EnumModel) and value in model.values and same_module:
                members = self._enum_member_names(model)
                return f"{self._model_name(model.key, '')}.{members[model.values.index(value)]}"
            # An enum of another module is not defined yet when this class is created: the
            # default is left to the server (requests never send unset fields).
        return "None"

    def _enum_member_names(self, model: EnumModel) -> list[str]:
        bases = []
        for value in model.values:
            text = constant_case(str(value)) if not isinstance(value, (int, float)) else "VALUE_" + constant_case(str(value).replace("-", "MINUS_"))
            bases.append(attribute_name(text or "EMPTY", fallback="VALUE").upper() if text else "EMPTY")
        return unique([b if b and not b[0].isdigit() else "VALUE_" + b for b in bases], taken={"UNKNOWN", "MRO", "NAME", "VALUE"})

    def _enum(self, model: EnumModel, name: str) -> PlannedModel:
        if not _enum_is_class(model):
            return PlannedModel("alias", name, model.description, target=_enum_alias_target(model))
        base = {"string": "OpenStrEnum", "integer": "OpenIntEnum", "number": "OpenFloatEnum"}[model.value_type]
        members = tuple(PlannedEnumMember(n, python_literal(v)) for n, v in zip(self._enum_member_names(model), model.values))
        return PlannedModel("enum", name, model.description, enum_base=base, members=members)

    # ------------------------------------------------------------ operations

    def grouped_operations(self) -> list[tuple[str, list[Operation]]]:
        """The operations of each API group, groups by name and operations by path and method.

        An operation's group is its first tag; an untagged one goes by the first segment of
        its path that is neither a version (``v1``), ``api`` nor a parameter, so Stripe's
        ``/v1/customers/{customer}/sources`` is in ``customers``; with no such segment, ``default``.
        """
        by_group: dict[str, list[Operation]] = {}
        for op in self.api.operations:
            by_group.setdefault(op.tags[0] if op.tags else _resource_of(op.path), []).append(op)
        return [(name, sorted(by_group[name], key=lambda o: (o.path, o.method))) for name in sorted(by_group)]

    def plan_groups(self) -> tuple[PlannedGroup, ...]:
        grouped = self.grouped_operations()
        tags = [name for name, _ in grouped]
        attribute_taken = CLASS_SCOPE_TAKEN | CLIENT_MEMBERS
        attributes = unique([attribute_name(t, fallback="default", avoid=attribute_taken) for t in tags], taken=attribute_taken)
        modules = unique([file_safe(a) for a in attributes])
        class_bases = unique([class_name(t, fallback="Default") for t in tags])
        groups = []
        for (tag, ops), attribute, module, base in zip(grouped, attributes, modules, class_bases):
            planned = self.plan_operations(ops)
            token_ops = tuple(p for p, op in zip(planned, ops) if op.security.security_class is SecurityClass.TOKEN_REQUIRED)
            public_ops = tuple(p for p, op in zip(planned, ops) if op.security.security_class is not SecurityClass.TOKEN_REQUIRED)
            groups.append(
                PlannedGroup(
                    module=module,
                    attribute=attribute,
                    public_class=f"{base}Api",
                    authenticated_class=f"Authenticated{base}Api",
                    async_public_class=f"Async{base}Api",
                    async_authenticated_class=f"AsyncAuthenticated{base}Api",
                    public_operations=tuple(sorted(public_ops, key=lambda p: p.name)),
                    token_operations=tuple(sorted(token_ops, key=lambda p: p.name)),
                    description=None,
                )
            )
        return tuple(groups)

    def plan_operations(self, ops: list[Operation]) -> list[PlannedOperation]:
        bases = [attribute_name(op.operation_id or f"{op.method}_{op.path}", fallback="call", avoid=CLASS_SCOPE_TAKEN) for op in ops]
        # Reserve room for the _raw and iter_ variants of every method.
        names = unique(bases, taken=CLASS_SCOPE_TAKEN)
        constants = unique([name.upper() for name in names], taken=MODULE_SCOPE_TAKEN)
        taken = set(names) | CLASS_SCOPE_TAKEN
        result = []
        for op, name, constant in zip(ops, names, constants):
            raw_name = unique([f"{name.rstrip('_')}_raw"], taken=taken)[0]
            taken.add(raw_name)
            iter_name = None
            if op.pagination is not None:
                iter_name = unique([f"iter_{name.rstrip('_')}"], taken=taken)[0]
                taken.add(iter_name)
            stream_name = None
            if any(r.kind == "binary" for r in _success_responses(op)):
                stream_name = unique([f"{name.rstrip('_')}_stream"], taken=taken)[0]
                taken.add(stream_name)
            result.append(dataclasses.replace(self._operation(op, name, constant, raw_name, iter_name), stream_name=stream_name))
        return result

    def _operation(self, op: Operation, name: str, constant: str, raw_name: str, iter_name: str | None) -> PlannedOperation:
        key_param = _idempotency_param(op)
        others = [p for p in op.parameters if p is not key_param]
        other_names = iter(unique([attribute_name(p.name, fallback="param", avoid=PARAM_TAKEN) for p in others], taken=PARAM_TAKEN))
        # The idempotency header is set through the `idempotency_key` option.
        param_names = ["idempotency_key" if p is key_param else next(other_names) for p in op.parameters]
        signature = []
        for param, pname in zip(op.parameters, param_names):
            if param is key_param:
                continue
            annotation = self.annotation(param.type, "models.", accept_enum_values=True)
            default = None
            if not param.required:
                default = "None"
                if not annotation.endswith("| None") and annotation not in ("Any", "None"):
                    annotation += " | None"
            signature.append(PlannedParam(pname, annotation, default, param.description, param.location == "path", location=param.location, spec_name=param.name))
        body_arg = None
        if op.request_body is not None:
            body = op.request_body
            annotation = self.annotation(body.type, "models.")
            if body.kind in ("json", "form", "multipart") and isinstance(body.type, ModelRef):
                annotation += " | dict[str, Any]"
            async_annotation = None
            if body.kind == "binary":
                annotation, async_annotation = "BinaryContent", "AsyncBinaryContent"
            elif body.kind == "text":
                annotation = "str"
            default = None
            if not body.required:
                default = "None"
                if not annotation.endswith("| None") and annotation != "Any":
                    annotation += " | None"
                    async_annotation = async_annotation and async_annotation + " | None"
            body_arg = "body"
            signature.append(PlannedParam("body", annotation, default, body.description, False, async_annotation, location="body", spec_name=body.media_type))
        # Required keyword arguments first reads better and is what users expect.
        positional = [p for p in signature if p.positional]
        keyword = [p for p in signature if not p.positional]
        keyword.sort(key=lambda p: p.default is not None)
        success = _success_responses(op)
        returns = _dedupe([self._response_annotation(r) for r in success]) or ["None"]
        if "Any" in returns or (len(returns) > 1 and self._names_recursive_alias(r.type for r in success)):
            # mypy (2.4) mis-simplifies unions of recursive aliases (`Tree | Forest` where both
            # are maps of themselves) and then rejects the generated call: such a union is Any.
            returns = ["Any"]
        return_annotation = " | ".join(r for r in returns if r != "None") + (" | None" if "None" in returns and len(returns) > 1 else "") if returns != ["None"] else "None"
        item_annotation = "Any"
        if op.pagination is not None and success:
            item_annotation = self._item_annotation(success[0].type, op.pagination.items_property)
        return PlannedOperation(
            name=name,
            raw_name=raw_name,
            iter_name=iter_name,
            item_annotation=item_annotation,
            constant=constant,
            spec_source=self._spec_source(op, name),
            signature_params=tuple(positional + keyword),
            # The idempotency header's value comes from the options (generated when not given).
            call_args=tuple("None" if param is key_param else pname for param, pname in zip(op.parameters, param_names)),
            body_arg=body_arg,
            return_annotation=return_annotation,
            docstring=self._docstring(op, list(zip(op.parameters, param_names))),
            deprecated=op.deprecated,
            security_class=op.security.security_class.value,
            pagination=None if op.pagination is None else "cursor" if op.pagination.cursor_parameter else "link",
            http_method=op.method.upper(),
            path=op.path,
            operation_id=op.operation_id,
            summary=op.summary,
            security=tuple(tuple((use.scheme, use.scopes) for use in req.schemes) for req in op.security.alternatives),
            success_statuses=tuple(r.status for r in success),
            errors=self._errors(op),
            runtime_errors=self._runtime_errors(op, success),
            idempotency_header=key_param.name if key_param is not None else None,
        )

    def _names_recursive_alias(self, types: Iterable[TypeExpr]) -> bool:
        found: set[str] = set()
        for t in types:
            _collect_refs(t, self._recursive_aliases, found)
        return bool(found)

    def _errors(self, op: Operation) -> tuple[PlannedError, ...]:
        """The declared responses that raise (every status but 2xx), exact codes first, ``default`` last."""
        failing = [r for r in op.responses if not r.status.startswith("2")]
        failing.sort(key=lambda r: (r.status.lower() == "default", not r.status.isdigit(), r.status.upper()))
        return tuple(PlannedError(r.status, error_class(r.status), self._response_annotation(r), r.description) for r in failing)

    def _runtime_errors(self, op: Operation, success: list[Any]) -> tuple[str, ...]:
        """What a call may raise besides connection errors and status errors, by what the operation is."""
        names = []
        security_class = op.security.security_class
        if security_class is not SecurityClass.PUBLIC:
            names.append("MissingCredentialsError")
        if security_class in (SecurityClass.TOKEN_REQUIRED, SecurityClass.TOKEN_OPTIONAL):
            names += ["SessionExpiredError", "TokenRefreshError"]
        if any(r.kind == "json" for r in success):
            names.append("ResponseValidationError")
        if op.pagination is not None and not op.pagination.cursor_parameter:
            names.append("PaginationError")
        return tuple(names)

    def _response_annotation(self, response: Any) -> str:
        if response.kind == "empty":
            return "None"
        if response.kind == "binary":
            return "bytes"
        if response.kind == "text":
            return "str"
        return self.annotation(response.type, "models.")

    def _item_annotation(self, t: TypeExpr, items_property: str) -> str:
        model = self.models_by_key.get(t.key) if isinstance(t, ModelRef) else None
        if isinstance(model, ObjectModel):
            for prop in model.properties:
                if prop.json_name == items_property:
                    inner = prop.type.inner if isinstance(prop.type, NullableType) else prop.type
                    if isinstance(inner, ArrayType):
                        return self.annotation(inner.items, "models.")
        return "Any"

    def _runtime_type(self, t: TypeExpr) -> str:
        """Source of the type object the runtime parses a response into (PEP 604 unions work at runtime)."""
        text = self.annotation(t, "models.")
        return "None" if text in ("Any", "None") else text

    def _spec_source(self, op: Operation, name: str) -> str:
        alternatives = tuple(tuple(use.scheme for use in req.schemes) for req in op.security.alternatives)
        scopes: dict[str, list[str]] = {}
        for req in op.security.alternatives:
            for use in req.schemes:
                bucket = scopes.setdefault(use.scheme, [])
                bucket.extend(s for s in use.scopes if s not in bucket)
        params = _tuple_source(
            f"ParamSpec({python_literal(p.name)}, {python_literal(p.location)}, {python_literal(p.style)}, {python_literal(p.explode)}{', content_json=True' if p.content_type else ''})" for p in op.parameters
        )
        responses = _tuple_source(
            f"ResponseSpec({python_literal(r.status)}, {python_literal(r.kind)}{', lambda: ' + self._runtime_type(r.type) if r.kind == 'json' and self._runtime_type(r.type) != 'None' else ''})" for r in op.responses
        )
        body = op.request_body
        parts = [
            f"name={python_literal(name)}",
            f"operation_id={python_literal(op.operation_id or name)}",
            f"method={python_literal(op.method.upper())}",
            f"path={python_literal(op.path)}",
            f"security={python_literal(alternatives)}",
        ]
        if any(scopes.values()):
            parts.append(f"scopes={python_literal({k: tuple(v) for k, v in scopes.items()})}")
        if op.parameters:
            parts.append(f"params={params}")
        if body is not None:
            parts.append(f"body_media_type={python_literal(body.media_type)}")
            parts.append(f"body_kind={python_literal(body.kind)}")
        if op.responses:
            parts.append(f"responses={responses}")
        if op.pagination is not None:
            page = op.pagination
            cursor = f", {python_literal(page.cursor_parameter)}" if page.cursor_parameter else ""
            parts.append(f"pagination=PaginationSpec({python_literal(page.items_property)}, {python_literal(page.next_path)}{cursor})")
        if op.deprecated:
            parts.append("deprecated=True")
        key_param = _idempotency_param(op)
        if key_param is not None:
            parts.append(f"idempotency_header={python_literal(key_param.name)}")
        accept = _dedupe([r.media_type for r in op.responses if r.media_type and r.kind != "empty"])
        if accept:
            parts.append(f"accept={python_literal(', '.join(accept))}")
        return "OperationSpec(" + ", ".join(parts) + ")"

    def _docstring(self, op: Operation, params: list[tuple[Parameter, str]]) -> str:
        lines: list[str] = []
        if op.summary:
            lines.append(op.summary.strip())
        if op.description and op.description.strip() != (op.summary or "").strip():
            if lines:
                lines.append("")
            lines.extend(op.description.strip().splitlines())
        if not lines:
            lines.append(f"{op.method.upper()} {op.path}")
        lines.append("")
        lines.append(f"Security: {describe(op.security)}.")
        documented = [(p, n) for p, n in params if p.description]
        if documented or (op.request_body is not None and op.request_body.description):
            lines.append("")
            lines.append("Args:")
            for param, pname in documented:
                first, *rest = (param.description or "").strip().splitlines() or [""]
                lines.append(f"    {pname}: {first}")
                lines.extend(f"        {line}" for line in rest)
            if op.request_body is not None and op.request_body.description:
                first, *rest = op.request_body.description.strip().splitlines() or [""]
                lines.append(f"    body: {first}")
                lines.extend(f"        {line}" for line in rest)
        return "\n".join(line.rstrip() for line in lines)

    # ------------------------------------------------------------ credentials

    def plan_credentials(self) -> tuple[tuple[PlannedCredential, ...], tuple[PlannedScheme, ...]]:
        schemes = sorted(self.api.security_schemes, key=lambda s: s.name)
        fixed = [s for s in schemes if s.credential_kind in ("api_key", "basic")]
        kinds = [s.credential_kind for s in fixed]
        base_names = []
        for scheme in fixed:
            if kinds.count(scheme.credential_kind) == 1:
                base_names.append("api_key" if scheme.credential_kind == "api_key" else "basic_auth")
            else:
                base_names.append(attribute_name(scheme.name, fallback="credential", avoid=PARAM_TAKEN))
        reserved = {"base_url", "timeout", "headers", "http_client", "session", "self", "max_retries", "retry_policy", "strict_validation"}
        kwargs = unique(base_names, taken=reserved)
        credentials = []
        for scheme, kwarg in zip(fixed, kwargs):
            if scheme.credential_kind == "api_key":
                where = f"{scheme.api_key_location} {scheme.api_key_name!r}"
                credentials.append(PlannedCredential(scheme.name, "api_key", kwarg, "str | None", f"API key for scheme {scheme.name!r}, sent in {where}"))
            else:
                credentials.append(PlannedCredential(scheme.name, "basic", kwarg, "tuple[str, str] | None", f"(username, password) for HTTP basic scheme {scheme.name!r}"))
        planned_schemes = []
        for scheme in schemes:
            kind = scheme.credential_kind
            if kind == "unsupported":
                continue
            if kind == "api_key":
                src = f"SchemeSpec({python_literal(scheme.name)}, \"api_key\", {python_literal(scheme.api_key_name or '')}, {python_literal(scheme.api_key_location or 'header')})"
            else:
                src = f"SchemeSpec({python_literal(scheme.name)}, {python_literal(kind)})"
            planned_schemes.append(PlannedScheme(scheme.name, src, scheme.token_endpoint, scheme.openid_connect_url))
        return tuple(credentials), tuple(planned_schemes)

    def plan(self) -> PackagePlan:
        credentials, schemes = self.plan_credentials()
        base_url = self.api.servers[0].url if self.api.servers else "http://localhost"
        return PackagePlan(
            package=self.package,
            title=self.api.title,
            version=self.api.version,
            description=self.api.description,
            default_base_url=base_url,
            models=self.plan_models(),
            groups=self.plan_groups(),
            credentials=credentials,
            schemes=schemes,
            has_token_scheme=any(s.is_token for s in self.api.security_schemes),
            generator_version=self.generator_version,
            token_urls=self._token_urls(),
            openid_configuration_url=next((s.openid_connect_url for s in self.api.security_schemes if s.openid_connect_url), None),
            authorization_url=next((f.authorization_url for s in self.api.security_schemes for f in s.flows if f.kind == "authorizationCode" and f.authorization_url), None),
            default_scopes=self._sign_in_scopes(),
        )

    def _sign_in_scopes(self) -> tuple[str, ...]:
        """The scopes of the first scheme a user signs in with: its authorizationCode flow's, or for
        openIdConnect (which declares none) those the operations require of it, in spec order."""
        for scheme in self.api.security_schemes:
            flow = next((f for f in scheme.flows if f.kind == "authorizationCode"), None)
            if flow is not None:
                return flow.scopes
            if scheme.type == "openIdConnect":
                scopes: list[str] = []
                for op in self.api.operations:
                    for req in op.security.alternatives:
                        for use in req.schemes:
                            if use.scheme == scheme.name:
                                scopes.extend(s for s in use.scopes if s not in scopes)
                return tuple(scopes)
        return ()

    def _token_urls(self) -> tuple[tuple[str, str], ...]:
        """Default token endpoints by grant type, from the first token scheme (spec order) declaring one."""
        urls: dict[str, str] = {}
        for scheme in self.api.security_schemes:
            for flow in scheme.flows:
                if flow.kind == "clientCredentials" and flow.token_url:
                    urls.setdefault("client_credentials", flow.token_url)
                if flow.kind == "authorizationCode" and flow.token_url:
                    urls.setdefault("authorization_code", flow.token_url)
            endpoint = scheme.token_endpoint
            if endpoint and scheme.type == "oauth2":
                urls.setdefault("refresh_token", endpoint)
        return tuple(sorted(urls.items()))


_VERSION_SEGMENT = re.compile(r"^v\d+(?:[._-]\d+)*$", re.IGNORECASE)


def _resource_of(path: str) -> str:
    """The first segment of ``path`` naming a resource: not a version, ``api`` or a parameter."""
    for segment in path.split("/"):
        if segment and "{" not in segment and segment.lower() != "api" and not _VERSION_SEGMENT.match(segment):
            return segment
    return "default"


def _field_names(json_names: list[str]) -> list[str]:
    """The attribute of each property: unique, clear of what models hold, and never another
    property's JSON name (models accept attribute names too, so ``user_name`` of ``userName_``
    would take the value sent for a property called ``user_name``)."""
    others = set(json_names)
    used: set[str] = set()
    names = []
    for json_name in json_names:
        base = attribute_name(json_name, avoid=FIELD_TAKEN)
        candidate, n = base, 2
        while candidate in used or candidate in FIELD_TAKEN or (candidate in others and candidate != json_name):
            candidate = f"{base}_{n}"
            n += 1
        used.add(candidate)
        names.append(candidate)
    return names


def _enum_is_class(model: EnumModel) -> bool:
    """Whether an enum becomes an open enum class; booleans, integers beyond 64 bits (which
    pydantic cannot use as enum members) and mixed values become an alias instead."""
    if not model.values or model.value_type == "mixed":
        return False
    return model.value_type != "integer" or all(-(2**63) <= v < 2**63 for v in model.values)


def _enum_alias_target(model: EnumModel) -> str:
    if model.values and all(isinstance(v, bool) for v in model.values):
        return "bool" if len(set(model.values)) > 1 else f"Literal[{model.values[0]!r}]"
    return "int" if model.value_type == "integer" else "Any"


def _tuple_source(items: Iterable[str]) -> str:
    """A tuple display of source items, as black writes it on one line."""
    listed = list(items)
    return f"({listed[0]},)" if len(listed) == 1 else f"({', '.join(listed)})"


def _collect_refs(t: TypeExpr, keys: set[str], found: set[str]) -> None:
    """Add to ``found`` the model keys among ``keys`` that ``t`` names, without entering models."""
    if isinstance(t, ModelRef):
        if t.key in keys:
            found.add(t.key)
    elif isinstance(t, ArrayType):
        _collect_refs(t.items, keys, found)
    elif isinstance(t, MapType):
        _collect_refs(t.values, keys, found)
    elif isinstance(t, NullableType):
        _collect_refs(t.inner, keys, found)
    elif isinstance(t, UnionType):
        for member in t.members:
            _collect_refs(member, keys, found)


def _in_cycles(graph: dict[str, set[str]]) -> set[str]:
    """The nodes of ``graph`` that lie on a cycle (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cyclic: set[str] = set()
    for root in sorted(graph):
        if root in index:
            continue
        # Iterative, so that long alias chains cannot exhaust Python's recursion limit.
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    cyclic.update(component)
    return cyclic


def _primitive(t: PrimitiveType) -> str:
    if t.name == "string":
        formats = {"date-time": "datetime.datetime", "date": "datetime.date", "uuid": "uuid.UUID", "binary": "bytes", "decimal": "decimal.Decimal"}
        return formats.get(t.format or "", "str")
    return {"integer": "int", "number": "float", "boolean": "bool", "null": "None"}[t.name]


def _success_responses(op: Operation) -> list[Any]:
    success = [r for r in op.responses if r.status.startswith("2") or r.status.upper() == "2XX"]
    if not success and any(r.status == "default" for r in op.responses):
        success = [r for r in op.responses if r.status == "default"]
    return success


def _idempotency_param(op: Operation) -> Parameter | None:
    """The header parameter carrying the operation's idempotency key (`Idempotency-Key`...), if any."""
    return next((p for p in op.parameters if p.location == "header" and _IDEMPOTENCY_HEADER.fullmatch(p.name)), None)


def _dedupe(items: list[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def default_package_name(api: Api) -> str:
    return to_package_name(snake_case(api.title) + "_client" if api.title else "api_client")


def combine_plans(package: str, plans: list[PackagePlan]) -> PackagePlan:
    """The package-level plan of a multi-spec package: its session knows every spec's endpoints."""
    token_urls: dict[str, str] = {}
    for plan in plans:
        for grant, url in plan.token_urls:
            token_urls.setdefault(grant, url)
    return PackagePlan(
        package=package,
        title=package,
        version=plans[0].version,
        description=None,
        default_base_url="",
        models=(),
        groups=(),
        credentials=(),
        schemes=(),
        has_token_scheme=any(p.has_token_scheme for p in plans),
        generator_version=plans[0].generator_version,
        token_urls=tuple(sorted(token_urls.items())),
        openid_configuration_url=next((p.openid_configuration_url for p in plans if p.openid_configuration_url), None),
        authorization_url=next((p.authorization_url for p in plans if p.authorization_url), None),
        default_scopes=tuple(_dedupe([scope for p in plans for scope in p.default_scopes])),
    )
