"""The Celery app factory: the broker and task settings every worker and producer share."""

from __future__ import annotations

import os

from celery import Celery

from ingest.documents import TIKA_RESTART_SECONDS
from ingest.settings import Settings


def default_worker_processes() -> int:
    """One pool process more than the cores this process may use (decision 26). A file's task waits for
    Tika, Frog, OpenSearch, S3 and the ledger, all other processes; with one process per core a core
    sits idle whenever both processes wait at once. The extra process costs its own Frog (about 0.8 GB)."""
    return len(os.sched_getaffinity(0)) + 1


def make_celery(settings: Settings) -> Celery:
    app = Celery("speurder", broker=settings.redis_url, set_as_current=False)
    # Two extractions (with OCR, then without) within Tika's limit and the HTTP margin, Tika's restart
    # between them, then indexing: a task outliving all of these is stuck.
    soft_limit = 2 * (max(settings.tika_timeout_seconds, 31) + 30) + TIKA_RESTART_SECONDS + 60
    app.conf.update(
        task_default_queue=settings.task_queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A task is acknowledged when done, so a crashed worker's task is delivered again; the
        # bodies are idempotent and the ledger counts deliveries to stop a poison file.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # No task hangs a worker: past the soft limit the file is failed with its reason; past the hard
        # limit the pool process is replaced and `speurder reconcile` queues the entry again.
        task_soft_time_limit=soft_limit,
        task_time_limit=soft_limit + 60,
        broker_connection_retry_on_startup=True,
        # Redis gives an unacknowledged task to another worker only after this; a whole worker lost
        # sooner (power, SIGKILL) is covered by `speurder reconcile`, a pool process by the line above.
        broker_transport_options={"visibility_timeout": 3600},
        worker_hijack_root_logger=False,
    )
    app.speurder_settings = settings  # type: ignore[attr-defined]
    from ingest import tasks  # the task module needs the app; it is part of this factory

    tasks.register(app)
    return app
