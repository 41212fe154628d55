"""One export file into the unified index, through its register's mapping.

Rows stream from the reader through the engine into the bulk writer (chunks of `BULK_CHUNK`), so memory
stays flat however large the export; the writer sends a chunk while the engine makes the next. Ids come
from natural keys: running the same file twice overwrites, never duplicates. What goes wrong is data in
the report, never an exception that loses the rest: a bad row is reported with its line and reason, a
record the index refuses by its id, a file that cannot be read any further by where it stopped (what
came before it is in).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from opensearchpy import OpenSearch

from ingest.index.admin import ensure_indices
from ingest.index.bulk import write_records
from ingest.records import Record
from ingest.sources.engine import Engine, RowError
from ingest.sources.mapping import Mapping
from ingest.sources.readers import SourceError, csv_header, read_rows

# Records per bulk request: as fast as larger ones on the B1 benchmark (bench/), and a retried 429
# sends little again.
BULK_CHUNK = 1000


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class IngestReport:
    source: str
    file: str
    read: int = 0
    parsed: int = 0
    indexed: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    # The file could not be read (any further): the reason, with its line.
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.rejected or self.refused or self.error)

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "indexed": self.indexed,
            "rejected": len(self.rejected),
            "refused": len(self.refused),
            "warnings": len(self.warnings),
        }


def parse_file(
    mapping: Mapping,
    path: Path,
    *,
    case: str | None = None,
    report: IngestReport | None = None,
    now: datetime | None = None,
) -> Iterator[Record]:
    """The records of an export, lazily; bad rows and a file that stops early go to `report`."""
    report = report if report is not None else IngestReport(mapping.source, str(path))
    engine = Engine(mapping)
    now = now or datetime.now(UTC)
    try:
        if mapping.format == "csv":
            header = set(csv_header(path, mapping.read_options))
            missing = sorted(engine.paths() - header)
            if missing:
                raise SourceError(f"the header lacks the column(s) the mapping reads: {missing}", 1)
        for row in read_rows(path, mapping.read_options):
            report.read += 1
            if row.error is not None:
                report.rejected.append(RowProblem(row.line, row.error))
                continue
            try:
                built = engine.build(row.data, case=case, now=now)
            except RowError as exc:
                report.rejected.append(RowProblem(row.line, str(exc)))
                continue
            report.parsed += 1
            if built.warnings:
                report.warnings += [RowProblem(row.line, warning) for warning in built.warnings]
            yield built.record
    except (SourceError, OSError, UnicodeError) as exc:
        report.error = str(exc)


def ingest_file(
    client: OpenSearch,
    prefix: str,
    mapping: Mapping,
    path: Path,
    *,
    case: str | None = None,
    refresh: bool | str = False,
    now: datetime | None = None,
) -> IngestReport:
    """Parse an export and bulk-write its records under `prefix`; the report says what became of each.
    `now` is the records' `recorded_at` (default: the time of the call)."""
    report = IngestReport(mapping.source, str(path))
    ensure_indices(client, prefix, kinds=mapping.kinds)
    records = parse_file(mapping, path, case=case, report=report, now=now)
    result = write_records(client, prefix, records, chunk_size=BULK_CHUNK, refresh=refresh)
    report.indexed = result.written
    report.refused = dict(result.errors)
    return report
