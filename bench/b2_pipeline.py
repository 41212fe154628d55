"""Benchmark B2: pages per second through the document pipeline against each of its stages alone.

Two seeded sets (`bench.docsets`): born-digital documents (PDF, Word, HTML, text) and scanned ones
(image-only PDFs, PNG and TIFF pages that only OCR can read), Dutch and French, several pages each. For
each set, in the same run and on the same files:

- *pipeline*: the real Celery worker (its own queue, index prefix, S3 bucket and PostgreSQL database)
  takes the batch from the upload's own entry (`accept_upload`, then the task, file by file as the API
  does) to final ledger states; timed from the first submit until every entry is final and `_count`
  shows every file's record after a refresh;
- *tika*: the same files PUT to Tika's `/rmeta/text` with the pipeline's own headers (`headers_for`:
  OCR, languages, time limit, bounds), as many at once as the worker has processes;
- *ner*: `enrichers.ner.entities` on the first `NER_MAX_CHARS` characters of each text Tika returned,
  in the language `detect_language` finds, as the pipeline calls it, in as many processes as the worker;
- *bulk*: opensearch-py's `streaming_bulk` of the documents the pipeline indexed, into a fresh index.

Pages per second of each; `serial` = 1 / Σ 1/stage, what the three stages would give one after the
other with nothing else; `ratio_to_serial` = pipeline / serial (target >= 0.8) and `ratio_to_slowest` =
pipeline / the slowest stage. The pipeline and the stages alternate over the rounds (pipeline first in
odd rounds); each figure is the median of the rounds.

    python -m bench.b2_pipeline            # -> bench/results/b2.json (about half an hour on two cores)
    python -m bench.b2_pipeline --quick    # -> bench/results/b2-quick.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
import requests
from celery import Celery
from opensearchpy import OpenSearch
from opensearchpy.helpers import streaming_bulk
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.docsets import BORN_DIGITAL, SCANNED, Document, born_digital, scanned
from case_store.db import create_schema, make_engine, make_sessionmaker, single_read, transaction
from case_store.models import FINAL_STATES, Upload
from enrichers.language import detect_language
from ingest.archives import ChildLimits
from ingest.blobs import BlobStore, S3BlobStore, make_blob_store
from ingest.celery_app import default_worker_processes, make_celery
from ingest.documents import NER_MAX_CHARS, accept_upload
from ingest.index.admin import drop_all, ensure_indices, write_alias
from ingest.index.client import make_search_client
from ingest.settings import Settings
from ingest.tasks import PROCESS_DOCUMENT
from ingest.tika import headers_for

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CLASSES = (BORN_DIGITAL, SCANNED)
# Files per class: about 280 and 35 pages. A round of both takes about eight minutes on two cores: OCR
# reads a page in about twelve seconds per process, Frog tags a Dutch document's first 4,000 characters
# in about three, and scans are the pipeline arm's and the Tika arm's time.
FULL = {BORN_DIGITAL: 100, SCANNED: 24}
QUICK = {BORN_DIGITAL: 2, SCANNED: 2}
NEAR_END_FILES = 10  # from here on the stopwatch polls twenty times a second
CONCURRENCY = default_worker_processes()  # the worker's processes, as `speurder worker` starts by default
STAGES = ("tika", "ner", "bulk")
PDF_FORMATS = ("pdf", "scan.pdf")
WAIT_SECONDS = 3600


class BenchError(RuntimeError):
    """The benchmark could not measure what it claims (a file not indexed, a stage that failed)."""


_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"{time.monotonic() - _STARTED:7.1f} s  {message}", file=sys.stderr, flush=True)


# -- the bench's own deployment ----------------------------------------------------------------------
@dataclass
class Stack:
    """Settings of a deployment of its own on the shared services: index prefix, queue, bucket, databases."""

    settings: Settings
    work: Path
    databases: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The same settings for a child process (worker, web server), as SPEURDER_* variables."""
        env = {**os.environ, **self.settings.as_env()}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        return env

    def close(self, search: OpenSearch, blobs: BlobStore | None) -> None:
        drop_all(search, self.settings.index_prefix)
        if isinstance(blobs, S3BlobStore):
            empty_bucket(blobs)
            blobs.client.remove_bucket(blobs.bucket)
        for database in self.databases:
            _drop_database(self.settings, database)


