"""Requisitions: drafted in a case, decided by a magistrate, executed by a connector, answered.

    draft ─submit─▶ submitted ─approve─▶ approved ─execute─▶ executed ─answer─▶ answered
                        └─reject─▶ rejected      └──fail──▶ failed ─execute (retry)─▶ executed
    draft, submitted, approved, failed ─deadline passed─▶ expired

Only a case lead or member drafts and submits; only a user whose role is `magistrate` approves or
rejects, and never the one who drafted it. Every transition is a `RequisitionEvent` row: who, when, from
which state to which, why. The rules are checked here, against the database, whatever the caller says.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.be import bis, nn, vat

from case_store.models import (
    REQUISITION_KINDS,
    Case,
    CaseMember,
    Requisition,
    RequisitionEvent,
    User,
    as_utc,
    utcnow,
)

DECIDING_ROLE = "magistrate"
DRAFTING_CASE_ROLES = frozenset({"lead", "member"})
LANGUAGES = ("nl", "fr")
DEFAULT_TERM = timedelta(days=30)
# Which subjects each kind of requisition may be about.
SUBJECTS = {
    "nbb_cpc_accounts": ("person", "organisation"),
    "telecom_subscriber": ("phone", "person"),
    "vehicle_registration": ("vehicle", "person"),
}
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft"}), "submitted"),
    "approve": (frozenset({"submitted"}), "approved"),
    "reject": (frozenset({"submitted"}), "rejected"),
    "execute": (frozenset({"approved", "failed"}), "executed"),
    "answer": (frozenset({"executed"}), "answered"),
    "fail": (frozenset({"approved", "executed", "failed"}), "failed"),
    "expire": (frozenset({"draft", "submitted", "approved", "failed"}), "expired"),
}
# An execution may start (or be retried, or its answer collected) in these states.
EXECUTABLE = frozenset({"approved", "failed", "executed"})


class RequisitionError(ValueError):
    """Bad input: the message says what to change."""


class NotAllowed(RequisitionError):
    """This user may not do this to this requisition."""


class WrongState(RequisitionError):
    """The requisition is not in a state where this can happen (or its deadline passed)."""


@dataclass(frozen=True)
class Step:
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    note: str | None


@dataclass(frozen=True)
class RequisitionView:
    id: int
    case_number: str
    kind: str
    subject_type: str
    subject_number: str
    subject_name: str
    period_from: date | None
    period_to: date | None
    legal_basis: str
    reason: str
    language: str
    state: str
    deadline: datetime
    drafted_by: str
    drafted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    document_sha256: str | None
    idempotency_key: str | None
    provider_reference: str | None
    attempts: int
    error: str | None
    executed_at: datetime | None
    answered_at: datetime | None
    answer_record_ids: tuple[str, ...]
    history: tuple[Step, ...] = ()

    @property
    def reference(self) -> str:
        return f"REQ-{self.drafted_at.year}-{self.id:06d}"


def _view(session: Session, row: Requisition, *, with_history: bool = False) -> RequisitionView:
    number = session.scalar(select(Case.number).where(Case.id == row.case_id)) or ""
    history: tuple[Step, ...] = ()
    if with_history:
        events = session.scalars(
            select(RequisitionEvent)
            .where(RequisitionEvent.requisition_id == row.id)
            .order_by(RequisitionEvent.id)
        )
        history = tuple(
            Step(as_utc(e.at) or e.at, e.actor, e.action, e.from_state, e.to_state, e.note) for e in events
        )
    return RequisitionView(
        id=row.id,
        case_number=number,
        kind=row.kind,
        subject_type=row.subject_type,
        subject_number=row.subject_number,
        subject_name=row.subject_name,
        period_from=row.period_from,
        period_to=row.period_to,
        legal_basis=row.legal_basis,
        reason=row.reason,
        language=row.language,
        state=row.state,
        deadline=as_utc(row.deadline) or row.deadline,
        drafted_by=row.drafted_by,
        drafted_at=as_utc(row.drafted_at) or row.drafted_at,
        decided_by=row.decided_by,
        decided_at=as_utc(row.decided_at),
        decision_note=row.decision_note,
        document_sha256=row.document_sha256,
        idempotency_key=row.idempotency_key,
        provider_reference=row.provider_reference,
        attempts=row.attempts,
        error=row.error,
        executed_at=as_utc(row.executed_at),
        answered_at=as_utc(row.answered_at),
        answer_record_ids=tuple(row.answer_record_ids or ()),
        history=history,
    )


def _move(session: Session, row: Requisition, action: str, actor: str, note: str | None = None) -> None:
    allowed, target = TRANSITIONS[action]
    if row.state not in allowed:
        raise WrongState(f"this requisition is {row.state}: the step '{action}' is not possible now")
    session.add(
        RequisitionEvent(
            requisition_id=row.id,
            actor=actor,
            action=action,
            from_state=row.state,
            to_state=target,
            note=note,
        )
    )
    row.state = target


def _row(session: Session, requisition_id: int) -> Requisition:
    row = session.get(Requisition, requisition_id, with_for_update=True)
    if row is None:
        raise RequisitionError(f"no requisition {requisition_id}")
    return row


def _case_role(session: Session, case_id: int, username: str) -> str | None:
    return session.scalar(
        select(CaseMember.role)
        .join(User, User.id == CaseMember.user_id)
        .where(CaseMember.case_id == case_id, User.username == username)
    )


def _user_role(session: Session, username: str) -> str | None:
    return session.scalar(select(User.role).where(User.username == username, User.active.is_(True)))


def _check_subject(kind: str, subject_type: str, number: str) -> str:
    if subject_type not in SUBJECTS[kind]:
        raise RequisitionError(f"a {kind} requisition is about a {' or '.join(SUBJECTS[kind])}")
    compact = "".join(number.split()).replace(".", "").replace("-", "").upper()
    if subject_type == "person" and not (nn.is_valid(compact) or bis.is_valid(compact)):
        raise RequisitionError(f"{number!r} is not a valid national register or BIS number")
    if subject_type == "organisation":
        compact = vat.compact(compact)
        if not vat.is_valid(compact):
            raise RequisitionError(f"{number!r} is not a valid enterprise number")
    if not compact or len(compact) > 40:
        raise RequisitionError("the subject needs a number of 1 to 40 characters")
    return compact


def _expired(row: Requisition, now: datetime) -> bool:
    deadline = as_utc(row.deadline)
    return row.state in TRANSITIONS["expire"][0] and deadline is not None and deadline < now


def _refuse_if_expired(row: Requisition, now: datetime) -> None:
    # The caller runs `expire_overdue` in its own transaction first, so the expiry itself is kept.
    if _expired(row, now):
        raise WrongState("the deadline of this requisition has passed: it has expired")


def draft(
    session: Session,
    case_number: str,
    *,
    by: str,
    kind: str,
    subject_type: str,
    subject_number: str,
    subject_name: str,
    legal_basis: str,
    reason: str,
    language: str = "nl",
    period_from: date | None = None,
    period_to: date | None = None,
    deadline: datetime | None = None,
    now: datetime | None = None,
) -> RequisitionView:
    """A new draft in a case, by one of its leads or members."""
    now = now or utcnow()
    case = session.scalar(select(Case).where(Case.number == case_number))
    if case is None or _case_role(session, case.id, by) not in DRAFTING_CASE_ROLES:
        raise NotAllowed("only a lead or member of the case drafts its requisitions")
    if kind not in REQUISITION_KINDS:
        raise RequisitionError(
            f"unknown requisition kind {kind!r}; choose one of {', '.join(REQUISITION_KINDS)}"
        )
    if language not in LANGUAGES:
        raise RequisitionError("the requisition is written in Dutch (nl) or French (fr)")
    number = _check_subject(kind, subject_type, subject_number)
    if not subject_name.strip() or not legal_basis.strip() or not reason.strip():
        raise RequisitionError("the subject's name, the legal basis and the reason are required")
    if period_from and period_to and period_from > period_to:
        raise RequisitionError("the period ends before it starts")
    deadline = as_utc(deadline) or now + DEFAULT_TERM
    if deadline <= now:
        raise RequisitionError("the deadline lies in the past")
    row = Requisition(
        case_id=case.id,
        kind=kind,
        subject_type=subject_type,
        subject_number=number,
        subject_name=subject_name.strip(),
        period_from=period_from,
        period_to=period_to,
        legal_basis=legal_basis.strip(),
        reason=reason.strip(),
        language=language,
        state="draft",
        deadline=deadline,
        drafted_by=by,
        drafted_at=now,
    )
    session.add(row)
    session.flush()
    session.add(
        RequisitionEvent(requisition_id=row.id, actor=by, action="draft", from_state=None, to_state="draft")
    )
    session.flush()
    return _view(session, row)


def submit(session: Session, requisition_id: int, *, by: str, now: datetime | None = None) -> RequisitionView:
    """Send a draft to the magistrate, by a lead or member of its case."""
    row = _row(session, requisition_id)
    if _case_role(session, row.case_id, by) not in DRAFTING_CASE_ROLES:
        raise NotAllowed("only a lead or member of the case submits its requisitions")
    _refuse_if_expired(row, now or utcnow())
    _move(session, row, "submit", by)
    return _view(session, row)


def may_decide(session: Session, requisition_id: int, username: str) -> None:
    """Raise NotAllowed unless this user may approve or reject this requisition."""
    row = _row(session, requisition_id)
    if _user_role(session, username) != DECIDING_ROLE:
        raise NotAllowed("only a magistrate approves or rejects a requisition")
    if row.drafted_by == username:
        raise NotAllowed("the magistrate who drafted a requisition does not decide on it")


def approve(
    session: Session,
    requisition_id: int,
    *,
    by: str,
    note: str = "",
    render: Callable[[RequisitionView], bytes],
    now: datetime | None = None,
) -> RequisitionView:
    """The magistrate's approval; `render` makes the signed-off document, whose SHA-256 is kept."""
    now = now or utcnow()
    may_decide(session, requisition_id, by)
    row = _row(session, requisition_id)
    _refuse_if_expired(row, now)
    _move(session, row, "approve", by, note.strip() or None)
    row.decided_by, row.decided_at, row.decision_note = by, now, note.strip() or None
    row.idempotency_key = uuid.uuid4().hex
    session.flush()
    document = render(_view(session, row))
    row.document, row.document_sha256 = document, hashlib.sha256(document).hexdigest()
    return _view(session, row)


