"""The one database factory: engines and sessions for operational data and for the audit log."""

from __future__ import annotations

import select
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from case_store.models import Base
from case_store.notices import install_change_notices

# The oldest SQLite the embedded profile runs on: a worker claims a file with UPDATE … RETURNING.
SQLITE_MINIMUM = (3, 35)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if sqlite3.sqlite_version_info < SQLITE_MINIMUM:
            raise RuntimeError(
                f"SQLite {sqlite3.sqlite_version} is too old for the embedded profile: it needs "
                f"{'.'.join(map(str, SQLITE_MINIMUM))} or newer (UPDATE … RETURNING, decision 35)"
            )
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # WAL lets the web process read while a worker writes; foreign keys are off by default.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    engine = create_engine(url)
    event.listen(engine, "checkout", _discard_if_closed_by_server)
    return engine


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
    """A pooled connection the server has hung up on (a restart, an idle time-out) is replaced on
    checkout, at no cost: an idle connection whose socket is readable has been sent its end. SQLAlchemy's
    `pool_pre_ping` finds the same with a `SELECT 1`, which the driver wraps in a transaction: a round
    trip or two on every checkout, and every search checks out twice (decision 24)."""
    if closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed this connection")


def closed_by_server(connection: psycopg.Connection[Any]) -> bool:
    """Whether an idle connection has been hung up on (or closed on our side): its socket is readable,
    or has none. No round trip."""
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def create_schema(engine: Engine) -> None:
    """Create what is missing: new tables, and new columns that may be empty on existing tables.

    Anything more (a changed type, a new constraint) needs a real migration; there is none yet
    (docs/decisions.md, 14). Adding nullable columns in place keeps an existing data folder usable
    when a release adds a field, as the upload ledger's notes and evidence numbers did. On PostgreSQL
    the triggers that announce changed entitlements are made too, when missing or of an older version
    (case_store.notices)."""
    Base.metadata.create_all(engine)
    existing = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            present = {column["name"] for column in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable:
                    raise RuntimeError(
                        f"table {table.name} lacks the required column {column.name}: this database "
                        "needs a migration that does not exist yet; start from a fresh data folder"
                    )
                kind = column.type.compile(dialect=engine.dialect)
                connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
    install_change_notices(engine)


@contextmanager
def single_read(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for a read of one statement, which needs no transaction: in autocommit mode the driver
    sends neither BEGIN before it nor ROLLBACK after it, two round trips of three."""
    with sessions() as session:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session, session.begin():
        yield session
