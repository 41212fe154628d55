"""Quick check: one input, one card, through the web API against the real engine and audit log."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from case_store.audit import AuditLog
from case_store.db import make_engine, make_sessionmaker, transaction
from case_store.users import add_user, grant_register
from ingest.generate.numbers import national_number
from ingest.index.bulk import write_records
from ingest.records import (
    AlertDetails,
    Details,
    LicenceStatusDetails,
    Person,
    PlateReadDetails,
    Record,
    Vehicle,
)
from ingest.settings import Settings
from search_api.check import understand
from search_api.queries import QueryError
from tests.conftest import PASSWORD, login

RUN = uuid.uuid4().hex[:6]
OFFICER = f"agent-{RUN}"
LETTERS = "".join(random.Random(RUN).choices("BCDFGHJKLMNPRSTVWXZ", k=3))
PLATE = f"7{LETTERS}{random.Random(RUN).randint(100, 999)}"
WRITTEN_PLATE = f"{PLATE[0]}-{PLATE[1:4].lower()}-{PLATE[4:]}"
BORN = date(1985, 7, 30)
NRN = national_number(BORN, random.Random(RUN).randint(1, 997))
TODAY = datetime.now(UTC)


def _rec(key: str, kind: str, register: str, **fields: Any) -> Record:
    defaults: dict[str, Any] = {"title": f"{kind} {key}", "recorded_at": TODAY}
    return Record(id=f"qc-{RUN}-{key}", kind=kind, source=register, register=register, **(defaults | fields))


CAR = {"vehicles": [Vehicle(plate=PLATE, country="BE")], "identifiers": [PLATE]}
DRIVER = {
    "persons": [Person(name="Jan Peeters", birth_date=BORN, national_number=NRN)],
    "names": ["Jan Peeters"],
    "identifiers": [NRN],
}
RECORDS = [
    _rec(
        "alert-open",
        "alert",
        "ang",
        occurred_at=TODAY - timedelta(days=20),
        valid_from=TODAY - timedelta(days=20),
        details=Details(alert=AlertDetails(measure="intercepteren", instruction="voorzichtig benaderen")),
        **CAR,
    ),
    _rec(
        "alert-closed",
        "alert",
        "ang",
        occurred_at=TODAY - timedelta(days=400),
        valid_from=TODAY - timedelta(days=400),
        valid_to=TODAY - timedelta(days=100),
        details=Details(alert=AlertDetails(measure="signalement afgesloten")),
        **CAR,
    ),
    *(
        _rec(
            f"read-{n}",
            "plate_read",
            "anpr",
            occurred_at=TODAY - timedelta(hours=5 * n),
            details=Details(plate_read=PlateReadDetails(camera_id=f"CAM-{n}", camera_location=f"E40 km {n}")),
            **CAR,
        )
        for n in range(7)
    ),
    _rec("pv", "pv", "islp", title="PV verkeersongeval", occurred_at=TODAY - timedelta(days=3), **CAR),
    _rec("visa", "visa_check", "belvis", title="Visumcontrole", **CAR),  # not granted: never shown
    _rec(
        "licence-now",
        "licence_status",
        "mercurius",
        valid_from=TODAY - timedelta(days=30),
        valid_to=TODAY + timedelta(days=60),
        details=Details(licence_status=LicenceStatusDetails(status="verval", categories=["B"])),
        **DRIVER,
    ),
    _rec(
        "licence-old",
        "licence_status",
        "mercurius",
        valid_from=TODAY - timedelta(days=900),
        valid_to=TODAY - timedelta(days=30),
        details=Details(licence_status=LicenceStatusDetails(status="geldig", categories=["B"])),
        **DRIVER,
    ),
    _rec("hearing", "hearing", "islp", title="Verhoor Jan Peeters", occurred_at=TODAY, **DRIVER),
]


@pytest.fixture(scope="module")
def officer(app_client: TestClient, profile: Settings, search: OpenSearch) -> Iterator[TestClient]:
    engine = make_engine(profile.resolved_database_url)
    with transaction(make_sessionmaker(engine)) as session:
        add_user(session, OFFICER, PASSWORD, role="field_officer", unit="PZ Gent/Interventie", clearance=1)
        for register in ("ang", "anpr", "islp", "mercurius"):
            grant_register(session, OFFICER, register)
    engine.dispose()
    assert not write_records(search, profile.index_prefix, RECORDS, refresh="wait_for").errors
    login(app_client, OFFICER)
    yield app_client


def _ids(hits: list[dict[str, Any]]) -> list[str]:
    return [hit["id"].removeprefix(f"qc-{RUN}-") for hit in hits]


def test_a_plate_in_any_spelling_gives_the_vehicle_card(officer: TestClient) -> None:
    response = officer.get("/api/check", params={"q": WRITTEN_PLATE, "reason": "controle E40"})
    assert response.status_code == 200, response.text
    card = response.json()
    assert card["subject"]["kind"] == "plate" and card["subject"]["identifier"] == PLATE
    assert _ids(card["alerts"]) == ["alert-open"]  # the closed alert is history, not a warning
    assert _ids(card["plate_reads"]) == ["read-0", "read-1", "read-2", "read-3", "read-4"]
    assert _ids(card["related"]) == ["pv"]  # the visa check is in a register the officer may not see
    assert card["related_total"] == 1
    audit: AuditLog = officer.app.state.audit  # type: ignore[attr-defined]
    events = audit.events(actor=OFFICER)
    last = events[0]  # the newest first
    assert last.action == "consultation.quick_check"
    assert last.justification == "controle E40"
    assert {subject.removeprefix(f"qc-{RUN}-") for subject in last.subjects.split()} == {
        "alert-open", "read-0", "read-1", "read-2", "read-3", "read-4", "pv"
    }  # fmt: skip


def test_a_national_number_or_a_name_with_birth_date_gives_the_person_card(officer: TestClient) -> None:
    written = f"{NRN[:2]}.{NRN[2:4]}.{NRN[4:6]}-{NRN[6:9]}.{NRN[9:]}"
    for query in (written, "Jan Peeters 30/07/1985", "PEETERS Jan, geboren 1985-07-30"):
        card = officer.get("/api/check", params={"q": query, "reason": "controle"}).json()
        assert card["subject"]["kind"] == "person", query
        assert _ids(card["licences"]) == ["licence-now"], query  # the status valid today only
        assert _ids(card["related"]) == ["hearing"], query
    other = officer.get("/api/check", params={"q": "Jan Peeters 31/07/1985", "reason": "controle"}).json()
    assert other["licences"] == [] and other["related"] == []  # another birth date is another person


def test_alerts_need_a_reason(officer: TestClient) -> None:
    response = officer.get("/api/check", params={"q": WRITTEN_PLATE})  # the API states it every time
    assert response.status_code == 428
    assert "ang" in response.text


@pytest.mark.parametrize("raw", ["", "fiets", "Jan Peeters"])
def test_what_is_not_a_subject_gets_a_message(raw: str) -> None:
    with pytest.raises(QueryError, match=r"plate|national register number"):
        understand(raw)


def test_the_card_page_renders_alerts_first(officer: TestClient) -> None:
    page = officer.get("/check", params={"q": WRITTEN_PLATE, "reason": "controle E40"})
    assert page.status_code == 200
    html = page.text
    assert "intercepteren" in html and "voorzichtig benaderen" in html
    assert html.index("Openstaande signaleringen") < html.index("Recente nummerplaatlezingen")
    assert "Visumcontrole" not in html
    assert f'href="/entities/vehicle%3ABE%3A{PLATE}"' in html  # on to everything about the vehicle
