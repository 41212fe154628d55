"""`speurder`: one command for operators — services, index, database, users, uploads, worker, web, demo."""

from __future__ import annotations

import getpass
import os
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ingest.settings import Settings
from search_api.services.base import ServiceError

app = typer.Typer(help="Speurder: one search over every register an officer may see.", no_args_is_help=True)
services_app = typer.Typer(help="Start, stop and inspect the local services.", no_args_is_help=True)
index_app = typer.Typer(help="Create and rebuild the unified index.", no_args_is_help=True)
db_app = typer.Typer(help="The operational database and the audit log.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts and register grants.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: verify its chain, show its head.", no_args_is_help=True)
case_app = typer.Typer(help="Cases and their teams.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(index_app, name="index")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(case_app, name="case")


def _settings() -> Settings:
    return Settings()


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


# -- services --------------------------------------------------------------------------------------
@services_app.command("up")
def services_up(
    names: Annotated[
        list[str] | None, typer.Argument(help="Services to start (default: what the settings use)")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Start every service, production path included")
    ] = False,
) -> None:
    """Provision (cached), start and health-wait the services; starting twice is harmless."""
    from search_api.services import ALL, ServiceContext, make_service, needed

    ctx = ServiceContext(_settings())
    chosen = ALL if all_ else (tuple(names) if names else needed(ctx))
    for name in chosen:
        try:
            typer.echo(make_service(name, ctx).up())
        except ServiceError as exc:
            _fail(str(exc))


@services_app.command("down")
def services_down() -> None:
    """Stop every service this data folder started."""
    from search_api.services import ALL, ServiceContext, make_service

    ctx = ServiceContext(_settings())
    for name in reversed(ALL):
        typer.echo(make_service(name, ctx).down())


@services_app.command("status")
def services_status() -> None:
    """Show each service's state."""
    from search_api.services import ALL, ServiceContext, frog_status, make_service

    ctx = ServiceContext(_settings())
    for name in ALL:
        typer.echo(f"{name:11} {make_service(name, ctx).status()}")
    typer.echo(f"{'frog':11} {frog_status()}")


# -- index -----------------------------------------------------------------------------------------
@index_app.command("create")
def index_create() -> None:
    """Put the index template and create one index per record kind (existing ones are kept)."""
    from ingest.index.admin import ensure_indices
    from ingest.index.client import make_search_client

    settings = _settings()
    created = ensure_indices(make_search_client(settings), settings.index_prefix)
    typer.echo(f"created {len(created)} indices under alias {settings.index_prefix}")


@index_app.command("reindex")
def index_reindex(
    kind: Annotated[list[str] | None, typer.Option(help="Kinds to rebuild (default: all)")] = None,
) -> None:
    """Rebuild indices with the current mapping and swap the aliases; searches keep answering."""
    from ingest.index.admin import reindex_kind
    from ingest.index.client import make_search_client
    from ingest.records import KINDS

    settings = _settings()
    client = make_search_client(settings)
    for name in kind or KINDS:
        outcome = reindex_kind(client, settings.index_prefix, name)
        typer.echo(f"{name}: {outcome['copied']} records, {outcome['old']} -> {outcome['new']}")


@app.command()
def retention(
    action: Annotated[str, typer.Argument(help="apply")],
    dry_run: Annotated[bool, typer.Option(help="Only say what would go")] = False,
) -> None:
    """Remove what is past its retention term (per kind: SPEURDER_RETENTION_DAYS); audited as erasure."""
    from case_store.audit import Entry
    from ingest.index.client import make_search_client
    from ingest.index.retention import apply_retention

    if action != "apply":
        _fail("the only action is `apply`")
    settings = _settings()
    report = apply_retention(
        make_search_client(settings), settings.index_prefix, settings.retention_days, dry_run=dry_run
    )
    if not dry_run:
        _audit_log().append(
            Entry(
                action="erasure.retention",
                actor=f"cli:{getpass.getuser()}",
                unit="cli",
                details={
                    "cutoff": report.cutoff,
                    "dropped": report.dropped_indices,
                    "deleted": report.deleted,
                },
            )
        )
    for name in report.dropped_indices:
        typer.echo(f"{'would drop' if dry_run else 'dropped'} {name}")
    for kind, count in sorted(report.deleted.items()):
        typer.echo(f"{kind}: {count} records deleted")


# -- database and users ----------------------------------------------------------------------------
def _sessions():  # type: ignore[no-untyped-def]
    from case_store.audit import prepare_audit_engine
    from case_store.db import create_schema, make_engine, make_sessionmaker
    from search_api.app import audit_database_url

    settings = _settings()
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    prepare_audit_engine(make_engine(audit_database_url(settings)))
    return make_sessionmaker(engine)


@db_app.command("init")
def db_init() -> None:
    """Create the tables of the operational database and of the audit log."""
    _sessions()
    typer.echo("database ready")


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[
        str, typer.Option(help="investigator, analyst, magistrate, field_officer, auditor, administrator")
    ],
    unit: Annotated[str, typer.Option(help="The user's unit, e.g. 'PZ Antwerpen/Recherche'")],
    clearance: Annotated[int, typer.Option(min=0, max=3)] = 1,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
) -> None:
    """Create a local account; the password is read from SPEURDER_NEW_PASSWORD or asked for."""
    from case_store.db import transaction
    from case_store.users import UserError, add_user

    password = os.environ.get("SPEURDER_NEW_PASSWORD") or getpass.getpass("Password: ")
    try:
        with transaction(_sessions()) as session:
            add_user(
                session, username, password, role=role, unit=unit, clearance=clearance, display_name=name
            )
    except UserError as exc:
        _fail(str(exc))
    _record_alteration("user_added", user=username, role=role, unit=unit, clearance=clearance)
    typer.echo(f"user {username} added")


