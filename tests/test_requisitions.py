"""Requisitions end to end, with the reference CPC as its own process on a loopback port.

Investigator drafts → magistrate approves → the order goes over HTTP → the answer becomes `bank_account`
records that the case's team finds and nobody else does (hits, totals, facets, suggestions, record
pages) → the audit trail tells the whole story. Then the rejected, expired and CPC-down paths, and who
may not decide.
The oracle for the answer is the generated world itself: the subject's own accounts as the generator
derives them, independently of the service.
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from stdnum import iban as std_iban

from case_store.audit import AuditEvent, AuditLog
from case_store.cases import add_member, ensure_case
from case_store.db import make_engine, make_sessionmaker, transaction
from case_store.models import Requisition
from case_store.users import add_user, grant_register
from ingest.generate.population import Population
from ingest.generate.world import World
from ingest.settings import Settings
from search_api.app import audit_database_url, create_app
from tests.conftest import PASSWORD, ROOT, RUN, login, settings_env

SEED, WORLD = 2026, 5000
POPULATION = Population(World.plan(SEED, WORLD))
REASON = "Wet op het politieambt art. 44/1"
LEGAL_BASIS = "art. 46quater Wetboek van Strafvordering"
REGISTERS = ("islp", "ang", "anpr", "ges", "pacos", "mercurius", "focus", "belvis")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ReferenceCpc:
    """`speurder cpc serve` in its own process; stopped and started again by the CPC-down test."""

    port: int
    token: str
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    world: tuple[str, ...] = ("--seed", str(SEED), "--records", str(WORLD))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = settings_env(Settings())
        env["SPEURDER_CPC_TOKEN"] = self.token
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "search_api.cli",
                    "cpc",
                    "serve",
                    "--port",
                    str(self.port),
                    "--seed",
                    str(SEED),
                    "--records",
                    str(WORLD),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the reference CPC did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


@pytest.fixture(scope="module")
def cpc() -> Iterator[ReferenceCpc]:
    log = ROOT / "var" / "logs" / f"test-cpc-{RUN}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    service = ReferenceCpc(free_port(), secrets.token_urlsafe(24), log)
    service.start()
    yield service
    service.stop()


# name, role, clearance, registers, case role in the requisition cases (None: not on the team)
USERS = [
    ("r-drafter", "investigator", 2, ("islp",), "lead"),
    ("r-colleague", "investigator", 2, (), "member"),
    ("r-junior", "investigator", 1, (), "reader"),  # on the team, below the answer's classification
    ("r-magistrate", "magistrate", 3, (), None),
    ("r-magistrate-2", "magistrate", 3, (), "member"),  # on the team: drafts, so may not decide
    ("r-analyst", "analyst", 3, REGISTERS, "member"),
    ("r-outsider", "investigator", 3, REGISTERS, None),  # sees every register, not the case
]
CASES = ("REQ-ANSWERED", "REQ-REJECTED", "REQ-EXPIRED", "REQ-DOWN", "REQ-RULES")


@dataclass
class Scene:
    client: TestClient
    settings: Settings
    audit: AuditLog
    sessions: Any


@pytest.fixture(scope="module")
def world(profile: Settings, app_client: TestClient, cpc: ReferenceCpc) -> Iterator[Scene]:
    settings = profile.model_copy(
        update={
            "cpc_url": cpc.url,
            "cpc_token": SecretStr(cpc.token),
            "cpc_attempts": 2,
            "cpc_timeout_seconds": 5,
        }
    )
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        for name, role, clearance, registers, _ in USERS:
            add_user(session, name, PASSWORD, role=role, unit="PZ Gent/Recherche", clearance=clearance)
            for register in registers:
                grant_register(session, name, register)
        for case in CASES:
            ensure_case(session, case, lead="r-drafter")
            for name, *_, case_role in USERS:
                if case_role:
                    add_member(session, case, name, case_role)
    audit_engine = make_engine(audit_database_url(settings))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield Scene(client, settings, AuditLog(audit_engine), sessions)
    engine.dispose()
    audit_engine.dispose()


def subject_with_company() -> tuple[str, str, list[str]]:
    """The director of the first company: own accounts, and the company's account as proxy."""
    person = POPULATION.resident(POPULATION.organisation(0).director)
    assert person.national_number
    return person.national_number, person.display, [account.iban for account in person.accounts]


