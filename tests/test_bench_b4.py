"""Benchmark B4 in its quick mode on a tiny world of its own: the API and the raw searches draw the same
graph, and the figures are written.

No timing is asserted here (a shared test machine says nothing about speed); the full mode's figures are
in bench/results/b4.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from opensearchpy import OpenSearch

from bench.b4_graph import Answer, differences
from bench.world import drop_world

ROOT = Path(__file__).resolve().parent.parent
RECORDS, REQUESTS = 3_000, 4


def test_b4_quick_mode_api_and_raw_draw_the_same_graph(tmp_path: Path, search: OpenSearch) -> None:
    prefix = f"b4test-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "b4-quick.json"
    command = [sys.executable, "-m", "bench.b4_graph", "--quick", "--records", str(RECORDS)]
    command += ["--prefix", prefix, "--requests", str(REQUESTS), "--warmup", "1", "--out", str(out)]
    try:
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    finally:
        drop_world(search, prefix)
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    figures = json.loads(out.read_text(encoding="utf-8"))

    assert figures["records"] == RECORDS and figures["mode"] == "quick"
    for key in ("hop1_p50_ms", "hop1_p95_ms", "hop2_p50_ms", "hop2_p95_ms", "ratio_p50", "ratio_p50_hop2"):
        assert figures[key] > 0, key
    # Every timed pair was compared, and none differed (a difference fails the run).
    assert figures["same_answers_checked"] == {"hop1": REQUESTS, "hop2": REQUESTS}
    # Round trips: the api one request per expansion, the raw arm one search per hop (every start has
    # a neighbour, so two hops are two searches); the app sends as many searches as the raw arm.
    trips = {"api": {"hop1": "1", "hop2": "1"}, "raw": {"hop1": "1", "hop2": "2"}}
    for arm in ("api", "raw"):
        for hop, searches in (("hop1", "1"), ("hop2", "2")):
            assert figures["arms"][arm][hop]["requests"] == REQUESTS
            assert figures["arms"][arm][hop]["opensearch_round_trips"] == {searches: REQUESTS}
            assert figures["arms"][arm][hop]["client_round_trips"] == {trips[arm][hop]: REQUESTS}
    assert all(start["neighbours"] >= 1 for start in figures["starts"])
    # The raw arm searched under the bench user's access filter: every register, highest clearance.
    assert figures["access_filter"]["bool"]["filter"][0] == {"range": {"classification": {"lte": 3}}}
    origins = {start["origin"] for start in figures["starts"]}
    assert origins == {"sample", "hub"}
    assert "same graph from both arms" in run.stdout


def test_the_comparison_sees_any_difference() -> None:
    answer = Answer(
        {"person:nrn:1": ("person", "A", 0, 2, False), "phone:+321": ("phone", "+321", 1, None, False)},
        {("person:nrn:1", "phone:+321"): (2, ("r2", "r1"))},
        truncated=False,
        opensearch_round_trips=1,
    )
    assert differences(answer, answer) == []
    assert differences(answer, None) and differences(None, answer)
    assert differences(None, None) == []
    other = Answer(dict(answer.nodes), {("person:nrn:1", "phone:+321"): (2, ("r1", "r2"))}, False, 1)
    assert differences(answer, other)  # the same records, another order: not the same answer
    other = Answer(answer.nodes | {"vehicle:BE:1": ("vehicle", "1", 1, None, False)}, answer.edges, False, 1)
    assert differences(answer, other)
    other = Answer({**answer.nodes, "person:nrn:1": ("person", "B", 0, 2, False)}, answer.edges, False, 1)
    assert differences(answer, other)  # another label
