"""Accounts, passwords (argon2), lock-out, and the grants that decide what a user may see."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
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
from case_store.notices import CHANNEL as NOTICE_CHANNEL
from case_store.notices import notices_installed, unwatch_local_changes, watch_local_changes

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()
log = logging.getLogger(__name__)

# The entitlement cache of a web process (decision 30). The age bound is a backstop for a listener that
# hears nothing without noticing it is cut off; keep-alives find such a connection within a minute.
CACHE_MAX_AGE = 60.0
CACHE_MAX_USERS = 10_000
LISTENER_NAME = "speurder entitlement notices"
LISTEN_RETRY_FIRST, LISTEN_RETRY_LAST = 0.5, 30.0
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 20,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


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
    read runs in a thread as before. Either way it is the same statement and the same answer.

    On PostgreSQL the rows read are also kept, per user, while a listener hears the database's notices
    of changed entitlements (case_store.notices, decision 30): any notice, or a change committed in
    this process, empties the cache; while the listener is not connected nothing is kept. Expiry dates
    are compared with the clock on every request, so a grant still ends on time from the cache."""

    def __init__(
        self, url: str, sessions: sessionmaker[Session], *, max_connections: int = 10, cache: bool = True
    ) -> None:
        self._sessions = sessions
        self._pool: AsyncConnectionPool | None = None
        self._kept: dict[str, tuple[float, list[tuple[Any, ...]]]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._listening = False
        self._listener: asyncio.Task[None] | None = None
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            compiled = _ENTITLEMENTS.compile(dialect=parsed.get_dialect()())
            self._sql = str(compiled)
            self._params = dict(compiled.params)
            self._conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self._pool = AsyncConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=max_connections,
                kwargs={"autocommit": True},
                open=False,
            )
        self._cache = cache and self._pool is not None

    @property
    def caching(self) -> bool:
        """Whether answers may come from the cache now: the listener is connected and listening."""
        return self._listening

    async def open(self) -> None:
        if self._pool is not None:
            await self._pool.open()
        if self._cache:
            watch_local_changes(self)
            self._listener = asyncio.create_task(self._listen(), name="entitlement notices")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        unwatch_local_changes(self)
        if self._pool is not None:
            await self._pool.close()

    def forget(self) -> None:
        """Drop every kept answer (from any thread); a read under way when this happens keeps nothing."""
        with self._lock:
            self._generation += 1
            self._kept.clear()

    async def read(self, username: str) -> Entitlements:
        if self._pool is None:
            return await anyio.to_thread.run_sync(self._read_in_thread, username)
        if self._listening:
            kept = self._kept.get(username)
            if kept is not None and time.monotonic() - kept[0] < CACHE_MAX_AGE:
                return _entitled(username, kept[1])
        generation = self._generation
        rows = await self._fetch(username)
        if self._listening:
            with self._lock:
                if generation == self._generation:
                    if len(self._kept) >= CACHE_MAX_USERS:
                        self._kept.clear()
                    self._kept[username] = (time.monotonic(), rows)
        return _entitled(username, rows)

    async def _fetch(self, username: str) -> list[tuple[Any, ...]]:
        assert self._pool is not None
        params = {**self._params, "username": username}
        for attempt in (1, 2):
            async with self._pool.connection() as connection:
                try:
                    cursor = await connection.execute(self._sql, params)
                    return [tuple(row) for row in await cursor.fetchall()]
                except psycopg.OperationalError:
                    # The server ended this idle connection (a restart, an administrator): the pool
                    # drops a broken connection when it comes back, and the read is tried once more.
                    if attempt == 2 or not connection.broken:
                        raise
        raise AssertionError("unreachable")

    async def _listen(self) -> None:
        """Hear the notices for as long as the reader is open; reconnect after a loss, with back-off.
        Between losing the connection and listening again nothing is kept (a missed notice is harmless)."""
        delay = LISTEN_RETRY_FIRST
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, application_name=LISTENER_NAME, **KEEPALIVES
                ) as connection:
                    await connection.execute(f"LISTEN {NOTICE_CHANNEL}")
                    if not await notices_installed(connection):
                        log.warning(
                            "entitlements are read on every request: the database lacks the triggers "
                            "that announce changes (run `speurder db init`)"
                        )
                        return
                    self.forget()
                    self._listening = True
                    delay = LISTEN_RETRY_FIRST
                    async for _notice in connection.notifies():
                        self.forget()
            except psycopg.Error as exc:
                log.warning("entitlement notices interrupted (%s); reading on every request meanwhile", exc)
            except Exception:  # never a silent end: nothing is kept, and it tries again
                log.exception("the entitlement listener failed; reading on every request meanwhile")
            finally:
                self._listening = False
                self.forget()
            await asyncio.sleep(delay)
            delay = min(delay * 2, LISTEN_RETRY_LAST)

    def _read_in_thread(self, username: str) -> Entitlements:
        with single_read(self._sessions) as session:
            return entitlements(session, username)
