"""``accessgen diff``: each kind of spec change and its classification, the CLI, real specs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.diff import diff_apis, diff_specs, render_markdown, render_text
from generator.ir import Api
from generator.pipeline import load_api
from tests.conftest import REPO, SHARED_SPECS

BASE = """
openapi: 3.0.3
info: {title: Diff Bank, version: 1.0.0}
servers: [{url: 'https://bank.example.test'}]
security:
  - oauth: [accounts/read]
paths:
  /accounts:
    get:
      operationId: listAccounts
      tags: [accounts]
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: status, in: query, schema: {$ref: '#/components/schemas/AccountStatus'}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Account'}}
  /accounts/{accountId}:
    get:
      operationId: getAccount
      tags: [accounts]
      parameters:
        - {name: accountId, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Account'}
  /transfers:
    post:
      operationId: createTransfer
      tags: [transfers]
      security:
        - oauth: [transfers/write]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/NewTransfer'}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Transfer'}
  /health:
    get:
      operationId: getHealth
      tags: [meta]
      security: []
      responses:
        '204': {description: up}
  /rates:
    get:
      operationId: getRates
      tags: [meta]
      security:
        - {}
        - oauth: [accounts/read]
      responses:
        '204': {description: rates}
  /status:
    get:
      operationId: getStatus
      tags: [meta]
      security:
        - apiKey: []
      responses:
        '204': {description: status}
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: https://auth.example.test/token
          scopes: {accounts/read: read, accounts/write: write, transfers/write: pay}
    apiKey: {type: apiKey, in: header, name: X-API-Key}
    basic: {type: http, scheme: basic}
  schemas:
    AccountStatus:
      type: string
      enum: [open, closed]
    Account:
      type: object
      required: [id, name]
      properties:
        id: {type: string}
        name: {type: string}
        status: {$ref: '#/components/schemas/AccountStatus'}
        openedOn: {type: string, format: date}
    NewTransfer:
      type: object
      required: [amount]
      properties:
        amount: {type: string}
        memo: {type: string}
        state: {type: string, readOnly: true}
    Transfer:
      type: object
      required: [id]
      properties:
        id: {type: string}
        memo: {type: string}
