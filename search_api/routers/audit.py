"""The auditor's view of the log: who consulted what, when, why; and the export for the supervisor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from case_store.audit import AuditEvent, to_csv
from search_api.access import Principal
from search_api.deps import Audit, CurrentConsultation, CurrentPrincipal, csrf_token

router = APIRouter()
Text = Annotated[str | None, Query(max_length=200)]
Moment = Annotated[datetime | None, Query()]
Limit = Annotated[int, Query(ge=1, le=10_000)]


def _auditor(principal: Principal) -> None:
    # The log is read by auditors only: it shows what everyone else looked at.
    if principal.role != "auditor":
        raise HTTPException(403, "the audit log is for auditors")


def audit_filters(
    actor: Text = None, subject: Text = None, action: Text = None, since: Moment = None, until: Moment = None
) -> dict[str, Any]:
    """Which events an auditor asks for: by user, record, kind and period."""
    return {
        "actor": actor or None,
        "subject": subject or None,
        "action": action or None,
        "since": since,
        "until": until,
    }


Filters = Annotated[dict[str, Any], Depends(audit_filters)]


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    principal: CurrentPrincipal,
    audit: Audit,
    filters: Filters,
    limit: Limit = 200,
) -> Response:
    """Search the log by user, record and period."""
    _auditor(principal)
    events: list[AuditEvent] = audit.events(**filters, limit=limit)
    broken_at = audit.verify_chain()
    context = {
        "principal": principal,
        "csrf_token": csrf_token(request),
        "events": events,
        "filters": filters,
        "broken_at": broken_at,
        "head": audit.head(),
        "query_string": request.url.query,
    }
    return request.app.state.templates.TemplateResponse(request, "audit.html", context)


@router.get("/audit/export.csv")
def audit_export(
    consultation: CurrentConsultation,
    audit: Audit,
    filters: Filters,
    limit: Limit = 10_000,
) -> Response:
    """The selected events as CSV, with their hashes; the export itself is logged as a disclosure."""
    _auditor(consultation.principal)
    events = audit.events(**filters, limit=limit)
    audit.append(
        consultation.entry(
            "disclosure.audit_export",
            details={"filters": {k: str(v) for k, v in filters.items() if v}, "events": len(events)},
        )
    )
    return Response(
        to_csv(events),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=speurder-audit.csv"},
    )
