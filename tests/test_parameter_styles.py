"""Every OpenAPI parameter style with explode on and off, against the examples of the
OpenAPI specification's style table (color = ["blue", "black", "brown"],
{"R": 100, "G": 200, "B": 150}, and the primitive "blue")."""

from __future__ import annotations

from typing import Any

import pytest

from generator.runtime.encoding import encode_header, encode_path, encode_query_or_cookie

ARRAY = ["blue", "black", "brown"]
OBJECT = {"R": 100, "G": 200, "B": 150}

PATH_CASES = [
    ("simple", False, "blue", "blue"),
    ("simple", True, "blue", "blue"),
    ("simple", False, ARRAY, "blue,black,brown"),
    ("simple", True, ARRAY, "blue,black,brown"),
    ("simple", False, OBJECT, "R,100,G,200,B,150"),
    ("simple", True, OBJECT, "R=100,G=200,B=150"),
    ("label", False, "blue", ".blue"),
    ("label", True, "blue", ".blue"),
    ("label", False, ARRAY, ".blue,black,brown"),
    ("label", True, ARRAY, ".blue.black.brown"),
    ("label", False, OBJECT, ".R,100,G,200,B,150"),
    ("label", True, OBJECT, ".R=100.G=200.B=150"),
    ("matrix", False, "blue", ";color=blue"),
    ("matrix", True, "blue", ";color=blue"),
    ("matrix", False, ARRAY, ";color=blue,black,brown"),
    ("matrix", True, ARRAY, ";color=blue;color=black;color=brown"),
    ("matrix", False, OBJECT, ";color=R,100,G,200,B,150"),
    ("matrix", True, OBJECT, ";R=100;G=200;B=150"),
]


@pytest.mark.parametrize(("style", "explode", "value", "expected"), PATH_CASES)
def test_path_styles(style: str, explode: bool, value: Any, expected: str) -> None:
    assert encode_path("color", value, style, explode) == expected


QUERY_CASES = [
    ("form", False, "blue", [("color", "blue")]),
    ("form", True, "blue", [("color", "blue")]),
    ("form", False, ARRAY, [("color", "blue,black,brown")]),
    ("form", True, ARRAY, [("color", "blue"), ("color", "black"), ("color", "brown")]),
    ("form", False, OBJECT, [("color", "R,100,G,200,B,150")]),
    ("form", True, OBJECT, [("R", "100"), ("G", "200"), ("B", "150")]),
    ("spaceDelimited", False, ARRAY, [("color", "blue black brown")]),
    ("spaceDelimited", True, ARRAY, [("color", "blue"), ("color", "black"), ("color", "brown")]),
    ("pipeDelimited", False, ARRAY, [("color", "blue|black|brown")]),
    ("pipeDelimited", True, ARRAY, [("color", "blue"), ("color", "black"), ("color", "brown")]),
    ("deepObject", True, OBJECT, [("color[R]", "100"), ("color[G]", "200"), ("color[B]", "150")]),
]


@pytest.mark.parametrize(("style", "explode", "value", "expected"), QUERY_CASES)
def test_query_and_cookie_styles(style: str, explode: bool, value: Any, expected: list[tuple[str, str]]) -> None:
    assert encode_query_or_cookie("color", value, style, explode) == expected


@pytest.mark.parametrize(
    ("explode", "value", "expected"),
    [(False, ARRAY, "blue,black,brown"), (True, ARRAY, "blue,black,brown"), (False, OBJECT, "R,100,G,200,B,150"), (True, OBJECT, "R=100,G=200,B=150")],
)
def test_header_simple_style(explode: bool, value: Any, expected: str) -> None:
    assert encode_header(value, explode) == expected


def test_values_are_escaped_in_paths_and_booleans_are_lowercase() -> None:
    assert encode_path("id", "a/b c?", "simple", False) == "a%2Fb%20c%3F"
    assert encode_query_or_cookie("flag", True, "form", True) == [("flag", "true")]
    assert encode_query_or_cookie("filter", {"a": 1}, "form", False, content_json=True) == [("filter", '{"a":1}')]