def draft(w: Scene, user: str, case: str, number: str, name: str, **extra: str) -> int:
    token = login(w.client, user)
    form = {
        "case": case,
        "kind": "nbb_cpc_accounts",
        "subject_type": "person",
        "subject_number": number,
        "subject_name": name,
        "legal_basis": LEGAL_BASIS,
        "reason": "Witwassen via vennootschap; geldstromen van de verdachte in kaart brengen.",
        "language": "nl",
        **extra,
    }
    page = w.client.post("/requisitions", data=form, headers={"X-CSRF-Token": token})
    assert page.status_code == 200, page.text
    requisition = page.context["requisition"]  # type: ignore[attr-defined]
    assert requisition.state == "draft"
    return int(requisition.id)


def act(w: Scene, user: str, requisition_id: int, action: str, **form: str) -> httpx.Response:
    token = login(w.client, user)
    return w.client.post(
        f"/requisitions/{requisition_id}/{action}", data=form, headers={"X-CSRF-Token": token}
    )


def state_of(w: Scene, user: str, requisition_id: int) -> Any:
    login(w.client, user)
    page = w.client.get(f"/requisitions/{requisition_id}")
    assert page.status_code == 200, page.text
    return page.context["requisition"]  # type: ignore[attr-defined]


def events_of(w: Scene, reference: str) -> list[AuditEvent]:
    events = w.audit.events(limit=5000)
    return sorted((e for e in events if e.details.get("requisition") == reference), key=lambda e: e.seq)


