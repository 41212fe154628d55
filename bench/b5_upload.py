"""Benchmark B5: a thousand mixed files uploaded through the HTTP API by four clients until all are found.

The set (`bench.docsets`, seeded): born-digital documents (PDF, Word, HTML, text), scanned ones (image-only
PDFs, PNG and TIFF pages) and files of Apache Tika's format corpus, shuffled. The real web application
runs under uvicorn on loopback beside a real worker (B2's stack: its own queue, index prefix, S3 bucket,
PostgreSQL databases); four client threads, each signed in as the same investigator, post their share of
the files one file a request to `/api/documents` in one batch. The clock runs from the first request
until `/api/batches/<batch>` says every file is final and the index `_count` shows every record.

That time is set against the time B2 predicts: Σ pages of each class / the pipeline's pages per second
for that class in `results/b2.json` (the format corpus's files are counted as born-digital, with the
page count the pipeline found in them, one page when none).

    python -m bench.b5_upload                # 1,000 files -> bench/results/b5.json (about an hour)
    python -m bench.b5_upload --files 200    # -> bench/results/b5-200.json
    python -m bench.b5_upload --quick        # 12 files    -> bench/results/b5-quick.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.b2_pipeline import (
    CONCURRENCY,
    BenchError,
    Pipeline,
    Stack,
    Worker,
    empty_bucket,
    log,
    make_stack,
    make_warmup,
    reset_index,
)
from bench.docsets import (
    BORN_DIGITAL,
    CORPUS,
    SCANNED,
    Document,
    born_digital,
    content_type,
    corpus_sample,
    scanned,
)
from case_store.db import create_schema, make_engine, make_sessionmaker, transaction
from case_store.models import Upload
from case_store.users import add_user
from ingest.blobs import S3BlobStore, make_blob_store
from ingest.celery_app import make_celery
from ingest.index.admin import write_alias
from ingest.index.client import make_search_client

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
FULL, QUICK = 1000, 12
CLIENTS = 4
# The mix: mostly born-digital, some scans, some files of the format corpus.
SHARES = {SCANNED: 0.10, CORPUS: 0.05}
USER, PASSWORD = "b5-rechercheur", "bench five upload password"
POLL_SECONDS = 2.0
WAIT_SECONDS = 4 * 3600


def mixed_set(folder: Path, n: int, seed: int, *, max_scan_pages: int | None = None) -> list[Document]:
    """`n` files: scans and corpus files in their SHARES (at least one each from ten files on), the rest
    born-digital; shuffled, so every client sends a mix."""
    counts = {kind: max(1 if n >= 10 else 0, round(n * share)) for kind, share in SHARES.items()}
    counts[BORN_DIGITAL] = n - sum(counts.values())
    documents = born_digital(folder / BORN_DIGITAL, counts[BORN_DIGITAL], seed)
    documents += scanned(folder / SCANNED, counts[SCANNED], seed, max_pages=max_scan_pages)
    documents += corpus_sample(folder / CORPUS, counts[CORPUS], seed, exclude=_failed_in_corpus_run())
    random.Random(f"b5-{seed}").shuffle(documents)  # noqa: S311 - a reproducible order, not a secret
    return documents


def _failed_in_corpus_run() -> list[str]:
    """Files that did not end indexed in `bench.formats_tika`: hostile input is not what B5 measures."""
    path = RESULTS / "formats-tika.json"
    if not path.exists():
        return []
    return [entry["file"] for entry in json.loads(path.read_text(encoding="utf-8"))["not_indexed"]]


def b2_rates(path: Path) -> dict[str, Any]:
    """The pipeline's pages per second per class, as B2 measured them."""
    figures = json.loads(path.read_text(encoding="utf-8"))
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "mode": figures.get("mode"),
        "finished_at": figures.get("finished_at"),
        "pages_per_s": {name: c["pages_per_s"]["pipeline"] for name, c in figures["classes"].items()},
    }


