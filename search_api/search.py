"""Consultations: a search or a record lookup, run under the access filter and written to the audit log.

Results are only handed back once the audit event is written; when it cannot be, the consultation
fails (closed), and nothing is shown.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch, TransportError

from case_store.audit import AuditLog, Entry
from case_store.cursors import CursorStore
from search_api.access import Principal, access_filter
from search_api.queries import (
    PAGE_SIZE,
    PIT_KEEP_ALIVE,
    TOTAL_HITS_BOUND,
    QueryError,
    build_record_lookup,
    build_search,
    facet_filter,
    parse_query,
)
from ui.i18n import N_

# The exact body each search sends, at DEBUG: quiet in production, switched on by bench/world.py so
# benchmark B3 can replay the very same request against OpenSearch.
BODY_LOG = logging.getLogger("speurder.search.body")


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
    sort: str = "relevance"
    cursor: str | None = None  # the next page in the same point in time, when paging deep

    def refined(self, facet: str, value: object) -> str:
        """This query narrowed to one facet value: what a click on the facet searches."""
        return f"{self.query} {facet_filter(facet, str(value))}".strip()

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def hit_from(raw: dict[str, Any]) -> Hit:
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


CURSOR_START = "start"


def encode_cursor(token: str, after: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([token, after]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, list[Any]]:
    """A cursor the API handed out: a token for its point in time and a place in the sort order,
    nothing more. The access filter is applied again on every page, so a cursor passed on reveals
    nothing; it is also only honoured for the user it was handed to."""
    try:
        token, after = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise QueryError(N_("this page link is damaged; search again")) from exc
    if not isinstance(token, str) or not isinstance(after, list):
        raise QueryError(N_("this page link is damaged; search again"))
    return token, after


def search_records(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    raw_query: str,
    *,
    page: int = 1,
    size: int = PAGE_SIZE,
    sort: str = "relevance",
    cursor: str | None = None,
    cursors: CursorStore | None = None,
) -> SearchPage:
    """One page of results. Numbered pages reach the first TOTAL_HITS_BOUND hits; `cursor="start"`
    opens a point in time and every page then hands back the cursor of the next one."""
    parsed = parse_query(raw_query)
    require_justification(consultation, parsed.filters)
    pit: str | None = None
    after: list[Any] | None = None
    if cursor and cursors is None:
        raise QueryError(N_("deep paging is not available here"))
    if cursor == CURSOR_START:
        pit = str(client.create_pit(index=index, params={"keep_alive": PIT_KEEP_ALIVE})["pit_id"])
        page = 1
    elif cursor:
        token, after = decode_cursor(cursor)
        assert cursors is not None
        pit = cursors.get(token, consultation.principal.username)
        if pit is None:
            raise QueryError(N_("this list of results has expired; search again"))
    body = build_search(
        parsed, access_filter(consultation.principal), page=page, size=size, sort=sort, after=after, pit=pit
    )
    # Partial results would silently hide records: a failing shard is an error here, not a 200.
    params = {"allow_partial_search_results": "false"}
    if BODY_LOG.isEnabledFor(logging.DEBUG):  # serialised only when someone listens
        BODY_LOG.debug(json.dumps({"index": index if pit is None else None, "params": params, "body": body}))
    try:
        if pit is None:
            response = client.search(index=index, body=body, params=params)
        else:  # a point in time names its indices itself
            response = client.search(body=body, params=params)
    except TransportError as exc:
        if too_many_clauses(exc):
            raise QueryError(
                N_("this query has more words than the search engine takes: keep the ones that matter")
            ) from exc
        if pit is not None and exc.status_code == 404:
            raise QueryError(N_("this list of results has expired; search again")) from exc
        raise
    raw_hits = response["hits"]["hits"]
    total = response["hits"]["total"]
    result = SearchPage(
        query=raw_query,
        page=page,
        total=total["value"],
        total_is_lower_bound=total["relation"] == "gte" or total["value"] >= TOTAL_HITS_BOUND,
        hits=[hit_from(raw) for raw in raw_hits],
        facets={
            name: [
                (bucket.get("key_as_string", bucket["key"]), bucket["doc_count"]) for bucket in agg["buckets"]
            ]
            for name, agg in response.get("aggregations", {}).items()
        },
        took_ms=response.get("took", 0),
        sort=sort,
        cursor=(
            encode_cursor(
                cursors.put(str(response.get("pit_id") or pit), consultation.principal.username),
                raw_hits[-1]["sort"],
            )
            if pit is not None and cursors is not None and len(raw_hits) == size
            else None
        ),
    )
    audit.append(
        consultation.entry(
            "consultation.search",
            query=raw_query,
            subjects=tuple(hit.id for hit in result.hits),
            details={
                "filters": {key: list(values) for key, values in parsed.filters.items()},
                "page": page,
                "sort": sort,
                "deep": pit is not None,
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


SIMILAR_TEXT_CHARS = 5000  # what of a long record's text is compared: its opening says what it is about
MIN_SUGGEST_CHARS = 2


def similar_records(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    record_key: str,
    *,
    size: int = 10,
) -> list[Hit] | None:
    """Records like this one ("more like this"), among those the user may see; None if the record
    itself is not one they may see. The comparison is made from the text the user was shown, never
    by the engine reading a record on its own, so a record out of reach can never steer the answer."""
    source = open_record(client, index, audit, consultation, record_key, action="consultation.open_similar")
    if source is None:
        return None
    like = " ".join(str(source.get(key) or "") for key in ("title", "summary", "text"))[:SIMILAR_TEXT_CHARS]
    body = {
        "query": {
            "bool": {
                "filter": [access_filter(consultation.principal)],
                "must_not": [{"ids": {"values": [record_key]}}],
                "must": [
                    {
                        "more_like_this": {
                            "fields": ["title", "text", "summary", "names"],
                            "like": like,
                            "min_term_freq": 1,
                            "min_doc_freq": 1,
                            "max_query_terms": 40,
                            "minimum_should_match": "20%",
                        }
                    }
                ],
            }
        },
        "size": size,
        "version": True,
        "_source": {"excludes": ["text", "mentions"]},
    }
    hits = [hit_from(raw) for raw in client.search(index=index, body=body)["hits"]["hits"]]
    audit.append(
        consultation.entry(
            "consultation.similar",
            subjects=tuple(hit.id for hit in hits),
            details={"like": record_key, "results": [[hit.id, hit.version] for hit in hits]},
        )
    )
    return hits


def _folded(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def suggest(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    prefix: str,
    *,
    size: int = 8,
) -> list[str]:
    """Names and plates that complete what the user is typing, taken only from records they may see
    (the suggestions of a register out of reach would say what it holds)."""
    typed = " ".join(prefix.split())
    if len(typed) < MIN_SUGGEST_CHARS:
        return []
    compact = re.sub(r"[\s.\-/_]", "", typed).upper()
    body = {
        "query": {
            "bool": {
                "filter": [access_filter(consultation.principal)],
                "should": [
                    {"match_phrase_prefix": {"names": {"query": typed, "max_expansions": 20}}},
                    {"prefix": {"vehicles.plate": {"value": compact}}},
                ],
                "minimum_should_match": 1,
            }
        },
        "size": 30,
        "_source": ["persons.name", "organisations.name", "vehicles.plate"],
    }
    response = client.search(index=index, body=body)
    wanted = _folded(typed)
    found: dict[str, None] = {}
    used: list[str] = []
    for raw in response["hits"]["hits"]:
        source = raw.get("_source", {})
        names = [item.get("name", "") for key in ("persons", "organisations") for item in source.get(key, [])]
        plates = [item.get("plate", "") for item in source.get("vehicles", []) if item.get("plate")]
        matched = [
            name for name in names if any(_folded(part).startswith(wanted) for part in _name_starts(name))
        ] + [plate for plate in plates if plate.startswith(compact)]
        if matched:
            used.append(raw["_id"])
            found.update(dict.fromkeys(matched))
        if len(found) >= size:
            break
    suggestions = list(found)[:size]
    audit.append(
        consultation.entry(
            "consultation.suggest",
            query=typed,
            subjects=tuple(used),
            details={"suggestions": suggestions},
        )
    )
    return suggestions


def _name_starts(name: str) -> list[str]:
    """Every place a user may start typing a name: "Jan Van den Bossche" from "Jan", "Van", "den", …"""
    words = name.split()
    return [" ".join(words[i:]) for i in range(len(words))]
