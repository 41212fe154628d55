"""Notices that users' entitlements changed: what lets a web process keep them between requests.

A statement-level trigger on each table the entitlements are read from sends a PostgreSQL NOTIFY on
`speurder_entitlements` when a transaction that changed it commits (a rolled-back one sends nothing).
Each web process listens and empties its cache on every notice (decision 30). A change committed
through a session of the same process empties that process's caches at once, on commit, without
waiting for its own notice. SQLite has no notices; there nothing is cached.
"""

from __future__ import annotations

import logging
import threading
import weakref
from itertools import chain
from typing import Any

import psycopg
from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session

from case_store.models import Case, CaseMember, RegisterGrant, UnitGrant, User

CHANNEL = "speurder_entitlements"
TRIGGER = "speurder_entitlements_changed"
WATCHED_MODELS = (User, RegisterGrant, UnitGrant, Case, CaseMember)
WATCHED_TABLES = tuple(model.__tablename__ for model in WATCHED_MODELS)
# The columns of an account that entitlements are made of. A login writes the count of failed attempts
# and the lock-out on the same row; that changes nobody's rights and must not empty every cache.
USER_COLUMNS = ("username", "display_name", "role", "unit", "clearance", "active")
# Any constant number: it keeps two processes that start at once from replacing the same trigger
# function at the same moment ("tuple concurrently updated").
_INSTALL_LOCK = 7_460_301
# Written on the function: a database whose triggers carry it needs no DDL at start (no locks taken).
VERSION = "speurder entitlement notices 2"
log = logging.getLogger(__name__)

_INSTALLED = (
    "SELECT count(DISTINCT c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE t.tgname = %(trigger)s AND t.tgenabled IN ('O', 'A') AND pg_table_is_visible(c.oid) "
    "AND c.relname = ANY(%(tables)s) "
    "AND EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname = %(trigger)s "
    "AND obj_description(p.oid, 'pg_proc') = %(version)s)"
)
_INSTALLED_PARAMS = {"trigger": TRIGGER, "tables": list(WATCHED_TABLES), "version": VERSION}


def install_change_notices(engine: Engine) -> bool:
    """Create the notifying triggers unless they are there, enabled and of this version. PostgreSQL
    only. False when they could not be made (no rights, tables busy): the web processes then read the
    entitlements on every request, and the web log says why."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        present = connection.exec_driver_sql(_INSTALLED, _INSTALLED_PARAMS).scalar()
    if present == len(WATCHED_TABLES):
        return True
    try:
        _install(engine)
    except DBAPIError as exc:
        log.warning("the triggers that announce changed entitlements could not be made: %s", exc.orig)
        return False
    return True


def _install(engine: Engine) -> None:
    with engine.begin() as connection:
        # Replacing a trigger locks its table against writes: wait a little, never behind a long writer.
        connection.execute(text("SET LOCAL lock_timeout = '5s'"))
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INSTALL_LOCK})
        connection.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"
            )
        )
        for table in WATCHED_TABLES:
            updates = "UPDATE OF " + ", ".join(USER_COLUMNS) if table == User.__tablename__ else "UPDATE"
            connection.execute(
                text(
                    f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR {updates} OR DELETE OR TRUNCATE "
                    f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()'
                )
            )
        connection.execute(text(f"COMMENT ON FUNCTION {TRIGGER}() IS '{VERSION}'"))


async def notices_installed(connection: psycopg.AsyncConnection[Any]) -> bool:
    """Whether every watched table has its enabled trigger (enabled for ordinary sessions, or always),
    of this version: without them a cache would go stale."""
    cursor = await connection.execute(_INSTALLED, _INSTALLED_PARAMS)
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


def _changes_rights(instance: object, *, updated: bool) -> bool:
    if not isinstance(instance, WATCHED_MODELS):
        return False
    if not (updated and isinstance(instance, User)):
        return True
    attributes = inspect(instance).attrs
    return any(attributes[name].history.has_changes() for name in USER_COLUMNS)


@event.listens_for(Session, "after_flush")
def _note_watched_changes(session: Session, _context: Any) -> None:
    added_or_removed = chain(session.new, session.deleted)
    if any(_changes_rights(instance, updated=False) for instance in added_or_removed) or any(
        _changes_rights(instance, updated=True) for instance in session.dirty
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_watched_statements(state: ORMExecuteState) -> None:
    """Bulk statements (`session.execute(update(User)…)`) change rows without a flush."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in WATCHED_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _tell_local_readers(session: Session) -> None:
    # Also called when a savepoint is released: only the outermost commit makes a change visible.
    if session.in_nested_transaction() or not session.info.pop(_CHANGED, False):
        return
    with _forgetters_lock:
        owners = list(_forgetters)
    for owner in owners:
        owner.forget()


@event.listens_for(Session, "after_rollback")
def _drop_note(session: Session) -> None:
    # A savepoint rolled back leaves the outer transaction's changes: the note stays until the end.
    if not session.in_nested_transaction():
        session.info.pop(_CHANGED, None)
