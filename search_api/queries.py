"""From what an investigator types to an OpenSearch body: pure functions, testable without a cluster."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from enrichers.identifiers import Found, extract_from_query

MAX_QUERY_CHARS = 1000
PAGE_SIZE = 20
TOTAL_HITS_BOUND = 10_000

# Stemmed sub-fields carry the words (they drop each language's stop words); the folded fields weigh
# little but still match words no stemmer knows, names, and the file names and subjects of documents.
# Chosen with bench/relevance.py on CISI (docs/decisions.md).
TEXT_FIELDS = [
    "title.nl^2",
    "title.fr^2",
    "text.nl",
    "text.fr",
    "text.de",
    "text.en",
    "title^0.5",
    "text^0.3",
    "names^2",
    "provenance.file_name.text^2",
    "details.document.email_subject^2",
]
# Every word is looked up in every text field, and a word the analysers split ("2006-2018") counts
# several times; the engine refuses a query past `indices.query.bool.max_clause_count` clauses (8,192 on
# the node `speurder services` runs, 1,024 by default). A pasted statement is cut short with a clear
# message well before that: 100 words of at most 5 pieces in 11 fields stay under 8,192.
MAX_QUERY_WORDS = 100
# How the words of the box combine. Measured with bench/relevance.py (docs/decisions.md).
# Up to three words, all of them; a longer query (a pasted statement), four in ten.
TEXT_MATCH: dict[str, Any] = {"default_operator": "or", "minimum_should_match": "3<40%"}
# Field filters a user may type, in English, Dutch and French.
FILTER_FIELDS = {
    "type": "kind",
    "soort": "kind",
    "kind": "kind",
    "source": "register",
    "bron": "register",
    "register": "register",
    "case": "case_ids",
    "dossier": "case_ids",
    "zaak": "case_ids",
    "lang": "language",
    "taal": "language",
    "langue": "language",
}
# Date conditions: `date:2026-01..2026-06` on the time of the fact, `asof:2026-03-01` on validity.
DATE_FIELDS = {
    "date": "occurred_at",
    "datum": "occurred_at",
    "asof": "asof",
    "opdatum": "asof",
    "audate": "asof",
}
_FILTER = re.compile(r"(?<!\S)(?P<field>[A-Za-z]+):(?P<value>\"[^\"]+\"|\S+)")


class QueryError(ValueError):
    """A query we cannot run, with a message a user can act on."""


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    identifiers: tuple[Found, ...] = ()
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)


def parse_query(raw: str) -> ParsedQuery:
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(f"a query has at most {MAX_QUERY_CHARS} characters; this one has {len(raw)}")
    filters: dict[str, list[str]] = {}

    def take_filter(match: re.Match[str]) -> str:
        name = match.group("field").lower()
        target = FILTER_FIELDS.get(name) or DATE_FIELDS.get(name)
        if target is None:
            return match.group()
        filters.setdefault(target, []).append(match.group("value").strip('"'))
        return " "

    rest = _FILTER.sub(take_filter, raw)
    words = len(rest.split())
    if words > MAX_QUERY_WORDS:
        raise QueryError(
            f"a query has at most {MAX_QUERY_WORDS} words; this one has {words}: keep the ones that matter"
        )
    identifiers = tuple(extract_from_query(rest))
    text = " ".join(rest.split())
    return ParsedQuery(text, identifiers, {key: tuple(values) for key, values in filters.items()})


def build_search(
    parsed: ParsedQuery,
    access: dict[str, Any],
    *,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """The search body: relevance on text, exact identifier matches first, the access filter always."""
    should: list[dict[str, Any]] = []
    for found in parsed.identifiers:
        # An identifier typed in any spelling meets its normalised form and outranks any text match.
        should.append({"term": {"identifiers": {"value": found.value, "boost": 50}}})
    if parsed.text:
        should.append(
            {
                "simple_query_string": {
                    "query": parsed.text,
                    "fields": TEXT_FIELDS,
                    **TEXT_MATCH,
                    "flags": "AND|OR|NOT|PHRASE|PREFIX|PRECEDENCE|ESCAPE|WHITESPACE|FUZZY|NEAR",
                    "lenient": True,
                }
            }
        )
    filters: list[dict[str, Any]] = [access]
    for name, values in sorted(parsed.filters.items()):
        if name == "asof":
            filters += [valid_on(value) for value in values]
        elif name == "occurred_at":
            filters += [date_range(value) for value in values]
        else:
            filters.append({"terms": {name: list(values)}})
    query: dict[str, Any] = {"bool": {"filter": filters}}
    if should:
        query["bool"]["should"] = should
        query["bool"]["minimum_should_match"] = 1
    return {
        "query": query,
        "from": (max(page, 1) - 1) * size,
        "size": size,
        "track_total_hits": TOTAL_HITS_BOUND,
        "version": True,
        "_source": {"excludes": ["text", "mentions"]},
        "highlight": {
            "encoder": "html",
            "pre_tags": ["<mark>"],
            "post_tags": ["</mark>"],
            "fields": {
                "text": {"fragment_size": 180, "number_of_fragments": 3},
                "title": {"number_of_fragments": 0},
            },
            "require_field_match": False,
        },
        "aggs": {
            "kind": {"terms": {"field": "kind", "size": 20}},
            "register": {"terms": {"field": "register", "size": 20}},
            "language": {"terms": {"field": "language", "size": 10}},
        },
    }


_DAY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _day(value: str) -> str:
    if not _DAY.match(value):
        raise QueryError(f"{value!r} is not a date; write 2026, 2026-03 or 2026-03-15")
    return value


def _after(value: str) -> str:
    """The first moment after the year, month or day written."""
    unit = {4: "y", 7: "M", 10: "d"}[len(_day(value))]
    return f"{value}||+1{unit}"


def date_range(value: str) -> dict[str, Any]:
    """`2026-01..2026-06`, `2026-03-15`, `..2025` or `2026..`: facts in that period, ends included."""
    start, sep, stop = value.partition("..")
    if not sep:
        stop = start
    bounds: dict[str, str] = {}
    if start:
        bounds["gte"] = _day(start)
    if stop:
        bounds["lt"] = _after(stop)
    if not bounds:
        raise QueryError("a date range needs at least one end: 2026-01..2026-06")
    return {"range": {"occurred_at": {**bounds, "format": "strict_date_optional_time||yyyy||yyyy-MM"}}}


def valid_on(value: str) -> dict[str, Any]:
    """Records valid on a day (licence statuses, bans): started by then and not yet ended."""
    day = _day(value)
    if len(day) != 10:
        raise QueryError(f"asof wants a day, like 2026-03-15, not {value!r}")
    return {
        "bool": {
            "filter": [
                {
                    "bool": {
                        "should": [
                            {"range": {"valid_from": {"lte": day}}},
                            {"bool": {"must_not": {"exists": {"field": "valid_from"}}}},
                        ]
                    }
                },
                {
                    "bool": {
                        "should": [
                            {"range": {"valid_to": {"gte": day}}},
                            {"bool": {"must_not": {"exists": {"field": "valid_to"}}}},
                        ]
                    }
                },
            ]
        }
    }


def build_record_lookup(record_key: str, access: dict[str, Any]) -> dict[str, Any]:
    """One record by id, visible only if the access filter lets it through."""
    return {
        "query": {"bool": {"filter": [access, {"ids": {"values": [record_key]}}]}},
        "size": 1,
        "version": True,
    }
