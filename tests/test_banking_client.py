"""The banking client as its users meet it: pagination, 202 + Retry-After, problem errors, patterns."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pydantic
import pytest

from tests.conftest import SPECS
from tests.support.recording_server import RecordedRequest, RecordingServer, Reply
from tests.test_security_over_http import ACCOUNT, TRANSFER


@pytest.fixture(scope="module")
def banking(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "banking.yaml", "banking_client")


def account(n: int) -> dict[str, Any]:
    return {**ACCOUNT, "id": f"a{n}"}


def test_pagination_follows_next_links_and_pipe_delimited_query(banking: ModuleType, server: RecordingServer) -> None:
    with RecordingServer() as other_origin:
        other_origin.route("GET", "/accounts", Reply(200, {"start": "4", "limit": 2, "items": [account(5)]}))

        def pages(request: RecordedRequest) -> Reply:
            start = dict(request.query).get("start", "0")
            if start == "0":
                return Reply(200, {"start": "0", "limit": 2, "items": [account(1), account(2)], "nextPage_url": "/accounts?start=2&limit=2"})
            if start == "2":
                return Reply(200, {"start": "2", "limit": 2, "items": [account(3)], "nextPage_url": f"{server.url}/accounts?start=3"})
            return Reply(200, {"start": "3", "limit": 2, "items": [account(4)], "nextPage_url": f"{other_origin.url}/accounts?start=4"})

        server.route("GET", "/accounts", pages)
        client = banking.AuthenticatedClient(server.url, session=banking.Session("tok"), api_key="K")
        first = client.accounts.list_accounts(limit=2, product_types=["checking", banking.models.ProductType.SAVINGS])
        assert server.requests[0].raw_query == "limit=2&productTypes=checking%7Csavings"
        assert [a.id for a in first.items] == ["a1", "a2"]
        assert first.next_page_url == "/accounts?start=2&limit=2"

        items = list(client.accounts.iter_list_accounts(limit=2))
        assert [a.id for a in items] == ["a1", "a2", "a3", "a4", "a5"]
        ours = server.requests[1:]
        assert [r.raw_query for r in ours] == ["limit=2", "start=2&limit=2", "start=3"]
        assert all(r.header("Authorization") == "Bearer tok" for r in ours)
        # the last link leaves the client's origin: it is followed without any credential
        assert len(other_origin.requests) == 1
        assert other_origin.last().header("Authorization") is None and other_origin.last().header("X-Api-Key") is None


def test_accepted_transfer_exposes_retry_after(banking: ModuleType, server: RecordingServer) -> None:
    server.route("POST", "/transfers", Reply(202, TRANSFER, {"Retry-After": "3", "Location": "/transfers/t1"}))
    client = banking.AuthenticatedClient(server.url, session=banking.Session("tok"))
    body = banking.models.NewTransfer(source_account_id="a1", target_account_id="a2", amount=banking.models.Money(value="5.00", currency="USD"))
    response = client.transfers.create_transfer_raw(body=body)
    assert response.status_code == 202
    assert response.headers["Retry-After"] == "3"
    assert response.parsed.state == "pending"
    assert server.last().body == b'{"sourceAccountId":"a1","targetAccountId":"a2","amount":{"value":"5.00","currency":"USD"}}'
    assert server.last().header("Content-Type") == "application/json"


def test_problem_json_becomes_a_typed_api_error(banking: ModuleType, server: RecordingServer) -> None:
    problem = {"type": "https://errors.example-bank.test/not-found", "title": "Not found", "status": 404, "detail": "No account a9"}
    server.route("GET", "/accounts/a9", Reply(404, problem, content_type="application/problem+json"))
    client = banking.AuthenticatedClient(server.url, session=banking.Session("tok"))
    with pytest.raises(banking.ApiError) as info:
        client.accounts.get_account("a9")
    error = info.value
    assert error.status_code == 404
    assert isinstance(error.body, banking.models.Problem) and error.body.detail == "No account a9"
    assert "No account a9" in str(error) and "tok" not in str(error)


def test_ecma_patterns_are_translated_or_left_out(banking: ModuleType) -> None:
    models = banking.models
    money = models.Money(value="1.00", currency="USD")
    ok = models.NewTransfer(source_account_id="a", target_account_id="b", amount=money, cutoff_time="09:30", memo="\u0007 any text")
    assert ok.cutoff_time == "09:30"
    with pytest.raises(pydantic.ValidationError):
        models.NewTransfer(source_account_id="a", target_account_id="b", amount=money, cutoff_time="25:00")


def test_merge_patch_body_and_header_parameter(banking: ModuleType, server: RecordingServer) -> None:
    server.route("PATCH", "/accounts/a1", Reply(200, ACCOUNT))
    client = banking.AuthenticatedClient(server.url, session=banking.Session("tok"))
    client.accounts.update_account("a1", if_match='"v1"', body=banking.models.AccountPatch(name="Bills"))
    request = server.last()
    assert request.header("If-Match") == '"v1"'
    assert request.header("Content-Type") == "application/merge-patch+json"
    assert request.body == b'{"name":"Bills"}'
