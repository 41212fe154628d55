"""Files are never lost: a worker killed mid-batch, stuck and missing entries, poison files, reports.

Each test runs its own Celery worker on its own queue where it needs to kill one, so the session's worker
never takes its tasks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from select import select as select_sockets
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from case_store.db import make_engine, make_sessionmaker, transaction
from case_store.models import FINAL_STATES, Upload
from ingest.blobs import make_blob_store
from ingest.celery_app import make_celery
from ingest.documents import accept_upload
from ingest.index.admin import write_alias
from ingest.settings import Settings
from ingest.tasks import PROCESS_DOCUMENT
from search_api.commands.reconcile import reconcile
from tests.conftest import ROOT, RUN, login, settings_env, upload, wait_for_batch

pytestmark = pytest.mark.slow


@contextmanager
def own_worker(settings: Settings, name: str) -> Iterator[subprocess.Popen[bytes]]:
    """A worker in its own process group (so the whole of it can be killed at once)."""
    log = ROOT / "var" / "logs" / f"test-worker-{RUN}-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "search_api.cli", "worker", "--concurrency", "2"],
            env=settings_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 90
    while b"ready." not in log.read_bytes():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.5)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=120)


def pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


@pytest.fixture
def sessions(profile: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(profile.resolved_database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def ledger(sessions: sessionmaker[Session], batch: str) -> list[Upload]:
    with sessions() as session:
        return list(session.scalars(select(Upload).where(Upload.batch_id == batch).order_by(Upload.id)))


def wait_until(predicate: Any, timeout: float = 600) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


@pytest.mark.parametrize("profile", ["production"], indirect=True)
def test_worker_killed_mid_batch_every_file_indexed_exactly_once(
    profile: Settings, app_client: TestClient, search: OpenSearch, sessions: sessionmaker[Session]
) -> None:
    settings = profile.model_copy(update={"task_queue": f"{profile.task_queue}-loss"})
    blobs = make_blob_store(settings)
    celery = make_celery(settings)
    batch = f"loss-{uuid.uuid4().hex[:8]}"
    marker = f"kraak{uuid.uuid4().hex[:6]}"
    ids = []
    for number in range(24):
        content = f"Proces-verbaal {number} van zaak {marker}: verhoor van getuige {number}.\n".encode()
        ids.append(
            accept_upload(
                blobs,
                sessions,
                io.BytesIO(content),
                file_name=f"pv-{number}.txt",
                path=f"pv/{number}.txt",
                batch_id=batch,
                uploader="rechercheur",
            ).upload_id
        )
    with own_worker(settings, "loss-1") as first:
        for upload_id in ids:
            celery.send_task(PROCESS_DOCUMENT, args=[upload_id])
        assert wait_until(lambda: sum(u.status == "indexed" for u in ledger(sessions, batch)) >= 2)
        # One pool process dies in the middle of a task (its task is rejected and delivered again)...
        os.kill(pool_children(first.pid)[0], signal.SIGKILL)
        assert wait_until(lambda: sum(u.status == "indexed" for u in ledger(sessions, batch)) >= 6)
        # ... then the whole worker, as with a power cut.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    states = [u.status for u in ledger(sessions, batch)]
    assert sum(state in FINAL_STATES for state in states) < len(ids), "the batch was over before the kill"
    with own_worker(settings, "loss-2"):
        # Entries the dead worker held unacknowledged are stuck until reconciled.
        reconcile(sessions, search, celery, settings.index_prefix, stale_after=timedelta(seconds=0))
        assert wait_until(lambda: all(u.status in FINAL_STATES for u in ledger(sessions, batch)))
    rows = ledger(sessions, batch)
    assert [u.status for u in rows] == ["indexed"] * len(ids), [(u.path, u.status, u.error) for u in rows]
    search.indices.refresh(index=write_alias(settings.index_prefix, "document"))
    for row in rows:
        hits = search.count(
            index=write_alias(settings.index_prefix, "document"),
            body={"query": {"term": {"provenance.sha256": row.sha256}}},
        )["count"]
        assert hits == 1, row.path
    total = search.count(
        index=write_alias(settings.index_prefix, "document"),
        body={"query": {"match": {"text": marker}}},
    )["count"]
    assert total == len(ids)


@pytest.mark.parametrize("profile", ["embedded"], indirect=True)
def test_reconcile_queues_stuck_and_missing_entries(
    profile: Settings,
    app_client: TestClient,
    worker: object,
    search: OpenSearch,
    sessions: sessionmaker[Session],
) -> None:
    token = login(app_client)
    done = upload(app_client, token, [("eerst.txt", b"Eerste verslag over de zaak reconciliatie-alfa.\n")])
    first = wait_for_batch(app_client, done["batch"])["items"][0]
    assert first["status"] == "indexed"
    # The record vanishes from the index (an older snapshot restored), the ledger still says indexed.
    search.delete(index=write_alias(profile.index_prefix, "document"), id=first["record_id"], refresh=True)
    # An upload acknowledged, but its task never queued (the broker was away at that moment).
    never = accept_upload(
        make_blob_store(profile),
        sessions,
        io.BytesIO(b"Nooit in de wachtrij: zaak reconciliatie-beta.\n"),
        file_name="vergeten.txt",
        path="vergeten.txt",
        batch_id=done["batch"],
        uploader="rechercheur",
    )
    result = subprocess.run(
        [sys.executable, "-m", "search_api.cli", "reconcile", "--stale-after", "0"],
        env=settings_env(profile),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "missing=1" in result.stdout, result.stdout
    status = wait_for_batch(app_client, done["batch"])
    assert [item["status"] for item in status["items"]] == ["indexed", "indexed"]
    assert status["items"][1]["upload_id"] == never.upload_id
    assert search.exists(index=write_alias(profile.index_prefix, "document"), id=first["record_id"])
    # Nothing left to do: a second run finds nothing.
    again = reconcile(
        sessions,
        search,
        make_celery(profile),
        profile.index_prefix,
        stale_after=timedelta(seconds=0),
        dry_run=True,
    )
    mine = {item["upload_id"] for item in status["items"]}
    assert not mine & set(again.queued)


@pytest.mark.parametrize("profile", ["embedded"], indirect=True)
def test_poison_file_is_quarantined_then_retried_from_the_batch_page(
    profile: Settings, app_client: TestClient, worker: object, sessions: sessionmaker[Session]
) -> None:
    token = login(app_client)
    answer = upload(
        app_client, token, [("gif.txt", b"Een bestand dat zijn werker telkens doodt: zaak gif.\n")]
    )
    # As if the file had killed its worker at every delivery so far: the next delivery is one too many.
    item = answer["files"][0]
    wait_for_batch(app_client, answer["batch"])
    with transaction(sessions) as session:
        row = session.get(Upload, item["upload_id"])
        assert row is not None
        row.status, row.attempts, row.record_id = "processing", 6, None
    make_celery(profile).send_task(PROCESS_DOCUMENT, args=[item["upload_id"]])
    status = wait_for_batch(app_client, answer["batch"])
    assert status["items"][0]["status"] == "failed"
    assert "quarantined" in status["items"][0]["error"]
    assert status["failures"] == [
        {"upload_id": item["upload_id"], "file": "gif.txt", "error": status["items"][0]["error"]}
    ]
    page = app_client.get(f"/batches/{answer['batch']}")
    assert page.template.name == "batch.html"  # type: ignore[attr-defined]
    assert f'name="upload" value="{item["upload_id"]}"' in page.text
    # Without the CSRF token the retry is refused; with it (as htmx sends it) the file goes again.
    refused = app_client.post(f"/batches/{answer['batch']}/retry", data={"upload": item["upload_id"]})
    assert refused.status_code == 403
    fragment = app_client.post(
        f"/batches/{answer['batch']}/retry",
        data={"upload": item["upload_id"]},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert fragment.template.name == "_batch.html"  # type: ignore[attr-defined]
    status = wait_for_batch(app_client, answer["batch"])
    assert status["items"][0]["status"] == "indexed"
    assert status["failures"] == []


@pytest.mark.parametrize("profile", ["embedded"], indirect=True)
def test_completeness_report_lists_every_file_with_its_own_hash(
    profile: Settings, app_client: TestClient, worker: object
) -> None:
    token = login(app_client)
    corrupt = b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nendobj\ntrailer kapot"
    files = [
        ("beslag/verslag.txt", b"Verslag van de huiszoeking in de zaak volledigheid.\n"),
        ("beslag/kapot.pdf", corrupt),
        ("beslag/kopie/verslag.txt", b"Verslag van de huiszoeking in de zaak volledigheid.\n"),
    ]
    answer = upload(app_client, token, files)
    status = wait_for_batch(app_client, answer["batch"])
    assert status["done"] and status["final"] == 3
    assert status["files_per_minute"] is not None and status["eta_seconds"] == 0
    reports = status["reports"]
    downloaded = {}
    for kind in ("csv", "pdf"):
        response = app_client.get(reports[kind]["url"])
        assert response.status_code == 200
        digest = hashlib.sha256(response.content).hexdigest()
        assert response.headers["x-content-sha256"] == digest == reports[kind]["sha256"]
        downloaded[kind] = response.content
    rows = list(csv.DictReader(io.StringIO(downloaded["csv"].decode())))
    assert [row["path"] for row in rows] == [name for name, _ in files]
    by_path = {row["path"]: row for row in rows}
    assert by_path["beslag/kapot.pdf"]["status"] == "failed" and by_path["beslag/kapot.pdf"]["reason"]
    assert sorted(row["status"] for row in rows) == ["failed", "indexed", "indexed"] or sorted(
        row["status"] for row in rows
    ) == ["duplicate", "failed", "indexed"]
    assert downloaded["pdf"].startswith(b"%PDF")
    # The same batch gives the same bytes: the hash shown can be cited.
    assert app_client.get(reports["pdf"]["url"]).content == downloaded["pdf"]
    page = app_client.get(f"/batches/{answer['batch']}")
    assert reports["pdf"]["sha256"] in page.text and reports["csv"]["sha256"] in page.text
    assert app_client.get(f"/api/batches/{answer['batch']}/report.xml").status_code == 404


class Forwarder(socketserver.ThreadingTCPServer):
    """A TCP relay to the real Tika: the service "coming back" on the port the worker was given."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.target = target
        super().__init__(("127.0.0.1", port), _Relay)


