"""Idempotent bulk writes: a record's id is its `_id`, so a retried batch overwrites, never duplicates.

The caller's thread turns records into bulk lines (for a register export that is where the rows are
parsed); up to `in_flight` chunks travel to OpenSearch meanwhile on their own threads, so the cluster
indexes one chunk while the next is being made. Each record is serialised once, by pydantic, straight
to the JSON of its bulk line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import chain, islice
from json.encoder import encode_basestring_ascii
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import streaming_bulk

from ingest.index.admin import MONTHLY_KINDS, partition_index, write_alias
from ingest.records import Record

Line = tuple[str, str]  # the action line and the document line of one record
Outcome = tuple[bool, dict[str, Any]]
# What is read of each item of a bulk response; the rest (shards, versions, index) is never sent.
_OUTCOME = "items.*._id,items.*.status,items.*.error"
# A JSON string as `json.dumps` writes it (ensure_ascii, json's C encoder): an action line put together
# from its pieces is the very text `json.dumps(action, separators=(",", ":"))` gives.
_quoted = encode_basestring_ascii


@dataclass
class BulkResult:
    written: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def target_index(prefix: str, record: Record) -> str:
    """The kind's write alias, or for a monthly kind the partition of the record's month."""
    if record.kind in MONTHLY_KINDS:
        moment = record.occurred_at or record.recorded_at
        return _partition(prefix, record.kind, moment.year, moment.month)
    return write_alias(prefix, record.kind)


@lru_cache(maxsize=4096)
def _partition(prefix: str, kind: str, year: int, month: int) -> str:
    # Named once per month, not per record: formatting a moment is the dearest part of a bulk line.
    return partition_index(prefix, kind, datetime(year, month, 1))


@lru_cache(maxsize=4096)
def _action_head(index: str) -> str:
    # The action line up to the id is the same for every record of an index: encoded once, not per record.
    return '{"index":{"_index":' + _quoted(index) + ',"_id":'


def bulk_lines(prefix: str, record: Record) -> Line:
    """A record as its two bulk lines; the document is `record.document()`, serialised.

    The action line is `json.dumps({"index": {"_index": …, "_id": …}}, separators=(",", ":"))`, byte for
    byte, written out: encoding a small dict costs as much as the rest of the line. The document is
    pydantic's serialiser called directly (`model_dump_json` without its per-call argument handling)."""
    action = _action_head(target_index(prefix, record)) + _quoted(record.id) + "}}"
    document = record.__pydantic_serializer__.to_json(record, exclude_none=True, by_alias=True).decode()
    return action, document


def _as_is(line: Line) -> Line:
    return line


def _send(client: OpenSearch, chunk: list[Line], refresh: bool | str) -> list[Outcome]:
    # streaming_bulk does not retry unless told: back off on 429 (queue full) a few times.
    return list(
        streaming_bulk(
            client,
            chunk,
            chunk_size=len(chunk),
            expand_action_callback=_as_is,
            max_retries=5,
            initial_backoff=1,
            raise_on_error=False,
            raise_on_exception=True,
            refresh=refresh,
            filter_path=_OUTCOME,
        )
    )


def _chunks(lines: Iterator[Line], size: int) -> Iterator[list[Line]]:
    while chunk := list(islice(lines, size)):
        yield chunk


def _tally(outcomes: list[Outcome], result: BulkResult) -> None:
    for ok, item in outcomes:
        outcome = item.get("index", {})
        if ok:
            result.written += 1
        else:
            reason = outcome.get("error", {})
            if isinstance(reason, dict):
                reason = f"{reason.get('type')}: {reason.get('reason')}"
            result.errors[str(outcome.get("_id"))] = str(reason)


def write_records(
    client: OpenSearch,
    prefix: str,
    records: Iterable[Record],
    *,
    chunk_size: int = 500,
    refresh: bool | str = False,
    in_flight: int = 3,
) -> BulkResult:
    """Write records in chunks; rejected records are reported by id, the others go in."""
    lines = (bulk_lines(prefix, record) for record in records)
    return write_lines(client, lines, chunk_size=chunk_size, refresh=refresh, in_flight=in_flight)


def write_lines(
    client: OpenSearch,
    lines: Iterator[Line],
    *,
    chunk_size: int = 500,
    refresh: bool | str = False,
    in_flight: int = 3,
) -> BulkResult:
    """Write records given as their bulk lines in chunks; rejected records are reported by id.

    At most `in_flight` chunks are on their way while the next one is made, so memory stays bounded
    by a few chunks however many records come; outcomes are tallied in the records' order.
    """
    result = BulkResult()
    chunks = _chunks(lines, chunk_size)
    first = next(chunks, None)
    if first is None:
        return result
    if len(first) < chunk_size:
        # The whole write is one chunk (a worker's file and its children): sent from this thread, with
        # no pool started and stopped around it.
        _tally(_send(client, first, refresh), result)
        return result
    pending: deque[Future[list[Outcome]]] = deque()
    with ThreadPoolExecutor(max_workers=max(1, in_flight), thread_name_prefix="bulk") as pool:
        try:
            for chunk in chain([first], chunks):
                pending.append(pool.submit(_send, client, chunk, refresh))
                if len(pending) > in_flight:
                    _tally(pending.popleft().result(), result)
            while pending:
                _tally(pending.popleft().result(), result)
        finally:
            for future in pending:  # a failure: what has not started yet is not sent
                future.cancel()
    return result