def reject(
    session: Session, requisition_id: int, *, by: str, note: str, now: datetime | None = None
) -> RequisitionView:
    """The magistrate's refusal, with its reason."""
    now = now or utcnow()
    may_decide(session, requisition_id, by)
    if not note.strip():
        raise RequisitionError("a rejection states its reason")
    row = _row(session, requisition_id)
    _refuse_if_expired(row, now)
    _move(session, row, "reject", by, note.strip())
    row.decided_by, row.decided_at, row.decision_note = by, now, note.strip()
    return _view(session, row)


def may_execute(session: Session, requisition_id: int, username: str) -> None:
    """A case lead or member, or a magistrate, starts (or retries) the execution."""
    row = _row(session, requisition_id)
    if _case_role(session, row.case_id, username) not in DRAFTING_CASE_ROLES and (
        _user_role(session, username) != DECIDING_ROLE
    ):
        raise NotAllowed("only the case team or a magistrate executes a requisition")


def begin_attempt(
    session: Session, requisition_id: int, *, by: str, now: datetime | None = None
) -> RequisitionView:
    """Count one attempt at execution; refuse unless approved, failed or awaiting its answer."""
    may_execute(session, requisition_id, by)
    row = _row(session, requisition_id)
    _refuse_if_expired(row, now or utcnow())
    if row.state not in EXECUTABLE:
        raise WrongState(f"a requisition that is {row.state} cannot be executed")
    row.attempts += 1
    return _view(session, row)


