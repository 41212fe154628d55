"""Accounts, grants and the audit log on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, delete, inspect, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from case_store.audit import AuditEvent, AuditLog, AuditUnavailable, Entry, prepare_audit_engine
from case_store.cases import create_case
from case_store.db import create_schema, make_engine, make_sessionmaker, single_read, transaction
from case_store.notices import TRIGGER as NOTICE_TRIGGER
from case_store.users import (
    LISTENER_NAME,
    MAX_FAILED_LOGINS,
    EntitlementReader,
    Entitlements,
    UserError,
    add_user,
    authenticate,
    entitlements,
    get_user,
    grant_register,
    grant_unit_register,
    revoke_register,
)

PASSWORD = "een lang genoeg wachtwoord"


def test_audit_chain_detects_an_edited_event(database_url: str) -> None:
    engine = make_engine(database_url)
    prepare_audit_engine(engine)
    log = AuditLog(engine)
    for n in range(5):
        log.append(
            Entry("consultation.search", "jan", "PZ Gent", "C-1", f"vraag {n}", {"result_ids": [str(n)]})
        )
    assert log.verify_chain() is None
    victim = log.events(limit=5)[2]
    # The log refuses to be edited …
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == victim.seq).values(query="iets anders"))
    # … and when someone with rights over the schema does it anyway, the chain shows where.
    with engine.begin() as conn:
        drop_guards(conn)
        conn.execute(update(AuditEvent).where(AuditEvent.seq == victim.seq).values(query="iets anders"))
    assert log.verify_chain() == victim.seq
    engine.dispose()


def test_audit_chain_detects_a_removed_event(database_url: str) -> None:
    engine = make_engine(database_url)
    prepare_audit_engine(engine)
    log = AuditLog(engine)
    for n in range(4):
        log.append(Entry("consultation.open", "jan", "PZ Gent", subjects=(f"record-{n}",)))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    with engine.begin() as conn:
        drop_guards(conn)
        conn.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    assert log.verify_chain() == 2
    assert [event.seq for event in log.events(subject="record-3")] == [4]
    assert log.head()[0] == 4
    engine.dispose()


def drop_guards(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER audit_no_update")
        conn.exec_driver_sql("DROP TRIGGER audit_no_delete")
    else:
        conn.exec_driver_sql("DROP TRIGGER audit_append_only ON audit_events")


def test_audit_fails_closed_when_it_cannot_write() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/audit")  # nothing listens there
    log = AuditLog(engine)
    with pytest.raises(AuditUnavailable):
        log.append(Entry("consultation.search", "jan", "PZ Gent"))


def test_audit_appenders_in_several_processes_keep_one_chain(database_url: str) -> None:
    """Each log stands for a process with its own guess of the head; threads append at once through
    all of them. The database's unique sequence lets exactly one event follow each event."""
    engines = [make_engine(database_url) for _ in range(3)]
    prepare_audit_engine(engines[0])
    logs = [AuditLog(engine) for engine in engines]
    per_thread, threads = 15, 6

    def work(number: int) -> list[str]:
        log = logs[number % len(logs)]
        return [
            log.append(Entry("consultation.search", f"agent-{number}", "PZ Gent", query=f"vraag {i}"))
            for i in range(per_thread)
        ]

    with ThreadPoolExecutor(threads) as pool:
        hashes = [digest for written in pool.map(work, range(threads)) for digest in written]
    assert len(set(hashes)) == per_thread * threads
    assert logs[0].verify_chain() is None
    assert logs[1].head()[0] == per_thread * threads
    assert sorted(event.seq for event in logs[2].events(limit=1000)) == list(
        range(1, per_thread * threads + 1)
    )
    # An event the table refuses for itself is not taken for a lost race and retried.
    with pytest.raises(AuditUnavailable):
        logs[0].append(Entry("consultation.search", None, "PZ Gent"))  # type: ignore[arg-type]
    assert logs[0].head()[0] == per_thread * threads
    for engine in engines:
        engine.dispose()


def appends_backend(log: AuditLog) -> int:
    """The server process behind the log's own connection for appends."""
    found = log._own_connection().execute("SELECT pg_backend_pid()").fetchone()
    assert found is not None
    return int(found[0])


