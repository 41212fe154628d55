"""The ground truth: which true entity appears in which record, under which spelling.

Every appearance is written, while the records are generated, to a scratch SQLite table (one row per
entity per record); at the end the table is read back sorted by entity and each entity becomes one line
of `ground_truth.jsonl`: its canonical id and kind, its identifiers (normalised as the index keeps them),
every name and spelling used, and every record it appears in as [register, source_ref, record id]. SQLite
sorts on disk, so memory stays flat however many records there are. Record ids are computed by
`ingest.records.record_id`, the function the mapping engine uses.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ingest.records import record_id
from ingest.sources.transforms import TransformError, person_name

Ref = tuple[str, str, str]  # register, source_ref, record id
FLUSH_EVERY = 20_000


class Truth:
    def __init__(self, scratch: Path) -> None:
        self.database = sqlite3.connect(scratch)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE", "cache_size = -4000"):
            self.database.execute(f"PRAGMA {pragma}")
        self.database.execute(
            "CREATE TABLE appearance (entity TEXT, register TEXT, source_ref TEXT, record TEXT, written TEXT)"
        )
        self.pending: list[tuple[str, str, str, str, str]] = []
        self.appearances = 0

    @staticmethod
    def ref(register: str, kind: str, source_ref: str, *keys: str) -> Ref:
        """The record as the engine will identify it: `record_id(kind, register, *natural keys)`."""
        return register, source_ref, record_id(kind, register, *(keys or (source_ref,)))

    def seen(self, ref: Ref, entity: str, written: str = "") -> None:
        self.pending.append((entity, ref[0], ref[1], ref[2], written))
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        self.database.executemany("INSERT INTO appearance VALUES (?, ?, ?, ?, ?)", self.pending)
        self.appearances += len(self.pending)
        self.pending.clear()

    def write(self, path: Path, describe: Callable[[str], dict[str, Any]]) -> int:
        """Write one JSON line per entity; return how many. Lines are streamed: an entity's records go
        out as they are read back, and only its distinct spellings (a handful) are held."""
        self.flush()
        rows = self.database.execute(
            "SELECT entity, register, source_ref, record, written FROM appearance ORDER BY entity, rowid"
        )
        count = 0
        with path.open("w", encoding="utf-8") as out:
            current: str | None = None
            line: dict[str, Any] = {}
            spellings: set[str] = set()
            last_record = ""
            for entity, register, source_ref, record, written in rows:
                if entity != current:
                    if current is not None:
                        _finish(out, line, spellings)
                    current, line, spellings, last_record = (
                        entity,
                        {"id": entity, **describe(entity)},
                        set(),
                        "",
                    )
                    out.write(json.dumps(line, ensure_ascii=False)[:-1] + ', "records": [')
                    count += 1
                elif record != last_record:
                    out.write(", ")
                if record != last_record:  # one entity twice in a record (a person and an alias): once
                    # Registers, source refs and ids are plain (no quote, no backslash): no encoder needed.
                    out.write(f'["{register}", "{source_ref}", "{record}"]')
                    last_record = record
                if written:
                    spellings.add(written)
            if current is not None:
                _finish(out, line, spellings)
        return count

    def close(self) -> None:
        self.database.close()


def _finish(out: TextIO, line: dict[str, Any], spellings: set[str]) -> None:
    """Close an entity's line: the spellings used in the exports and, for a person, the names as the
    index keeps them (every spelling through the mapping's name transform)."""
    written = sorted(spellings)
    tail: dict[str, Any] = {"written": written}
    if line["kind"] == "person":
        tail["names"] = sorted({_indexed_name(spelling) for spelling in written})
    out.write("], " + json.dumps(tail, ensure_ascii=False)[1:] + "\n")


def _indexed_name(written: str) -> str:
    """A name as the index keeps it (the mapping's `person_name` transform)."""
    try:
        return person_name(written)
    except TransformError:
        return written
