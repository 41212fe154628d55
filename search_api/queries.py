"""From what an investigator types to an OpenSearch body: pure functions, testable without a cluster."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from enrichers.identifiers import IDENTIFIER_TYPES, Found, extract_from_query
from ui.i18n import N_, Label, translate

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
# Up to three words: all of them; four to six: all but one; a longer query (a pasted statement): any
# two, best first. Requiring a share of a long query's words ("40 %") lost the French twin of a Dutch
# statement and ranked CISI worse (bench/results/relevance-cisi.json, crosslang.json).
TEXT_MATCH: dict[str, Any] = {"default_operator": "or", "minimum_should_match": "3<-1 6<2"}
EXPLICIT_MATCH: dict[str, Any] = {"default_operator": "and"}
_EXPLICIT = re.compile(r"(?<!\S)[|+](?!\S)")  # OR / AND typed, or their signs, as words of their own
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
    "unit": "unit",
    "eenheid": "unit",
    "unité": "unit",
}
# Date conditions: `date:2026-01..2026-06` on the time of the fact, `asof:2026-03-01` on validity.
DATE_FIELDS = {
    "date": "occurred_at",
    "datum": "occurred_at",
    "asof": "asof",
    "opdatum": "asof",
    "audate": "asof",
}
# Identifier filters: the field names a user may type, and the identifier types each accepts. The
# value is normalised as the enrichers normalise text, so `plaque:1-abc-123` meets "1ABC123".
IDENTIFIER_FIELDS: dict[str, tuple[str, frozenset[str]]] = {}
for _label, _types, _names in (
    (N_("plate"), {"plate"}, ("plate", "kenteken", "nummerplaat", "plaque", "immatriculation")),
    (N_("national number"), {"nrn", "bis"}, ("nrn", "rrn", "rijksregisternummer", "niss", "bis")),
    (N_("IBAN"), {"iban", "bban"}, ("iban", "rekening", "compte")),
    (N_("phone number"), {"phone"}, ("phone", "tel", "telefoon", "gsm", "telephone", "téléphone")),
    (N_("e-mail address"), {"email"}, ("email", "mail", "courriel")),
    (
        N_("enterprise number"),
        {"enterprise"},
        ("kbo", "bce", "enterprise", "ondernemingsnummer", "btw", "tva"),
    ),
    (N_("VIN"), {"vin"}, ("vin", "chassis", "chassisnummer")),
    (N_("IMEI"), {"imei"}, ("imei",)),
    (N_("PV number"), {"pv"}, ("pv", "pvnummer")),
    (N_("seizure barcode"), {"barcode"}, ("barcode", "streepjescode")),
):
    for _name in _names:
        IDENTIFIER_FIELDS[_name] = (_label, frozenset(_types))
NAME_FIELDS = ("name", "naam", "nom")
# A filter is a field name, a colon and a value without a space between: "te lang: de" is prose.
_FILTER = re.compile(r"(?<!\S)(?P<field>[^\W\d_]+):(?P<value>\"[^\"]*\"|[^\s\"]\S*)")
# `-word` or `-"a phrase"` at the start of a word: records with it are left out.
_EXCLUDE = re.compile(r"(?<!\S)-(?P<value>\"[^\"]+\"|[^\s\"]+)")
# The Boolean words people type, as the engine's operators (upper case only: "of" and "et" are words).
_OPERATORS = {"OR": "|", "AND": "+", "NOT": "-"}


# The facets of every result page: what the hits are, where they come from, when, and who or what
# recurs in them. Each bucket is also a filter the user can add with one click (FACET_FILTERS).
FACETS: dict[str, Any] = {
    "kind": {"terms": {"field": "kind", "size": 20}},
    "register": {"terms": {"field": "register", "size": 20}},
    "month": {
        "date_histogram": {
            "field": "occurred_at",
            "calendar_interval": "month",
            "format": "yyyy-MM",
            "min_doc_count": 1,
            "order": {"_key": "desc"},
        }
    },
    "unit": {"terms": {"field": "unit", "size": 10}},
    "case": {"terms": {"field": "case_ids", "size": 10}},
    "language": {"terms": {"field": "language", "size": 10}},
    "person": {"terms": {"field": "persons.name.raw", "size": 10}},
    "plate": {"terms": {"field": "vehicles.plate", "size": 10}},
}
FACET_FILTERS = {
    "kind": "type",
    "register": "bron",
    "month": "date",
    "unit": "eenheid",
    "case": "dossier",
    "language": "taal",
    "person": "naam",
    "plate": "kenteken",
}
# Every order ends on the record id, so equal scores or dates still page in one fixed order.
SORTS: dict[str, list[Any]] = {
    "relevance": [{"_score": "desc"}, {"id": "asc"}],
    "date": [{"occurred_at": {"order": "desc", "missing": "_last"}}, {"_score": "desc"}, {"id": "asc"}],
}
PIT_KEEP_ALIVE = "5m"


def facet_filter(facet: str, value: str) -> str:
    """The field filter a click on a facet value adds to the query: `type:pv`, `naam:"Jan Peeters"`."""
    written = f'"{value}"' if re.search(r"\s", value) else value
    return f"{FACET_FILTERS[facet]}:{written}"


class QueryError(ValueError):
    """A query we cannot run, with a message a user can act on.

    The message is an English template marked with `N_`, its `%(name)s` placeholders filled from `params`:
    `str()` is the English text (the JSON API, the logs), `translated()` the text in the reader's language.
    A parameter that names a thing (`Label("plate")`) is translated too; what the user typed is not.
    """

    def __init__(self, message: str, /, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def translated(self) -> str:
        return translate(self.message, self.params)


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    identifiers: tuple[Found, ...] = ()
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    excluded: tuple[str, ...] = ()


def _identifier_value(field_name: str, value: str) -> str:
    """The normalised form of what was typed after an identifier field name, or a message saying why not."""
    label, types = IDENTIFIER_FIELDS[field_name]
    for found in extract_from_query(value):
        if found.type in types and found.start == 0 and found.end == len(value):
            return found.value
    if "plate" in types and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 .-]{1,14}", value):
        return re.sub(r"[\s.-]", "", value).upper()  # a foreign or personalised plate, as written
    raise QueryError(
        N_("%(field)s:%(value)s is not a valid %(label)s"), field=field_name, value=value, label=Label(label)
    )


def parse_query(raw: str) -> ParsedQuery:
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(
            N_("a query has at most %(max)s characters; this one has %(count)s"),
            max=MAX_QUERY_CHARS,
            count=len(raw),
        )
    filters: dict[str, list[str]] = {}

    if raw.count('"') % 2:
        raise QueryError(N_('a quotation mark is not closed: write "exact words" between two of them'))

    def take_filter(match: re.Match[str]) -> str:
        name = match.group("field").lower()
        value = match.group("value").strip('"').strip()
        if name in IDENTIFIER_FIELDS:
            target, value = "identifiers", _identifier_value(name, value) if value else value
        elif name in NAME_FIELDS:
            target = "names"
        else:
            target = FILTER_FIELDS.get(name) or DATE_FIELDS.get(name) or ""
        if not target:
            return match.group()
        if not value:
            raise QueryError(N_("%(name)s: needs a value, like %(name)s:something"), name=name)
        filters.setdefault(target, []).append(value)
        return " "

    def take_exclusion(match: re.Match[str]) -> str:
        excluded.append(match.group("value"))
        return " "

    excluded: list[str] = []
    rest = _FILTER.sub(take_filter, raw)
    rest = " ".join(_OPERATORS.get(word, word) for word in rest.split())
    rest = _EXCLUDE.sub(take_exclusion, rest)
    words = len(rest.split())
    if words > MAX_QUERY_WORDS:
        raise QueryError(
            N_("a query has at most %(max)s words; this one has %(count)s: keep the ones that matter"),
            max=MAX_QUERY_WORDS,
            count=words,
        )
    identifiers = tuple(found for found in extract_from_query(rest) if found.type in IDENTIFIER_TYPES)
    text = " ".join(rest.split())
    return ParsedQuery(
        text, identifiers, {key: tuple(values) for key, values in filters.items()}, tuple(excluded)
    )


def build_search(
    parsed: ParsedQuery,
    access: dict[str, Any],
    *,
    page: int = 1,
    size: int = PAGE_SIZE,
    sort: str = "relevance",
    after: list[Any] | None = None,
    pit: str | None = None,
) -> dict[str, Any]:
    """The search body: relevance on text, exact identifier matches first, the access filter always.

    A page is either numbered (`page`, within the first TOTAL_HITS_BOUND hits) or follows the sort
    values of the previous page's last hit (`after`) in a point in time (`pit`): deep paging that never
    skips or repeats a record while the index changes.
    """
    if sort not in SORTS:
        raise QueryError(N_("sort by %(sorts)s, not %(sort)r"), sorts=" or ".join(SORTS), sort=sort)
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
                    # Operators typed (|, +, parentheses) state the logic themselves.
                    **(EXPLICIT_MATCH if _EXPLICIT.search(parsed.text) else TEXT_MATCH),
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
        elif name == "identifiers":  # each one typed must be on the record
            filters += [{"term": {"identifiers": value}} for value in values]
        elif name == "names":
            filters += [name_match(value) for value in values]
        else:
            filters.append({"terms": {name: list(values)}})
    query: dict[str, Any] = {"bool": {"filter": filters}}
    if parsed.excluded:
        query["bool"]["must_not"] = [
            {"simple_query_string": {"query": value, "fields": TEXT_FIELDS, "default_operator": "and"}}
            for value in parsed.excluded
        ]
    if should:
        query["bool"]["should"] = should
        query["bool"]["minimum_should_match"] = 1
    body: dict[str, Any] = {
        "query": query,
        "size": size,
        "sort": SORTS[sort],
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
        "aggs": FACETS,
    }
    if pit is not None:
        body["pit"] = {"id": pit, "keep_alive": PIT_KEEP_ALIVE}
    if after is not None:
        body["search_after"] = after
        del body["aggs"]  # the facets came with the first page
    else:
        body["from"] = (max(page, 1) - 1) * size
    return body


def name_match(name: str) -> dict[str, Any]:
    """A person or organisation name in any of its spellings: every part folded (accents, case), the
    whole without spaces ("Van den Bossche" = "Vandenbossche", also within a longer name), or every
    part by its sound (Mohamed = Mohammed)."""
    return {
        "bool": {
            "should": [
                {"match": {"names": {"query": name, "operator": "and"}}},
                {"term": {"names.compact": name}},  # the normalizer compacts the query too
                {"match": {"names.joined": name}},  # "Van den Bossche" within "Jan Vandenbossche"
                {"match": {"names.phonetic": {"query": name, "operator": "and"}}},
            ],
            "minimum_should_match": 1,
        }
    }


_DAY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _day(value: str) -> str:
    if not _DAY.match(value):
        raise QueryError(N_("%(value)r is not a date; write 2026, 2026-03 or 2026-03-15"), value=value)
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
        raise QueryError(N_("a date range needs at least one end: 2026-01..2026-06"))
    return {"range": {"occurred_at": {**bounds, "format": "strict_date_optional_time||yyyy||yyyy-MM"}}}


def valid_on(value: str) -> dict[str, Any]:
    """Records valid on a day (licence statuses, bans): started by then and not yet ended."""
    day = _day(value)
    if len(day) != 10:
        raise QueryError(N_("asof wants a day, like 2026-03-15, not %(value)r"), value=value)
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