def test_audit_appends_survive_an_ended_connection(postgres_url: str) -> None:
    """An administrator (or a restart) ends the appends' connection while it is idle: the next event
    goes out on a fresh one, and the chain runs on without a gap."""
    engine = make_engine(postgres_url)
    prepare_audit_engine(engine)
    log = AuditLog(engine)
    log.append(Entry("consultation.search", "jan", "PZ Gent", query="eerste"))
    victim = appends_backend(log)
    end_backend(postgres_url, victim)
    log.append(Entry("consultation.search", "jan", "PZ Gent", query="tweede"))
    assert appends_backend(log) != victim
    assert [event.query for event in log.events()] == ["tweede", "eerste"]
    assert log.verify_chain() is None
    log.close()
    engine.dispose()


def test_an_audit_event_whose_answer_was_lost_is_written_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The INSERT reached the table, then the connection broke before its answer came back: the same
    row is sent once more on a fresh connection, the unique sequence refuses it, and the log knows the
    event as its own. One event, not two, and no error for the investigator."""
    engine = make_engine(postgres_url)
    prepare_audit_engine(engine)
    log = AuditLog(engine)
    log.append(Entry("consultation.search", "jan", "PZ Gent", query="eerste"))
    real_insert = log._insert
    lost: list[int] = []

    def insert_then_lose_the_answer(row: dict[str, Any]) -> None:
        real_insert(row)
        if not lost:
            lost.append(appends_backend(log))
            end_backend(postgres_url, lost[0])
            assert log._connection is not None
            log._connection.execute("SELECT 1")  # the driver finds the connection broken

    monkeypatch.setattr(log, "_insert", insert_then_lose_the_answer)
    digest = log.append(Entry("consultation.search", "jan", "PZ Gent", query="tweede"))
    assert lost and appends_backend(log) != lost[0]
    assert [event.query for event in log.events()] == ["tweede", "eerste"]
    assert log.head() == (2, digest)
    assert log.verify_chain() is None
    log.close()
    engine.dispose()


def read_in_web_process(database_url: str, sessions: sessionmaker[Session], *usernames: str) -> list[Any]:
    """Each user's entitlements as the web process reads them (EntitlementReader), or the error."""

    async def read() -> list[Any]:
        reader = EntitlementReader(database_url, sessions)
        await reader.open()
        answers: list[Any] = []
        try:
            for username in usernames:
                try:
                    answers.append(await reader.read(username))
                except UserError as exc:
                    answers.append(exc)
        finally:
            await reader.close()
        return answers

    return asyncio.run(read())


def test_a_switched_off_account_has_no_entitlements(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        add_user(session, "els", PASSWORD, role="investigator", unit="PZ Gent", clearance=2)
        grant_register(session, "els", "islp")
        grant_unit_register(session, "PZ Gent", "anpr")
        grant_register(session, "els", "ang", expires_at=datetime.now(UTC) - timedelta(minutes=1))
        create_case(session, "C-9", "Diefstal Gent", created_by="els")
    with single_read(sessions) as session:
        rights = entitlements(session, "els")
    assert (rights.role, rights.unit, rights.clearance) == ("investigator", "PZ Gent", 2)
    assert rights.registers == {"islp", "anpr"} and rights.case_numbers == {"C-9"}
    # The web process reads the same statement its own way (asynchronously on PostgreSQL).
    assert read_in_web_process(database_url, sessions, "els") == [rights]
    with transaction(sessions) as session:
        get_user(session, "els").active = False
    with single_read(sessions) as session, pytest.raises(UserError, match="no active user"):
        entitlements(session, "els")
    [refused] = read_in_web_process(database_url, sessions, "els")
    assert isinstance(refused, UserError) and "no active user" in str(refused)
    engine.dispose()


def end_backend(postgres_url: str, victim: int) -> None:
    administrator = make_engine(postgres_url)
    with administrator.execution_options(isolation_level="AUTOCOMMIT").connect() as other:
        assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
        deadline = time.monotonic() + 10
        while other.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": victim}):
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.05)
    administrator.dispose()


