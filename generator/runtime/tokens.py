"""Token sets and the errors raised while obtaining them.

A :class:`TokenSet` is the parsed form of an RFC 6749 section 5.1 token response.
Secrets (the access token, the refresh token and the ID token) never appear in its
``repr`` or ``str``, and no error raised here repeats a secret value.

Every generated package carries its own copy of this module, so each has its own
``TokenSet`` class. Code that accepts token sets takes any object with a token
set's fields (:class:`TokenSetLike`) and converts it with :meth:`TokenSet.coerce`,
so a token set from one package works with another package's session.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import SessionExpiredError, TokenRefreshError

__all__ = [
    "Clock",
    "InvalidTokenResponseError",
    "TokenEndpointUnavailableError",
    "TokenRequestRejectedError",
    "TokenSet",
    "TokenSetLike",
]

#: A callable returning the current time as seconds since the epoch (like ``time.time``).
Clock = Callable[[], float]

_MAX_TEXT = 200


class InvalidTokenResponseError(TokenRefreshError, ValueError):
    """A token response could not be used (no ``access_token``, malformed fields...).

    The message names the offending field, never its value.
    """


class TokenEndpointUnavailableError(TokenRefreshError):
    """The token endpoint could not be reached or answered with a transient failure.

    ``status_code`` is ``None`` for network failures (connection refused, timeout);
    ``error`` is the OAuth ``error`` code when the response carried one.
    The session keeps its current token; the next call tries again.
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, error: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error


class TokenRequestRejectedError(SessionExpiredError):
    """The token endpoint rejected the grant for good (``invalid_grant``, ``invalid_client``...).

    The session that received it has ended: later calls fail at once without
    contacting the token endpoint, until a new token set is installed.
    ``status_code`` is ``None`` when the session ended without asking the endpoint
    (no refresh token to send).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.error_description = error_description


class TokenSetLike(Protocol):
    """What a token set is, structurally: a :class:`TokenSet` of any generated package."""

    @property
    def access_token(self) -> str: ...

    @property
    def token_type(self) -> str: ...

    @property
    def expires_at(self) -> float | None: ...

    @property
    def refresh_token(self) -> str | None: ...

    @property
    def scopes(self) -> tuple[str, ...]: ...


_TOKEN_SET_FIELDS = ("access_token", "token_type", "expires_at", "refresh_token", "scopes")


def is_token_set_like(value: object) -> bool:
    """Whether ``value`` has a token set's fields (a ``TokenSet`` of any package)."""
    return all(hasattr(value, name) for name in _TOKEN_SET_FIELDS)


def safe_text(value: object, secrets: Iterable[str | None] = ()) -> str:
    """Text from an untrusted source made fit for an exception message.

    Keeps printable ASCII only, blanks out every known secret and truncates.
    """
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in str(value))
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT - 3] + "..."
    return text


def _field_names(response: Mapping[Any, Any]) -> str:
    names = [
        key
        for key in response
        if isinstance(key, str) and len(key) <= 40 and key.replace("_", "").isalnum()
    ]
    shown = ", ".join(sorted(names)[:12])
    return shown or "no usable fields"


