"""Every operation of two specs, called through the generated clients against Prism.

Prism (``@stoplight/prism-cli``, installed by ``.ci/run`` into ``.ci/prism``) serves the spec
as a mock server that validates each request against it, security included
(``tests/support/prism.py``). For each operation of ``specs/banking.yaml`` and of the shared
``swagger-petstore-v3``:

- called with valid arguments by clients holding every credential, sync and async, Prism
  logs that the request passed its validation rules, reports no violation, answers 2xx, and
  the method returns the answer parsed into its model;
- called by a client lacking the credentials its security needs, it raises
  ``MissingCredentialsError`` and Prism receives nothing.

The call table is explicit and must name exactly the operations in the generated
``OPERATIONS`` of each API module, so a new operation cannot be left out.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import os
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import SHARED_SPECS, SPECS
from tests.support.prism import INSTALL_HINT, PrismServer, is_request_finding, prism_executable, prism_findings, running_prism

TOKEN = "tok"
API_KEY = "partner-key"

PUBLIC = "public"  # no credential
TOKEN_ONLY = "token"  # every alternative needs the session's token: AuthenticatedClient only
KEY_ONLY = "api_key"  # the apiKey credential and nothing else
TOKEN_OR_KEY = "token|api_key"  # either one


@dataclass(frozen=True)
class Call:
    group: str  # the API attribute of the client (one module of <package>.api)
    method: str
    needs: str
    returns: str  # "Model", "list[Model]", "dict[str, int]", "str" or "None"
    args: tuple[Any, ...] = ()
    kwargs: Callable[[ModuleType], dict[str, Any]] = field(default=lambda models: {})

    def invoke(self, api_client: Any, pkg: ModuleType) -> Any:
        method = getattr(getattr(api_client, self.group), self.method)
        return method(*self.args, **self.kwargs(models_of(pkg)))


def models_of(pkg: ModuleType) -> ModuleType:
    return importlib.import_module(f"{pkg.__name__}.models")


def _transfer(m: ModuleType) -> dict[str, Any]:
    amount = m.Money(value="125.50", currency="USD")
    return {"body": m.NewTransfer(source_account_id="a1", target_account_id="a2", amount=amount, memo="Rent, May", cutoff_time="17:30")}


BANKING: dict[str, Call] = {
    "list_accounts": Call(
        "accounts", "list_accounts", TOKEN_ONLY, "Accounts",
        kwargs=lambda m: {"start": "c0", "limit": 50, "product_types": [m.ProductType.CHECKING, "savings"]},
    ),
    "get_account": Call("accounts", "get_account", TOKEN_ONLY, "Account", args=("a1",)),
    "update_account": Call(
        "accounts", "update_account", TOKEN_ONLY, "Account", args=("a1",),
        kwargs=lambda m: {"if_match": '"v1"', "body": m.AccountPatch(name="Rainy day")},
    ),
    "create_transfer": Call("transfers", "create_transfer", TOKEN_ONLY, "Transfer", kwargs=_transfer),
    "get_transfer": Call("transfers", "get_transfer", TOKEN_ONLY, "Transfer", args=("t1",)),
    "look_up_institution": Call("institutions", "look_up_institution", KEY_ONLY, "Institution", args=("123456789",)),
    "get_health": Call("health", "get_health", PUBLIC, "Health"),
}  # fmt: skip


def _pet(m: ModuleType) -> Any:
    return m.Pet(
        id=10, name="doggie", photo_urls=["https://img.example.test/doggie.png"],
        category=m.Category(id=1, name="Dogs"), tags=[m.Tag(id=1, name="friendly")], status=m.PetStatus.AVAILABLE,
    )  # fmt: skip


def _user(m: ModuleType, n: int = 1) -> Any:
    return m.User(
        id=n, username=f"user{n}", first_name="John", last_name="James", email="john@example.test",
        password="12345", phone="12345", user_status=1,
    )  # fmt: skip


def _order(m: ModuleType) -> Any:
    ship = datetime.datetime(2025, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)
    return m.Order(id=10, pet_id=198772, quantity=7, ship_date=ship, status=m.OrderStatus.APPROVED, complete=True)


PETSTORE: dict[str, Call] = {
    "update_pet": Call("pet", "update_pet", TOKEN_ONLY, "Pet", kwargs=lambda m: {"body": _pet(m)}),
    "add_pet": Call("pet", "add_pet", TOKEN_ONLY, "Pet", kwargs=lambda m: {"body": _pet(m)}),
    "find_pets_by_status": Call("pet", "find_pets_by_status", TOKEN_ONLY, "list[Pet]", kwargs=lambda m: {"status": m.FindPetsByStatusStatus.SOLD}),
    "find_pets_by_tags": Call("pet", "find_pets_by_tags", TOKEN_ONLY, "list[Pet]", kwargs=lambda m: {"tags": ["tag1", "tag2"]}),
    "get_pet_by_id": Call("pet", "get_pet_by_id", TOKEN_OR_KEY, "Pet", args=(10,)),
    "update_pet_with_form": Call("pet", "update_pet_with_form", TOKEN_ONLY, "Pet", args=(10,), kwargs=lambda m: {"name": "rex", "status": "sold"}),
    "delete_pet": Call("pet", "delete_pet", TOKEN_ONLY, "None", args=(10,), kwargs=lambda m: {"api_key": "legacy-header"}),
    "upload_file": Call(
        "pet", "upload_file", TOKEN_ONLY, "ApiResponse", args=(10,),
        kwargs=lambda m: {"additional_metadata": "front view", "body": b"\x89PNG\r\n\x1a\n\x00\x00"},
    ),
    "get_inventory": Call("store", "get_inventory", KEY_ONLY, "dict[str, int]"),
    "place_order": Call("store", "place_order", PUBLIC, "Order", kwargs=lambda m: {"body": _order(m)}),
    "get_order_by_id": Call("store", "get_order_by_id", PUBLIC, "Order", args=(5,)),
    "delete_order": Call("store", "delete_order", PUBLIC, "None", args=(5,)),
    "create_user": Call("user", "create_user", PUBLIC, "User", kwargs=lambda m: {"body": _user(m)}),
    "create_users_with_list_input": Call(
        "user", "create_users_with_list_input", PUBLIC, "User", kwargs=lambda m: {"body": [_user(m, 1), _user(m, 2)]}
    ),
    "login_user": Call("user", "login_user", PUBLIC, "str", kwargs=lambda m: {"username": "user1", "password": "12345"}),
    "logout_user": Call("user", "logout_user", PUBLIC, "None"),
    "get_user_by_name": Call("user", "get_user_by_name", PUBLIC, "User", args=("user1",)),
    "update_user": Call("user", "update_user", PUBLIC, "None", args=("user1",), kwargs=lambda m: {"body": _user(m)}),
    "delete_user": Call("user", "delete_user", PUBLIC, "None", args=("user1",)),
}  # fmt: skip

PETSTORE_SPEC = SHARED_SPECS / "swagger-petstore-v3" / "openapi.yaml"
SPEC_FILES: dict[str, Path] = {"banking": SPECS / "banking.yaml", "petstore": PETSTORE_SPEC}
TABLES: dict[str, dict[str, Call]] = {"banking": BANKING, "petstore": PETSTORE}
# Generator bugs these tests found and that are not fixed yet: (spec, operation) -> the bug.
# Strict: the test fails once the bug is fixed, so the entry cannot outlive it.
KNOWN_BUGS: dict[tuple[str, str], str] = {}
CASES = [
    pytest.param(
        spec, name, id=f"{spec}-{name}",
        marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[spec, name])] if (spec, name) in KNOWN_BUGS else [],
    )
    for spec, table in TABLES.items()
    for name in table
]  # fmt: skip


# ---------------------------------------------------------------- fixtures


def _require(spec: str) -> None:
    if not SPEC_FILES[spec].exists():
        pytest.skip(f"{SPEC_FILES[spec]} is absent (../shared/specs is not laid beside the repository)")


@pytest.fixture(scope="module")
def prism_ready() -> None:
    if prism_executable() is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install Prism before the tests. {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)


@pytest.fixture(scope="module")
def packages(generate_package: Any) -> Callable[[str], ModuleType]:
    def get(spec: str) -> ModuleType:
        _require(spec)
        return generate_package(SPEC_FILES[spec], f"prism_{spec}_client")

    return get


@pytest.fixture(scope="module")
def prisms(prism_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], PrismServer]]:
    """One Prism per spec, started on first use and stopped when the module is done."""
    started: dict[str, Any] = {}

    def get(spec: str) -> PrismServer:
        _require(spec)
        if spec not in started:
            context = running_prism(SPEC_FILES[spec], tmp_path_factory.mktemp(f"prism-{spec}"))
            started[spec] = (context, context.__enter__())
        server: PrismServer = started[spec][1]
        server.settle()  # forget whatever an earlier failing test left in the log
        return server

    yield get
    for context, _server in started.values():
        context.__exit__(None, None, None)


def api_modules(pkg: ModuleType) -> dict[str, ModuleType]:
    api = importlib.import_module(f"{pkg.__name__}.api")
    return {m.name: importlib.import_module(f"{api.__name__}.{m.name}") for m in pkgutil.iter_modules(api.__path__)}


# ---------------------------------------------------------------- helpers


class Exchanges:
    """Every response the client's own httpx client received (via an event hook)."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    def sync_client(self) -> httpx.Client:
        def hook(response: httpx.Response) -> None:
            response.read()
            self.responses.append(response)

        return httpx.Client(timeout=30, event_hooks={"response": [hook]})

    def async_client(self) -> httpx.AsyncClient:
        async def hook(response: httpx.Response) -> None:
            await response.aread()
            self.responses.append(response)

        return httpx.AsyncClient(timeout=30, event_hooks={"response": [hook]})

    def describe(self) -> str:
        lines = []
        for response in self.responses:
            request = response.request
            lines.append(f"{request.method} {request.url} {dict(request.headers)} {request.content[:600]!r}")
            lines.append(f"    -> {response.status_code} {response.content[:600]!r}")
            lines.extend(f"    finding: {finding}" for finding in prism_findings(response))
        return "\n".join(lines)