@user_app.command("grant")
def user_grant(
    username: str,
    register: str,
    until: Annotated[datetime | None, typer.Option(help="Expiry date of the grant")] = None,
) -> None:
    """Let a user consult a register (until an optional date)."""
    from case_store.db import transaction
    from case_store.users import UserError, grant_register

    try:
        with transaction(_sessions()) as session:
            grant_register(session, username, register, expires_at=until, by="cli")
    except UserError as exc:
        _fail(str(exc))
    _record_alteration("grant", user=username, register=register, until=str(until) if until else None)
    typer.echo(f"{username} may consult {register}" + (f" until {until:%Y-%m-%d}" if until else ""))


@user_app.command("revoke")
def user_revoke(username: str, register: str) -> None:
    """Withdraw a register grant."""
    from case_store.db import transaction
    from case_store.users import UserError, revoke_register

    try:
        with transaction(_sessions()) as session:
            removed = revoke_register(session, username, register)
    except UserError as exc:
        _fail(str(exc))
    _record_alteration("revoke", user=username, register=register, removed=removed)
    typer.echo(
        f"{username} no longer consults {register}" if removed else f"{username} had no grant on {register}"
    )


@user_app.command("grant-unit")
def user_grant_unit(
    unit: str,
    register: str,
    until: Annotated[datetime | None, typer.Option(help="Expiry date of the grant")] = None,
) -> None:
    """Let every member of a unit consult a register (until an optional date)."""
    from case_store.db import transaction
    from case_store.users import grant_unit_register

    with transaction(_sessions()) as session:
        grant_unit_register(session, unit, register, expires_at=until, by="cli")
    _record_alteration("unit_grant", unit=unit, register=register, until=str(until) if until else None)
    typer.echo(f"unit {unit} may consult {register}" + (f" until {until:%Y-%m-%d}" if until else ""))


# -- cases -----------------------------------------------------------------------------------------
@case_app.command("create")
def case_create(
    number: str, title: str, lead: Annotated[str, typer.Option(help="The user who leads it")]
) -> None:
    """Open a case led by a user."""
    from case_store.cases import CaseError, create_case
    from case_store.db import transaction

    try:
        with transaction(_sessions()) as session:
            create_case(session, number, title, created_by=lead)
    except (CaseError, ValueError) as exc:
        _fail(str(exc))
    _record_alteration("case_created", case=number, lead=lead)
    typer.echo(f"case {number} opened, led by {lead}")


@case_app.command("add-member")
def case_add_member(number: str, username: str, role: str = "member") -> None:
    """Add a user to a case's team (lead, member or reader)."""
    from case_store.cases import CaseError, add_member
    from case_store.db import transaction

    try:
        with transaction(_sessions()) as session:
            add_member(session, number, username, role)
    except CaseError as exc:
        _fail(str(exc))
    _record_alteration("case_member", case=number, member=username, role=role)
    typer.echo(f"{username} is {role} of case {number}")


# -- audit -----------------------------------------------------------------------------------------
def _record_alteration(action: str, **details: object) -> None:
    """Changes made from the command line are audited like those made in the web interface."""
    from case_store.audit import Entry

    _audit_log().append(
        Entry(action=f"alteration.{action}", actor=f"cli:{getpass.getuser()}", unit="cli", details=details)
    )


