"""Benchmark B3 on a tiny world of its own, end to end: every request answered, both arms saw the same.

No timing is asserted here (a shared test machine says nothing about speed); the full mode runs on a
quiet machine and bench/results/b3.json keeps its figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from opensearchpy import OpenSearch

from bench.world import marker_index

ROOT = Path(__file__).resolve().parent.parent
RECORDS = 3_000
LEVELS, REQUESTS = [1, 4, 16], [8, 16, 32]


def test_b3_replays_the_api_body_raw_and_times_both_arms(tmp_path: Path, search: OpenSearch) -> None:
    prefix = f"bench-b3test-{uuid.uuid4().hex[:8]}"  # under no other prefix: its templates overlap none
    out = tmp_path / "b3.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.b3_search",
            "--quick",
            "--records",
            str(RECORDS),
            "--prefix",
            prefix,
            "--drop-world",
            "--mix",
            "20",
            "--levels",
            ",".join(map(str, LEVELS)),
            "--requests",
            ",".join(map(str, REQUESTS)),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    figures = json.loads(out.read_text(encoding="utf-8"))

    assert figures["records"] == RECORDS and figures["mode"] == "quick"
    for key in ("p50_ratio", "p50_added_ms", "p95_ratio"):
        assert isinstance(figures[key], float), key
    assert figures["p50_ratio"] > 0 and figures["p95_ratio"] > 0
    assert [level["concurrency"] for level in figures["levels"]] == LEVELS
    for level, requests in zip(figures["levels"], REQUESTS, strict=True):
        for arm in ("api", "raw"):
            # Every request of both arms was answered 200 (a non-200 stops the run, and none is counted).
            assert level[arm]["statuses"] == {"200": requests}, (level["concurrency"], arm)
            assert 0 < level[arm]["p50_ms"] <= level[arm]["p95_ms"] <= level[arm]["p99_ms"]
            assert level[arm]["throughput_per_s"] > 0
    assert figures["order"] == ["api", "raw", "raw", "api"]

    queries = figures["queries"]
    assert queries["count"] == len(queries["mix"]) == 20
    assert len(queries["kinds"]) >= 6  # plates, national numbers, IBANs, phones, names, words, …
    for query in queries["mix"]:
        assert query["body_bytes"] > 100 and query["index"] == prefix, query
        # The raw arm replayed the body the API logged and found what the API found.
        assert query["raw_total"] == query["api_total"], query
    assert queries["same_results_checked"] == queries["count"]
    assert sum(query["api_total"] > 0 for query in queries["mix"]) >= 15  # the mix finds things
    assert "api/raw: p50" in run.stdout

    # --drop-world left nothing behind.
    assert not search.indices.exists(index=f"{prefix}-*", allow_no_indices=False)
    assert not search.indices.exists(index=marker_index(prefix))
