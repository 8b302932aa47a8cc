"""Benchmark: one generated method call beside the same raw httpx request plus ``json()``.

    .venv/bin/python bench/call.py                      # 5 sync and 5 async client processes
    .venv/bin/python bench/call.py --rounds 200 --batch 10 --processes 5
    .venv/bin/python bench/call.py --profile            # also cProfile the generated sync call

``specs/banking.yaml`` is generated into a temp dir (package ``banking_client``). A loopback
HTTP/1.1 server runs in its own process (so its CPU time never holds the client's GIL): an
asyncio protocol answering ``GET /accounts/a1`` with a fixed JSON ``Account`` and keep-alive.

Each client process (fresh, .pyc files written by a warm-up process first) times
``client.accounts.get_account("a1")`` on ``AuthenticatedClient(base_url, session=Session("tok"))``
against the baseline ``httpx.Client().get(url, headers={Authorization: Bearer tok, Accept: <the
same Accept the generated client sends>}).json()``. After a warm-up the two alternate in small
batches (``--rounds`` x ``--batch`` calls each; which goes first alternates too) so drift
cancels. Reported: per-call microseconds (min and median over the batches) and the paired ratio
(median over rounds of generated/raw within the round); the async client beside
``httpx.AsyncClient`` the same way. The sync process then times the steps of the generated call
apart, without a profiler (so without its overhead), to show what the client does beyond httpx;
``--profile`` adds a cProfile of the generated call. Design target (DESIGN.md section 7): the
generated call at most 1.05x the raw request plus ``json()``. Nothing asserts: benchmarks are
not tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BANKING, child_env, generate_package, machine, min_median, run_child, table  # noqa: E402

PACKAGE = "banking_client"
TARGET = 1.05
ACCOUNT = {
    "id": "a1",
    "name": "Everyday checking",
    "productType": "checking",
    "balance": {"value": "1250.75", "currency": "USD"},
    "openedOn": "2021-04-01",
    "maskedNumber": "********4321",
}


# ---------------------------------------------------------------- server process


def serve() -> None:
    body = json.dumps(ACCOUNT).encode()
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    missing = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport, self.buffer = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while (end := self.buffer.find(b"\r\n\r\n")) >= 0:  # requests carry no body here
                head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
                self.transport.write(ok if head.startswith(b"GET /accounts/a1 ") else missing)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


# ---------------------------------------------------------------- client processes


def alternate(rounds: int, batch: int, generated: Callable[[], Any], raw: Callable[[], Any]) -> dict[str, list[float]]:
    """Per-call microseconds of each batch, the two alternating (and alternating who goes first)."""
    times: dict[str, list[float]] = {"generated": [], "raw": []}
    for index in range(rounds):
        pair = [("generated", generated), ("raw", raw)]
        for name, call in pair if index % 2 == 0 else pair[::-1]:
            started = time.perf_counter()
            for _ in range(batch):
                call()
            times[name].append((time.perf_counter() - started) / batch * 1e6)
    return times


async def alternate_async(rounds: int, batch: int, generated: Callable[[], Any], raw: Callable[[], Any]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"generated": [], "raw": []}
    for index in range(rounds):
        pair = [("generated", generated), ("raw", raw)]
        for name, call in pair if index % 2 == 0 else pair[::-1]:
            started = time.perf_counter()
            for _ in range(batch):
                await call()
            times[name].append((time.perf_counter() - started) / batch * 1e6)
    return times


def per_call(function: Callable[[], Any], number: int = 2000, repeat: int = 7) -> float:
    """Microseconds per call of ``function``: the best of ``repeat`` timings of ``number`` calls."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, time.perf_counter() - started)
    return best / number * 1e6


def pieces(client: Any, raw_http: Any, url: str, headers: dict[str, str]) -> list[tuple[str, float, float | None]]:
    """The steps of the generated call timed apart, each beside its raw-httpx counterpart if any."""
    from banking_client.api.accounts import GET_ACCOUNT as op
    from banking_client import models

    core = client._core
    prepared = core.prepare(op, ("a1",), None)
    request = core.build(core.http, prepared, "tok")
    response = core._send(request)  # the network round trip itself is the same httpx code on both sides
    content = response.content
    return [
        ("route(op): the security alternative", per_call(lambda: core.route(op)), None),
        ("prepare(op, args, body)", per_call(lambda: core.prepare(op, ("a1",), None)), None),
        ("session.access_token()", per_call(core.session.access_token), None),
        ("build(...) vs http.build_request(...)", per_call(lambda: core.build(core.http, prepared, "tok")),
         per_call(lambda: raw_http.build_request("GET", url, headers=headers))),
        ("redirect_request(200 response)", per_call(lambda: core.redirect_request(response, request)), None),
        ("parse_body(op, response) vs response.json()", per_call(lambda: core.parse_body(op, response)), per_call(response.json)),
        ("  of which Account.model_validate_json vs json.loads", per_call(lambda: models.Account.model_validate_json(content)),
         per_call(lambda: json.loads(content))),
    ]


