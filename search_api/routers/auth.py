"""Sign in and out with a local account."""

from __future__ import annotations

from typing import Annotated

from authlib.integrations.starlette_client import OAuthError
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from case_store.audit import Entry
from case_store.db import transaction
from case_store.users import UserError, authenticate, get_user
from search_api.deps import AppSettings, Audit, Csrf, Sessions, client_address, csrf_token
from search_api.oidc import PROVIDER
from ui.i18n import gettext

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    """The sign-in form."""
    context = {"csrf_token": csrf_token(request), "error": None, "oidc": request.app.state.oidc is not None}
    return request.app.state.templates.TemplateResponse(request, "login.html", context)


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
                "error": gettext("Wrong user name or password, or the account is locked."),
                "oidc": request.app.state.oidc is not None,
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


@router.get("/login/oidc")
async def oidc_start(request: Request) -> Response:
    """Hand over to the OpenID Connect provider."""
    oauth = request.app.state.oidc
    if oauth is None:
        raise HTTPException(404, "sign-in through an identity provider is not configured")
    provider = oauth.create_client(PROVIDER)
    return await provider.authorize_redirect(request, request.url_for("oidc_callback"))  # type: ignore[no-any-return]


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(
    request: Request, sessions: Sessions, audit: Audit, settings: AppSettings
) -> Response:
    """Back from the provider: a known, active local account gets a fresh session."""
    oauth = request.app.state.oidc
    if oauth is None:
        raise HTTPException(404, "sign-in through an identity provider is not configured")
    try:
        token = await oauth.create_client(PROVIDER).authorize_access_token(request)
    except OAuthError as exc:
        raise HTTPException(401, f"the identity provider did not confirm the sign-in: {exc.error}") from exc
    claims = token.get("userinfo") or {}
    username = str(claims.get(settings.oidc_username_claim, ""))[:80]
    client = client_address(request)
    with sessions() as session:
        try:
            user = get_user(session, username)
        except UserError:
            user = None
        unit = user.unit if user else ""
        active = bool(user and user.active)
    via = {"via": "oidc"}
    if not active:
        audit.append(
            Entry(action="login.failure", actor=username or "?", unit=unit, client=client, details=via)
        )
        raise HTTPException(403, "this identity has no Speurder account; ask an administrator")
    audit.append(Entry(action="login.success", actor=username, unit=unit, client=client, details=via))
    request.session.clear()
    request.session["user"] = username
    return RedirectResponse("/search", status_code=303)
