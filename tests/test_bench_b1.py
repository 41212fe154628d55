"""Benchmark B1 in its quick mode, end to end: the figures are written and every arm reached N.

No timing is asserted here (a shared test machine says nothing about speed); `make bench` runs the full
mode and bench/results/b1.json keeps its figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK = 50_000


def test_b1_quick_mode_indexes_n_records_in_both_arms(tmp_path: Path) -> None:
    out = tmp_path / "b1-quick.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.b1_ingest", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    figures = json.loads(out.read_text(encoding="utf-8"))

    assert figures["n"] == QUICK and figures["mode"] == "quick"
    for key in ("ratio_median", "raw_docs_per_s", "project_docs_per_s", "index_bytes_per_million"):
        assert figures[key] > 0, key
    assert sum(figures["registers"].values()) == QUICK
    assert figures["same_documents_checked"] >= 100  # the arms indexed the same documents
    assert len(figures["pairs"]) >= 3
    for pair in figures["pairs"]:
        assert pair["project"]["count"] == pair["raw"]["count"] == QUICK
        assert sorted(pair["order"]) == ["project", "raw"]
    assert [pair["order"][0] for pair in figures["pairs"][:2]] == ["project", "raw"]  # interleaved
    for arm in ("project", "raw"):
        assert set(figures["cpu_s_per_1000"][arm]) == {"client", "opensearch"}
    # The raw arm is the fastest of its sweep: streaming_bulk and parallel_bulk, chunk sizes, threads.
    assert len(figures["sweep"]) == 9 and figures["raw_helper"] in figures["sweep"]
    assert "ratio project/raw" in run.stdout
