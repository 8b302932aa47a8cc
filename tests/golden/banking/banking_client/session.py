"""The token session of Example Bank Banking.

`Session` is the runtime session with this API's token endpoints and scopes filled in from
its OpenAPI description, so grants built without `token_url=` and `Session.sign_in` use
them. Any session object works with every accessgen client: one session can serve several
APIs.
"""

from __future__ import annotations

from typing import ClassVar

from ._runtime.session import Session as _RuntimeSession


class Session(_RuntimeSession):
    """A refresh-aware token session (see `_runtime.session.Session`)."""

    default_openid_configuration_url: ClassVar[str | None] = (
        "https://auth.example-bank.test/.well-known/openid-configuration"
    )
    default_scopes: ClassVar[tuple[str, ...]] = (
        "banking/read",
        "banking/write",
    )
