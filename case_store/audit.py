"""The audit log: append-only, hash-chained, in its own database, apart from operational data.

Each event carries a sequence number and a hash over its content and the previous event's hash. An
edited row breaks its own hash, a removed row leaves a gap in the sequence, an inserted row breaks the
chain after it: `verify_chain` names the first event where the log stops being what was written.
Triggers refuse UPDATE and DELETE, so only someone who can change the schema can even try.
The one thing a chain cannot show by itself is the loss of its newest events: `head()` gives the
sequence number and hash to record elsewhere (a ticket, a signed mail) to anchor it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import psycopg
from psycopg.types.json import Json
from sqlalchemy import JSON, DateTime, Engine, Index, String, Text, event, insert, select
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from case_store.db import closed_by_server

GENESIS = "0" * 64

ACTIONS = {
    "consultation": "a search, a record or document opened",
    "disclosure": "an export, a download, a requisition answer handed on",
    "collection": "data brought in: uploads, ingests",
    "alteration": "records or rights changed: grants, case membership, attachments",
    "combination": "entities merged",
    "erasure": "data deleted (metadata only)",
    "login": "sign-in attempts",
}


class AuditBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class AuditEvent(AuditBase):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(80))
    client: Mapped[str | None] = mapped_column(String(64))
    justification: Mapped[str | None] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)
    # The ids of the records the event touched, space-separated, so an auditor can ask "who saw this?".
    subjects: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


@dataclass
class Entry:
    """What happened, by whom, why; `action` is `<kind>.<what>`, kind one of ACTIONS."""

    action: str
    actor: str
    unit: str
    justification: str | None = None
    query: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    subjects: tuple[str, ...] = ()
    client: str | None = None


class AuditUnavailable(RuntimeError):
    """The log could not be written; the caller must refuse the consultation (fail closed)."""


def _said(entry: Entry) -> dict[str, Any]:
    """What the entry says, as both the stored row and the hashed form name it."""
    return {
        "action": entry.action,
        "actor": entry.actor,
        "unit": entry.unit,
        "client": entry.client,
        "justification": entry.justification,
        "query": entry.query,
        "details": entry.details,
    }


def _row(seq: int, at: datetime, entry: Entry, prev_hash: str, digest: str) -> dict[str, Any]:
    return {
        **_said(entry),
        "seq": seq,
        "at": at,
        "subjects": " ".join(entry.subjects),
        "prev_hash": prev_hash,
        "hash": digest,
    }


def _digest(seq: int, prev_hash: str, at: datetime, entry: Entry) -> str:
    canonical = json.dumps(
        {
            "seq": seq,
            "prev": prev_hash,
            "at": at.astimezone(UTC).isoformat(),
            **_said(entry),
            "subjects": list(entry.subjects),
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_SQLITE_GUARDS = [
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
]
_POSTGRES_GUARDS = [
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "DROP TRIGGER IF EXISTS audit_append_only ON audit_events",
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
]


def prepare_audit_engine(engine: Engine) -> None:
    """Create the table and its append-only guards; on SQLite take the write lock at BEGIN."""
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection):  # type: ignore[no-untyped-def]
            # Two appenders must never read the same head: the write lock is taken before the read.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    AuditBase.metadata.create_all(engine)
    guards = _SQLITE_GUARDS if engine.dialect.name == "sqlite" else _POSTGRES_GUARDS
    with engine.begin() as connection:
        for statement in guards:
            connection.exec_driver_sql(statement)


_APPEND = insert(AuditEvent)  # built once: a search's event is the hottest write there is
# The same row straight through psycopg, the statement compiled once from the table for PostgreSQL:
# SQLAlchemy's execution around it cost a search 0.8 ms.
_DIRECT_APPEND = str(
    insert(AuditEvent)
    .inline()  # the generated id is not wanted back
    .compile(
        dialect=postgresql_psycopg.dialect(),
        column_keys=[column.name for column in AuditEvent.__table__.columns if not column.primary_key],
    )
)
_DIRECT_HEAD = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"


def _close_in_process(pid: int, connection: psycopg.Connection[Any]) -> None:
    if os.getpid() == pid:
        connection.close()


class AuditLog:
    """Appends go straight to the table, one INSERT each, with the chain kept by the database itself:
    the sequence number is unique, so of two appenders that read the same head only one can write
    the next event; the other reads the head again and retries. The head this process wrote last is
    its first guess, so a search's audit event costs one round trip (decision 24). A guess gone stale
    (another process appended) costs a refused INSERT and one read, never a fork in the chain.

    On PostgreSQL the process's appends take turns on one connection of their own, in autocommit: each
    INSERT is its own transaction, sent by psycopg without SQLAlchemy's pool and execution around it
    (decision 27). SQLite takes its write lock at BEGIN (prepare_audit_engine) and goes through the
    engine."""

    ATTEMPTS = 50  # each refused attempt means another appender went ahead; only a storm exhausts it

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._appending = threading.Lock()
        self._head: tuple[int, str] | None = None
        # Reads of the head outside an append need no transaction either.
        self._reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._direct: str | None = None  # the connection string of the appends' own connection
        self._connection: psycopg.Connection[Any] | None = None
        self._closer: weakref.finalize | None = None
        self._opened_in = 0  # the process that opened it
        if engine.dialect.name == "postgresql":
            self._direct = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def append(self, entry: Entry) -> str:
        """Write one event and return its hash; raise AuditUnavailable if it cannot be written."""
        with self._appending:  # the threads of one process take turns rather than collide
            try:
                return self._append(entry)
            except Exception as exc:
                self._head = None
                self._drop_connection()
                raise AuditUnavailable(f"the audit log could not be written: {exc}") from exc

    def _append(self, entry: Entry) -> str:
        row: dict[str, Any] | None = None
        reconnected = False
        for _ in range(self.ATTEMPTS):
            if row is None:
                seq, prev_hash = self._head or self._read_head()
                at = datetime.now(UTC)
                digest = _digest(seq + 1, prev_hash, at, entry)
                row = _row(seq + 1, at, entry, prev_hash, digest)
            try:
                self._insert(row)
            except (IntegrityError, psycopg.IntegrityError):
                self._head = self._read_head()
                if self._head == (seq + 1, digest):  # written after all: only the answer was lost
                    return digest
                if self._head[0] <= seq:  # no one went ahead: the event itself is refused
                    raise
                row = None  # another appender wrote event seq + 1: try after the new head
                continue
            except psycopg.OperationalError:
                # The connection broke with the INSERT under way: the very same row once more, on a
                # fresh connection; if the first did land, the unique sequence refuses the second.
                if reconnected or self._connection is None or not self._connection.broken:
                    raise
                self._drop_connection()
                reconnected = True
                continue
            self._head = (seq + 1, digest)
            return digest
        raise RuntimeError(f"{self.ATTEMPTS} appenders went first")

    def close(self) -> None:
        with self._appending:
            self._drop_connection()

    def _insert(self, row: dict[str, Any]) -> None:
        if self._direct is None:
            with self.engine.begin() as connection:
                connection.execute(_APPEND, row)
            return
        self._own_connection().execute(_DIRECT_APPEND, {**row, "details": Json(row["details"])})

    def _read_head(self) -> tuple[int, str]:
        if self._direct is None:
            return self.head()
        found = self._own_connection().execute(_DIRECT_HEAD).fetchone()
        return (found[0], found[1]) if found else (0, GENESIS)

    def _own_connection(self) -> psycopg.Connection[Any]:
        """The appends' connection, opened on first use and again when the server has hung up on it
        while idle (a restart, an administrator): found by its socket, without a round trip. It is
        closed with the log (`close`, or when the log is collected), and only by the process that
        opened it: a forked child leaves its parent's alone."""
        if self._connection is not None and self._opened_in != os.getpid():
            self._connection = None  # the parent's, inherited by a fork: never used nor closed here
        if self._connection is not None and closed_by_server(self._connection):
            self._drop_connection()
        if self._connection is None:
            assert self._direct is not None
            self._connection = psycopg.connect(self._direct, autocommit=True)
            self._opened_in = os.getpid()
            self._closer = weakref.finalize(self, _close_in_process, self._opened_in, self._connection)
        return self._connection

    def _drop_connection(self) -> None:
        if self._closer is not None:
            self._closer()
        self._connection, self._closer = None, None

    def head(self) -> tuple[int, str]:
        """The newest event's sequence number and hash: what to record elsewhere as an anchor."""
        with self._reader.connect() as connection:
            row = connection.execute(
                select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
            ).first()
        return (row[0], row[1]) if row else (0, GENESIS)

    def events(
        self,
        *,
        actor: str | None = None,
        subject: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """The newest events first, filtered by who, which record, what and when."""
        query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
        if actor:
            query = query.where(AuditEvent.actor == actor)
        if subject:
            query = query.where(AuditEvent.subjects.contains(subject))
        if action:
            query = query.where(AuditEvent.action.startswith(action))
        if since:
            query = query.where(AuditEvent.at >= since)
        if until:
            query = query.where(AuditEvent.at < until)
        with Session(self.engine) as session:
            return list(session.scalars(query))

    def verify_chain(self) -> int | None:
        """The sequence number where the log stops being what was written, or None when intact."""
        prev_hash, expected_seq = GENESIS, 1
        with Session(self.engine) as session:
            for row in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
                if row.seq != expected_seq:  # a removed event leaves a gap
                    return expected_seq
                entry = Entry(
                    row.action,
                    row.actor,
                    row.unit,
                    row.justification,
                    row.query,
                    row.details,
                    tuple(row.subjects.split()) if row.subjects else (),
                    row.client,
                )
                at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
                if row.prev_hash != prev_hash or _digest(row.seq, prev_hash, at, entry) != row.hash:
                    return row.seq
                prev_hash, expected_seq = row.hash, expected_seq + 1
        return None


CSV_COLUMNS = (
    "seq",
    "at",
    "action",
    "actor",
    "unit",
    "client",
    "justification",
    "query",
    "subjects",
    "details",
    "hash",
)


def to_csv(events: Iterable[AuditEvent]) -> str:
    """Events as CSV for the supervisory body, with the hashes that let them check the chain."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in events:
        writer.writerow(
            [
                row.seq,
                row.at.isoformat(),
                row.action,
                row.actor,
                row.unit,
                row.client or "",
                row.justification or "",
                row.query or "",
                row.subjects,
                json.dumps(row.details, ensure_ascii=False, sort_keys=True),
                row.hash,
            ]
        )
    return out.getvalue()