"""

Spec = dict[str, Any]


def op(spec: Spec, path: str, method: str = "get") -> dict[str, Any]:
    result: dict[str, Any] = spec["paths"][path][method]
    return result


def schema(spec: Spec, name: str) -> dict[str, Any]:
    result: dict[str, Any] = spec["components"]["schemas"][name]
    return result


def move_path(spec: Spec, old: str, new: str) -> None:
    spec["paths"][new] = spec["paths"].pop(old)


# Each edit turns the base spec into the new version; expected: {(kind, subject, breaking)}.
CASES: dict[str, tuple[Callable[[Spec], object], set[tuple[str, str, bool]]]] = {
    "operation removed": (
        lambda s: s["paths"].pop("/health"),
        {("operation-removed", "meta.get_health", True)},
    ),
    "operation added": (
        lambda s: s["paths"].__setitem__("/ping", {"get": {"operationId": "ping", "tags": ["meta"], "responses": {"204": {"description": "ok"}}}}),
        {("operation-added", "meta.ping", False)},
    ),
    "operationId changed on the same path: method renamed": (
        lambda s: op(s, "/accounts/{accountId}").__setitem__("operationId", "fetchAccount"),
        {("operation-renamed", "accounts.get_account", True)},
    ),
    "operation moved to another tag": (
        lambda s: op(s, "/accounts/{accountId}").__setitem__("tags", ["ledger"]),
        {("operation-moved", "accounts.get_account", True)},
    ),
    "tag removed: the operation moves to its resource's group": (
        lambda s: op(s, "/health").pop("tags"),
        {("operation-moved", "meta.get_health", True)},
    ),
    "path changed, same method name": (
        lambda s: move_path(s, "/health", "/healthz"),
        {("operation-path-changed", "meta.get_health", False)},
    ),
    "operation deprecated": (
        lambda s: op(s, "/health").__setitem__("deprecated", True),
        {("operation-deprecated", "meta.get_health", False)},
    ),
    "optional parameter added": (
        lambda s: op(s, "/accounts")["parameters"].append({"name": "cursor", "in": "query", "schema": {"type": "string"}}),
        {("parameter-added", "accounts.list_accounts(cursor)", False)},
    ),
    "required parameter added": (
        lambda s: op(s, "/accounts")["parameters"].append({"name": "X-Region", "in": "header", "required": True, "schema": {"type": "string"}}),
        {("parameter-added", "accounts.list_accounts(x_region)", True)},
    ),
    "parameter removed": (
        lambda s: op(s, "/accounts")["parameters"].pop(0),
        {("parameter-removed", "accounts.list_accounts(limit)", True)},
    ),
    "parameter made required": (
        lambda s: op(s, "/accounts")["parameters"][0].__setitem__("required", True),
        {("parameter-required", "accounts.list_accounts(limit)", True)},
    ),
    "path parameter renamed": (
        lambda s: (
            move_path(s, "/accounts/{accountId}", "/accounts/{id}"),
            op(s, "/accounts/{id}")["parameters"][0].__setitem__("name", "id"),
        ),
        {("parameter-renamed", "accounts.get_account(account_id)", True), ("operation-path-changed", "accounts.get_account", False)},
    ),
    "parameter type changed": (
        lambda s: op(s, "/accounts")["parameters"][0].__setitem__("schema", {"type": "string"}),
        {("parameter-type-changed", "accounts.list_accounts(limit)", True)},
    ),
    "parameter type widened": (
        lambda s: op(s, "/accounts")["parameters"][0].__setitem__("schema", {"oneOf": [{"type": "integer"}, {"type": "string"}]}),
        {("parameter-type-changed", "accounts.list_accounts(limit)", False)},
    ),
    "body made optional": (
        lambda s: op(s, "/transfers", "post")["requestBody"].__setitem__("required", False),
        {("body-optional", "transfers.create_transfer(body)", False)},
    ),
    "response type changed": (
        lambda s: op(s, "/accounts/{accountId}")["responses"]["200"]["content"]["application/json"].__setitem__("schema", {"$ref": "#/components/schemas/Transfer"}),
        {("response-type-changed", "accounts.get_account", True)},
    ),
    "a method that returned None now returns a value": (
        lambda s: op(s, "/health")["responses"].__setitem__("204", {"description": "up", "content": {"text/plain": {"schema": {"type": "string"}}}}),
        {("response-type-changed", "meta.get_health", False)},
    ),
    "response model field removed": (
        lambda s: schema(s, "Account")["properties"].pop("openedOn"),
        {("field-removed", "models.Account.opened_on", True)},
    ),
    "response model field type changed": (
        lambda s: schema(s, "Transfer")["properties"].__setitem__("memo", {"type": "integer"}),
        {("field-type-changed", "models.Transfer.memo", True)},
    ),
    "response model field made required": (
        lambda s: schema(s, "Transfer")["required"].append("memo"),
        {("field-required", "models.Transfer.memo", False)},
    ),
    "request model field made required": (
        lambda s: schema(s, "NewTransfer")["required"].append("memo"),
        {("field-required", "models.NewTransfer.memo", True)},
    ),
    "response model field made optional": (
        lambda s: schema(s, "Transfer").pop("required"),
        {("field-optional", "models.Transfer.id", True)},
    ),
    "read-only field of a request model changes type": (
        lambda s: schema(s, "NewTransfer")["properties"].__setitem__("state", {"type": "integer", "readOnly": True}),
        {("field-type-changed", "models.NewTransfer.state", False)},
    ),
    "optional field added": (
        lambda s: schema(s, "NewTransfer")["properties"].__setitem__("reference", {"type": "string"}),
        {("field-added", "models.NewTransfer.reference", False)},
    ),
    "enum value removed": (
        lambda s: schema(s, "AccountStatus")["enum"].remove("closed"),
        {("enum-value-removed", "models.AccountStatus", True)},
    ),
    "enum value added": (
        lambda s: schema(s, "AccountStatus")["enum"].append("frozen"),
        {("enum-value-added", "models.AccountStatus", False)},
    ),
    "model removed": (
        lambda s: (op(s, "/transfers", "post")["responses"]["201"].pop("content"), s["components"]["schemas"].pop("Transfer")),
        {("model-removed", "models.Transfer", True), ("response-type-changed", "transfers.create_transfer", True)},
    ),
    # ---------------------------------------------------------------- security
    "per-operation `security: []` removed: public -> token-required": (
        lambda s: op(s, "/health").pop("security"),
        {("security-class-changed", "meta.get_health", True)},
    ),
    "`{}` alternative removed from a token-optional operation": (
        lambda s: op(s, "/rates")["security"].pop(0),
        {("security-class-changed", "meta.get_rates", True)},
    ),
    "scope added to a requirement": (
        lambda s: op(s, "/transfers", "post")["security"][0]["oauth"].append("accounts/read"),
        {("scopes-added", "transfers.create_transfer", True)},
    ),
    "scope removed from a requirement": (
        lambda s: op(s, "/transfers", "post")["security"][0].__setitem__("oauth", []),
        {("scopes-removed", "transfers.create_transfer", False)},
    ),
    "apiKey alternative added beside the token": (
        lambda s: op(s, "/transfers", "post")["security"].append({"apiKey": []}),
        {("security-class-changed", "transfers.create_transfer", False), ("security-alternative-added", "transfers.create_transfer", False)},
    ),
    "credential-only operation needs an extra scheme": (
        lambda s: op(s, "/status")["security"][0].__setitem__("basic", []),
        {("security-scheme-added", "meta.get_status", True)},
    ),
    "credential-only operation now needs a token instead": (
        lambda s: op(s, "/status").__setitem__("security", [{"oauth": []}]),
        {("security-class-changed", "meta.get_status", True)},
    ),
    "token-required operation made public": (
        lambda s: op(s, "/accounts").__setitem__("security", []),
        {("security-class-changed", "accounts.list_accounts", False)},
    ),
    "api key replaced by basic credentials": (
        lambda s: op(s, "/status").__setitem__("security", [{"basic": []}]),
        {("security-alternative-removed", "meta.get_status", True), ("security-alternative-added", "meta.get_status", False)},
    ),
    "public operation now needs an api key": (
        lambda s: op(s, "/health").__setitem__("security", [{"apiKey": []}]),
        {("security-class-changed", "meta.get_health", False), ("security-scheme-added", "meta.get_health", True)},
    ),
    "credential scheme no longer declared: Client loses its keyword": (
        lambda s: s["components"]["securitySchemes"].pop("basic"),
        {("credential-removed", "Client(basic_auth=...)", True)},
    ),
    "second api key scheme declared": (
        lambda s: s["components"]["securitySchemes"].__setitem__("partnerKey", {"type": "apiKey", "in": "query", "name": "partner"}),
        {("credential-added", "Client(partner_key=...)", False)},
    ),
}


def write(tmp_path: Path, name: str, spec: Spec) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def base_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("base"), "old.yaml", yaml.safe_load(BASE))


@pytest.fixture(scope="module")
def base_api(base_spec: Path) -> Api:
    return load_api(base_spec)[0]


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_change_is_classified(case: str, base_api: Api, tmp_path: Path) -> None:
    edit, expected = CASES[case]
    new = yaml.safe_load(BASE)
    edit(new)
    report = diff_apis(base_api, load_api(write(tmp_path, "new.yaml", new))[0])
    assert {(c.kind, c.subject, c.breaking) for c in report.changes} == expected, render_text(report)
    assert len(report.changes) == len(expected)
    assert report.breaking is any(breaking for _, _, breaking in expected)
    assert report.suggested_bump == ("major" if report.breaking else "patch" if all(k in ("operation-path-changed", "scopes-removed") for k, _, _ in expected) else "minor")


def test_an_untagged_operation_stays_where_its_resource_names_the_group(base_api: Api, tmp_path: Path) -> None:
    new = yaml.safe_load(BASE)
    op(new, "/transfers", "post").pop("tags")  # untagged operations group by their path's resource
    report = diff_apis(base_api, load_api(write(tmp_path, "new.yaml", new))[0])
    assert report.changes == () and not report.breaking, render_text(report)


def test_root_security_added_makes_public_operations_token_required(tmp_path: Path) -> None:
    old = yaml.safe_load(BASE)
    old.pop("security")
    op(old, "/accounts")["security"] = [{"oauth": ["accounts/read"]}]
    new = copy.deepcopy(old)
    new["security"] = [{"oauth": []}]
    report = diff_specs(write(tmp_path, "old.yaml", old), write(tmp_path, "new.yaml", new))
    changed = {(c.kind, c.subject, c.breaking) for c in report.changes}
    # getAccount had no security at all (public): now it inherits the root token requirement.
    assert changed == {("security-class-changed", "accounts.get_account", True)}
    assert "callers of Client lose this method" in report.changes[0].detail


def test_identical_and_text_only_changes(base_spec: Path, tmp_path: Path) -> None:
    same = diff_specs(base_spec, base_spec)
    assert (same.changes, same.suggested_bump, same.breaking) == ((), "none", False)
    assert "no changes" in render_text(same)
    spec = yaml.safe_load(BASE)
    op(spec, "/health")["summary"] = "Is the bank up?"
    reworded = diff_specs(base_spec, write(tmp_path, "reworded.yaml", spec))
    assert (reworded.changes, reworded.suggested_bump) == ((), "patch")


COMBINED = [
    "operation removed",
    "operation added",
    "path parameter renamed",
    "optional parameter added",
    "scope added to a requirement",
    "response model field made required",
    "enum value removed",
    "body made optional",
]


def test_combined_changes_are_the_union_sorted_breaking_first(base_spec: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(BASE)
    for case in COMBINED:
        CASES[case][0](spec)
    new = write(tmp_path, "new.yaml", spec)
    report = diff_specs(base_spec, new)
    assert {(c.kind, c.subject, c.breaking) for c in report.changes} == set().union(*(CASES[case][1] for case in COMBINED))
    assert report == diff_specs(base_spec, new)
    flags = [c.breaking for c in report.changes]
    assert flags == sorted(flags, reverse=True)
    assert render_markdown(report).count("\n| ") == len(report.changes) + 1  # header row + one row each


# ---------------------------------------------------------------- command line


def run_diff(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", "diff", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def breaking_pair(base_spec: Path) -> tuple[Path, Path]:
    spec = yaml.safe_load(BASE)
    spec["info"]["version"] = "2.0.0"
    spec["paths"].pop("/health")
    op(spec, "/accounts")["parameters"].append({"name": "cursor", "in": "query", "schema": {"type": "string"}})
    op(spec, "/rates")["security"].pop(0)
    return base_spec, write(base_spec.parent, "new.yaml", spec)


def test_cli_text_exit_1_on_breaking(breaking_pair: tuple[Path, Path]) -> None:
    result = run_diff(*breaking_pair)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "API 1.0.0 -> 2.0.0: 3 changes, 2 breaking; suggested version bump: major"
    assert "Breaking changes (2):" in lines and "Other changes (1):" in lines
    assert any(line.strip().startswith("BREAKING  operation-removed") and "meta.get_health" in line for line in lines)
    assert "breaking changes" in result.stderr and "Traceback" not in result.stderr


def test_cli_json(breaking_pair: tuple[Path, Path]) -> None:
    result = run_diff(*breaking_pair, "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert list(document) == ["breaking", "suggested_bump", "old_version", "new_version", "changes"]
    assert (document["breaking"], document["suggested_bump"]) == (True, "major")
    assert {(c["kind"], c["subject"], c["breaking"]) for c in document["changes"]} == {
        ("operation-removed", "meta.get_health", True),
        ("security-class-changed", "meta.get_rates", True),
        ("parameter-added", "accounts.list_accounts(cursor)", False),
    }
    assert all(list(c) == ["kind", "subject", "detail", "breaking"] for c in document["changes"])


def test_cli_markdown(breaking_pair: tuple[Path, Path]) -> None:
    result = run_diff(*breaking_pair, "--format", "markdown")
    assert result.returncode == 1
    assert result.stdout.startswith("### API changes 1.0.0 → 2.0.0")
    assert "| ⚠️ **breaking** | operation-removed | `meta.get_health` |" in result.stdout
    assert "|  | parameter-added | `accounts.list_accounts(cursor)` |" in result.stdout


def test_cli_non_breaking_exits_0(base_spec: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(BASE)
    schema(spec, "AccountStatus")["enum"].append("frozen")
    result = run_diff(base_spec, write(tmp_path, "new.yaml", spec))
    assert result.returncode == 0, result.stderr
    assert "suggested version bump: minor" in result.stdout and result.stderr == ""


def test_cli_identical_specs(base_spec: Path) -> None:
    result = run_diff(base_spec, base_spec)
    assert result.returncode == 0
    assert result.stdout.strip() == "API 1.0.0 -> 1.0.0: no changes; suggested version bump: none"


def test_cli_bad_spec_is_one_clear_error(base_spec: Path, tmp_path: Path) -> None:
    result = run_diff(base_spec, tmp_path / "missing.yaml")
    assert result.returncode == 3, "an unreadable spec is not a breaking change (exit 1)"
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "file not found" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- real specs


@pytest.mark.slow
def test_real_specs_do_not_crash() -> None:
    brasil = SHARED_SPECS / "open-finance-brasil"
    if not brasil.is_dir():
        pytest.skip(f"the shared corpus is absent ({SHARED_SPECS})")
    report = diff_specs(brasil / "payments" / "4.0.0.yml", brasil / "automatic-payments" / "2.0.0.yml")
    assert report.breaking and report.suggested_bump == "major"
    assert render_markdown(report).count("\n| ") == len(report.changes) + 1
    assert len(render_text(report).splitlines()) > len(report.changes)


@pytest.mark.slow
def test_stripe_against_itself_in_any_order_has_no_changes() -> None:
    spec = SHARED_SPECS / "stripe" / "spec3.yaml"
    if not spec.is_file():
        pytest.skip(f"the shared corpus is absent ({SHARED_SPECS})")
    api, _ = load_api(spec)
    shuffled = replace(api, operations=api.operations[::-1], models=api.models[::-1])
    report = diff_apis(api, shuffled)
    assert (report.changes, report.suggested_bump) == ((), "none")