def _admin_url(settings: Settings) -> str:
    return f"postgresql://postgres@127.0.0.1:{settings.postgres_port}/postgres"


def _create_database(settings: Settings, name: str, owner: str) -> str:
    with psycopg.connect(_admin_url(settings), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner,)).fetchone():
            conn.execute(f'CREATE ROLE "{owner}" LOGIN')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        conn.execute(f'REVOKE CONNECT ON DATABASE "{name}" FROM PUBLIC')
    return f"postgresql+psycopg://{owner}@127.0.0.1:{settings.postgres_port}/{name}"


def _drop_database(settings: Settings, name: str) -> None:
    with psycopg.connect(_admin_url(settings), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_stack(name: str, work: Path, *, profile: str = "production") -> Stack:
    """A deployment for one benchmark run: S3 + PostgreSQL (production) or folder + SQLite (embedded)."""
    from search_api.services import ALL, make_service
    from search_api.services.base import ServiceContext

    base = Settings(
        environment="test",
        data_dir=Path(os.environ.get("SPEURDER_DATA_DIR", ROOT / "var")),
        redis_embedded=os.environ.get("SPEURDER_REDIS_EMBEDDED", "false") == "true",
    )
    for service in ALL:  # idempotent: a running set is reused
        make_service(service, ServiceContext(base)).up()
    common = {"index_prefix": name, "task_queue": name}
    if profile == "embedded":
        settings = base.model_copy(
            update={
                **common,
                "blob_backend": "folder",
                "database_url": f"sqlite:///{work / 'speurder.db'}",
                "audit_database_url": f"sqlite:///{work / 'audit.db'}",
            }
        )
        return Stack(settings, work)
    database, audit = name.replace("-", "_"), f"{name.replace('-', '_')}_audit"
    settings = base.model_copy(
        update={
            **common,
            "blob_backend": "s3",
            "s3_bucket": name,
            "database_url": _create_database(base, database, "speurder"),
            "audit_database_url": _create_database(base, audit, "speurder_audit"),
        }
    )
    return Stack(settings, work, [database, audit])


class Worker:
    """`speurder worker` in its own process group, on the stack's queue."""

    def __init__(self, stack: Stack, concurrency: int) -> None:
        self.log_path = stack.work / "worker.log"
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "search_api.cli", "worker", "--concurrency", str(concurrency)],
                env=stack.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while b"ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"the worker did not start:\n{self.log_path.read_text()[-2000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def empty_bucket(blobs: S3BlobStore) -> None:
    """Remove every original, so that each pipeline run stores its files as a first upload would."""
    from minio.deleteobjects import DeleteObject

    names = [DeleteObject(o.object_name) for o in blobs.client.list_objects(blobs.bucket, recursive=True)]
    for error in blobs.client.remove_objects(blobs.bucket, names):
        raise BenchError(f"could not empty the bucket: {error}")


def reset_index(search: OpenSearch, prefix: str) -> None:
    drop_all(search, prefix)
    ensure_indices(search, prefix)


# -- the arms ----------------------------------------------------------------------------------------
# Whose processor time an arm spends, read from /proc around each arm (outside its stopwatch): every
# process of the machine, grouped by what it is. The groups say where a pipeline's time goes that its
# stages do not spend (the worker's own work, the blob store, the ledger, the index).
CPU_GROUPS = (
    ("frog", re.compile(r"(^|/)frog\b")),
    ("tika", re.compile(r"tika-server")),
    ("tesseract", re.compile(r"tesseract")),
    ("opensearch", re.compile(r"opensearch")),
    ("postgresql", re.compile(r"postgres")),
    ("s3", re.compile(r"s3proxy|minio")),
    ("redis", re.compile(r"redis")),
    ("worker", re.compile(r"search_api\.cli worker|celery")),
    ("ner_pool", re.compile(r"multiprocessing")),
)
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class ProcessTime(NamedTuple):
    seconds: float  # its own processor time and that of its children that ended and were waited for
    command: str
    parent: int


def cpu_by_process() -> dict[int, ProcessTime]:
    """Processor seconds so far of every process (with its children that ended, such as Tika's OCR
    runs), its command line and its parent; empty where there is no /proc."""
    found: dict[int, ProcessTime] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # from the state on: field 3 of the line is [0]
        ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        found[int(entry.name)] = ProcessTime(ticks / _TICK, command, int(fields[1]))
    return found


def cpu_spent(before: dict[int, ProcessTime], after: dict[int, ProcessTime]) -> dict[str, float]:
    """Processor seconds per group between two readings; "bench" is this process (the uploads the
    pipeline arm makes, the Tika arm's requests), "other" the rest of the machine.

    A process that ended between the readings hands its whole life to its parent's children's time;
    what it had spent by the first reading was counted already, so the parent is charged the rest only."""

    def group(pid: int, command: str) -> str:
        return "bench" if pid == os.getpid() else _group(command)

    spent: dict[str, float] = {}
    for pid, now in after.items():
        key = group(pid, now.command)
        spent[key] = spent.get(key, 0.0) + now.seconds - (before[pid].seconds if pid in before else 0.0)
    for pid, then in before.items():
        if pid not in after and then.parent in after:
            key = group(then.parent, after[then.parent].command)
            spent[key] = spent.get(key, 0.0) - then.seconds
    return {key: round(value, 2) for key, value in sorted(spent.items()) if value >= 0.01}


def _group(command: str) -> str:
    return next((name for name, pattern in CPU_GROUPS if pattern.search(command)), "other")


@dataclass
class Run:
    """One timed run of one arm over one class's files."""

    arm: str
    seconds: float
    pages: int
    load_before: float  # the 1-minute load average as the arm starts and ends: how quiet the machine was
    load_after: float
    cpu: dict[str, float] = field(default_factory=dict)  # processor seconds per group of processes

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds

    def row(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "pages_per_s": round(self.pages_per_s, 4),
            "load": [round(self.load_before, 2), round(self.load_after, 2)],
            "cpu_s": self.cpu,
        }


def timed(arm: str, pages: int, work: Callable[[], None]) -> Run:
    load_before = os.getloadavg()[0]
    cpu_before = cpu_by_process()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    spent = cpu_spent(cpu_before, cpu_by_process())
    return Run(arm, seconds, pages, load_before, os.getloadavg()[0], spent)


@dataclass
class Pipeline:
    """What the pipeline arm needs: the stack's clients and its worker (running)."""

    settings: Settings
    search: OpenSearch
    blobs: BlobStore
    sessions: sessionmaker[Session]
    celery: Celery

    def submit(self, documents: Sequence[Document], batch_id: str) -> list[int]:
        """Each file through the upload's own entry, its task sent once its ledger row is committed."""
        ids = []
        for document in documents:
            with document.path.open("rb") as stream:
                received = accept_upload(
                    self.blobs,
                    self.sessions,
                    stream,
                    file_name=document.name,
                    path=f"{document.kind}/{document.name}",
                    batch_id=batch_id,
                    uploader="bench",
                )
            self.celery.send_task(PROCESS_DOCUMENT, args=[received.upload_id])
            ids.append(received.upload_id)
        return ids

    def wait(self, batch_id: str, files: int, timeout: float = WAIT_SECONDS) -> list[Upload]:
        """The batch's ledger rows once all are final. The stopwatch asks a count of final rows four times
        a second, and twenty times once the last few files are in the works (the end is found within
        50 ms, and the polls cost the arm some 80 statements rather than 340); it reads the rows once."""
        deadline = time.monotonic() + timeout
        final = (
            select(func.count())
            .select_from(Upload)
            .where(Upload.batch_id == batch_id, Upload.status.in_(FINAL_STATES))
        )
        while True:
            with single_read(self.sessions) as session:
                done = session.scalar(final) or 0
            if done >= files:
                break
            if time.monotonic() > deadline:
                statuses = select(Upload.status).where(Upload.batch_id == batch_id)
                with self.sessions() as session:
                    states = Counter(session.scalars(statuses))
                raise BenchError(f"batch {batch_id} not final after {timeout:.0f} s: {dict(states)}")
            time.sleep(0.05 if files - done <= NEAR_END_FILES else 0.25)
        with self.sessions() as session:
            rows = list(session.scalars(select(Upload).where(Upload.batch_id == batch_id)))
            session.expunge_all()
        return rows

    def searchable(self, record_ids: Sequence[str]) -> int:
        """How many of these records `_count` finds after a refresh."""
        index = write_alias(self.settings.index_prefix, "document")
        self.search.indices.refresh(index=index)
        query = {"query": {"ids": {"values": list(record_ids)}}}
        return int(self.search.count(index=index, body=query)["count"])

    def run(self, documents: Sequence[Document]) -> tuple[Run, list[Upload]]:
        """Fresh index, bucket and ledger, then the timed run from the first submit until all are
        searchable: every round's files arrive as a first upload of their content would, not as copies of
        the last round's (which the worker would look up in the index, one request a file)."""
        reset_index(self.search, self.settings.index_prefix)
        if isinstance(self.blobs, S3BlobStore):
            empty_bucket(self.blobs)
        with transaction(self.sessions) as session:
            session.execute(delete(Upload))
        batch_id = f"b2-{uuid.uuid4().hex[:10]}"
        rows: list[Upload] = []

        def work() -> None:
            self.submit(documents, batch_id)
            rows.extend(self.wait(batch_id, len(documents)))
            record_ids = [row.record_id for row in rows if row.record_id]
            if self.searchable(record_ids) != len(documents):
                raise BenchError(f"batch {batch_id}: the index does not show every file's record")

        run = timed("pipeline", sum(d.pages for d in documents), work)
        return run, rows

    def indexed(self) -> list[dict[str, Any]]:
        """Every document the last run indexed (files and their embedded items): id and source."""
        index = write_alias(self.settings.index_prefix, "document")
        hits = self.search.search(index=index, body={"query": {"match_all": {}}, "size": 10_000})
        return [{"_id": hit["_id"], "_source": hit["_source"]} for hit in hits["hits"]["hits"]]


@dataclass
class Extracted:
    """What the raw Tika arm got back for one file."""

    text: str
    tika_pages: int | None
    content_type: str


def tika_stage(
    settings: Settings, documents: Sequence[Document], concurrency: int
) -> tuple[Run, list[Extracted]]:
    """The files PUT to Tika's recursive endpoint with the pipeline's own headers, `concurrency` at once."""
    url = settings.tika_url.rstrip("/") + "/rmeta/text"
    limits = ChildLimits()
    out: list[Extracted | None] = [None] * len(documents)
    # Connections kept open from one file to the next, as each worker process keeps its own.
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency))

    def one(position: int) -> None:
        document = documents[position]
        headers = headers_for(
            document.name,
            ocr=settings.ocr_enabled,
            ocr_languages=settings.ocr_languages,
            timeout_seconds=settings.tika_timeout_seconds,
            limits=limits,
        ) | {"Accept": "application/json"}  # as tika-python asks
        with document.path.open("rb") as stream:
            response = session.put(
                url, data=stream, headers=headers, timeout=settings.tika_timeout_seconds + 60
            )
        if response.status_code != 200:
            raise BenchError(f"Tika answered {response.status_code} for {document.name}")
        first = response.json()[0]
        pages = first.get("xmpTPg:NPages")
        out[position] = Extracted(
            str(first.get("X-TIKA:content") or "").strip(),
            int(pages) if isinstance(pages, str) and pages.isdigit() else None,
            str(first.get("Content-Type", "")),
        )

    def work() -> None:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(one, position) for position in range(len(documents))]:
                future.result()

    with session:
        run = timed("tika", sum(d.pages for d in documents), work)
    return run, [item for item in out if item is not None]


