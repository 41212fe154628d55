"""Celery tasks: ids in, the world re-read, only what is missing done."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from opensearchpy.exceptions import ConnectionError as SearchConnectionError

from case_store.db import make_engine, make_sessionmaker
from enrichers.ner import warm as warm_ner
from ingest.blobs import make_blob_store
from ingest.documents import DocumentPipeline
from ingest.index.client import make_search_client
from ingest.settings import Settings
from ingest.tika import ExtractionUnavailable

log = logging.getLogger(__name__)

PROCESS_DOCUMENT = "speurder.documents.process"
RETRY_LIMIT = 4


def pipeline_of(app: Celery) -> DocumentPipeline:
    """One pipeline per worker process, built on first use (after the fork, never at import)."""
    existing: DocumentPipeline | None = getattr(app, "_speurder_pipeline", None)
    if existing is None:
        settings: Settings = app.speurder_settings  # type: ignore[attr-defined]
        existing = DocumentPipeline(
            settings,
            make_search_client(settings),
            make_blob_store(settings),
            make_sessionmaker(make_engine(settings.resolved_database_url)),
        )
        app._speurder_pipeline = existing  # type: ignore[attr-defined]
    return existing


def _warm_models() -> None:
    try:
        warm_ner()
    except Exception:
        log.exception("NER models not loaded ahead of the first task; the first document loads them")


def _warm_in_background(**_: Any) -> None:
    """A new pool process loads Frog, the spaCy pipelines and the language detector while it waits for its
    first task, rather than in the middle of its first Dutch and first French document (seconds each). A
    task that needs a pipeline meanwhile waits for that build (`enrichers.ner.pipeline`)."""
    threading.Thread(target=_warm_models, name="speurder-warm", daemon=True).start()


def register(app: Celery) -> None:
    # Pool processes only (after the fork): the worker's main process never parses a document.
    worker_process_init.connect(_warm_in_background, weak=False, dispatch_uid="speurder-warm-models")

    @app.task(name=PROCESS_DOCUMENT, bind=True, max_retries=RETRY_LIMIT, ignore_result=True)
    def process_document(self: Task, upload_id: int) -> Any:
        pipeline = pipeline_of(self.app)
        try:
            return pipeline.process(upload_id)
        except (ExtractionUnavailable, SearchConnectionError) as exc:
            # A service is away: the file is not at fault. Back off, then give it a visible state.
            if self.request.retries >= RETRY_LIMIT:
                pipeline.fail(upload_id, f"a service stayed unavailable: {exc}")
                return "failed"
            pipeline.release(upload_id)
            raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
        except Exception as exc:
            pipeline.fail(upload_id, f"{type(exc).__name__}: {exc}")
            raise
