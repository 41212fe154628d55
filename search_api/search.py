"""Consultations: a search or a record lookup, run under the access filter and written to the audit log.

Results are only handed back once the audit event is written; when it cannot be, the consultation
fails (closed), and nothing is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch, TransportError

from case_store.audit import AuditLog, Entry
from search_api.access import Principal, access_filter
from search_api.queries import (
    PAGE_SIZE,
    TOTAL_HITS_BOUND,
    QueryError,
    build_record_lookup,
    build_search,
    parse_query,
)


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
    version: int | None = None


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
        version=raw.get("_version"),
    )


class JustificationRequired(Exception):
    """A register that demands a reason would be consulted without one."""

    def __init__(self, registers: frozenset[str]) -> None:
        self.registers = registers
        super().__init__(
            "consulting "
            + ", ".join(sorted(registers))
            + " needs a justification: a case number or a legal ground"
        )


MIN_JUSTIFICATION = 4


@dataclass(frozen=True)
class Consultation:
    """Who consults, why, and from where: what every read carries into the audit log."""

    principal: Principal
    justification: str | None = None
    client: str | None = None
    # Registers whose consultation needs a justification (settings.justified_registers).
    marked_registers: frozenset[str] = frozenset()

    def entry(self, action: str, **fields: Any) -> Entry:
        return Entry(
            action=action,
            actor=self.principal.username,
            unit=self.principal.unit,
            justification=self.justification,
            client=self.client,
            **fields,
        )


def require_justification(consultation: Consultation, filters: dict[str, tuple[str, ...]]) -> None:
    """Refuse a consultation that would reach a register marked so, unless a reason is given."""
    reachable = consultation.principal.registers & consultation.marked_registers
    if "register" in filters:
        reachable &= set(filters["register"])
    reason = (consultation.justification or "").strip()
    if reachable and len(reason) < MIN_JUSTIFICATION:
        raise JustificationRequired(frozenset(reachable))


def too_many_clauses(exc: TransportError) -> bool:
    """The engine refused a query for its size (each word in each field is one clause)."""
    return "too many nested clauses" in str(exc) or "too_many_clauses" in str(exc)


def search_records(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    raw_query: str,
    *,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> SearchPage:
    parsed = parse_query(raw_query)
    require_justification(consultation, parsed.filters)
    body = build_search(parsed, access_filter(consultation.principal), page=page, size=size)
    # Partial results would silently hide records: a failing shard is an error here, not a 200.
    try:
        response = client.search(index=index, body=body, params={"allow_partial_search_results": "false"})
    except TransportError as exc:
        if too_many_clauses(exc):
            raise QueryError(
                "this query has more words than the search engine takes: keep the ones that matter"
            ) from exc
        raise
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
        consultation.entry(
            "consultation.search",
            query=raw_query,
            subjects=tuple(hit.id for hit in result.hits),
            details={
                "filters": {key: list(values) for key, values in parsed.filters.items()},
                "page": page,
                "total": result.total,
                "results": [[hit.id, hit.version] for hit in result.hits],
            },
        )
    )
    return result


def open_record(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    record_key: str,
    *,
    action: str = "consultation.open",
) -> dict[str, Any] | None:
    """The whole record if the principal may see it, else None (indistinguishable from absent)."""
    body = build_record_lookup(record_key, access_filter(consultation.principal))
    response = client.search(index=index, body=body)
    hits = response["hits"]["hits"]
    if hits:
        source = hits[0]["_source"]
        # Seen through one of the user's cases, the case is the ground; seen through a grant on a
        # register marked so, a reason is needed.
        if not set(source.get("case_ids", [])) & consultation.principal.case_numbers:
            require_justification(consultation, {"register": (source.get("register", ""),)})
    audit.append(
        consultation.entry(
            action,
            subjects=(record_key,),
            details={
                "record_id": record_key,
                "shown": bool(hits),
                "version": hits[0].get("_version") if hits else None,
            },
        )
    )
    return hits[0]["_source"] if hits else None
