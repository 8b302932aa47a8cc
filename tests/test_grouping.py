"""API groups: an operation's first tag, else the first segment of its path that names a resource."""

from __future__ import annotations

import textwrap
from pathlib import Path

from generator.pipeline import GenerateOptions, generate
from generator.plan import Planner
from generator.pipeline import load_api

SPEC = textwrap.dedent(
    """
    openapi: 3.0.3
    info: {title: Grouping, version: 1.0.0}
    paths:
      /v1/customers:
        get: {operationId: listCustomers, responses: {'204': {description: ok}}}
      /v1/customers/{customer}/sources:
        post: {operationId: addSource, parameters: [{name: customer, in: path, required: true, schema: {type: string}}], responses: {'204': {description: ok}}}
      /v1/customers/search:
        get: {operationId: searchCustomers, tags: [search], responses: {'204': {description: ok}}}
      /v2.1/invoices/{id}:
        get: {operationId: getInvoice, parameters: [{name: id, in: path, required: true, schema: {type: string}}], responses: {'204': {description: ok}}}
      /api/v1/users:
        get: {operationId: listUsers, responses: {'204': {description: ok}}}
      /{tenant}/orders:
        get: {operationId: listOrders, parameters: [{name: tenant, in: path, required: true, schema: {type: string}}], responses: {'204': {description: ok}}}
      /:
        get: {operationId: root, responses: {'204': {description: ok}}}
      /v1/{id}:
        delete: {operationId: deleteAnything, parameters: [{name: id, in: path, required: true, schema: {type: string}}], responses: {'204': {description: ok}}}
      /payment-intents:
        get: {operationId: listPaymentIntents, responses: {'204': {description: ok}}}
    """
)


def groups_of(tmp_path: Path) -> dict[str, list[str]]:
    spec = tmp_path / "grouping.yaml"
    spec.write_text(SPEC)
    api, _ = load_api(spec)
    plan = Planner(api, "grouping", "test").plan()
    return {g.attribute: sorted(op.name for op in g.operations) for g in plan.groups}


def test_untagged_operations_group_by_resource_and_tags_win(tmp_path: Path) -> None:
    assert groups_of(tmp_path) == {
        "customers": ["add_source", "list_customers"],  # /v1/customers/{customer}/sources: the version is skipped
        "default": ["delete_anything", "root"],  # no segment names a resource
        "invoices": ["get_invoice"],  # v2.1 is a version too
        "orders": ["list_orders"],  # a parameter segment is skipped
        "payment_intents": ["list_payment_intents"],
        "search": ["search_customers"],  # the tag, not the path
        "users": ["list_users"],  # /api/... is not a resource
    }


def test_the_groups_are_the_client_attributes_and_modules(tmp_path: Path) -> None:
    spec = tmp_path / "grouping.yaml"
    spec.write_text(SPEC)
    files = generate(spec, GenerateOptions(package_name="grouping")).files
    modules = sorted(path.rsplit("/", 1)[1] for path in files if path.startswith("grouping/api/") and path != "grouping/api/__init__.py")
    assert modules == ["customers.py", "default.py", "invoices.py", "orders.py", "payment_intents.py", "search.py", "users.py"]
    assert "def customers(self) -> CustomersApi:" in files["grouping/client.py"]
