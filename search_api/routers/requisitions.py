"""Requisitions: drafted in a case, decided in the magistrate's inbox, executed, answered; all audited."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from case_store import requisitions as store
from case_store.audit import AuditLog, Entry
from case_store.cases import view_case
from case_store.db import transaction
from case_store.models import REQUISITION_KINDS
from case_store.requisitions import NotAllowed, RequisitionError, RequisitionView, WrongState
from search_api.deps import (
    AppSettings,
    Audit,
    Csrf,
    CurrentConsultation,
    CurrentPrincipal,
    Search,
    Sessions,
    client_address,
    csrf_token,
)
from search_api.requisitions.document import render_requisition
from search_api.requisitions.execution import Actor, Executor
from search_api.routers.cases import case_or_404
from search_api.search import Consultation, search_records

router = APIRouter()
NOT_VISIBLE = "no such requisition, or not one of yours"


def executor(
    request: Request, sessions: Sessions, audit: Audit, search: Search, settings: AppSettings
) -> Executor:
    return Executor(sessions, audit, search, settings.index_prefix, request.app.state.requisition_connectors)


RequisitionExecutor = Annotated[Executor, Depends(executor)]


def _expire_overdue(sessions: Sessions, audit: AuditLog) -> None:
    """Lapse what passed its deadline before anything is shown or done; each expiry is logged."""
    with transaction(sessions) as session:
        expired = store.expire_overdue(session)
    for requisition_id in expired:
        audit.append(
            Entry(
                "alteration.requisition_expired",
                actor="system",
                unit="speurder",
                details={"requisition_id": requisition_id},
            )
        )


def _status(exc: RequisitionError) -> HTTPException:
    code = 403 if isinstance(exc, NotAllowed) else 409 if isinstance(exc, WrongState) else 400
    return HTTPException(code, str(exc))


def _visible(sessions: Sessions, requisition_id: int, username: str) -> RequisitionView:
    with sessions() as session:
        try:
            requisition = store.get(session, requisition_id)
        except RequisitionError:
            raise HTTPException(404, NOT_VISIBLE) from None
        if not store.may_view(session, requisition, username):
            raise HTTPException(404, NOT_VISIBLE)
    return requisition


def _entry(consultation: Consultation, action: str, requisition: RequisitionView, **details: Any) -> Entry:
    return consultation.entry(
        action,
        details={"requisition": requisition.reference, "case": requisition.case_number, **details},
    )


def _actor(request: Request, consultation: Consultation) -> Actor:
    return Actor(consultation.principal.username, consultation.principal.unit, client_address(request))


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


@router.get("/requisitions", response_class=HTMLResponse)
def case_requisitions(
    request: Request,
    principal: CurrentPrincipal,
    sessions: Sessions,
    audit: Audit,
    case: Annotated[str, Query(max_length=80)],
) -> Response:
    """The requisitions of a case, and the form to draft one."""
    _expire_overdue(sessions, audit)
    found = case_or_404(sessions, case, principal.username)
    with sessions() as session:
        requisitions = store.of_case(session, case)
    context = {
        "principal": principal,
        "csrf_token": csrf_token(request),
        "case": found,
        "requisitions": requisitions,
        "kinds": REQUISITION_KINDS,
        "may_draft": found.role_of(principal.username) in store.DRAFTING_CASE_ROLES,
        "error": None,
    }
    return _page(request, "requisitions.html", context)


@router.get("/requisitions/inbox", response_class=HTMLResponse)
def inbox(request: Request, principal: CurrentPrincipal, sessions: Sessions, audit: Audit) -> Response:
    """The magistrate's inbox: what waits for a decision, soonest deadline first, and what they decided."""
    if principal.role != store.DECIDING_ROLE:
        raise HTTPException(403, "the inbox is for magistrates")
    _expire_overdue(sessions, audit)
    with sessions() as session:
        waiting, decided = store.inbox(session, principal.username)
    context = {
        "principal": principal,
        "csrf_token": csrf_token(request),
        "waiting": waiting,
        "decided": decided,
    }
    return _page(request, "requisition_inbox.html", context)


@router.get("/requisitions/timeline", response_class=HTMLResponse)
def timeline(
    request: Request,
    principal: CurrentPrincipal,
    sessions: Sessions,
    case: Annotated[str, Query(max_length=80)],
) -> Response:
    """The requisitions' steps in a case's timeline (a fragment the case page loads)."""
    case_or_404(sessions, case, principal.username)
    with sessions() as session:
        steps = store.history_of_case(session, case)
    return _page(
        request, "_requisition_timeline.html", {"principal": principal, "steps": steps, "case": case}
    )


