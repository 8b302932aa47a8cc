"""The sanitizer and the planner's naming rules."""

from __future__ import annotations

import keyword

import pytest

from generator.naming import attribute_name, class_name, package_name, snake_case, unique
from generator.plan import portable_pattern


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("listAccounts", "list_accounts"),
        ("getHTTPResponse", "get_http_response"),
        ("get-thing", "get_thing"),
        ("GetV1Accounts", "get_v1_accounts"),
        ("nextPage_url", "next_page_url"),
        ("Ümlaut naïve", "umlaut_naive"),
    ],
)
def test_snake_case(raw: str, expected: str) -> None:
    assert snake_case(raw) == expected


@pytest.mark.parametrize("raw", ["class", "import", "None", "match", "_", "__init__", "1st", "", "日本", "a\"b'c", "x;y"])
def test_attribute_names_are_safe_identifiers(raw: str) -> None:
    name = attribute_name(raw, avoid={"json"})
    assert name.isidentifier()
    assert not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
    assert not name.startswith("_")


@pytest.mark.parametrize("raw", ["123", "class", "Model\"); import os #", "", "a-b c"])
def test_class_names_are_safe(raw: str) -> None:
    name = class_name(raw)
    assert name.isidentifier() and name[0].isupper() and not keyword.iskeyword(name)


def test_unique_is_deterministic_and_avoids_taken() -> None:
    assert unique(["a", "a", "b", "a"], taken={"b"}) == ["a", "a_2", "b_2", "a_3"]


def test_package_name() -> None:
    assert package_name("Example Bank API") == "example_bank_api"
    assert package_name("list") == "list_"


@pytest.mark.parametrize(
    ("pattern", "kept"),
    [
        ("^[A-Z]{3}$", "^[A-Z]{3}$"),
        ("^(?<hour>[01][0-9]):(?<minute>[0-5][0-9])$", "^(?P<hour>[01][0-9]):(?P<minute>[0-5][0-9])$"),
        ("^\\P{Cc}*$", None),
        ("[[(]", None),
        ("^(?=.*[a-z]).+$", None),
        ("(a)\\1", None),
        ("(unclosed", None),
    ],
)
def test_portable_pattern(pattern: str, kept: str | None) -> None:
    result, note = portable_pattern(pattern)
    assert result == kept
    if kept is None:
        assert note and "left out" in note


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2.4.2", "2.4.2"), ("v1.0", "1.0"), ("1.0-beta", "1.0b0"), ("3.1.0-rc.2", "3.1.0rc2"), ("2023-10-16", "2023.10.16"), ("latest", "0.0.0"), ("1.2.3-alpha1", "1.2.3a1")],
)
def test_package_version_is_pep440(raw: str, expected: str) -> None:
    from generator.pipeline import pep440_version

    assert pep440_version(raw) == expected
