"""Quick check for field officers: one input, one card, usable on a phone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from search_api.check import quick_check
from search_api.deps import AppSettings, Audit, CurrentConsultation, Search, SearchLimit, csrf_token
from search_api.queries import MAX_QUERY_CHARS, QueryError
from search_api.routers import json_answer
from search_api.search import JustificationRequired
from ui.i18n import gettext

router = APIRouter()

CheckText = Annotated[str, Query(max_length=MAX_QUERY_CHARS)]
Reason = Annotated[str | None, Query(max_length=200)]


@router.get("/check", response_class=HTMLResponse, dependencies=[SearchLimit])
def check_page(
    request: Request,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    q: CheckText = "",
    reason: Reason = None,
) -> Response:
    """A plate, a national register number, or a name with a birth date: alerts, licence, reads."""
    context: dict[str, Any] = {
        "principal": consultation.principal,
        "csrf_token": csrf_token(request),
        "q": q,
        "reason": consultation.justification or "",
        "card": None,
        "error": None,
    }
    status = 200
    if q.strip():
        try:
            context["card"] = quick_check(client, settings.index_prefix, audit, consultation, q)
        except QueryError as exc:
            context["error"] = exc.translated()
            status = 400
        except JustificationRequired as exc:
            context["error"] = gettext(
                "Consulting %(registers)s needs a justification. Fill in a case number or a legal ground.",
                registers=", ".join(sorted(exc.registers)),
            )
            status = 428
    template = "_check.html" if request.headers.get("hx-request") else "check.html"
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


@router.get("/api/check", dependencies=[SearchLimit])
def check_api(
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    q: CheckText,
    reason: Reason = None,
) -> Response:
    """The quick-check card as JSON."""
    try:
        card = quick_check(client, settings.index_prefix, audit, consultation, q)
    except JustificationRequired as exc:
        raise HTTPException(428, str(exc)) from exc
    return json_answer(card)