# The NER arm's processes: each loads every language's pipeline (Frog started) before it is timed.
def _warm_ner() -> None:
    from enrichers.ner import entities

    entities("Jan Peeters woont in Gent en werkt bij de politie.", "nl")
    entities("Marie Dupont habite à Liège et travaille au parquet.", "fr")
    entities("Hans Müller wohnt in Eupen.", "de")


def _ready() -> int:
    time.sleep(1)
    return os.getpid()


def _entities(text: str, language: str | None) -> int:
    from enrichers.ner import entities

    return len(entities(text, language))


class NerPool:
    """`concurrency` warm processes calling `enrichers.ner.entities`, as the worker's processes do."""

    def __init__(self, concurrency: int) -> None:
        """Start the processes; they load their models while the caller does something else."""
        self.concurrency = concurrency
        self.pool = ProcessPoolExecutor(
            max_workers=concurrency, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_ner
        )
        self.starting = [self.pool.submit(_ready) for _ in range(concurrency)]

    def wait_ready(self) -> None:
        """Every process started and warm (each has answered a task after its initializer)."""
        pids = {future.result() for future in self.starting}
        deadline = time.monotonic() + 300
        while len(pids) < self.concurrency and time.monotonic() < deadline:
            pids.update(f.result() for f in [self.pool.submit(_ready) for _ in range(self.concurrency)])
        if len(pids) < self.concurrency:
            raise BenchError("the NER processes did not all start")

    def run(self, texts: Sequence[str], pages: int) -> tuple[Run, int]:
        # Cut and language as the pipeline does (`_named_entities` after `detect_language` in `enrich`);
        # the language is found before timing: it is no part of NER.
        work_items = [(text[:NER_MAX_CHARS], detect_language(text)) for text in texts if text.strip()]
        found: list[int] = []

        def work() -> None:
            futures: list[Future[int]] = [self.pool.submit(_entities, *item) for item in work_items]
            found.extend(future.result() for future in futures)

        run = timed("ner", pages, work)
        return run, sum(found)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def bulk_stage(search: OpenSearch, prefix: str, documents: Sequence[dict[str, Any]], pages: int) -> Run:
    """The pipeline's final documents by `streaming_bulk` into a fresh index, until `_count` shows them."""
    drop_all(search, prefix)
    ensure_indices(search, prefix, kinds=["document"])
    index = write_alias(prefix, "document")
    actions = [{"_index": index, "_id": doc["_id"], "_source": doc["_source"]} for doc in documents]

    def work() -> None:
        for _ in streaming_bulk(search, actions, chunk_size=500):  # raise_on_error: a refusal stops it
            pass
        search.indices.refresh(index=index)
        count = int(search.count(index=index)["count"])
        if count != len(actions):
            raise BenchError(f"bulk: _count is {count}, not {len(actions)}")

    try:
        return timed("bulk", pages, work)
    finally:
        drop_all(search, prefix)


