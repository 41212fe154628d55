"""One record, opened: only through the access filter, and always audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from search_api.deps import AppSettings, Audit, CurrentPrincipal, Search, csrf_token
from search_api.search import open_record

router = APIRouter()
Reason = Annotated[str | None, Query(max_length=200)]


@router.get("/api/records/{record_id}")
def record_json(
    record_id: str,
    principal: CurrentPrincipal,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    reason: Reason = None,
) -> dict[str, Any]:
    """The whole record as JSON."""
    record = open_record(client, settings.index_prefix, audit, principal, record_id, justification=reason)
    if record is None:
        raise HTTPException(404, "no such record, or not one you may see")
    return record


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(
    record_id: str,
    request: Request,
    principal: CurrentPrincipal,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    reason: Reason = None,
) -> Response:
    """The record's text, identifiers and provenance."""
    record = open_record(client, settings.index_prefix, audit, principal, record_id, justification=reason)
    if record is None:
        raise HTTPException(404, "no such record, or not one you may see")
    return request.app.state.templates.TemplateResponse(
        request, "record.html", {"principal": principal, "record": record, "csrf_token": csrf_token(request)}
    )