def _parse_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _parse_scopes(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(item for item in value if item)
    return None


@dataclass(frozen=True, repr=False)
class TokenSet:
    """The credentials a session holds: an access token and what comes with it.

    ``expires_at`` is in epoch seconds (``None``: no known expiry). ``scopes`` are
    the granted scopes. ``id_token`` is the OpenID Connect ID token (a JWT) when the
    token response had one. ``repr()`` and ``str()`` never show a token.
    """

    access_token: str
    token_type: str = "Bearer"
    expires_at: float | None = None
    refresh_token: str | None = None
    scopes: tuple[str, ...] = ()
    id_token: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.access_token, str) or not self.access_token:
            raise ValueError("access_token must be a non-empty string")
        if not isinstance(self.token_type, str) or not self.token_type.strip():
            raise ValueError("token_type must be a non-empty string")
        if self.token_type.lower() == "bearer" and self.token_type != "Bearer":
            object.__setattr__(self, "token_type", "Bearer")
        if self.expires_at is not None:
            expires_at = _parse_number(self.expires_at)
            if expires_at is None or isinstance(self.expires_at, str):
                raise ValueError("expires_at must be a finite number of epoch seconds or None")
            object.__setattr__(self, "expires_at", expires_at)
        if self.refresh_token is not None:
            if not isinstance(self.refresh_token, str):
                raise ValueError("refresh_token must be a string or None")
            if not self.refresh_token:
                object.__setattr__(self, "refresh_token", None)
        scopes = _parse_scopes(self.scopes)
        if scopes is None:
            raise ValueError("scopes must be a sequence of strings")
        object.__setattr__(self, "scopes", scopes)
        if self.id_token is not None:
            if not isinstance(self.id_token, str):
                raise ValueError("id_token must be a string or None")
            if not self.id_token:
                object.__setattr__(self, "id_token", None)

    def __repr__(self) -> str:
        refresh = "'***'" if self.refresh_token is not None else "None"
        id_token = ", id_token='***'" if self.id_token is not None else ""
        return (
            f"TokenSet(access_token='***', token_type={self.token_type!r}, "
            f"expires_at={self.expires_at!r}, refresh_token={refresh}, scopes={self.scopes!r}"
            f"{id_token})"
        )

    __str__ = __repr__

    @classmethod
    def coerce(cls, value: TokenSetLike) -> TokenSet:
        """``value`` itself if it is a :class:`TokenSet`, else a copy of its fields.

        Accepts the ``TokenSet`` of any other generated package (each package has
        its own copy of the runtime). Raises ``TypeError`` for anything else.
        """
        if isinstance(value, cls):
            return value
        if not is_token_set_like(value):
            raise TypeError(
                f"expected a TokenSet (or an object with its fields), not {type(value).__name__}"
            )
        return cls(
            access_token=value.access_token,
            token_type=value.token_type,
            expires_at=value.expires_at,
            refresh_token=value.refresh_token,
            scopes=tuple(value.scopes),
            id_token=getattr(value, "id_token", None),
        )

    @classmethod
    def from_response(cls, response: Mapping[str, Any], *, clock: Clock = time.time) -> TokenSet:
        """Build a token set from an RFC 6749 token response (a parsed JSON object).

        ``expires_at`` (absolute, as stored by :meth:`to_dict` and by many client
        libraries) wins over ``expires_in`` (relative, turned into ``expires_at`` with
        ``clock``). ``scope`` may be a space-separated string or a list. A missing
        ``token_type`` means ``Bearer``.

        Raises :class:`InvalidTokenResponseError` naming the faulty field; secret
        values are never repeated.
        """
        if not isinstance(response, Mapping):
            raise InvalidTokenResponseError(
                f"a token response must be a JSON object, not {type(response).__name__}"
            )
        secrets = [
            v for k, v in response.items() if k in ("access_token", "refresh_token", "id_token")
        ]
        access_token = response.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            problem = "no access_token" if access_token in (None, "") else "an invalid access_token"
            message = f"the token response has {problem}"
            error = response.get("error")
            if isinstance(error, str) and error:
                message += f" (error: {safe_text(error, secrets)})"
            message += f"; fields present: {_field_names(response)}"
            raise InvalidTokenResponseError(message)

        token_type = response.get("token_type", "Bearer")
        if token_type is None or token_type == "":
            token_type = "Bearer"
        if not isinstance(token_type, str):
            raise InvalidTokenResponseError("the token response has an invalid token_type")

        expires_at: float | None = None
        if response.get("expires_at") is not None:
            expires_at = _parse_number(response["expires_at"])
            if expires_at is None:
                raise InvalidTokenResponseError("the token response has an invalid expires_at")
        elif response.get("expires_in") is not None:
            expires_in = _parse_number(response["expires_in"])
            if expires_in is None:
                raise InvalidTokenResponseError("the token response has an invalid expires_in")
            expires_at = clock() + expires_in

        refresh_token = response.get("refresh_token")
        if refresh_token is not None and not isinstance(refresh_token, str):
            raise InvalidTokenResponseError("the token response has an invalid refresh_token")

        scopes = _parse_scopes(response.get("scope"))
        if scopes is None:
            raise InvalidTokenResponseError("the token response has an invalid scope")

        id_token = response.get("id_token")
        if id_token is not None and not isinstance(id_token, str):
            raise InvalidTokenResponseError("the token response has an invalid id_token")

        try:
            return cls(
                access_token=access_token,
                token_type=token_type,
                expires_at=expires_at,
                refresh_token=refresh_token or None,
                scopes=scopes,
                id_token=id_token or None,
            )
        except ValueError as exc:  # pragma: no cover - every field was checked above
            raise InvalidTokenResponseError(f"the token response is invalid: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that :meth:`from_response` turns back into this token set.

        Meant for persisting a session (e.g. from an ``on_refresh`` callback). It
        holds the secrets: store it like a password.
        """
        data: dict[str, Any] = {"access_token": self.access_token, "token_type": self.token_type}
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at
        if self.refresh_token is not None:
            data["refresh_token"] = self.refresh_token
        if self.scopes:
            data["scope"] = " ".join(self.scopes)
        if self.id_token is not None:
            data["id_token"] = self.id_token
        return data

    def expires_within(self, seconds: float, *, now: float) -> bool:
        """Whether the access token expires less than ``seconds`` after ``now``.

        Always ``False`` when the expiry is unknown.
        """
        return self.expires_at is not None and now >= self.expires_at - seconds
