"""A seeded generator of random, valid OpenAPI 3.0 and 3.1 documents that are hard to generate from.

``fuzz_spec(seed)`` returns the same document for the same seed, on any machine (it draws only
from its own ``random.Random(seed)``). Each document is valid by openapi-spec-validator, and
every operation in it can be called: every value a request or response needs can be built (a
required property never leads back to its own schema), and every security requirement can be met
by an ``AuthenticatedClient`` holding all the credentials.

What it mixes in:
- schemas: objects (nested, ``readOnly``/``writeOnly``, defaults, ``additionalProperties``),
  arrays, maps, enums of strings, integers and numbers with tricky values, ``const``, nullable
  in the dialect's own way (``nullable: true`` in 3.0; ``type: [..., 'null']`` or a ``'null'``
  branch in 3.1), ``oneOf``/``anyOf`` with and without a discriminator, ``allOf`` chains, formats
  and patterns, and recursion through ``$ref`` (self-referencing objects, arrays and maps of
  themselves, mutually recursive unions, JSON-value schemas);
- names that are hard to turn into Python: keywords, builtins, names of the modules and classes
  the generated code uses, names differing only in case or punctuation, long and unicode names;
- parameters in every location and style (``explode`` on and off, ``content`` parameters);
  request bodies (JSON, form, multipart, octet-stream, text); responses (several 2xx, 204,
  ``2XX``, ``default``, problem+json); every security scheme type accessgen serves, with root
  and per-operation requirements (``[]``, ``[{}]``, alternatives, AND-combinations); tags
  (none, duplicates after sanitising, names Windows reserves).
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# The pools read best as compact lists.
# fmt: off
KEYWORDS = [
    "class", "def", "from", "import", "None", "True", "False", "async", "await", "lambda", "return",
    "yield", "match", "case", "type", "_", "global", "in", "is", "not", "pass",
]
BUILTINS = [
    "list", "dict", "str", "int", "float", "bool", "bytes", "id", "object", "print", "property",
    "super", "len", "range", "set", "tuple", "input", "format", "hash", "filter", "map", "min",
    "max", "open",
]
# Names the generated modules import or define, or that shadow modules in annotations.
SHADOWS = [
    "models", "datetime", "typing", "operations", "OPERATIONS", "cached_property", "Iterator",
    "AsyncIterator", "Mapping", "TypeVar", "Any", "Literal", "Union", "Annotated", "ClassVar",
    "TypeAlias", "Optional", "pydantic", "uuid", "decimal", "warnings", "httpx", "json", "self",
    "body", "client", "session", "api", "Client", "Session", "ApiModel", "BaseModel", "Field",
    "Tag", "Discriminator", "model_config", "model_fields", "schema", "copy", "validate",
    "ApiResponse", "OperationSpec", "ParamSpec", "ResponseSpec", "SchemeSpec", "tag_by_property",
    "TYPE_CHECKING", "close", "base_url",
]
WORDS = [
    "user", "order", "account", "item", "widget", "pet", "invoice", "event", "node", "payment",
    "profile", "token", "entry", "record", "group",
]
UNICODE = ["naïve", "日本語", "straße", "Ωmega", "café-crème", "Ünïcödé", "ñandú", "smile🙂"]
TAG_EXTRAS = [
    "con", "aux", "com1", "nul", "prn", "lpt1", "CON", "Users", "users", "user-s",
    "cached_property", "__init__", "default", "api", "client",
]

STRING_ENUM_VALUES = [
    "", " ", "a b", "A B", "a-b", "a_b", "1", "-1", "0.5", "None", "null", "true", "class", "é",
    "日本", 'quote"d', "back\\slash", "new\nline", "tab\tbed", "UNKNOWN", "value", "VALUE", "Value",
]
INT_ENUM_VALUES = [0, 1, -1, 2, 7, 42, -42, 2**31, 2**53, -(2**40), 10**20]
NUMBER_ENUM_VALUES = [0.5, -1.25, 1e10, 0.1, 3.0, -0.0, 1e-7, 123456.789]
SPECIAL_FLOATS = [float("nan"), float("inf"), float("-inf")]
HEADER_SAFE_ENUM = ["a", "b-c", "D_E", "1", "on", "off"]
PATTERNS = [
    r"^[a-z]+$", r"^\d{3}-\d{2}$", r"^[A-Z]{2}[0-9]{2,4}$", r"^(foo|barbaz)\d?$", r"[a-f0-9]{8}",
    r"^\w+@\w+\.com$", r"^x(-y)*$", r"^[^\s]{2,}$",
]
FORMATS = [
    ("string", "date-time"), ("string", "date"), ("string", "uuid"), ("string", "byte"),
    ("string", "email"), ("string", "uri"), ("integer", "int32"), ("integer", "int64"),
    ("number", "float"), ("number", "double"), ("string", "decimal"), ("string", "password"),
]
DESCRIPTIONS = [
    'Plain words.', 'A """ triple quote', "ends with a backslash \\", "{{ jinja }} and {% raw %}",
    "line one\nline two", "quote at the end\"", "unicode ✓ text",
]
# fmt: on


