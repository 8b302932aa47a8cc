"""TokenSet: parsing RFC 6749 token responses, redaction, persistence round trip."""

from __future__ import annotations

import pytest

from generator.runtime.errors import TokenRefreshError
from generator.runtime.tokens import InvalidTokenResponseError, TokenSet

pytestmark = pytest.mark.timeout(10)

ACCESS = "access-SECRET-1234"
REFRESH = "refresh-SECRET-5678"


def test_from_response_computes_expiry_from_the_clock() -> None:
    token = TokenSet.from_response(
        {
            "access_token": ACCESS,
            "token_type": "bearer",
            "expires_in": 3600,
            "refresh_token": REFRESH,
            "scope": "accounts:read  payments:write",
        },
        clock=lambda: 1000.0,
    )
    assert token.access_token == ACCESS
    assert token.token_type == "Bearer"
    assert token.expires_at == 4600.0
    assert token.refresh_token == REFRESH
    assert token.scopes == ("accounts:read", "payments:write")


def test_from_response_accepts_common_variants() -> None:
    token = TokenSet.from_response(
        {"access_token": ACCESS, "expires_in": "120", "scope": ["a", "b"]}, clock=lambda: 10.0
    )
    assert (token.token_type, token.expires_at, token.scopes) == ("Bearer", 130.0, ("a", "b"))
    assert token.refresh_token is None
    no_expiry = TokenSet.from_response({"access_token": ACCESS, "refresh_token": ""})
    assert no_expiry.expires_at is None and no_expiry.refresh_token is None


def test_expires_at_wins_over_expires_in() -> None:
    token = TokenSet.from_response(
        {"access_token": ACCESS, "expires_at": 5000, "expires_in": 10}, clock=lambda: 0.0
    )
    assert token.expires_at == 5000.0


def test_to_dict_round_trips() -> None:
    token = TokenSet(ACCESS, expires_at=1234.5, refresh_token=REFRESH, scopes=("x", "y"))
    again = TokenSet.from_response(token.to_dict(), clock=lambda: 99999.0)
    assert again == token


@pytest.mark.parametrize(
    "response",
    [
        {"refresh_token": REFRESH, "token_type": "Bearer", "expires_in": 60},
        {"access_token": "", "refresh_token": REFRESH},
        {"access_token": None, "refresh_token": REFRESH},
    ],
)
def test_missing_access_token_is_a_clear_error_without_secrets(response: dict[str, object]) -> None:
    with pytest.raises(InvalidTokenResponseError) as info:
        TokenSet.from_response(response)
    message = str(info.value)
    assert "access_token" in message
    assert REFRESH not in message
    assert isinstance(info.value, TokenRefreshError) and isinstance(info.value, ValueError)


def test_error_response_names_the_error_code() -> None:
    with pytest.raises(InvalidTokenResponseError, match="invalid_grant"):
        TokenSet.from_response({"error": "invalid_grant", "error_description": "nope"})


def test_invalid_access_token_type_is_not_echoed() -> None:
    with pytest.raises(InvalidTokenResponseError, match="invalid access_token"):
        TokenSet.from_response({"access_token": 12345})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires_in", "soon"),
        ("expires_in", float("nan")),
        ("expires_in", True),
        ("expires_at", "later"),
        ("scope", 7),
        ("refresh_token", 5),
        ("token_type", 3),
    ],
)
def test_invalid_fields_are_named(field: str, value: object) -> None:
    with pytest.raises(InvalidTokenResponseError, match=field.split("_")[0]):
        TokenSet.from_response({"access_token": ACCESS, field: value})


def test_not_a_mapping() -> None:
    with pytest.raises(InvalidTokenResponseError, match="JSON object"):
        TokenSet.from_response(["access_token", ACCESS])  # type: ignore[arg-type]


def test_secrets_never_in_repr_or_str() -> None:
    token = TokenSet(ACCESS, refresh_token=REFRESH, expires_at=10, scopes=("read",))
    for text in (repr(token), str(token), f"{token}", repr([token]), repr({"t": token})):
        assert ACCESS not in text and REFRESH not in text
    assert "read" in repr(token) and "expires_at=10.0" in repr(token)


def test_constructor_validates() -> None:
    with pytest.raises(ValueError):
        TokenSet("")
    with pytest.raises(ValueError):
        TokenSet(ACCESS, expires_at=float("inf"))
    with pytest.raises(ValueError):
        TokenSet(ACCESS, scopes=(1,))  # type: ignore[arg-type]
    assert TokenSet(ACCESS, scopes=["a"]).scopes == ("a",)  # type: ignore[arg-type]


def test_expires_within() -> None:
    token = TokenSet(ACCESS, expires_at=100.0)
    assert not token.expires_within(60, now=39.0)
    assert token.expires_within(60, now=40.0)
    assert not TokenSet(ACCESS).expires_within(10**9, now=0.0)
