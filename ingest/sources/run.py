"""One export file into the unified index, through its register's mapping.

Rows stream from the reader through the engine into the bulk writer (chunks of `BULK_CHUNK`), so memory
stays flat however large the export; the writer sends a chunk while the engine makes the next. Ids come
from natural keys: running the same file twice overwrites, never duplicates. What goes wrong is data in
the report, never an exception that loses the rest: a bad row is reported with its line and reason, a
record the index refuses by its id, a file that cannot be read any further by where it stopped (what
came before it is in).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

from ingest.index.admin import ensure_indices
from ingest.index.bulk import Line, bulk_lines, write_lines
from ingest.records import Record
from ingest.sources.engine import Engine, RowError, validated
from ingest.sources.mapping import Mapping
from ingest.sources.readers import Row, SourceError, csv_header, read_rows

# Records per bulk request: as fast as larger ones on the B1 benchmark (bench/), and a retried 429
# sends little again.
BULK_CHUNK = 1000
# Rows go through the path a batch at a time, each step over the whole batch before the next: mapping,
# validation, then the bulk lines. One step's code running for many rows in turn stays in the processor's
# caches, where the whole path for each row in turn does not (B1, plate reads: see decision 29).
BATCH_ROWS = 100
YOUNG_THRESHOLD = 5000  # see _young_collections_every


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
    return chain.from_iterable(_batches(mapping, path, case, report, now))


def parse_lines(
    mapping: Mapping,
    path: Path,
    prefix: str,
    *,
    case: str | None = None,
    report: IngestReport | None = None,
    now: datetime | None = None,
) -> Iterator[Line]:
    """The bulk lines of an export's records under `prefix` (`parse_file`'s records, each written by
    `bulk_lines`), lazily; bad rows and a file that stops early go to `report`."""
    report = report if report is not None else IngestReport(mapping.source, str(path))
    for records in _batches(mapping, path, case, report, now):
        yield from [bulk_lines(prefix, record) for record in records]


def _batches(
    mapping: Mapping, path: Path, case: str | None, report: IngestReport, now: datetime | None
) -> Iterator[list[Record]]:
    """The records of an export, `BATCH_ROWS` rows at a time: every row of a batch is mapped, then every
    document validated (and the caller writes every record). Bad rows go to `report` in line order."""
    engine = Engine(mapping)
    now = now or datetime.now(UTC)
    rows = _rows(mapping, path, engine, report)
    with _young_collections_every(YOUNG_THRESHOLD):
        while batch := list(islice(rows, BATCH_ROWS)):
            yield _records(engine, batch, case, report, now)


def _records(
    engine: Engine, batch: list[Row], case: str | None, report: IngestReport, now: datetime
) -> list[Record]:
    mapped: list[tuple[int, dict[str, Any] | str, list[str]]] = []
    for row in batch:
        if row.error is not None:
            mapped.append((row.line, row.error, []))
            continue
        try:
            document, warnings = engine.document(row.data, case=case, now=now)
        except RowError as exc:
            mapped.append((row.line, str(exc), []))
            continue
        mapped.append((row.line, document, warnings))
    records = []
    for line, outcome, warnings in mapped:
        if isinstance(outcome, str):  # the reason the row is no document
            report.rejected.append(RowProblem(line, outcome))
            continue
        try:
            records.append(validated(outcome))
        except RowError as exc:
            report.rejected.append(RowProblem(line, str(exc)))
            continue
        report.parsed += 1
        if warnings:
            report.warnings += [RowProblem(line, warning) for warning in warnings]
    return records


_collector_lock = threading.Lock()
_collector_users = 0
_collector_saved: tuple[int, int, int] | None = None


@contextmanager
def _young_collections_every(allocations: int) -> Iterator[None]:
    """The collector's youngest generation collected after `allocations` new objects (not 700) while
    an export is parsed, then as it was. A batch keeps some 4,000 objects alive until it is written; at
    700 each batch would be walked several times over and moved to the older generations, which are
    walked in turn. Exports parsed side by side (threads) share one raised threshold: the first sets
    it, the last puts the old one back."""
    global _collector_users, _collector_saved
    with _collector_lock:
        if _collector_users == 0:
            _collector_saved = gc.get_threshold()
            if _collector_saved[0] < allocations:
                gc.set_threshold(allocations, *_collector_saved[1:])
        _collector_users += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_users -= 1
            if _collector_users == 0 and _collector_saved is not None:
                gc.set_threshold(*_collector_saved)


def _rows(mapping: Mapping, path: Path, engine: Engine, report: IngestReport) -> Iterator[Row]:
    """The rows of an export, counted in `report`; the reason a file stops early goes there too."""
    try:
        if mapping.format == "csv":
            header = set(csv_header(path, mapping.read_options))
            missing = sorted(engine.paths() - header)
            if missing:
                raise SourceError(f"the header lacks the column(s) the mapping reads: {missing}", 1)
        for row in read_rows(path, mapping.read_options):
            report.read += 1
            yield row
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
    lines = parse_lines(mapping, path, prefix, case=case, report=report, now=now)
    result = write_lines(client, lines, chunk_size=BULK_CHUNK, refresh=refresh)
    report.indexed = result.written
    report.refused = dict(result.errors)
    return report
