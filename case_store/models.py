"""Operational data: users and their grants, cases, the upload ledger. The audit log lives apart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


ROLES = ("investigator", "analyst", "magistrate", "field_officer", "auditor", "administrator")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(80))
    clearance: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grants: Mapped[list[RegisterGrant]] = relationship(back_populates="user", cascade="all, delete-orphan")


class RegisterGrant(Base):
    """The right of one user to consult one register, until an optional expiry."""

    __tablename__ = "register_grants"
    __table_args__ = (UniqueConstraint("user_id", "register"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    register: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    granted_by: Mapped[str] = mapped_column(String(80), default="system")
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants")


class UnitGrant(Base):
    """The right of every member of a unit to consult one register, until an optional expiry."""

    __tablename__ = "unit_grants"
    __table_args__ = (UniqueConstraint("unit", "register"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(80))
    register: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    granted_by: Mapped[str] = mapped_column(String(80), default="system")
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseMember(Base):
    __tablename__ = "case_members"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40), default="member")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


CASE_ROLES = ("lead", "member", "reader")


UPLOAD_STATES = ("received", "processing", "indexed", "duplicate", "encrypted", "unsupported", "failed")
FINAL_STATES = frozenset({"indexed", "duplicate", "encrypted", "unsupported", "failed"})


class Upload(Base):
    """The ledger: one row per file received, created before the upload is acknowledged."""

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_sha256", "sha256"), Index("ix_uploads_batch", "batch_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(500))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int]
    register: Mapped[str] = mapped_column(String(40), default="ges")
    case_number: Mapped[str | None] = mapped_column(String(80), default=None)
    classification: Mapped[int] = mapped_column(default=0)
    uploader: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="received")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # What a clerk should know about a file that did go in (children left out, text cut off).
    note: Mapped[str | None] = mapped_column(Text, default=None)
    evidence_number: Mapped[str | None] = mapped_column(String(80), default=None)
    record_id: Mapped[str | None] = mapped_column(String(100), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    agent: Mapped[str | None] = mapped_column(String(100), default=None)
    meta: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


REQUISITION_KINDS = ("nbb_cpc_accounts", "telecom_subscriber", "vehicle_registration")
REQUISITION_STATES = (
    "draft",
    "submitted",
    "approved",
    "rejected",
    "executed",
    "answered",
    "failed",
    "expired",
)


class Requisition(Base):
    """A magistrate's standardised requisition, drafted in a case; see case_store/requisitions.py."""

    __tablename__ = "requisitions"
    __table_args__ = (Index("ix_requisitions_state", "state"), Index("ix_requisitions_case", "case_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))  # person or organisation
    subject_number: Mapped[str] = mapped_column(String(40))  # national or enterprise number, compact
    subject_name: Mapped[str] = mapped_column(String(200))
    period_from: Mapped[date | None] = mapped_column(Date, default=None)
    period_to: Mapped[date | None] = mapped_column(Date, default=None)
    legal_basis: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="nl")
    state: Mapped[str] = mapped_column(String(20), default="draft")
    deadline: Mapped[datetime]
    drafted_by: Mapped[str] = mapped_column(String(80))
    drafted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)
    # The signed-off document: the PDF as generated at approval, and its SHA-256.
    document: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    document_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    # One key for every attempt: a retried execution can never make the provider answer twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), default=None)
    provider_reference: Mapped[str | None] = mapped_column(String(100), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    executed_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    answer_record_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RequisitionEvent(Base):
    """Who did what to a requisition, when: one row per transition, never changed."""

    __tablename__ = "requisition_events"
    __table_args__ = (Index("ix_requisition_events_requisition", "requisition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requisition_id: Mapped[int] = mapped_column(ForeignKey("requisitions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text, default=None)


class SearchCursor(Base):
    """A deep-paging cursor's point in time, kept here because the engine's id is too long for a URL."""

    __tablename__ = "search_cursors"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    pit_id: Mapped[str] = mapped_column(Text)
    username: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CaseGraph(Base):
    """An analyst's graph saved into a case: how to draw it again, never the records it showed.

    The entities, the expanded nodes, positions and pins are kept; the nodes and edges are asked of the
    index again each time it is opened, under the access filter of whoever opens it."""

    __tablename__ = "case_graphs"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    root: Mapped[str] = mapped_column(String(300))
    hops: Mapped[int] = mapped_column(default=1)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    expanded: Mapped[list[str]] = mapped_column(JSON, default=list)
    pinned: Mapped[list[str]] = mapped_column(JSON, default=list)
    positions: Mapped[dict[str, list[float]]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