@router.post("/requisitions", dependencies=[Csrf])
def draft(
    consultation: CurrentConsultation,
    sessions: Sessions,
    audit: Audit,
    case: Annotated[str, Form(max_length=80)],
    subject_number: Annotated[str, Form(max_length=40)],
    subject_name: Annotated[str, Form(max_length=200)],
    legal_basis: Annotated[str, Form(max_length=300)],
    reason: Annotated[str, Form(max_length=4000)],
    kind: Annotated[str, Form(max_length=40)] = "nbb_cpc_accounts",
    subject_type: Annotated[str, Form(max_length=20)] = "person",
    language: Annotated[str, Form(max_length=2)] = "nl",
    period_from: Annotated[date | None, Form()] = None,
    period_to: Annotated[date | None, Form()] = None,
    deadline: Annotated[date | None, Form()] = None,
) -> Response:
    """Draft a requisition in a case you work on."""
    principal = consultation.principal
    case_or_404(sessions, case, principal.username)
    try:
        with transaction(sessions) as session:
            requisition = store.draft(
                session,
                case,
                by=principal.username,
                kind=kind,
                subject_type=subject_type,
                subject_number=subject_number,
                subject_name=subject_name,
                legal_basis=legal_basis,
                reason=reason,
                language=language,
                period_from=period_from,
                period_to=period_to,
                deadline=datetime.combine(deadline, time(23, 59, 59), tzinfo=UTC) if deadline else None,
            )
    except RequisitionError as exc:
        raise _status(exc) from exc
    audit.append(
        _entry(
            replace(consultation, justification=case),
            "alteration.requisition_drafted",
            requisition,
            kind=requisition.kind,
            subject={"type": requisition.subject_type, "number": requisition.subject_number},
            legal_basis=requisition.legal_basis,
            deadline=requisition.deadline.isoformat(),
        )
    )
    return RedirectResponse(f"/requisitions/{requisition.id}", status_code=303)


@router.get("/requisitions/{requisition_id}", response_class=HTMLResponse)
def requisition_page(
    requisition_id: int,
    request: Request,
    consultation: CurrentConsultation,
    sessions: Sessions,
    audit: Audit,
    client: Search,
    settings: AppSettings,
) -> Response:
    """One requisition: its content, history, the actions open to you, and its answer if you may see it."""
    _expire_overdue(sessions, audit)
    principal = consultation.principal
    requisition = _visible(sessions, requisition_id, principal.username)
    within = replace(consultation, justification=requisition.case_number)
    audit.append(_entry(within, "consultation.requisition", requisition, state=requisition.state))
    answer = []
    if requisition.answer_record_ids:
        # Through the one access filter: a magistrate outside the team sees that there is an answer, not it.
        result = search_records(
            client,
            settings.index_prefix,
            audit,
            within,
            f'type:bank_account dossier:"{requisition.case_number}"',
            size=100,
        )
        answer = [hit for hit in result.hits if hit.id in requisition.answer_record_ids]
    team_role = principal.case_numbers and requisition.case_number in principal.case_numbers
    with sessions() as session:
        case = view_case(session, requisition.case_number)
    member = case.role_of(principal.username) in store.DRAFTING_CASE_ROLES
    context = {
        "principal": principal,
        "csrf_token": csrf_token(request),
        "requisition": requisition,
        "answer": answer,
        "in_team": bool(team_role),
        "may_submit": member and requisition.state == "draft",
        "may_decide": principal.role == store.DECIDING_ROLE
        and requisition.drafted_by != principal.username
        and requisition.state == "submitted",
        "may_execute": (member or principal.role == store.DECIDING_ROLE)
        and requisition.state in store.EXECUTABLE,
    }
    return _page(request, "requisition.html", context)


@router.get("/api/requisitions/{requisition_id}")
def requisition_json(
    requisition_id: int, consultation: CurrentConsultation, sessions: Sessions, audit: Audit
) -> dict[str, Any]:
    """A requisition and its history as JSON."""
    _expire_overdue(sessions, audit)
    requisition = _visible(sessions, requisition_id, consultation.principal.username)
    within = replace(consultation, justification=requisition.case_number)
    audit.append(_entry(within, "consultation.requisition", requisition, state=requisition.state))
    return {**asdict(requisition), "reference": requisition.reference}