def _audit_log():  # type: ignore[no-untyped-def]
    from case_store.audit import AuditLog, prepare_audit_engine
    from case_store.db import make_engine
    from search_api.app import audit_database_url

    engine = make_engine(audit_database_url(_settings()))
    prepare_audit_engine(engine)
    return AuditLog(engine)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole chain; exit 1 and name the first bad event if anything was altered or removed."""
    log = _audit_log()
    broken = log.verify_chain()
    if broken is not None:
        _fail(f"the audit log is broken at event {broken}: altered, inserted or removed after writing")
    seq, digest = log.head()
    typer.echo(f"audit log intact: {seq} events, head {digest}")


@audit_app.command("head")
def audit_head() -> None:
    """Print the newest event's number and hash, to record outside Speurder as an anchor."""
    seq, digest = _audit_log().head()
    typer.echo(f"{seq} {digest}")


# -- documents -------------------------------------------------------------------------------------
def _wait_for_batch(sessions, batch_id: str, timeout: float) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from collections import Counter

    from sqlalchemy import select

    from case_store.models import FINAL_STATES, Upload

    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            states = list(session.scalars(select(Upload.status).where(Upload.batch_id == batch_id)))
        counts = dict(Counter(states))
        if set(counts) <= FINAL_STATES or time.monotonic() > deadline:
            return counts
        time.sleep(1)


@app.command()
def upload(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders to upload")],
    case: Annotated[str | None, typer.Option(help="Case number the documents belong to")] = None,
    uploader: Annotated[str, typer.Option(help="Whose upload this is")] = getpass.getuser(),
    wait: Annotated[bool, typer.Option(help="Wait until every file has a final state")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait")] = 600,
) -> None:
    """Upload files and folders: stored under their SHA-256, in the ledger, queued for extraction."""
    from case_store.audit import AuditLog, Entry
    from case_store.db import make_engine
    from ingest.blobs import make_blob_store
    from ingest.celery_app import make_celery
    from ingest.documents import accept_upload
    from ingest.tasks import PROCESS_DOCUMENT
    from search_api.app import audit_database_url

    settings = _settings()
    sessions = _sessions()
    blobs = make_blob_store(settings)
    celery = make_celery(settings)
    batch_id = uuid.uuid4().hex
    files = [(p, p.name) for p in paths if p.is_file()]
    for folder in (p for p in paths if p.is_dir()):
        files += [(f, str(f.relative_to(folder.parent))) for f in sorted(folder.rglob("*")) if f.is_file()]
    ids = []
    for file, relative in files:
        with file.open("rb") as stream:
            received = accept_upload(
                blobs,
                sessions,
                stream,
                file_name=file.name,
                path=relative,
                batch_id=batch_id,
                uploader=uploader,
                case_number=case,
            )
        ids.append(received.upload_id)
    AuditLog(make_engine(audit_database_url(settings))).append(
        Entry(
            action="collection.upload",
            actor=uploader,
            unit="cli",
            justification=case,
            details={"batch": batch_id, "files": len(ids)},
        )
    )
    for upload_id in ids:
        celery.send_task(PROCESS_DOCUMENT, args=[upload_id])
    typer.echo(f"batch {batch_id}: {len(ids)} files received")
    if wait:
        from case_store.models import FINAL_STATES

        counts = _wait_for_batch(sessions, batch_id, timeout)
        if set(counts) <= FINAL_STATES:
            from ingest.documents import make_searchable
            from ingest.index.client import make_search_client

            search = make_search_client(settings)
            make_searchable(search, settings.index_prefix)
            search.close()
        typer.echo(" ".join(f"{state}={count}" for state, count in sorted(counts.items())))


# -- processes -------------------------------------------------------------------------------------
@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Worker processes [default: one more than the cores]")
    ] = None,
) -> None:
    """Run a Celery worker that takes uploads to their final state."""
    from ingest.celery_app import default_worker_processes, make_celery

    concurrency = concurrency or default_worker_processes()
    celery = make_celery(_settings())
    celery.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--without-gossip"])


@app.command()
def web() -> None:
    """Serve the web interface and the API on the configured loopback port."""
    import uvicorn

    from search_api.app import create_app

    settings = _settings()
    uvicorn.run(
        create_app(settings),
        host=settings.web_host,
        port=settings.web_port,
        http="httptools",
        log_level="info",
        access_log=settings.web_access_log,
    )


from search_api.commands.demo import demo_command  # noqa: E402 - each command in its own module
from search_api.commands.generate import generate_command  # noqa: E402
from search_api.commands.ingest import ingest_command  # noqa: E402

app.command(name="ingest")(ingest_command)
app.command(name="generate")(generate_command)
app.command(name="demo")(demo_command)

from search_api.commands.cpc import cpc_app  # noqa: E402

app.add_typer(cpc_app, name="cpc")

from search_api.commands.reconcile import reconcile_command  # noqa: E402

app.command(name="reconcile")(reconcile_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
