"""Notices that users' entitlements changed: what lets a web process keep them between requests.

A statement-level trigger on each table the entitlements are read from sends a PostgreSQL NOTIFY on
`speurder_entitlements` when a transaction that changed it commits (a rolled-back one sends nothing).
Each web process listens and empties its cache on every notice (decision 30). A change committed
through a session of the same process empties that process's caches at once, on commit, without
waiting for its own notice. SQLite has no notices; there nothing is cached.
"""

from __future__ import annotations

import threading
import weakref
from itertools import chain
from typing import Any

import psycopg
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from case_store.models import Case, CaseMember, RegisterGrant, UnitGrant, User

CHANNEL = "speurder_entitlements"
TRIGGER = "speurder_entitlements_changed"
WATCHED_MODELS = (User, RegisterGrant, UnitGrant, Case, CaseMember)
WATCHED_TABLES = tuple(model.__tablename__ for model in WATCHED_MODELS)
# Any constant number: it keeps two processes that start at once from replacing the same trigger
# function at the same moment ("tuple concurrently updated").
_INSTALL_LOCK = 7_460_301


def install_change_notices(engine: Engine) -> None:
    """Create (or renew) the notifying triggers. PostgreSQL only; a no-op elsewhere."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INSTALL_LOCK})
        connection.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"
            )
        )
        for table in WATCHED_TABLES:
            connection.execute(
                text(
                    f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                    f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()'
                )
            )


_INSTALLED = (
    "SELECT count(DISTINCT c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE t.tgname = %s AND t.tgenabled <> 'D' AND pg_table_is_visible(c.oid) AND c.relname = ANY(%s)"
)


async def notices_installed(connection: psycopg.AsyncConnection[Any]) -> bool:
    """Whether every watched table has its enabled trigger: without them a cache would go stale."""
    cursor = await connection.execute(_INSTALLED, (TRIGGER, list(WATCHED_TABLES)))
    row = await cursor.fetchone()
    return row is not None and row[0] == len(WATCHED_TABLES)


# -- changes made in this process ---------------------------------------------------------------------
_forgetters: weakref.WeakSet[Any] = weakref.WeakSet()
_forgetters_lock = threading.Lock()


def watch_local_changes(owner: Any) -> None:
    """Call `owner.forget()` after every commit in this process that changed a watched table (the
    set holds the owner weakly: a reader that is dropped unwatched costs nothing)."""
    with _forgetters_lock:
        _forgetters.add(owner)


def unwatch_local_changes(owner: Any) -> None:
    with _forgetters_lock:
        _forgetters.discard(owner)


_CHANGED = "speurder.entitlements_changed"


@event.listens_for(Session, "after_flush")
def _note_watched_changes(session: Session, _context: Any) -> None:
    touched = chain(session.new, session.dirty, session.deleted)
    if any(isinstance(instance, WATCHED_MODELS) for instance in touched):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _tell_local_readers(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        with _forgetters_lock:
            owners = list(_forgetters)
        for owner in owners:
            owner.forget()


@event.listens_for(Session, "after_rollback")
def _drop_note(session: Session) -> None:
    session.info.pop(_CHANGED, None)
