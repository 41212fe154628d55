"""`speurder ingest SOURCE FILE`: one register export into the unified index, through its mapping."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

# Rows past this many are counted, not printed: a broken export must not flood the terminal.
SHOWN_PROBLEMS = 50


def ingest_command(
    source: Annotated[
        str, typer.Argument(help="Register name (e.g. islp, pacos, anpr) or the path of a mapping YAML file")
    ],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The export to ingest")
    ],
    case: Annotated[str | None, typer.Option(help="Case number every record is bound to")] = None,
    operator: Annotated[str, typer.Option(help="Who runs it, for the audit log")] = getpass.getuser(),
) -> None:
    """Ingest a register export (CSV, JSON, NDJSON or XML) through the register's mapping.

    Bad rows are reported with their line and the rest goes in; running the same file twice overwrites.
    Exit status: 0 all went in, 1 some rows were rejected or refused, 2 the mapping or the file is unusable.
    """
    from case_store.audit import AuditLog, Entry, prepare_audit_engine
    from case_store.db import make_engine
    from ingest.index.client import make_search_client
    from ingest.settings import Settings
    from ingest.sources.mapping import MappingError, load_mapping, mapping_path
    from ingest.sources.run import ingest_file
    from search_api.app import audit_database_url

    settings = Settings()
    try:
        mapping = load_mapping(mapping_path(source))
    except (MappingError, FileNotFoundError) as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc

    # Collection is audited before the data goes in: without a log entry, no ingest (fail closed).
    audit_engine = make_engine(audit_database_url(settings))
    prepare_audit_engine(audit_engine)
    AuditLog(audit_engine).append(
        Entry(
            action="collection.ingest",
            actor=operator,
            unit="cli",
            justification=case,
            details={"register": mapping.register_name, "mapping": str(mapping.file), "file": str(file)},
        )
    )
    report = ingest_file(make_search_client(settings), settings.index_prefix, mapping, file, case=case)

    for problem in report.rejected[:SHOWN_PROBLEMS]:
        typer.echo(f"rejected {problem}", err=True)
    for problem in report.warnings[:SHOWN_PROBLEMS]:
        typer.echo(f"warning {problem}", err=True)
    for record_id, reason in list(report.refused.items())[:SHOWN_PROBLEMS]:
        typer.echo(f"refused {record_id}: {reason}", err=True)
    hidden = sum(max(0, len(items) - SHOWN_PROBLEMS) for items in (report.rejected, report.warnings))
    hidden += max(0, len(report.refused) - SHOWN_PROBLEMS)
    if hidden:
        typer.echo(f"... and {hidden} more", err=True)
    if report.error:
        typer.secho(f"{file}: stopped at {report.error}", fg=typer.colors.RED, err=True)
    typer.echo(" ".join(f"{name}={count}" for name, count in report.counts().items()))
    if report.error and not report.indexed:
        raise typer.Exit(2)
    if not report.ok:
        raise typer.Exit(1)
