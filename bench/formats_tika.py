"""The format corpus (Apache Tika's test documents) through the real document pipeline.

Every file is received as an upload would be (blob store under its SHA-256, ledger row), queued for the
Celery worker and followed until it has a final ledger state. The result counts the files, those that
reached a final state, and the states overall and per extension: the proof that a seized disk full of odd
formats, encrypted files and hostile archives leaves no file unaccounted for.

    python -m bench.formats_tika     # the whole corpus -> bench/results/formats-tika.json

The script starts its own worker (two processes) on its own queue, index prefix and SQLite ledger, so it
runs beside anything else on the same services; `tests/test_upload_corpus.py` calls `ingest_corpus` on a
subset through the test worker.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from celery import Celery
from opensearchpy import OpenSearch
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from case_store.models import FINAL_STATES, Upload
from ingest.blobs import BlobStore
from ingest.documents import accept_upload, make_searchable
from ingest.tasks import PROCESS_DOCUMENT

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "formats-tika" / "files"
RESULTS = ROOT / "bench" / "results"


def corpus_files(root: Path = CORPUS) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def extension_of(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if suffix and len(suffix) <= 8 else "(none)"


def ingest_corpus(
    files: Sequence[Path],
    *,
    root: Path,
    blobs: BlobStore,
    sessions: sessionmaker[Session],
    celery: Celery,
    uploader: str = "bench",
    timeout: float = 3600,
    search: OpenSearch | None = None,
    index_prefix: str = "",
) -> list[dict[str, Any]]:
    """Receive, queue and follow `files`: each file's ledger entry once all are final (or time is up).
    With `search`, the records are made searchable once all are final."""
    batch_id = f"formats-tika-{uuid.uuid4().hex[:8]}"
    ids = []
    for file in files:
        with file.open("rb") as stream:
            received = accept_upload(
                blobs,
                sessions,
                stream,
                file_name=file.name,
                path=str(file.relative_to(root)),
                batch_id=batch_id,
                uploader=uploader,
            )
        ids.append(received.upload_id)
    for upload_id in ids:  # after every ledger row is committed
        celery.send_task(PROCESS_DOCUMENT, args=[upload_id])
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            rows = list(
                session.scalars(select(Upload).where(Upload.batch_id == batch_id).order_by(Upload.id))
            )
            entries = [
                {"file": row.path, "status": row.status, "reason": row.error, "note": row.note}
                for row in rows
            ]
        if all(entry["status"] in FINAL_STATES for entry in entries):
            if search is not None:
                make_searchable(search, index_prefix)
            return entries
        if time.monotonic() > deadline:
            return entries
        time.sleep(2)


def summarise(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Files, how many reached a final state, and the states overall and per extension."""
    by_extension: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in entries:
        by_extension[extension_of(entry["file"])][entry["status"]] += 1
    return {
        "files": len(entries),
        "terminal": sum(entry["status"] in FINAL_STATES for entry in entries),
        "by_state": dict(sorted(Counter(entry["status"] for entry in entries).items())),
        "by_extension": {ext: dict(sorted(counts.items())) for ext, counts in sorted(by_extension.items())},
        "not_indexed": [
            {"file": e["file"], "status": e["status"], "reason": e["reason"]}
            for e in entries
            if e["status"] != "indexed"
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.formats_tika", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=RESULTS / "formats-tika.json")
    parser.add_argument("--timeout", type=float, default=3 * 3600)
    args = parser.parse_args(argv)

    from case_store.db import create_schema, make_engine, make_sessionmaker
    from ingest.blobs import make_blob_store
    from ingest.celery_app import make_celery
    from ingest.index.admin import drop_all, ensure_indices
    from ingest.index.client import make_search_client
    from ingest.settings import Settings

    run = uuid.uuid4().hex[:8]
    work = Path(tempfile.mkdtemp(prefix="speurder-formats-"))
    settings = Settings(
        index_prefix=f"bench-formats-{run}",
        task_queue=f"bench-formats-{run}",
        blob_backend="folder",
        data_dir=Path(os.environ.get("SPEURDER_DATA_DIR", ROOT / "var")),
        database_url=f"sqlite:///{work / 'ledger.db'}",
    )
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    search = make_search_client(settings)
    ensure_indices(search, settings.index_prefix)
    env = dict(os.environ)
    env.update(
        SPEURDER_INDEX_PREFIX=settings.index_prefix,
        SPEURDER_TASK_QUEUE=settings.task_queue,
        SPEURDER_BLOB_BACKEND="folder",
        SPEURDER_DATA_DIR=str(settings.data_dir),
        SPEURDER_DATABASE_URL=settings.database_url,
    )
    log = (work / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "search_api.cli", "worker", "--concurrency", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    files = corpus_files(args.corpus)
    started = time.monotonic()
    try:
        entries = ingest_corpus(
            files,
            root=args.corpus,
            blobs=make_blob_store(settings),
            sessions=make_sessionmaker(engine),
            celery=make_celery(settings),
            timeout=args.timeout,
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=120)
        drop_all(search, settings.index_prefix)
    result = {"corpus": "formats-tika", "seconds": round(time.monotonic() - started, 1), **summarise(entries)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{result['terminal']} of {result['files']} files final: {result['by_state']} -> {args.out}")
    return 0 if result["terminal"] == result["files"] else 1


if __name__ == "__main__":
    sys.exit(main())