def search(w: Scene, user: str, query: str) -> dict[str, Any]:
    login(w.client, user)
    answer = w.client.get("/api/search", params={"q": query, "size": 100, "reason": REASON})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_drafted_approved_executed_answered_and_seen_by_the_team_only(world: Scene) -> None:
    number, name, own_ibans = subject_with_company()
    requisition_id = draft(world, "r-drafter", "REQ-ANSWERED", number, name)
    assert act(world, "r-drafter", requisition_id, "submit").status_code == 200

    login(world.client, "r-magistrate")
    inbox = world.client.get("/requisitions/inbox")
    assert requisition_id in [r.id for r in inbox.context["waiting"]]  # type: ignore[attr-defined]
    approved = act(world, "r-magistrate", requisition_id, "approve", note="Noodzakelijk en proportioneel.")
    assert approved.status_code == 200, approved.text
    requisition = approved.context["requisition"]  # type: ignore[attr-defined]
    assert requisition.state == "answered", requisition.error
    assert requisition.decided_by == "r-magistrate" and requisition.provider_reference.startswith("CPC-")
    steps = [(s.action, s.actor, s.to_state) for s in requisition.history]
    assert steps == [
        ("draft", "r-drafter", "draft"),
        ("submit", "r-drafter", "submitted"),
        ("approve", "r-magistrate", "approved"),
        ("execute", "r-magistrate", "executed"),
        ("answer", "r-magistrate", "answered"),
    ]
    # The magistrate is not on the team: the page says there is an answer, and shows none of it.
    assert approved.context["answer"] == []  # type: ignore[attr-defined]

    # The document: a PDF whose SHA-256 is the one kept.
    login(world.client, "r-drafter")
    document = world.client.get(f"/requisitions/{requisition_id}/document.pdf")
    assert document.status_code == 200 and document.content.startswith(b"%PDF")
    assert hashlib.sha256(document.content).hexdigest() == requisition.document_sha256

    # The answer: every account the world gives the subject, and the company account as proxy.
    page = world.client.get(f"/requisitions/{requisition_id}")
    shown = page.context["answer"]  # type: ignore[attr-defined]
    answered_ibans = {hit.source["details"]["bank_account"]["iban"] for hit in shown}
    assert set(own_ibans) <= answered_ibans
    assert len(answered_ibans) == len(own_ibans) + 1
    proxy = [hit for hit in shown if hit.source["details"]["bank_account"]["holder_role"] == "proxy"]
    assert [o["enterprise_number"] for o in proxy[0].source["organisations"] if "enterprise_number" in o] == [
        POPULATION.organisation(0).enterprise_number
    ]
    assert {hit.id for hit in shown} == set(requisition.answer_record_ids)
    assert all(
        hit.source["classification"] == 2 and hit.source["case_ids"] == ["REQ-ANSWERED"] for hit in shown
    )

    # Found by the team (by IBAN in any spelling, and by name), and by nobody else.
    spelled = std_iban.format(own_ibans[0]).lower()
    for user, sees in [
        ("r-drafter", True),
        ("r-colleague", True),
        ("r-analyst", True),
        ("r-junior", False),  # on the team, clearance 1 < classification 2
        ("r-magistrate", False),
        ("r-outsider", False),  # every register granted, clearance 3, not on the team
    ]:
        by_iban = search(world, user, spelled)
        ids = {hit["id"] for hit in by_iban["hits"]}
        assert (ids == {h.id for h in shown if h.source["ibans"] == [own_ibans[0]]}) is sees, user
        assert (dict(map(tuple, by_iban["facets"]["register"])).get("nbb_cpc", 0) == 1) is sees, user
        if not sees:
            assert by_iban["total"] == 0 and not by_iban["facets"]["kind"], user
        in_case = search(world, user, "bron:nbb_cpc dossier:REQ-ANSWERED")
        assert in_case["total"] == (len(shown) if sees else 0), user
        facets = dict(map(tuple, in_case["facets"]["kind"]))
        assert facets == ({"bank_account": len(shown)} if sees else {}), user
        if not sees:
            assert search(world, user, "bron:nbb_cpc")["total"] == 0, user
        by_name = search(world, user, f'"{name}" type:bank_account dossier:REQ-ANSWERED')
        assert (by_name["total"] == len(shown)) is sees, user
        record = world.client.get(f"/api/records/{shown[0].id}", params={"reason": REASON})
        assert (record.status_code == 200) is sees, user
        # Autocomplete reads the same records: the answering bank is suggested to the team only.
        bank = shown[0].source["details"]["bank_account"]["bank"]
        suggested = world.client.get("/api/suggest", params={"q": bank[:5], "reason": REASON}).json()
        assert (bank in suggested) is sees, (user, suggested)

    # The case timeline has the requisition's steps; the case's search has its answer.
    login(world.client, "r-colleague")
    fragment = world.client.get("/requisitions/timeline", params={"case": "REQ-ANSWERED"})
    assert [s.to_state for _, s in fragment.context["steps"]] == [  # type: ignore[attr-defined]
        "draft",
        "submitted",
        "approved",
        "executed",
        "answered",
    ]
    case_page = world.client.get("/cases/REQ-ANSWERED")
    assert {h.id for h in case_page.context["result"].hits} >= set(requisition.answer_record_ids)  # type: ignore[attr-defined]

    # The audit trail: drafted, submitted, approved, sent to the CPC, answer disclosed to the team.
    trail = events_of(world, requisition.reference)
    actions = [e.action for e in trail if not e.action.startswith("consultation.")]
    assert actions == [
        "alteration.requisition_drafted",
        "alteration.requisition_submitted",
        "alteration.requisition_approved",
        "disclosure.requisition_sent",
        "disclosure.requisition_answer",
        "disclosure.requisition_document",  # the PDF downloaded above
    ]
    by_action = {e.action: e for e in trail}
    assert by_action["alteration.requisition_drafted"].actor == "r-drafter"
    assert by_action["disclosure.requisition_document"].details["sha256"] == requisition.document_sha256
    assert (
        by_action["alteration.requisition_approved"].details["document_sha256"] == requisition.document_sha256
    )
    sent = by_action["disclosure.requisition_sent"]
    assert sent.details["recipients"] == ["NBB CPC"] and sent.details["subject"]["number"] == number
    disclosed = by_action["disclosure.requisition_answer"]
    team = [*sorted(name for name, *_, case_role in USERS if case_role), "r-drafter"]
    assert disclosed.details["recipients"] == sorted(set(team))
    assert set(disclosed.subjects.split()) == set(requisition.answer_record_ids)
    assert world.audit.verify_chain() is None


