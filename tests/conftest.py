"""Fixtures: real services (started if they are not running), isolated indices and databases per run.

In CI a service that cannot start fails the run: nothing here ever skips.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from case_store.cases import add_member, ensure_case
from case_store.db import create_schema, make_engine, make_sessionmaker, transaction
from case_store.users import add_user, grant_register
from ingest.index.admin import drop_all, ensure_indices
from ingest.index.client import make_search_client
from ingest.sample_documents import SampleDocument, write_sample_documents
from ingest.settings import Settings
from search_api.app import create_app
from search_api.services import ALL, ServiceContext, make_service

ROOT = Path(__file__).resolve().parent.parent
RUN = uuid.uuid4().hex[:8]
PASSWORD = "correct horse battery staple"


def base_settings(**overrides: object) -> Settings:
    """Settings of the shared services (the repository's data folder), with test overrides."""
    values: dict[str, object] = {
        "environment": "test",
        "data_dir": ROOT / "var",
        "redis_embedded": os.environ.get("SPEURDER_REDIS_EMBEDDED", "false") == "true",
        # One investigator signs in for a whole session of tests, which search far faster than anyone
        # types: the limit of 120 a minute would refuse them. The limiter has its own test.
        "searches_per_minute": 100_000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session", autouse=True)
def services() -> None:
    """Every service up; idempotent, so a running set is reused."""
    ctx = ServiceContext(base_settings())
    for name in ALL:
        make_service(name, ctx).up()


@pytest.fixture(scope="session")
def search() -> Iterator[OpenSearch]:
    client = make_search_client(base_settings())
    yield client
    client.close()


def _postgres_database(name: str, owner: str = "speurder") -> str:
    """A fresh database owned by `owner`; only that role (and the superuser) may connect to it."""
    settings = base_settings()
    admin = f"postgresql://postgres@127.0.0.1:{settings.postgres_port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner,)).fetchone():
            conn.execute(f'CREATE ROLE "{owner}" LOGIN')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        conn.execute(f'REVOKE CONNECT ON DATABASE "{name}" FROM PUBLIC')
    return f"postgresql+psycopg://{owner}@127.0.0.1:{settings.postgres_port}/{name}"


def _drop_postgres_database(name: str) -> None:
    settings = base_settings()
    admin = f"postgresql://postgres@127.0.0.1:{settings.postgres_port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["embedded", "production"])
def profile(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Two deployments side by side: folder + SQLite (the default) and S3 + PostgreSQL (production)."""
    name = request.param
    prefix = f"test-{RUN}-{name}"
    queue = f"{prefix}-tasks"
    if name == "embedded":
        work = tmp_path_factory.mktemp("embedded")
        settings = base_settings(
            index_prefix=prefix,
            task_queue=queue,
            blob_backend="folder",
            database_url=f"sqlite:///{work / 'speurder.db'}",
            audit_database_url=f"sqlite:///{work / 'audit.db'}",
        )
        yield settings
    else:
        database = f"speurder_test_{RUN}"
        audit = f"speurder_audit_{RUN}"
        settings = base_settings(
            index_prefix=prefix,
            task_queue=queue,
            blob_backend="s3",
            s3_bucket=f"test-{RUN}",
            database_url=_postgres_database(database),
            # The audit log has its own database and its own credentials.
            audit_database_url=_postgres_database(audit, owner="speurder_audit"),
        )
        yield settings
        _drop_postgres_database(database)
        _drop_postgres_database(audit)
    drop_all(make_search_client(settings), prefix)


def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings for a child process (worker, CLI), as SPEURDER_* variables."""
    return {**os.environ, **settings.as_env()}


@pytest.fixture(scope="session")
def worker(profile: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker over the real Redis, in its own process, for this profile."""
    log = ROOT / "var" / "logs" / f"test-worker-{RUN}-{profile.blob_backend}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "search_api.cli", "worker", "--concurrency", "2"],
            env=settings_env(profile),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    deadline = time.monotonic() + 90
    while b"ready." not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start; see {log}:\n{log.read_text()[-2000:]}")
        time.sleep(0.5)
    yield process
    process.terminate()
    process.wait(timeout=60)


@pytest.fixture(scope="session")
def app_client(profile: Settings) -> Iterator[TestClient]:
    engine = make_engine(profile.resolved_database_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        add_user(session, "rechercheur", PASSWORD, role="investigator", unit="PZ Gent/Recherche", clearance=2)
        for register in ("ges", "islp"):
            grant_register(session, "rechercheur", register)
        ensure_case(session, "CASE-2026-001", title="Inbraken Gent", lead="rechercheur")
        add_member(session, "CASE-2026-001", "rechercheur", "lead")
    ensure_indices(make_search_client(profile), profile.index_prefix)
    with TestClient(create_app(profile), base_url="http://127.0.0.1") as client:
        yield client
    engine.dispose()


def login(client: TestClient, username: str = "rechercheur", password: str = PASSWORD) -> str:
    """Sign in through the form; return the CSRF token for later state-changing requests."""
    client.cookies.clear()
    page = client.get("/login")
    token = page.context["csrf_token"]  # type: ignore[attr-defined]
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(client.get("/search").context["csrf_token"])  # type: ignore[attr-defined]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, for what only a database server does."""
    name = f"speurder_unit_{uuid.uuid4().hex[:10]}"
    yield _postgres_database(name)
    _drop_postgres_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each engine the product supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


def wait_for_batch(client: TestClient, batch: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/api/batches/{batch}").json()
        if status["done"] or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def upload(
    client: TestClient, token: str, files: list[tuple[str, bytes]], case: str | None = None
) -> dict[str, Any]:
    response = client.post(
        "/api/documents",
        files=[("files", (name, io.BytesIO(content))) for name, content in files],
        data={"case": case} if case else {},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 202, response.text
    return response.json()


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[SampleDocument]:
    return write_sample_documents(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="session")
def indexed_samples(app_client: TestClient, worker: object, samples: list[SampleDocument]) -> dict[str, Any]:
    """The three sample documents uploaded through the API and taken to their final state."""
    token = login(app_client)
    answer = upload(app_client, token, [(doc.path.name, doc.path.read_bytes()) for doc in samples])
    status = wait_for_batch(app_client, answer["batch"])
    assert status["done"], status
    return status