# -- the benchmark -----------------------------------------------------------------------------------
def serial(stages: dict[str, float]) -> float:
    """Pages per second of the stages one after the other: 1 / Σ 1/stage."""
    return 1 / sum(1 / value for value in stages.values())


@dataclass
class ClassRun:
    """The files of one class and what each round measured on them."""

    name: str
    documents: list[Document]
    rounds: list[dict[str, Any]] = field(default_factory=list)
    final: list[dict[str, Any]] = field(default_factory=list)  # the pipeline's documents, for the bulk arm
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return sum(d.pages for d in self.documents)


def check_pipeline(run: ClassRun, rows: list[Upload], final: list[dict[str, Any]]) -> dict[str, Any]:
    """Every file indexed, and with text (the scanned ones by OCR): else the figures mean nothing."""
    by_id = {doc["_id"]: doc["_source"] for doc in final}
    states = Counter(row.status for row in rows)
    with_text = [row for row in rows if (by_id.get(row.record_id or "", {}).get("text") or "").strip()]
    problems = [
        f"{row.file_name}: {row.status} {row.error or ''}".strip()
        for row in rows
        if row.status != "indexed" or row not in with_text
    ]
    if problems:
        raise BenchError(f"{run.name}: files not indexed with text: {problems[:5]}")
    return {
        "states": dict(states),
        "files_indexed_with_text": len(with_text),
        "records": len(final),
        "chars_indexed": sum(len(by_id[row.record_id or ""].get("text") or "") for row in rows),
        "page_count_indexed": sum(
            int(
                ((by_id[row.record_id or ""].get("details") or {}).get("document") or {}).get("page_count")
                or 0
            )
            for row in rows
        ),
    }