def test_rejected_requisition_is_never_sent(world: Scene) -> None:
    number, name, _own_ibans = subject_with_company()
    requisition_id = draft(world, "r-drafter", "REQ-REJECTED", number, name)
    act(world, "r-drafter", requisition_id, "submit")
    assert act(world, "r-magistrate", requisition_id, "reject").status_code == 400  # a reason is required
    rejected = act(world, "r-magistrate", requisition_id, "reject", note="Niet proportioneel.")
    requisition = rejected.context["requisition"]  # type: ignore[attr-defined]
    assert requisition.state == "rejected" and requisition.decision_note == "Niet proportioneel."
    assert act(world, "r-magistrate", requisition_id, "approve").status_code == 409
    assert act(world, "r-drafter", requisition_id, "execute").status_code == 409
    assert state_of(world, "r-drafter", requisition_id).provider_reference is None
    assert search(world, "r-drafter", "bron:nbb_cpc dossier:REQ-REJECTED")["total"] == 0
    actions = [e.action for e in events_of(world, requisition.reference)]
    assert "alteration.requisition_rejected" in actions and "disclosure.requisition_sent" not in actions


def test_requisition_past_its_deadline_expires(world: Scene) -> None:
    number, name, _ = subject_with_company()
    requisition_id = draft(world, "r-drafter", "REQ-EXPIRED", number, name)
    act(world, "r-drafter", requisition_id, "submit")
    with transaction(world.sessions) as session:  # time passes: the deadline is behind us
        session.get(Requisition, requisition_id).deadline = datetime.now(UTC) - timedelta(minutes=1)
    requisition = state_of(world, "r-magistrate", requisition_id)
    assert requisition.state == "expired"
    assert (requisition.history[-1].action, requisition.history[-1].actor) == ("expire", "system")
    assert act(world, "r-magistrate", requisition_id, "approve").status_code == 409
    login(world.client, "r-magistrate")
    waiting = world.client.get("/requisitions/inbox").context["waiting"]  # type: ignore[attr-defined]
    assert requisition_id not in [r.id for r in waiting]
    expired = [e for e in world.audit.events(action="alteration.requisition_expired", limit=500)]
    assert any(e.details["requisition_id"] == requisition_id for e in expired)


def test_cpc_down_fails_visibly_and_a_retry_answers(world: Scene, cpc: ReferenceCpc) -> None:
    number, name, own_ibans = subject_with_company()
    requisition_id = draft(world, "r-colleague", "REQ-DOWN", number, name, language="fr")
    act(world, "r-colleague", requisition_id, "submit")
    cpc.stop()
    try:
        page = act(world, "r-magistrate", requisition_id, "approve")
        requisition = page.context["requisition"]  # type: ignore[attr-defined]
        assert requisition.state == "failed" and "could not be reached" in requisition.error
        assert "could not be reached" in page.text  # visible on the page, not only in the data
        login(world.client, "r-colleague")
        listed = world.client.get("/requisitions", params={"case": "REQ-DOWN"}).context["requisitions"]  # type: ignore[attr-defined]
        assert [(r.id, r.state) for r in listed] == [(requisition_id, "failed")]
    finally:
        cpc.start()
    retried = act(world, "r-colleague", requisition_id, "execute")
    requisition = retried.context["requisition"]  # type: ignore[attr-defined]
    assert requisition.state == "answered" and requisition.error is None and requisition.attempts == 2
    assert [s.to_state for s in requisition.history][-3:] == ["failed", "executed", "answered"]
    hits = search(world, "r-colleague", std_iban.format(own_ibans[0]))["hits"]
    assert [h["source"]["language"] for h in hits if h["source"]["case_ids"] == ["REQ-DOWN"]] == ["fr"]
    # Both attempts went out under the same idempotency key: the CPC could never answer twice.
    sent = [e for e in events_of(world, requisition.reference) if e.action == "disclosure.requisition_sent"]
    assert [e.details["attempt"] for e in sent] == [1, 2]
    assert len({e.details["idempotency_key"] for e in sent}) == 1
    assert "alteration.requisition_failed" in [e.action for e in events_of(world, requisition.reference)]


