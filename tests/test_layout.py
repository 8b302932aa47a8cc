"""``layout`` lays long lines out as black does, or says it cannot promise to."""

from __future__ import annotations

import ast

import black
import pytest

from generator.format import mode_for

MODE = mode_for("module.py")
from generator.layout import CannotPromise, lay_out, lay_out_module, python_literal, python_string

LONG = "PostCheckoutSessionsRequestPaymentMethodOptionsCustomerBalanceBankTransfer"

SHAPES = [
    # statements ending in a call, at module level and in a method
    ("", 'GET_THING: OperationSpec[models.Thing] = OperationSpec(name="get_thing", operation_id="getThing", method="GET", path="/things/{id}", security=())'),
    ("        ", "return self._client.request(LIST_ACCOUNTS, (start, limit, product_types, some_other_argument), None)"),
    ("        ", "return (await self._client.request(LIST_ACCOUNTS, (start, limit, product_types, other), None)).parsed"),
    ("        ", "async for page_item in self._client.paginate(LIST_ACCOUNTS, (start, limit, product_types), None):"),
    ("    ", "def list_accounts(self, *, start: str | None = None, limit: int | None = None, product_types: list[str] | None = None) -> models.Accounts:"),
    ("", "from .._runtime.client import ApiResponse, AsyncClientCore, OperationSpec, ParamSpec, ResponseSpec, SyncClientCore"),
    ("", f"class {LONG}{LONG}(OpenStrEnum):"),
    # assignments: the value's bracket, the value wrapped, the annotation wrapped or split
    ("    ", f'field: {LONG} | None = pydantic.Field(None, validation_alias="fieldName", serialization_alias="fieldName")'),
    ("    ", f'field_name_x: {LONG}Xy = pydantic.Field(validation_alias="fieldNameX", serialization_alias="fieldNameX")'),
    ("    ", f"account_holder_type: {LONG} | None = None"),
    ("    ", f"requested_address_types: list[{LONG}Item] | None = None"),
    ("    ", f"metadata: dict[str, str] | {LONG}M | None = None"),
    ("    ", f"source: str | _models.{LONG} | _models.Charge | _models.ApplicationFee | _models.{LONG}2 | None = None"),
    ("    ", f"allowed_countries: list[{LONG}AllowedCountriesItem]"),
    ("    ", f"currency_options: dict[str, {LONG}ShippingRateDataFixedAmountCurrencyOptionsValue] | None = None"),
    ("    ", f"currency_options: dict[str, {LONG}ShippingRateData] | None = None"),
    ("    ", f"value: dict[str, {LONG}{LONG}] | None = None"),
    ("", f"Alias: TypeAlias = _models.{LONG} | _models.Charge | _models.ApplicationFee | None"),
    ("    ", f'VERIFICATION_DOCUMENT_ISSUE_OR_EXPIRY_DATE_MISSING = "{LONG.lower()}"'),
    ("    ", f'VERIFICATION = "{LONG.lower() * 2}"'),
    ("", f"{LONG.upper()}_X: OperationSpec[models.{LONG}] = OperationSpec(name='x', method='GET', security=())".replace("'", '"')),
    # parameters with long annotations, in an exploded signature
    ("    ", f"def events(self, from_: str, *, invoice: models.{LONG}{LONG} | dict[str, Any], limit: int | None = None) -> None:"),
    ("    ", f"def events(self, from_: str, *, invoice: models.{LONG}Xyz | dict[str, Any] | None = None) -> None:"),
    ("    ", f"def events(self, from_: str, *, invoice: models.{LONG}{LONG} = None, limit: int | None = None) -> None:"),
    # an annotation too long for any line: left whole, `= (None)`, or wrapped before a call
    ("    ", f"field_key: {LONG}ClassificationUpdateRequestItemFieldKey"),
    ("    ", f"field_key: {LONG}ClassificationUpdateRequestItemFieldKey = None"),
    ("    ", f'field_key: {LONG}ClassificationUpdateRequestItemFieldKey = pydantic.Field(None, validation_alias="a")'),
    # items: a one-element tuple too long for its line, a dict entry nothing can split
    ("    ", f'params=(ParamSpec("{LONG.lower()}", "path", "simple", False),),'),
    ("    ", f'"{LONG}{LONG}": "_postm",'),
]


@pytest.mark.parametrize(("indent", "code"), SHAPES, ids=[str(i) for i in range(len(SHAPES))])
def test_lay_out_matches_black_and_keeps_the_code(indent: str, code: str) -> None:
    lines = lay_out(code, indent)
    text = "\n".join(lines) + "\n"
    if code.endswith(","):  # an item: inside the call or display it belongs to
        opening, closing = ("{", "}") if code.startswith('"') else ("f(", ")")
        source = f"value = {opening}\n{text}{closing}\n"
    elif indent == "    ":
        source = f"class Wrapper:\n{text}"
    else:
        source = f"class Wrapper:\n    def method(self):\n{text}" if indent else text
    if code.startswith(("def ", "class ", "async for")):
        source += f"{indent}    pass\n"
    assert black.format_str(source, mode=MODE) == source
    one_line = source.replace(text, indent + code + "\n")
    assert ast.dump(ast.parse(source)) == ast.dump(ast.parse(one_line))


@pytest.mark.parametrize(
    "code",
    [
        f"value: {LONG}[{LONG}] | None = {LONG} + {LONG}",  # a value with an operator
        f"{LONG}{LONG} = {LONG}.x + {LONG}.y",  # an operator black splits on
        f"lambda: models.{LONG}{LONG} | None,",  # a lambda, whose body is no annotation
    ],
)
def test_what_layout_cannot_promise_goes_to_black(code: str) -> None:
    with pytest.raises(CannotPromise):
        lay_out(code, "    ")


def test_strings_inside_multiline_strings_are_left_alone() -> None:
    text = f'"""A docstring with a long line: {LONG} {LONG} {LONG}"""\nx = 1\n'
    assert lay_out_module(text) == text


@pytest.mark.parametrize("value", ["plain", 'say "hi"', "it's", "both ' and \"", "back\\slash", "\x1b\u2028é", "'\"'\""])
def test_python_string_is_quoted_as_black_quotes(value: str) -> None:
    literal = python_string(value)
    assert ast.literal_eval(literal) == value
    assert black.format_str(f"x = {literal}\n", mode=MODE) == f"x = {literal}\n"


def test_python_literal_spells_containers_and_non_finite_numbers() -> None:
    assert python_literal(("a",)) == '("a",)'
    assert python_literal({"k": ("v", "w")}) == '{"k": ("v", "w")}'
    assert python_literal(float("-inf")) == '-float("inf")'
