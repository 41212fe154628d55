"""The search box: one route, two renderings (the page, or the htmx fragment), and the JSON API."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from search_api.deps import AppSettings, Audit, CurrentPrincipal, Search, csrf_token
from search_api.queries import MAX_QUERY_CHARS, QueryError
from search_api.search import search_records

router = APIRouter()

QueryText = Annotated[str, Query(max_length=MAX_QUERY_CHARS)]
PageNumber = Annotated[int, Query(ge=1, le=500)]
Reason = Annotated[str | None, Query(max_length=200)]


@router.get("/")
def home() -> Response:
    """Start at the search page."""
    return RedirectResponse("/search", status_code=303)


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    principal: CurrentPrincipal,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    q: QueryText = "",
    page: PageNumber = 1,
    reason: Reason = None,
) -> Response:
    """Search every register the user may see."""
    context: dict[str, Any] = {
        "principal": principal,
        "csrf_token": csrf_token(request),
        "q": q,
        "reason": reason or "",
        "result": None,
        "error": None,
    }
    status = 200
    if q.strip():
        try:
            context["result"] = search_records(
                client, settings.index_prefix, audit, principal, q, page=page, justification=reason
            )
        except QueryError as exc:
            context["error"] = str(exc)
            status = 400
    template = "_results.html" if request.headers.get("hx-request") else "search.html"
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


@router.get("/api/search")
def search_api(
    principal: CurrentPrincipal,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    q: QueryText,
    page: PageNumber = 1,
    reason: Reason = None,
) -> dict[str, Any]:
    """Search as JSON: hits with highlights, total, facets."""
    result = search_records(
        client, settings.index_prefix, audit, principal, q, page=page, justification=reason
    )
    return asdict(result)
