"""Effective security and operation classes (DESIGN section 2), as a table."""

from __future__ import annotations

from typing import Any

import pytest

from generator.ir import SecurityClass, SecurityScheme
from generator.security import effective_security

SCHEMES = {
    "accessToken": SecurityScheme("accessToken", "openIdConnect", openid_connect_url="https://id.test/.well-known/openid-configuration"),
    "oauth": SecurityScheme("oauth", "oauth2"),
    "bearer": SecurityScheme("bearer", "http", http_scheme="Bearer"),
    "basic": SecurityScheme("basic", "http", http_scheme="basic"),
    "key": SecurityScheme("key", "apiKey", api_key_name="X-Key", api_key_location="header"),
}
ROOT = [{"accessToken": ["banking/read"]}]

CASES: list[tuple[str, Any, Any, SecurityClass, str]] = [
    ("root default applies when the key is absent", None, ROOT, SecurityClass.TOKEN_REQUIRED, "root"),
    ("no root and no operation security", None, None, SecurityClass.PUBLIC, "none"),
    ("empty list overrides the root", [], ROOT, SecurityClass.PUBLIC, "operation"),
    ("only {} is public", [{}], ROOT, SecurityClass.PUBLIC, "operation"),
    ("{} beside a token: optional", [{}, {"oauth": []}], None, SecurityClass.TOKEN_OPTIONAL, "operation"),
    ("api key OR token: optional", [{"key": []}, {"accessToken": []}], None, SecurityClass.TOKEN_OPTIONAL, "operation"),
    ("token AND key: required", [{"accessToken": [], "key": []}], None, SecurityClass.TOKEN_REQUIRED, "operation"),
    ("two token alternatives: required", [{"oauth": []}, {"bearer": []}], None, SecurityClass.TOKEN_REQUIRED, "operation"),
    ("http bearer is a token scheme", [{"bearer": []}], None, SecurityClass.TOKEN_REQUIRED, "operation"),
    ("key only", [{"key": []}], ROOT, SecurityClass.CREDENTIAL_ONLY, "operation"),
    ("key or anonymous", [{"key": []}, {}], None, SecurityClass.CREDENTIAL_ONLY, "operation"),
    ("basic only", [{"basic": []}], None, SecurityClass.CREDENTIAL_ONLY, "operation"),
    ("operation override replaces, never merges", [{"key": []}], [{"oauth": []}], SecurityClass.CREDENTIAL_ONLY, "operation"),
    ("root with {} is optional everywhere it applies", None, [{}, {"oauth": []}], SecurityClass.TOKEN_OPTIONAL, "root"),
]


@pytest.mark.parametrize(("operation", "root", "expected", "source"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_effective_security_class(operation: Any, root: Any, expected: SecurityClass, source: str) -> None:
    result = effective_security(operation, root, SCHEMES)
    assert result.security_class is expected
    assert result.source == source


def test_alternatives_keep_spec_order_and_scopes() -> None:
    result = effective_security([{"key": []}, {"accessToken": ["banking/read", "banking/write"]}], None, SCHEMES)
    assert [[(u.scheme, u.scopes) for u in req.schemes] for req in result.alternatives] == [
        [("key", ())],
        [("accessToken", ("banking/read", "banking/write"))],
    ]
