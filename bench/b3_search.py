"""Benchmark B3: the search API against a raw `_search` with the identical body, on the same index.

A query mix is drawn from the world's own values (plates in another spelling, national numbers with
dots, IBANs with spaces, phone numbers, names, names with a `type:` filter, narrative words). A server
that logs the body of each search (`speurder.search.body`) answers every query once: the raw arm's
requests are those logged bodies, index and parameters, verbatim, and the raw answer must hold the
same total and the same hits as the API's. The timing runs on a second server with the log off. Both
arms are closed loops over httpx keep-alive connections, one client per worker, at concurrency 1, 4
and 16, in blocks API, raw, raw, API; the headline is the ratio api/raw of p50 at concurrency 1.

    python -m bench.b3_search            # 1,000,000 records -> bench/results/b3.json
    python -m bench.b3_search --quick    # 20,000 records    -> bench/results/b3-quick.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from opensearchpy import OpenSearch

from bench.world import FULL, ApiServer, World, api_server, drop_world, ensure_world, world_prefix
from ingest.index.client import make_search_client
from ingest.settings import Settings

QUICK = 20_000
LEVELS = (1, 4, 16)
# Requests per arm and level, enough for a stable p99 in full mode.
REQUESTS = {"full": (400, 800, 800), "quick": (100, 160, 160)}
ORDER = ("api", "raw", "raw", "api")  # the blocks of each level: a drift in the machine touches both
MIX_SIZE = 50
# How many queries of each sort make the mix (before a sort the world has no values for is left out).
RECIPE = (
    ("plate_variant", 8),  # "1-ahy-589", "1.AHY.589", "1ahy589"
    ("plate_filter", 3),  # "kenteken:1-AHY-589"
    ("nrn_dots", 6),  # "86.04.11-836.86"
    ("iban_spaces", 5),  # "BE71 0961 2345 6769"
    ("phone", 4),  # "0487 66 23 22"
    ("name", 8),  # "Marie Lefebre"
    ("name_type", 6),  # "Marie Lefebre type:pv"
    ("words", 10),  # two or three words of one narrative
)
TARGET_P50_RATIO, TARGET_P50_ADDED_MS = 1.3, 5.0
RESULTS = Path(__file__).resolve().parent / "results"
Log = Callable[[str], None]


class BenchError(RuntimeError):
    """The benchmark could not measure what it claims (a non-200, arms that saw different things)."""


@dataclass(frozen=True)
class Query:
    kind: str
    q: str


@dataclass
class Captured:
    """One query of the mix: what the API answered and the body it sent, replayed raw."""

    kind: str
    q: str
    index: str
    params: dict[str, str]
    body: bytes  # the logged JSON, serialised once: the raw arm sends these very bytes
    api_total: int
    api_ids: list[str]
    raw_total: int = -1
    raw_ids: list[str] = field(default_factory=list)


# -- the mix -----------------------------------------------------------------------------------------
def _plate_variant(plate: str, i: int) -> str:
    if len(plate) == 7 and plate[0].isdigit() and plate[1:4].isalpha() and plate[4:].isdigit():
        return (f"{plate[0]}-{plate[1:4]}-{plate[4:]}".lower(), f"{plate[0]}.{plate[1:4]}.{plate[4:]}")[i % 2]
    return plate.lower()


def _plate_typed(plate: str) -> str:
    if len(plate) == 7 and plate[0].isdigit():
        return f"{plate[0]}-{plate[1:4]}-{plate[4:]}"
    return plate


def _nrn_dots(nrn: str) -> str:
    return f"{nrn[0:2]}.{nrn[2:4]}.{nrn[4:6]}-{nrn[6:9]}.{nrn[9:11]}"


def _iban_spaces(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _phone_national(phone: str) -> str:
    if phone.startswith("+32") and len(phone) == 12:  # a Belgian mobile: 0487 66 23 22
        digits = "0" + phone[3:]
        return f"{digits[:4]} {digits[4:6]} {digits[6:8]} {digits[8:]}"
    return phone


def query_mix(world: World, size: int = MIX_SIZE) -> list[Query]:
    """About `size` queries in the recipe's shares, from the world's values, in a seeded order."""
    makers: dict[str, tuple[list[Any], Callable[[Any, int], str]]] = {
        "plate_variant": (world.plates, _plate_variant),
        "plate_filter": (world.plates[::-1], lambda plate, _: f"kenteken:{_plate_typed(plate)}"),
        "nrn_dots": (world.nrns, lambda nrn, _: _nrn_dots(nrn)),
        "iban_spaces": (world.ibans, lambda iban, _: _iban_spaces(iban)),
        "phone": (world.phones, lambda phone, _: _phone_national(phone)),
        "name": (world.names, lambda name, _: name),
        "name_type": (world.named_kinds[::-1], lambda pair, _: f"{pair[0]} type:{pair[1]}"),
        "words": (world.phrases, lambda phrase, _: phrase),
    }
    queries = []
    for kind, count in RECIPE:
        values, make = makers[kind]
        queries += [Query(kind, make(values[i % len(values)], i)) for i in range(count) if values]
    # A sort the world lacks leaves its places to the others, so the mix keeps its size.
    extra = itertools.cycle(range(len(queries)))
    while queries and len(queries) < size:
        queries.append(queries[next(extra)])
    random.Random(world.seed).shuffle(queries)  # noqa: S311 - a reproducible order, not a secret
    return queries[:size]


# -- capture and check -------------------------------------------------------------------------------
def capture(server: ApiServer, raw: httpx.Client, mix: list[Query], log: Log) -> list[Captured]:
    """Each query once through the API; its logged body replayed raw must find the same hits."""
    captured = []
    for query in mix:
        seen = len(server.bodies())
        answer = server.client.get("/api/search", params={"q": query.q})
        if answer.status_code != 200:
            raise BenchError(
                f"{query.kind} {query.q!r}: the API answered {answer.status_code} {answer.text[:300]}"
            )
        logged = server.bodies()[seen:]
        if len(logged) != 1 or not logged[0].get("body") or not logged[0].get("index"):
            raise BenchError(f"{query.q!r}: expected one logged body with its index, found {logged}")
        page = answer.json()
        item = Captured(
            query.kind,
            query.q,
            logged[0]["index"],
            {key: str(value) for key, value in logged[0]["params"].items()},
            json.dumps(logged[0]["body"]).encode(),
            int(page["total"]),
            [hit["id"] for hit in page["hits"]],
        )
        found = raw_search(raw, item)
        item.raw_total = int(found["hits"]["total"]["value"])
        item.raw_ids = [hit["_id"] for hit in found["hits"]["hits"]]
        if (item.raw_total, item.raw_ids) != (item.api_total, item.api_ids):
            raise BenchError(
                f"{query.q!r}: the raw _search found {item.raw_total} {item.raw_ids[:3]}, "
                f"the API {item.api_total} {item.api_ids[:3]}"
            )
        captured.append(item)
    zero = Counter(item.kind for item in captured if item.api_total == 0)
    log(
        f"captured {len(captured)} bodies; raw and API agree on every total and hit list; "
        f"queries without hits: {dict(zero)}"
    )
    return captured


def raw_search(raw: httpx.Client, item: Captured) -> dict[str, Any]:
    answer = send_raw(raw, item)
    if answer.status_code != 200:
        raise BenchError(f"{item.q!r}: OpenSearch answered {answer.status_code} {answer.text[:300]}")
    return dict(answer.json())


def raw_client(settings: Settings) -> httpx.Client:
    """A keep-alive client to OpenSearch that asks for the answer's encoding as the app's client does:
    gzip only when `opensearch_compression` is on (httpx would ask for gzip by default)."""
    encoding = "gzip" if settings.opensearch_compression else "identity"
    return httpx.Client(base_url=settings.opensearch_url, timeout=60, headers={"Accept-Encoding": encoding})


def send_raw(raw: httpx.Client, item: Captured) -> httpx.Response:
    return raw.post(
        f"/{item.index}/_search",
        params=item.params,
        content=item.body,
        headers={"Content-Type": "application/json"},
    )


def send_api(api: httpx.Client, item: Captured) -> httpx.Response:
    return api.get("/api/search", params={"q": item.q})


# -- closed loops ------------------------------------------------------------------------------------
@dataclass
class Block:
    arm: str
    latencies: list[float]  # seconds, one per request
    seconds: float  # wall time of the block
    statuses: Counter[int]
    client_cpu_s: float
    opensearch_cpu_s: float
    server_cpu_s: float  # the API process; 0 for the raw arm


@dataclass
class Meters:
    """CPU of this process, of OpenSearch, and of the API process (Linux /proc)."""

    search: OpenSearch
    server_pid: int

    def read(self) -> tuple[float, float, float]:
        nodes = self.search.nodes.stats(metric="process")["nodes"].values()
        cluster = sum(node["process"]["cpu"]["total_in_millis"] for node in nodes) / 1000
        return time.process_time(), float(cluster), self.server_cpu()

    def server_cpu(self) -> float:
        try:
            fields = Path(f"/proc/{self.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def closed_loop(
    arm: str,
    clients: list[httpx.Client],
    send: Callable[[httpx.Client, Captured], httpx.Response],
    mix: list[Captured],
    requests: int,
    offset: int,
    meters: Meters,
) -> Block:
    """`requests` requests from len(clients) workers, each sending its next as soon as one returns."""
    counter = itertools.count()  # next() on it is atomic under the GIL: each request index once
    latencies: list[list[float]] = [[] for _ in clients]
    statuses: list[Counter[int]] = [Counter() for _ in clients]
    failures: list[str] = []
    ready = threading.Barrier(len(clients) + 1)

    def work(worker: int) -> None:
        client, mine, status = clients[worker], latencies[worker], statuses[worker]
        ready.wait()
        while (k := next(counter)) < requests:
            item = mix[(offset + k) % len(mix)]
            started = time.perf_counter()
            answer = send(client, item)  # httpx reads the whole body before returning
            mine.append(time.perf_counter() - started)
            status[answer.status_code] += 1
            if answer.status_code != 200 and len(failures) < 5:
                failures.append(f"{arm} {item.q!r}: {answer.status_code} {answer.text[:200]}")

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(len(clients))]
    for thread in threads:
        thread.start()
    before = meters.read()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    after = meters.read()
    if failures:
        raise BenchError("requests failed: " + "; ".join(failures))
    client_cpu, cluster_cpu, server_cpu = (b - a for a, b in zip(before, after, strict=True))
    return Block(
        arm,
        [latency for mine in latencies for latency in mine],
        seconds,
        sum(statuses, Counter()),
        client_cpu,
        cluster_cpu,
        server_cpu if arm == "api" else 0.0,
    )


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest rank: the value at or below which `share` of the requests fell."""
    rank = math.ceil(round(share * len(sorted_values), 6))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def figures(blocks: list[Block]) -> dict[str, Any]:
    """One arm at one level: its blocks pooled."""
    latencies = sorted(latency for block in blocks for latency in block.latencies)
    n, seconds = len(latencies), sum(block.seconds for block in blocks)
    statuses = sum((block.statuses for block in blocks), Counter())

    def per_request(key: str) -> float:
        return round(sum(float(getattr(block, key)) for block in blocks) * 1000 / n, 3)

    return {
        "requests": n,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 3),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 3),
        "max_ms": round(latencies[-1] * 1000, 3),
        "throughput_per_s": round(n / seconds, 1),
        "seconds": round(seconds, 3),
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "cpu_ms_per_request": {
            "client": per_request("client_cpu_s"),
            "opensearch": per_request("opensearch_cpu_s"),
            "api_server": per_request("server_cpu_s"),
        },
    }


