"""Benchmark: decoding a 1,000-item list response through the generated client.

    .venv/bin/python bench/decode.py
    .venv/bin/python bench/decode.py --items 1000 --rounds 15 --number 20 --processes 3

``specs/banking.yaml`` is generated into a temp dir (package ``banking_client``). The response
is a JSON array of 1,000 realistic ``Account`` objects (id, name, productType enum, balance
{value, currency} with the spec's patterns, openedOn date, maskedNumber; a fixed random seed).
In fresh child processes (.pyc files written by a warm-up process first), interleaved in
rounds so drift cancels, per decode:

* ``json.loads``        - the baseline: bytes to dicts, no validation;
* generated list        - ``banking_client._runtime.validation.parse_json(list[models.Account], content)``,
                          the generated client's decode path (a cached ``TypeAdapter``);
* generated page        - ``ClientCore.parse(LIST_ACCOUNTS, response)`` on the same items wrapped in
                          the ``Accounts`` page the ``list_accounts`` operation returns (the whole
                          response path: ResponseSpec lookup, ``model_validate_json``, ``ApiResponse``);
* hand-written pydantic - ``TypeAdapter(list[Account]).validate_json`` on an equivalent plain
                          pydantic model (same fields, aliases and patterns, default config);
* hand-written, ApiModel's config - the same with the generated models' ``model_config`` (extra
                          properties kept, validation by name and alias, deferred build): what
                          of the gap the config explains (the enum stays a plain ``str`` enum).

Reported: microseconds per decode (min and median over rounds), ratios to ``json.loads`` and
to the hand-written model. Separately, in other fresh processes, the first use: the models use
``defer_build=True``, so the first decode also builds the pydantic schema and the TypeAdapter.
Design target (DESIGN.md section 7): a 1,000-item list in at most 0.5 ms. Nothing asserts.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BANKING, child_env, generate_package, machine, min_median, run_child, table  # noqa: E402

PACKAGE = "banking_client"
TARGET_US = 500.0


def accounts(count: int) -> list[dict[str, Any]]:
    rng = random.Random(0)
    names = ["Everyday checking", "Rainy day savings", "Joint account", "Holiday fund", "Business reserve"]
    kinds = ["checking", "savings", "moneyMarket", "certificateOfDeposit"]
    items = []
    for index in range(count):
        item: dict[str, Any] = {
            "id": f"acc-{index:06d}",
            "name": f"{rng.choice(names)} {index}",
            "productType": rng.choice(kinds),
            "balance": {"value": f"{rng.randint(-50_000, 5_000_000) / 100:.2f}", "currency": rng.choice(["USD", "EUR", "GBP"])},
            "openedOn": (datetime.date(2010, 1, 1) + datetime.timedelta(days=rng.randint(0, 5000))).isoformat(),
            "maskedNumber": f"********{rng.randint(0, 9999):04d}",
        }
        if index % 10 == 9:
            del item["openedOn"]  # optional fields sometimes absent
        items.append(item)
    return items


def hand_written(config: Any = None) -> Any:
    """The same Account as a hand-written pydantic model: default config unless ``config``."""
    import enum

    from pydantic import BaseModel, ConfigDict, Field

    config = config or ConfigDict()

    class ProductType(str, enum.Enum):
        CHECKING = "checking"
        SAVINGS = "savings"
        MONEY_MARKET = "moneyMarket"
        CERTIFICATE_OF_DEPOSIT = "certificateOfDeposit"

    class Money(BaseModel):
        model_config = config
        value: str = Field(pattern=r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$")
        currency: str = Field(pattern=r"^[A-Z]{3}$")

    class Account(BaseModel):
        model_config = config
        id: str | None = None
        name: str
        product_type: ProductType = Field(alias="productType")
        balance: Money
        opened_on: datetime.date | None = Field(None, alias="openedOn")
        masked_number: str | None = Field(None, alias="maskedNumber", pattern=r"^\*{4,}[0-9]{4}$")

    return Account


def per_call(function: Any, number: int) -> float:
    started = time.perf_counter()
    for _ in range(number):
        function()
    return (time.perf_counter() - started) / number * 1e6


def child_steady(count: int, rounds: int, number: int) -> dict[str, Any]:
    import httpx
    from pydantic import TypeAdapter

    from banking_client import AuthenticatedClient, Session, models
    from banking_client._runtime.validation import parse_json
    from banking_client._runtime.models import ApiModel
    from banking_client.api.accounts import LIST_ACCOUNTS

    items = accounts(count)
    content = json.dumps(items).encode()
    page = json.dumps({"start": "0", "limit": count, "items": items}).encode()
    core = AuthenticatedClient(session=Session("tok"))._core
    response = httpx.Response(200, content=page, headers={"Content-Type": "application/json"})
    adapter = TypeAdapter(list[hand_written()])
    same_config = TypeAdapter(list[hand_written(ApiModel.model_config)])
    tp = list[models.Account]
    variants = {
        "json.loads": lambda: json.loads(content),
        "generated list": lambda: parse_json(tp, content),
        "generated page": lambda: core.parse(LIST_ACCOUNTS, response),
        "hand-written pydantic": lambda: adapter.validate_json(content),
        "hand-written, ApiModel's config": lambda: same_config.validate_json(content),
    }
    decoded = parse_json(tp, content)
    assert len(decoded) == count and decoded[-1].id == items[-1]["id"]
    assert len(core.parse(LIST_ACCOUNTS, response).parsed.items) == count
    for call in variants.values():  # warm-up
        per_call(call, 3)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for index in range(rounds):
        order = list(variants.items())
        for name, call in order[index % len(order):] + order[: index % len(order)]:
            times[name].append(per_call(call, number))
    return {"bytes": len(content), "times": times}


def child_first(count: int) -> dict[str, Any]:
    content = json.dumps(accounts(count)).encode()
    started = time.perf_counter()
    from banking_client import models
    from banking_client._runtime.validation import parse_json

    account = models.Account
    imported = time.perf_counter()
    parse_json(list[account], content)
    first = time.perf_counter()
    parse_json(list[account], content)
    second = time.perf_counter()
    return {"import": imported - started, "first": first - imported, "second": second - first}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, count, rounds, number = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        result = child_steady(count, rounds, number) if kind == "steady" else child_first(count)
        print("BENCH " + json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000, help="items in the list response")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per process")
    parser.add_argument("--number", type=int, default=20, help="decodes per variant per round")
    parser.add_argument("--processes", type=int, default=3, help="steady-state processes (first use: 7)")
    options = parser.parse_args()
    print(f"{BANKING}; {machine()}")
    with tempfile.TemporaryDirectory(prefix="accessgen-decode-") as tmp_name:
        tmp = Path(tmp_name)
        pycache = tmp / "pycache"
        generate_package(BANKING, tmp / "out", PACKAGE, tmp / "cache", pycache)
        env = child_env(pycache, PYTHONPATH=str(tmp / "out"))

        def child(*args: object) -> dict[str, Any]:
            run = run_child([sys.executable, __file__, "--child", *map(str, args)], env=env)
            return json.loads(run.stdout.split("BENCH ", 1)[1])

        child("steady", options.items, 1, 1)  # warm-up: leaves .pyc files
        steady = [child("steady", options.items, options.rounds, options.number) for _ in range(options.processes)]
        first = [child("first", options.items, 0, 0) for _ in range(7)]

    print(f"\n{options.items} accounts, {steady[0]['bytes'] / 1024:.0f} KiB of JSON; microseconds per decode, "
          f"{options.rounds} rounds x {options.number} per process, {options.processes} processes (min / median over all rounds):\n")
    medians = {name: statistics.median(t for s in steady for t in s["times"][name]) for name in steady[0]["times"]}
    rows = []
    for name, median in medians.items():
        low = min(t for s in steady for t in s["times"][name])
        rows.append([name, f"{low:.0f}", f"{median:.0f}", f"{median / medians['json.loads']:.2f}x",
                     f"{median / medians['hand-written pydantic']:.2f}x", f"{median / TARGET_US:.2f}x"])
    print(table(["decode", "min µs", "median µs", "vs json.loads", "vs hand-written", "vs 500 µs target"], rows))
    imports, firsts, seconds = (min_median(f[k] * 1e3 for f in first) for k in ("import", "first", "second"))
    print(f"\nFirst use, 7 fresh processes (min / median, ms): import banking_client.models + Account "
          f"{imports[0]:.1f} / {imports[1]:.1f}; first decode {firsts[0]:.1f} / {firsts[1]:.1f}; "
          f"second decode {seconds[0]:.2f} / {seconds[1]:.2f}")
    print(f"  one-time build cost (first - second decode, medians): {firsts[1] - seconds[1]:.1f} ms")


if __name__ == "__main__":
    main()
