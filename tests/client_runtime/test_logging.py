"""The package's logger: one DEBUG line per request sent, with the method, the URL without
credentials, the status (or the failure), the elapsed time, the attempt and any refresh."""

from __future__ import annotations

import logging
import re
from types import ModuleType
from typing import Any

import pytest

from tests.runtime.helpers import FakeClock, OAuthTestServer
from tests.support.fault_server import RESET, FaultServer, Reply

from .helpers import THING, refreshing_session

pytestmark = pytest.mark.timeout(60)

LOGGER = "runtime_features_client"


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    text = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    return [re.sub(r"\(\d+\.\d ms", "(N ms", line) for line in text]


def test_one_line_per_attempt_without_credentials(
    rt: ModuleType, api: FaultServer, policy: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    api.script("GET", "/keyed/k1", Reply(503), RESET, Reply(200, THING))
    with rt.Client(
        api.url, header_key="h-secret", query_key="q-secret", retry_policy=policy
    ) as client:
        client.keyed.get_keyed("k1", verbose=False)
    url = f"{api.url}/keyed/k1?verbose=false"
    assert lines(caplog) == [
        f"GET {url} -> 503 (N ms, attempt 1); retrying in 0.25 s",
        f"GET {url} -> ReadError (N ms, attempt 2); retrying in 0.50 s",
        f"GET {url} -> 200 (N ms, attempt 3)",
    ]
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == LOGGER)


def test_refreshes_show_in_the_lines(
    rt: ModuleType,
    api: FaultServer,
    oauth: OAuthTestServer,
    clock: FakeClock,
    policy: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    session = refreshing_session(rt, oauth, clock)
    api.script("GET", "/things/t1", Reply(401), Reply(200, THING))
    api.script("PUT", "/files/f", Reply(401))
    with rt.AuthenticatedClient(api.url, session=session, retry_policy=policy) as client:
        client.things.get_thing("t1")
        with pytest.raises(rt.AuthenticationError):
            client.files.upload_file("f", body=iter([b"once"]))
    assert lines(caplog) == [
        f"GET {api.url}/things/t1 -> 401 (N ms, attempt 1); refreshing the token",
        f"GET {api.url}/things/t1 -> 200 (N ms, attempt 1, replayed after a token refresh)",
        f"PUT {api.url}/files/f -> 401 (N ms, attempt 1); token refreshed, not replayed: the body cannot be sent again",
    ]


def test_silent_above_debug(
    rt: ModuleType, api: FaultServer, policy: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    api.route("GET", "/search", Reply(200, {}))
    with rt.Client(api.url, retry_policy=policy) as client:
        client.public.search()
    assert lines(caplog) == []
