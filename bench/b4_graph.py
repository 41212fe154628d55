"""Benchmark B4: one- and two-hop graph expansions through the API against the raw OpenSearch requests
that compute the same answer.

The world is B3's (`bench.world`: N generated records through the ingest path, the real app in its own
process, a bench user holding every register at the highest clearance). The *api* arm is one GET of
`/api/graph/neighbours` (1 client round trip; the app then sends one search per hop and reports how many
in `round_trips`). The *raw* arm sends those searches itself over httpx with keep-alive: per hop one
`_search` of the records naming the frontier under the bench user's access filter (built by
`search_api.access.access_filter` from the user's entitlements in the app's database), with the frontier
`terms` aggregation, its capped neighbours and the records behind each edge; hop 2 expands the new nodes
of hop 1. Every timed pair is compared: nodes (hop, records, cut, label) and edges (count, record ids)
must be equal, or the run fails. Arms and hops run interleaved, alternating which arm goes first, closed
loop at concurrency 1, each timed request after clearing the shard request cache (see `timed`).

    python -m bench.b4_graph            # 1,000,000 records, 200 requests per arm and hop -> results/b4.json
    python -m bench.b4_graph --quick    # 20,000 records, 20 requests                -> results/b4-quick.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.world import ApiServer, World, api_server, ensure_world, world_prefix
from case_store.db import make_engine, make_sessionmaker
from case_store.users import entitlements
from ingest.index.client import make_search_client
from ingest.settings import Settings
from search_api.access import access_filter
from search_api.entities import label_of, names_by_entity
from search_api.graph import DEFAULT_FANOUT, EDGE_RECORDS, MAX_NODES, fanout_for

QUICK, FULL = 20_000, 1_000_000
RESULTS = Path(__file__).resolve().parent / "results"
START_KINDS = ("person", "vehicle", "phone", "account")
HUBS_PER_KIND = 2  # the busiest entities of each kind join the world's sample: the fan-out cap at work
# The records' sort and fields as the graph asks for them (search_api.entities NEWEST_FIRST, FACT_FIELDS),
# written out: the raw arm is what a client of OpenSearch would send, the comparison catches any drift.
NEWEST_FIRST = [{"occurred_at": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
FACT_FIELDS = ["persons", "organisations", "vehicles", "phones", "ibans", "addresses"]
ARMS = ("api", "raw")
HOPS = (1, 2)
Log = Callable[[str], None]
# The answer both arms must agree on: nodes by id (kind, label, hop, records, cut), edges by their two
# ends (count, record ids, latest first), and whether anything was cut.
NodeKey = tuple[str, str, int, int | None, bool]
EdgeKey = tuple[int, tuple[str, ...]]


class BenchError(RuntimeError):
    """The arms disagree, or the world cannot give what the benchmark needs."""


@dataclass
class Answer:
    nodes: dict[str, NodeKey]
    edges: dict[tuple[str, str], EdgeKey]
    truncated: bool
    opensearch_round_trips: int


@dataclass
class Start:
    entity: str
    origin: str  # "sample": drawn from World.entity_ids; "hub": the busiest of its kind
    records: int = 0  # visible records naming it
    neighbours: int = 0  # shown at one hop (at most the fan-out)
    truncated: bool = False


@dataclass
class Timing:
    """The requests of one arm at one hop."""

    ms: list[float] = field(default_factory=list)
    client_round_trips: list[int] = field(default_factory=list)
    opensearch_round_trips: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": len(self.ms),
            "p50_ms": round(percentile(self.ms, 50), 2),
            "p95_ms": round(percentile(self.ms, 95), 2),
            "mean_ms": round(statistics.fmean(self.ms), 2),
            "min_ms": round(min(self.ms), 2),
            "max_ms": round(max(self.ms), 2),
            "client_round_trips": dict(sorted(Counter(self.client_round_trips).items())),
            "opensearch_round_trips": dict(sorted(Counter(self.opensearch_round_trips).items())),
        }


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile, linear between the closest ranks (`statistics.quantiles`, inclusive)."""
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[q - 1])


