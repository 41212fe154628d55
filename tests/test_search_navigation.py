"""Facets, facet clicks, sorting and deep paging through the web API, against the real engine.

The records carry one marker word of this run, so the figures are checked against an oracle computed
here from the records the investigator may see; the records they may not see must never show, not even
as a facet count.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from ingest.index.bulk import write_records
from ingest.records import Person, Record, Vehicle
from ingest.settings import Settings
from tests.conftest import login

MARK = f"navtoets{uuid.uuid4().hex[:6]}"
UNITS = ["PZ Gent/Recherche", "PZ Antwerpen/Interventie", "FGP Brussel"]
PEOPLE = ["Jan Peeters", "Fatima El Idrissi", "Luc Dubois", "Sofie Maes"]
PLATES = ["1ABC123", "2XYZ987", "1KLM456"]
START = datetime(2026, 1, 3, 9, 0, tzinfo=UTC)


def _record(n: int, *, register: str = "islp", classification: int = 0) -> Record:
    return Record(
        id=f"{MARK}-{register}-{n}",
        kind="pv" if n % 3 else "information",
        source=register,
        register=register,
        title=f"Vaststelling {n}",
        text=f"{MARK} vaststelling nummer {n} op de openbare weg",
        occurred_at=START + timedelta(days=2 * n),
        recorded_at=START,
        unit=UNITS[n % len(UNITS)],
        classification=classification,
        persons=[Person(name=PEOPLE[n % len(PEOPLE)])],
        names=[PEOPLE[n % len(PEOPLE)]],
        vehicles=[Vehicle(plate=PLATES[n % len(PLATES)], country="BE")],
        identifiers=[PLATES[n % len(PLATES)]],
    )


VISIBLE = [_record(n) for n in range(45)]
# Not granted to the investigator (ANG), or above the investigator's clearance: never shown, never counted.
HIDDEN = [
    _record(100, register="ang").model_copy(update={"persons": [Person(name="Geheime Getuige")]}),
    _record(101, classification=3).model_copy(update={"vehicles": [Vehicle(plate="9SEC999", country="BE")]}),
]


@pytest.fixture(scope="module")
def navigation(app_client: TestClient, profile: Settings, search: OpenSearch) -> TestClient:
    result = write_records(search, profile.index_prefix, [*VISIBLE, *HIDDEN], refresh="wait_for")
    assert not result.errors
    login(app_client)
    return app_client


def _search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_facets_count_only_what_the_user_may_see(navigation: TestClient) -> None:
    result = _search(navigation, MARK)
    assert result["total"] == len(VISIBLE)
    facets = {name: dict(buckets) for name, buckets in result["facets"].items()}
    assert facets["kind"] == dict(Counter(record.kind for record in VISIBLE))
    assert facets["unit"] == dict(Counter(record.unit for record in VISIBLE))
    assert facets["person"] == dict(Counter(record.persons[0].name for record in VISIBLE))
    assert facets["plate"] == dict(Counter(record.vehicles[0].plate for record in VISIBLE))
    months = Counter(f"{record.occurred_at:%Y-%m}" for record in VISIBLE if record.occurred_at)
    assert facets["month"] == dict(months)
    assert facets["register"] == {"islp": len(VISIBLE)}
    assert "Geheime Getuige" not in facets["person"] and "9SEC999" not in facets["plate"]


@pytest.mark.parametrize(
    ("facet", "value", "keep"),
    [
        ("unit", "PZ Antwerpen/Interventie", lambda r: r.unit == "PZ Antwerpen/Interventie"),
        ("person", "Fatima El Idrissi", lambda r: r.persons[0].name == "Fatima El Idrissi"),
        ("plate", "1KLM456", lambda r: r.vehicles[0].plate == "1KLM456"),
        ("month", "2026-02", lambda r: f"{r.occurred_at:%Y-%m}" == "2026-02"),
        ("kind", "information", lambda r: r.kind == "information"),
    ],
)
def test_a_facet_click_narrows_to_that_value_and_combines(
    navigation: TestClient, facet: str, value: str, keep: Any
) -> None:
    page = navigation.get("/search", params={"q": MARK})
    narrowed = page.context["result"].refined(facet, value)  # type: ignore[attr-defined]
    assert narrowed != MARK and narrowed.startswith(MARK)
    expected = {record.id for record in VISIBLE if keep(record)}
    result = _search(navigation, narrowed, size=100)
    assert {hit["id"] for hit in result["hits"]} == expected
    # A second facet narrows further.
    other, other_value = ("unit", UNITS[0]) if facet == "kind" else ("kind", "pv")
    also = page.context["result"].refined(other, other_value)  # type: ignore[attr-defined]
    result = _search(navigation, f"{narrowed} {also.removeprefix(MARK).strip()}", size=100)
    other_keep = (lambda r: r.unit == UNITS[0]) if facet == "kind" else (lambda r: r.kind == "pv")
    assert {hit["id"] for hit in result["hits"]} == {
        record.id for record in VISIBLE if keep(record) and other_keep(record)
    }


def test_the_results_page_links_every_facet_value(navigation: TestClient) -> None:
    html = navigation.get("/search", params={"q": MARK}).text
    assert 'hx-get="/search?q=' + MARK + "%20eenheid%3A%22PZ%20Gent/Recherche%22" in html
    assert "sorteer op datum" in html


def test_sort_by_date_puts_the_latest_fact_first(navigation: TestClient) -> None:
    result = _search(navigation, MARK, sort="date", size=100)
    moments = [hit["source"]["occurred_at"] for hit in result["hits"]]
    assert moments == sorted(moments, reverse=True)
    assert len(moments) == len(VISIBLE)
    assert navigation.get("/api/search", params={"q": MARK, "sort": "random"}).status_code == 422


def test_deep_paging_in_a_point_in_time_sees_every_record_once(
    navigation: TestClient, profile: Settings, search: OpenSearch
) -> None:
    seen: list[str] = []
    result = _search(navigation, MARK, size=10, cursor="start", sort="date")
    pages = 1
    # A record indexed while the user pages is not in this list: the point in time holds still.
    write_records(search, profile.index_prefix, [_record(200)], refresh="wait_for")
    while True:
        seen += [hit["id"] for hit in result["hits"]]
        if not result["cursor"]:
            break
        result = _search(navigation, MARK, size=10, cursor=result["cursor"], sort="date")
        pages += 1
        assert "kind" not in result["facets"]  # the facets came with the first page
    assert len(seen) == len(set(seen)) == len(VISIBLE)
    assert set(seen) == {record.id for record in VISIBLE}
    assert pages == 5


def test_a_damaged_cursor_gets_a_message(navigation: TestClient) -> None:
    response = navigation.get("/api/search", params={"q": MARK, "cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert "damaged" in response.text