def call_and_catch(call: Call, client: Any, pkg: ModuleType) -> tuple[Any, str]:
    try:
        return call.invoke(client, pkg), "returned"
    except Exception as error:  # reported with Prism's findings
        return None, f"raised {type(error).__name__}: {error}"


def check_return(pkg: ModuleType, returns: str, result: Any) -> None:
    models = models_of(pkg)
    if returns == "None":
        assert result is None
    elif returns == "str":
        assert isinstance(result, str)
    elif returns == "dict[str, int]":
        assert isinstance(result, dict) and all(isinstance(k, str) and isinstance(v, int) for k, v in result.items())
    elif returns.startswith("list["):
        model = getattr(models, returns[5:-1])
        assert isinstance(result, list) and all(isinstance(item, model) for item in result), result
    else:
        assert isinstance(result, getattr(models, returns)), result


def assert_conformant(prism: PrismServer, call: Call, exchanges: Exchanges, outcome: str) -> None:
    received, log = prism.settle()
    context = f"{call.method}: {outcome}\nexchanges:\n{exchanges.describe()}\nPrism's log:\n{log[-4000:]}"
    assert outcome == "returned", context
    assert len(received) == 1, f"exactly one request must reach Prism, got {received}\n{context}"
    assert "The request passed the validation rules" in log, context
    assert "Request did not pass the validation rules" not in log, context
    findings = [finding for response in exchanges.responses for finding in prism_findings(response)]
    assert not [f for f in findings if is_request_finding(f)], f"Prism found the request invalid\n{context}"
    assert not findings, f"Prism could not produce a valid response\n{context}"
    assert [r.status_code // 100 for r in exchanges.responses] == [2], context


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("spec", list(TABLES))
def test_call_table_names_every_generated_operation(spec: str, packages: Callable[[str], ModuleType]) -> None:
    pkg = packages(spec)
    generated = {(group, name) for group, module in api_modules(pkg).items() for name in module.OPERATIONS}
    table = {(call.group, name) for name, call in TABLES[spec].items()}
    assert all(call.method == name for name, call in TABLES[spec].items())
    assert table == generated, "the call table must name every generated operation, in its API module"
    assert len(generated) == {"banking": 7, "petstore": 19}[spec]


@pytest.mark.parametrize(("spec", "name"), CASES)
def test_operation_conforms_with_every_credential(
    spec: str, name: str, packages: Callable[[str], ModuleType], prisms: Callable[[str], PrismServer]
) -> None:
    pkg, prism, call = packages(spec), prisms(spec), TABLES[spec][name]
    exchanges = Exchanges()
    with exchanges.sync_client() as http:
        client = pkg.AuthenticatedClient(prism.url, session=pkg.Session(TOKEN), api_key=API_KEY, http_client=http)
        result, outcome = call_and_catch(call, client, pkg)
    assert_conformant(prism, call, exchanges, outcome)
    check_return(pkg, call.returns, result)


@pytest.mark.parametrize(("spec", "name"), CASES)
def test_operation_conforms_through_the_async_client(
    spec: str, name: str, packages: Callable[[str], ModuleType], prisms: Callable[[str], PrismServer]
) -> None:
    pkg, prism, call = packages(spec), prisms(spec), TABLES[spec][name]
    exchanges = Exchanges()

    async def run() -> tuple[Any, str]:
        http = exchanges.async_client()
        async with http:
            client = pkg.AsyncAuthenticatedClient(prism.url, session=pkg.Session(TOKEN), api_key=API_KEY, http_client=http)
            try:
                return await call.invoke(client, pkg), "returned"
            except Exception as error:  # reported with Prism's findings
                return None, f"raised {type(error).__name__}: {error}"

    result, outcome = asyncio.run(run())
    assert_conformant(prism, call, exchanges, outcome)
    check_return(pkg, call.returns, result)


def lacking_clients(pkg: ModuleType, call: Call, url: str) -> list[tuple[str, Any]]:
    """Clients that lack what ``call`` needs, each described; [] for a public operation."""
    if call.needs == KEY_ONLY:
        return [("Client()", pkg.Client(url)), ("AuthenticatedClient(session) without api_key", pkg.AuthenticatedClient(url, session=pkg.Session(TOKEN)))]
    if call.needs == TOKEN_OR_KEY:
        return [("Client()", pkg.Client(url))]
    if call.needs == TOKEN_ONLY:
        public = pkg.Client(url, api_key=API_KEY)
        assert not hasattr(getattr(public, call.group), call.method), f"{call.method} needs a token: not on Client"
        # Past the type checker (an Authenticated API over a client core without a session),
        # the runtime still refuses before anything is sent.
        authenticated_api = type(getattr(pkg.AuthenticatedClient(url, session=pkg.Session(TOKEN)), call.group))
        bypass = pkg.Client(url, api_key=API_KEY)
        bypass.__dict__[call.group] = authenticated_api(bypass._core)
        return [("Client(api_key) with the Authenticated API forced onto it", bypass)]
    assert call.needs == PUBLIC
    return []


@pytest.mark.parametrize(("spec", "name"), CASES)
def test_operation_without_its_credentials_never_goes_out(
    spec: str, name: str, packages: Callable[[str], ModuleType], prisms: Callable[[str], PrismServer]
) -> None:
    pkg, prism, call = packages(spec), prisms(spec), TABLES[spec][name]
    operation_id = next(m.OPERATIONS[name] for m in api_modules(pkg).values() if name in m.OPERATIONS).operation_id
    lacking = lacking_clients(pkg, call, prism.url)
    if call.needs == PUBLIC:
        # a public operation needs nothing: the bare client calls it and Prism accepts it
        exchanges = Exchanges()
        with exchanges.sync_client() as http:
            result, outcome = call_and_catch(call, pkg.Client(prism.url, http_client=http), pkg)
        assert_conformant(prism, call, exchanges, outcome)
        check_return(pkg, call.returns, result)
        return
    assert lacking
    for description, client in lacking:
        with client:
            with pytest.raises(pkg.MissingCredentialsError) as info:
                call.invoke(client, pkg)
        assert info.value.operation == operation_id, description
        received, log = prism.settle()
        assert received == [], f"{description}: Prism received {received} although credentials were missing\n{log}"


def test_prism_flags_invalid_requests(prisms: Callable[[str], PrismServer]) -> None:
    """The control: Prism, as started here, does reject what the spec forbids, so "no finding"
    above means the generated client's requests conform."""
    prism = prisms("banking")
    money = {"value": "1.00", "currency": "USD"}
    wrong = [
        ("no token", "GET", "/accounts", {}, None),
        ("no api key", "GET", "/institutions/123456789", {}, None),
        ("path pattern", "GET", "/institutions/1234", {"X-Api-Key": API_KEY}, None),
        ("query minimum", "GET", "/accounts?limit=0", {"Authorization": f"Bearer {TOKEN}"}, None),
        ("missing header", "PATCH", "/accounts/a1", {"Authorization": f"Bearer {TOKEN}"}, {"name": "x"}),
        ("attribute names", "POST", "/transfers", {"Authorization": f"Bearer {TOKEN}"}, {"source_account_id": "a", "target_account_id": "b", "amount": money}),
    ]  # fmt: skip
    with httpx.Client(base_url=prism.url, timeout=30) as http:
        for label, method, path, headers, body in wrong:
            response = http.request(method, path, headers=headers, json=body)
            findings = [f for f in prism_findings(response) if is_request_finding(f)]
            assert response.status_code in (400, 401, 422) and findings, f"{label}: {response.status_code} {response.headers}"
        good = http.get("/accounts/a1", headers={"Authorization": f"Bearer {TOKEN}"})
        assert good.status_code == 200 and not prism_findings(good)
    received, _log = prism.settle()
    assert len(received) == len(wrong) + 1
