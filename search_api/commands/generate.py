"""`speurder generate OUT_DIR`: a seeded world of realistic Belgian register exports to ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def generate_command(
    out_dir: Annotated[Path, typer.Argument(file_okay=False, help="Folder to write the exports into")],
    seed: Annotated[int, typer.Option(help="Same seed, same files (byte for byte)")] = 42,
    total: Annotated[int, typer.Option(min=0, help="Records over all registers (ANPR takes 80%)")] = 100_000,
) -> None:
    """Write synthetic exports of all eleven registers and a ground truth of who is who.

    Each file is in its register's export format: `speurder ingest <register> <file>` takes it as it is.
    The same persons, vehicles, phones and accounts recur across registers under varying spellings;
    ground_truth.jsonl lists every true entity with its identifiers, spellings and records.
    """
    from ingest.generate import generate

    report = generate(out_dir, seed=seed, total=total)
    width = max(len(f"{file.rows:,}") for file in report.files)
    for file in report.files:
        typer.echo(f"{file.rows:>{width},}  {file.path}  ({file.register})")
    entities = f"{report.entities:>{width},}  {report.ground_truth}"
    typer.echo(f"{entities}  (entities, {report.appearances:,} appearances)")
    typer.echo(f"{report.rows:,} records in {report.seconds:.1f} s (seed {seed})")
    typer.echo(f"Ingest a file: speurder ingest anpr {Path(out_dir) / 'anpr.ndjson'}")
