"""Autocomplete and "more like this": both read paths go through the access filter and the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from case_store.audit import AuditLog
from ingest.index.bulk import write_records
from ingest.records import Person, Record, Vehicle
from ingest.settings import Settings
from tests.conftest import login

RUN = uuid.uuid4().hex[:6]
SURNAME = f"Zwt{RUN}"  # a surname no other test uses
NOW = datetime(2026, 2, 1, tzinfo=UTC)
STORY = "Inbraak in een juwelierszaak aan de Meir; de daders forceerden de achterdeur met een koevoet"


def _rec(key: str, register: str, name: str, text: str, *, plate: str | None = None) -> Record:
    return Record(
        id=f"sug-{RUN}-{key}",
        kind="pv",
        source=register,
        register=register,
        title=f"PV {key}",
        text=text,
        recorded_at=NOW,
        persons=[Person(name=name)],
        names=[name],
        vehicles=[Vehicle(plate=plate, country="BE")] if plate else [],
        identifiers=[plate] if plate else [],
    )


RECORDS = [
    _rec("a", "islp", f"Jan {SURNAME}", f"{STORY} en vluchtten.", plate=f"1Z{RUN[:2].upper()}101"),
    _rec("b", "islp", f"Marie {SURNAME}-Dubois", f"{STORY}; een buurman zag een bestelwagen."),
    _rec("c", "islp", "Piet Janssens", "Verkeersongeval zonder gewonden op de E17 ter hoogte van Gent."),
    # ANG is not granted to the investigator: neither its name nor its story may surface.
    _rec("secret", "ang", f"Geheim {SURNAME}", f"{STORY}, zelfde werkwijze, signalering lopend."),
]


@pytest.fixture(scope="module")
def client(app_client: TestClient, profile: Settings, search: OpenSearch) -> TestClient:
    assert not write_records(search, profile.index_prefix, RECORDS, refresh="wait_for").errors
    login(app_client)
    return app_client


def _audit(client: TestClient) -> AuditLog:
    return client.app.state.audit  # type: ignore[attr-defined,no-any-return]


def test_suggestions_complete_names_and_plates_from_visible_records_only(client: TestClient) -> None:
    names = client.get("/api/suggest", params={"q": SURNAME[:5]}).json()
    assert set(names) == {f"Jan {SURNAME}", f"Marie {SURNAME}-Dubois"}
    assert client.get("/api/suggest", params={"q": "geheim"}).json() == []
    plate = RECORDS[0].vehicles[0].plate
    assert plate is not None
    assert client.get("/api/suggest", params={"q": f"{plate[0]}-{plate[1:3].lower()}"}).json() == [plate]
    assert client.get("/api/suggest", params={"q": "j"}).json() == []  # too short to say anything
    event = _audit(client).events(action="consultation.suggest", limit=5)
    assert any(SURNAME[:5] in (e.query or "") for e in event)


def test_suggestions_render_as_options_for_the_search_box(client: TestClient) -> None:
    html = client.get("/suggest", params={"q": SURNAME[:5]}).text
    assert f'<option value="Jan {SURNAME}"></option>' in html
    page = client.get("/search").text
    assert 'list="suggestions"' in page and 'hx-get="/suggest"' in page


def test_more_like_this_finds_the_same_modus_operandi_among_visible_records(client: TestClient) -> None:
    hits: list[dict[str, Any]] = client.get(f"/api/records/sug-{RUN}-a/similar").json()
    ids = [hit["id"] for hit in hits]
    assert ids[0] == f"sug-{RUN}-b"
    assert f"sug-{RUN}-secret" not in ids and f"sug-{RUN}-a" not in ids
    events = _audit(client).events(action="consultation.similar", limit=1)
    assert events[0].subjects.split()[0] == f"sug-{RUN}-b"


def test_more_like_this_of_a_record_out_of_reach_is_not_found(client: TestClient) -> None:
    assert client.get(f"/api/records/sug-{RUN}-secret/similar").status_code == 404
    assert client.get(f"/records/sug-{RUN}-secret/similar").status_code == 404
    html = client.get(f"/records/sug-{RUN}-a/similar").text
    assert "PV b" in html and "PV secret" not in html
