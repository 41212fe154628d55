"""A reference Central Point of Contact (CPC) of the National Bank of Belgium, for demos and tests.

The real CPC tells a magistrate which bank accounts and contracts a person or company holds. This one
speaks the HTTP API documented in docs/requisitions.md, on loopback, with its own bearer token, and
knows the people and companies of a generated world (the same seed and size as the demo, so a
requisition about someone found in the registers gets that person's accounts back). Accounts are the
generator's own IBANs; banks and BICs come from the National Bank's bank-code register as python-stdnum
carries it; opening and closing dates and contract types are derived from the seed.

Requests are kept in memory: a restarted service has forgotten them, and a client resubmits.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from stdnum.be import iban as be_iban

from ingest.generate.population import Population
from ingest.generate.world import World

CONTRACT_TYPES = ("current_account", "savings_account", "term_deposit", "securities_account")


@dataclass(frozen=True)
class Party:
    type: Literal["person", "organisation"]
    number: str  # national number or enterprise number, compact
    name: str


@dataclass(frozen=True)
class Holding:
    """One account of one holder, and the role the requested subject has on it."""

    iban: str
    bic: str
    bank: str
    contract_type: str
    opened: date
    closed: date | None
    holder: Party
    role: Literal["holder", "proxy"]

    def active_during(self, start: date | None, end: date | None) -> bool:
        return (end is None or self.opened <= end) and (
            start is None or self.closed is None or self.closed >= start
        )

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["opened"] = self.opened.isoformat()
        data["closed"] = self.closed.isoformat() if self.closed else None
        return data


def _bank(iban: str) -> tuple[str, str]:
    info = be_iban.info(iban)
    return str(info.get("bank", "unknown bank")), str(info.get("bic", ""))


class Registry:
    """Who holds which accounts, derived once from a generated world."""

    def __init__(self, seed: int, records: int) -> None:
        self.population = Population(World.plan(seed, records))
        self.seed = seed
        self.by_number: dict[str, list[Holding]] = {}
        self.names: dict[str, Party] = {}
        self._derive()

    def _dates(self, key: str, earliest: date, end: date) -> tuple[date, date | None]:
        rng = random.Random(f"{self.seed}/cpc/{key}")  # noqa: S311 - synthetic data, not secrets
        span = max(1, (end - earliest).days)
        opened = earliest + timedelta(days=int(span * rng.random() ** 0.5))
        closed = None
        if rng.random() < 0.15:
            closed = min(end, opened + timedelta(days=rng.randint(30, 3000)))
        return opened, closed

    def _add(self, number: str, holding: Holding) -> None:
        self.by_number.setdefault(number, []).append(holding)

    def _derive(self) -> None:
        p = self.population
        end = p.world.end
        for i in range(p.residents):
            person = p.resident(i)
            if not person.national_number:
                continue
            party = Party("person", person.national_number, person.display)
            self.names[party.number] = party
            adult = date(person.birth.year + 18, person.birth.month, min(person.birth.day, 28))
            for position, account in enumerate(person.accounts):
                bank, bic = _bank(account.iban)
                contract = CONTRACT_TYPES[0] if position != 1 else CONTRACT_TYPES[1 + i % 3]
                opened, closed = self._dates(account.iban, max(adult, date(1995, 1, 1)), end)
                self._add(
                    party.number, Holding(account.iban, bic, bank, contract, opened, closed, party, "holder")
                )
        for k in range(p.organisations):
            organisation = p.organisation(k)
            company = Party("organisation", organisation.enterprise_number, organisation.name)
            self.names[company.number] = company
            # Company accounts lie beyond every resident's (first, second and mule accounts).
            iban = p.iban("B", 3 * p.residents + k)
            bank, bic = _bank(iban)
            opened, closed = self._dates(iban, date(2005, 1, 1), end)
            self._add(
                company.number, Holding(iban, bic, bank, CONTRACT_TYPES[0], opened, closed, company, "holder")
            )
            director = p.resident(organisation.director)
            if director.national_number:
                self._add(
                    director.national_number,
                    Holding(iban, bic, bank, CONTRACT_TYPES[0], opened, closed, company, "proxy"),
                )

    def holdings(self, number: str, start: date | None, end: date | None) -> list[Holding]:
        return [h for h in self.by_number.get(number, []) if h.active_during(start, end)]


# -- the API ---------------------------------------------------------------------------------------
class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RequisitionRef(Closed):
    reference: str = Field(min_length=1, max_length=100)
    case_number: str = Field(min_length=1, max_length=80)
    magistrate: str = Field(min_length=1, max_length=200)
    legal_basis: str = Field(min_length=1, max_length=300)
    document_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    decided_at: datetime


class Subject(Closed):
    type: Literal["person", "organisation"]
    number: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)


class Period(Closed):
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None


class CpcRequest(Closed):
    requisition: RequisitionRef
    subject: Subject
    period: Period = Field(default_factory=Period)


@dataclass
class Stored:
    request_id: str
    fingerprint: str
    received_at: datetime
    ready_at: float
    request: CpcRequest
    holdings: list[Holding]

    def as_json(self) -> dict[str, Any]:
        answered = time.monotonic() >= self.ready_at
        return {
            "request_id": self.request_id,
            "status": "answered" if answered else "processing",
            "received_at": self.received_at.isoformat(),
            "answered_at": self.received_at.isoformat() if answered else None,
            "requisition": self.request.requisition.reference,
            "subject": self.request.subject.model_dump(),
            "holdings": [h.as_json() for h in self.holdings] if answered else [],
        }


def create_cpc_app(token: str, registry: Registry, *, answer_delay: float = 0.0) -> FastAPI:
    """The reference CPC as an ASGI app: `speurder cpc serve` runs it under uvicorn."""
    app = FastAPI(title="Reference NBB CPC", docs_url=None, redoc_url=None, openapi_url="/v1/openapi.json")
    requests: dict[str, Stored] = {}
    by_key: dict[str, str] = {}
    lock = threading.Lock()

    def authorised(request: Request) -> None:
        sent = request.headers.get("authorization", "")
        scheme, _, credential = sent.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(credential.encode(), token.encode()):
            raise HTTPException(
                401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        """Liveness; needs no token."""
        return {"status": "ok", "service": "speurder reference CPC", "subjects": len(registry.by_number)}

    @app.post("/v1/requests", dependencies=[Depends(authorised)], status_code=202)
    def submit(
        body: CpcRequest, idempotency_key: Annotated[str, Header(min_length=8, max_length=100)]
    ) -> JSONResponse:
        """Receive a requisition; the same Idempotency-Key with the same body gives the same request."""
        fingerprint = hashlib.sha256(
            json.dumps(body.model_dump(mode="json", by_alias=True), sort_keys=True).encode()
        ).hexdigest()
        with lock:
            known = by_key.get(idempotency_key)
            if known is not None:
                stored = requests[known]
                if stored.fingerprint != fingerprint:
                    raise HTTPException(409, "this Idempotency-Key was used for another request")
                return JSONResponse(stored.as_json(), status_code=200)
            number = body.subject.number
            stored = Stored(
                request_id=f"CPC-{uuid.uuid4().hex[:16].upper()}",
                fingerprint=fingerprint,
                received_at=datetime.now(UTC),
                ready_at=time.monotonic() + answer_delay,
                request=body,
                holdings=registry.holdings(number, body.period.from_, body.period.to),
            )
            requests[stored.request_id] = stored
            by_key[idempotency_key] = stored.request_id
        return JSONResponse(stored.as_json(), status_code=202)

    @app.get("/v1/requests/{request_id}", dependencies=[Depends(authorised)])
    def status(request_id: str) -> dict[str, Any]:
        """A request's status and, once answered, the holdings found."""
        stored = requests.get(request_id)
        if stored is None:
            raise HTTPException(404, "no such request")
        return stored.as_json()

    return app
