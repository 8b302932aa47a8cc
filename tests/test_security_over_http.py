"""Credentials on the wire: for every operation of both specs, exactly what its security says.

Each operation is called through the generated clients against a real HTTP server on
loopback that records what arrives.
"""

from __future__ import annotations

from functools import cached_property

import asyncio
import base64
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SPECS
from tests.support.recording_server import RecordedRequest, RecordingServer, Reply

TOKEN = "tok-123"
BASIC = ("user", "pa:ss")
ABSENT = "absent"  # the method does not exist on this client
MISSING = "missing"  # MissingCredentialsError, nothing sent


def sent_credentials(request: RecordedRequest) -> set[str]:
    found = set()
    auth = request.header("Authorization") or ""
    if auth == f"Bearer {TOKEN}":
        found.add("bearer")
    elif auth == "Basic " + base64.b64encode(":".join(BASIC).encode()).decode():
        found.add("basic")
    elif auth:
        found.add(f"unexpected Authorization {auth!r}")
    if request.header("X-API-Key") or request.header("X-Api-Key"):
        found.add("header")
    if any(name == "api_key" for name, _ in request.query):
        found.add("query")
    if "session_key=" in (request.header("Cookie") or ""):
        found.add("cookie")
    return found


# operation -> expected credentials for: authenticated with everything, authenticated with
# only a session, public client with every fixed credential, public client with nothing.
MIXED_EXPECTATIONS: dict[str, tuple[Any, Any, Any, Any]] = {
    "inherit_root_security": ({"bearer"}, {"bearer"}, ABSENT, ABSENT),
    "override_with_empty_list": (set(), set(), set(), set()),
    "only_anonymous_alternative": (set(), set(), set(), set()),
    "token_optional": ({"bearer"}, {"bearer"}, set(), set()),
    "key_or_token": ({"header"}, {"bearer"}, {"header"}, MISSING),
    "token_and_key": ({"bearer", "header"}, MISSING, ABSENT, ABSENT),
    "query_key_only": ({"query"}, MISSING, {"query"}, MISSING),
    "cookie_key_or_anonymous": ({"cookie"}, set(), {"cookie"}, set()),
    "basic_only": ({"basic"}, MISSING, {"basic"}, MISSING),
    "http_bearer": ({"bearer"}, {"bearer"}, ABSENT, ABSENT),
    "bearer_or_basic": ({"bearer"}, {"bearer"}, {"basic"}, MISSING),
}


@pytest.fixture(scope="module")
def mixed(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "mixed-security.yaml", "mixed_security_client")


def mixed_clients(pkg: ModuleType, url: str) -> list[Any]:
    fixed = dict(api_key_header="K", api_key_query="Q", api_key_cookie="C", basic_auth=BASIC)
    return [
        pkg.AuthenticatedClient(url, session=pkg.Session(TOKEN), **fixed),
        pkg.AuthenticatedClient(url, session=pkg.Session(TOKEN)),
        pkg.Client(url, **fixed),
        pkg.Client(url),
    ]


def find_method(client: Any, name: str) -> Any:
    """The method in whichever API group holds it (untagged operations group by path)."""
    for group in dir(type(client)):
        if not group.startswith("_") and isinstance(getattr(type(client), group), cached_property):
            api = getattr(client, group)
            if hasattr(api, name):
                return getattr(api, name)
    return None


def test_every_mixed_operation_sends_exactly_its_credentials(mixed: ModuleType, server: RecordingServer) -> None:
    operations = {name for module in _api_modules(mixed) for name in module.OPERATIONS}
    assert operations == set(MIXED_EXPECTATIONS), "the expectation table must cover every operation"
    for index, client in enumerate(mixed_clients(mixed, server.url)):
        for name, expectations in MIXED_EXPECTATIONS.items():
            expected = expectations[index]
            method = find_method(client, name)
            if expected == ABSENT:
                assert method is None, f"{name} must not exist on {type(client).__name__}"
                continue
            assert method is not None, f"{name} must exist on {type(client).__name__}"
            before = len(server.requests)
            if expected == MISSING:
                with pytest.raises(mixed.MissingCredentialsError) as info:
                    method()
                assert len(server.requests) == before, "nothing may be sent without credentials"
                assert name.replace("_", "") in info.value.operation.lower()
                continue
            method()
            assert len(server.requests) == before + 1
            assert sent_credentials(server.last()) == expected, f"{name} via client #{index}"


def test_async_clients_apply_the_same_rules(mixed: ModuleType, server: RecordingServer) -> None:
    async def run() -> list[set[str]]:
        async with mixed.AsyncAuthenticatedClient(server.url, session=mixed.Session(TOKEN), api_key_header="K") as authed:
            await authed.combined.token_and_key()
            await authed.optional.token_optional()
            await authed.public.override_with_empty_list()
        async with mixed.AsyncClient(server.url) as public:
            await public.optional.token_optional()
            with pytest.raises(mixed.MissingCredentialsError):
                await public.alternatives.key_or_token()
        return [sent_credentials(r) for r in server.requests]

    assert asyncio.run(run()) == [{"bearer", "header"}, {"bearer"}, set(), set()]


