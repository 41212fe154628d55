"""Accounts, passwords (argon2), lock-out, and the grants that decide what a user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import (
    CompoundSelect,
    DateTime,
    Integer,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from case_store.db import single_read
from case_store.models import ROLES, Case, CaseMember, RegisterGrant, UnitGrant, User, as_utc

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class Entitlements:
    """Who someone is and what they may consult, as of now."""

    username: str
    display_name: str
    role: str
    unit: str
    clearance: int
    registers: frozenset[str]
    case_numbers: frozenset[str]


def add_user(
    session: Session,
    username: str,
    password: str,
    *,
    role: str,
    unit: str,
    display_name: str | None = None,
    clearance: int = 1,
) -> User:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if not 0 <= clearance <= 3:
        raise UserError("clearance is a level from 0 to 3")
    if len(password) < 12:
        raise UserError("a password has at least 12 characters")
    if session.scalar(select(User).where(User.username == username)):
        raise UserError(f"user {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=_hasher.hash(password),
        role=role,
        unit=unit,
        clearance=clearance,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def grant_register(
    session: Session, username: str, register: str, *, expires_at: datetime | None = None, by: str = "system"
) -> None:
    user = get_user(session, username)
    grant = session.scalar(
        select(RegisterGrant).where(RegisterGrant.user_id == user.id, RegisterGrant.register == register)
    )
    if grant is None:
        session.add(RegisterGrant(user_id=user.id, register=register, expires_at=expires_at, granted_by=by))
    else:
        grant.expires_at = expires_at
        grant.granted_by = by


def grant_unit_register(
    session: Session, unit: str, register: str, *, expires_at: datetime | None = None, by: str = "system"
) -> None:
    grant = session.scalar(select(UnitGrant).where(UnitGrant.unit == unit, UnitGrant.register == register))
    if grant is None:
        session.add(UnitGrant(unit=unit, register=register, expires_at=expires_at, granted_by=by))
    else:
        grant.expires_at = expires_at
        grant.granted_by = by


def revoke_register(session: Session, username: str, register: str) -> bool:
    user = get_user(session, username)
    grant = session.scalar(
        select(RegisterGrant).where(RegisterGrant.user_id == user.id, RegisterGrant.register == register)
    )
    if grant is None:
        return False
    session.delete(grant)
    return True


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password is right and the account not locked; counts failures for lock-out."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        # Hash anyway so a wrong user name costs as much time as a wrong password.
        _hasher.hash(password)
        return None
    now = datetime.now(UTC)
    locked_until = as_utc(user.locked_until)
    if locked_until and locked_until > now:
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        return None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _entitlements_statement() -> CompoundSelect[Any]:
    """The account, its own grants, its unit's grants and its cases, as tagged rows of one statement."""
    account = (
        select(User.id, User.unit)
        .where(User.username == bindparam("username"), User.active.is_(True))
        .subquery()
    )
    no_text, no_number = cast(null(), String), cast(null(), Integer)
    no_moment = cast(null(), DateTime(timezone=True))
    return union_all(
        select(literal("user"), User.display_name, User.role, User.unit, User.clearance, no_moment).where(
            User.id.in_(select(account.c.id))
        ),
        select(
            literal("register"), RegisterGrant.register, no_text, no_text, no_number, RegisterGrant.expires_at
        ).join(account, RegisterGrant.user_id == account.c.id),
        select(
            literal("register"), UnitGrant.register, no_text, no_text, no_number, UnitGrant.expires_at
        ).join(account, UnitGrant.unit == account.c.unit),
        select(literal("case"), Case.number, no_text, no_text, no_number, no_moment)
        .join(CaseMember, CaseMember.case_id == Case.id)
        .join(account, CaseMember.user_id == account.c.id),
    )


_ENTITLEMENTS = _entitlements_statement()


def entitlements(session: Session, username: str) -> Entitlements:
    """What a user may see, read afresh on every request (a withdrawn grant counts at once).

    Every search and every page view asks, so it is one statement, built once and sent on the
    session's connection (Core, not the ORM): one round trip. An account that is switched off has no
    entitlements at all."""
    rows = [tuple(row) for row in session.connection().execute(_ENTITLEMENTS, {"username": username})]
    return _entitled(username, rows)


def _entitled(username: str, rows: list[tuple[Any, ...]]) -> Entitlements:
    now = datetime.now(UTC)
    user = next((row for row in rows if row[0] == "user"), None)
    if user is None:
        raise UserError(f"no active user {username!r}")
    return Entitlements(
        username=username,
        display_name=user[1],
        role=user[2],
        unit=user[3],
        clearance=user[4],
        registers=frozenset(
            row[1]
            for row in rows
            if row[0] == "register" and (row[5] is None or (as_utc(row[5]) or now) > now)
        ),
        case_numbers=frozenset(row[1] for row in rows if row[0] == "case"),
    )


class EntitlementReader:
    """The entitlements of the user behind a web request, read without a worker thread where it can.

    On PostgreSQL the statement goes out from the event loop over an asynchronous connection pool:
    a plain dependency would be run in the thread pool, two hand-overs per request, which cost a
    search more than the read itself (decision 25). SQLite has no asynchronous driver here; there the
    read runs in a thread as before. Either way it is the same statement and the same answer."""

    def __init__(self, url: str, sessions: sessionmaker[Session], *, max_connections: int = 10) -> None:
        self._sessions = sessions
        self._pool: AsyncConnectionPool | None = None
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            compiled = _ENTITLEMENTS.compile(dialect=parsed.get_dialect()())
            self._sql = str(compiled)
            self._params = dict(compiled.params)
            self._pool = AsyncConnectionPool(
                parsed.set(drivername="postgresql").render_as_string(hide_password=False),
                min_size=1,
                max_size=max_connections,
                kwargs={"autocommit": True},
                open=False,
            )

    async def open(self) -> None:
        if self._pool is not None:
            await self._pool.open()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def read(self, username: str) -> Entitlements:
        if self._pool is None:
            return await anyio.to_thread.run_sync(self._read_in_thread, username)
        params = {**self._params, "username": username}
        for attempt in (1, 2):
            async with self._pool.connection() as connection:
                try:
                    cursor = await connection.execute(self._sql, params)
                    rows = [tuple(row) for row in await cursor.fetchall()]
                except psycopg.OperationalError:
                    # The server ended this idle connection (a restart, an administrator): the pool
                    # drops a broken connection when it comes back, and the read is tried once more.
                    if attempt == 2 or not connection.broken:
                        raise
                    continue
            return _entitled(username, rows)
        raise AssertionError("unreachable")

    def _read_in_thread(self, username: str) -> Entitlements:
        with single_read(self._sessions) as session:
            return entitlements(session, username)
