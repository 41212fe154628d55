"""Cases: create one, build its team, attach records, search within it."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from case_store.cases import CaseError, CaseView, add_member, cases_of, create_case, view_case
from case_store.db import transaction
from case_store.graphs import graphs_of_case
from ingest.index.updates import attach_to_case
from search_api.deps import (
    AppSettings,
    Audit,
    Csrf,
    CurrentConsultation,
    CurrentPrincipal,
    Search,
    Sessions,
    csrf_token,
)
from search_api.search import open_record, search_records

router = APIRouter()

CASE_CREATORS = {"investigator", "analyst", "magistrate", "administrator"}
ATTACHING_ROLES = {"lead", "member"}


def case_or_404(sessions: Sessions, number: str, username: str) -> CaseView:
    """The case if the user is on its team; the same 404 whether it does not exist or is not theirs."""
    with sessions() as session:
        try:
            case = view_case(session, number)
        except CaseError:
            case = None
    if case is None or case.role_of(username) is None:
        raise HTTPException(404, "no such case, or not one of yours")
    return case


@router.get("/cases", response_class=HTMLResponse)
def case_list(request: Request, principal: CurrentPrincipal, sessions: Sessions) -> Response:
    """The cases you are a member of."""
    with sessions() as session:
        mine = cases_of(session, principal.username)
    context = {"principal": principal, "csrf_token": csrf_token(request), "cases": mine, "error": None}
    return request.app.state.templates.TemplateResponse(request, "cases.html", context)


@router.post("/cases", dependencies=[Csrf])
def case_create(
    consultation: CurrentConsultation,
    sessions: Sessions,
    audit: Audit,
    number: Annotated[str, Form(max_length=80)],
    title: Annotated[str, Form(max_length=300)],
) -> Response:
    """Open a case; you lead it."""
    principal = consultation.principal
    if principal.role not in CASE_CREATORS:
        raise HTTPException(403, "your role does not open cases")
    try:
        with transaction(sessions) as session:
            create_case(session, number, title, created_by=principal.username)
    except CaseError as exc:
        raise HTTPException(409, str(exc)) from exc
    audit.append(consultation.entry("alteration.case_created", details={"case": number, "title": title}))
    return RedirectResponse(f"/cases/{number}", status_code=303)


@router.get("/cases/{number:path}", response_class=HTMLResponse)
def case_page(
    number: str,
    request: Request,
    consultation: CurrentConsultation,
    sessions: Sessions,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    q: Annotated[str, Query(max_length=900)] = "",
) -> Response:
    """The case: its team, and its records (searchable within the case)."""
    case = case_or_404(sessions, number, consultation.principal.username)
    # The case itself is the reason for consulting its records.
    within = replace(consultation, justification=consultation.justification or number)
    result = search_records(client, settings.index_prefix, audit, within, f'{q} dossier:"{number}"'.strip())
    with sessions() as session:
        graphs = graphs_of_case(session, number)
    context: dict[str, Any] = {
        "graphs": graphs,
        "principal": consultation.principal,
        "csrf_token": csrf_token(request),
        "case": case,
        "result": result,
        "q": q,
        "error": None,
    }
    template = "_results.html" if request.headers.get("hx-request") else "case.html"
    return request.app.state.templates.TemplateResponse(request, template, context)


@router.post("/cases/{number:path}/members", dependencies=[Csrf])
def case_add_member(
    number: str,
    consultation: CurrentConsultation,
    sessions: Sessions,
    audit: Audit,
    username: Annotated[str, Form(max_length=80)],
    role: Annotated[str, Form(max_length=20)] = "member",
) -> Response:
    """Add someone to the team (case leads only)."""
    principal = consultation.principal
    case = case_or_404(sessions, number, principal.username)
    if case.role_of(principal.username) != "lead" and principal.role != "administrator":
        raise HTTPException(403, "only the case lead adds members")
    try:
        with transaction(sessions) as session:
            add_member(session, number, username, role)
    except CaseError as exc:
        raise HTTPException(400, str(exc)) from exc
    audit.append(
        consultation.entry(
            "alteration.case_member", details={"case": number, "member": username, "role": role}
        )
    )
    return RedirectResponse(f"/cases/{number}", status_code=303)


@router.post("/records/{record_id}/cases", dependencies=[Csrf])
def case_attach_record(
    record_id: str,
    consultation: CurrentConsultation,
    sessions: Sessions,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    number: Annotated[str, Form(alias="case", max_length=80)],
) -> Response:
    """Attach a record you can see to a case you work on; its team can then see it too."""
    case = case_or_404(sessions, number, consultation.principal.username)
    if case.role_of(consultation.principal.username) not in ATTACHING_ROLES:
        raise HTTPException(403, "readers of a case do not attach records")
    if open_record(client, settings.index_prefix, audit, consultation, record_id) is None:
        raise HTTPException(404, "no such record, or not one you may see")
    attached = attach_to_case(client, settings.index_prefix, record_id, number)
    audit.append(
        consultation.entry(
            "alteration.case_attach",
            subjects=(record_id,),
            details={"case": number, "record_id": record_id, "changed": attached},
        )
    )
    return RedirectResponse(f"/cases/{number}", status_code=303)