def one_round(
    number: int,
    run: ClassRun,
    pipeline: Pipeline,
    ner: NerPool,
    concurrency: int,
) -> dict[str, Any]:
    order = ["pipeline", "stages"] if number % 2 else ["stages", "pipeline"]
    runs: dict[str, Run] = {}
    extra: dict[str, Any] = {}
    for arm in order:
        if arm == "pipeline":
            runs["pipeline"], rows = pipeline.run(run.documents)
            final = pipeline.indexed()
            checks = check_pipeline(run, rows, final)
            if not run.final:
                run.final, run.checks = final, checks
            log(f"round {number} {run.name:12s} pipeline {runs['pipeline'].pages_per_s:8.3f} pages/s")
            continue
        runs["tika"], extracted = tika_stage(pipeline.settings, run.documents, concurrency)
        empty = [d.name for d, e in zip(run.documents, extracted, strict=True) if not e.text]
        if empty:
            raise BenchError(f"{run.name}: Tika returned no text for {empty[:5]}")
        runs["ner"], extra["entities"] = ner.run([e.text for e in extracted], run.pages)
        # The pages we made, as Tika counts them (xmpTPg:NPages): PDFs only, other formats have none.
        pdfs = [(d, e) for d, e in zip(run.documents, extracted, strict=True) if d.format in PDF_FORMATS]
        extra["pdf_pages"] = {
            "made": sum(d.pages for d, _ in pdfs),
            "tika": sum(e.tika_pages or 0 for _, e in pdfs),
        }
        extra["tika_chars"] = sum(len(e.text) for e in extracted)
        if not run.final:
            raise BenchError(
                "the bulk arm needs the pipeline's documents: the pipeline runs first in round 1"
            )
        # "<prefix>raw", not "<prefix>-raw": the pipeline's index template claims "<prefix>-*".
        runs["bulk"] = bulk_stage(
            pipeline.search, f"{pipeline.settings.index_prefix}raw", run.final, run.pages
        )
        log(
            f"round {number} {run.name:12s} stages   "
            + " ".join(f"{stage} {runs[stage].pages_per_s:8.3f}" for stage in STAGES)
            + " pages/s"
        )
    stages = {stage: runs[stage].pages_per_s for stage in STAGES}
    pipeline_rate = runs["pipeline"].pages_per_s
    return {
        "round": number,
        "order": order,
        **{arm: value.row() for arm, value in runs.items()},
        "serial_pages_per_s": round(serial(stages), 4),
        "ratio_to_serial": round(pipeline_rate / serial(stages), 4),
        "ratio_to_slowest": round(pipeline_rate / min(stages.values()), 4),
        **extra,
    }


