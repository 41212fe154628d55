"""Sign in and out with a local account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from case_store.audit import Entry
from case_store.db import transaction
from case_store.users import authenticate
from search_api.deps import Audit, Csrf, Sessions, client_address, csrf_token

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    """The sign-in form."""
    return request.app.state.templates.TemplateResponse(
        request, "login.html", {"csrf_token": csrf_token(request), "error": None}
    )


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    sessions: Sessions,
    audit: Audit,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    """Check the password; on success start a fresh session."""
    client = client_address(request)
    # Failed attempts are what a guesser makes: they are counted, per client address and user name.
    attempt = f"{client}|{username.lower()}"
    request.app.state.login_limiter.check(attempt)
    with transaction(sessions) as session:
        user = authenticate(session, username, password)
        unit = user.unit if user else ""
    audit.append(
        Entry(
            action="login.success" if user else "login.failure", actor=username[:80], unit=unit, client=client
        )
    )
    if user is None:
        request.app.state.login_limiter.hit(attempt)
        return request.app.state.templates.TemplateResponse(
            request,
            "login.html",
            {
                "csrf_token": csrf_token(request),
                "error": "Wrong user name or password, or the account is locked.",
            },
            status_code=401,
        )
    request.session.clear()  # a new session on sign-in: no fixation
    request.session["user"] = username
    return RedirectResponse("/search", status_code=303)


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
