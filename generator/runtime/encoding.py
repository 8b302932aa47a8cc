"""Serialisation of parameters (OpenAPI styles) and request bodies."""

from __future__ import annotations

import datetime
import enum
import re
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel

from .models import REQUEST_CONTEXT
from .streaming import StreamBody, binary_body


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for a parameter or body value (models dumped by alias, unset fields left out)."""
    if isinstance(value, BaseModel):
        return value.model_dump(
            mode="json", by_alias=True, exclude_unset=True, context=REQUEST_CONTEXT
        )
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def scalar_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def keep_dot_segments(path: str) -> str:
    """``path`` with every segment made only of dots percent-encoded (``%2E``), so that neither
    httpx nor a server resolves it as ``.`` or ``..``: a path value ``..``, or an empty label,
    must not send the request to another resource."""
    return "/".join(
        segment.replace(".", "%2E") if segment and not segment.strip(".") else segment
        for segment in path.split("/")
    )


# Characters a path segment carries as they are (RFC 3986 unreserved): the common case, which
# needs neither conversion nor quoting.
_UNRESERVED = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")


def encode_path(name: str, value: Any, style: str, explode: bool) -> str:
    if type(value) is str and style == "simple":
        if value.isalnum() and value.isascii() or _UNRESERVED.fullmatch(value):
            return value
    data = to_jsonable(value)

    def q(text: str) -> str:
        return quote(text, safe="")

    if isinstance(data, list):
        items = [q(scalar_text(v)) for v in data]
        if style == "label":
            return "." + ("." if explode else ",").join(items)
        if style == "matrix":
            if explode:
                return "".join(f";{name}={v}" for v in items)
            return f";{name}=" + ",".join(items)
        return ",".join(items)
    if isinstance(data, dict):
        pairs = [(q(str(k)), q(scalar_text(v))) for k, v in data.items()]
        if explode:
            joined = [f"{k}={v}" for k, v in pairs]
        else:
            joined = [part for pair in pairs for part in pair]
        if style == "label":
            return "." + ("." if explode else ",").join(joined)
        if style == "matrix":
            if explode:
                return "".join(f";{p}" for p in joined)
            return f";{name}=" + ",".join(joined)
        return ",".join(joined)
    text = q(scalar_text(data))
    if style == "label":
        return "." + text
    if style == "matrix":
        return f";{name}={text}"
    return text


def encode_query_or_cookie(
    name: str, value: Any, style: str, explode: bool, content_json: bool = False
) -> list[tuple[str, str]]:
    data = to_jsonable(value)
    if content_json:
        return [(name, json.dumps(data, separators=(",", ":")))]
    if isinstance(data, list):
        items = [scalar_text(v) for v in data]
        if style == "spaceDelimited" and not explode:
            return [(name, " ".join(items))]
        if style == "pipeDelimited" and not explode:
            return [(name, "|".join(items))]
        if explode:
            return [(name, item) for item in items]
        return [(name, ",".join(items))]
    if isinstance(data, dict):
        if style == "deepObject":
            return list(_deep_object(name, data))
        if explode:
            return [(str(k), scalar_text(v)) for k, v in data.items()]
        return [
            (name, ",".join(part for k, v in data.items() for part in (str(k), scalar_text(v))))
        ]
    return [(name, scalar_text(data))]


def _deep_object(prefix: str, data: Any) -> list[tuple[str, str]]:
    if isinstance(data, dict):
        return [pair for k, v in data.items() for pair in _deep_object(f"{prefix}[{k}]", v)]
    if isinstance(data, list):
        return [pair for i, v in enumerate(data) for pair in _deep_object(f"{prefix}[{i}]", v)]
    return [(prefix, scalar_text(data))]


def encode_header(value: Any, explode: bool, content_json: bool = False) -> str:
    data = to_jsonable(value)
    if content_json:
        return json.dumps(data, separators=(",", ":"))
    if isinstance(data, list):
        return ",".join(scalar_text(v) for v in data)
    if isinstance(data, dict):
        if explode:
            return ",".join(f"{k}={scalar_text(v)}" for k, v in data.items())
        return ",".join(part for k, v in data.items() for part in (str(k), scalar_text(v)))
    return scalar_text(data)


@dataclass
class EncodedBody:
    content: bytes | StreamBody | None = None
    data: Any = None
    files: Any = None
    content_type: str | None = None
    replayable: bool = True


def encode_body(body: Any, kind: str, media_type: str, *, is_async: bool = False) -> EncodedBody:
    """The body of a request; ``TypeError`` (before anything is sent) for a value it cannot be."""
    if kind == "json":
        if isinstance(body, BaseModel):
            content = body.model_dump_json(
                by_alias=True, exclude_unset=True, context=REQUEST_CONTEXT
            ).encode()
        else:
            content = json.dumps(
                to_jsonable(body), separators=(",", ":"), ensure_ascii=False
            ).encode()
        return EncodedBody(content=content, content_type=media_type)
    if kind == "form":
        pairs = form_pairs(to_jsonable(body))
        return EncodedBody(
            content=urlencode(pairs).encode("ascii"),
            content_type="application/x-www-form-urlencoded",
        )
    if kind == "multipart":
        raw = (
            body.model_dump(by_alias=True, exclude_unset=True, context=REQUEST_CONTEXT)
            if isinstance(body, BaseModel)
            else dict(body)
        )
        parts: list[tuple[str, Any]] = []
        replayable = True
        for key, value in raw.items():
            if value is None:
                continue
            if isinstance(value, (bytes, bytearray)):
                parts.append((key, (key, bytes(value), "application/octet-stream")))
            elif hasattr(value, "read") or isinstance(value, tuple):
                parts.append((key, value))
                replayable = False
            elif isinstance(value, (dict, list, BaseModel)):
                parts.append(
                    (
                        key,
                        (
                            None,
                            json.dumps(to_jsonable(value), separators=(",", ":")),
                            "application/json",
                        ),
                    )
                )
            else:
                parts.append((key, (None, scalar_text(to_jsonable(value)))))
        return EncodedBody(files=parts, replayable=replayable)
    if kind == "text":
        if isinstance(body, str):
            return EncodedBody(content=body.encode("utf-8"), content_type=media_type)
        if isinstance(body, bytes):
            return EncodedBody(content=body, content_type=media_type)
        raise TypeError(f"a text request body must be str, not {type(body).__name__}")
    binary = binary_body(body, is_async=is_async)
    replayable = not isinstance(binary, StreamBody) or binary.replayable
    return EncodedBody(content=binary, content_type=media_type, replayable=replayable)


def form_pairs(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested objects as ``a[b][c]=v`` and arrays as ``a[0]=v``: the encoding Stripe and Rails expect."""
    if isinstance(data, dict):
        pairs: list[tuple[str, str]] = []
        for key, value in data.items():
            pairs.extend(form_pairs(value, f"{prefix}[{key}]" if prefix else str(key)))
        return pairs
    if isinstance(data, list):
        if not data and prefix:
            return [(prefix, "")]
        return [pair for i, v in enumerate(data) for pair in form_pairs(v, f"{prefix}[{i}]")]
    if data is None:
        return []
    return [(prefix, scalar_text(data))]