def summarise_class(run: ClassRun) -> dict[str, Any]:
    def median(arm: str) -> float:
        return float(statistics.median(entry[arm]["pages_per_s"] for entry in run.rounds))

    def cpu(arm: str) -> float:
        return float(statistics.median(sum(entry[arm]["cpu_s"].values()) for entry in run.rounds))

    rates = {arm: median(arm) for arm in ("pipeline", *STAGES)}
    stages = {stage: rates[stage] for stage in STAGES}
    slowest = min(stages, key=lambda stage: stages[stage])
    return {
        "files": len(run.documents),
        "pages": run.pages,
        "formats": dict(sorted(Counter(d.format for d in run.documents).items())),
        "languages": dict(sorted(Counter(d.language for d in run.documents).items())),
        "chars": sum(d.chars for d in run.documents),
        "pages_per_s": {arm: round(value, 4) for arm, value in rates.items()}
        | {"serial": round(serial(stages), 4)},
        # Medians of the rounds' own ratios (each round's pipeline against that round's stages).
        "ratio_to_serial": round(statistics.median(entry["ratio_to_serial"] for entry in run.rounds), 3),
        "ratio_to_slowest": round(statistics.median(entry["ratio_to_slowest"] for entry in run.rounds), 3),
        "slowest_stage": slowest,
        "seconds_per_page": {arm: round(1 / value, 3) for arm, value in rates.items()},
        # Processor seconds of the whole machine per page, medians of the rounds: the pipeline's against
        # the sum of its stages' says how much work the pipeline adds to theirs.
        "cpu_s_per_page": {arm: round(cpu(arm) / run.pages, 4) for arm in ("pipeline", *STAGES)},
        "pipeline_checks": run.checks,
        "rounds": run.rounds,
    }


