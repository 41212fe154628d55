"""Consultations: a search or a record lookup, run under the access filter and written to the audit log.

Results are only handed back once the audit event is written; when it cannot be, the consultation
fails (closed), and nothing is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch

from case_store.audit import AuditLog, Entry
from search_api.access import Principal, access_filter
from search_api.queries import PAGE_SIZE, TOTAL_HITS_BOUND, build_record_lookup, build_search, parse_query


@dataclass
class Hit:
    id: str
    kind: str
    title: str
    register: str
    source: dict[str, Any]
    highlights: list[str] = field(default_factory=list)
    title_highlight: str | None = None
    score: float | None = None


@dataclass
class SearchPage:
    query: str
    page: int
    total: int
    total_is_lower_bound: bool
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    took_ms: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _hit(raw: dict[str, Any]) -> Hit:
    source = raw.get("_source", {})
    highlight = raw.get("highlight", {})
    return Hit(
        id=raw["_id"],
        kind=source.get("kind", ""),
        title=source.get("title", ""),
        register=source.get("register", ""),
        source=source,
        highlights=highlight.get("text", []),
        title_highlight=(highlight.get("title") or [None])[0],
        score=raw.get("_score"),
    )


def search_records(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    principal: Principal,
    raw_query: str,
    *,
    page: int = 1,
    justification: str | None = None,
) -> SearchPage:
    parsed = parse_query(raw_query)
    body = build_search(parsed, access_filter(principal), page=page)
    # Partial results would silently hide records: a failing shard is an error here, not a 200.
    response = client.search(index=index, body=body, params={"allow_partial_search_results": "false"})
    total = response["hits"]["total"]
    result = SearchPage(
        query=raw_query,
        page=page,
        total=total["value"],
        total_is_lower_bound=total["relation"] == "gte" or total["value"] >= TOTAL_HITS_BOUND,
        hits=[_hit(raw) for raw in response["hits"]["hits"]],
        facets={
            name: [(bucket["key"], bucket["doc_count"]) for bucket in agg["buckets"]]
            for name, agg in response.get("aggregations", {}).items()
        },
        took_ms=response.get("took", 0),
    )
    audit.append(
        Entry(
            action="consultation.search",
            actor=principal.username,
            unit=principal.unit,
            justification=justification,
            query=raw_query,
            details={
                "filters": {key: list(values) for key, values in parsed.filters.items()},
                "page": page,
                "total": result.total,
                "result_ids": [hit.id for hit in result.hits],
            },
        )
    )
    return result


def open_record(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    principal: Principal,
    record_key: str,
    *,
    justification: str | None = None,
) -> dict[str, Any] | None:
    """The whole record if the principal may see it, else None (indistinguishable from absent)."""
    response = client.search(index=index, body=build_record_lookup(record_key, access_filter(principal)))
    hits = response["hits"]["hits"]
    audit.append(
        Entry(
            action="consultation.open",
            actor=principal.username,
            unit=principal.unit,
            justification=justification,
            details={"record_id": record_key, "shown": bool(hits)},
        )
    )
    return hits[0]["_source"] if hits else None
