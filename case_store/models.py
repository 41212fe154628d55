"""Operational data: users and their grants, cases, the upload ledger. The audit log lives apart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
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
    record_id: Mapped[str | None] = mapped_column(String(100), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    agent: Mapped[str | None] = mapped_column(String(100), default=None)
    meta: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