def run_level(
    server: ApiServer,
    settings: Settings,
    mix: list[Captured],
    concurrency: int,
    requests: int,
    meters: Meters,
) -> dict[str, Any]:
    api = [server.session() for _ in range(concurrency)]
    raw = [raw_client(settings) for _ in range(concurrency)]
    try:
        for worker in range(concurrency):  # open each keep-alive connection before any timing
            for client, send in ((api[worker], send_api), (raw[worker], send_raw)):
                if send(client, mix[worker % len(mix)]).status_code != 200:
                    raise BenchError(f"a warm-up request at concurrency {concurrency} failed")
        blocks: dict[str, list[Block]] = {"api": [], "raw": []}
        per_block = -(-requests // (len(ORDER) // 2))
        for arm in ORDER:
            # The i-th block of each arm starts at the same place in the mix: both send the same queries.
            offset = len(blocks[arm]) * per_block
            clients, send = (api, send_api) if arm == "api" else (raw, send_raw)
            blocks[arm].append(closed_loop(arm, clients, send, mix, per_block, offset, meters))
    finally:
        for client in api + raw:
            client.close()
    arms = {arm: figures(found) for arm, found in blocks.items()}
    api_f, raw_f = arms["api"], arms["raw"]
    return {
        "concurrency": concurrency,
        "api": api_f,
        "raw": raw_f,
        "p50_ratio": round(api_f["p50_ms"] / raw_f["p50_ms"], 3),
        "p50_added_ms": round(api_f["p50_ms"] - raw_f["p50_ms"], 3),
        "p95_ratio": round(api_f["p95_ms"] / raw_f["p95_ms"], 3),
        "p99_ratio": round(api_f["p99_ms"] / raw_f["p99_ms"], 3),
        "throughput_ratio": round(api_f["throughput_per_s"] / raw_f["throughput_per_s"], 3),
    }


# -- the run -----------------------------------------------------------------------------------------
def run_b3(
    client: OpenSearch,
    settings: Settings,
    *,
    n: int,
    seed: int,
    prefix: str,
    profile: str,
    mix_size: int,
    levels: Sequence[int],
    requests: Sequence[int],
    log: Log,
) -> dict[str, Any]:
    world = ensure_world(client, prefix=prefix, n=n, seed=seed, log=log)
    mix = query_mix(world, mix_size)
    log(f"query mix: {len(mix)} queries, {dict(Counter(query.kind for query in mix))}")
    raw = raw_client(settings)
    try:
        with api_server(prefix, profile=profile, log_bodies=True, log=log) as server:
            captured = capture(server, raw, mix, log)
        # Timing runs on a server that logs no bodies: the log would add a serialisation to each search.
        with api_server(prefix, profile=profile, log=log) as server:
            for item in captured:  # the same answers from the timing server, and everything warm
                page = send_api(server.client, item).json()
                if (
                    page["total"] != item.api_total
                    or raw_search(raw, item)["hits"]["total"]["value"] != item.raw_total
                ):
                    raise BenchError(f"{item.q!r}: another total on the timing server")
            meters = Meters(client, server.pid)
            results = []
            for concurrency, count in zip(levels, requests, strict=True):
                level = run_level(server, settings, captured, concurrency, count, meters)
                results.append(level)
                api_f, raw_f = level["api"], level["raw"]
                log(
                    f"c={concurrency:2d}: api p50 {api_f['p50_ms']:.2f} ms, raw {raw_f['p50_ms']:.2f} ms "
                    f"(x{level['p50_ratio']:.2f}, +{level['p50_added_ms']:.2f} ms); "
                    f"{api_f['throughput_per_s']:.0f} vs {raw_f['throughput_per_s']:.0f} req/s"
                )
    finally:
        raw.close()
    return summary(world, profile, settings, captured, results)


def summary(
    world: World, profile: str, settings: Settings, captured: list[Captured], levels: list[dict[str, Any]]
) -> dict[str, Any]:
    first = levels[0]
    kinds = Counter(item.kind for item in captured)
    return {
        "benchmark": "B3",
        "records": world.n,
        "concurrency": first["concurrency"],  # of the headline figures
        "p50_ratio": first["p50_ratio"],
        "p50_added_ms": first["p50_added_ms"],
        "p95_ratio": first["p95_ratio"],
        "target": {
            "p50_ratio_at_most": TARGET_P50_RATIO,
            "or_p50_added_ms_at_most": TARGET_P50_ADDED_MS,
            "met": first["p50_ratio"] <= TARGET_P50_RATIO or first["p50_added_ms"] <= TARGET_P50_ADDED_MS,
        },
        "levels": levels,
        "order": list(ORDER),
        "profile": profile,
        # What both arms asked OpenSearch for: gzipped answers, or plain ones (the default).
        "opensearch_compression": settings.opensearch_compression,
        "queries": {
            "count": len(captured),
            "kinds": dict(sorted(kinds.items())),
            "same_results_checked": sum(item.raw_ids == item.api_ids for item in captured),
            "mix": [
                {
                    "kind": item.kind,
                    "q": item.q,
                    "index": item.index,
                    "api_total": item.api_total,
                    "raw_total": item.raw_total,
                    "body_bytes": len(item.body),
                }
                for item in captured
            ],
        },
        "world": {
            "prefix": world.prefix,
            "seed": world.seed,
            "reused": world.reused,
            "build_seconds": world.build_seconds,
            "registers": world.registers,
        },
        "environment": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "httpx": httpx.__version__,
            "api_workers": 1,  # `speurder web`: one uvicorn process
        },
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"B3 search: {result['records']:,} records, {result['queries']['count']} queries, "
        f"{result['profile']} profile, blocks {' '.join(result['order'])} per level",
        f"{'conc':>4s} {'arm':4s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'req/s':>8s} "
        f"{'requests':>9s}",
    ]
    for level in result["levels"]:
        for arm in ("api", "raw"):
            f = level[arm]
            lines.append(
                f"{level['concurrency']:4d} {arm:4s} {f['p50_ms']:8.2f} {f['p95_ms']:8.2f} "
                f"{f['p99_ms']:8.2f} {f['throughput_per_s']:8.1f} {f['requests']:9d}"
            )
        lines.append(
            f"{'':4s} api/raw: p50 x{level['p50_ratio']:.2f} (+{level['p50_added_ms']:.2f} ms), "
            f"p95 x{level['p95_ratio']:.2f}, p99 x{level['p99_ratio']:.2f}, "
            f"throughput x{level['throughput_ratio']:.2f}"
        )
    met = "met" if result["target"]["met"] else "NOT met"
    lines.append(
        f"headline (concurrency {result['concurrency']}): p50 x{result['p50_ratio']:.2f}, "
        f"+{result['p50_added_ms']:.2f} ms "
        f"(target <= {TARGET_P50_RATIO}x or <= {TARGET_P50_ADDED_MS:.0f} ms added): {met}"
    )
    return "\n".join(lines)


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.b3_search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} records instead of {FULL:,}")
    parser.add_argument("--records", type=int, help="N, instead of the mode's")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed (1)")
    parser.add_argument("--prefix", help="the world's index prefix (bench-world, bench-world<N>)")
    parser.add_argument("--drop-world", action="store_true", help="drop the world's indices afterwards")
    parser.add_argument("--levels", type=_ints, default=list(LEVELS), help="concurrency levels (1,4,16)")
    parser.add_argument("--requests", type=_ints, help="requests per arm at each level (400,800,800)")
    parser.add_argument("--mix", type=int, default=MIX_SIZE, help=f"queries in the mix ({MIX_SIZE})")
    parser.add_argument(
        "--profile",
        choices=("embedded", "production"),
        default="embedded",
        help="the app's databases: SQLite files (embedded, the default) or PostgreSQL (production)",
    )
    parser.add_argument("--out", type=Path, help="the JSON file (bench/results/b3.json, b3-quick.json)")
    args = parser.parse_args(argv)
    n = args.records or (QUICK if args.quick else FULL)
    mode = "quick" if args.quick else "full" if n == FULL else f"{n}"
    requests = args.requests or list(REQUESTS["quick" if args.quick else "full"])
    if len(requests) != len(args.levels):
        parser.error("--requests needs one number per level")
    out = args.out or RESULTS / ("b3.json" if mode == "full" else f"b3-{mode}.json")
    prefix = args.prefix or world_prefix(n)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    settings = Settings()
    client = make_search_client(settings)
    try:
        result = run_b3(
            client,
            settings,
            n=n,
            seed=args.seed,
            prefix=prefix,
            profile=args.profile,
            mix_size=args.mix,
            levels=args.levels,
            requests=requests,
            log=log,
        )
        result["mode"] = mode
        result["opensearch"] = client.info()["version"]["number"]
    finally:
        if args.drop_world:
            drop_world(client, prefix)
        client.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(result))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