def _json_pointer_token(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


@dataclass
class Fuzzed:
    """A generated document and what it holds."""

    seed: int
    document: dict[str, Any]
    operations: int
    features: set[str] = field(default_factory=set)

    @property
    def version(self) -> str:
        return str(self.document["openapi"])


class SpecFuzzer:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.v31 = self.rng.random() < 0.5
        self.schemas: dict[str, Any] = {}
        self.order: list[str] = (
            []
        )  # component names in creation order: required refs point backwards only
        self.objects: list[str] = []  # named object schemas
        self.features: set[str] = set()
        self.used_names: set[str] = set()

    # ------------------------------------------------------------ helpers

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items: list[Any]) -> Any:
        return items[self.rng.randrange(len(items))]

    def hard_name(self, *, component: bool = False, unicode: bool = True) -> str:
        """A name that is hard to turn into Python; component keys stay within ``[A-Za-z0-9._-]``."""
        roll = self.rng.random()
        word = self.pick(WORDS)
        if roll < 0.14:
            name = self.pick(KEYWORDS)
        elif roll < 0.26:
            name = self.pick(BUILTINS)
        elif roll < 0.42:
            name = self.pick(SHADOWS)
        elif roll < 0.55:  # differs only in case or punctuation from a sibling
            name = self.pick(
                [
                    word,
                    word.upper(),
                    word.capitalize(),
                    f"{word}-name",
                    f"{word}_name",
                    f"{word}Name",
                    f"{word}.name",
                    f"{word}Name_",
                ]
            )
        elif roll < 0.60:
            name = "".join(self.pick(WORDS) for _ in range(self.rng.randint(8, 20)))  # long
        elif roll < 0.64:
            name = self.pick(["1st", "123", "_", "__", "-", "_private", "9lives", "a", "A"])
        elif roll < 0.72 and unicode and not component:
            name = self.pick(UNICODE)
        else:
            name = word + self.pick(["", "s", "Info", "_data", "Detail", "-list"])
        if component:
            name = (
                "".join(c for c in name if c in string.ascii_letters + string.digits + "._-") or "X"
            )
        return name

    def unique(self, name: str, taken: set[str]) -> str:
        candidate, n = name, 2
        while candidate in taken:
            candidate = f"{name}{n}"
            n += 1
        taken.add(candidate)
        return candidate

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": "#/components/schemas/" + _json_pointer_token(name)}

    def nullable(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` or null, in the dialect's own way."""
        self.features.add("nullable")
        if not self.v31:
            if "$ref" in schema:
                return {"allOf": [schema], "nullable": True}
            return {**schema, "nullable": True}
        if (
            "type" in schema
            and isinstance(schema["type"], str)
            and "enum" not in schema
            and self.chance(0.6)
        ):
            return {**schema, "type": [schema["type"], "null"]}
        return (
            {"oneOf": [schema, {"type": "null"}]}
            if self.chance(0.5)
            else {"anyOf": [schema, {"type": "null"}]}
        )

    def describe(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.chance(0.15) and "$ref" not in schema:
            schema = {**schema, "description": self.pick(DESCRIPTIONS)}
        return schema

    # ------------------------------------------------------------ schemas

    def primitive(self, *, header_safe: bool = False) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.3:
            schema: dict[str, Any] = {"type": "string"}
            if self.chance(0.2) and not header_safe:
                schema["pattern"] = self.pick(PATTERNS)
                self.features.add("pattern")
            if self.chance(0.15):
                schema["minLength"] = self.rng.randint(0, 3)
                schema["maxLength"] = schema["minLength"] + self.rng.randint(0, 10)
                if "pattern" in schema:
                    schema["maxLength"] += 12
            return schema
        if roll < 0.45:
            schema = {"type": "integer"}
            if self.chance(0.3):
                schema["minimum"] = self.rng.randint(-5, 5)
                schema["maximum"] = schema["minimum"] + self.rng.randint(0, 100)
            return schema
        if roll < 0.55:
            schema = {"type": "number"}
            if self.chance(0.2):
                schema["multipleOf"] = self.pick([0.5, 0.25, 2])
            return schema
        if roll < 0.65:
            return {"type": "boolean"}
        kind, fmt = self.pick(FORMATS)
        self.features.add(f"format:{fmt}")
        return {"type": kind, "format": fmt}

    def enum_schema(self, *, header_safe: bool = False) -> dict[str, Any]:
        roll = self.rng.random()
        if header_safe or roll < 0.55:
            pool = HEADER_SAFE_ENUM if header_safe else STRING_ENUM_VALUES
            values = self.rng.sample(pool, self.rng.randint(1, min(6, len(pool))))
            self.features.add("enum:str")
            return {"type": "string", "enum": values}
        if roll < 0.8:
            self.features.add("enum:int")
            return {
                "type": "integer",
                "enum": self.rng.sample(INT_ENUM_VALUES, self.rng.randint(1, 5)),
            }
        values = self.rng.sample(NUMBER_ENUM_VALUES, self.rng.randint(1, 4))
        if self.seed % 2 == 0 and self.chance(0.08):  # YAML has .nan and .inf; JSON has neither
            values.append(self.pick(SPECIAL_FLOATS))
            self.features.add("enum:nan-or-inf")
        self.features.add("enum:number")
        return {"type": "number", "enum": values}

    def const_schema(self) -> dict[str, Any]:
        value = self.pick(["v1", "", "class", 'q"uote', 0, 1, -7, True, False, 2**70, "日本"])
        self.features.add("const")
        if self.v31:
            return {"const": value}
        kind = (
            "boolean"
            if isinstance(value, bool)
            else "integer" if isinstance(value, int) else "string"
        )
        return {"type": kind, "enum": [value]}

    def inline(self, depth: int, *, grounded_before: int, required: bool) -> dict[str, Any]:
        """An inline schema; a required position refers only to components created before ``grounded_before``."""
        roll = self.rng.random()
        refs = self.order[:grounded_before] if required else self.order
        if roll < 0.28 and refs:
            schema = self.ref(self.pick(refs))
        elif roll < 0.5 or depth <= 0:
            schema = self.primitive()
        elif roll < 0.58:
            schema = self.enum_schema()
        elif roll < 0.62:
            schema = self.const_schema()
        elif roll < 0.72:
            items = self.inline(depth - 1, grounded_before=grounded_before, required=True)
            schema = {"type": "array", "items": items}
            if self.chance(0.2):
                schema["minItems"] = 1
        elif roll < 0.8:
            values = self.inline(depth - 1, grounded_before=grounded_before, required=False)
            schema = {"type": "object", "additionalProperties": values}
            self.features.add("map")
        elif roll < 0.9:
            schema = self.object_schema(depth - 1, grounded_before=grounded_before)
            self.features.add("inline-object")
        else:
            first = self.primitive()
            rest = [
                self.inline(depth - 1, grounded_before=grounded_before, required=False)
                for _ in range(self.rng.randint(1, 2))
            ]
            schema = {self.pick(["oneOf", "anyOf"]): [first, *rest]}
            self.features.add("inline-union")
        if self.chance(0.15):
            schema = self.nullable(schema)
        return self.describe(schema)

    def property_names(self, count: int) -> list[str]:
        taken: set[str] = set()
        names = []
        for _ in range(count):
            roll = self.rng.random()
            if roll < 0.08:
                name = self.pick(
                    [
                        "description",
                        "type",
                        "title",
                        "default",
                        "enum",
                        "required",
                        "properties",
                        "items",
                    ]
                )
            elif roll < 0.12:
                name = self.pick(["", " ", "a b", "@type", "x-y", "x_y", "X-Y", "$id", "1", "ünï"])
            else:
                name = self.hard_name()
            names.append(self.unique(name, taken))
        return names

    def object_schema(
        self, depth: int, *, grounded_before: int, extra_required: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        names = self.property_names(self.rng.randint(0, 6))
        properties: dict[str, Any] = dict(extra_required or {})
        required = list(extra_required or {})
        for name in names:
            if name in properties:
                continue
            is_required = self.chance(0.4)
            schema = self.inline(depth, grounded_before=grounded_before, required=is_required)
            if self.chance(0.1) and "$ref" not in schema:
                schema = {**schema, self.pick(["readOnly", "writeOnly"]): True}
                self.features.add("read-write-only")
            default = self.default_for(schema)
            if default is not _NO_DEFAULT and not is_required:
                schema = {**schema, "default": default}
                self.features.add("default")
            properties[name] = schema
            if is_required:
                required.append(name)
        result: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            result["required"] = required
        roll = self.rng.random()
        if roll < 0.15:
            result["additionalProperties"] = False
        elif roll < 0.3:
            result["additionalProperties"] = self.primitive()
        elif roll < 0.35:
            result["additionalProperties"] = True
        return result

    def default_for(self, schema: dict[str, Any]) -> Any:
        if not self.chance(0.25):
            return _NO_DEFAULT
        if "enum" in schema and schema["enum"]:
            value = schema["enum"][0]
            return _NO_DEFAULT if isinstance(value, float) and value != value else value
        kind = schema.get("type")
        if (
            kind == "string"
            and "format" not in schema
            and "pattern" not in schema
            and "minLength" not in schema
        ):
            return self.pick(["", "x", 'say "hi"', "back\\slash"])
        if kind == "integer" and "minimum" not in schema:
            return self.pick([0, 1, -3])
        if kind == "boolean":
            return self.pick([True, False])
        return _NO_DEFAULT

    # ------------------------------------------------------------ named schemas

    def component_name(self) -> str:
        return self.unique(self.hard_name(component=True), self.used_names)

    def add(self, name: str, schema: dict[str, Any]) -> str:
        self.schemas[name] = schema
        self.order.append(name)
        return name

    def named_schemas(self) -> None:
        for _ in range(self.rng.randint(2, 7)):
            index = len(self.order)
            roll = self.rng.random()
            name = self.component_name()
            if roll < 0.5:
                self.add(name, self.describe(self.object_schema(2, grounded_before=index)))
                self.objects.append(name)
            elif roll < 0.7:
                self.add(name, self.enum_schema())
            elif roll < 0.78:
                self.add(name, self.const_schema() if self.v31 else self.enum_schema())
            elif roll < 0.88:
                self.add(
                    name,
                    {
                        "type": "array",
                        "items": self.inline(1, grounded_before=index, required=True),
                    },
                )
            else:
                self.add(name, self.primitive())
        for pattern in self.rng.sample(_PATTERN_MAKERS, self.rng.randint(1, 3)):
            pattern(self)

    def discriminated_union(self) -> None:
        prop = self.pick(["kind", "type", "petType", "@type", "class", "object_type"])
        members = []
        base_name = None
        if self.chance(0.5):
            base_name = self.add(
                self.component_name(),
                {
                    "type": "object",
                    "required": [prop],
                    "properties": {prop: {"type": "string"}, "shared": {"type": "integer"}},
                },
            )
            self.objects.append(base_name)
            self.features.add("allOf")
        for _ in range(self.rng.randint(2, 3)):
            name = self.component_name()
            own = self.object_schema(1, grounded_before=len(self.order))
            own["properties"].pop(
                prop, None
            )  # the discriminator is the base's (or added below) string
            if prop in own.get("required", []):
                own["required"].remove(prop)
                if not own["required"]:
                    del own["required"]
            if base_name is not None:
                schema: dict[str, Any] = {"allOf": [self.ref(base_name), own]}
            else:
                own["properties"] = {prop: {"type": "string"}, **own["properties"]}
                own["required"] = [prop, *[r for r in own.get("required", []) if r != prop]]
                schema = own
            members.append(self.add(name, schema))
            self.objects.append(name)
        union: dict[str, Any] = {"oneOf": [self.ref(m) for m in members]}
        if self.chance(0.8):
            union["discriminator"] = {"propertyName": prop}
            if self.chance(0.6):
                mapping = {}
                for member in members:
                    for value in self.rng.sample(
                        ["a", "b-b", "C", "日本", "x y", member, member.lower()],
                        self.rng.randint(1, 2),
                    ):
                        mapping.setdefault(
                            value, "#/components/schemas/" + _json_pointer_token(member)
                        )
                union["discriminator"]["mapping"] = mapping
            self.features.add("discriminator")
        else:
            union = {self.pick(["oneOf", "anyOf"]): union["oneOf"]}
            self.features.add("object-union")
        self.add(self.component_name(), union)

    def all_of_chain(self) -> None:
        previous = self.add(
            self.component_name(), self.object_schema(1, grounded_before=len(self.order))
        )
        for _ in range(self.rng.randint(1, 4)):
            part = self.object_schema(1, grounded_before=len(self.order))
            previous = self.add(self.component_name(), {"allOf": [self.ref(previous), part]})
            self.objects.append(previous)
        self.features.add("allOf-chain")

    def self_referencing_object(self) -> None:
        name = self.component_name()
        me = self.ref(name)
        properties = {
            "label": {"type": "string"},
            self.hard_name(): {"type": "array", "items": me},
            self.hard_name(): self.nullable(me) if self.chance(0.5) else me,
            self.hard_name(): {"type": "object", "additionalProperties": me},
        }
        self.add(name, {"type": "object", "required": ["label"], "properties": properties})
        self.objects.append(name)
        self.features.add("recursive-object")

    def array_of_itself(self) -> None:
        name = self.component_name()
        self.add(name, {"type": "array", "items": self.ref(name)})
        self.features.add("recursive-array")

    def map_of_itself(self) -> None:
        name = self.component_name()
        self.add(name, {"type": "object", "additionalProperties": self.ref(name)})
        self.features.add("recursive-map")

    def mutually_recursive_unions(self) -> None:
        first, second = self.component_name(), self.component_name()
        self.add(first, {self.pick(["oneOf", "anyOf"]): [{"type": "string"}, self.ref(second)]})
        if self.chance(0.5):
            self.add(second, {"type": "array", "items": self.ref(first)})
        else:
            self.add(
                second,
                {
                    "anyOf": [
                        {"type": "integer"},
                        {"type": "object", "additionalProperties": self.ref(first)},
                    ]
                },
            )
        self.features.add("recursive-union")

    def json_value(self) -> None:
        name = self.component_name()
        me = self.ref(name)
        branches: list[dict[str, Any]] = [
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "array", "items": me},
            {"type": "object", "additionalProperties": me},
        ]
        self.rng.shuffle(branches)
        if self.v31:
            branches.append({"type": "null"})
            schema: dict[str, Any] = (
                {"oneOf": branches} if self.chance(0.5) else {"anyOf": branches}
            )
        else:
            schema = {"oneOf": branches, "nullable": True}
        self.add(name, schema)
        self.features.add("json-value")

    # ------------------------------------------------------------ parameters

    def parameter(self, location: str, taken: set[tuple[str, str]]) -> dict[str, Any]:
        if location == "header":
            name = self.pick(
                [
                    "X-Request-Id",
                    "X-Trace",
                    "If-Match",
                    "X-Api-Version",
                    "x-lower",
                    "X_Under",
                    "X-Class",
                    "Idempotency-Key",
                ]
            )
        elif location == "cookie":
            name = self.pick(["session_id", "theme", "lang", "class", "pref-x"])
        elif location == "path":
            name = self.pick(
                [
                    "id",
                    "class",
                    "type",
                    "self",
                    "body",
                    "item-id",
                    "item_id",
                    "itemId",
                    "from",
                    "x.y",
                    "models",
                ]
            )
        else:
            name = self.hard_name()
            if self.chance(0.1):
                name = self.pick(["filter[name]", "page[size]", "a b", "q", "sort", "include"])
        name = self.unique(
            name,
            {n for n, loc in taken if loc == location}
            | ({"Accept", "Content-Type", "Authorization"} if location == "header" else set()),
        )
        taken.add((name, location))
        param: dict[str, Any] = {"name": name, "in": location}
        if location == "path" or self.chance(0.4):
            param["required"] = True
        if location in ("header", "cookie"):
            schema = self.parameter_schema(location, header_safe=True)
        else:
            schema = self.parameter_schema(location)
        style_choices = {
            "path": ["simple", "label", "matrix"],
            "query": ["form", "form", "spaceDelimited", "pipeDelimited", "deepObject"],
            "header": ["simple"],
            "cookie": ["form"],
        }[location]
        style = self.pick(style_choices)
        if style == "deepObject":
            schema = {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
                "required": ["a"] if self.chance(0.5) else [],
            }
            if not schema["required"]:
                del schema["required"]
        elif style in ("spaceDelimited", "pipeDelimited"):
            schema = {
                "type": "array",
                "items": self.pick(
                    [{"type": "string"}, {"type": "integer"}, self.enum_schema(header_safe=True)]
                ),
            }
        if location != "path" and self.chance(0.12):
            param["content"] = {
                "application/json": {
                    "schema": self.inline(1, grounded_before=len(self.order), required=True)
                }
            }
            self.features.add("content-parameter")
        else:
            param["schema"] = schema
            if self.chance(0.6) or style != style_choices[0]:
                param["style"] = style
            if self.chance(0.5):
                param["explode"] = self.chance(0.5)
            self.features.add(f"param:{location}:{style}")
        if self.chance(0.1):
            param["description"] = self.pick(DESCRIPTIONS)
        if self.chance(0.05):
            param["deprecated"] = True
        return param

    def parameter_schema(self, location: str, *, header_safe: bool = False) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.45:
            return self.primitive(header_safe=header_safe)
        if roll < 0.65:
            return self.enum_schema(header_safe=header_safe or location == "path")
        if roll < 0.85:
            return {
                "type": "array",
                "items": self.pick(
                    [{"type": "string"}, {"type": "integer"}, self.enum_schema(header_safe=True)]
                ),
            }
        return {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}

    # ------------------------------------------------------------ operations

    def body(self) -> dict[str, Any]:
        kind = self.pick(["json", "json", "json", "form", "multipart", "binary", "text"])
        grounded = len(self.order)
        if kind == "json":
            media = self.pick(
                [
                    "application/json",
                    "application/json",
                    "application/vnd.fuzz+json",
                    "application/merge-patch+json",
                ]
            )
            schema = (
                self.ref(self.pick(self.objects))
                if self.objects and self.chance(0.6)
                else self.inline(2, grounded_before=grounded, required=True)
            )
        elif kind == "form":
            media = "application/x-www-form-urlencoded"
            schema = {
                "type": "object",
                "properties": {
                    "amount": {"type": "integer"},
                    "note": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "meta": {"type": "object", "properties": {"k": {"type": "string"}}},
                },
            }
            schema["required"] = self.rng.sample(["amount", "note"], self.rng.randint(0, 2))
            if not schema["required"]:
                del schema["required"]
        elif kind == "multipart":
            media = "multipart/form-data"
            schema = {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "title": {"type": "string"},
                    "meta": {"type": "object", "properties": {"k": {"type": "string"}}},
                },
            }
        elif kind == "binary":
            media = self.pick(["application/octet-stream", "image/png", "application/pdf"])
            schema = {"type": "string", "format": "binary"}
        else:
            media = "text/plain"
            schema = {"type": "string"}
        self.features.add(f"body:{kind}")
        body: dict[str, Any] = {"content": {media: {"schema": schema}}}
        if self.chance(0.7):
            body["required"] = True
        if self.chance(0.1):
            body["description"] = self.pick(DESCRIPTIONS)
        return body

    def responses(self, method: str) -> dict[str, Any]:
        responses: dict[str, Any] = {}
        statuses = self.rng.sample(
            ["200", "201", "202", "204", "2XX", "203"], self.rng.randint(1, 3)
        )
        for status in sorted(statuses):
            if status == "204" or method == "head":
                responses[status] = {"description": "No content."}
                continue
            roll = self.rng.random()
            if roll < 0.75:
                schema = (
                    self.ref(self.pick(self.order))
                    if self.chance(0.6)
                    else self.inline(2, grounded_before=len(self.order), required=True)
                )
                media = self.pick(["application/json", "application/json", "application/hal+json"])
                responses[status] = {
                    "description": self.pick(DESCRIPTIONS),
                    "content": {media: {"schema": schema}},
                }
            elif roll < 0.85:
                responses[status] = {
                    "description": "Text.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            elif roll < 0.92:
                responses[status] = {
                    "description": "Bytes.",
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                }
            else:
                responses[status] = {"description": "Nothing."}
        if self.chance(0.4):
            responses["default"] = {
                "description": "Problem.",
                "content": {
                    "application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/" + self.problem()}
                    }
                },
            }
        if self.chance(0.3):
            responses[self.pick(["400", "404", "409", "4XX"])] = {
                "description": "Error.",
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"message": {"type": "string"}}}
                    }
                },
            }
        self.features.update(f"response:{status}" for status in responses)
        return responses

    def problem(self) -> str:
        if "Problem" not in self.schemas:
            self.used_names.add("Problem")
            self.schemas["Problem"] = {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "format": "uri"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                },
            }
        return "Problem"

    def security_requirement(self, schemes: dict[str, Any]) -> list[dict[str, list[str]]]:
        names = sorted(schemes)
        roll = self.rng.random()
        if roll < 0.15 or not names:
            return []
        if roll < 0.25:
            return [{}]

        def one(name: str) -> dict[str, list[str]]:
            scheme = schemes[name]
            if scheme["type"] == "oauth2":
                scopes = sorted({s for flow in scheme["flows"].values() for s in flow["scopes"]})
                return {name: self.rng.sample(scopes, self.rng.randint(0, len(scopes)))}
            if scheme["type"] == "openIdConnect":
                return {
                    name: self.rng.sample(["openid", "profile", "read"], self.rng.randint(0, 2))
                }
            return {name: []}

        alternatives = []
        for _ in range(self.rng.randint(1, 3)):
            chosen = self.rng.sample(names, self.rng.randint(1, min(2, len(names))))
            requirement: dict[str, list[str]] = {}
            for name in chosen:
                requirement.update(one(name))
            alternatives.append(requirement)
            if len(chosen) > 1:
                self.features.add("security:and")
        if self.chance(0.2):
            alternatives.append({})
            self.features.add("security:optional")
        if len(alternatives) > 1:
            self.features.add("security:alternatives")
        return alternatives

    def security_schemes(self) -> dict[str, Any]:
        schemes: dict[str, Any] = {}
        choices = [
            ("apiKeyHeader", {"type": "apiKey", "in": "header", "name": "X-API-Key"}),
            ("apiKeyQuery", {"type": "apiKey", "in": "query", "name": "api_key"}),
            ("apiKeyCookie", {"type": "apiKey", "in": "cookie", "name": "sid"}),
            ("basic", {"type": "http", "scheme": "basic"}),
            ("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}),
            (
                "oauth",
                {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://auth.example.test/token",
                            "scopes": {
                                "read": "Read.",
                                "write": "Write.",
                                "admin:all": "Everything.",
                            },
                        },
                        "authorizationCode": {
                            "authorizationUrl": "https://auth.example.test/authorize",
                            "tokenUrl": "https://auth.example.test/token",
                            "refreshUrl": "https://auth.example.test/refresh",
                            "scopes": {"read": "Read.", "write": "Write."},
                        },
                    },
                },
            ),
            (
                "oidc",
                {
                    "type": "openIdConnect",
                    "openIdConnectUrl": "https://auth.example.test/.well-known/openid-configuration",
                },
            ),
        ]
        for name, scheme in self.rng.sample(choices, self.rng.randint(0, len(choices))):
            key = (
                name
                if self.chance(0.7)
                else self.pick([name + "-2", "class", "models", "session", "token", name.upper()])
            )
            schemes[key] = scheme
            self.features.add(
                f"scheme:{scheme['type']}:{scheme.get('in', scheme.get('scheme', ''))}"
            )
        return schemes

    def operations(self, schemes: dict[str, Any], tags: list[str]) -> tuple[dict[str, Any], int]:
        paths: dict[str, Any] = {}
        count = 0
        operation_ids: set[str] = set()
        for index in range(self.rng.randint(1, 7)):
            segments = [f"r{index}"]
            path_params = []
            taken: set[tuple[str, str]] = set()
            for _ in range(self.rng.randint(0, 2)):
                param = self.parameter("path", taken)
                path_params.append(param)
                segments.append("{" + param["name"] + "}")
                if self.chance(0.4):
                    segments.append(self.pick(["sub", "x", "items"]))
            path = "/" + "/".join(segments)
            item: dict[str, Any] = {}
            methods = self.rng.sample(
                ["get", "post", "put", "patch", "delete", "head", "options"], self.rng.randint(1, 3)
            )
            for method in methods:
                op_taken = set(taken)
                op: dict[str, Any] = {}
                if self.chance(0.85):
                    op["operationId"] = self.unique(self.hard_name(), operation_ids)
                if tags and self.chance(0.8):
                    op["tags"] = self.rng.sample(tags, self.rng.randint(1, min(2, len(tags))))
                if self.chance(0.2):
                    op["summary"] = self.pick(DESCRIPTIONS)
                params = list(path_params)
                for _ in range(self.rng.randint(0, 4)):
                    params.append(
                        self.parameter(self.pick(["query", "query", "header", "cookie"]), op_taken)
                    )
                if params:
                    op["parameters"] = params
                if method in ("post", "put", "patch") and self.chance(0.8):
                    op["requestBody"] = self.body()
                op["responses"] = self.responses(method)
                if self.chance(0.5):
                    op["security"] = self.security_requirement(schemes)
                if self.chance(0.08):
                    op["deprecated"] = True
                    self.features.add("deprecated")
                item[method] = op
                count += 1
            paths[path] = item
        return paths, count

    def tags(self) -> list[str]:
        tags: list[str] = []
        for _ in range(self.rng.randint(0, 4)):
            roll = self.rng.random()
            if roll < 0.35:
                name = self.pick(TAG_EXTRAS)
            elif roll < 0.4:
                name = "".join(self.pick(WORDS) for _ in range(self.rng.randint(6, 12)))
            else:
                name = self.hard_name()
            if name not in tags:
                tags.append(name)
        return tags

    # ------------------------------------------------------------ the document

    def document(self) -> Fuzzed:
        self.named_schemas()
        if not self.objects:
            name = self.add(
                self.component_name(), self.object_schema(1, grounded_before=len(self.order))
            )
            self.objects.append(name)
        schemes = self.security_schemes()
        tags = self.tags()
        paths, count = self.operations(schemes, tags)
        document: dict[str, Any] = {
            "openapi": "3.1.0" if self.v31 else self.pick(["3.0.0", "3.0.3"]),
            "info": {
                "title": self.pick(["Fuzz API", "fuzz", "日本 API", 'Quote " API', "Models"])
                + f" {self.seed}",
                "version": self.pick(["1.0.0", "2024-01-01", "v2-beta", "0.1"]),
            },
        }
        if self.chance(0.8):
            document["servers"] = [
                {
                    "url": self.pick(
                        ["https://api.example.test/v1", "https://example.test", "/relative"]
                    )
                }
            ]
        if tags and self.chance(0.6):
            document["tags"] = [{"name": tag} for tag in tags]
        document["paths"] = paths
        components: dict[str, Any] = {"schemas": self.schemas}
        if schemes:
            components["securitySchemes"] = schemes
        document["components"] = components
        if self.chance(0.6):
            document["security"] = self.security_requirement(schemes)
        self.features.add(f"openapi:{document['openapi']}")
        return Fuzzed(self.seed, document, count, self.features)


_NO_DEFAULT = object()
_PATTERN_MAKERS = [
    SpecFuzzer.discriminated_union,
    SpecFuzzer.all_of_chain,
    SpecFuzzer.self_referencing_object,
    SpecFuzzer.array_of_itself,
    SpecFuzzer.map_of_itself,
    SpecFuzzer.mutually_recursive_unions,
    SpecFuzzer.json_value,
]


def fuzz_spec(seed: int) -> Fuzzed:
    """The document for ``seed`` (the same every time)."""
    return SpecFuzzer(seed).document()


def write_spec(fuzzed: Fuzzed, directory: Path) -> Path:
    """Write the document as YAML (even seeds) or JSON (odd seeds); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    if fuzzed.seed % 2 == 0:
        path = directory / f"fuzz-{fuzzed.seed}.yaml"
        path.write_text(
            yaml.safe_dump(fuzzed.document, allow_unicode=True, sort_keys=False, width=1000),
            encoding="utf-8",
        )
    else:
        path = directory / f"fuzz-{fuzzed.seed}.json"
        path.write_text(json.dumps(fuzzed.document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    """``python -m tests.support.fuzz_specs SEED [DIR]``: write the spec of SEED (to reproduce a failure)."""
    if not argv or not argv[0].isdigit():
        print("usage: python -m tests.support.fuzz_specs SEED [DIR]")
        return 2
    print(write_spec(fuzz_spec(int(argv[0])), Path(argv[1] if len(argv) > 1 else ".")))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
