"""Executing an approved requisition: send it to the provider, and make its answer evidence of the case.

Answers become `bank_account` records in the register `nbb_cpc`, which no one is granted: they are
bound to the case (`case_ids`) and classified `ANSWER_CLASSIFICATION`, so only the case's team sees them,
through the one access filter like every other record. The audit log is written before anything leaves
(the order to the provider) or becomes visible (the answer to the team): when it cannot be written,
nothing happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from opensearchpy import OpenSearch
from sqlalchemy.orm import Session, sessionmaker
from stdnum import iban as std_iban

from case_store import requisitions as store
from case_store.audit import AuditLog, Entry
from case_store.db import transaction
from case_store.requisitions import RequisitionView
from ingest.index.bulk import write_records
from ingest.records import BankAccountDetails, Details, Organisation, Person, Provenance, Record, record_id
from search_api.requisitions.connectors import Answer, Connector, ConnectorError, Holding, Order

ANSWER_REGISTER = "nbb_cpc"
# High, but within the clearance investigators are given (2): a case member with a lower clearance does
# not see bank data even in their own case.
ANSWER_CLASSIFICATION = 2
AGENT = "speurder-requisitions/1"

LABELS = {
    "nl": {
        "current_account": "zichtrekening",
        "savings_account": "spaarrekening",
        "term_deposit": "termijnrekening",
        "securities_account": "effectenrekening",
        "holder": "titularis",
        "proxy": "gevolmachtigde",
        "title": "Bankrekening {iban} bij {bank} — {holder}",
        "text": "{subject} is {role} van {contract} {iban} bij {bank} ({bic}), op naam van {holder}, "
        "geopend op {opened}{closed}. Antwoord van het CAP op vordering {reference} ({provider}).",
        "closed": ", afgesloten op {closed}",
    },
    "fr": {
        "current_account": "compte à vue",
        "savings_account": "compte d'épargne",
        "term_deposit": "compte à terme",
        "securities_account": "compte-titres",
        "holder": "titulaire",
        "proxy": "mandataire",
        "title": "Compte bancaire {iban} auprès de {bank} — {holder}",
        "text": "{subject} est {role} du {contract} {iban} auprès de {bank} ({bic}), au nom de {holder}, "
        "ouvert le {opened}{closed}. Réponse du PCC à la réquisition {reference} ({provider}).",
        "closed": ", clôturé le {closed}",
    },
}


@dataclass(frozen=True)
class Actor:
    """Who triggers an execution (the approving magistrate, or a team member retrying)."""

    username: str
    unit: str
    client: str | None = None


def order_of(requisition: RequisitionView) -> Order:
    if not (requisition.decided_by and requisition.decided_at and requisition.document_sha256):
        raise ConnectorError("only an approved requisition with its document is sent")
    return Order(
        reference=requisition.reference,
        case_number=requisition.case_number,
        kind=requisition.kind,
        subject_type=requisition.subject_type,
        subject_number=requisition.subject_number,
        subject_name=requisition.subject_name,
        period_from=requisition.period_from,
        period_to=requisition.period_to,
        legal_basis=requisition.legal_basis,
        magistrate=requisition.decided_by,
        decided_at=requisition.decided_at,
        document_sha256=requisition.document_sha256,
        idempotency_key=requisition.idempotency_key or "",
    )


def _party(kind: str, number: str, name: str, role: str) -> tuple[list[Person], list[Organisation]]:
    if kind == "organisation":
        return [], [Organisation(name=name, enterprise_number=number)]
    return [Person(name=name, national_number=number, role=role)], []


def _moment(day: object) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day else None  # type: ignore[arg-type]


def answer_record(requisition: RequisitionView, answer: Answer, holding: Holding, unit: str) -> Record:
    """One account of an answer as a record of the case."""
    words = LABELS[requisition.language]
    iban = std_iban.compact(holding.iban)
    persons, organisations = _party(holding.holder_type, holding.holder_number, holding.holder_name, "holder")
    if holding.holder_number != requisition.subject_number:
        more_persons, more_organisations = _party(
            requisition.subject_type, requisition.subject_number, requisition.subject_name, holding.role
        )
        persons += more_persons
        organisations += more_organisations
    organisations.append(Organisation(name=holding.bank))
    closed = words["closed"].format(closed=holding.closed.isoformat()) if holding.closed else ""
    text = words["text"].format(
        subject=requisition.subject_name,
        role=words.get(holding.role, holding.role),
        contract=words.get(holding.contract_type, holding.contract_type),
        iban=std_iban.format(iban),
        bank=holding.bank,
        bic=holding.bic,
        holder=holding.holder_name,
        opened=holding.opened.isoformat() if holding.opened else "?",
        closed=closed,
        reference=requisition.reference,
        provider=answer.provider_reference,
    )
    numbers = sorted({holding.holder_number, requisition.subject_number})
    return Record(
        id=record_id("bank_account", ANSWER_REGISTER, requisition.reference, iban, holding.holder_number),
        kind="bank_account",
        source=ANSWER_REGISTER,
        source_ref=answer.provider_reference,
        title=words["title"].format(
            iban=std_iban.format(iban), bank=holding.bank, holder=holding.holder_name
        ),
        summary=f"{words.get(holding.contract_type, holding.contract_type)} · {holding.bank}",
        text=text,
        language=requisition.language,
        occurred_at=answer.answered_at,
        valid_from=_moment(holding.opened),
        valid_to=_moment(holding.closed),
        recorded_at=datetime.now(UTC),
        register=ANSWER_REGISTER,
        case_ids=[requisition.case_number],
        classification=ANSWER_CLASSIFICATION,
        unit=unit,
        persons=persons,
        organisations=organisations,
        ibans=[iban],
        identifiers=sorted({iban, *numbers, *([holding.bic] if holding.bic else [])}),
        names=sorted({holding.holder_name, requisition.subject_name, holding.bank}),
        entity_ids=sorted(
            {
                f"iban:{iban}",
                *(
                    f"{'organisation' if n.startswith('0') and len(n) == 10 else 'person'}:{n}"
                    for n in numbers
                ),
                *([f"bank:{holding.bic}"] if holding.bic else []),
            }
        ),
        provenance=Provenance(agent=AGENT, processed_at=datetime.now(UTC)),
        details=Details(
            bank_account=BankAccountDetails(
                iban=iban,
                bic=holding.bic or None,
                bank=holding.bank or None,
                contract_type=holding.contract_type,
                holder_role=holding.role,
                opened=holding.opened,
                closed=holding.closed,
                requisition=requisition.reference,
                provider_reference=answer.provider_reference,
            )
        ),
    )


class Executor:
    """Takes one requisition as far as it can go now: sent, answered, or failed with its reason."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        audit: AuditLog,
        search: OpenSearch,
        index_prefix: str,
        connectors: dict[str, Connector],
    ) -> None:
        self.sessions = sessions
        self.audit = audit
        self.search = search
        self.prefix = index_prefix
        self.connectors = connectors

    def _entry(
        self,
        actor: Actor,
        action: str,
        requisition: RequisitionView,
        record_ids: tuple[str, ...] | list[str] = (),
        **details: object,
    ) -> None:
        self.audit.append(
            Entry(
                action=action,
                actor=actor.username,
                unit=actor.unit,
                justification=requisition.case_number,
                client=actor.client,
                subjects=tuple(record_ids),
                details={"requisition": requisition.reference, "case": requisition.case_number, **details},
            )
        )

    def _fail(self, actor: Actor, requisition: RequisitionView, reason: str) -> RequisitionView:
        with transaction(self.sessions) as session:
            failed = store.mark_failed(session, requisition.id, by=actor.username, reason=reason)
        self._entry(
            actor, "alteration.requisition_failed", requisition, reason=reason, attempt=failed.attempts
        )
        return failed

    def run(self, requisition_id: int, actor: Actor) -> RequisitionView:
        with transaction(self.sessions) as session:
            requisition = store.begin_attempt(session, requisition_id, by=actor.username)
        connector = self.connectors.get(requisition.kind)
        if connector is None:
            return self._fail(actor, requisition, f"no connector for {requisition.kind} requisitions yet")
        try:
            order = order_of(requisition)
        except ConnectorError as exc:
            return self._fail(actor, requisition, str(exc))
        reference = requisition.provider_reference
        if requisition.state != "executed" or not reference:
            # The order discloses who is being investigated to the provider: logged before it leaves.
            self._entry(
                actor,
                "disclosure.requisition_sent",
                requisition,
                recipients=[connector.recipient],
                subject={
                    "type": order.subject_type,
                    "number": order.subject_number,
                    "name": order.subject_name,
                },
                legal_basis=order.legal_basis,
                document_sha256=order.document_sha256,
                idempotency_key=order.idempotency_key,
                attempt=requisition.attempts,
            )
            try:
                reference = connector.submit(order)
            except ConnectorError as exc:
                return self._fail(actor, requisition, str(exc))
            with transaction(self.sessions) as session:
                requisition = store.mark_executed(
                    session, requisition.id, by=actor.username, reference=reference
                )
        try:
            answer = connector.fetch(reference)
        except ConnectorError as exc:
            return self._fail(actor, requisition, str(exc))
        if answer is None:
            return requisition  # executed, awaiting the answer: collected later
        return self._answer(actor, requisition, answer, connector.recipient)

    def _answer(
        self, actor: Actor, requisition: RequisitionView, answer: Answer, provider: str
    ) -> RequisitionView:
        records = [answer_record(requisition, answer, holding, actor.unit) for holding in answer.holdings]
        ids = [record.id for record in records]
        with self.sessions() as session:
            team = store.team_of(session, requisition.case_number)
        # The answer is disclosed to the case team the moment it is searchable: logged first.
        self._entry(
            actor,
            "disclosure.requisition_answer",
            requisition,
            record_ids=ids,
            recipients=team,
            provider=provider,
            provider_reference=answer.provider_reference,
            accounts=len(records),
            classification=ANSWER_CLASSIFICATION,
        )
        result = write_records(self.search, self.prefix, records, refresh="wait_for")
        if result.errors:
            first = next(iter(result.errors.items()))
            return self._fail(actor, requisition, f"the answer could not be indexed: {first[0]}: {first[1]}")
        note = f"{len(records)} accounts or contracts from {provider} ({answer.provider_reference})"
        with transaction(self.sessions) as session:
            return store.mark_answered(session, requisition.id, by=actor.username, record_ids=ids, note=note)