def run_b2(
    stack: Stack,
    sets: dict[str, list[Document]],
    warmup: list[Document],
    *,
    rounds: int,
    concurrency: int,
) -> dict[str, Any]:
    settings = stack.settings
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    search = make_search_client(settings)
    blobs = make_blob_store(settings)
    pipeline = Pipeline(settings, search, blobs, make_sessionmaker(engine), make_celery(settings))
    worker: Worker | None = None
    ner: NerPool | None = None
    try:
        started = time.perf_counter()
        ner = NerPool(concurrency)
        worker = Worker(stack, concurrency)
        # Every worker process loads Frog, spaCy and its clients on its first tasks; Tika warms its JVM.
        pipeline.run(warmup)
        log("worker warm")
        ner.wait_ready()
        log(f"worker and NER processes warm ({time.perf_counter() - started:.0f} s)")
        runs = {name: ClassRun(name, documents) for name, documents in sets.items() if documents}
        for number in range(1, rounds + 1):
            for run in runs.values():
                run.rounds.append(one_round(number, run, pipeline, ner, concurrency))
    finally:
        if ner is not None:
            ner.close()
        if worker is not None:
            worker.stop()
        stack.close(search, blobs)
        engine.dispose()
    versions = {
        "opensearch": search.info()["version"]["number"],
        "tika": requests.get(settings.tika_url.rstrip("/") + "/version", timeout=10).text.strip(),
    }
    search.close()
    return {
        "benchmark": "B2",
        "concurrency": concurrency,
        "rounds": rounds,
        "profile": "s3+postgresql" if settings.blob_backend == "s3" else "folder+sqlite",
        "ocr": {"enabled": settings.ocr_enabled, "languages": settings.ocr_languages},
        "ner_arm": (
            f"enrichers.ner.entities on text[:{NER_MAX_CHARS}] of each text the tika arm returned, language "
            f"from enrichers.language.detect_language (found before timing), {concurrency} processes"
        ),
        "classes": {name: summarise_class(run) for name, run in runs.items()},
        "environment": {"cpus": os.cpu_count(), "python": platform.python_version(), **versions},
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"B2 pipeline vs stages: {result['rounds']} rounds, concurrency {result['concurrency']}, "
        f"{result['profile']}",
        f"{'class':13s} {'files':>5s} {'pages':>5s} {'pipeline':>9s} {'tika':>9s} {'ner':>9s} {'bulk':>9s} "
        f"{'serial':>9s} {'/serial':>8s} {'/slowest':>8s}",
    ]
    for name, figures in result["classes"].items():
        rate = figures["pages_per_s"]
        lines.append(
            f"{name:13s} {figures['files']:5d} {figures['pages']:5d} "
            + " ".join(f"{rate[arm]:9.3f}" for arm in ("pipeline", *STAGES, "serial"))
            + f" {figures['ratio_to_serial']:8.3f} {figures['ratio_to_slowest']:8.3f}"
        )
    lines.append("pages/s, medians of the rounds; ratio_to_serial target >= 0.8")
    return "\n".join(lines)


