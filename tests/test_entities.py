"""Entity pages and the entity graph: what they find on the generator's ground truth, and what they never
show (the ACCESS suite for the graph: nodes, edges, counts and record ids against an oracle in Python).
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from case_store.audit import AuditLog
from case_store.cases import add_member, ensure_case
from case_store.db import make_engine, make_sessionmaker, transaction
from case_store.users import add_user, grant_register
from enrichers.resolution import account_id, person_id, phone_id, vehicle_id
from ingest.generate import GROUND_TRUTH, generate
from ingest.generate.numbers import national_number
from ingest.index.bulk import write_records
from ingest.records import AlertDetails, Details, Person, Record, Vehicle
from ingest.settings import Settings
from ingest.sources.mapping import MAPPINGS_DIR, load_mapping
from ingest.sources.run import ingest_file
from tests.conftest import PASSWORD, login

RUN = uuid.uuid4().hex[:6]
REASON = "Wet op het politieambt art. 44/1"
NOW = datetime.now(UTC)


# -- a small hand-written world: every record's entities and access fields known ----------------------
REGISTERS = {
    "islp": "pv",
    "ang": "alert",
    "anpr": "plate_read",
    "belvis": "visa_check",
    "mercurius": "licence_status",
}
CASE = f"CASE-G-{RUN}"
rng = random.Random(RUN)
PEOPLE = [
    (
        f"Persoon{RUN}{n} Janssens",
        date(1970 + n, 1 + n, 10),
        national_number(date(1970 + n, 1 + n, 10), 101 + 2 * n),
    )
    for n in range(6)
]
PERSONS = [f"person:nrn:{nrn}" for _name, _born, nrn in PEOPLE]
PLATES = [f"9G{chr(65 + n)}{RUN[:1].upper()}{n}{rng.randint(10, 99)}" for n in range(4)]
VEHICLES = [f"vehicle:BE:{plate}" for plate in PLATES]
PHONES = [f"phone:+3247{rng.randint(1000000, 9999999)}" for _ in range(3)]
ACCOUNTS = [f"account:BE{rng.randint(10, 99)}0000{rng.randint(10000000, 99999999)}" for _ in range(2)]
POOL = PERSONS + VEHICLES + PHONES + ACCOUNTS


@pytest.fixture(scope="module")
def graph_world(app_client: TestClient, profile: Settings, search: OpenSearch) -> list[Record]:
    records: list[Record] = []

    def record(key: str, register: str, entities: list[str], **fields: Any) -> None:
        persons = [
            Person(name=name, birth_date=born, national_number=nrn)
            for (name, born, nrn), entity in zip(PEOPLE, PERSONS, strict=True)
            if entity in entities
        ]
        vehicles = [
            Vehicle(plate=p, country="BE") for p, v in zip(PLATES, VEHICLES, strict=True) if v in entities
        ]
        records.append(
            Record(
                id=f"g-{RUN}-{key}",
                kind=REGISTERS[register],  # type: ignore[arg-type]
                source=register,
                register=register,
                title=f"{register} {key}",
                recorded_at=NOW,
                persons=persons,
                vehicles=vehicles,
                phones=[e.split(":", 1)[1] for e in entities if e.startswith("phone:")],
                ibans=[e.split(":", 1)[1] for e in entities if e.startswith("account:")],
                entity_ids=entities,
                **fields,
            )
        )

    for n in range(60):
        register = rng.choice(["islp", "islp", "ang", "anpr", "belvis"])
        record(
            str(n),
            register,
            rng.sample(POOL, rng.choice([1, 2, 2, 3, 3, 4])),
            occurred_at=NOW - timedelta(days=n),
            classification=rng.choice([0, 0, 1, 2, 3]),
            case_ids=[CASE] if rng.random() < 0.15 else [],
        )
    # What the entity page says about the first person today: an open alert, a licence status, an old alert.
    record("alert-open", "ang", [PERSONS[0]], valid_from=NOW - timedelta(days=3), occurred_at=NOW,
           details=Details(alert=AlertDetails(measure="intercepteren")))  # fmt: skip
    record("alert-closed", "ang", [PERSONS[0]], valid_from=NOW - timedelta(days=300),
           valid_to=NOW - timedelta(days=30), occurred_at=NOW - timedelta(days=300))  # fmt: skip
    record("licence", "mercurius", [PERSONS[0]], valid_from=NOW - timedelta(days=30), summary="geldig")
    # The first person again, without the national number: the name-based id of "possibly the same person".
    name, born, _nrn = PEOPLE[0]
    by_name = person_id(name, born)
    assert by_name is not None
    records.append(
        Record(
            id=f"g-{RUN}-by-name",
            kind="pv",
            source="islp",
            register="islp",
            title="pv by name",
            recorded_at=NOW,
            persons=[Person(name=name, birth_date=born)],
            entity_ids=[by_name],
        )
    )
    assert not write_records(search, profile.index_prefix, records, refresh="wait_for").errors
    sessions = make_sessionmaker(make_engine(profile.resolved_database_url))
    with transaction(sessions) as session:
        add_user(session, f"g-full-{RUN}", PASSWORD, role="analyst", unit="FGP", clearance=3)
        for register in REGISTERS:
            grant_register(session, f"g-full-{RUN}", register)
        add_user(session, f"g-part-{RUN}", PASSWORD, role="analyst", unit="PZ", clearance=1)
        for register in ("islp", "anpr"):
            grant_register(session, f"g-part-{RUN}", register)
        ensure_case(session, CASE, lead="rechercheur")
        add_member(session, CASE, f"g-part-{RUN}", "reader")
    sessions.kw["bind"].dispose()
    return records


USERS = {
    "full": (3, frozenset(REGISTERS), frozenset()),
    "part": (1, frozenset({"islp", "anpr"}), frozenset({CASE})),
}


def visible(user: str, record: Record) -> bool:
    """DESIGN §7, written out independently of `access_filter`."""
    clearance, registers, cases = USERS[user]
    if record.classification > clearance:
        return False
    return record.register_ in registers or bool(set(record.case_ids) & cases)


def oracle(user: str, records: list[Record]) -> dict[tuple[str, str], set[str]]:
    """Every pair of entities named together on a visible record, with those records (a=b: the entity's
    own records)."""
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in records:
        if visible(user, record):
            for a in record.entity_ids:
                for b in record.entity_ids:
                    pairs[a, b].add(record.id)
    return pairs


def neighbours_of(pairs: dict[tuple[str, str], set[str]], entity: str) -> set[str]:
    return {b for (a, b) in pairs if a == entity and b != entity}


def as_user(client: TestClient, user: str) -> None:
    login(client, f"g-{user}-{RUN}")


def api(client: TestClient, path: str, **params: Any) -> Any:
    return client.get(path, params={"reason": REASON, **params})


@pytest.mark.parametrize("user", list(USERS))
def test_entity_pages_follow_the_oracle(app_client: TestClient, graph_world: list[Record], user: str) -> None:
    as_user(app_client, user)
    pairs = oracle(user, graph_world)
    for entity in POOL:
        own = pairs.get((entity, entity), set())
        answer = api(app_client, f"/api/entities/{quote(entity)}")
        page = app_client.get(f"/entities/{quote(entity)}", params={"reason": REASON})
        if not own:
            assert answer.status_code == page.status_code == 404, entity
            continue
        assert answer.status_code == page.status_code == 200, answer.text
        body = answer.json()
        assert body["total"] == len(own)
        seen = [hit["id"] for hit in body["timeline"]]
        for number in range(2, body["pages"] + 1):  # some seeds give an entity more than one page
            more = api(app_client, f"/api/entities/{quote(entity)}", page=number).json()
            seen += [hit["id"] for hit in more["timeline"]]
        assert len(seen) == len(set(seen)) and set(seen) == own
        related = {item["entity_id"]: item for item in body["related"]}
        assert set(related) == neighbours_of(pairs, entity)
        for other, item in related.items():
            assert item["count"] == len(pairs[entity, other])
            assert set(item["records"]) <= pairs[entity, other]
        assert {register for register, _n in body["registers"]} == {
            r.register_ for r in graph_world if r.id in own
        }


def test_entity_page_facts_alerts_licence_and_the_same_person(
    app_client: TestClient, graph_world: list[Record]
) -> None:
    as_user(app_client, "full")
    body = api(app_client, f"/api/entities/{quote(PERSONS[0])}").json()
    name, born, nrn = PEOPLE[0]
    assert [n for n, _count in body["names"]] == [name]
    assert [d for d, _count in body["birth_dates"]] == [born.isoformat()]
    assert ["national number", nrn] in [item[:2] for item in body["identifiers"]]
    # An alert without a validity period is open (as the quick check reads it); the closed one is not.
    open_alerts = {
        r.id
        for r in graph_world
        if r.kind == "alert" and PERSONS[0] in r.entity_ids and (r.valid_to is None or r.valid_to >= NOW)
    }
    assert f"g-{RUN}-alert-open" in open_alerts and f"g-{RUN}-alert-closed" not in open_alerts
    assert {hit["id"] for hit in body["alerts"]} == open_alerts
    assert [hit["id"] for hit in body["licences"]] == [f"g-{RUN}-licence"]
    assert body["same_person"] == [[person_id(name, born), 1]]
    page = app_client.get(f"/entities/{quote(PERSONS[0])}", params={"reason": REASON})
    assert str(person_id(name, born)) in html.unescape(page.text)
    # A user without ANG and Mercurius sees only the alerts of their case, and no licence status.
    as_user(app_client, "part")
    seen = api(app_client, f"/api/entities/{quote(PERSONS[0])}")
    if seen.status_code == 200:
        assert {hit["id"] for hit in seen.json()["alerts"]} == {
            r.id for r in graph_world if r.id in open_alerts and visible("part", r)
        }
        assert seen.json()["licences"] == []


@pytest.mark.parametrize("user", list(USERS))
@pytest.mark.parametrize("hops", [1, 2])
def test_neighbours_follow_the_oracle(
    app_client: TestClient, graph_world: list[Record], user: str, hops: int
) -> None:
    as_user(app_client, user)
    pairs = oracle(user, graph_world)
    shown = {record.id for record in graph_world if visible(user, record)}
    for entity in POOL:
        answer = api(app_client, "/api/graph/neighbours", entity=entity, hops=hops, max_fanout=50)
        if (entity, entity) not in pairs:
            assert answer.status_code == 404
            continue
        graph = answer.json()
        first = neighbours_of(pairs, entity)
        expected = {entity} | first
        if hops == 2:
            expected |= {b for a in first for b in neighbours_of(pairs, a)}
        assert {node["id"] for node in graph["nodes"]} == expected
        expanded = {entity} | (first if hops == 2 else set())
        for edge in graph["edges"]:
            a, b = edge["source"], edge["target"]
            assert a in expanded or b in expanded
            assert edge["count"] == len(pairs[a, b])
            assert set(edge["records"]) <= pairs[a, b] <= shown
        edges = {frozenset((e["source"], e["target"])) for e in graph["edges"]}
        assert edges == {frozenset((a, b)) for (a, b) in pairs if a != b and (a in expanded or b in expanded)}
        nodes = {node["id"]: node for node in graph["nodes"]}
        assert nodes[entity]["records"] == len(pairs[entity, entity])
        assert graph["round_trips"] <= hops


def test_neighbours_filter_by_kind_register_and_period(
    app_client: TestClient, graph_world: list[Record]
) -> None:
    as_user(app_client, "full")
    entity = max(PERSONS, key=lambda e: len(neighbours_of(oracle("full", graph_world), e)))
    graph = api(app_client, "/api/graph/neighbours", entity=entity, kinds="vehicle,phone").json()
    assert {node["kind"] for node in graph["nodes"] if node["id"] != entity} <= {"vehicle", "phone"}
    narrowed = [
        r
        for r in graph_world
        if r.register_ == "islp" and r.occurred_at and r.occurred_at >= NOW - timedelta(days=30)
    ]
    pairs = oracle("full", narrowed)
    answer = api(
        app_client,
        "/api/graph/neighbours",
        entity=entity,
        registers="islp",
        **{"from": (NOW - timedelta(days=30)).date().isoformat()},
    )
    if (entity, entity) not in pairs:
        assert answer.status_code == 404
    else:
        assert {n["id"] for n in answer.json()["nodes"]} == {entity} | neighbours_of(pairs, entity)
    assert api(app_client, "/api/graph/neighbours", entity=entity, kinds="spaceship").status_code == 400


def shortest(pairs: dict[tuple[str, str], set[str]], start: str, goal: str) -> int | None:
    seen, layer, depth = {start}, {start}, 0
    while layer:
        if goal in layer:
            return depth
        layer = {b for a in layer for b in neighbours_of(pairs, a)} - seen
        seen |= layer
        depth += 1
    return None


@pytest.mark.parametrize("user", list(USERS))
def test_shortest_paths_follow_the_oracle(
    app_client: TestClient, graph_world: list[Record], user: str
) -> None:
    as_user(app_client, user)
    pairs = oracle(user, graph_world)
    for start, goal in random.Random(7).sample([(a, b) for a in POOL for b in POOL if a < b], 25):
        answer = api(app_client, "/api/graph/paths", **{"from": start, "to": goal, "max_hops": 6})
        if (start, start) not in pairs or (goal, goal) not in pairs:
            assert answer.status_code == 404
            continue
        graph = answer.json()
        length = shortest(pairs, start, goal)
        if length is None:
            assert graph["paths"] == []
            continue
        assert graph["paths"], (start, goal)
        for path in graph["paths"]:
            assert path[0] == start and path[-1] == goal and len(path) - 1 == length
            for a, b in itertools.pairwise(path):
                assert pairs.get((a, b)), (a, b)
        for edge in graph["edges"]:
            assert set(edge["records"]) <= pairs[edge["source"], edge["target"]]
            assert edge["count"] == len(pairs[edge["source"], edge["target"]])


@pytest.mark.parametrize("user", list(USERS))
def test_exports_are_audited_disclosures_of_visible_records_only(
    app_client: TestClient, graph_world: list[Record], user: str, profile: Settings
) -> None:
    as_user(app_client, user)
    pairs = oracle(user, graph_world)
    shown = {record.id for record in graph_world if visible(user, record)}
    entity = next(e for e in POOL if (e, e) in pairs and neighbours_of(pairs, e))
    expected_nodes = {entity} | neighbours_of(pairs, entity)
    exported = api(app_client, "/api/graph/export.csv", entity=entity)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["source_id"] for r in rows} | {r["target_id"] for r in rows} == expected_nodes
    csv_records = {rid for r in rows for rid in r["record_ids"].split(";") if rid}
    assert csv_records <= shown
    graphml = api(app_client, "/api/graph/export.graphml", entity=entity)
    tree = ElementTree.fromstring(graphml.content)  # noqa: S314 - our own export, read back
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert {n.get("id") for n in tree.iterfind(".//g:node", ns)} == expected_nodes
    graphml_records = {
        rid
        for d in tree.iterfind(".//g:edge/g:data[@key='record_ids']", ns)
        for rid in (d.text or "").split()
    }
    assert graphml_records <= shown
    engine = make_engine(profile.audit_database_url or "")
    events = AuditLog(engine).events(actor=f"g-{user}-{RUN}", action="disclosure.export")
    engine.dispose()
    assert len(events) >= 2
    assert {tuple(sorted(e.subjects.split())) for e in events[:2]} == {
        tuple(sorted(csv_records | graphml_records))
    }
    assert all(e.justification == REASON for e in events[:2])
    assert api(app_client, "/api/graph/export.pdf", entity=entity).status_code == 404


def test_an_entity_without_a_visible_record_does_not_exist(
    app_client: TestClient, graph_world: list[Record]
) -> None:
    as_user(app_client, "part")
    pairs = oracle("part", graph_world)
    hidden = [e for e in POOL if (e, e) not in pairs and oracle("full", graph_world).get((e, e))]
    never = f"person:nrn:{RUN}00000"[:22]
    answers = [api(app_client, f"/api/entities/{quote(e)}") for e in [*hidden, never]]
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    for e in [*hidden, never]:
        assert api(app_client, "/api/graph/neighbours", entity=e).status_code == 404
        assert api(app_client, "/api/graph/export.csv", entity=e).status_code == 404
        assert app_client.get(f"/entities/{quote(e)}", params={"reason": REASON}).status_code == 404
    assert api(app_client, "/api/entities/not-an-entity").status_code == 404


# -- the generator's ground truth ---------------------------------------------------------------------
TRUTH_SEED = 90909
TRUTH_TOTAL = 3000
SAMPLE = 30
TRUTH_KINDS = {"person": "person", "vehicle": "vehicle", "phone": "phone", "bank_account": "account"}


def resolved(entity: dict[str, Any]) -> str | None:
    """The id entity resolution should give a true entity, from its identifiers alone."""
    ids = entity["identifiers"]
    if entity["kind"] == "person":
        number = ids.get("national_number") or ids.get("bis_number")
        return person_id(entity.get("name"), entity.get("birth_date"), number)
    if entity["kind"] == "vehicle":
        return vehicle_id(ids.get("plate"), entity.get("country"), ids.get("vin"))
    if entity["kind"] == "phone":
        return phone_id(ids.get("phone"))
    return account_id(ids.get("iban"))


@pytest.fixture(scope="module")
def truth_world(
    app_client: TestClient, profile: Settings, search: OpenSearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("truth")
    generate(folder, seed=TRUTH_SEED, total=TRUTH_TOTAL)
    for export in sorted(folder.iterdir()):
        mapping = MAPPINGS_DIR / f"{export.stem}.yaml"
        if mapping.is_file():
            ingest_file(search, profile.index_prefix, load_mapping(mapping), export)
    search.indices.refresh(index=profile.index_prefix)
    sessions = make_sessionmaker(make_engine(profile.resolved_database_url))
    with transaction(sessions) as session:
        add_user(session, f"g-truth-{RUN}", PASSWORD, role="analyst", unit="FGP", clearance=3)
        for mapping in MAPPINGS_DIR.glob("*.yaml"):
            grant_register(session, f"g-truth-{RUN}", mapping.stem)
    sessions.kw["bind"].dispose()
    lines = Path(folder / GROUND_TRUTH).read_text(encoding="utf-8").splitlines()
    yield [json.loads(line) for line in lines]


def all_records(client: TestClient, entity: str) -> set[str]:
    found: set[str] = set()
    page, pages = 1, 1
    while page <= pages:
        answer = api(client, f"/api/entities/{quote(entity)}", page=page)
        if answer.status_code == 404:
            return found
        body = answer.json()
        found |= {hit["id"] for hit in body["timeline"]}
        pages, page = body["pages"], page + 1
    return found


def test_true_links_are_found_on_the_ground_truth(
    app_client: TestClient, truth_world: list[dict[str, Any]]
) -> None:
    """For sampled true persons, vehicles, phones and accounts: the records the API lists for each are its
    records in the ground truth (record recall), and the true entities it shares a record with are its
    neighbours in the graph (link recall)."""
    login(app_client, f"g-truth-{RUN}")
    by_id = {entity["id"]: entity for entity in truth_world if entity["kind"] in TRUTH_KINDS}
    holders: dict[str, set[str]] = defaultdict(set)
    for entity in by_id.values():
        for _register, _ref, record in entity["records"]:
            holders[record].add(entity["id"])
    sampler = random.Random(TRUTH_SEED)
    found_records = true_records = found_links = true_links = 0
    for kind in TRUTH_KINDS:
        members = sorted(e for e in by_id if by_id[e]["kind"] == kind)
        for true_id in sampler.sample(members, min(SAMPLE, len(members))):
            entity = by_id[true_id]
            ours = resolved(entity)
            assert ours, entity
            wanted = {record for _register, _ref, record in entity["records"]}
            true_records += len(wanted)
            found_records += len(wanted & all_records(app_client, ours))
            linked = {other for record in wanted for other in holders[record]} - {true_id}
            graph = api(app_client, "/api/graph/neighbours", entity=ours, max_fanout=200)
            nodes = {node["id"] for node in graph.json()["nodes"]} if graph.status_code == 200 else set()
            true_links += len(linked)
            found_links += sum(resolved(by_id[other]) in nodes for other in linked)
    record_recall = found_records / true_records
    link_recall = found_links / true_links
    print(
        f"\nground truth (seed {TRUTH_SEED}, {TRUTH_TOTAL} records, {SAMPLE} entities per kind): "
        f"record recall {record_recall:.3f} ({found_records}/{true_records}), "
        f"link recall {link_recall:.3f} ({found_links}/{true_links})"
    )
    # Measured 0.982 and 0.983 on this seed (the sample is seeded too, so the figure is stable). What is
    # missed is resolution's, not the graph's: a person named without the national number on a record
    # gets the name-based id (shown on the entity page as "possibly the same person"), and a name spelt
    # differently makes another one (bench/resolution_eval.py: person pair recall 0.95). Vehicles, phones
    # and accounts are found in full. 0.95 leaves room for a generator change, not for a graph bug.
    assert record_recall >= 0.95
    assert link_recall >= 0.95


def test_consultations_need_a_reason_where_the_register_demands_it(
    app_client: TestClient, graph_world: list[Record]
) -> None:
    as_user(app_client, "full")  # may consult ANG, which needs a reason
    assert app_client.get("/api/graph/neighbours", params={"entity": PERSONS[0]}).status_code == 428
    assert app_client.get(f"/api/entities/{quote(PERSONS[0])}").status_code == 428
    assert app_client.get(
        "/api/graph/neighbours", params={"entity": PERSONS[0], "registers": "islp"}
    ).status_code in (
        200,
        404,
    )


# -- graphs saved into a case: the recipe is kept, the drawing is made again for each reader under their own
# access, and nothing of the saver's view reaches a team member who may see less ----------------------------
SAVED_CASE = f"CASE-SG-{RUN}"


@pytest.fixture(scope="module")
def team(graph_world: list[Record], profile: Settings) -> None:
    """The full analyst leads the case; the partial one is a member; the investigator only reads it; a
    third analyst, who may see everything, is not on the team."""
    sessions = make_sessionmaker(make_engine(profile.resolved_database_url))
    with transaction(sessions) as session:
        ensure_case(session, SAVED_CASE, lead=f"g-full-{RUN}")
        add_member(session, SAVED_CASE, f"g-part-{RUN}", "member")
        add_member(session, SAVED_CASE, "rechercheur", "reader")
        add_user(session, f"g-off-{RUN}", PASSWORD, role="analyst", unit="FGP", clearance=3)
        for register in REGISTERS:
            grant_register(session, f"g-off-{RUN}", register)
    sessions.kw["bind"].dispose()


def csrf(client: TestClient) -> dict[str, str]:
    token = client.get("/graph").context["csrf_token"]  # type: ignore[attr-defined]
    return {"X-CSRF-Token": str(token), "X-Justification": REASON}


def draw(client: TestClient, entity: str, hops: int = 1) -> dict[str, Any]:
    answer = client.get("/api/graph/neighbours", params={"entity": entity, "hops": hops, "reason": REASON})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def save(client: TestClient, **body: Any) -> Any:
    return client.post("/api/graphs", json={"case": SAVED_CASE, **body}, headers=csrf(client))


def best_connected(graph_world: list[Record], user: str) -> str:
    pairs = oracle(user, graph_world)
    return max((e for e in POOL if (e, e) in pairs), key=lambda e: len(neighbours_of(pairs, e)))


def test_a_saved_graph_opens_as_it_was_drawn(
    app_client: TestClient,
    graph_world: list[Record],
    team: None,
    profile: Settings,
) -> None:
    as_user(app_client, "full")
    root = best_connected(graph_world, "full")
    first = draw(app_client, root)
    neighbour = next(node["id"] for node in first["nodes"] if node["id"] != root)
    second = draw(app_client, neighbour)
    positions = {node["id"]: [i * 10.0, -i * 5.0] for i, node in enumerate(first["nodes"])}
    answer = save(
        app_client,
        title="Netwerk rond de eerste verdachte",
        root=root,
        expanded=[neighbour],
        pinned=[neighbour],
        positions=positions,
    )
    assert answer.status_code == 201, answer.text
    saved = answer.json()
    assert saved["url"] == f"/graph?saved={saved['id']}"

    opened = app_client.get(f"/api/graphs/{saved['id']}", params={"reason": REASON})
    assert opened.status_code == 200, opened.text
    body = opened.json()
    assert body["title"] == "Netwerk rond de eerste verdachte" and body["root"] == root
    drawn = {node["id"] for node in body["graph"]["nodes"]}
    assert drawn == {n["id"] for n in first["nodes"]} | {n["id"] for n in second["nodes"]}
    expected_edges = {frozenset((e["source"], e["target"])) for e in first["edges"] + second["edges"]}
    assert {frozenset((e["source"], e["target"])) for e in body["graph"]["edges"]} == expected_edges
    assert body["positions"] == positions and body["pinned"] == [neighbour]
    # The case page lists it; saving and opening are in the audit log.
    page = app_client.get(f"/cases/{SAVED_CASE}")
    assert f"/graph?saved={saved['id']}" in page.text
    engine = make_engine(profile.audit_database_url or "")
    events = AuditLog(engine).events(actor=f"g-full-{RUN}", limit=20)
    engine.dispose()
    kept = [e.details for e in events if e.action == "alteration.case_graph"]
    assert any(details["graph"] == saved["id"] for details in kept)
    opened_events = [e.details for e in events if e.action == "consultation.graph"]
    assert sum(details.get("graph") == saved["id"] for details in opened_events) == 2  # root, then neighbour


def test_a_team_member_who_may_see_less_gets_only_their_part(
    app_client: TestClient,
    graph_world: list[Record],
    team: None,
) -> None:
    as_user(app_client, "full")
    full, part = oracle("full", graph_world), oracle("part", graph_world)
    # A root both may see, whose full drawing holds entities the partial analyst's records never name.
    candidates = [e for e in POOL if (e, e) in part and neighbours_of(full, e) - neighbours_of(part, e)]
    assert candidates, "the hand-written world should hold such an entity"
    root = candidates[0]
    drawing = draw(app_client, root)
    positions = {node["id"]: [1.0, 2.0] for node in drawing["nodes"]}
    hidden = neighbours_of(full, root) - neighbours_of(part, root) - {root}
    saved = save(app_client, title="Volledig beeld", root=root, positions=positions, pinned=sorted(hidden))
    assert saved.status_code == 201, saved.text

    as_user(app_client, "part")
    body = app_client.get(f"/api/graphs/{saved.json()['id']}", params={"reason": REASON}).json()
    drawn = {node["id"] for node in body["graph"]["nodes"]}
    assert drawn == {root} | neighbours_of(part, root)
    assert not hidden & drawn
    # The recipe never names what the reader's own records do not: positions and pins are cut to the drawing.
    assert set(body["positions"]) == drawn and not hidden & set(body["pinned"])
    assert not any(entity in str(body) for entity in hidden)
    # A root the reader may not see at all: the saved graph does not exist for them.
    invisible = next((e for e in POOL if (e, e) in full and (e, e) not in part), None)
    if invisible is not None:
        as_user(app_client, "full")
        other = save(app_client, title="Niet voor iedereen", root=invisible)
        assert other.status_code == 201
        as_user(app_client, "part")
        hidden_graph = app_client.get(f"/api/graphs/{other.json()['id']}", params={"reason": REASON})
        assert hidden_graph.status_code == 404


def test_who_may_save_and_what_is_refused(
    app_client: TestClient,
    graph_world: list[Record],
    team: None,
) -> None:
    as_user(app_client, "full")
    root = best_connected(graph_world, "full")
    assert save(app_client, title="", root=root).status_code == 400
    assert save(app_client, title="x", root="spaceship:1").status_code == 400
    assert save(app_client, title="x", root=root, kinds=["spaceship"]).status_code == 400
    assert save(app_client, title="x", root=root, hops=3).status_code == 422
    assert save(app_client, title="x", root=root, positions={root: ["a", 1]}).status_code == 422
    assert save(app_client, title="x", root=root, case="NO-SUCH-CASE").status_code == 404
    no_token = app_client.post("/api/graphs", json={"case": SAVED_CASE, "title": "x", "root": root})
    assert no_token.status_code == 403
    # A reader of the case opens its graphs but saves none; someone off the team sees none of them.
    saved = save(app_client, title="Voor het team", root=root).json()
    login(app_client, "rechercheur")
    assert save(app_client, title="x", root=root).status_code == 403
    assert app_client.get(f"/api/graphs/{saved['id']}", params={"reason": REASON}).status_code in (200, 404)
    login(app_client, f"g-off-{RUN}")  # sees every record, but is not on the case's team
    assert app_client.get(f"/api/graphs/{saved['id']}", params={"reason": REASON}).status_code == 404
    assert app_client.get("/api/graphs/999999999", params={"reason": REASON}).status_code == 404
