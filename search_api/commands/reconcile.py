"""`speurder reconcile`: every ledger entry that is stuck or missing from the index is queued again.

Stuck: received or processing, and untouched for longer than a task can take (a worker lost as a whole,
an enqueue that failed after the upload was acknowledged). Missing: the ledger says the file went in but
its record is not in the index (an index restored from an older snapshot, a record deleted by hand).
Queuing twice is harmless: a task re-reads the ledger and does only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from celery import Celery
from opensearchpy import OpenSearch
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from case_store.db import transaction
from case_store.models import Upload, as_utc
from ingest.index.admin import write_alias
from ingest.tasks import PROCESS_DOCUMENT

# States whose ledger entry promises a record in the index.
WITH_RECORD = ("indexed", "duplicate", "encrypted", "unsupported")
MGET_CHUNK = 500


@dataclass
class Reconciliation:
    stuck: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)

    @property
    def queued(self) -> list[int]:
        return sorted({*self.stuck, *self.missing})


def _missing_from_index(search: OpenSearch, index: str, rows: list[tuple[int, str]]) -> list[int]:
    missing = []
    for start in range(0, len(rows), MGET_CHUNK):
        chunk = rows[start : start + MGET_CHUNK]
        ids = sorted({record for _, record in chunk})
        found = search.mget(index=index, body={"ids": ids}, _source=False)
        present = {doc["_id"] for doc in found["docs"] if doc.get("found")}
        missing += [upload_id for upload_id, record in chunk if record not in present]
    return missing


def reconcile(
    sessions: sessionmaker[Session],
    search: OpenSearch,
    celery: Celery,
    index_prefix: str,
    *,
    stale_after: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Reconciliation:
    """Find stuck and missing ledger entries and queue them again (unless `dry_run`)."""
    cutoff = (now or datetime.now(UTC)) - stale_after
    result = Reconciliation()
    with sessions() as session:
        waiting = session.execute(
            select(Upload.id, Upload.updated_at).where(Upload.status.in_(("received", "processing")))
        ).all()
        result.stuck = [upload_id for upload_id, updated in waiting if (as_utc(updated) or cutoff) <= cutoff]
        settled = session.execute(
            select(Upload.id, Upload.record_id).where(
                Upload.status.in_(WITH_RECORD), Upload.record_id.is_not(None)
            )
        ).all()
    result.missing = _missing_from_index(
        search,
        write_alias(index_prefix, "document"),
        [(upload_id, str(record)) for upload_id, record in settled],
    )
    if dry_run:
        return result
    if result.missing:
        with transaction(sessions) as session:
            for upload in session.scalars(select(Upload).where(Upload.id.in_(result.missing))):
                upload.status, upload.record_id, upload.attempts = "received", None, 0
    for upload_id in result.queued:
        celery.send_task(PROCESS_DOCUMENT, args=[upload_id])
    return result


def reconcile_command(
    stale_after: Annotated[
        int, typer.Option(help="Seconds without change after which a received or processing file is stuck")
    ] = 900,
    dry_run: Annotated[bool, typer.Option(help="Only say what would be queued")] = False,
) -> None:
    """Queue again every upload that is stuck or whose record is missing from the index."""
    from case_store.db import create_schema, make_engine, make_sessionmaker
    from ingest.celery_app import make_celery
    from ingest.index.client import make_search_client
    from ingest.settings import Settings

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    result = reconcile(
        make_sessionmaker(engine),
        make_search_client(settings),
        make_celery(settings),
        settings.index_prefix,
        stale_after=timedelta(seconds=stale_after),
        dry_run=dry_run,
    )
    verb = "would queue" if dry_run else "queued"
    typer.echo(
        f"stuck={len(result.stuck)} missing={len(result.missing)}: {verb} {len(result.queued)} uploads"
    )