# -- the raw arm -------------------------------------------------------------------------------------
class RawGraph:
    """The graph from OpenSearch directly: one `_search` per hop, the answer assembled here."""

    def __init__(self, http: httpx.Client, index: str, access: dict[str, Any], fanout: int) -> None:
        self.http = http
        self.index = index
        self.access = access
        self.fanout = fanout

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(
            f"/{self.index}/_search", params={"allow_partial_search_results": "false"}, json=body
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def hop_body(self, frontier: list[str], fanout: int) -> dict[str, Any]:
        """Records naming any frontier entity the user may see; per frontier entity, its neighbours
        (the fan-out, one more for itself, one more to know it was cut) with the latest records behind
        each edge, and its own latest record (a label's source)."""
        latest = {"top_hits": {"size": EDGE_RECORDS, "sort": NEWEST_FIRST, "_source": FACT_FIELDS}}
        return {
            "size": 0,
            "query": {"bool": {"filter": [self.access, {"terms": {"entity_ids": frontier}}]}},
            "aggs": {
                "nodes": {
                    "terms": {"field": "entity_ids", "include": frontier, "size": len(frontier)},
                    "aggs": {
                        "neighbours": {
                            "terms": {
                                "field": "entity_ids",
                                "size": fanout + 2,
                                "shard_size": max(100, 4 * fanout),
                            },
                            "aggs": {"latest": latest},
                        },
                        "one": {"top_hits": {"size": 1, "sort": NEWEST_FIRST, "_source": FACT_FIELDS}},
                    },
                }
            },
        }

    def neighbours(self, entity: str, hops: int) -> tuple[Answer | None, list[dict[str, Any]]]:
        """The answer of `/api/graph/neighbours` without labels, and the record parts labels are read
        from (in the order the app reads them); None if no visible record names the entity."""
        nodes: dict[str, list[Any]] = {entity: [0, None, False]}  # hop, records, cut
        edges: dict[tuple[str, str], EdgeKey] = {}
        sources: list[dict[str, Any]] = []
        truncated, trips, frontier = False, 0, [entity]
        for hop in range(1, hops + 1):
            trips += 1
            fanout = fanout_for(frontier, self.fanout)  # the app's own bound on one search
            buckets = self.search(self.hop_body(frontier, fanout))["aggregations"]["nodes"]["buckets"]
            found: dict[str, tuple[int, list[dict[str, Any]], bool]] = {}
            for bucket in buckets:
                sources += [hit["_source"] for hit in bucket["one"]["hits"]["hits"]]
                others = [b for b in bucket["neighbours"]["buckets"] if b["key"] != bucket["key"]]
                for other in others[:fanout]:
                    sources += [hit["_source"] for hit in other["latest"]["hits"]["hits"]]
                cut = len(others) > fanout or bucket["neighbours"].get("sum_other_doc_count", 0) > 0
                found[bucket["key"]] = (bucket["doc_count"], others[:fanout], cut)
            if hop == 1 and entity not in found:
                return None, sources
            following: list[str] = []
            for source in frontier:
                if source not in found:
                    continue
                records, others, cut = found[source]
                nodes[source][1:] = [records, cut]
                truncated |= cut
                for other in others:
                    key = other["key"]
                    if key not in nodes:
                        if len(nodes) >= MAX_NODES:
                            truncated = True
                            continue
                        nodes[key] = [hop, None, False]
                        following.append(key)
                    ids = tuple(hit["_id"] for hit in other["latest"]["hits"]["hits"])
                    edges.setdefault(_pair(source, key), (other["doc_count"], ids))
            frontier = following
            if not frontier:
                break
        shown = {
            key: (key.split(":", 1)[0], "", hop, records, cut) for key, (hop, records, cut) in nodes.items()
        }
        return Answer(shown, edges, truncated, trips), sources


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def labelled(answer: Answer, sources: list[dict[str, Any]]) -> Answer:
    """The raw answer with the labels the app would give (its own functions, outside any timing: the
    check that the raw arm fetched what labels are made of)."""
    names = names_by_entity(sources)
    nodes = {
        key: (kind, label_of(key, names.get(key)), hop, records, cut)
        for key, (kind, _, hop, records, cut) in answer.nodes.items()
    }
    return Answer(nodes, answer.edges, answer.truncated, answer.opensearch_round_trips)


def api_answer(body: dict[str, Any]) -> Answer:
    nodes = {
        node["id"]: (node["kind"], node["label"], node["hop"], node["records"], node["truncated"])
        for node in body["nodes"]
    }
    if len(nodes) != len(body["nodes"]):
        raise BenchError(f"the api listed a node twice: {sorted(n['id'] for n in body['nodes'])[:5]}")
    edges = {
        _pair(edge["source"], edge["target"]): (edge["count"], tuple(edge["records"]))
        for edge in body["edges"]
    }
    if len(edges) != len(body["edges"]):
        raise BenchError("the api listed an edge twice")
    return Answer(nodes, edges, body["truncated"], body["round_trips"])


def differences(api: Answer | None, raw: Answer | None) -> list[str]:
    """What differs between the two answers, in words (empty: the same graph)."""
    if api is None or raw is None:
        return [] if api is raw else [f"api found {'nothing' if api is None else 'a graph'}, raw the other"]
    said = []
    if api.nodes.keys() != raw.nodes.keys():
        said.append(f"nodes only api {sorted(api.nodes.keys() - raw.nodes.keys())[:3]}")
        said.append(f"nodes only raw {sorted(raw.nodes.keys() - api.nodes.keys())[:3]}")
    said += [f"node {k}: api {api.nodes[k]} raw {raw.nodes[k]}" for k in api.nodes.keys() & raw.nodes.keys()
             if api.nodes[k] != raw.nodes[k]][:3]  # fmt: skip
    if api.edges.keys() != raw.edges.keys():
        said.append(f"edges only api {sorted(api.edges.keys() - raw.edges.keys())[:3]}")
        said.append(f"edges only raw {sorted(raw.edges.keys() - api.edges.keys())[:3]}")
    said += [f"edge {k}: api {api.edges[k]} raw {raw.edges[k]}" for k in api.edges.keys() & raw.edges.keys()
             if api.edges[k] != raw.edges[k]][:3]  # fmt: skip
    if api.truncated != raw.truncated:
        said.append(f"truncated: api {api.truncated} raw {raw.truncated}")
    if api.opensearch_round_trips != raw.opensearch_round_trips:
        said.append(f"searches: api {api.opensearch_round_trips} raw {raw.opensearch_round_trips}")
    return said


# -- the benchmark -----------------------------------------------------------------------------------
@dataclass
class B4:
    server: ApiServer
    raw: RawGraph
    opensearch: httpx.Client
    fanout: int
    timings: dict[tuple[str, int], Timing] = field(default_factory=dict)
    checked: Counter[int] = field(default_factory=Counter)  # timed pairs compared, per hop
    sizes: dict[int, list[int]] = field(default_factory=dict)  # nodes per answer, per hop

    def api(self, entity: str, hops: int) -> tuple[float, Answer | None]:
        params: dict[str, str | int] = {"entity": entity, "hops": hops, "max_fanout": self.fanout}
        started = time.perf_counter()
        response = self.server.client.get("/api/graph/neighbours", params=params)
        body = response.json()
        ms = (time.perf_counter() - started) * 1000
        if response.status_code == 404:
            return ms, None
        if response.status_code != 200:
            raise BenchError(f"api {entity} hops {hops}: {response.status_code} {response.text[:300]}")
        return ms, api_answer(body)

    def raw_arm(self, entity: str, hops: int) -> tuple[float, Answer | None, list[dict[str, Any]]]:
        started = time.perf_counter()
        answer, sources = self.raw.neighbours(entity, hops)
        return (time.perf_counter() - started) * 1000, answer, sources

    def timed(self, arm: str, entity: str, hops: int) -> tuple[Answer | None, list[dict[str, Any]]]:
        # OpenSearch keeps whole answers of `size: 0` searches per shard (the request cache) until the
        # next refresh; both arms send the same searches, so whichever ran second would be served from
        # the first one's entry. Each timed request starts with it empty: an analyst opens new entities.
        self.opensearch.post(f"/{self.raw.index}/_cache/clear", params={"request": "true"}).raise_for_status()
        if arm == "api":
            ms, answer = self.api(entity, hops)
            sources: list[dict[str, Any]] = []
            trips = (1, answer.opensearch_round_trips if answer else 1)
        else:
            ms, answer, sources = self.raw_arm(entity, hops)
            searches = answer.opensearch_round_trips if answer else 1
            trips = (searches, searches)
        timing = self.timings.setdefault((arm, hops), Timing())
        timing.ms.append(ms)
        timing.client_round_trips.append(trips[0])
        timing.opensearch_round_trips.append(trips[1])
        return answer, sources

    def pair(self, entity: str, hops: int, order: Sequence[str]) -> None:
        """Both arms on one entity, in `order`; their answers must be the same graph."""
        answers: dict[str, Answer | None] = {}
        sources: list[dict[str, Any]] = []
        for arm in order:
            answer, seen = self.timed(arm, entity, hops)
            answers[arm] = answer
            sources = seen or sources
        raw = answers["raw"]
        if raw is not None:
            raw = labelled(raw, sources)
        said = differences(answers["api"], raw)
        if said:
            raise BenchError(f"{entity}, {hops} hop(s): the arms disagree: " + "; ".join(said))
        self.checked[hops] += 1
        self.sizes.setdefault(hops, []).append(len(raw.nodes) if raw else 0)


def starts_of(world: World, raw: RawGraph, log: Log) -> list[Start]:
    """The world's sampled entities of the four kinds (typical: mostly sparse) and the busiest
    `HUBS_PER_KIND` of each kind (well connected, cut by the fan-out), each with a neighbour at least,
    measured at one hop, then ordered so that well connected and sparse ones alternate."""
    picked = [Start(e, "sample") for e in world.entity_ids if e.split(":", 1)[0] in START_KINDS]
    aggs = {
        kind: {"terms": {"field": "entity_ids", "include": f"{kind}:.*", "size": HUBS_PER_KIND}}
        for kind in START_KINDS
    }
    body = {"size": 0, "query": {"bool": {"filter": [raw.access]}}, "aggs": aggs}
    busiest = raw.search(body)["aggregations"]
    known = {start.entity for start in picked}
    picked += [
        Start(bucket["key"], "hub")
        for kind in START_KINDS
        for bucket in busiest[kind]["buckets"]
        if bucket["key"] not in known
    ]
    for start in picked:
        answer, _ = raw.neighbours(start.entity, 1)
        if answer is not None:
            start.records = answer.nodes[start.entity][3] or 0
            start.neighbours, start.truncated = len(answer.nodes) - 1, answer.truncated
    # An entity alone on its records (most plates: a camera read names nothing else) has no second
    # hop; it would time hop 1 twice under the name of hop 2.
    alone = sum(1 for start in picked if not start.neighbours)
    picked = [start for start in picked if start.neighbours]
    if not picked:
        raise BenchError(f"no entity of {', '.join(START_KINDS)} with a neighbour in {world.prefix}")
    # Well connected and sparse alternate, so any run of requests holds both.
    picked.sort(key=lambda start: (-start.neighbours, -start.records, start.entity))
    mixed = [picked[i // 2] if i % 2 == 0 else picked[-1 - i // 2] for i in range(len(picked))]
    spread = [start.neighbours for start in mixed]
    log(f"{len(mixed)} start entities ({alone} left out: no neighbour), one hop {min(spread)}..{max(spread)}")
    return mixed


def run_b4(
    world: World,
    server: ApiServer,
    opensearch_url: str,
    *,
    requests: int,
    warmup: int,
    fanout: int,
    log: Log,
) -> dict[str, Any]:
    with httpx.Client(base_url=opensearch_url, timeout=60) as http:
        access = bench_access(server)
        raw = RawGraph(http, world.prefix, access, fanout)
        starts = starts_of(world, raw, log)
        bench = B4(server, raw, http, fanout)
        for i in range(warmup):
            for hops in HOPS:
                start = starts[i % len(starts)].entity
                server.client.get(
                    "/api/graph/neighbours", params={"entity": start, "hops": hops, "max_fanout": fanout}
                )
                raw.neighbours(start, hops)
        started = time.perf_counter()
        for i in range(requests):
            start = starts[i % len(starts)].entity
            for hops in HOPS:
                bench.pair(start, hops, ARMS if (i + hops) % 2 else ARMS[::-1])
            if (i + 1) % max(1, requests // 10) == 0:
                log(f"{i + 1}/{requests} pairs per hop ({time.perf_counter() - started:.0f} s)")
        return summary(world, server, bench, starts, access, requests, warmup)


def bench_access(server: ApiServer) -> dict[str, Any]:
    """The access filter the app puts in every graph search for the bench user: the project's own
    function, on the user's entitlements as the app reads them from its database."""
    engine = make_engine(server.settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            return access_filter(entitlements(session, server.user))
    finally:
        engine.dispose()


def summary(
    world: World,
    server: ApiServer,
    bench: B4,
    starts: list[Start],
    access: dict[str, Any],
    requests: int,
    warmup: int,
) -> dict[str, Any]:
    arms = {arm: {f"hop{h}": bench.timings[arm, h].summary() for h in HOPS} for arm in ARMS}

    def p(arm: str, hops: int, q: int) -> float:
        return float(arms[arm][f"hop{hops}"][f"p{q}_ms"])

    def ratio(hops: int, q: int) -> float:
        return round(p("api", hops, q) / p("raw", hops, q), 3)

    return {
        "benchmark": "B4",
        "records": world.n,
        "hop1_p50_ms": p("api", 1, 50),
        "hop1_p95_ms": p("api", 1, 95),
        "hop2_p50_ms": p("api", 2, 50),
        "hop2_p95_ms": p("api", 2, 95),
        "raw_hop1_p50_ms": p("raw", 1, 50),
        "raw_hop1_p95_ms": p("raw", 1, 95),
        "raw_hop2_p50_ms": p("raw", 2, 50),
        "raw_hop2_p95_ms": p("raw", 2, 95),
        "ratio_p50": ratio(1, 50),  # hop 1, api/raw
        "ratio_p50_hop2": ratio(2, 50),
        "ratio_p95": ratio(1, 95),
        "ratio_p95_hop2": ratio(2, 95),
        "arms": arms,
        "requests_per_arm_and_hop": requests,
        "warmup": warmup,
        "fanout": bench.fanout,
        "same_answers_checked": {f"hop{h}": bench.checked[h] for h in HOPS},
        "nodes_per_answer": {
            f"hop{h}": {"median": statistics.median(sizes), "max": max(sizes)}
            for h, sizes in bench.sizes.items()
        },
        "starts": [vars(start) for start in starts],
        "access_filter": access,
        "world": {"prefix": world.prefix, "seed": world.seed, "reused": world.reused},
        "app": {
            "profile": "production"
            if server.settings.resolved_database_url.startswith("postgresql")
            else "embedded",
            "opensearch_client_compression": server.settings.opensearch_compression,
        },
        "environment": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"B4 graph: {result['records']:,} records, {result['requests_per_arm_and_hop']} requests per arm "
        f"and hop, fan-out {result['fanout']}, {len(result['starts'])} start entities",
        f"{'hop':4s} {'arm':4s} {'p50 ms':>8s} {'p95 ms':>8s} {'client trips':>13s} {'searches':>9s}",
    ]
    for hops in HOPS:
        for arm in ARMS:
            figures = result["arms"][arm][f"hop{hops}"]
            client = "/".join(str(k) for k in figures["client_round_trips"])
            searches = "/".join(str(k) for k in figures["opensearch_round_trips"])
            p50, p95 = figures["p50_ms"], figures["p95_ms"]
            lines.append(f"{hops:<4d} {arm:4s} {p50:8.1f} {p95:8.1f} {client:>13s} {searches:>9s}")
    lines.append(
        f"ratio api/raw p50: hop 1 {result['ratio_p50']:.2f}, hop 2 {result['ratio_p50_hop2']:.2f}; "
        f"p95: hop 1 {result['ratio_p95']:.2f}, hop 2 {result['ratio_p95_hop2']:.2f}"
    )
    checked = result["same_answers_checked"]
    lines.append(f"same graph from both arms: {checked['hop1']} + {checked['hop2']} pairs compared")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.b4_graph", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} records instead of {FULL:,}")
    parser.add_argument("--records", type=int, help="N, instead of the mode's")
    parser.add_argument("--requests", type=int, help="timed requests per arm and hop (200; quick 20)")
    parser.add_argument("--warmup", type=int, help="untimed requests per arm and hop first (10; quick 2)")
    parser.add_argument("--fanout", type=int, default=DEFAULT_FANOUT, help=f"max_fanout ({DEFAULT_FANOUT})")
    parser.add_argument("--prefix", help="the world's index prefix (bench.world.world_prefix(N))")
    parser.add_argument("--profile", default="production", choices=("production", "embedded"),
                        help="the app's databases: PostgreSQL (production, default) or SQLite")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed (1)")
    parser.add_argument("--out", type=Path, help="the JSON file (bench/results/b4.json, b4-quick.json)")
    args = parser.parse_args(argv)
    n = args.records or (QUICK if args.quick else FULL)
    mode = "quick" if args.quick else "full" if n == FULL else f"{n}"
    out = args.out or RESULTS / ("b4.json" if mode == "full" else f"b4-{mode}.json")
    requests = args.requests or (20 if args.quick else 200)
    warmup = args.warmup if args.warmup is not None else (2 if args.quick else 10)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    settings = Settings()
    client = make_search_client(settings)
    try:
        world = ensure_world(client, prefix=args.prefix or world_prefix(n), n=n, seed=args.seed, log=log)
        with api_server(world.prefix, profile=args.profile, log=log) as server:
            result = run_b4(
                world,
                server,
                settings.opensearch_url,
                requests=requests,
                warmup=warmup,
                fanout=args.fanout,
                log=log,
            )
        result["mode"] = mode
        result["opensearch"] = client.info()["version"]["number"]
    finally:
        client.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
