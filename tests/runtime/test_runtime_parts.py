"""Fast unit tests of the runtime's parts: Retry-After parsing and backoff, per-call options,
lenient decoding, and what a binary body may be. (Over HTTP: tests/client_runtime/.)"""

from __future__ import annotations

import io
from email.utils import formatdate
from typing import Annotated, Any, Optional, Union

import httpx
import pydantic
import pytest

from generator.runtime.client import RequestOptions, request_options
from generator.runtime.models import ApiModel, OpenStrEnum
from generator.runtime.retries import RetryPolicy, retry_after_seconds
from generator.runtime.streaming import StreamBody, binary_body
from generator.runtime.validation import NotJson, construct, parse_leniently

NOW = 1_700_000_000.0


def clock() -> float:
    return NOW


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": " 1.5 "}, 1.5),
        ({"Retry-After": formatdate(NOW + 42, usegmt=True)}, 42.0),
        ({"Retry-After": formatdate(NOW - 42, usegmt=True)}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-1"}, None),
        ({"Retry-After": "inf"}, None),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"retry-after-ms": "x", "Retry-After": "9"}, 9.0),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(httpx.Headers(headers), clock) == expected


def test_backoff_is_exponential_capped_and_jittered() -> None:
    top = RetryPolicy(initial_delay=0.5, max_delay=3.0, jitter=lambda: 1.0)
    assert [top.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert RetryPolicy(jitter=lambda: 0.0).backoff(3) == 0.0
    assert 0.0 <= RetryPolicy().backoff(4) < 4.0


@pytest.mark.parametrize("field", ["initial_delay", "max_delay", "max_retry_after"])
def test_policy_values_are_checked(field: str) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**{field: -1.0})
    with pytest.raises(TypeError):
        RetryPolicy(**{field: "1"})


def test_request_options_allocate_nothing_when_empty() -> None:
    assert request_options({}) is None
    assert request_options({"timeout": None, "extra_headers": None, "max_retries": None}) is None
    assert request_options({"max_retries": 0}) == RequestOptions(max_retries=0)
    with pytest.raises(ValueError):
        request_options({"max_retries": True})
    with pytest.raises(ValueError):
        request_options({"max_retries": "1"})  # type: ignore[typeddict-item]
    with pytest.raises(TypeError, match="'retries'"):
        request_options({"retries": 3})  # type: ignore[typeddict-unknown-key]


class Colour(OpenStrEnum):
    RED = "red"


class Leaf(ApiModel):
    code: str = pydantic.Field(pattern=r"^[A-Z]+$")
    colour: Optional[Colour] = None


class Tree(ApiModel):
    name: str = pydantic.Field(validation_alias="treeName", serialization_alias="treeName")
    leaves: list[Leaf]
    by_key: dict[str, Leaf] = {}
    either: Union[Leaf, int, None] = None


def test_lenient_keeps_what_validates_and_the_rest_as_received() -> None:
    tree = parse_leniently(
        Tree,
        b'{"treeName": "oak", "leaves": [{"code": "OK"}, {"code": "bad", "colour": "teal"}],'
        b' "by_key": {"a": {"code": "x"}}, "either": {"code": "y"}, "extra": 1}',
    )
    assert type(tree) is Tree and tree.name == "oak" and tree.model_extra == {"extra": 1}
    assert [type(leaf) for leaf in tree.leaves] == [Leaf, Leaf]
    assert tree.leaves[1].code == "bad" and tree.leaves[1].colour == "teal"
    assert tree.leaves[1].colour.name == "UNKNOWN"
    assert type(tree.by_key["a"]) is Leaf and tree.by_key["a"].code == "x"
    assert type(tree.either) is Leaf and tree.either.code == "y"
    assert tree.model_fields_set == {"name", "leaves", "by_key", "either"}


def test_lenient_gives_up_where_the_shape_is_wrong() -> None:
    with pytest.raises(NotJson):
        parse_leniently(Tree, b"{not json")
    with pytest.raises(TypeError):
        parse_leniently(Tree, b"[1, 2]")
    assert construct(list[Leaf], "not a list") == "not a list"
    assert construct(Annotated[str, pydantic.Field(pattern="^a$")], "b") == "b"


def test_binary_bodies() -> None:
    assert binary_body(b"x", is_async=False) == b"x"
    assert binary_body(memoryview(b"mv"), is_async=False) == b"mv"
    listed = binary_body([b"a", bytearray(b"bc")], is_async=False)
    assert isinstance(listed, StreamBody) and listed.replayable and listed.length == 3
    assert list(listed.open()) == [b"a", b"bc"] == list(listed.open())  # type: ignore[arg-type]
    generated = binary_body((c for c in [b"a"]), is_async=False)
    assert (
        isinstance(generated, StreamBody) and not generated.replayable and generated.length is None
    )
    file = io.BytesIO(b"0123456789")
    file.seek(4)
    from_file = binary_body(file, is_async=False)
    assert isinstance(from_file, StreamBody) and from_file.replayable and from_file.length == 6
    assert b"".join(from_file.open()) == b"456789" == b"".join(from_file.open())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body", ["text", {"a": b"x"}, 1, None, io.StringIO("t"), [b"a", 1], object()]
)
def test_anything_else_is_a_type_error(body: Any) -> None:
    with pytest.raises(TypeError):
        binary_body(body, is_async=True)


def test_a_text_mode_file_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "t.txt"
    path.write_text("x")
    with path.open("r") as text, pytest.raises(TypeError, match="not TextIOWrapper"):
        binary_body(text, is_async=False)
