"""Retention: what is past its term leaves the index — whole months for partitioned kinds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

from ingest.index.admin import MONTHLY_KINDS, write_alias


@dataclass
class RetentionReport:
    cutoff: dict[str, str] = field(default_factory=dict)
    dropped_indices: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)


def _month_end(name: str) -> datetime | None:
    """The first moment after the month a partition `<prefix>-<kind>-YYYY.MM` holds."""
    try:
        year, month = (int(part) for part in name.rsplit("-", 1)[1].split("."))
    except ValueError:
        return None
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def _delete_older(client: OpenSearch, index: str, cutoff: datetime) -> int:
    """Delete by `occurred_at`, or by `recorded_at` where a record has no time of fact."""
    older = {
        "bool": {
            "should": [
                {"range": {"occurred_at": {"lt": cutoff.isoformat()}}},
                {
                    "bool": {
                        "must_not": {"exists": {"field": "occurred_at"}},
                        "filter": {"range": {"recorded_at": {"lt": cutoff.isoformat()}}},
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }
    try:
        response = client.delete_by_query(
            index=index, body={"query": older}, params={"refresh": "true", "conflicts": "proceed"}
        )
    except NotFoundError:
        return 0
    return int(response.get("deleted", 0))


def apply_retention(
    client: OpenSearch,
    prefix: str,
    terms_days: dict[str, int],
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> RetentionReport:
    """Remove every record older than its kind's term; whole monthly partitions are dropped at once."""
    now = now or datetime.now(UTC)
    report = RetentionReport()
    for kind, days in sorted(terms_days.items()):
        cutoff = now - timedelta(days=days)
        report.cutoff[kind] = cutoff.isoformat()
        if kind in MONTHLY_KINDS:
            try:
                partitions = sorted(client.indices.get(index=f"{prefix}-{kind}-*"))
            except NotFoundError:
                partitions = []
            for name in partitions:
                end = _month_end(name)
                if end is not None and end <= cutoff:
                    report.dropped_indices.append(name)
                    if not dry_run:
                        client.indices.delete(index=name)
                elif end is not None and not dry_run:
                    report.deleted[kind] = report.deleted.get(kind, 0) + _delete_older(client, name, cutoff)
        elif not dry_run:
            report.deleted[kind] = _delete_older(client, write_alias(prefix, kind), cutoff)
    return report