def mark_executed(session: Session, requisition_id: int, *, by: str, reference: str) -> RequisitionView:
    row = _row(session, requisition_id)
    if row.state != "executed":  # a second attempt that finds the request already received stays put
        _move(session, row, "execute", by, f"received by the provider as {reference}")
        row.executed_at = utcnow()
    row.provider_reference, row.error = reference, None
    return _view(session, row)


def mark_answered(
    session: Session, requisition_id: int, *, by: str, record_ids: list[str], note: str
) -> RequisitionView:
    row = _row(session, requisition_id)
    _move(session, row, "answer", by, note)
    row.answered_at, row.answer_record_ids, row.error = utcnow(), list(record_ids), None
    return _view(session, row)


def mark_failed(session: Session, requisition_id: int, *, by: str, reason: str) -> RequisitionView:
    row = _row(session, requisition_id)
    _move(session, row, "fail", by, reason)
    row.error = reason
    return _view(session, row)


def expire_overdue(session: Session, now: datetime | None = None) -> list[int]:
    """Expire every requisition whose deadline passed before it was executed; their ids."""
    now = now or utcnow()
    rows = session.scalars(
        select(Requisition).where(Requisition.state.in_(TRANSITIONS["expire"][0]), Requisition.deadline < now)
    )
    expired = []
    for row in rows:
        if _expired(row, now):
            _move(session, row, "expire", "system", "the deadline passed before the requisition was executed")
            expired.append(row.id)
    return expired