@router.get("/requisitions/{requisition_id}/document.pdf")
def requisition_document(
    requisition_id: int, consultation: CurrentConsultation, sessions: Sessions, audit: Audit
) -> Response:
    """The approved requisition as the PDF the magistrate signed off; a download is a disclosure."""
    requisition = _visible(sessions, requisition_id, consultation.principal.username)
    with sessions() as session:
        document = store.document_of(session, requisition_id)
    if document is None:
        raise HTTPException(404, "this requisition has no document yet: it is made at approval")
    within = replace(consultation, justification=requisition.case_number)
    audit.append(
        _entry(within, "disclosure.requisition_document", requisition, sha256=requisition.document_sha256)
    )
    return Response(
        document,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{requisition.reference}.pdf"',
            "X-Content-SHA256": requisition.document_sha256 or "",
        },
    )


@router.post("/requisitions/{requisition_id}/submit", dependencies=[Csrf])
def submit(
    requisition_id: int, consultation: CurrentConsultation, sessions: Sessions, audit: Audit
) -> Response:
    """Send a draft to the magistrates."""
    _expire_overdue(sessions, audit)
    requisition = _visible(sessions, requisition_id, consultation.principal.username)
    try:
        with transaction(sessions) as session:
            requisition = store.submit(session, requisition_id, by=consultation.principal.username)
    except RequisitionError as exc:
        raise _status(exc) from exc
    within = replace(consultation, justification=requisition.case_number)
    audit.append(_entry(within, "alteration.requisition_submitted", requisition, recipients=["magistrate"]))
    return RedirectResponse(f"/requisitions/{requisition_id}", status_code=303)


@router.post("/requisitions/{requisition_id}/approve", dependencies=[Csrf])
def approve(
    requisition_id: int,
    request: Request,
    consultation: CurrentConsultation,
    sessions: Sessions,
    audit: Audit,
    run: RequisitionExecutor,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve (magistrates only, never your own draft): the document is made, then the order is sent."""
    _expire_overdue(sessions, audit)
    requisition = _visible(sessions, requisition_id, consultation.principal.username)
    try:
        with transaction(sessions) as session:
            requisition = store.approve(
                session,
                requisition_id,
                by=consultation.principal.username,
                note=note,
                render=render_requisition,
            )
    except RequisitionError as exc:
        raise _status(exc) from exc
    within = replace(consultation, justification=requisition.legal_basis)
    audit.append(
        _entry(
            within,
            "alteration.requisition_approved",
            requisition,
            legal_basis=requisition.legal_basis,
            document_sha256=requisition.document_sha256,
            note=note,
        )
    )
    run.run(requisition_id, _actor(request, consultation))
    return RedirectResponse(f"/requisitions/{requisition_id}", status_code=303)


@router.post("/requisitions/{requisition_id}/reject", dependencies=[Csrf])
def reject(
    requisition_id: int,
    consultation: CurrentConsultation,
    sessions: Sessions,
    audit: Audit,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Reject, with the reason (magistrates only, never your own draft)."""
    _expire_overdue(sessions, audit)
    requisition = _visible(sessions, requisition_id, consultation.principal.username)
    try:
        with transaction(sessions) as session:
            requisition = store.reject(session, requisition_id, by=consultation.principal.username, note=note)
    except RequisitionError as exc:
        raise _status(exc) from exc
    within = replace(consultation, justification=requisition.case_number)
    audit.append(_entry(within, "alteration.requisition_rejected", requisition, note=note))
    return RedirectResponse(f"/requisitions/{requisition_id}", status_code=303)


@router.post("/requisitions/{requisition_id}/execute", dependencies=[Csrf])
def execute(
    requisition_id: int,
    request: Request,
    consultation: CurrentConsultation,
    sessions: Sessions,
    audit: Audit,
    run: RequisitionExecutor,
) -> Response:
    """Execute an approved requisition, retry a failed one, or collect an awaited answer."""
    _expire_overdue(sessions, audit)
    _visible(sessions, requisition_id, consultation.principal.username)
    try:
        run.run(requisition_id, _actor(request, consultation))
    except RequisitionError as exc:
        raise _status(exc) from exc
    return RedirectResponse(f"/requisitions/{requisition_id}", status_code=303)
