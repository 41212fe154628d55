"""The query language against the real engine: names in any spelling, exclusions, phrases, proximity,
fuzzy and prefix matching, identifier fields. Bodies come from the product's parser and builder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from opensearchpy import OpenSearch

from ingest.index.admin import drop_all, ensure_indices
from ingest.index.bulk import write_records
from ingest.records import Person, Record, Vehicle
from search_api.queries import build_search, parse_query

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _pv(key: str, title: str, text: str, **fields: object) -> Record:
    return Record(
        id=key, kind="pv", source="islp", register="islp", title=title, text=text, recorded_at=NOW, **fields
    )


RECORDS = [
    _pv(
        "vdb",
        "PV diefstal fiets",
        "De fiets werd gestolen aan het station van Gent-Sint-Pieters.",
        persons=[Person(name="Jan Vandenbossche", birth_date="1985-07-30")],
        names=["Jan Vandenbossche"],
    ),
    _pv(
        "mohammed",
        "PV inbraak woning",
        "Inbraak in een woning langs de Kortrijksesteenweg; de dader vluchtte met een grijze auto.",
        persons=[Person(name="Mohammed El Amrani")],
        names=["Mohammed El Amrani"],
        vehicles=[Vehicle(plate="1ABC123", country="BE")],
        identifiers=["1ABC123"],
    ),
    _pv(
        "dupre",
        "PV vol de voiture",
        "Le véhicule a été volé devant la gare de Namur pendant la nuit.",
        persons=[Person(name="Émile Dupré")],
        names=["Émile Dupré"],
    ),
    _pv("auto", "PV diefstal auto", "Een auto werd gestolen in Gent, niet ver van het centrum."),
]


@pytest.fixture(scope="module")
def index(search: OpenSearch) -> Iterator[str]:
    prefix = f"test-language-{uuid.uuid4().hex[:8]}"
    ensure_indices(search, prefix, kinds=["pv"])
    result = write_records(search, prefix, RECORDS, refresh="wait_for")
    assert not result.errors
    yield prefix
    drop_all(search, prefix)


def found(search: OpenSearch, index: str, query: str) -> list[str]:
    body = build_search(parse_query(query), {"match_all": {}})
    return [hit["_id"] for hit in search.search(index=index, body=body)["hits"]["hits"]]


@pytest.mark.parametrize(
    "query",
    [
        'naam:"Van den Bossche"',
        "naam:VANDENBOSSCHE",
        'name:"vanden bossche"',
        "nom:vandenbosche",  # one letter short: by its sound
    ],
)
def test_a_name_in_another_spelling_finds_the_person(search: OpenSearch, index: str, query: str) -> None:
    assert found(search, index, query) == ["vdb"]


@pytest.mark.parametrize("query", ["nom:Mohamed", "naam:Muhammed", "name:mohammed", "naam:Amrani"])
def test_first_name_variants_meet(search: OpenSearch, index: str, query: str) -> None:
    assert found(search, index, query) == ["mohammed"]


@pytest.mark.parametrize("query", ["naam:emile", "nom:DUPRE", "Dupre"])
def test_accents_do_not_matter(search: OpenSearch, index: str, query: str) -> None:
    assert found(search, index, query) == ["dupre"]


def test_exclusion_leaves_records_out(search: OpenSearch, index: str) -> None:
    assert set(found(search, index, "diefstal gestolen")) == {"vdb", "auto"}
    assert found(search, index, "diefstal gestolen -fiets") == ["auto"]
    assert found(search, index, 'gestolen -"station van Gent"') == ["auto"]


def test_phrase_proximity_fuzzy_and_prefix(search: OpenSearch, index: str) -> None:
    assert found(search, index, '"grijze auto"') == ["mohammed"]
    assert found(search, index, '"dader auto"') == []
    assert found(search, index, '"dader auto"~5') == ["mohammed"]
    assert found(search, index, "kortrijkse*") == ["mohammed"]
    assert found(search, index, "inbraek~1") == ["mohammed"]


def test_or_between_words(search: OpenSearch, index: str) -> None:
    assert set(found(search, index, "fiets OR voiture")) == {"vdb", "dupre"}


def test_identifier_field_and_plain_identifier(search: OpenSearch, index: str) -> None:
    assert found(search, index, "kenteken:1-abc-123") == ["mohammed"]
    assert found(search, index, "1.abc.123") == ["mohammed"]
    assert found(search, index, "plaque:2-ABC-123") == []