def _api_modules(pkg: ModuleType) -> list[ModuleType]:
    import importlib
    import pkgutil

    api = importlib.import_module(f"{pkg.__name__}.api")
    return [importlib.import_module(f"{api.__name__}.{m.name}") for m in pkgutil.iter_modules(api.__path__)]


# ---------------------------------------------------------------- banking


@pytest.fixture(scope="module")
def banking(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "banking.yaml", "banking_client")


ACCOUNT = {"id": "a1", "name": "Everyday", "productType": "checking", "balance": {"value": "10.00", "currency": "USD"}}
TRANSFER = {"id": "t1", "state": "pending", "sourceAccountId": "a1", "targetAccountId": "a2", "amount": {"value": "5.00", "currency": "USD"}}


def banking_routes(server: RecordingServer) -> None:
    server.route("GET", "/accounts", Reply(200, {"start": "0", "limit": 10, "items": [ACCOUNT]}))
    server.route("GET", "/accounts/a1", Reply(200, ACCOUNT, {"ETag": '"v1"'}))
    server.route("PATCH", "/accounts/a1", Reply(200, ACCOUNT))
    server.route("POST", "/transfers", Reply(202, TRANSFER, {"Retry-After": "3"}))
    server.route("GET", "/transfers/t1", Reply(200, TRANSFER))
    server.route("GET", "/institutions/123456789", Reply(200, {"routingNumber": "123456789", "name": "Bank", "city": None}))
    server.route("GET", "/health", Reply(200, {"status": "ok"}))


def banking_calls(client: Any) -> dict[str, Any]:
    """Every banking operation reachable on ``client``, as zero-argument callables."""
    calls = {
        "get_health": lambda: client.health.get_health(),
        "look_up_institution": lambda: client.institutions.look_up_institution("123456789"),
    }
    if hasattr(client.accounts, "list_accounts"):
        calls.update(
            list_accounts=lambda: client.accounts.list_accounts(limit=10),
            get_account=lambda: client.accounts.get_account("a1"),
            update_account=lambda: client.accounts.update_account("a1", if_match='"v1"', body={"name": "Bills"}),
            create_transfer=lambda: client.transfers.create_transfer(body={"sourceAccountId": "a1", "targetAccountId": "a2", "amount": {"value": "5.00", "currency": "USD"}}),
            get_transfer=lambda: client.transfers.get_transfer("t1"),
        )
    return calls


def test_banking_credentials_per_operation(banking: ModuleType, server: RecordingServer) -> None:
    banking_routes(server)
    authed = banking.AuthenticatedClient(server.url, session=banking.Session(TOKEN), api_key="K")
    expected_authed = {
        "get_health": set(),
        "look_up_institution": {"header"},
        "list_accounts": {"bearer"},
        "get_account": {"bearer"},
        "update_account": {"bearer"},
        "create_transfer": {"bearer"},
        "get_transfer": {"bearer"},
    }
    calls = banking_calls(authed)
    assert set(calls) == expected_authed.keys() == {n for m in _api_modules(banking) for n in m.OPERATIONS}
    for name, call in calls.items():
        call()
        assert sent_credentials(server.last()) == expected_authed[name], name

    public = banking.Client(server.url, api_key="K")
    public_calls = banking_calls(public)
    assert set(public_calls) == {"get_health", "look_up_institution"}
    for name in ("list_accounts", "get_account", "update_account"):
        assert not hasattr(public.accounts, name)
    for name, call in public_calls.items():
        call()
        assert sent_credentials(server.last()) == expected_authed[name], name

    before = len(server.requests)
    with pytest.raises(banking.MissingCredentialsError, match="lookUpInstitution"):
        banking.Client(server.url).institutions.look_up_institution("123456789")
    assert len(server.requests) == before


def test_redirects_keep_credentials_only_within_the_origin(banking: ModuleType, server: RecordingServer) -> None:
    banking_routes(server)
    with RecordingServer() as elsewhere:
        elsewhere.route("GET", "/health", Reply(200, {"status": "ok"}))
        elsewhere.route("GET", "/institutions/123456789", Reply(200, {"routingNumber": "123456789", "name": "Moved"}))
        server.route("GET", "/accounts/a9", Reply(307, None, {"Location": "/accounts/a1"}))
        server.route("GET", "/institutions/123456789", Reply(302, None, {"Location": f"{elsewhere.url}/institutions/123456789"}))
        client = banking.AuthenticatedClient(server.url, session=banking.Session(TOKEN), api_key="K")

        assert client.accounts.get_account("a9").id == "a1"
        assert [r.path for r in server.requests[-2:]] == ["/accounts/a9", "/accounts/a1"]
        assert sent_credentials(server.last()) == {"bearer"}, "same origin: the token follows"

        assert client.institutions.look_up_institution("123456789").name == "Moved"
        assert sent_credentials(elsewhere.last()) == set(), "another origin: no credential follows"
