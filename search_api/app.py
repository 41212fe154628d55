"""The web process: `create_app(settings)` builds every client inside the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jinja2
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from case_store.audit import AuditLog, AuditUnavailable, prepare_audit_engine
from case_store.db import create_schema, make_engine, make_sessionmaker
from case_store.users import EntitlementReader
from ingest.blobs import make_blob_store
from ingest.celery_app import make_celery
from ingest.index.admin import ensure_indices
from ingest.index.client import make_search_client
from ingest.settings import Settings
from search_api.deps import CsrfRejected, NotAuthenticated
from search_api.oidc import make_oidc
from search_api.queries import QueryError
from search_api.ratelimit import RateLimited, RateLimiter
from search_api.requisitions import close_connectors, make_connectors
from search_api.routers import audit, auth, cases, check, documents, language, records, requisitions, search
from search_api.routers import entities as entity_routes
from search_api.search import JustificationRequired
from ui import STATIC_DIR, TEMPLATES_DIR
from ui import helpers as ui_helpers
from ui.i18n import LanguageMiddleware

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """Every answer carries SECURITY_HEADERS unless a route set one itself. A plain ASGI middleware: the
    `@app.middleware("http")` kind runs each request through a task group and memory streams."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def audit_database_url(settings: Settings) -> str:
    return settings.audit_database_url or f"sqlite:///{(settings.data_dir / 'audit.db').resolve()}"


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url)
        create_schema(engine)
        audit_engine = make_engine(audit_database_url(settings))
        prepare_audit_engine(audit_engine)
        app.state.settings = settings
        app.state.sessions = make_sessionmaker(engine)
        app.state.principals = EntitlementReader(
            settings.resolved_database_url, app.state.sessions, cache=settings.entitlement_cache
        )
        await app.state.principals.open()
        app.state.audit = AuditLog(audit_engine)
        app.state.search = make_search_client(settings)
        ensure_indices(app.state.search, settings.index_prefix)
        app.state.blobs = make_blob_store(settings)
        app.state.celery = make_celery(settings)
        app.state.requisition_connectors = make_connectors(settings)
        yield
        close_connectors(app.state.requisition_connectors)
        app.state.search.close()
        await app.state.principals.close()
        app.state.audit.close()
        engine.dispose()
        audit_engine.dispose()

    app = FastAPI(title="Speurder", lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.state.oidc = make_oidc(settings)
    app.state.login_limiter = RateLimiter(settings.login_attempts_per_minute)
    app.state.search_limiter = RateLimiter(settings.searches_per_minute)
    app.state.templates = Jinja2Templates(
        env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    )
    ui_helpers.install(app.state.templates.env)
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie="speurder_session",
        same_site="strict",
        https_only=settings.environment == "production",
        max_age=8 * 3600,
    )

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(NotAuthenticated)
    async def _login_first(request: Request, _exc: NotAuthenticated) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(CsrfRejected)
    async def _csrf(_request: Request, _exc: CsrfRejected) -> Response:
        return JSONResponse({"detail": "missing or wrong CSRF token; reload the page"}, status_code=403)

    @app.exception_handler(QueryError)
    async def _bad_query(_request: Request, exc: QueryError) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(RateLimited)
    async def _slow_down(_request: Request, exc: RateLimited) -> Response:
        return JSONResponse(
            {"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(JustificationRequired)
    async def _why(_request: Request, exc: JustificationRequired) -> Response:
        return JSONResponse({"detail": str(exc), "registers": sorted(exc.registers)}, status_code=428)

    @app.exception_handler(AuditUnavailable)
    async def _fail_closed(_request: Request, _exc: AuditUnavailable) -> Response:
        detail = "the audit log cannot be written, so no consultation is possible; tell an administrator"
        return JSONResponse(
            {"detail": detail},
            status_code=503,
        )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (auth.router, search.router, documents.router, records.router, cases.router, audit.router):
        app.include_router(router)
    app.include_router(requisitions.router)
    app.include_router(check.router)
    app.include_router(language.router)
    app.include_router(entity_routes.router)
    return app
