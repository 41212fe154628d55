"""Request dependencies, read like prose: `principal: CurrentPrincipal`, `search: Search`."""

from __future__ import annotations

import secrets
from typing import Annotated

from celery import Celery
from fastapi import Depends, Request
from opensearchpy import OpenSearch
from sqlalchemy.orm import Session, sessionmaker

from case_store.audit import AuditLog
from case_store.users import EntitlementReader, UserError
from ingest.blobs import BlobStore
from ingest.settings import Settings
from search_api.access import Principal
from search_api.search import Consultation


class NotAuthenticated(Exception):
    pass


class CsrfRejected(Exception):
    pass


# Dependencies that only read the app's state or the request are coroutines: FastAPI runs a plain
# function dependency in its thread pool, a hand-over per dependency per request that a search paid
# seven times. The ones that wait on a database stay plain functions.
async def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def search_client(request: Request) -> OpenSearch:
    return request.app.state.search  # type: ignore[no-any-return]


async def db_sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions  # type: ignore[no-any-return]


async def audit_log(request: Request) -> AuditLog:
    return request.app.state.audit  # type: ignore[no-any-return]


async def blob_store(request: Request) -> BlobStore:
    return request.app.state.blobs  # type: ignore[no-any-return]


async def celery_app(request: Request) -> Celery:
    return request.app.state.celery  # type: ignore[no-any-return]


AppSettings = Annotated[Settings, Depends(settings_of)]
Search = Annotated[OpenSearch, Depends(search_client)]
Sessions = Annotated[sessionmaker[Session], Depends(db_sessions)]
Audit = Annotated[AuditLog, Depends(audit_log)]
Blobs = Annotated[BlobStore, Depends(blob_store)]
Tasks = Annotated[Celery, Depends(celery_app)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def require_csrf(request: Request) -> None:
    """State-changing requests carry the session's token, as a header (htmx, API) or a form field."""
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        sent = str((await request.form()).get("csrf_token", ""))
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise CsrfRejected()


async def current_principal(request: Request) -> Principal:
    """The signed-in user's entitlements as of this request (a coroutine: see EntitlementReader)."""
    username = request.session.get("user")
    if not username:
        raise NotAuthenticated()
    reader: EntitlementReader = request.app.state.principals
    try:
        return await reader.read(str(username))
    except UserError as exc:
        request.session.clear()
        raise NotAuthenticated() from exc


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

WORKING_CONTEXT = "justification"


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def consultation(request: Request, principal: CurrentPrincipal, settings: AppSettings) -> Consultation:
    """Who consults, why and from where. The reason is asked once per working context: given with a
    request (`reason` parameter or `X-Justification` header) it is kept in the session for the next."""
    reason = (request.query_params.get("reason") or request.headers.get("x-justification") or "").strip()[
        :200
    ]
    if request.url.path.startswith("/api/"):
        # An API client states its reason with every request.
        return Consultation(principal, reason or None, client_address(request), settings.justified_registers)
    if reason:
        request.session[WORKING_CONTEXT] = reason
    justification = request.session.get(WORKING_CONTEXT)
    return Consultation(
        principal,
        str(justification) if justification else None,
        client_address(request),
        settings.justified_registers,
    )


async def searches_limited(request: Request, principal: CurrentPrincipal) -> None:
    request.app.state.search_limiter.hit(principal.username)


CurrentConsultation = Annotated[Consultation, Depends(consultation)]
SearchLimit = Depends(searches_limited)
Csrf = Depends(require_csrf)
