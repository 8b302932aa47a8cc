"""The examples of docs/runtime.md and of the README's runtime section run, with generated
packages, against a loopback server that plays what each example describes."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import REPO, SPECS
from tests.support.fault_server import Attempt, FaultServer, Reply

pytestmark = pytest.mark.timeout(60)

BANK_URL = "https://api.example-bank.test/banking"
FILES_URL = "https://runtime.example.test/v1"
MONEY = {"value": "10.00", "currency": "USD"}
ACCOUNT = {"id": "a1", "name": "Everyday", "productType": "checking", "balance": MONEY}
TRANSFER = {
    "id": "x1",
    "state": "pending",
    "sourceAccountId": "a1",
    "targetAccountId": "a2",
    "amount": MONEY,
}
PROBLEM = "application/problem+json"


def blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.fixture()
def packages(generate_package: Any) -> tuple[ModuleType, ModuleType]:
    return generate_package(SPECS / "banking.yaml", "banking_client"), generate_package(
        SPECS / "features" / "runtime.yaml", "files_client"
    )


@pytest.fixture()
def bank(packages: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FaultServer]:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    files: dict[str, bytes] = {}

    def store(attempt: Attempt) -> Reply:
        name = attempt.path.rsplit("/", 1)[-1]
        files[name] = attempt.body
        return Reply(
            200,
            {
                "name": name,
                "size": len(attempt.body),
                "sha256": hashlib.sha256(attempt.body).hexdigest(),
            },
        )

    def page(attempt: Attempt) -> Reply:
        if ("start", "2") in attempt.query:  # this account's number breaks its pattern
            return Reply(
                200,
                {
                    "start": "2",
                    "limit": 1,
                    "items": [{**ACCOUNT, "id": "a2", "maskedNumber": "12-34"}],
                },
            )
        return Reply(
            200, {"start": "1", "limit": 1, "items": [ACCOUNT], "nextPage_url": "/accounts?start=2"}
        )

    with FaultServer() as server:
        busy = Reply(503, {"title": "busy"}, headers={"Retry-After": "0"}, content_type=PROBLEM)
        ok = Reply(200, ACCOUNT)
        server.script("GET", "/accounts/a1", ok, busy, ok, Reply(503), ok, then=ok)
        server.script("POST", "/transfers", busy, then=Reply(202, TRANSFER))
        server.route(
            "GET",
            "/accounts/missing",
            Reply(404, {"title": "No such account"}, content_type=PROBLEM),
        )
        server.route("GET", "/accounts", page)
        server.route("GET", "/health", Reply(200, {"status": "ok"}))
        server.route("PUT", "/files/report.pdf", store)
        server.route("PUT", "/files/pages.txt", store)
        server.route(
            "GET",
            "/files/report.pdf",
            lambda a: Reply(200, files["report.pdf"], content_type="application/octet-stream"),
        )
        yield server
    logging.getLogger("banking_client").setLevel(logging.NOTSET)


def run(code: str, name: str, namespace: dict[str, Any], url: str) -> None:
    code = code.replace(BANK_URL, url).replace(FILES_URL, url)
    try:
        exec(compile(code, name, "exec"), namespace)
    except Exception as exc:  # pragma: no cover - the message says which block
        raise AssertionError(f"{name} failed: {exc!r}") from exc


def test_every_example_of_docs_runtime_runs(
    bank: FaultServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    doc = REPO / "docs" / "runtime.md"
    examples = blocks(doc.read_text())
    assert len(examples) >= 9
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    for index, code in enumerate(examples):
        run(code, f"{doc.name}[block {index}]", namespace, bank.url)
    out = capsys.readouterr().out.splitlines()
    assert "[0.25]" in out  # the injected sleep saw the one wait
    assert f"404 No such account getAccount {bank.url}/accounts/missing" in out
    assert "('items', 0, 'maskedNumber') String should match pattern '^\\*{4,}[0-9]{4}$'" in out
    assert "True" in out  # the streamed download's digest matched the upload's
    assert [a.header("Idempotency-Key") for a in bank.to("POST", "/transfers")] == [
        "transfer-0001"
    ] * 2
    options_call = [a for a in bank.to("GET", "/accounts/a1") if a.header("X-Request-Id")]
    assert [a.query for a in options_call] == [[("expand", "owner")]]
    assert bank.to("GET", "/accounts/a1")[-1].header("X-Tenant") == "acme"
    assert bank.to("PUT", "/files/report.pdf")[0].header("Content-Length") == str(900_000)
    assert bank.to("PUT", "/files/pages.txt")[0].body == b"page 0\npage 1\npage 2\n"
    assert any(
        r.name == "banking_client" and "/health -> 200" in r.getMessage() for r in caplog.records
    )


def test_the_readme_runtime_section_runs(
    bank: FaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Retries, per-call options, errors and streaming", 1)[1].split(
        "\n## ", 1
    )[0]
    (example,) = blocks(section)
    run(example, "README.md[runtime section]", {"__name__": "readme_example"}, bank.url)
    assert capsys.readouterr().out.splitlines() == [
        f"404 No such account {bank.url}/accounts/missing"
    ]
    assert [a.header("Idempotency-Key") for a in bank.to("POST", "/transfers")] == [
        "transfer-0002"
    ] * 2