def get(session: Session, requisition_id: int) -> RequisitionView:
    row = session.get(Requisition, requisition_id)
    if row is None:
        raise RequisitionError(f"no requisition {requisition_id}")
    return _view(session, row, with_history=True)


def document_of(session: Session, requisition_id: int) -> bytes | None:
    row = session.get(Requisition, requisition_id)
    return row.document if row else None


def may_view(session: Session, requisition: RequisitionView, username: str) -> bool:
    """The case team (any role) and magistrates see a requisition; nobody else learns it exists."""
    case_id = session.scalar(select(Case.id).where(Case.number == requisition.case_number))
    if case_id is not None and _case_role(session, case_id, username) is not None:
        return True
    return _user_role(session, username) == DECIDING_ROLE


def of_case(session: Session, case_number: str) -> list[RequisitionView]:
    rows = session.scalars(
        select(Requisition)
        .join(Case, Case.id == Requisition.case_id)
        .where(Case.number == case_number)
        .order_by(Requisition.id.desc())
    )
    return [_view(session, row) for row in rows]


def history_of_case(session: Session, case_number: str) -> list[tuple[RequisitionView, Step]]:
    """Every step of every requisition of a case, oldest first: the case timeline's share."""
    steps = []
    for requisition in of_case(session, case_number):
        full = get(session, requisition.id)
        steps += [(full, step) for step in full.history]
    return sorted(steps, key=lambda pair: pair[1].at)


def inbox(session: Session, magistrate: str) -> tuple[list[RequisitionView], list[RequisitionView]]:
    """(awaiting a decision, soonest deadline first; decided by this magistrate, newest first)."""
    waiting = session.scalars(
        select(Requisition).where(Requisition.state == "submitted").order_by(Requisition.deadline)
    )
    decided = session.scalars(
        select(Requisition)
        .where(Requisition.decided_by == magistrate)
        .order_by(Requisition.decided_at.desc())
        .limit(50)
    )
    return [_view(session, row) for row in waiting], [_view(session, row) for row in decided]


def team_of(session: Session, case_number: str) -> list[str]:
    """The usernames of a case's team: the recipients of a requisition's answer."""
    return list(
        session.scalars(
            select(User.username)
            .join(CaseMember, CaseMember.user_id == User.id)
            .join(Case, Case.id == CaseMember.case_id)
            .where(Case.number == case_number)
            .order_by(User.username)
        )
    )
