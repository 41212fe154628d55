"""Need-to-know on every read path of this slice: hits, totals, facets, identifier matches, record pages.

The oracle is written out independently of `access_filter`: for each planted record, whether this
principal should see it, by the rule of DESIGN §7.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from ingest.index.bulk import write_records
from ingest.records import Record, Vehicle, record_id
from ingest.settings import Settings
from tests.conftest import login

WORD = "zwaardvisoperatie"

# (register, classification, cases, plate) → visible to `rechercheur` (islp+ges, clearance 2, CASE-2026-001)?
PLANTED = [
    ("islp", 1, [], "1ACC001", True),
    ("islp", 2, [], "1ACC002", True),
    ("islp", 3, [], "1ACC003", False),  # above clearance
    ("ang", 1, [], "1ACC004", False),  # register not granted
    ("ang", 1, ["CASE-2026-001"], "1ACC005", True),  # granted through case membership
    ("ang", 3, ["CASE-2026-001"], "1ACC006", False),  # member, but above clearance
    ("ang", 1, ["CASE-2026-999"], "1ACC007", False),  # another case
]


@pytest.fixture(scope="module")
def planted(app_client: TestClient, profile: Settings, search: OpenSearch) -> list[tuple[Record, bool]]:
    records = []
    for register, classification, cases, plate, visible in PLANTED:
        record = Record(
            id=record_id("pv", register, plate),
            kind="pv",
            source=register,
            title=f"PV {plate} {WORD}",
            text=f"Vaststelling in het kader van de {WORD}: voertuig {plate}.",
            recorded_at=datetime.now(UTC),
            register=register,
            classification=classification,
            case_ids=cases,
            vehicles=[Vehicle(plate=plate, country="BE")],
            identifiers=[plate],
        )
        records.append((record, visible))
    result = write_records(search, profile.index_prefix, [r for r, _ in records], refresh="wait_for")
    assert not result.errors
    return records


def test_hits_and_total_are_exactly_the_visible_records(
    app_client: TestClient, planted: list[tuple[Record, bool]]
) -> None:
    login(app_client)
    answer = app_client.get("/api/search", params={"q": WORD}).json()
    expected = {record.id for record, visible in planted if visible}
    assert {hit["id"] for hit in answer["hits"]} == expected
    assert answer["total"] == len(expected)


def test_facet_counts_leak_nothing(app_client: TestClient, planted: list[tuple[Record, bool]]) -> None:
    login(app_client)
    facets = app_client.get("/api/search", params={"q": WORD}).json()["facets"]
    expected: dict[str, int] = {}
    for record, visible in planted:
        if visible:
            expected[record.register_] = expected.get(record.register_, 0) + 1
    assert dict(map(tuple, facets["register"])) == expected
    assert sum(count for _, count in facets["kind"]) == sum(expected.values())


@pytest.mark.parametrize("position", range(len(PLANTED)))
def test_identifier_search_and_record_page_follow_the_rule(
    app_client: TestClient, planted: list[tuple[Record, bool]], position: int
) -> None:
    login(app_client)
    record, visible = planted[position]
    plate = record.vehicles[0].plate
    assert plate is not None
    hits = app_client.get("/api/search", params={"q": plate.lower()}).json()["hits"]
    assert (record.id in [hit["id"] for hit in hits]) is visible
    assert (app_client.get(f"/api/records/{record.id}").status_code == 200) is visible
    assert (app_client.get(f"/records/{record.id}").status_code == 200) is visible


def test_without_a_session_nothing_is_served(app_client: TestClient) -> None:
    app_client.cookies.clear()
    assert app_client.get("/api/search", params={"q": WORD}).status_code == 401
    assert app_client.get("/search", params={"q": WORD}, follow_redirects=False).status_code == 303


def test_no_audit_no_consultation(app_client: TestClient, planted: list[tuple[Record, bool]]) -> None:
    from case_store.audit import AuditLog
    from case_store.db import make_engine
    from search_api.deps import audit_log

    login(app_client)
    broken = AuditLog(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/audit"))
    app_client.app.dependency_overrides[audit_log] = lambda: broken  # type: ignore[attr-defined]
    try:
        response = app_client.get("/api/search", params={"q": WORD})
    finally:
        app_client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert response.status_code == 503
    assert WORD not in response.text


def test_every_search_is_audited_with_the_ids_shown(
    app_client: TestClient, planted: list[tuple[Record, bool]]
) -> None:
    login(app_client)
    answer = app_client.get("/api/search", params={"q": WORD, "reason": "PV AN.12.L3.004711/2026"}).json()
    audit = app_client.app.state.audit  # type: ignore[attr-defined]
    event = audit.events(limit=1)[0]
    assert event.action == "consultation.search"
    assert event.actor == "rechercheur"
    assert event.client == "testclient"
    assert event.justification == "PV AN.12.L3.004711/2026"
    assert event.details["results"] == [[hit["id"], hit["version"]] for hit in answer["hits"]]
    assert event.subjects.split() == [hit["id"] for hit in answer["hits"]]
    assert audit.verify_chain() is None


def test_audit_database_is_out_of_reach_of_the_operational_role(profile: Settings) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from case_store.db import make_engine

    audit_url = make_url(profile.audit_database_url or "sqlite://")
    if audit_url.get_backend_name() != "postgresql":
        assert profile.audit_database_url != profile.database_url  # a separate file at least
        return
    operational_user = make_url(profile.database_url).username
    assert audit_url.username != operational_user
    intruder = make_engine(audit_url.set(username=operational_user).render_as_string(hide_password=False))
    with pytest.raises(OperationalError, match="permission denied"), intruder.connect():
        pass
    intruder.dispose()


def test_a_case_numbered_like_a_pv_is_opened_and_led(app_client: TestClient) -> None:
    token = login(app_client)
    number = "AN.12.L3.000815/2026"
    created = app_client.post(
        "/cases",
        data={"number": number, "title": "Fietsdiefstallen", "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = app_client.get(created.headers["location"])
    assert page.status_code == 200
    assert page.context["case"].role_of("rechercheur") == "lead"  # type: ignore[attr-defined]
    listing = app_client.get("/cases")
    assert number in listing.text


def test_attaching_a_record_to_a_case_shows_it_to_the_team(
    app_client: TestClient, profile: Settings, planted: list[tuple[Record, bool]]
) -> None:
    from case_store.cases import add_member
    from case_store.db import make_engine, make_sessionmaker, transaction
    from case_store.users import add_user
    from tests.conftest import PASSWORD

    engine = make_engine(profile.resolved_database_url)
    with transaction(make_sessionmaker(engine)) as session:
        add_user(session, "teamlid", PASSWORD, role="analyst", unit="FGP Gent", clearance=3)
        add_member(session, "CASE-2026-001", "teamlid", "reader")
    engine.dispose()
    record = planted[0][0]  # islp: the lead sees it through a grant, the reader has none
    login(app_client, "teamlid")
    assert app_client.get(f"/api/records/{record.id}").status_code == 404
    token = login(app_client)
    attached = app_client.post(
        f"/records/{record.id}/cases",
        data={"case": "CASE-2026-001", "csrf_token": token},
        follow_redirects=False,
    )
    assert attached.status_code == 303
    login(app_client, "teamlid")
    assert app_client.get(f"/api/records/{record.id}").json()["case_ids"] == ["CASE-2026-001"]
    # A reader of the case may not attach records to it.
    token = login(app_client, "teamlid")
    other = planted[4][0]
    refused = app_client.post(
        f"/records/{other.id}/cases", data={"case": "CASE-2026-001", "csrf_token": token}
    )
    assert refused.status_code == 403


def test_search_page_renders_register_records_as_cards(
    app_client: TestClient, planted: list[tuple[Record, bool]]
) -> None:
    login(app_client)
    page = app_client.get("/search", params={"q": WORD})
    assert page.status_code == 200
    shown = [hit.id for hit in page.context["result"].hits]  # type: ignore[attr-defined]
    assert shown and all(f'href="/records/{record_id}"' in page.text for record_id in shown)


def test_every_answer_carries_the_security_headers(app_client: TestClient) -> None:
    """A page, a JSON answer, a redirect to sign in, a refusal and a static file: each with the CSP."""
    from search_api.app import SECURITY_HEADERS

    login(app_client)
    answers = [
        app_client.get("/search"),
        app_client.get("/api/search", params={"q": "inbraak"}),
        app_client.get("/api/search", params={"q": '"open'}),  # 400
        app_client.get("/static/speurder.css"),
        app_client.get("/no-such-page"),
    ]
    app_client.cookies.clear()
    answers.append(app_client.get("/search", follow_redirects=False))  # to the sign-in page
    assert [answer.status_code for answer in answers] == [200, 200, 400, 200, 404, 303]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.url, name)
