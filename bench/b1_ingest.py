"""Benchmark B1: register exports through the project's ingest path against the raw bulk helpers.

The seeded generator writes N records, one export per register. The project arm runs `ingest_file` on
every export into a fresh prefix: reading, mapping, validation and bulk writing, all timed. The raw arm
indexes the same final documents (made once, before any timing, by `parse_file`, `record.document()` and
`target_index`, with the same `recorded_at`) through opensearch-py's fastest helper on this machine: a
short sweep of `streaming_bulk` and `parallel_bulk` over chunk sizes and threads picks it. Both arms
create their indices from the same templates (`ensure_indices`), and an arm is done when `_count` is N
after a refresh. The arms run in interleaved pairs, alternating which goes first; the headline is the
median of the pairs' throughput ratios project/raw.

    python -m bench.b1_ingest            # 1,000,000 records -> bench/results/b1.json
    python -m bench.b1_ingest --quick    # 50,000 records    -> bench/results/b1-quick.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import parallel_bulk, streaming_bulk

from ingest.generate import generate
from ingest.index.admin import drop_all, ensure_indices
from ingest.index.bulk import target_index
from ingest.index.client import make_search_client
from ingest.settings import Settings
from ingest.sources import run
from ingest.sources.mapping import Mapping, load_mapping, mapping_path
from ingest.sources.run import IngestReport, ingest_file, parse_file

QUICK, FULL = 50_000, 1_000_000
RESULTS = Path(__file__).resolve().parent / "results"
# The raw helpers tried before the pairs: (helper, chunk size, threads; 0 for streaming_bulk).
SWEEP = [("streaming_bulk", chunk, 0) for chunk in (500, 1000, 2000)] + [
    ("parallel_bulk", chunk, threads) for chunk in (500, 1000, 2000) for threads in (1, 2)
]
Action = dict[str, Any]
Export = tuple[Mapping, Path]


class BenchError(RuntimeError):
    """The benchmark could not measure what it claims (a count short of N, a refused record)."""


@dataclass
class Arm:
    """One timed run of one arm: done when `_count` is N after a refresh."""

    arm: str
    seconds: float
    docs_per_s: float
    count: int
    client_cpu_s: float  # this process, every thread (time.process_time)
    opensearch_cpu_s: float  # the cluster's processes (_nodes/stats/process)
    store_bytes: int  # primaries, after the refresh
    load_before: float = 0.0  # the machine's 1-minute load average as the arm starts and ends: how quiet
    load_after: float = 0.0  # it was (OpenSearch and this process alone make about 2 on two cores)


@dataclass
class Raw:
    helper: str
    chunk_size: int
    threads: int  # 0: streaming_bulk
    docs_per_s: float = 0.0


@dataclass
class B1:
    client: OpenSearch
    exports: list[Export]
    now: datetime  # every record's `recorded_at`, in both arms: the same documents
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    actions: list[Action] = field(default_factory=list)
    registers: Counter[str] = field(default_factory=Counter)
    checked: int = 0  # documents of the project arm compared with the raw arm's

    @property
    def kinds(self) -> list[str]:
        return sorted({kind for mapping, _ in self.exports for kind in mapping.kinds})

    def prefix(self, arm: str) -> str:
        return f"bench-b1-{self.tag}-{arm}"

    def prepare(self) -> None:
        """The raw arm's actions: each record's final document and index, made once, before timing."""
        for mapping, path in self.exports:
            report = IngestReport(mapping.source, str(path))
            for record in parse_file(mapping, path, report=report, now=self.now):
                index = target_index(self.prefix("raw"), record)
                self.actions.append({"_index": index, "_id": record.id, "_source": record.document()})
            if not report.ok:
                raise BenchError(f"{path.name}: {report.counts()} {report.error or ''} {report.rejected[:3]}")
            self.registers[mapping.register_name] += report.parsed
        if len({action["_id"] for action in self.actions}) != len(self.actions):
            raise BenchError("generated records share ids: the index would hold fewer than N")

    def measure(self, arm: str, n: int, load: Callable[[str], None]) -> Arm:
        """Time `load` into a fresh prefix until `_count` is N after a refresh; drop it after."""
        prefix = self.prefix(arm)
        drop_all(self.client, prefix)
        try:
            load_before = os.getloadavg()[0]
            started, cpu, cluster_cpu = time.perf_counter(), time.process_time(), self.cluster_cpu()
            load(prefix)
            self.client.indices.refresh(index=prefix)
            count = int(self.client.count(index=prefix)["count"])
            seconds = time.perf_counter() - started
            cpu, cluster_cpu = time.process_time() - cpu, self.cluster_cpu() - cluster_cpu
            if count != n:
                raise BenchError(f"{arm}: _count is {count} after refresh, not {n}")
            store = self.client.indices.stats(index=prefix, metric="store")["_all"]["primaries"]["store"]
            if arm == "project":
                self.same_documents(prefix)
        finally:
            drop_all(self.client, prefix)
        size = int(store["size_in_bytes"])
        return Arm(arm, seconds, n / seconds, count, cpu, cluster_cpu, size, load_before, os.getloadavg()[0])

    def same_documents(self, prefix: str, sample: int = 500) -> None:
        """The project arm's documents are the raw arm's, compared as JSON on a spread sample."""
        expected = {
            action["_id"]: action["_source"]
            for action in self.actions[:: max(1, len(self.actions) // sample)]
        }
        query = {"query": {"ids": {"values": list(expected)}}, "size": len(expected)}
        hits = self.client.search(index=prefix, body=query)["hits"]["hits"]
        stored = {hit["_id"]: hit["_source"] for hit in hits}
        differ = [
            key for key, document in expected.items() if stored.get(key) != json.loads(json.dumps(document))
        ]
        if differ:
            raise BenchError(f"the project arm indexed other documents than the raw arm: {differ[:3]}")
        self.checked = len(expected)

    def cluster_cpu(self) -> float:
        nodes = self.client.nodes.stats(metric="process")["nodes"].values()
        return float(sum(node["process"]["cpu"]["total_in_millis"] for node in nodes)) / 1000

    # -- the two arms --------------------------------------------------------------------------------
    def project(self, prefix: str) -> None:
        for mapping, path in self.exports:
            report = ingest_file(self.client, prefix, mapping, path, now=self.now)
            if not report.ok:
                raise BenchError(f"{path.name}: {report.counts()} {report.error or ''}")

    def raw(self, raw: Raw, actions: Sequence[Action]) -> Callable[[str], None]:
        def load(prefix: str) -> None:
            ensure_indices(self.client, prefix, kinds=self.kinds)
            if raw.threads:
                results = parallel_bulk(
                    self.client, actions, chunk_size=raw.chunk_size, thread_count=raw.threads
                )
            else:
                results = streaming_bulk(self.client, actions, chunk_size=raw.chunk_size)
            for _ in results:  # raise_on_error (the default): a refused document stops the run
                pass

        return load

    def sweep(self, sample_size: int, log: Callable[[str], None]) -> list[Raw]:
        """Each raw helper setting on a sample (every register in its share); the fastest first."""
        sample = self.actions[:: max(1, len(self.actions) // sample_size)][:sample_size]
        tried = []
        for helper, chunk_size, threads in SWEEP:
            raw = Raw(helper, chunk_size, threads)
            raw.docs_per_s = self.measure("raw", len(sample), self.raw(raw, sample)).docs_per_s
            tried.append(raw)
            log(f"sweep {helper:15s} chunk {chunk_size:5d} threads {threads}: {raw.docs_per_s:8,.0f} docs/s")
        return sorted(tried, key=lambda raw: -raw.docs_per_s)


def run_b1(
    client: OpenSearch,
    n: int,
    *,
    pairs: int,
    seed: int,
    sweep_n: int,
    folder: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    started = time.perf_counter()
    report = generate(folder, seed, n)
    exports = [(load_mapping(mapping_path(file.register)), file.path) for file in report.files]
    log(f"generated {n:,} records in {len(exports)} exports ({time.perf_counter() - started:.0f} s)")
    bench = B1(client, exports, now=datetime.now(UTC).replace(microsecond=0))
    bench.prepare()
    if len(bench.actions) != n:
        raise BenchError(f"the exports hold {len(bench.actions)} records, not {n}")
    gc.freeze()  # N prepared documents stay to the end: keep the collector from walking them each pass
    log(f"prepared {n:,} documents ({time.perf_counter() - started:.0f} s)")

    sweep = bench.sweep(sweep_n, log)
    fastest = sweep[0]
    runs = []
    for pair in range(1, pairs + 1):
        order = ["project", "raw"] if pair % 2 else ["raw", "project"]
        arms = {}
        for arm in order:
            load = bench.project if arm == "project" else bench.raw(fastest, bench.actions)
            arms[arm] = bench.measure(arm, n, load)
            log(f"pair {pair} {arm:7s}: {arms[arm].docs_per_s:8,.0f} docs/s")
        ratio = arms["project"].docs_per_s / arms["raw"].docs_per_s
        runs.append(
            {
                "pair": pair,
                "order": order,
                "ratio": round(ratio, 4),
                **{k: _rounded(v) for k, v in arms.items()},
            }
        )
    tried = [asdict(raw) | {"docs_per_s": round(raw.docs_per_s)} for raw in sweep]
    return summary(bench, n, seed, runs, tried)


def _rounded(arm: Arm) -> dict[str, Any]:
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in asdict(arm).items()}


def summary(
    bench: B1, n: int, seed: int, runs: list[dict[str, Any]], sweep: list[dict[str, Any]]
) -> dict[str, Any]:
    def median(arm: str, key: str) -> float:
        return float(statistics.median(float(entry[arm][key]) for entry in runs))

    return {
        "benchmark": "B1",
        "n": n,
        "ratio_median": round(statistics.median(entry["ratio"] for entry in runs), 3),
        "raw_docs_per_s": round(median("raw", "docs_per_s")),
        "project_docs_per_s": round(median("project", "docs_per_s")),
        "cpu_s_per_1000": {
            arm: {
                "client": round(median(arm, "client_cpu_s") * 1000 / n, 4),
                "opensearch": round(median(arm, "opensearch_cpu_s") * 1000 / n, 4),
            }
            for arm in ("project", "raw")
        },
        "index_bytes_per_million": round(median("project", "store_bytes") * 1_000_000 / n),
        "raw_helper": sweep[0],
        "project_bulk_chunk": run.BULK_CHUNK,
        "registers": dict(sorted(bench.registers.items())),
        "same_documents_checked": bench.checked,
        "seed": seed,
        "pairs": runs,
        "sweep": sweep,
        "environment": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def table(result: dict[str, Any]) -> str:
    cpu, raw = result["cpu_s_per_1000"], result["raw_helper"]
    threads = f", {raw['threads']} threads" if raw["threads"] else ""
    lines = [
        f"B1 ingest: N = {result['n']:,}, {len(result['pairs'])} pairs; "
        f"raw = {raw['helper']} (chunk {raw['chunk_size']}{threads})",
        f"{'arm':8s} {'docs/s':>8s} {'client CPU s/1000':>18s} {'OpenSearch CPU s/1000':>22s}",
    ]
    for arm in ("project", "raw"):
        docs_per_s, client, cluster = result[f"{arm}_docs_per_s"], cpu[arm]["client"], cpu[arm]["opensearch"]
        lines.append(f"{arm:8s} {docs_per_s:8,.0f} {client:18.3f} {cluster:22.3f}")
    lines.append(f"ratio project/raw, median of pairs: {result['ratio_median']:.3f} (target >= 0.8)")
    lines.append(f"index on disk: {result['index_bytes_per_million'] / 2**20:,.0f} MiB per million records")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.b1_ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} records instead of {FULL:,}")
    parser.add_argument("--records", type=int, help="N, instead of the mode's")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved project/raw pairs (3)")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed (1)")
    parser.add_argument("--out", type=Path, help="the JSON file (bench/results/b1.json, b1-quick.json)")
    args = parser.parse_args(argv)
    n = args.records or (QUICK if args.quick else FULL)
    mode = "quick" if args.quick else "full" if n == FULL else f"{n}"
    out = args.out or RESULTS / ("b1.json" if mode == "full" else f"b1-{mode}.json")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    client = make_search_client(Settings())
    try:
        with tempfile.TemporaryDirectory(prefix="speurder-b1-") as folder:
            sweep_n = min(n, 10_000 if args.quick else 50_000)
            result = run_b1(
                client, n, pairs=args.pairs, seed=args.seed, sweep_n=sweep_n, folder=Path(folder), log=log
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
