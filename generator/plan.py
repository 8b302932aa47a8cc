"""Plan stage: choose every Python name and module, and lay out what each template shows.

All decisions live here so templates only lay out text. Names are derived from
the spec in a stable order (sorted where the spec's order is not meaningful), so
the same spec always gives the same names.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
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
    constant_case,
    package_name as to_package_name,
    snake_case,
    unique,
)
from .security import describe

# Names the generated modules import; models and fields must not shadow them.
ANNOTATION_NAMES = frozenset({"str", "int", "float", "bool", "bytes", "list", "dict", "Any", "Literal", "Union", "Annotated", "datetime", "uuid", "decimal", "None", "tag_by_property", "pydantic", "typing", "ClassVar", "TypeAlias"})
RESERVED_CLASS_NAMES = frozenset({"Any", "Literal", "Union", "Annotated", "ClassVar", "TypeAlias", "OpenStrEnum", "OpenIntEnum", "OpenFloatEnum", "ApiModel", "ReadOnlyAwareModel"})
CLIENT_MEMBERS = frozenset({"base_url", "session", "close", "aclose", "operations", "with_options"})
# Per-call options every generated method takes after the spec's parameters; a spec parameter
# of the same name is renamed, never an option.
OPTION_NAMES = ("timeout", "extra_headers", "extra_query", "max_retries", "idempotency_key")
# Locals and runtime names of generated method bodies are reserved too.
PARAM_RESERVED = ANNOTATION_NAMES | {"self", "body", "models", "warnings", "cast", "first_page", "page_item", "call_options", "request_options"} | set(OPTION_NAMES)
# Header parameters that carry an idempotency key: the `idempotency_key` option sets them.
_IDEMPOTENCY_HEADER = re.compile(r"(x-)?idempotency[-_]?key", re.IGNORECASE)


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


@dataclass(frozen=True)
class PlannedParam:
    name: str
    annotation: str
    default: str | None
    description: str | None
    positional: bool
    async_annotation: str | None = None  # where the async client accepts more (async iterables)


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
    pagination_items: str | None
    pagination_next: tuple[str, ...]
    stream_name: str | None = None  # the variant reading a binary response in chunks


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
            if isinstance(model, AliasModel) or (isinstance(model, EnumModel) and model.value_type == "mixed"):
                modules[key] = "_aliases"  # evaluated at import, so kept apart from the classes
        return modules

    # ------------------------------------------------------------ names

    def _class_names(self, models: tuple[Model, ...]) -> dict[str, str]:
        ordered = sorted(models, key=lambda m: (not m.pointer.startswith("/components/schemas/"), m.key))
        bases = [class_name(m.name_hint, avoid=RESERVED_CLASS_NAMES) for m in ordered]
        return dict(zip((m.key for m in ordered), unique(bases, taken=RESERVED_CLASS_NAMES)))

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
            if isinstance(t.value, (str, int, bool)) or t.value is None:
                return f"Literal[{t.value!r}]"
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
        tagged = ", ".join(f"Annotated[{self._model_name(m.key, qualifier)}, pydantic.Tag({tags[m.key]!r})]" for m in members)
        mapping = {value: tags[key] for value, key in t.mapping if key in tags}
        return f"Annotated[Union[{tagged}], pydantic.Discriminator(tag_by_property({t.discriminator!r}, {mapping!r}))]"

    def _with_enum_values(self, t: TypeExpr, qualifier: str) -> str:
        if isinstance(t, ModelRef) and isinstance(self.models_by_key.get(t.key), ObjectModel):
            return f"{self.annotation(t, qualifier)} | dict[str, Any]"
        if isinstance(t, ModelRef) and isinstance(self.models_by_key.get(t.key), EnumModel):
            model = self.models_by_key[t.key]
            plain = {"string": "str", "integer": "int", "number": "float"}.get(model.value_type)  # type: ignore[union-attr]
            base = self.annotation(t, qualifier)
            return f"{base} | {plain}" if plain and base != "Any" else base
        if isinstance(t, ArrayType):
            return f"list[{self._with_enum_values(t.items, qualifier)}]"
        if isinstance(t, NullableType):
            return f"{self._with_enum_values(t.inner, qualifier)} | None"
        return self.annotation(t, qualifier)

    # ------------------------------------------------------------ models

    def plan_models(self) -> tuple[PlannedModel, ...]:
        planned = [self._model(m) for m in self.api.models]
        return tuple(sorted(planned, key=lambda m: m.name))

    def _model(self, model: Model) -> PlannedModel:
        self._module_context = self.model_modules[model.key]
        try:
            planned = self._model_in_context(model)
        finally:
            self._module_context = None
        return dataclasses.replace(planned, module=self.model_modules[model.key])

    def _model_in_context(self, model: Model) -> PlannedModel:
        name = self.class_names[model.key]
        if isinstance(model, EnumModel):
            return self._enum(model, name)
        if isinstance(model, AliasModel):
            return PlannedModel("alias", name, model.description, target=self.annotation(model.target))
        fields = []
        taken = ANNOTATION_NAMES | PYDANTIC_RESERVED | {"read_only_fields", "ClassVar"}
        names = unique([attribute_name(p.json_name, avoid=taken) for p in model.properties], taken=taken)
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
                return repr(value)
        if isinstance(base, ModelRef):
            model = self.models_by_key.get(base.key)
            same_module = self._module_context is None or self.model_modules[base.key] == self._module_context
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
        if model.value_type == "mixed" or not model.values:
            return PlannedModel("alias", name, model.description, target="Any")
        base = {"string": "OpenStrEnum", "integer": "OpenIntEnum", "number": "OpenFloatEnum"}[model.value_type]
        members = tuple(PlannedEnumMember(n, repr(v)) for n, v in zip(self._enum_member_names(model), model.values))
        return PlannedModel("enum", name, model.description, enum_base=base, members=members)

    # ------------------------------------------------------------ operations

    def plan_groups(self) -> tuple[PlannedGroup, ...]:
        by_tag: dict[str, list[Operation]] = {}
        for op in self.api.operations:
            tag = op.tags[0] if op.tags else "default"
            by_tag.setdefault(tag, []).append(op)
        tags = sorted(by_tag)
        modules = unique([attribute_name(t, fallback="default", avoid=BUILTIN_NAMES | CLIENT_MEMBERS) for t in tags], taken=CLIENT_MEMBERS)
        groups = []
        for tag, module in zip(tags, modules):
            ops = sorted(by_tag[tag], key=lambda o: (o.path, o.method))
            planned = self._plan_operations(ops)
            token_ops = tuple(p for p, op in zip(planned, ops) if op.security.security_class is SecurityClass.TOKEN_REQUIRED)
            public_ops = tuple(p for p, op in zip(planned, ops) if op.security.security_class is not SecurityClass.TOKEN_REQUIRED)
            base = class_name(tag, fallback="Default")
            groups.append(
                PlannedGroup(
                    module=module,
                    attribute=module,
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

    def _plan_operations(self, ops: list[Operation]) -> list[PlannedOperation]:
        bases = [attribute_name(op.operation_id or f"{op.method}_{op.path}", fallback="call", avoid=BUILTIN_NAMES) for op in ops]
        # Reserve room for the _raw and iter_ variants of every method.
        names = unique(bases, taken={"close"})
        taken = set(names)
        result = []
        for op, name in zip(ops, names):
            raw_name = unique([f"{name}_raw"], taken=taken)[0]
            taken.add(raw_name)
            iter_name = None
            if op.pagination is not None:
                iter_name = unique([f"iter_{name}"], taken=taken)[0]
                taken.add(iter_name)
            stream_name = None
            if any(r.kind == "binary" for r in _success_responses(op)):
                stream_name = unique([f"{name}_stream"], taken=taken)[0]
                taken.add(stream_name)
            result.append(dataclasses.replace(self._operation(op, name, raw_name, iter_name), stream_name=stream_name))
        return result

    def _operation(self, op: Operation, name: str, raw_name: str, iter_name: str | None) -> PlannedOperation:
        key_param = _idempotency_param(op)
        others = [p for p in op.parameters if p is not key_param]
        other_names = iter(unique([attribute_name(p.name, fallback="param", avoid=PARAM_RESERVED) for p in others], taken=PARAM_RESERVED))
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
            signature.append(PlannedParam(pname, annotation, default, param.description, param.location == "path"))
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
            signature.append(PlannedParam("body", annotation, default, body.description, False, async_annotation))
        # Required keyword arguments first reads better and is what users expect.
        positional = [p for p in signature if p.positional]
        keyword = [p for p in signature if not p.positional]
        keyword.sort(key=lambda p: p.default is not None)
        keyword.extend(OPTION_PARAMS)
        success = _success_responses(op)
        returns = _dedupe([self._response_annotation(r) for r in success]) or ["None"]
        if "Any" in returns:
            returns = ["Any"]
        return_annotation = " | ".join(r for r in returns if r != "None") + (" | None" if "None" in returns and len(returns) > 1 else "") if returns != ["None"] else "None"
        pagination_items = op.pagination.items_property if op.pagination else None
        item_annotation = "Any"
        if op.pagination is not None and success:
            item_annotation = self._item_annotation(success[0].type, op.pagination.items_property)
        return PlannedOperation(
            name=name,
            raw_name=raw_name,
            iter_name=iter_name,
            item_annotation=item_annotation,
            constant=name.upper(),
            spec_source=self._spec_source(op, name),
            signature_params=tuple(positional + keyword),
            call_args=tuple(param_names),
            body_arg=body_arg,
            return_annotation=return_annotation,
            docstring=self._docstring(op, list(zip(op.parameters, param_names))),
            deprecated=op.deprecated,
            security_class=op.security.security_class.value,
            pagination_items=pagination_items,
            pagination_next=op.pagination.next_link_path if op.pagination else (),
        )

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
        params = ", ".join(
            f"ParamSpec({p.name!r}, {p.location!r}, {p.style!r}, {p.explode!r}{', content_json=True' if p.content_type else ''})" for p in op.parameters
        )
        responses = ", ".join(
            f"ResponseSpec({r.status!r}, {r.kind!r}{', lambda: ' + self._runtime_type(r.type) if r.kind == 'json' and self._runtime_type(r.type) != 'None' else ''})" for r in op.responses
        )
        body = op.request_body
        parts = [
            f"name={name!r}",
            f"operation_id={op.operation_id or name!r}",
            f"method={op.method.upper()!r}",
            f"path={op.path!r}",
            f"security={alternatives!r}",
        ]
        if any(scopes.values()):
            parts.append(f"scopes={ {k: tuple(v) for k, v in scopes.items()}!r}")
        if params:
            parts.append(f"params=({params},)")
        if body is not None:
            parts.append(f"body_media_type={body.media_type!r}")
            parts.append(f"body_kind={body.kind!r}")
        if responses:
            parts.append(f"responses=({responses},)")
        if op.deprecated:
            parts.append("deprecated=True")
        key_param = _idempotency_param(op)
        if key_param is not None:
            parts.append(f"idempotency_header={key_param.name!r}")
        accept = _dedupe([r.media_type for r in op.responses if r.media_type and r.kind != "empty"])
        if accept:
            parts.append(f"accept={', '.join(accept)!r}")
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
                base_names.append(attribute_name(scheme.name, fallback="credential", avoid=PARAM_RESERVED))
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
                src = f"SchemeSpec({scheme.name!r}, 'api_key', {scheme.api_key_name or ''!r}, {scheme.api_key_location or 'header'!r})"
            else:
                src = f"SchemeSpec({scheme.name!r}, {kind!r})"
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
        )

    def _token_urls(self) -> tuple[tuple[str, str], ...]:
        """Default token endpoints by grant type, from the first token scheme (spec order) declaring one."""
        urls: dict[str, str] = {}
        for scheme in self.api.security_schemes:
            for flow in scheme.flows:
                if flow.kind == "clientCredentials" and flow.token_url:
                    urls.setdefault("client_credentials", flow.token_url)
            endpoint = scheme.token_endpoint
            if endpoint and scheme.type == "oauth2":
                urls.setdefault("refresh_token", endpoint)
        return tuple(sorted(urls.items()))


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
    )
