"""The search box: one route, two renderings (the page, or the htmx fragment), and the JSON API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from case_store.cursors import CursorStore
from search_api.deps import AppSettings, Audit, CurrentConsultation, Search, SearchLimit, Sessions, csrf_token
from search_api.queries import MAX_QUERY_CHARS, PAGE_SIZE, QueryError
from search_api.routers import json_answer
from search_api.search import JustificationRequired, search_records, suggest
from ui.i18n import gettext

router = APIRouter()

QueryText = Annotated[str, Query(max_length=MAX_QUERY_CHARS)]
PageNumber = Annotated[int, Query(ge=1, le=500)]
PageSize = Annotated[int, Query(ge=1, le=100)]
Reason = Annotated[str | None, Query(max_length=200)]
Sort = Annotated[Literal["relevance", "date"], Query()]
Cursor = Annotated[str | None, Query(max_length=1024)]


@router.get("/")
def home() -> Response:
    """Start at the search page."""
    return RedirectResponse("/search", status_code=303)


@router.get("/search", response_class=HTMLResponse, dependencies=[SearchLimit])
def search_page(
    request: Request,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    q: QueryText = "",
    page: PageNumber = 1,
    sort: Sort = "relevance",
    reason: Reason = None,
) -> Response:
    """Search every register the user may see."""
    context: dict[str, Any] = {
        "principal": consultation.principal,
        "csrf_token": csrf_token(request),
        "q": q,
        "reason": consultation.justification or "",
        "result": None,
        "error": None,
        "needs_reason": False,
        "sort": sort,
    }
    status = 200
    if q.strip():
        try:
            context["result"] = search_records(
                client,
                settings.index_prefix,
                audit,
                consultation,
                q,
                page=page,
                sort=sort,
            )
        except QueryError as exc:
            context["error"] = exc.translated()
            status = 400
        except JustificationRequired as exc:
            context["error"] = gettext(
                "Consulting %(registers)s needs a justification. Fill in a case number or a legal ground.",
                registers=", ".join(sorted(exc.registers)),
            )
            context["needs_reason"] = True
            status = 428
    template = "_results.html" if request.headers.get("hx-request") else "search.html"
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


@router.get("/api/search", dependencies=[SearchLimit])
def search_api(
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    sessions: Sessions,
    q: QueryText,
    page: PageNumber = 1,
    size: PageSize = PAGE_SIZE,
    sort: Sort = "relevance",
    cursor: Cursor = None,
    reason: Reason = None,
) -> Response:
    """Search as JSON: hits with highlights, total, facets. `reason` is required for marked registers.

    Deep paging: `cursor=start` opens a point in time; each answer's `cursor` fetches the next page
    (null after the last one)."""
    result = search_records(
        client,
        settings.index_prefix,
        audit,
        consultation,
        q,
        page=page,
        size=size,
        sort=sort,
        cursor=cursor,
        cursors=CursorStore(sessions),
    )
    return json_answer(result)


Typed = Annotated[str, Query(max_length=100)]


@router.get("/api/suggest", dependencies=[SearchLimit])
def suggest_api(
    consultation: CurrentConsultation, client: Search, audit: Audit, settings: AppSettings, q: Typed = ""
) -> list[str]:
    """Names and plates completing what is typed, from records the user may see."""
    return suggest(client, settings.index_prefix, audit, consultation, q)


@router.get("/suggest", response_class=HTMLResponse, dependencies=[SearchLimit])
def suggest_options(
    request: Request,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    q: Typed = "",
) -> Response:
    """The same, as the options of the search box's list (htmx swaps them in while typing)."""
    suggestions = suggest(client, settings.index_prefix, audit, consultation, q)
    return request.app.state.templates.TemplateResponse(
        request, "_suggestions.html", {"suggestions": suggestions}
    )