def test_a_connection_the_server_ended_is_replaced_unnoticed(postgres_url: str) -> None:
    """PostgreSQL restarted, or an administrator ended a session: the next request gets a fresh
    connection instead of an error, without the pool pinging before every use."""
    engine = make_engine(postgres_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        add_user(session, "piet", PASSWORD, role="investigator", unit="PZ Gent")
    engine.dispose()  # from here the pool holds one connection: the one the administrator ends
    with single_read(sessions) as session:
        victim = session.scalar(text("SELECT pg_backend_pid()"))
    end_backend(postgres_url, victim)
    with single_read(sessions) as session:
        assert entitlements(session, "piet").unit == "PZ Gent"
        assert session.scalar(text("SELECT pg_backend_pid()")) != victim
    engine.dispose()


def test_the_web_process_reader_survives_an_ended_connection(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        add_user(session, "piet", PASSWORD, role="investigator", unit="PZ Gent")

    async def read_across_an_ending() -> tuple[Entitlements, Entitlements, set[int]]:
        # Nothing kept: both reads go to the pool, the second over the connection that was ended.
        reader = EntitlementReader(postgres_url, sessions, max_connections=1, cache=False)
        await reader.open()
        try:
            before = await reader.read("piet")
            async with reader._pool.connection() as connection:  # type: ignore[union-attr]
                victim = (await (await connection.execute("SELECT pg_backend_pid()")).fetchone())[0]  # type: ignore[index]
            await asyncio.to_thread(end_backend, postgres_url, victim)
            after = await reader.read("piet")
            async with reader._pool.connection() as connection:  # type: ignore[union-attr]
                now = (await (await connection.execute("SELECT pg_backend_pid()")).fetchone())[0]  # type: ignore[index]
            return before, after, {victim, now}
        finally:
            await reader.close()

    before, after, backends = asyncio.run(read_across_an_ending())
    assert before == after and after.unit == "PZ Gent"
    assert len(backends) == 2  # the one connection of the pool was replaced
    engine.dispose()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _behind_the_readers_back(url: str, statement: str) -> None:
    """A change the notices do not announce: the trigger is switched off around it (as only the tables'
    owner can). A reader that still answers the old rights afterwards answered from its cache."""
    with psycopg.connect(_libpq(url), autocommit=True) as connection, connection.transaction():
        connection.execute(f"ALTER TABLE register_grants DISABLE TRIGGER {NOTICE_TRIGGER}")
        connection.execute(statement)
        connection.execute(f"ALTER TABLE register_grants ENABLE TRIGGER {NOTICE_TRIGGER}")


async def _until(condition: Any, seconds: float = 10) -> float:
    """Wait until `condition()` (a plain or an async function) holds; how long it took."""
    started = time.monotonic()
    while not ((await value) if asyncio.iscoroutine(value := condition()) else value):
        assert time.monotonic() - started < seconds, "the condition never came true"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


GRANT_ANPR_TO_MIA = (
    "INSERT INTO register_grants (user_id, register, granted_by, granted_at) "
    "SELECT id, 'anpr', 'test', now() FROM users WHERE username = 'mia'"
)


def _grant_mia(postgres_url: str) -> sessionmaker[Session]:
    """Mia may consult ISLP. The sessions' engine is disposed of after the test, by the caller."""
    engine = make_engine(postgres_url)
    create_schema(engine)
    create_schema(engine)  # a second start renews the triggers without harm
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        add_user(session, "mia", PASSWORD, role="investigator", unit="PZ Gent")
        grant_register(session, "mia", "islp")
    return sessions


def _with_reader(postgres_url: str, sessions: sessionmaker[Session], scenario: Any) -> Any:
    """Run `scenario(reader)` on an open EntitlementReader; close it, and the sessions' engine, after."""

    async def run() -> Any:
        reader = EntitlementReader(postgres_url, sessions)
        await reader.open()
        try:
            return await scenario(reader)
        finally:
            await reader.close()

    try:
        return asyncio.run(run())
    finally:
        sessions.kw["bind"].dispose()


def test_the_web_process_keeps_entitlements_until_the_database_says_they_changed(postgres_url: str) -> None:
    sessions = _grant_mia(postgres_url)

    async def scenario(reader: EntitlementReader) -> float:
        async def registers_are(*expected: str) -> bool:
            return (await reader.read("mia")).registers == set(expected)

        await _until(lambda: reader.caching)
        assert await registers_are("islp")
        _behind_the_readers_back(postgres_url, GRANT_ANPR_TO_MIA)
        assert await registers_are("islp"), "the second read did not come from the cache"
        # Another process (a CLI, another web process) withdraws a grant: its notice empties the cache.
        with psycopg.connect(_libpq(postgres_url), autocommit=True) as other:
            other.execute("DELETE FROM register_grants WHERE register = 'islp'")
        heard_after = await _until(lambda: registers_are("anpr"), seconds=5)
        # A change committed in this process counts from the very next read, notice or not.
        with transaction(sessions) as session:
            grant_register(session, "mia", "ang")
        assert await registers_are("anpr", "ang")
        # A login's bookkeeping on the account changes no rights and announces nothing ...
        await asyncio.sleep(0.3)  # the notice of the grant above has come and gone
        assert await registers_are("anpr", "ang")  # kept again
        _behind_the_readers_back(postgres_url, "DELETE FROM register_grants WHERE register = 'ang'")
        with psycopg.connect(_libpq(postgres_url), autocommit=True) as other:
            other.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE username = 'mia'")
        await asyncio.sleep(0.3)
        assert await registers_are("anpr", "ang"), "a login's bookkeeping emptied the cache"
        # ... a changed clearance does.
        with psycopg.connect(_libpq(postgres_url), autocommit=True) as other:
            other.execute("UPDATE users SET clearance = 3 WHERE username = 'mia'")
        await _until(lambda: registers_are("anpr"), seconds=5)
        assert (await reader.read("mia")).clearance == 3
        with transaction(sessions) as session:
            get_user(session, "mia").active = False
        with pytest.raises(UserError, match="no active user"):
            await reader.read("mia")
        return heard_after

    assert _with_reader(postgres_url, sessions, scenario) < 5


def test_without_its_listener_the_reader_keeps_nothing(postgres_url: str) -> None:
    """The listening connection is ended: from then on until it is back every read goes to the
    database, so a change it could not hear about is seen at once."""
    sessions = _grant_mia(postgres_url)

    async def scenario(reader: EntitlementReader) -> None:
        await _until(lambda: reader.caching)
        assert (await reader.read("mia")).registers == {"islp"}
        with psycopg.connect(_libpq(postgres_url), autocommit=True) as other:
            [listener] = other.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                (LISTENER_NAME,),
            ).fetchall()
        await asyncio.to_thread(end_backend, postgres_url, listener[0])
        await _until(lambda: not reader.caching)
        _behind_the_readers_back(postgres_url, GRANT_ANPR_TO_MIA)
        assert (await reader.read("mia")).registers == {"islp", "anpr"}
        # It listens again on a fresh connection, and keeps answers again.
        await _until(lambda: reader.caching)
        assert (await reader.read("mia")).registers == {"islp", "anpr"}
        _behind_the_readers_back(postgres_url, "DELETE FROM register_grants WHERE register = 'anpr'")
        assert (await reader.read("mia")).registers == {"islp", "anpr"}, "caching did not resume"

    _with_reader(postgres_url, sessions, scenario)


def test_a_read_under_way_when_a_notice_comes_keeps_nothing(postgres_url: str) -> None:
    """The rows a read fetched before a change was announced are answered once, never kept."""
    sessions = _grant_mia(postgres_url)

    async def scenario(reader: EntitlementReader) -> None:
        fetched, release = asyncio.Event(), asyncio.Event()
        fetch = reader._fetch

        async def slow_fetch(username: str) -> list[Any]:
            rows = await fetch(username)
            fetched.set()
            await release.wait()
            return rows

        await _until(lambda: reader.caching)
        reader._fetch = slow_fetch  # type: ignore[method-assign]
        under_way = asyncio.create_task(reader.read("mia"))
        await fetched.wait()  # it holds the rows with ISLP
        generation = reader._generation
        with psycopg.connect(_libpq(postgres_url), autocommit=True) as other:
            other.execute("DELETE FROM register_grants WHERE register = 'islp'")
        await _until(lambda: reader._generation != generation, seconds=5)  # the notice came
        release.set()
        assert (await under_way).registers == {"islp"}  # what it read, answered once
        reader._fetch = fetch  # type: ignore[method-assign]
        assert (await reader.read("mia")).registers == set(), "the stale rows were kept"

    _with_reader(postgres_url, sessions, scenario)


def test_a_database_without_the_notices_is_read_on_every_request(postgres_url: str) -> None:
    sessions = _grant_mia(postgres_url)
    with psycopg.connect(_libpq(postgres_url), autocommit=True) as connection:
        connection.execute(f"DROP TRIGGER {NOTICE_TRIGGER} ON case_members")

    async def scenario(reader: EntitlementReader) -> None:
        assert reader._listener is not None
        await _until(lambda: reader._listener.done())  # type: ignore[union-attr]
        assert not reader.caching
        assert (await reader.read("mia")).registers == {"islp"}
        _behind_the_readers_back(postgres_url, "DELETE FROM register_grants")
        assert (await reader.read("mia")).registers == set()

    _with_reader(postgres_url, sessions, scenario)


def test_grants_expire_and_revoke(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        add_user(session, "an", PASSWORD, role="analyst", unit="FGP Brussel", clearance=3)
        grant_register(session, "an", "islp")
        grant_register(session, "an", "ang", expires_at=datetime.now(UTC) - timedelta(days=1))
        grant_register(session, "an", "anpr", expires_at=datetime.now(UTC) + timedelta(days=30))
        create_case(session, "C-7", "Inbraken Leuven", created_by="an")
    with sessions() as session:
        rights = entitlements(session, "an")
    assert rights.registers == {"islp", "anpr"}
    assert rights.case_numbers == {"C-7"}
    with transaction(sessions) as session:
        assert revoke_register(session, "an", "islp")
    with sessions() as session:
        assert entitlements(session, "an").registers == {"anpr"}
    engine.dispose()


def test_lockout_after_repeated_failures(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        add_user(session, "piet", PASSWORD, role="investigator", unit="PZ Leuven")
    for _ in range(MAX_FAILED_LOGINS):
        with transaction(sessions) as session:
            assert authenticate(session, "piet", "fout wachtwoord!") is None
    with transaction(sessions) as session:
        assert authenticate(session, "piet", PASSWORD) is None  # locked, even with the right password
    engine.dispose()


def test_bad_accounts_are_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    with transaction(make_sessionmaker(engine)) as session:
        with pytest.raises(UserError, match="role"):
            add_user(session, "x", PASSWORD, role="sheriff", unit="u")
        with pytest.raises(UserError, match="12 characters"):
            add_user(session, "x", "kort", role="analyst", unit="u")
    engine.dispose()


def test_a_new_nullable_column_is_added_to_an_existing_table(database_url: str) -> None:
    """An existing data folder keeps working when a release adds an optional field to a table."""
    engine = make_engine(database_url)
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(text('ALTER TABLE "uploads" DROP COLUMN "evidence_number"'))
    assert "evidence_number" not in {c["name"] for c in inspect(engine).get_columns("uploads")}
    create_schema(engine)
    assert "evidence_number" in {c["name"] for c in inspect(engine).get_columns("uploads")}
    engine.dispose()


def test_a_paging_cursor_is_honoured_for_its_own_user_until_it_expires(database_url: str) -> None:
    from case_store.cursors import CursorStore

    engine = make_engine(database_url)
    create_schema(engine)
    store = CursorStore(make_sessionmaker(engine))
    token = store.put("pit-" + "x" * 20_000, "rechercheur")  # a point-in-time id of many shards
    assert len(token) < 64
    assert store.get(token, "rechercheur") == "pit-" + "x" * 20_000
    assert store.get(token, "analist") is None  # handed to someone else: not theirs to follow
    assert store.get("made-up", "rechercheur") is None
    expired = CursorStore(make_sessionmaker(engine), keep=timedelta(seconds=-1))
    assert expired.get(expired.put("pit-old", "rechercheur"), "rechercheur") is None
    engine.dispose()


def test_an_sqlite_too_old_for_the_claim_is_refused_with_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import case_store.db as db

    monkeypatch.setattr(db.sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(db.sqlite3, "sqlite_version", "3.34.1")
    with pytest.raises(RuntimeError, match=r"SQLite 3\.34\.1 is too old .* 3\.35 or newer"):
        make_engine(f"sqlite:///{tmp_path / 'old.db'}")
