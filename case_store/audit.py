"""The audit log: append-only, hash-chained, in its own database, apart from operational data.

Each event's hash covers its content and the previous event's hash, so an edited or deleted row breaks
the chain at that point and `verify_chain` says where.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Engine, String, Text, event, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

GENESIS = "0" * 64


class AuditBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class AuditEvent(AuditBase):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(80))
    justification: Mapped[str | None] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


@dataclass
class Entry:
    """What happened: a consultation (search, open), a disclosure (export), a collection (upload)…"""

    action: str
    actor: str
    unit: str
    justification: str | None = None
    query: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class AuditUnavailable(RuntimeError):
    """The log could not be written; the caller must refuse the consultation (fail closed)."""


def _digest(prev_hash: str, at: datetime, entry: Entry) -> str:
    canonical = json.dumps(
        {
            "prev": prev_hash,
            "at": at.astimezone(UTC).isoformat(),
            "action": entry.action,
            "actor": entry.actor,
            "unit": entry.unit,
            "justification": entry.justification,
            "query": entry.query,
            "details": entry.details,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def prepare_audit_engine(engine: Engine) -> None:
    """Create the table; on SQLite take the write lock at BEGIN so two appenders never share a parent."""
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection):  # type: ignore[no-untyped-def]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    AuditBase.metadata.create_all(engine)


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, entry: Entry) -> str:
        """Write one event and return its hash; raise AuditUnavailable if it cannot be written."""
        try:
            with Session(self.engine) as session, session.begin():
                if self.engine.dialect.name == "postgresql":
                    # One appender at a time across processes: the chain has a single head.
                    session.execute(text("SELECT pg_advisory_xact_lock(727274)"))
                last = session.scalars(
                    select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
                ).first()
                prev_hash = last or GENESIS
                at = datetime.now(UTC)
                digest = _digest(prev_hash, at, entry)
                session.add(
                    AuditEvent(
                        at=at,
                        action=entry.action,
                        actor=entry.actor,
                        unit=entry.unit,
                        justification=entry.justification,
                        query=entry.query,
                        details=entry.details,
                        prev_hash=prev_hash,
                        hash=digest,
                    )
                )
            return digest
        except Exception as exc:
            raise AuditUnavailable(f"the audit log could not be written: {exc}") from exc

    def events(self, limit: int = 100) -> list[AuditEvent]:
        with Session(self.engine) as session:
            return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))

    def verify_chain(self) -> int | None:
        """The id of the first event whose hash does not hold, or None when the whole chain is intact."""
        prev_hash = GENESIS
        with Session(self.engine) as session:
            for row in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
                entry = Entry(row.action, row.actor, row.unit, row.justification, row.query, row.details)
                at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
                if row.prev_hash != prev_hash or _digest(prev_hash, at, entry) != row.hash:
                    return row.id
                prev_hash = row.hash
        return None
