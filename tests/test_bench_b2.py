"""Benchmark B2 on a handful of files, end to end: every arm measured, every file indexed with its text.

Two born-digital files and two one-page scans go through the real worker (S3, PostgreSQL, Tika with OCR,
NER, OpenSearch) and through each stage alone. No timing is asserted (a shared test machine says
nothing about speed); `python -m bench.b2_pipeline` writes the full figures to bench/results/b2.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.docsets import born_digital, scanned

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARMS = {"pipeline", "tika", "ner", "bulk", "serial"}


def test_b2_measures_every_arm_and_indexes_every_file_with_text(tmp_path: Path) -> None:
    out = tmp_path / "b2.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.b2_pipeline", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    figures = json.loads(out.read_text(encoding="utf-8"))

    assert figures["benchmark"] == "B2" and figures["mode"] == "quick" and figures["rounds"] == 2
    assert figures["profile"] == "s3+postgresql"
    assert set(figures["classes"]) == {"born-digital", "scanned"}
    for name, figures_of in figures["classes"].items():
        assert figures_of["files"] == 2, name
        assert figures_of["pages"] >= 2, name
        assert set(figures_of["pages_per_s"]) == ARMS, name
        assert all(value > 0 for value in figures_of["pages_per_s"].values()), name
        assert figures_of["ratio_to_serial"] > 0 and figures_of["ratio_to_slowest"] > 0, name
        assert figures_of["slowest_stage"] in {"tika", "ner", "bulk"}, name
        # Every file ended indexed, with text: the scans by OCR.
        checks = figures_of["pipeline_checks"]
        assert checks["states"] == {"indexed": 2}, name
        assert checks["files_indexed_with_text"] == 2, name
        assert checks["chars_indexed"] > 500, name
        rounds = figures_of["rounds"]
        assert [entry["order"][0] for entry in rounds] == ["pipeline", "stages"]  # interleaved
        # Processor time per arm, by process: the worker's in the pipeline, the NER pool's in the NER arm.
        assert all(figures_of["cpu_s_per_page"][arm] > 0 for arm in ("pipeline", "tika", "ner")), name
        for entry in rounds:
            pipeline_cpu, ner_cpu = entry["pipeline"]["cpu_s"], entry["ner"]["cpu_s"]
            assert pipeline_cpu.get("worker", 0) > pipeline_cpu.get("ner_pool", 0), name
            assert ner_cpu.get("ner_pool", 0) > ner_cpu.get("worker", 0), name
            assert entry["tika_chars"] > 500 and entry["entities"] > 0, name
            assert entry["pdf_pages"]["made"] == entry["pdf_pages"]["tika"] > 0, name  # Tika counts ours
    assert "/serial" in run.stdout  # the table


def test_document_sets_are_reproducible_and_scans_hold_no_text_layer(tmp_path: Path) -> None:
    first = born_digital(tmp_path / "a", 3, seed=7) + scanned(tmp_path / "a", 2, seed=7, max_pages=1)
    again = born_digital(tmp_path / "b", 3, seed=7) + scanned(tmp_path / "b", 2, seed=7, max_pages=1)
    assert [d.path.read_bytes() for d in first] == [d.path.read_bytes() for d in again]
    assert [d.format for d in first] == ["pdf", "pdf", "pdf", "scan.pdf", "scan.pdf"]
    assert {d.language for d in first} == {"nl", "fr"}
    assert all(d.pages >= 1 for d in first)
    for document in first:
        body = document.path.read_bytes()
        assert f"/Count {document.pages}".encode() in body  # the pages it was made with
        if document.kind == "scanned":
            assert b"/Font" not in body  # an image: nothing but OCR can read it
        else:
            assert b"/Font" in body


def test_a_process_that_ends_between_readings_is_counted_once() -> None:
    """A child's processor time is its own while it runs and its parent's once waited for; what it had
    spent by the first reading belongs to an earlier arm, not to the one in which it ended."""
    from bench.b2_pipeline import cpu_by_process, cpu_spent

    burn = (
        "import sys, time\nend = time.process_time() + 0.5\n"
        "while time.process_time() < end: pass\nsys.stdin.read()"
    )
    child = subprocess.Popen([sys.executable, "-c", burn], stdin=subprocess.PIPE)
    try:
        while (seen := cpu_by_process().get(child.pid)) is None or seen.seconds < 0.5:
            pass
        before = cpu_by_process()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    spent = cpu_spent(before, cpu_by_process())
    assert before[child.pid].seconds >= 0.5
    assert spent.get("bench", 0.0) < 0.25, spent