def test_only_a_magistrate_who_did_not_draft_decides(world: Scene) -> None:
    number, name, _ = subject_with_company()
    own = draft(world, "r-magistrate-2", "REQ-RULES", number, name)
    act(world, "r-magistrate-2", own, "submit")
    refused = act(world, "r-magistrate-2", own, "approve")
    assert refused.status_code == 403 and "drafted" in refused.json()["detail"]
    assert act(world, "r-magistrate-2", own, "reject", note="eigen ontwerp").status_code == 403
    other = draft(world, "r-drafter", "REQ-RULES", number, name)
    act(world, "r-drafter", other, "submit")
    for user in ("r-drafter", "r-analyst", "r-colleague"):
        response = act(world, user, other, "approve")
        assert response.status_code == 403 and "only a magistrate" in response.json()["detail"], user
    # A reader of the case does not draft; someone off the team does not even see the case.
    login(world.client, "r-junior")
    assert world.client.get("/requisitions/inbox").status_code == 403
    for requisition_id in (own, other):
        assert state_of(world, "r-magistrate", requisition_id).state == "submitted"
    # The other magistrate may: the rule is about the person, not the role.
    assert act(world, "r-magistrate-2", other, "reject", note="Onvoldoende motivering.").status_code == 200


def test_who_may_see_and_draft(world: Scene) -> None:
    number, name, _ = subject_with_company()
    requisition_id = draft(world, "r-drafter", "REQ-RULES", number, name)
    login(world.client, "r-outsider")
    assert world.client.get(f"/requisitions/{requisition_id}").status_code == 404
    assert world.client.get(f"/api/requisitions/{requisition_id}").status_code == 404
    assert world.client.get("/requisitions", params={"case": "REQ-RULES"}).status_code == 404
    assert world.client.get(f"/requisitions/{requisition_id}/document.pdf").status_code == 404
    token = login(world.client, "r-junior")  # a reader of the case
    refused = world.client.post(
        "/requisitions",
        data={
            "case": "REQ-RULES",
            "subject_number": number,
            "subject_name": name,
            "legal_basis": LEGAL_BASIS,
            "reason": "x",
        },
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 403
    token = login(world.client, "r-drafter")
    wrong = world.client.post(
        "/requisitions",
        data={
            "case": "REQ-RULES",
            "subject_number": "85073003329",
            "subject_name": name,
            "legal_basis": LEGAL_BASIS,
            "reason": "x",
        },
        headers={"X-CSRF-Token": token},
    )
    assert wrong.status_code == 400 and "national register" in wrong.json()["detail"]
    assert world.client.post("/requisitions", data={"case": "REQ-RULES"}).status_code == 403  # no CSRF token


def test_reference_cpc_api(cpc: ReferenceCpc) -> None:
    number, name, own_ibans = subject_with_company()
    body = {
        "requisition": {
            "reference": "REQ-TEST-1",
            "case_number": "X",
            "magistrate": "m",
            "legal_basis": LEGAL_BASIS,
            "document_sha256": "0" * 64,
            "decided_at": datetime.now(UTC).isoformat(),
        },
        "subject": {"type": "person", "number": number, "name": name},
        "period": {"from": None, "to": None},
    }
    key = {"Idempotency-Key": secrets.token_hex(16)}
    assert httpx.post(f"{cpc.url}/v1/requests", json=body, headers=key).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token", **key}
    assert httpx.post(f"{cpc.url}/v1/requests", json=body, headers=wrong).status_code == 401
    auth = {"Authorization": f"Bearer {cpc.token}"}
    first = httpx.post(f"{cpc.url}/v1/requests", json=body, headers={**auth, **key})
    again = httpx.post(f"{cpc.url}/v1/requests", json=body, headers={**auth, **key})
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["request_id"] == again.json()["request_id"]
    other = {**body, "subject": {**body["subject"], "name": "iemand anders"}}
    assert httpx.post(f"{cpc.url}/v1/requests", json=other, headers={**auth, **key}).status_code == 409
    answer = httpx.get(f"{cpc.url}/v1/requests/{first.json()['request_id']}", headers=auth).json()
    assert answer["status"] == "answered"
    holdings = answer["holdings"]
    assert {h["iban"] for h in holdings if h["role"] == "holder"} == set(own_ibans)
    assert all(std_iban.is_valid(h["iban"]) and h["bic"] and h["bank"] for h in holdings)
    # A period before every account was opened: nothing.
    early = {**body, "period": {"from": "1990-01-01", "to": "1990-12-31"}}
    late = httpx.post(
        f"{cpc.url}/v1/requests", json=early, headers={**auth, "Idempotency-Key": secrets.token_hex(16)}
    )
    fetched = httpx.get(f"{cpc.url}/v1/requests/{late.json()['request_id']}", headers=auth).json()
    assert fetched["holdings"] == []
