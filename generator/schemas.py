"""JSON Schema (OpenAPI flavour) to IR types and models.

Named things (objects, enums, unions referenced from several places) become
models keyed by where they live (``file#pointer``), so the same schema reached
through different refs is one model, and recursive schemas terminate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import Diagnostic, SpecError, excerpt
from .ir import (
    AliasModel,
    AnyType,
    ArrayType,
    EnumModel,
    LiteralType,
    MapType,
    Model,
    ModelRef,
    NullableType,
    ObjectModel,
    PrimitiveType,
    Property,
    TypeExpr,
    UnionType,
)
from .load import NodeKey, SpecSource, join_pointer, split_pointer, unescape_pointer_token

_PRIMITIVES = ("string", "integer", "number", "boolean")
# Keywords that describe a schema without constraining its values.
_ANNOTATIONS = frozenset({"description", "title", "example", "examples", "default", "readOnly", "writeOnly", "deprecated", "nullable", "externalDocs", "$comment"})
_NULL = PrimitiveType("null")
MAX_TYPE_NESTING = 32
T = TypeVar("T")


def model_key(key: NodeKey) -> str:
    return f"{key.path.as_posix()}#{key.pointer}"


def _hint_from_key(key: NodeKey) -> str:
    """A schema is named after the last token of its pointer, or its file when it is a whole file."""
    tokens = split_pointer(key.pointer) if key.pointer else []
    if tokens:
        return tokens[-1]
    return re.sub(r"\.(ya?ml|json)$", "", key.path.name)


class _ObjectFields:
    """Properties gathered from an object schema and its allOf parts, each with its own location."""

    def __init__(self) -> None:
        self.properties: dict[str, tuple[Any, NodeKey]] = {}
        self.required: set[str] = set()
        self.additional: tuple[Any, NodeKey] | None = None
        self.is_object = False


class SchemaConverter:
    def __init__(self, source: SpecSource, *, strict: bool = False) -> None:
        self.source = source
        self.strict = strict
        self.models: dict[str, Model] = {}
        self._claimed: set[str] = set()
        # Keys of array/map/primitive schemas being inlined -> whether they referred to themselves.
        self._inlining: dict[str, bool] = {}
        self._type_nesting = 0  # arrays, maps and unions entered within the current annotation
        self.warnings: list[Diagnostic] = []

    # ------------------------------------------------------------ entry points

    def named_model(self, key: NodeKey, hint: str | None = None) -> TypeExpr:
        """The type for the schema at ``key`` (a components schema or a ref target)."""
        node = self.source.get(key)
        node, key = self.source.resolve(node, key)
        return self._convert_target(node, key, hint or _hint_from_key(key))

    def type_of(self, node: Any, key: NodeKey, hint: str) -> TypeExpr:
        """The type of an inline schema found at ``key``; inline objects are named by ``hint``."""
        if isinstance(node, bool):
            return AnyType() if node else AnyType()
        if not isinstance(node, dict):
            return AnyType()
        if "$ref" in node:
            target, target_key = self.source.resolve(node, key)
            extra = {k: v for k, v in node.items() if k not in ("$ref", "description", "summary", "example", "examples", "readOnly", "writeOnly", "deprecated", "default", "title", "nullable")}
            base = self._convert_target(target, target_key, _hint_from_key(target_key))
            # A referenced model that is itself nullable (3.0 `nullable`, 3.1 `type: [..., null]`)
            # is nullable wherever it is used; so is a reference marked nullable at the use.
            nullable_target = isinstance(base, ModelRef) and isinstance(target, dict) and self._nullable(target)
            nullable_use = node.get("nullable") is True or "null" in self._types(extra)
            if (nullable_target or nullable_use) and not isinstance(base, (NullableType, AnyType)):
                base = NullableType(base)
            return base
        return self._convert_inline(node, key, hint)

    def _kept(self, message: str, key: NodeKey) -> None:
        """A flaw accessgen works around safely: a warning, or with ``strict`` an error."""
        self.warnings.append(Diagnostic(message, self.source.location(key), "error" if self.strict else "warning"))

    def _nested_type(self, node: Any, key: NodeKey, hint: str) -> TypeExpr:
        """The type of an array's items, a map's values or a union's member.

        Beyond ``MAX_TYPE_NESTING`` levels within one annotation the rest is ``Any``, with a
        warning: Python's parser refuses deeper brackets, and no real API nests so deep.
        """
        if self._type_nesting >= MAX_TYPE_NESTING:
            self._kept(f"types nest more than {MAX_TYPE_NESTING} levels deep here; the rest is typed Any", key)
            return AnyType()
        self._type_nesting += 1
        try:
            return self.type_of(node, key, hint)
        finally:
            self._type_nesting -= 1

    def _new_annotation(self, build: Callable[[], T]) -> T:
        """Run ``build`` for a named model, whose annotations start a fresh nesting count."""
        saved, self._type_nesting = self._type_nesting, 0
        try:
            return build()
        finally:
            self._type_nesting = saved

    # ------------------------------------------------------------ ref targets

    def _is_model_shaped(self, node: dict[str, Any], key: NodeKey) -> bool:
        if "enum" in node or "oneOf" in node or "anyOf" in node:
            return True
        if "allOf" in node:
            return self._single_allof_part(node, key) is None and self._fields(node, key).is_object
        types = self._types(node)
        if "object" in types or "properties" in node:
            return bool(node.get("properties")) or "allOf" in node or not node.get("additionalProperties")
        return False

    def _convert_target(self, node: Any, key: NodeKey, hint: str) -> TypeExpr:
        if not isinstance(node, dict):
            return AnyType()
        mkey = model_key(key)
        if mkey in self._inlining:
            self._inlining[mkey] = True  # an array or map schema that contains itself
            return ModelRef(mkey)
        if mkey in self.models or mkey in self._claimed:
            return ModelRef(mkey)
        if not self._is_model_shaped(node, key):
            # Primitive, array and map schemas are inlined where they are used, unless they
            # contain themselves: then they become a named (recursive) alias.
            self._inlining[mkey] = False
            try:
                inline = self._convert_inline(node, key, hint)
            finally:
                recursive = self._inlining.pop(mkey)
            if recursive:
                description = spec_text(node.get("description")) or spec_text(node.get("title"))
                self.models[mkey] = AliasModel(mkey, hint, inline, description, key.pointer)
                return ModelRef(mkey)
            return inline
        self._claimed.add(mkey)
        self.models[mkey] = self._new_annotation(lambda: self._build_model(node, key, hint, mkey))
        return ModelRef(mkey)

    # ------------------------------------------------------------ building

    def _types(self, node: dict[str, Any]) -> list[str]:
        raw = node.get("type")
        if isinstance(raw, str):
            return [raw]
        if isinstance(raw, list):
            return [t for t in raw if isinstance(t, str)]
        return []

    def _nullable(self, node: dict[str, Any]) -> bool:
        if node.get("nullable") is True:
            return True
        return "null" in self._types(node)

    def _build_model(self, node: dict[str, Any], key: NodeKey, hint: str, mkey: str) -> Model:
        description = spec_text(node.get("description")) or spec_text(node.get("title"))
        if "enum" in node:
            values = self._enum_values(node["enum"], key)
            return EnumModel(mkey, hint, values, _enum_value_type(values), description, key.pointer)
        if "allOf" in node and isinstance(node["allOf"], list):
            fields = self._fields(node, key)
            if fields.is_object:
                return self._object_model(fields, key, hint, mkey, description)
        if ("oneOf" in node or "anyOf" in node) and not node.get("properties"):
            return AliasModel(mkey, hint, self._union(node, key, hint), description, key.pointer)
        types = self._types(node)
        if "object" in types or "properties" in node or not types:
            return self._object_model(self._fields(node, key), key, hint, mkey, description)
        return AliasModel(mkey, hint, self._convert_inline(node, key, hint), description, key.pointer)

    def _enum_values(self, raw: Any, key: NodeKey) -> tuple[Any, ...]:
        """The distinct non-null values of an enum; a repeated value is kept once, with a warning."""
        if not isinstance(raw, list):
            return ()
        values: list[Any] = []
        repeated: list[Any] = []
        for value in raw:
            if value is None:
                continue
            # 1 and 1.0 and True are equal in Python but distinct in JSON.
            if any(type(v) is type(value) and v == value for v in values):
                repeated.append(value)
            else:
                values.append(value)
        if repeated:
            shown = ", ".join(excerpt(v) for v in repeated[:5]) + (" ..." if len(repeated) > 5 else "")
            self._kept(f"enum lists {shown} more than once; each value is kept once", NodeKey(key.path, join_pointer(key.pointer, "enum")))
        return tuple(values)

    def _object_model(
        self, fields: "_ObjectFields", key: NodeKey, hint: str, mkey: str, description: str | None
    ) -> ObjectModel:
        properties = []
        for name, (prop, prop_key) in fields.properties.items():
            prop_node = prop
            if isinstance(prop, dict) and "$ref" in prop:
                prop_node, _ = self.source.resolve(prop, prop_key)
            meta = prop if isinstance(prop, dict) else {}
            target_meta = prop_node if isinstance(prop_node, dict) else {}
            properties.append(
                Property(
                    json_name=name,
                    type=self.type_of(prop, prop_key, hint + "_" + name),
                    required=name in fields.required,
                    description=spec_text(meta.get("description")) or spec_text(target_meta.get("description")),
                    default=meta.get("default", target_meta.get("default")),
                    has_default="default" in meta or "default" in target_meta,
                    read_only=bool(meta.get("readOnly") or target_meta.get("readOnly")),
                    write_only=bool(meta.get("writeOnly") or target_meta.get("writeOnly")),
                    deprecated=bool(meta.get("deprecated")),
                )
            )
        additional: TypeExpr | None = None
        if fields.additional is not None:
            add_node, add_key = fields.additional
            additional = self.type_of(add_node, add_key, hint + "_value")
        return ObjectModel(mkey, hint, tuple(properties), additional, description, key.pointer)

    def _fields(self, node: dict[str, Any], key: NodeKey) -> "_ObjectFields":
        fields = _ObjectFields()
        self._absorb(fields, node, key, set())
        return fields

    def _absorb(self, fields: "_ObjectFields", part: Any, part_key: NodeKey, visited: set[NodeKey]) -> None:
        """Gather the properties of ``part`` and of its allOf parts, however deep; each part once."""
        if not isinstance(part, dict):
            return
        part, part_key = self.source.resolve(part, part_key)
        if not isinstance(part, dict) or part_key in visited:
            return
        visited.add(part_key)
        all_of = part.get("allOf")
        if isinstance(all_of, list):
            for index, sub in enumerate(all_of):
                self._absorb(fields, sub, NodeKey(part_key.path, join_pointer(part_key.pointer, "allOf", index)), visited)
        props = part.get("properties")
        if isinstance(props, dict):
            fields.is_object = True
            for name, prop in props.items():
                fields.properties[str(name)] = (prop, NodeKey(part_key.path, join_pointer(part_key.pointer, "properties", name)))
        if isinstance(part.get("required"), list):
            fields.required.update(str(r) for r in part["required"])
        if "object" in self._types(part):
            fields.is_object = True
        if isinstance(part.get("additionalProperties"), dict):
            fields.additional = (part["additionalProperties"], NodeKey(part_key.path, join_pointer(part_key.pointer, "additionalProperties")))

    def _union(self, node: dict[str, Any], key: NodeKey, hint: str) -> TypeExpr:
        keyword = "oneOf" if "oneOf" in node else "anyOf"
        members: list[TypeExpr] = []
        nullable = self._nullable(node)
        raw_members = node.get(keyword) or []
        for index, member in enumerate(raw_members if isinstance(raw_members, list) else []):
            member_key = NodeKey(key.path, join_pointer(key.pointer, keyword, index))
            mtype = self._nested_type(member, member_key, f"{hint}_{index + 1}" if not (isinstance(member, dict) and "$ref" in member) else hint)
            if mtype == _NULL:
                nullable = True
                continue
            if isinstance(mtype, NullableType):
                nullable = True
                mtype = mtype.inner
            if mtype not in members:
                members.append(mtype)
        discriminator, mapping = self._discriminator(node, key, members)
        if not members:
            result: TypeExpr = AnyType()
        elif len(members) == 1:
            result = members[0]
        else:
            result = UnionType(tuple(members), discriminator, mapping)
        return NullableType(result) if nullable and not isinstance(result, AnyType) else result

    def _single_allof_part(self, node: dict[str, Any], key: NodeKey) -> tuple[Any, NodeKey] | None:
        """The one part that carries a schema when the rest of an allOf only annotates it
        (``allOf: [$ref: X], description: ...``, a common way to document a reference)."""
        if any(k not in _ANNOTATIONS for k in node if k != "allOf"):
            return None
        parts = [
            (part, NodeKey(key.path, join_pointer(key.pointer, "allOf", index)))
            for index, part in enumerate(node["allOf"])
            if not (isinstance(part, dict) and "$ref" not in part and all(k in _ANNOTATIONS for k in part))
        ]
        return parts[0] if len(parts) == 1 else None

    def _discriminator(self, node: dict[str, Any], key: NodeKey, members: list[TypeExpr]) -> tuple[str | None, tuple[tuple[str, str], ...]]:
        """The discriminator property and value -> member model key, when every member is a model."""
        raw = node.get("discriminator")
        if not isinstance(raw, dict) or not isinstance(raw.get("propertyName"), str):
            return None, ()
        if not members or not all(isinstance(m, ModelRef) for m in members):
            return None, ()
        member_keys = [m.key for m in members if isinstance(m, ModelRef)]
        mapping: dict[str, str] = {}
        explicit = raw.get("mapping")
        if isinstance(explicit, dict):
            for value, target in explicit.items():
                if not isinstance(target, str):
                    continue
                ref = target if ("#" in target or "/" in target or target.endswith((".yaml", ".yml", ".json"))) else f"#/components/schemas/{target}"
                try:
                    target_key = self.source.ref_target(ref, key)
                    _, resolved_key = self.source.resolve(self.source.get(target_key, referrer=key), target_key)
                except SpecError:
                    continue
                if model_key(resolved_key) in member_keys:
                    mapping[str(value)] = model_key(resolved_key)
        for member_key in member_keys:
            if member_key not in mapping.values():
                mapping[unescape_pointer_token(member_key.rsplit("/", 1)[-1])] = member_key  # implicit: the schema's name
        return raw["propertyName"], tuple(mapping.items())

    def _convert_inline(self, node: dict[str, Any], key: NodeKey, hint: str) -> TypeExpr:
        nullable = self._nullable(node)
        result = self._convert_inline_non_null(node, key, hint)
        if nullable and not isinstance(result, (AnyType, NullableType)) and result != _NULL:
            return NullableType(result)
        return result

    def _convert_inline_non_null(self, node: dict[str, Any], key: NodeKey, hint: str) -> TypeExpr:
        if "const" in node:
            return LiteralType(node["const"])
        if "enum" in node:
            values = node["enum"] if isinstance(node["enum"], list) else []
            if not [v for v in values if v is not None]:
                return _NULL if values else AnyType()
            mkey = model_key(key)
            self._claimed.add(mkey)
            self.models[mkey] = self._build_model(node, key, hint, mkey)
            return ModelRef(mkey)
        if "allOf" in node and isinstance(node["allOf"], list):
            single = self._single_allof_part(node, key)
            if single is not None:
                part, part_key = single
                return self.type_of(part, part_key, hint)
            if self._fields(node, key).is_object:
                return self._inline_model(node, key, hint)
            parts = node["allOf"]
            return self.type_of(parts[0], NodeKey(key.path, join_pointer(key.pointer, "allOf", 0)), hint) if parts else AnyType()
        if "oneOf" in node or "anyOf" in node:
            if node.get("properties"):
                return self._inline_model(node, key, hint)
            return self._union(node, key, hint)
        types = [t for t in self._types(node) if t != "null"]
        if not types:
            if "properties" in node:
                return self._inline_model(node, key, hint)
            if "items" in node:
                types = ["array"]
            elif self._types(node) == ["null"]:
                return _NULL
            else:
                return AnyType()
        if len(types) > 1:
            members = tuple(self._convert_inline_non_null({**node, "type": t}, key, hint) for t in types)
            return UnionType(members)
        kind = types[0]
        if kind == "array":
            items = node.get("items")
            if isinstance(items, list):  # tuple form (pre-2020-12): items of any listed type
                return ArrayType(AnyType())
            return ArrayType(self._nested_type(items, NodeKey(key.path, join_pointer(key.pointer, "items")), hint + "_item") if items is not None else AnyType())
        if kind == "object":
            if node.get("properties"):
                return self._inline_model(node, key, hint)
            additional = node.get("additionalProperties")
            if isinstance(additional, dict):
                return MapType(self._nested_type(additional, NodeKey(key.path, join_pointer(key.pointer, "additionalProperties")), hint + "_value"))
            return MapType(AnyType())
        if kind in _PRIMITIVES:
            fmt = node.get("format") if isinstance(node.get("format"), str) else None
            pattern = node.get("pattern") if isinstance(node.get("pattern"), str) else None
            return PrimitiveType(kind, fmt, pattern)  # type: ignore[arg-type]
        return AnyType()

    def _inline_model(self, node: dict[str, Any], key: NodeKey, hint: str) -> TypeExpr:
        mkey = model_key(key)
        if mkey in self.models or mkey in self._claimed:
            return ModelRef(mkey)
        self._claimed.add(mkey)
        description = spec_text(node.get("description")) or spec_text(node.get("title"))
        self.models[mkey] = self._new_annotation(lambda: self._object_model(self._fields(node, key), key, hint, mkey, description))
        return ModelRef(mkey)


def _enum_value_type(values: tuple[Any, ...]) -> Any:
    if values and all(isinstance(v, str) for v in values):
        return "string"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "number"
    return "mixed"


def spec_text(value: Any) -> str | None:
    """A description or title worth keeping: a non-blank string."""
    return value if isinstance(value, str) and value.strip() else None
