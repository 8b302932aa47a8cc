"""The one sanitizer through which every spec-derived name becomes a Python identifier."""

from __future__ import annotations

import builtins
import functools
import hashlib
import keyword
import re
import unicodedata
from collections.abc import Iterable

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9A-Za-z]+")

BUILTIN_NAMES = frozenset(name for name in dir(builtins) if not name.startswith("_"))
# Attributes of pydantic.BaseModel a field must not shadow.
PYDANTIC_RESERVED = frozenset(
    {
        "copy", "dict", "json", "parse_obj", "parse_raw", "parse_file", "from_orm", "construct",
        "schema", "schema_json", "validate", "update_forward_refs", "fields", "model_config",
        "model_fields", "model_computed_fields", "model_extra", "model_fields_set",
        "model_construct", "model_copy", "model_dump", "model_dump_json", "model_json_schema",
        "model_parametrized_name", "model_post_init", "model_rebuild", "model_validate",
        "model_validate_json", "model_validate_strings", "register", "self",
    }
)


def _ascii_words(name: str) -> list[str]:
    text = name if name.isascii() else unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = _WORD_BOUNDARY.sub("_", text)
    return [w for w in _NON_WORD.split(text) if w]


@functools.lru_cache(maxsize=65536)  # the same JSON names recur across models and operations
def snake_case(name: str) -> str:
    return "_".join(_ascii_words(name)).lower()


def pascal_case(name: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in _ascii_words(name))


def constant_case(name: str) -> str:
    return snake_case(name).upper()


# Longer names are cut and given a digest of the whole, so they stay distinct and fit any file system.
MAX_IDENTIFIER = 100

# File names Windows reserves whatever their extension: modules must not be called so.
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul"} | {f"{port}{n}" for port in ("com", "lpt") for n in range(1, 10)})


def shortened(name: str, limit: int = MAX_IDENTIFIER) -> str:
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return name[: limit - len(digest) - 1].rstrip("_") + "_" + digest


def identifier(
    base: str, *, fallback: str, avoid: Iterable[str] = (), digit_prefix: str | None = None, limit: int = MAX_IDENTIFIER
) -> str:
    """Make ``base`` (already cased) a safe identifier: valid, public, short, not a keyword or in ``avoid``."""
    name = base.strip("_") or fallback
    if name[0].isdigit():
        name = (digit_prefix if digit_prefix is not None else fallback + "_") + name
    name = shortened(name, limit)
    avoided = set(avoid)
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in avoided:
        name += "_"
    return name


def unique(names: Iterable[str], *, taken: Iterable[str] = ()) -> list[str]:
    """Suffix repeated names with _2, _3... in the given order, avoiding ``taken``."""
    used = set(taken)
    result = []
    for name in names:
        candidate, n = name, 2
        while candidate in used:
            candidate = f"{name}_{n}"
            n += 1
        used.add(candidate)
        result.append(candidate)
    return result


def attribute_name(raw: str, *, fallback: str = "field", avoid: Iterable[str] = ()) -> str:
    return identifier(snake_case(raw), fallback=fallback, avoid=avoid)


def class_name(raw: str, *, fallback: str = "Model", avoid: Iterable[str] = ()) -> str:
    return identifier(pascal_case(raw), fallback=fallback, avoid=avoid, digit_prefix=fallback)


def file_safe(name: str) -> str:
    """An identifier as a module (file) name no file system refuses."""
    return name + "_" if name.lower() in WINDOWS_RESERVED else name


# A package name the user chose is kept whole, up to what a file name can hold.
USER_NAME_LIMIT = 200


def package_name(raw: str, *, limit: int = MAX_IDENTIFIER) -> str:
    name = identifier(snake_case(raw), fallback="client", avoid=BUILTIN_NAMES | {"test", "tests"}, limit=limit)
    return file_safe(name)