# -- the web application and its clients --------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WebServer:
    """`speurder web` (uvicorn, the product's own entry) on a free loopback port."""

    def __init__(self, stack: Stack) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = stack.work / "web.log"
        env = stack.env() | {"SPEURDER_WEB_HOST": "127.0.0.1", "SPEURDER_WEB_PORT": str(self.port)}
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "search_api.cli", "web"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.url}/login", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"the web server did not start:\n{self.log_path.read_text()[-2000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# The session's token, as a page carries it: in a form's hidden field or in the htmx headers.
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"|"X-CSRF-Token": "([^"]+)"')


def _token(match: re.Match[str]) -> str:
    return match.group(1) or match.group(2)


def signed_in(url: str) -> tuple[httpx.Client, str]:
    """A client signed in through the login form, and the CSRF token its requests must carry."""
    client = httpx.Client(base_url=url, timeout=600)
    token = _CSRF.search(client.get("/login").text)
    if token is None:
        raise BenchError("no CSRF token on the login page")
    response = client.post(
        "/login", data={"username": USER, "password": PASSWORD, "csrf_token": _token(token)}
    )
    if response.status_code != 303:
        raise BenchError(f"sign-in refused: {response.status_code}")
    page = _CSRF.search(client.get("/upload").text)
    if page is None:
        raise BenchError("no CSRF token on the upload page")
    return client, _token(page)


@dataclass
class Uploader:
    """One client thread: its share of the files, one file a request."""

    client: httpx.Client
    token: str
    documents: list[Document]
    batch_id: str
    received: list[dict[str, Any]] = field(default_factory=list)
    error: BaseException | None = None
    seconds: float = 0.0

    def run(self, start: threading.Barrier) -> None:
        start.wait()
        started = time.perf_counter()
        try:
            for document in self.documents:
                with document.path.open("rb") as stream:
                    response = self.client.post(
                        "/api/documents",
                        files=[("files", (document.name, stream, content_type(document)))],
                        data={"batch": self.batch_id},
                        headers={"X-CSRF-Token": self.token},
                    )
                if response.status_code != 202:
                    raise BenchError(f"{document.name}: HTTP {response.status_code} {response.text[:200]}")
                answer = response.json()["files"]
                if any("upload_id" not in item for item in answer):
                    raise BenchError(f"{document.name}: not received: {answer}")
                self.received += answer
        except BaseException as exc:  # reported by the main thread
            self.error = exc
        self.seconds = time.perf_counter() - started


# -- the benchmark -----------------------------------------------------------------------------------
def run_b5(
    stack: Stack,
    documents: list[Document],
    warmup: list[Document],
    *,
    clients: int,
    concurrency: int,
) -> dict[str, Any]:
    settings = stack.settings
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        add_user(session, USER, PASSWORD, role="investigator", unit="Bench/B5", clearance=2)
    search = make_search_client(settings)
    blobs = make_blob_store(settings)
    pipeline = Pipeline(settings, search, blobs, sessions, make_celery(settings))
    worker: Worker | None = None
    web: WebServer | None = None
    try:
        worker = Worker(stack, concurrency)
        web = WebServer(stack)
        pipeline.run(warmup)  # the worker's processes load Frog and spaCy; Tika warms up
        reset_index(search, settings.index_prefix)
        if isinstance(blobs, S3BlobStore):
            empty_bucket(blobs)
        sessions_of = [signed_in(web.url) for _ in range(clients)]
        batch_id = f"b5-{uuid.uuid4().hex[:10]}"
        uploaders = [
            Uploader(client, token, documents[position::clients], batch_id)
            for position, (client, token) in enumerate(sessions_of)
        ]
        start = threading.Barrier(clients + 1)
        threads = [
            threading.Thread(target=u.run, args=(start,), name=f"client-{i}") for i, u in enumerate(uploaders)
        ]
        for thread in threads:
            thread.start()
        log(f"{len(documents)} files, {clients} clients, worker of {concurrency} processes: uploading")
        start.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        uploaded = time.perf_counter() - started
        for uploader in uploaders:
            if uploader.error is not None:
                raise BenchError(f"a client failed: {uploader.error}") from uploader.error
        log(f"uploaded in {uploaded:.0f} s; waiting for every file to be final and searchable")
        status = _wait_done(sessions_of[0][0], batch_id, started)
        final_at = time.perf_counter() - started
        rows = _ledger(sessions, batch_id)
        record_ids = sorted({row.record_id for row in rows if row.record_id})
        if pipeline.searchable(record_ids) != len(record_ids) or len(rows) != len(documents):
            raise BenchError("the index does not show every file's record")
        seconds = time.perf_counter() - started
        pages = _pages_found(pipeline, rows, documents)
        for client, _ in sessions_of:
            client.close()
    finally:
        if web is not None:
            web.stop()
        if worker is not None:
            worker.stop()
        stack.close(search, blobs)
        engine.dispose()
    search.close()
    return {
        "files": len(documents),
        "clients": clients,
        "concurrency": concurrency,
        "profile": "s3+postgresql" if settings.blob_backend == "s3" else "folder+sqlite",
        "seconds": round(seconds, 1),
        "upload_seconds": round(uploaded, 1),
        "final_seconds": round(final_at, 1),
        "client_seconds": [round(u.seconds, 1) for u in uploaders],
        "states": dict(sorted(Counter(row.status for row in rows).items())),
        "not_indexed": [
            {"file": row.file_name, "status": row.status, "reason": row.error}
            for row in rows
            if row.status != "indexed"
        ],
        "batch_api": {
            key: value for key, value in status.items() if key not in {"reports", "failures", "items"}
        },
        "records": len(record_ids),
        "pages": pages,
    }


def _wait_done(client: httpx.Client, batch_id: str, started: float) -> dict[str, Any]:
    """The batch as the API shows it, once it says every file is final."""
    deadline = time.monotonic() + WAIT_SECONDS
    reported = 0.0
    while True:
        status: dict[str, Any] = client.get(f"/api/batches/{batch_id}").json()
        if status.get("done"):
            return status
        if time.monotonic() > deadline:
            raise BenchError(f"batch not final after {WAIT_SECONDS} s: {status.get('counts')}")
        elapsed = time.perf_counter() - started
        if elapsed - reported > 60:
            reported = elapsed
            log(f"{elapsed:6.0f} s: {status.get('final')} of {status.get('files')} final")
        time.sleep(POLL_SECONDS)


def _ledger(sessions: Any, batch_id: str) -> list[Upload]:
    with sessions() as session:
        rows = list(session.scalars(select(Upload).where(Upload.batch_id == batch_id)))
        session.expunge_all()
    return rows


def _pages_found(pipeline: Pipeline, rows: list[Upload], documents: list[Document]) -> dict[str, Any]:
    """Pages per class: as made for the generated files, as the pipeline found them for the corpus's."""
    made = {document.name: document for document in documents}
    index = write_alias(pipeline.settings.index_prefix, "document")
    corpus_ids = [row.record_id for row in rows if row.record_id and made[row.file_name].kind == CORPUS]
    found = {}
    if corpus_ids:
        hits = pipeline.search.search(
            index=index,
            body={"query": {"ids": {"values": corpus_ids}}, "size": len(corpus_ids)},
            _source_includes=["details.document.page_count"],
        )["hits"]["hits"]
        found = {
            hit["_id"]: int(
                ((hit["_source"].get("details") or {}).get("document") or {}).get("page_count") or 1
            )
            for hit in hits
        }
    pages: Counter[str] = Counter()
    files: Counter[str] = Counter()
    for row in rows:
        document = made[row.file_name]
        files[document.kind] += 1
        pages[document.kind] += (
            found.get(row.record_id or "", 1) if document.kind == CORPUS else document.pages
        )
    return {"files": dict(files), "pages": dict(pages)}


def predict(result: dict[str, Any], rates: dict[str, Any]) -> dict[str, Any]:
    """Seconds B2 predicts for these pages: each class at the pipeline's rate (corpus as born-digital)."""
    per_class = {}
    for kind, pages in result["pages"]["pages"].items():
        rate_class = SCANNED if kind == SCANNED else BORN_DIGITAL
        per_class[kind] = pages / rates["pages_per_s"][rate_class]
    predicted = sum(per_class.values())
    return {
        "predicted_seconds": round(predicted, 1),
        "predicted_seconds_per_class": {k: round(v, 1) for k, v in per_class.items()},
        "actual_to_predicted": round(result["seconds"] / predicted, 3),
        "b2": rates,
    }


def main(argv: Sequence[str] | None = None) -> int:
    # A run stopped with SIGTERM still tears down what it set up (worker, databases, bucket, indices).
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    parser = argparse.ArgumentParser(prog="python -m bench.b5_upload", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} files, one-page scans")
    parser.add_argument("--files", type=int, help=f"files ({FULL:,})")
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"client threads ({CLIENTS})")
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENCY, help=f"worker processes ({CONCURRENCY})"
    )
    parser.add_argument("--profile", choices=["production", "embedded"], default="production")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--b2", type=Path, help="B2's figures (results/b2.json, else b2-quick.json)")
    parser.add_argument("--out", type=Path, help="the JSON file (bench/results/b5.json, b5-quick.json)")
    args = parser.parse_args(argv)
    n = args.files or (QUICK if args.quick else FULL)
    mode = "quick" if args.quick else "full" if n == FULL else str(n)
    out = args.out or RESULTS / ("b5.json" if mode == "full" else f"b5-{mode}.json")
    b2 = args.b2 or next((p for p in (RESULTS / "b2.json", RESULTS / "b2-quick.json") if p.exists()), None)
    if b2 is None or not b2.exists():
        parser.error("B2's figures are needed for the prediction: run python -m bench.b2_pipeline first")
    rates = b2_rates(b2)

    name = f"bench-b5-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="speurder-b5-") as folder:
        work = Path(folder)
        started = time.perf_counter()
        documents = mixed_set(work / "files", n, args.seed, max_scan_pages=1 if args.quick else None)
        warmup = make_warmup(work / "warmup", args.seed, args.concurrency, scan=not args.quick)
        kinds = dict(Counter(d.kind for d in documents))
        log(f"{n} files made ({time.perf_counter() - started:.0f} s): {kinds}")
        stack = make_stack(name, work, profile=args.profile)
        result = run_b5(stack, documents, warmup, clients=args.clients, concurrency=args.concurrency)
    result = {
        "benchmark": "B5",
        "mode": mode,
        "seed": args.seed,
        **result,
        **predict(result, rates),
        "formats": dict(sorted(Counter(f"{d.kind}:{d.format}" for d in documents).items())),
        "environment": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"B5: {result['files']} files ({result['pages']['pages']} pages) by {result['clients']} clients: "
        f"{result['seconds']:.0f} s until all searchable (uploads {result['upload_seconds']:.0f} s); "
        f"B2 predicts {result['predicted_seconds']:.0f} s; "
        f"actual/predicted {result['actual_to_predicted']:.2f}"
    )
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
