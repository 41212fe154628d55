"""`speurder demo`: services, demo accounts, a generated world across every register, seized documents,
then the web interface — what a newcomer sees after `make demo`."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

DEMO_USER = "demo"
DEMO_PASSWORD = "speurder-demo-2026"  # noqa: S105 - the demo login `make demo` prints
DEMO_AUDITOR = "auditor"
DEMO_MAGISTRATE = "magistraat"
DEMO_CASE = "AN.12.L3.004711/2026"
DEMO_SEED = 2026
# Documents of the shared test corpus the demo uploads, when the corpus lies beside the checkout.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "formats-tika" / "files"
SHARED_FOLDERS = ("mail", "pdf", "ocr")


def _ensure_accounts(registers: list[str]) -> None:
    from case_store.cases import ensure_case
    from case_store.db import transaction
    from case_store.users import UserError, add_user, grant_register
    from search_api.cli import _sessions

    sessions = _sessions()
    accounts = [
        (DEMO_USER, "investigator", "PZ Antwerpen/Recherche", "Demo Rechercheur", 2),
        (DEMO_AUDITOR, "auditor", "Controleorgaan", "Demo Auditor", 3),
        # Approves the team's requisitions from the inbox; not on the case team, so sees no answer.
        (DEMO_MAGISTRATE, "magistrate", "Parket Antwerpen", "Demo Onderzoeksrechter", 3),
    ]
    for username, role, unit, name, clearance in accounts:
        # A second `make demo` keeps the accounts.
        with transaction(sessions) as session, contextlib.suppress(UserError):
            add_user(
                session, username, DEMO_PASSWORD, role=role, unit=unit, display_name=name, clearance=clearance
            )
    with transaction(sessions) as session:
        for register in registers:
            grant_register(session, DEMO_USER, register, by="demo")
        ensure_case(session, DEMO_CASE, title="Inbraakreeks Antwerpen-Gent", lead=DEMO_USER)


def _load_registers(folder: Path, total: int) -> None:
    """Generate a world once (the same seed gives the same files) and ingest every register's export."""
    from ingest.generate import generate
    from ingest.index.client import make_search_client
    from ingest.settings import Settings
    from ingest.sources.mapping import MAPPINGS_DIR, load_mapping
    from ingest.sources.run import ingest_file

    marker = folder / f".generated-{DEMO_SEED}-{total}"
    if not marker.exists():
        started = time.monotonic()
        generate(folder, seed=DEMO_SEED, total=total)
        marker.touch()
        typer.echo(f"generated {total:,} register records in {time.monotonic() - started:.0f} s")
    settings = Settings()
    client = make_search_client(settings)
    started = time.monotonic()
    for export in sorted(folder.iterdir()):
        mapping_file = MAPPINGS_DIR / f"{export.stem}.yaml"
        if not mapping_file.is_file():
            continue  # the ground truth and other side files
        report = ingest_file(client, settings.index_prefix, load_mapping(mapping_file), export)
        counts = " ".join(f"{key}={value}" for key, value in report.counts().items())
        typer.echo(f"{export.stem:22} {counts}")
    client.indices.refresh(index=settings.index_prefix)
    typer.echo(f"registers indexed in {time.monotonic() - started:.0f} s")


def demo_command(
    records: Annotated[int, typer.Option(help="Register records to generate and index")] = 100_000,
) -> None:
    """Services, demo accounts, a generated world across all registers, documents, then the web interface."""
    from ingest.sample_documents import write_sample_documents
    from ingest.settings import Settings
    from ingest.sources.mapping import packaged_mappings
    from search_api.cli import index_create, services_up, upload, web

    settings = Settings()
    services_up(names=None, all_=False)
    index_create()
    registers = ["ges", *(path.stem for path in packaged_mappings())]
    _ensure_accounts(registers)

    log = (settings.data_dir / "logs" / "worker.log").resolve()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "search_api.cli", "worker", "--concurrency", "2"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # The reference National Bank CPC the demo's requisitions are executed against.
        cpc = subprocess.Popen(
            [sys.executable, "-m", "search_api.cli", "cpc", "serve"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _load_registers((settings.data_dir / "demo" / "registers").resolve(), records)
        documents = (settings.data_dir / "demo" / "documents").resolve()
        if not documents.exists():  # the same files on a second run: they end as `duplicate`
            write_sample_documents(documents)
        seized = [
            documents,
            *(SHARED_DATA / name for name in SHARED_FOLDERS if (SHARED_DATA / name).is_dir()),
        ]
        upload(paths=seized, case=DEMO_CASE, uploader=DEMO_USER, wait=True, timeout=900)
        url = f"http://{settings.web_host}:{settings.web_port}/"
        typer.secho(f"\nSpeurder is ready at {url}", fg=typer.colors.GREEN, bold=True)
        typer.echo(f"Sign in as '{DEMO_USER}' with password '{DEMO_PASSWORD}'.")
        typer.echo("Try: 1abc123 · Vandenbossche · véhicule · type:plate_read date:2026-10 · asof:2026-03-01")
        typer.echo(
            "ANG alerts need a reason: put a case number (e.g. AN.12.L3.004711/2026) in the reason box."
        )
        typer.echo(f"The auditor '{DEMO_AUDITOR}' (same password) reads the audit log at {url}audit")
        typer.echo(
            f"Requisitions: draft one in case {DEMO_CASE}; the magistrate '{DEMO_MAGISTRATE}' (same "
            f"password) approves it from {url}requisitions/inbox"
        )
        typer.echo("Stop with Ctrl+C; `speurder services down` stops the services.\n")
        web()
    finally:
        worker.terminate()
        cpc.terminate()
