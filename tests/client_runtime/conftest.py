"""Fixtures of the runtime tests: the package generated from specs/features/runtime.yaml, a
fault-injecting server, an authlib token endpoint, and a retry policy that records its waits
instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SPECS
from tests.runtime.helpers import APP_ID, APP_SECRET, FakeClock, OAuthTestServer
from tests.support.fault_server import FaultServer

from .helpers import NOW, TOKEN, Waits


@pytest.fixture(autouse=True)
def _loopback_without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def rt(generate_package: Any) -> ModuleType:
    """The client generated from specs/features/runtime.yaml."""
    return generate_package(SPECS / "features" / "runtime.yaml", "runtime_features_client")


@pytest.fixture()
def api() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture()
def waits() -> Waits:
    return Waits()


@pytest.fixture()
def policy(rt: ModuleType, waits: Waits) -> Any:
    """Backoff caps 0.5, 1, 2... s; the jitter always draws half the cap; the clock is fixed."""
    return rt.RetryPolicy(
        sleep=waits.sleep, async_sleep=waits.async_sleep, jitter=lambda: 0.5, clock=lambda: NOW
    )


@pytest.fixture()
def client(rt: ModuleType, api: FaultServer, policy: Any) -> Iterator[Any]:
    with rt.AuthenticatedClient(api.url, session=rt.Session(TOKEN), retry_policy=policy) as made:
        yield made


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def oauth(clock: FakeClock) -> Iterator[OAuthTestServer]:
    with OAuthTestServer(clock=clock, access_token_ttl=600) as server:
        server.add_client(APP_ID, APP_SECRET, grant_types=("refresh_token",))
        yield server