def make_sets(
    folder: Path, counts: dict[str, int], seed: int, *, max_scan_pages: int | None
) -> dict[str, list[Document]]:
    return {
        BORN_DIGITAL: born_digital(folder / BORN_DIGITAL, counts[BORN_DIGITAL], seed),
        SCANNED: scanned(folder / SCANNED, counts[SCANNED], seed, max_pages=max_scan_pages),
    }


def make_warmup(folder: Path, seed: int, concurrency: int, *, scan: bool = True) -> list[Document]:
    """Files for the worker's first tasks (other texts than the sets'): Dutch and French, and a scan."""
    documents = born_digital(folder, 2 * concurrency, seed + 10_000)
    return documents + (scanned(folder, 1, seed + 10_000, start=3) if scan else [])


def main(argv: Sequence[str] | None = None) -> int:
    # A run stopped with SIGTERM still tears down what it set up (worker, databases, bucket, indices).
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    parser = argparse.ArgumentParser(prog="python -m bench.b2_pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few files of each class, one-page scans")
    parser.add_argument("--born-digital", type=int, help=f"born-digital files ({FULL[BORN_DIGITAL]})")
    parser.add_argument("--scanned", type=int, help=f"scanned files ({FULL[SCANNED]})")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (3; quick: 2)")
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENCY, help=f"worker processes ({CONCURRENCY})"
    )
    parser.add_argument("--profile", choices=["production", "embedded"], default="production")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="the JSON file (bench/results/b2.json, b2-quick.json)")
    args = parser.parse_args(argv)
    counts = dict(QUICK if args.quick else FULL)
    if args.born_digital is not None:
        counts[BORN_DIGITAL] = args.born_digital
    if args.scanned is not None:
        counts[SCANNED] = args.scanned
    rounds = args.rounds or (2 if args.quick else 3)
    mode = "quick" if args.quick else "full" if counts == FULL else "custom"
    out = args.out or RESULTS / ("b2.json" if mode == "full" else f"b2-{mode}.json")

    name = f"bench-b2-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="speurder-b2-") as folder:
        work = Path(folder)
        started = time.perf_counter()
        sets = make_sets(work / "files", counts, args.seed, max_scan_pages=1 if args.quick else None)
        warmup = make_warmup(work / "warmup", args.seed, args.concurrency, scan=not args.quick)
        log(
            "documents: "
            + ", ".join(f"{k} {len(v)} files {sum(d.pages for d in v)} pages" for k, v in sets.items())
            + f" ({time.perf_counter() - started:.0f} s)"
        )
        stack = make_stack(name, work, profile=args.profile)
        log(f"services up, deployment {name} ready")
        result = run_b2(stack, sets, warmup, rounds=rounds, concurrency=args.concurrency)
    result = {
        "benchmark": result.pop("benchmark"),
        "mode": mode,
        "seed": args.seed,
        **result,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(result))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