class _Relay(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: Forwarder = self.server  # type: ignore[assignment]
        with socket.create_connection(server.target) as upstream:
            sockets = [self.request, upstream]
            while True:
                readable, _, _ = select_sockets(sockets, [], [], 30)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is self.request else self.request).sendall(data)


@pytest.mark.parametrize("profile", ["embedded"], indirect=True)
def test_tika_away_the_task_backs_off_and_goes_in_when_it_is_back(
    profile: Settings, app_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = profile.model_copy(
        update={"task_queue": f"{profile.task_queue}-away", "tika_url": f"http://127.0.0.1:{port}"}
    )
    batch = f"away-{uuid.uuid4().hex[:8]}"
    received = accept_upload(
        make_blob_store(settings),
        sessions,
        io.BytesIO(f"Verslag terwijl Tika weg was: zaak {batch}.\n".encode()),
        file_name="weg.txt",
        path="weg.txt",
        batch_id=batch,
        uploader="rechercheur",
    )
    log = ROOT / "var" / "logs" / f"test-worker-{RUN}-away.log"
    with own_worker(settings, "away"):
        make_celery(settings).send_task(PROCESS_DOCUMENT, args=[received.upload_id])
        assert wait_until(lambda: b"Retry in" in log.read_bytes(), timeout=120), log.read_text()[-2000:]
        assert ledger(sessions, batch)[0].status == "received"  # handed back, not failed
        tika = urlsplit(profile.tika_url)
        relay = Forwarder(port, (tika.hostname or "127.0.0.1", tika.port or 80))
        threading.Thread(target=relay.serve_forever, daemon=True).start()
        try:
            assert wait_until(lambda: ledger(sessions, batch)[0].status in FINAL_STATES, timeout=300)
        finally:
            relay.shutdown()
            relay.server_close()
    row = ledger(sessions, batch)[0]
    assert (row.status, row.error) == ("indexed", None)