def function_calls(call: Callable[[], Any], number: int = 200) -> float:
    """Python function calls per call of ``call`` (cProfile's count: deterministic, unlike timings)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(lambda: [call() for _ in range(number)])
    return pstats.Stats(profiler).total_calls / number  # type: ignore[attr-defined, no-any-return]


def client_main(mode: str, port: int, rounds: int, batch: int, profile: bool) -> None:
    import httpx
    from banking_client import AsyncAuthenticatedClient, AuthenticatedClient, Session
    from banking_client.api.accounts import GET_ACCOUNT

    base = f"http://127.0.0.1:{port}"
    url = base + "/accounts/a1"
    headers = {"Authorization": "Bearer tok", "Accept": GET_ACCOUNT.accept or "application/json"}
    result: dict[str, Any] = {"mode": mode}
    if mode == "sync":
        client = AuthenticatedClient(base, session=Session("tok"))
        raw_http = httpx.Client(timeout=30.0)
        generated = lambda: client.accounts.get_account("a1")  # noqa: E731
        raw = lambda: raw_http.get(url, headers=headers).json()  # noqa: E731
        assert generated().id == raw()["id"] == "a1"
        alternate(max(rounds // 4, 2), batch, generated, raw)  # warm-up
        result["times"] = alternate(rounds, batch, generated, raw)
        result["pieces"] = pieces(client, raw_http, url, headers)
        result["function_calls"] = [function_calls(generated), function_calls(raw)]
        if profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(lambda: [generated() for _ in range(rounds * batch)])
            stats = pstats.Stats(profiler, stream=sys.stderr)
            print(f"cProfile of {rounds * batch} generated calls: the generated package's own functions "
                  "(cumulative), then the top functions overall (own time)", file=sys.stderr)
            stats.sort_stats("cumulative").print_stats(r"banking_client|pydantic", 15)
            stats.sort_stats("tottime").print_stats(15)
    else:

        async def run() -> dict[str, list[float]]:
            client = AsyncAuthenticatedClient(base, session=Session("tok"))
            raw_http = httpx.AsyncClient(timeout=30.0)
            generated = lambda: client.accounts.get_account("a1")  # noqa: E731

            async def raw() -> Any:
                return (await raw_http.get(url, headers=headers)).json()

            assert (await generated()).id == (await raw())["id"] == "a1"
            await alternate_async(max(rounds // 4, 2), batch, generated, raw)
            return await alternate_async(rounds, batch, generated, raw)

        result["times"] = asyncio.run(run())
    print("BENCH " + json.dumps(result))


# ---------------------------------------------------------------- parent


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100, help="alternating batches per client process")
    parser.add_argument("--batch", type=int, default=20, help="calls per batch")
    parser.add_argument("--processes", type=int, default=5, help="client processes per mode (sync, async)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the generated sync call (tottime)")
    options = parser.parse_args()
    print(f"{BANKING}; {machine()}")
    with tempfile.TemporaryDirectory(prefix="accessgen-call-") as tmp_name:
        tmp = Path(tmp_name)
        pycache = tmp / "pycache"
        generate_package(BANKING, tmp / "out", PACKAGE, tmp / "cache", pycache)
        server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            env = child_env(pycache, PYTHONPATH=str(tmp / "out"))
            command = [sys.executable, __file__, "--client"]
            run_child([*command, "sync", str(port), "2", "10", "0"], env=env)  # warm-up: leaves .pyc files
            results = []
            for index in range(options.processes):
                for mode in ("sync", "async"):
                    profile = "1" if options.profile and mode == "sync" and index == 0 else "0"
                    run = run_child([*command, mode, str(port), str(options.rounds), str(options.batch), profile], env=env)
                    results.append(json.loads(run.stdout.split("BENCH ", 1)[1]))
                    if profile == "1":
                        print(run.stderr)
        finally:
            server.terminate()
            server.wait()
    report(results, options.rounds * options.batch)


def report(results: list[dict[str, Any]], calls: int) -> None:
    rows: list[list[str]] = []
    ratios: dict[str, list[float]] = {"sync": [], "async": []}
    for number, result in enumerate(results):
        times = result["times"]
        generated, raw = (min_median(times[k]) for k in ("generated", "raw"))
        paired = statistics.median(g / r for g, r in zip(times["generated"], times["raw"]))
        ratios[result["mode"]].append(paired)
        rows.append([f"{result['mode']} #{number // 2 + 1}", f"{generated[0]:.1f}", f"{generated[1]:.1f}",
                     f"{raw[0]:.1f}", f"{raw[1]:.1f}", f"{generated[1] - raw[1]:+.1f}",
                     f"{generated[0] / raw[0]:.3f}x", f"{paired:.3f}x"])
    print(f"\n{calls} calls of each per process, per-call microseconds over batches (min / median):\n")
    print(table(["process", "generated min", "generated median", "raw min", "raw median", "median difference",
                 "ratio of mins", "paired ratio"], rows))
    print("\n  paired ratio: median over rounds of (generated batch / raw batch of the same round)")
    for mode, values in ratios.items():
        print(f"  {mode}: median paired ratio over processes {statistics.median(values):.3f}x "
              f"(processes from {min(values):.3f}x to {max(values):.3f}x; target <= {TARGET}x)")
    pieces = [r["pieces"] for r in results if "pieces" in r]
    if pieces:
        print("\nPieces of the generated sync call, microseconds per call (best of 7; median over processes):\n")
        rows = []
        for index, (label, _, raw_value) in enumerate(pieces[0]):
            mine = statistics.median(p[index][1] for p in pieces)
            theirs = statistics.median(p[index][2] for p in pieces) if raw_value is not None else None
            rows.append([label, f"{mine:.1f}", "" if theirs is None else f"{theirs:.1f}",
                         f"{mine - (theirs or 0):+.1f}"])
        extra = sum(float(row[3]) for row in rows if not row[0].startswith(" "))
        print(table(["step", "generated", "raw httpx", "extra"], rows))
        print(f"\n  the steps' extras add up to {extra:+.1f} µs per call (plus the frames of the generated"
              " method, call and _send_prepared);\n  the network round trip (http.send) is the same httpx code on both sides")
        calls_generated, calls_raw = [r["function_calls"] for r in results if "function_calls" in r][0]
        print(f"\n  Python function calls per request (cProfile count, not a timing): generated {calls_generated:.0f}, "
              f"raw httpx {calls_raw:.0f} ({calls_generated - calls_raw:+.0f})")


if __name__ == "__main__":
    main()
