"""Time on the real engine: monthly partitions, retention, date ranges and "as of" validity."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from opensearchpy import OpenSearch

from case_store.users import Entitlements
from ingest.index.admin import drop_all, ensure_indices
from ingest.index.bulk import write_records
from ingest.index.retention import apply_retention
from ingest.records import Record, Vehicle, record_id
from search_api.access import access_filter
from search_api.queries import QueryError, build_search, parse_query

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
EVERYONE = Entitlements("t", "t", "analyst", "u", 3, frozenset({"anpr", "mercurius"}), frozenset())


@pytest.fixture()
def prefix(search: OpenSearch) -> Iterator[str]:
    name = f"test-time-{uuid.uuid4().hex[:8]}"
    ensure_indices(search, name, kinds=["licence_status"])
    yield name
    drop_all(search, name)


def read(n: int, when: datetime) -> Record:
    return Record(
        id=record_id("plate_read", "CAM-E40-12", n),
        kind="plate_read",
        source="anpr",
        title=f"1TRK{n % 1000:03d} op de E40",
        occurred_at=when,
        recorded_at=when,
        register="anpr",
        vehicles=[Vehicle(plate=f"1TRK{n % 1000:03d}", country="BE")],
    )


def found(search: OpenSearch, prefix: str, query: str) -> set[str]:
    body = build_search(parse_query(query), access_filter(EVERYONE), size=100)
    return {hit["_id"] for hit in search.search(index=prefix, body=body)["hits"]["hits"]}


def test_plate_reads_go_to_monthly_partitions_and_retention_drops_old_months(
    search: OpenSearch, prefix: str
) -> None:
    # One read every ten days over fourteen months.
    reads = [read(n, NOW - timedelta(days=10 * n)) for n in range(43)]
    assert not write_records(search, prefix, reads, refresh="wait_for").errors
    partitions = sorted(search.indices.get(index=f"{prefix}-plate_read-*"))
    months = {f"{r.occurred_at:%Y.%m}" for r in reads if r.occurred_at}
    assert partitions == sorted(f"{prefix}-plate_read-{month}" for month in months)
    assert len(partitions) == 14
    assert search.count(index=prefix)["count"] == 43  # the read alias spans every partition

    report = apply_retention(search, prefix, {"plate_read": 365}, now=NOW)
    cutoff = NOW - timedelta(days=365)
    kept = {r.id for r in reads if r.occurred_at and r.occurred_at >= cutoff}
    assert report.dropped_indices == [p for p in partitions if p < f"{prefix}-plate_read-2025.11"]
    assert report.deleted["plate_read"] == 43 - len(kept) - sum(
        1 for r in reads if r.occurred_at and r.occurred_at < datetime(2025, 11, 1, tzinfo=UTC)
    )
    remaining = {hit["_id"] for hit in search.search(index=prefix, body={"size": 100})["hits"]["hits"]}
    assert remaining == kept


def test_date_ranges_include_their_ends(search: OpenSearch, prefix: str) -> None:
    reads = [
        read(n, datetime(2026, month, day, 23, 30, tzinfo=UTC))
        for n, (month, day) in enumerate([(1, 1), (3, 31), (6, 30), (7, 1)])
    ]
    write_records(search, prefix, reads, refresh="wait_for")
    assert found(search, prefix, "date:2026-01..2026-06") == {r.id for r in reads[:3]}
    assert found(search, prefix, "datum:2026-03-31") == {reads[1].id}
    assert found(search, prefix, "date:2026-07..") == {reads[3].id}


def test_licence_status_as_of_a_day(search: OpenSearch, prefix: str) -> None:
    def status(label: str, start: datetime, end: datetime | None) -> Record:
        return Record(
            id=record_id("licence_status", "85073003328", label),
            kind="licence_status",
            source="mercurius",
            title=f"Rijbewijs 85073003328: {label}",
            valid_from=start,
            valid_to=end,
            recorded_at=NOW,
            register="mercurius",
            identifiers=["85073003328"],
        )

    history = [
        status("geldig", datetime(2015, 5, 2, tzinfo=UTC), datetime(2025, 9, 30, tzinfo=UTC)),
        status("rijverbod", datetime(2025, 10, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)),
        status("geldig na verbod", datetime(2026, 4, 1, tzinfo=UTC), None),
    ]
    write_records(search, prefix, history, refresh="wait_for")
    assert found(search, prefix, "85073003328 asof:2020-01-01") == {history[0].id}
    assert found(search, prefix, "85073003328 opdatum:2026-01-15") == {history[1].id}
    assert found(search, prefix, "85073003328 asof:2026-11-28") == {history[2].id}


@pytest.mark.parametrize("query", ["date:gisteren", "asof:2026-03", "date:.."])
def test_bad_dates_are_refused_with_a_reason(query: str) -> None:
    with pytest.raises(QueryError):
        build_search(parse_query(query), access_filter(EVERYONE))
