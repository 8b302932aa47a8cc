"""Constants and helpers shared by the runtime tests."""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

from tests.runtime.helpers import APP_ID, APP_SECRET, FakeClock, OAuthTestServer

THING = {"id": "t1", "code": "ABC", "kind": "widget", "size": 3}
TOKEN = "tok-fixed"


class Waits:
    """Stands in for sleeping: records every wait the client asks for."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.seconds.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


NOW = 1_700_000_000.0


def refreshing_session(
    pkg: ModuleType, oauth: OAuthTestServer, clock: FakeClock, **kwargs: Any
) -> Any:
    grant = pkg.RefreshTokenGrant(
        token_url=oauth.token_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    return pkg.Session.from_token_response(
        oauth.login(APP_ID), refresher=grant, clock=clock, **kwargs
    )


def bearer(attempt: Any) -> str:
    return (attempt.header("Authorization") or "").removeprefix("Bearer ")
