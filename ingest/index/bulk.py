"""Idempotent bulk writes: a record's id is its `_id`, so a retried batch overwrites, never duplicates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import streaming_bulk

from ingest.index.admin import MONTHLY_KINDS, partition_index, write_alias
from ingest.records import Record


@dataclass
class BulkResult:
    written: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def target_index(prefix: str, record: Record) -> str:
    """The kind's write alias, or for a monthly kind the partition of the record's month."""
    if record.kind in MONTHLY_KINDS:
        return partition_index(prefix, record.kind, record.occurred_at or record.recorded_at)
    return write_alias(prefix, record.kind)


def _actions(prefix: str, records: Iterable[Record]) -> Iterator[dict[str, Any]]:
    for record in records:
        yield {
            "_op_type": "index",
            "_index": target_index(prefix, record),
            "_id": record.id,
            "_source": record.document(),
        }


def write_records(
    client: OpenSearch,
    prefix: str,
    records: Iterable[Record],
    *,
    chunk_size: int = 500,
    refresh: bool | str = False,
) -> BulkResult:
    """Write records in chunks; rejected records are reported by id, the others go in."""
    result = BulkResult()
    # streaming_bulk does not retry unless told: back off on 429 (queue full) a few times.
    for ok, item in streaming_bulk(
        client,
        _actions(prefix, records),
        chunk_size=chunk_size,
        max_retries=5,
        initial_backoff=1,
        raise_on_error=False,
        raise_on_exception=True,
        refresh=refresh,
    ):
        outcome = item.get("index", {})
        if ok:
            result.written += 1
        else:
            reason = outcome.get("error", {})
            if isinstance(reason, dict):
                reason = f"{reason.get('type')}: {reason.get('reason')}"
            result.errors[str(outcome.get("_id"))] = str(reason)
    return result
